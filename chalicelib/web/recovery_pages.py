"""Access recovery (AU-7): the login, the code sent to the account's contact, then a new password (with the second
factor when the account has one). The same answer for unknown logins as the API gives: nobody learns whether an
account exists. The reset token lives in a short-lived HttpOnly cookie, never in the page."""

from __future__ import annotations

from typing import Any

from chalice import Blueprint

from chalicelib.identity import recovery
from chalicelib.identity.models import CodeIn, RecoveryIn, ResetIn
from chalicelib.web.pages import Page, Redirect, Visit, attempt, cookie_name, page, set_cookie

bp = Blueprint(__name__)
RESET = "kabinet-reset"  # "<recovery id>|<reset token>|<factors>"
NEW_PASSWORD = {"password": "new_password"}


def _reset(visit: Visit, recovery_id: str) -> tuple[str, list[str]] | None:
    parts = visit.cookies.get(cookie_name(RESET), "").split("|")
    if len(parts) != 3 or parts[0] != recovery_id:
        return None
    return parts[1], [f for f in parts[2].split(",") if f]


@page(bp, "/recovery", methods=("GET", "POST"), auth=False)
def start(visit: Visit) -> Page | Redirect:
    context: dict[str, Any] = {"active": "login", "login": visit.form.get("login", ""), "errors": None}
    if visit.method == "GET":
        return Page("recovery.html", context)
    answer = attempt(visit, context, lambda: recovery.start(
        RecoveryIn.model_validate({"login": visit.form.get("login", "").strip()}).login, visit.origin))
    if answer:
        return Redirect(f"/recovery/{answer['recovery_id']}/code?channel={answer['channel']}")
    return Page("recovery.html", context, 400)


@page(bp, "/recovery/{recovery_id}/code", methods=("GET", "POST"), auth=False)
def code(visit: Visit, recovery_id: str) -> Page | Redirect:
    context: dict[str, Any] = {"active": "login", "recovery_id": recovery_id, "errors": None,
                               "channel": visit.query.get("channel", "sms")}
    if visit.method == "GET":
        return Page("recovery_code.html", context)
    answer = attempt(visit, context, lambda: recovery.confirm(
        recovery_id, CodeIn.model_validate({"code": visit.form.get("code", "").strip()}).code, visit.origin))
    if not answer:
        return Page("recovery_code.html", context, 400)
    visit.set_cookies.append(set_cookie(
        RESET, f"{recovery_id}|{answer['reset_token']}|{','.join(answer['second_factor'])}", answer["expires_in"]))
    return Redirect(f"/recovery/{recovery_id}/password")


@page(bp, "/recovery/{recovery_id}/password", methods=("GET", "POST"), auth=False)
def password(visit: Visit, recovery_id: str) -> Page | Redirect:
    found = _reset(visit, recovery_id)
    if found is None:
        return Redirect("/recovery")
    token, factors = found
    method = visit.form.get("mfa_method") or (factors[0] if factors else None)
    context: dict[str, Any] = {"active": "login", "recovery_id": recovery_id, "errors": None, "factors": factors,
                               "method": method, "sms_sent": False}
    if visit.method == "GET":
        return Page("recovery_password.html", context)
    if visit.form.get("action") == "send_sms":
        if attempt(visit, context, lambda: recovery.send_sms(recovery_id, token, visit.origin)):
            context.update(method="sms", sms_sent=True)
        return Page("recovery_password.html", context)

    def reset() -> dict[str, Any]:
        body = ResetIn.model_validate({
            "reset_token": token, "new_password": visit.form.get("new_password", ""),
            "new_password_repeat": visit.form.get("new_password_repeat", ""),
            "mfa_method": method if factors else None,
            "mfa_code": (visit.form.get("mfa_code", "").strip().replace(" ", "") or None) if factors else None})
        return recovery.reset(recovery_id, body.reset_token, body.new_password, body.new_password_repeat,
                              body.mfa_method, body.mfa_code, visit.origin)

    if attempt(visit, context, reset, NEW_PASSWORD):
        visit.set_cookies.append(set_cookie(RESET, "", 0))
        return Redirect("/login?reset=1")
    return Page("recovery_password.html", context, 400)
