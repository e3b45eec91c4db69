"""The public check of a document the system issued (DC-4), open to anyone without signing in: by the number in
its QR code (`GET /verify/{id}` of the API) or by sending the PDF itself (`POST /verify`).

The PDF arrives as a plain multipart form, so the check works without JavaScript. `page()` lets only urlencoded
forms in, so that one route is written here on the same plumbing: language, session, CSRF, security headers.
"""

from __future__ import annotations

import email.parser
import email.policy
import hmac
import logging
import secrets
from typing import Any

from chalice import Blueprint, Response

from chalicelib.api.errors import status_of
from chalicelib.api.http import _origin
from chalicelib.core import i18n, observability
from chalicelib.core.errors import DomainError
from chalicelib.core.ids import is_id, new_id
from chalicelib.documents import categories, issue
from chalicelib.identity import ratelimit
from chalicelib.web import pages
from chalicelib.web.documents_pages import moment
from chalicelib.web.pages import Page, Redirect, Visit, page

bp = Blueprint(__name__)
log = logging.getLogger("kabinet.web")
MULTIPART = "multipart/form-data"
MAX_FILE = categories.MAX_SIZE
MAX_BODY = MAX_FILE + 64 * 1024  # the file and the form around it


def _result(visit: Visit, context: dict[str, Any], status: int = 200) -> Page:
    return Page("verify_result.html", {"active": "check", "moment": moment, **context}, status)


@page(bp, "/check", auth=False)
def check(visit: Visit) -> Page | Redirect:
    wanted = visit.query.get("document_id", "").strip().replace(" ", "")
    if "document_id" in visit.query:
        if is_id(wanted.upper()):
            return Redirect(f"/check/{wanted.upper()}")
        return Page("verify.html", {"active": "check", "document_id": wanted, "errors": {
            "message": visit._("Проверьте номер документа"),
            "fields": {"document_id": visit._("Номер документа — 26 латинских букв и цифр, как под QR-кодом")}}},
            400)
    return Page("verify.html", {"active": "check", "document_id": "", "errors": None})


@page(bp, "/check/{document_id}", auth=False)
def by_number(visit: Visit, document_id: str) -> Page:
    ratelimit.charge_now(visit.origin.ip)
    try:
        facts = issue.public_facts(document_id)
    except DomainError as exc:
        if status_of(exc) != 404:
            raise
        return _result(visit, {"by": "number", "document_id": document_id, "facts": None}, 404)
    return _result(visit, {"by": "number", "document_id": document_id, "facts": facts})


def _visit() -> Visit:
    """The visit as `page()` builds it, for the one route `page()` cannot take."""
    request = bp.current_request
    cookies = pages.parse_cookies(request.headers.get("cookie"))
    csrf = cookies.get(pages.cookie_name(pages.CSRF)) or ""
    lang = i18n.negotiate(request.headers.get("accept-language"), cookies.get(pages.cookie_name(pages.LANG)))
    visit = Visit(method=request.method, path="/check/file", query={}, form={}, lists={}, cookies=cookies, lang=lang,
                  origin=_origin(request), nonce=secrets.token_urlsafe(16), csrf=csrf)
    if len(csrf) < 20:
        visit.csrf = secrets.token_urlsafe(32)
        visit.set_cookies.append(pages.set_cookie(pages.CSRF, visit.csrf))
    pages._session(visit)
    return visit


def _parts(content_type: str, body: bytes) -> tuple[dict[str, str], bytes | None]:
    """The form's text fields and the bytes of its `file` field, read with the standard library's MIME parser."""
    message = email.parser.BytesParser(policy=email.policy.HTTP).parsebytes(
        f"Content-Type: {content_type}\r\n\r\n".encode("latin-1") + body)
    if not message.is_multipart():
        raise pages.Refused(400, "Форма пришла повреждённой: обновите страницу и отправьте её снова")
    fields: dict[str, str] = {}
    data: bytes | None = None
    for part in message.iter_parts():
        name = part.get_param("name", header="content-disposition")
        if name == "file" and part.get_filename():
            data = part.get_payload(decode=True) or b""
        elif isinstance(name, str):
            fields[name] = (part.get_payload(decode=True) or b"").decode("utf-8", "replace")
    return fields, data


@bp.route("/check/file", methods=["POST"], content_types=[MULTIPART])
def by_file() -> Response:
    visit = _visit()
    request = bp.current_request
    try:
        raw = request.raw_body or b""
        if len(raw) > MAX_BODY:
            raise pages.Refused(413, "Файл слишком большой: не более 10 МБ")
        fields, data = _parts(request.headers.get("content-type", ""), raw)
        sent = fields.get("csrf", "")
        if not (visit.csrf and sent and hmac.compare_digest(sent.encode(), visit.csrf.encode())):
            raise pages.Refused(403, "Срок действия формы истёк. Обновите страницу и отправьте форму снова")
        if not data:
            return pages.respond(visit, Page("verify.html", {"active": "check", "document_id": "", "errors": {
                "message": visit._("Выберите файл"), "fields": {"file": visit._("Выберите PDF-файл документа")}}},
                400))
        ratelimit.charge_now(visit.origin.ip)
        found = issue.check_file(data)
        return pages.respond(visit, _result(visit, {"by": "file", "document_id": found["document_id"],
                                                    "facts": found if found["valid"] else None, "file": found}))
    except pages.Refused as exc:
        return pages.error_page(visit, exc.status, visit._(exc.message))
    except DomainError as exc:
        return pages.error_page(visit, status_of(exc), visit._(exc.message))
    except Exception:
        request_id = observability.current("request_id") or new_id()
        log.exception("unhandled error on the check by file")
        return pages.error_page(visit, 500, visit._("Внутренняя ошибка. Повторите попытку позже"), request_id)
