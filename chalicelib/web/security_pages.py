"""Security settings pages (AU-3, AU-4, AU-10, AU-11): the overview, the authenticator app (QR code, backup codes
shown once), SMS codes as the second factor, the IP allowlist and the contact change. The same domain calls as
chalicelib/api/security.py; sessions and login history are in sessions_pages.py.

Backup codes are handed from the confirming POST to the page that shows them in a short-lived HttpOnly cookie
that this page clears at once: Post/Redirect/Get without a resubmission prompt, and a reload shows nothing.
"""

from __future__ import annotations

import base64
import re
from typing import Any

from chalice import Blueprint
from pydantic import ValidationError

from chalicelib.core.errors import DomainError
from chalicelib.identity import contact_change, mfa, profile, security
from chalicelib.identity.models import AllowlistIn, CodeIn, EmailIn, PasswordCodeIn, PhoneIn
from chalicelib.web.pages import Page, Redirect, Visit, cookie_name, form_errors, invalid, page, set_cookie

bp = Blueprint(__name__)
BACKUP = "kabinet-backup"  # the backup codes between the confirming POST and the page that shows them once
BACKUP_MAX_AGE = 300
BACKUP_CODE = re.compile(r"^[A-Z2-9]{5}-[A-Z2-9]{5}$")
SECRET = re.compile(r"^[A-Z2-7]{16,64}=*$")
DONE = ("totp_off", "sms_on", "totp_on", "allowlist", "phone", "email")


def _errors(exc: ValidationError | DomainError, lang: str) -> dict[str, Any]:
    return invalid(exc, lang) if isinstance(exc, ValidationError) else form_errors(exc, lang)


def _code(visit: Visit, name: str = "code") -> str:
    return visit.form.get(name, "").strip().replace(" ", "")


def _qr_src(svg: str) -> str:
    """The QR code the domain drew (our own SVG, never user input) as a data: URI for an <img> with alt text:
    an image needs the SVG namespace, which inline SVG does not carry."""
    if "xmlns=" not in svg:
        svg = svg.replace("<svg ", '<svg xmlns="http://www.w3.org/2000/svg" ', 1)
    return "data:image/svg+xml;base64," + base64.b64encode(svg.encode()).decode()


def _show_codes(visit: Visit, answer: dict[str, Any], done: str) -> Redirect:
    codes = answer.get("backup_codes")
    if not codes:
        return Redirect(f"/security?done={done}")
    visit.set_cookies.append(set_cookie(BACKUP, ".".join(codes), BACKUP_MAX_AGE))
    return Redirect("/security/backup-codes")


@page(bp, "/security")
def overview(visit: Visit) -> Page:
    done = visit.query.get("done")
    return Page("security.html", {"active": "security", "summary": security.summary(visit.user_id),
                                  "contacts": profile.profile(visit.user_id), "done": done if done in DONE else None})


@page(bp, "/security/totp", methods=("POST",))
def totp_start(visit: Visit) -> Page | Redirect:
    """Start enrolment (a POST: it makes a new secret); the page shows the QR code and the key to type in."""
    try:
        started = mfa.start_totp(visit.user_id, visit.origin)
    except DomainError as exc:
        return Page("security_message.html", {"active": "security", "errors": form_errors(exc, visit.lang)}, 409)
    return Page("security_totp.html", {"active": "security", "secret": started["secret"],
                                       "qr": _qr_src(started["qr_svg"]), "errors": None})


@page(bp, "/security/totp/confirm", methods=("POST",))
def totp_confirm(visit: Visit) -> Page | Redirect:
    try:
        body = CodeIn.model_validate({"code": _code(visit)})
        return _show_codes(visit, mfa.confirm_totp(visit.user_id, body.code, visit.origin), "totp_on")
    except (ValidationError, DomainError) as exc:
        errors = _errors(exc, visit.lang)
    secret = visit.form.get("secret", "")  # shown again for typing in; the domain checks against its own copy
    return Page("security_totp.html", {"active": "security", "secret": secret if SECRET.match(secret) else None,
                                       "qr": None, "errors": errors}, 400)


@page(bp, "/security/backup-codes")
def backup_codes(visit: Visit) -> Page:
    raw = visit.cookies.get(cookie_name(BACKUP), "")
    codes = [c for c in raw.split(".") if BACKUP_CODE.match(c)]
    if raw:
        visit.set_cookies.append(set_cookie(BACKUP, "", 0))
    return Page("security_backup_codes.html", {"active": "security", "codes": codes})


