"""Registration pages (ID-1, ID-2, ID-4): name and a phone or e-mail, the code, then a password; the account
is created signed in, as the API's `complete` does."""

from __future__ import annotations

from typing import Any

from chalice import Blueprint

from chalicelib.identity import registration
from chalicelib.identity.models import CodeIn, CompleteIn, RegistrationIn
from chalicelib.web.pages import Page, Redirect, Visit, attempt, page

bp = Blueprint(__name__)
NAME_FIELDS = ("last_name", "first_name", "middle_name")


def _start_body(visit: Visit) -> dict[str, Any]:
    body: dict[str, Any] = {f: visit.form.get(f, "").strip() or None for f in NAME_FIELDS}
    contact = visit.form.get("contact_kind", "phone")
    value = visit.form.get(contact if contact in ("phone", "email") else "phone", "").strip()
    body["phone" if contact != "email" else "email"] = value or None
    return {k: v for k, v in body.items() if v is not None or k in ("last_name", "first_name")}


@page(bp, "/register", methods=("GET", "POST"), auth=False)
def start(visit: Visit) -> Page | Redirect:
    if visit.principal:
        return Redirect("/")
    context: dict[str, Any] = {"active": "register", "form": visit.form, "errors": None,
                               "contact_kind": visit.form.get("contact_kind", "phone")}
    if visit.method == "GET":
        return Page("register.html", context)
    answer = attempt(visit, context, lambda: registration.start(RegistrationIn.model_validate(_start_body(visit)),
                                                                visit.origin))
    if answer:
        return Redirect(f"/register/{answer['registration_id']}/code?channel={answer['channel']}")
    return Page("register.html", context, 400)


@page(bp, "/register/{registration_id}/code", methods=("GET", "POST"), auth=False)
def code(visit: Visit, registration_id: str) -> Page | Redirect:
    context: dict[str, Any] = {"active": "register", "registration_id": registration_id, "errors": None,
                               "channel": visit.query.get("channel", "sms"), "resent": False}
    if visit.method == "GET":
        return Page("register_code.html", context)
    if visit.form.get("action") == "resend":
        sent = attempt(visit, context, lambda: registration.resend(registration_id, visit.origin))
        if sent:
            context.update(channel=sent["channel"], resent=True)
        return Page("register_code.html", context, 200 if sent else 400)
    done = attempt(visit, context, lambda: registration.confirm(
        registration_id, CodeIn.model_validate({"code": visit.form.get("code", "").strip()}).code, visit.origin))
    if done:
        return Redirect(f"/register/{registration_id}/password")
    return Page("register_code.html", context, 400)


@page(bp, "/register/{registration_id}/password/check", methods=("POST",), auth=False)
def password_check(visit: Visit, registration_id: str) -> Page:
    """What register_password.js shows while the person types: the same reasons `complete` would give."""
    reasons = registration.password_reasons(registration_id, visit.form.get("password", "")[:128])
    return Page("register_password_reasons.html", {"reasons": [visit._(r) for r in reasons]})


@page(bp, "/register/{registration_id}/password", methods=("GET", "POST"), auth=False)
def password(visit: Visit, registration_id: str) -> Page | Redirect:
    context: dict[str, Any] = {"active": "register", "registration_id": registration_id, "errors": None}
    if visit.method == "GET":
        return Page("register_password.html", context)
    tokens = attempt(visit, context, lambda: registration.complete(registration_id, CompleteIn.model_validate({
        "password": visit.form.get("password", ""), "password_repeat": visit.form.get("password_repeat", "")}),
        visit.origin))
    if tokens:
        visit.sign_in(tokens)
        return Redirect("/")
    return Page("register_password.html", context, 400)
