"""Profile pages (ID-3, ID-6, ID-7): the person's data, tier and registry checks, the personal-data form, and the
confirmation channels (partner bank, registered letter). The same domain calls as the JSON API's /me/identity,
/me/personal-data and /me/identity/* routes, validated with the same pydantic models.

The partner bank sends the person back to /identity/bank/callback (`bank.redirect_uri()`, every stage): that
page finishes the flow with the session cookie and shows the outcome, field by field on a mismatch.
"""

from __future__ import annotations

import re
from typing import Any

from chalice import Blueprint
from pydantic import ValidationError

from chalicelib.api.errors import status_of
from chalicelib.core.errors import DomainError
from chalicelib.documents import library
from chalicelib.identity import bank, letter, personal, profile
from chalicelib.identity.confirmation_models import BankStartIn, CallbackQuery, LetterCodeIn
from chalicelib.identity.personal_models import PersonalDataIn
from chalicelib.web.pages import Page, Redirect, Visit, form_errors, invalid, page

bp = Blueprint(__name__)
CITIZEN = "citizen"
TEXT_FIELDS = ("last_name", "first_name", "middle_name", "birth_place", "snils", "inn", "address")
PASSPORT_FIELDS = ("series", "number", "issued_at", "issued_by", "division_code")
OPTIONAL = ("middle_name", "inn", "passport_document_id")
_RU_DAY = re.compile(r"^\s*(\d{1,2})\.(\d{1,2})\.(\d{4})\s*$")


def iso_day(text: str) -> str:
    """A date as people type it (ДД.ММ.ГГГГ) or as a date input sends it (ГГГГ-ММ-ДД) → ГГГГ-ММ-ДД; anything
    else goes to the model as typed, so its rule is what the person reads."""
    found = _RU_DAY.match(text)
    if found:
        day, month, year = found.groups()
        return f"{year}-{int(month):02d}-{int(day):02d}"
    return text.strip()


def ru_day(text: str | None) -> str:
    if not text or not re.match(r"^\d{4}-\d{2}-\d{2}$", text):
        return text or ""
    year, month, day = text.split("-")
    return f"{day}.{month}.{year}"


def personal_body(form: dict[str, str]) -> dict[str, Any]:
    """The form's flat fields (`passport.series`, …) as the API's JSON body."""
    body: dict[str, Any] = {f: form.get(f, "").strip() for f in TEXT_FIELDS}
    body["birth_date"] = iso_day(form.get("birth_date", ""))
    body["sex"] = form.get("sex", "")
    body["passport"] = {f: form.get(f"passport.{f}", "").strip() for f in PASSPORT_FIELDS}
    body["passport"]["issued_at"] = iso_day(body["passport"]["issued_at"])
    body["passport_document_id"] = form.get("passport_document_id", "").strip()
    return {k: v for k, v in body.items() if not (k in OPTIONAL and not v)}


def _form_values(data: dict[str, Any] | None) -> dict[str, str]:
    """Stored data as the form shows it: flat names, dates as ДД.ММ.ГГГГ."""
    if not data:
        return {}
    values = {f: str(data.get(f) or "") for f in (*TEXT_FIELDS, "sex")}
    values["birth_date"] = ru_day(data.get("birth_date"))
    for f in PASSPORT_FIELDS:
        values[f"passport.{f}"] = str((data.get("passport") or {}).get(f) or "")
    values["passport.issued_at"] = ru_day(values["passport.issued_at"])
    return values


def _profile(visit: Visit, status: int = 200, **extra: Any) -> Page:
    ident = personal.identity(visit.user_id)
    context: dict[str, Any] = {
        "active": "profile", "ident": ident, "me": profile.profile(visit.user_id),
        "pending_checks": any(c["status"] in ("pending", "unavailable") for c in ident["checks"]),
        "sent": visit.query.get("sent") == "1", "confirmed": visit.query.get("confirmed"),
        "bank_errors": None, "letter_errors": None}
    context.update(extra)
    return Page("profile.html", context, status)


