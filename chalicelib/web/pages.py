"""Page plumbing shared by every page blueprint: cookies, the session, CSRF, language, security headers, forms.

A page is declared with `page(bp, path, ...)`; its view receives a `Visit` and returns a `Page` (a template and
its context) or a `Redirect`. Before it runs: the language (cookie, then Accept-Language), the session from the
cookies (the access token verified in-process, as the API does; refreshed with the refresh cookie when it has
expired), the role, and on POST the CSRF token and the form. A refusal from the domain on a form becomes the
form again with its errors; anything unexpected becomes an error page with the request id, never a trace.

Cookies (docs/web.md): the access and refresh tokens live only in HttpOnly cookies, `__Host-`-prefixed and
Secure everywhere but the plain-http local cloud (where browsers refuse both), SameSite=Lax.
"""

from __future__ import annotations

import functools
import hmac
import logging
import secrets
import urllib.parse
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, TypeVar

from chalice import Blueprint, Response
from pydantic import ValidationError

from chalicelib.api import boundary
from chalicelib.api.errors import status_of
from chalicelib.api.http import ROLES, _origin, validation_fields
from chalicelib.core import i18n, observability
from chalicelib.core.config import settings
from chalicelib.core.errors import DomainError
from chalicelib.core.ids import new_id
from chalicelib.core.origin import Origin
from chalicelib.core.tokens import Principal, verify_access
from chalicelib.identity import sessions
from chalicelib.web import render

log = logging.getLogger("kabinet.web")
MAX_FORM = 64 * 1024
FORM_TYPE = "application/x-www-form-urlencoded"
REFRESH_MAX_AGE = 30 * 24 * 3600  # the session's absolute limit (AU-9): the cookie never outlives it
T = TypeVar("T")
PAGES: list[tuple[str, tuple[str, ...]]] = []  # (path, methods): the page space, kept apart from the API's


def _secure() -> bool:
    return not settings().is_local


def cookie_name(name: str) -> str:
    return f"__Host-{name}" if _secure() else name


SESSION, REFRESH, CSRF, LANG = "kabinet-session", "kabinet-refresh", "kabinet-csrf", "kabinet-lang"


def set_cookie(name: str, value: str, max_age: int | None = None) -> str:
    parts = [f"{cookie_name(name)}={value}", "Path=/", "HttpOnly", "SameSite=Lax"]
    if _secure():
        parts.append("Secure")
    if max_age is not None:
        parts.append(f"Max-Age={max_age}")
    return "; ".join(parts)


def parse_cookies(header: str | None) -> dict[str, str]:
    found: dict[str, str] = {}
    for part in (header or "").split(";")[:50]:
        name, _, value = part.strip().partition("=")
        if name and name not in found:
            found[name] = value.strip()
    return found


@dataclass
class Page:
    template: str
    context: dict[str, Any] = field(default_factory=dict)
    status: int = 200


@dataclass
class Redirect:
    location: str
    status: int = 303


@dataclass
class Download:
    """A file a page hands over (e.g. a CSV export): the page's headers, this type, `attachment`."""

    body: str | bytes
    content_type: str
    filename: str


@dataclass
class Visit:
    """One request to a page: who, from where, in which language, with what form."""

    method: str
    path: str
    query: dict[str, str]
    form: dict[str, str]
    lists: dict[str, list[str]]
    cookies: dict[str, str]
    lang: str
    origin: Origin
    nonce: str
    csrf: str
    principal: Principal | None = None
    set_cookies: list[str] = field(default_factory=list)

    @property
    def user_id(self) -> str:
        assert self.principal is not None
        return self.principal.user_id

    def _(self, message: str) -> str:
        return i18n.text(self.lang, message)

    def sign_in(self, tokens: dict[str, Any]) -> None:
        """Keep the session the domain opened: both tokens go to HttpOnly cookies only."""
        self.set_cookies += [set_cookie(SESSION, tokens["access_token"]),
                             set_cookie(REFRESH, tokens["refresh_token"], REFRESH_MAX_AGE)]
        self.principal = verify_access(tokens["access_token"])

    def sign_out(self) -> None:
        self.set_cookies += [set_cookie(SESSION, "", 0), set_cookie(REFRESH, "", 0)]
        self.principal = None


