"""Sign-in pages (AU-1..AU-3): password, then a second factor or a new password when the domain asks for one;
sign-out; the language switch. The same domain calls as the JSON API, the same sessions.

The step tokens (the second-factor challenge, the password-change token) travel in a short-lived HttpOnly
cookie, not in the page, so no script ever reads them.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

from chalice import Blueprint

from chalicelib.core import i18n
from chalicelib.identity import auth, sessions
from chalicelib.identity.models import ExpiredPasswordIn, LoginIn, MfaLoginIn
from chalicelib.web.pages import LANG, Page, Redirect, Visit, attempt, page, safe_next, set_cookie

bp = Blueprint(__name__)
STEP = "kabinet-step"  # the pending second step: "mfa|<challenge>|<methods>" or "change|<token>|<reason>"
FACTORS = ("totp", "sms", "backup", "passkey")


def _after_password(visit: Visit, result: dict[str, Any], next_path: str) -> Redirect:
    if "access_token" in result:
        visit.sign_in(result)
        visit.set_cookies.append(set_cookie(STEP, "", 0))
        return Redirect(next_path)
    if result.get("mfa_required"):
        visit.set_cookies.append(set_cookie(STEP, f"mfa|{result['challenge_id']}|{','.join(result['methods'])}",
                                            result["expires_in"]))
        return Redirect("/login/second-factor?" + urlencode({"next": next_path}))
    visit.set_cookies.append(set_cookie(STEP, f"change|{result['change_token']}|{result['reason']}",
                                        result["expires_in"]))
    return Redirect("/login/new-password?" + urlencode({"next": next_path}))


def _step(visit: Visit, kind: str) -> tuple[str, str] | None:
    from chalicelib.web.pages import cookie_name

    parts = visit.cookies.get(cookie_name(STEP), "").split("|")
    return (parts[1], parts[2]) if len(parts) == 3 and parts[0] == kind else None


@page(bp, "/login", methods=("GET", "POST"), auth=False)
def login(visit: Visit) -> Page | Redirect:
    next_path = safe_next(visit.query.get("next") or visit.form.get("next"))
    again = (visit.query.get("again") or visit.form.get("again")) == "1"  # a system asks for a fresh sign-in
    if visit.principal and visit.method == "GET" and not again:
        return Redirect(next_path)
    context: dict[str, Any] = {"next": next_path, "login": visit.form.get("login", ""), "errors": None,
                               "again": again}
    if visit.method == "GET":
        return Page("login.html", context)

    def sign_in() -> dict[str, Any]:
        body = LoginIn.model_validate({"login": visit.form.get("login", ""),
                                       "password": visit.form.get("password", "")})
        return auth.login(body.login, body.password, visit.origin)

    result = attempt(visit, context, sign_in)
    return _after_password(visit, result, next_path) if result else Page("login.html", context, 400)


@page(bp, "/login/second-factor", methods=("GET", "POST"), auth=False)
def second_factor(visit: Visit) -> Page | Redirect:
    next_path = safe_next(visit.query.get("next") or visit.form.get("next"))
    step = _step(visit, "mfa")
    if step is None:
        return Redirect("/login?" + urlencode({"next": next_path}))
    challenge, methods = step[0], [m for m in step[1].split(",") if m in FACTORS]
    method = visit.form.get("method") or visit.query.get("method") or methods[0]
    context: dict[str, Any] = {"next": next_path, "methods": methods, "method": method if method in methods
                               else methods[0], "errors": None, "sms_sent": False}
    if context["method"] == "passkey":  # no code to type: the authenticator answers (web/passkey_pages.py)
        from chalicelib.web import passkey_pages

        return passkey_pages.second_factor(visit, challenge, context)
    if visit.method == "GET":
        return Page("second_factor.html", context)
    if visit.form.get("action") == "send_sms":
        if attempt(visit, context, lambda: auth.send_login_sms(challenge, visit.origin)):
            context.update(method="sms", sms_sent=True)
        return Page("second_factor.html", context)

    def confirm() -> dict[str, Any]:
        body = MfaLoginIn.model_validate({"challenge_id": challenge, "method": context["method"],
                                          "code": visit.form.get("code", "").strip().replace(" ", "")})
        return auth.login_mfa(body.challenge_id, body.method, body.code, visit.origin)

    result = attempt(visit, context, confirm)
    return _after_password(visit, result, next_path) if result else Page("second_factor.html", context, 400)


@page(bp, "/login/new-password", methods=("GET", "POST"), auth=False)
def new_password(visit: Visit) -> Page | Redirect:
    next_path = safe_next(visit.query.get("next") or visit.form.get("next"))
    step = _step(visit, "change")
    if step is None:
        return Redirect("/login?" + urlencode({"next": next_path}))
    context: dict[str, Any] = {"next": next_path, "reason": step[1], "errors": None}
    if visit.method == "GET":
        return Page("new_password.html", context)

    def change() -> dict[str, Any]:
        body = ExpiredPasswordIn.model_validate({
            "change_token": step[0], "new_password": visit.form.get("new_password", ""),
            "new_password_repeat": visit.form.get("new_password_repeat", "")})
        return auth.change_expired(body.change_token, body.new_password, body.new_password_repeat, visit.origin)

    result = attempt(visit, context, change, {"password": "new_password"})
    return _after_password(visit, result, next_path) if result else Page("new_password.html", context, 400)


@page(bp, "/logout", methods=("POST",), auth=False)
def logout(visit: Visit) -> Redirect:
    if visit.principal:
        sessions.logout(visit.principal.user_id, visit.principal.session_id, visit.origin)
    visit.sign_out()
    return Redirect("/login")


@page(bp, "/language", methods=("POST",), auth=False)
def language(visit: Visit) -> Redirect:
    chosen = visit.form.get("lang")
    if chosen in i18n.LANGUAGES:
        visit.set_cookies.append(set_cookie(LANG, chosen, 365 * 24 * 3600))
    return Redirect(safe_next(visit.form.get("next")))