@page(bp, "/security/totp/disable", methods=("GET", "POST"))
def totp_disable(visit: Visit) -> Page | Redirect:
    context: dict[str, Any] = {"active": "security", "errors": None}
    if visit.method == "POST":
        try:
            body = PasswordCodeIn.model_validate({"password": visit.form.get("password", ""),
                                                  "code": _code(visit)})
            mfa.disable_totp(visit.user_id, body.password, body.code, visit.origin)
            return Redirect("/security?done=totp_off")
        except (ValidationError, DomainError) as exc:
            context["errors"] = _errors(exc, visit.lang)
        return Page("security_totp_disable.html", context, 400)
    return Page("security_totp_disable.html", context)


@page(bp, "/security/sms", methods=("GET", "POST"))
def sms(visit: Visit) -> Page | Redirect:
    """SMS codes as the second factor: send a code to the confirmed phone, then type it in."""
    context: dict[str, Any] = {"active": "security", "errors": None, "sent": False}
    if visit.method == "POST":
        try:
            if visit.form.get("action") == "send":
                mfa.send_sms_code(visit.user_id, visit.origin)
                context["sent"] = True
                return Page("security_sms.html", context)
            context["sent"] = True
            body = CodeIn.model_validate({"code": _code(visit)})
            return _show_codes(visit, mfa.enable_sms(visit.user_id, body.code, visit.origin), "sms_on")
        except (ValidationError, DomainError) as exc:
            context["errors"] = _errors(exc, visit.lang)
        return Page("security_sms.html", context, 400)
    return Page("security_sms.html", context)


@page(bp, "/security/ip-allowlist", methods=("GET", "POST"))
def allowlist(visit: Visit) -> Page | Redirect:
    """AU-10: the addresses sign-in is allowed from, one per line; a code sent to the contact confirms."""
    current = security.summary(visit.user_id)["ip_allowlist"]
    cidrs = visit.form.get("cidrs", "\n".join(current))
    context: dict[str, Any] = {"active": "security", "errors": None, "sent": False, "cidrs": cidrs,
                               "current": current}
    if visit.method == "POST":
        try:
            if visit.form.get("action") == "send":
                context["channel"] = security.send_allowlist_code(visit.user_id, visit.origin)["channel"]
                context["sent"] = True
                return Page("security_allowlist.html", context)
            context["sent"] = True
            lines = [line.strip() for line in cidrs.splitlines() if line.strip()]
            body = AllowlistIn.model_validate({"cidrs": lines, "code": _code(visit)})
            security.set_allowlist(visit.user_id, body.cidrs, body.code, visit.origin)
            return Redirect("/security?done=allowlist")
        except (ValidationError, DomainError) as exc:
            errors = _errors(exc, visit.lang)
            # "cidrs.3" → the one textarea, with the line number a person can find
            for name in [n for n in errors["fields"] if n.startswith("cidrs.")]:
                line = int(name.split(".")[1]) + 1 if name.split(".")[1].isdigit() else 0
                reason = errors["fields"].pop(name)
                errors["fields"].setdefault("cidrs", visit._("Строка") + f" {line}: {reason}")
            context["errors"] = errors
        return Page("security_allowlist.html", context, 400)
    return Page("security_allowlist.html", context)


@page(bp, "/security/contacts/{kind}", methods=("GET", "POST"))
def contact(visit: Visit, kind: str) -> Page | Redirect:
    """AU-11: a new phone or e-mail proves itself with a code sent to it."""
    if kind not in contact_change.KINDS:
        return Page("security_message.html", {"active": "security", "errors": {
            "message": visit._("Такой страницы нет"), "fields": {}}}, 404)
    value = visit.form.get("value", "").strip()
    context: dict[str, Any] = {"active": "security", "kind": kind, "errors": None, "sent": False, "value": value,
                               "current": profile.profile(visit.user_id).get(kind)}
    if visit.method == "POST":
        try:
            if visit.form.get("action") == "send":
                model = PhoneIn if kind == "phone" else EmailIn
                parsed = model.model_validate({kind: value})
                contact_change.request(visit.user_id, kind, getattr(parsed, kind), visit.origin)
                context["sent"] = True
                return Page("security_contact.html", context)
            context["sent"] = True
            body = CodeIn.model_validate({"code": _code(visit)})
            contact_change.confirm(visit.user_id, kind, body.code, visit.origin)
            return Redirect(f"/security?done={kind}")
        except ValidationError as exc:
            errors = invalid(exc, visit.lang)
            if kind in errors["fields"]:
                errors["fields"]["value"] = errors["fields"].pop(kind)
            context["errors"] = errors
        except DomainError as exc:
            errors = form_errors(exc, visit.lang)
            if kind in errors["fields"]:
                errors["fields"]["value"] = errors["fields"].pop(kind)
            context["errors"] = errors
        return Page("security_contact.html", context, 400)
    return Page("security_contact.html", context)