@page(bp, "/profile", role=CITIZEN)
def show(visit: Visit) -> Page:
    return _profile(visit)


@page(bp, "/profile/personal-data", methods=("GET", "POST"), role=CITIZEN)
def personal_data(visit: Visit) -> Page | Redirect:
    ident = personal.identity(visit.user_id)
    stored = (ident["pending"] or {}).get("data") or ident["data"]
    passports = []
    if ident["data"]:  # a checked identity: changing it needs a checked scan of the new passport (ID-8)
        passports = library.list_documents(visit.user_id, {"category": "passport", "status": "available"})["items"]
    context: dict[str, Any] = {"active": "profile", "form": _form_values(stored), "errors": None,
                               "passports": passports, "checked": ident["data"] is not None}
    if visit.method == "GET":
        return Page("profile_personal.html", context)
    context["form"] = dict(visit.form)
    try:
        body = PersonalDataIn.model_validate(personal_body(visit.form))
        personal.submit(visit.user_id, body, visit.origin.ip)
        return Redirect("/profile?sent=1")
    except ValidationError as exc:
        context["errors"] = invalid(exc, visit.lang)
        if visit.form.get("sex") not in ("male", "female"):
            context["errors"]["fields"]["sex"] = visit._("Укажите пол")
    except DomainError as exc:
        context["errors"] = form_errors(exc, visit.lang)
    return Page("profile_personal.html", context, 400)


@page(bp, "/profile/bank", methods=("POST",), role=CITIZEN)
def bank_start(visit: Visit) -> Page | Redirect:
    """Off to the bank's sign-in page (OAuth2 with PKCE); it sends the person back to /identity/bank/callback."""
    try:
        body = BankStartIn.model_validate({"bank": visit.form.get("bank", "")})
        return Redirect(bank.start(visit.user_id, body.bank, visit.origin.ip)["authorize_url"])
    except ValidationError as exc:
        errors, status = invalid(exc, visit.lang), 400
    except DomainError as exc:
        errors, status = form_errors(exc, visit.lang), status_of(exc)
    return _profile(visit, status, bank_errors=errors)


@page(bp, "/identity/bank/callback", role=CITIZEN)
def bank_callback(visit: Visit) -> Page:
    """The bank's redirect back: finish with its code and state, show confirmed or each field that differs."""
    query = CallbackQuery.model_validate(visit.query)
    context: dict[str, Any] = {"active": "profile", "done": None, "errors": None, "denied": False}
    if query.error or not query.code or not query.state:
        context["denied"] = True
        return Page("profile_bank.html", context, 400)
    try:
        context["done"] = bank.finish(visit.user_id, query.code, query.state, visit.origin.ip)
        return Page("profile_bank.html", context)
    except DomainError as exc:
        context["errors"] = form_errors(exc, visit.lang)
        return Page("profile_bank.html", context, status_of(exc))


@page(bp, "/profile/letter", methods=("POST",), role=CITIZEN)
def letter_send(visit: Visit) -> Page | Redirect:
    try:
        letter.send(visit.user_id, visit.origin.ip)
        return Redirect("/profile/letter/code?sent=1")
    except DomainError as exc:
        return _profile(visit, status_of(exc), letter_errors=form_errors(exc, visit.lang))


@page(bp, "/profile/letter/code", methods=("GET", "POST"), role=CITIZEN)
def letter_code(visit: Visit) -> Page | Redirect:
    context: dict[str, Any] = {"active": "profile", "errors": None, "sent": visit.query.get("sent") == "1"}
    if visit.method == "GET":
        return Page("profile_letter.html", context)
    try:
        body = LetterCodeIn.model_validate({"code": visit.form.get("code", "").strip().replace(" ", "")})
        letter.confirm(visit.user_id, body.code, visit.origin.ip)
        return Redirect("/profile?confirmed=letter")
    except ValidationError as exc:
        context["errors"] = invalid(exc, visit.lang)
    except DomainError as exc:
        context["errors"] = form_errors(exc, visit.lang)
    return Page("profile_letter.html", context, 400)