class Refused(Exception):
    """A page that cannot be shown to this visitor: 403 (role), 400 (CSRF, form)."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status, self.message = status, message


def safe_next(value: str | None, default: str = "/") -> str:
    """Only a path of our own: never `//host`, a scheme, or a backslash trick (no open redirect)."""
    if not value or not value.startswith("/") or value.startswith("//") or "\\" in value or \
            any(ord(c) < 32 for c in value):
        return default
    return value


def _form(raw: bytes | None) -> tuple[dict[str, str], dict[str, list[str]]]:
    if raw and len(raw) > MAX_FORM:
        raise Refused(413, "Слишком большой запрос: не более 64 КБ")
    try:
        text = (raw or b"").decode("utf-8")
        pairs = urllib.parse.parse_qsl(text, keep_blank_values=True, max_num_fields=500, strict_parsing=False,
                                       errors="strict")
    except (UnicodeDecodeError, ValueError):
        raise Refused(400, "Форма пришла повреждённой: обновите страницу и отправьте её снова") from None
    lists: dict[str, list[str]] = {}
    for name, value in pairs:
        if boundary.bad_text(name, nul=True) or boundary.bad_text(value, nul=True):
            raise Refused(400, "Недопустимые символы в форме")
        lists.setdefault(name, []).append(value)
    return {k: v[0] for k, v in lists.items()}, lists


def _session(visit: Visit) -> None:
    """The principal from the access cookie; an expired one is renewed with the refresh cookie (one rotation)."""
    access = visit.cookies.get(cookie_name(SESSION))
    if access:
        try:
            visit.principal = verify_access(access)
            return
        except DomainError:
            pass
    refresh = visit.cookies.get(cookie_name(REFRESH))
    if not refresh:
        return
    try:
        visit.sign_in(sessions.refresh(refresh, visit.origin))
    except DomainError:
        visit.sign_out()


def headers(visit: Visit, cacheable: bool = False) -> dict[str, Any]:
    uploads = f"https://{settings().documents_bucket}.s3.{settings().region}.amazonaws.com"
    if settings().is_local:
        uploads = "http://127.0.0.1:*"
    forms = f"'self' {uploads} {settings().acquirer_origin}".rstrip()  # a pay form's POST redirects to the acquirer
    csp = (f"default-src 'none'; script-src 'self' 'nonce-{visit.nonce}'; style-src 'self'; img-src 'self' data:; "
           f"font-src 'self'; connect-src 'self' {uploads}; form-action {forms}; frame-ancestors 'none'; "
           "base-uri 'none'")
    result: dict[str, Any] = {
        "Content-Type": "text/html; charset=utf-8", "Content-Security-Policy": csp,
        "Referrer-Policy": "same-origin", "X-Content-Type-Options": "nosniff", "X-Frame-Options": "DENY",
        "Content-Language": visit.lang, "Vary": "Cookie, Accept-Language",
        "Cache-Control": "private, max-age=0" if cacheable else "no-store",
    }
    if visit.set_cookies:
        result["Set-Cookie"] = visit.set_cookies
    return result


def respond(visit: Visit, result: Page | Redirect | Download) -> Response:
    if isinstance(result, Download):
        hdrs = headers(visit)
        hdrs.update({"Content-Type": result.content_type,
                     "Content-Disposition": f'attachment; filename="{result.filename}"'})
        return Response(body=result.body, status_code=200, headers=hdrs)
    if isinstance(result, Redirect):
        hdrs = headers(visit)
        hdrs["Location"] = result.location
        return Response(body="", status_code=result.status, headers=hdrs)
    body = render.page(visit, result.template, result.context)
    return Response(body=body, status_code=result.status, headers=headers(visit))


def error_page(visit: Visit, status: int, message: str, request_id: str | None = None) -> Response:
    try:
        return respond(visit, Page("error.html", {"status": status, "message": message, "request_id": request_id},
                                   status))
    except Exception:  # the error page itself failed: a bare page, still with our headers
        log.exception("the error page failed")
        hdrs = {**headers(visit), "Content-Type": "text/plain; charset=utf-8"}
        return Response(body=message, status_code=status, headers=hdrs)


def login_redirect(visit: Visit) -> Redirect:
    return Redirect("/login?" + urllib.parse.urlencode({"next": visit.path + (
        "?" + urllib.parse.urlencode(visit.query) if visit.query else "")}))


def page(bp: Blueprint, path: str, *, methods: tuple[str, ...] = ("GET",), auth: bool = True,
         role: str | None = None) -> Callable[[Callable[..., Page | Redirect | Download]], Callable[..., Response]]:
    """Register `fn(visit, **path_params)` as a page. `auth`: a visitor without a session is sent to sign in
    (and back); `role`: whose page it is (others get 403)."""

    def decorate(fn: Callable[..., Page | Redirect | Download]) -> Callable[..., Response]:
        @functools.wraps(fn)
        def view(**path_params: str) -> Response:
            request = bp.current_request
            hdrs = dict(request.headers)
            cookies = parse_cookies(hdrs.get("cookie"))
            csrf = cookies.get(cookie_name(CSRF)) or ""
            visit = Visit(method=request.method, path=request.path if hasattr(request, "path") else path,
                          query=dict(request.query_params or {}), form={}, lists={}, cookies=cookies,
                          lang=i18n.negotiate(hdrs.get("accept-language"), cookies.get(cookie_name(LANG))),
                          origin=_origin(request), nonce=secrets.token_urlsafe(16), csrf=csrf)
            visit.path = _path(request, path, path_params)
            if len(csrf) < 20:
                visit.csrf = secrets.token_urlsafe(32)
                visit.set_cookies.append(set_cookie(CSRF, visit.csrf))
            try:
                problems = boundary.text_problems({**path_params, **visit.query})
                if problems:
                    raise Refused(400, "Недопустимые символы в адресе страницы")
                _session(visit)
                if visit.principal:
                    observability.set_user(visit.principal.user_id)
                if request.method == "POST":
                    visit.form, visit.lists = _form(request.raw_body)
                    sent = visit.form.get("csrf", "")
                    if not (csrf and sent and hmac.compare_digest(sent.encode(), csrf.encode())):
                        raise Refused(403, "Срок действия формы истёк. Обновите страницу и отправьте форму снова")
                if auth and visit.principal is None:
                    return respond(visit, login_redirect(visit))
                if role and visit.principal and visit.principal.role != role:
                    raise Refused(403, ROLES[role])
                return respond(visit, fn(visit, **path_params))
            except Refused as exc:
                return error_page(visit, exc.status, visit._(exc.message))
            except DomainError as exc:
                return error_page(visit, status_of(exc), visit._(exc.message))
            except Exception:
                request_id = observability.current("request_id") or new_id()
                log.exception("unhandled error on a page")
                return error_page(visit, 500, visit._("Внутренняя ошибка. Повторите попытку позже"), request_id)

        # Chalice takes a request without Content-Type (every GET) as JSON: both types are let in.
        bp.route(path, methods=list(methods), content_types=[FORM_TYPE, "application/json"])(view)
        PAGES.append((path, methods))
        return view

    return decorate


def _path(request: Any, template: str, params: dict[str, str]) -> str:
    path = template
    for name, value in params.items():
        path = path.replace("{" + name + "}", urllib.parse.quote(value, safe=""))
    return path


def invalid(exc: ValidationError, lang: str) -> dict[str, Any]:
    """A model's refusal of a form, as `form_errors` shows a domain's: the summary message and each field's."""
    return {"message": i18n.text(lang, "Проверьте введённые данные"),
            "fields": {k: i18n.text(lang, v) for k, v in validation_fields(exc).items()}}


def attempt(visit: Visit, context: dict[str, Any], action: Callable[[], T], rename: dict[str, str] | None = None
            ) -> T | None:
    """Run a form's action; a refusal (the model's or the domain's) lands in `context["errors"]`, and None."""
    try:
        return action()
    except ValidationError as exc:
        context["errors"] = invalid(exc, visit.lang)
    except DomainError as exc:
        context["errors"] = form_errors(exc, visit.lang, rename)
    return None


def form_errors(exc: DomainError, lang: str, rename: dict[str, str] | None = None) -> dict[str, Any]:
    """A refusal as a form shows it: the summary message and each field's reason, translated. `rename` maps the
    domain's field names to the form's (the password policy names `password` whatever the form calls it)."""
    body = i18n.error_body(exc.body(), lang)["error"]
    fields = {(rename or {}).get(k, k): "; ".join(v) if isinstance(v, list) else v
              for k, v in (body.get("fields") or {}).items()}
    return {"message": body["message"], "fields": fields}
