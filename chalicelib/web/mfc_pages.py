"""The service centre (МФЦ) operator's desk (ID-7): find a person by SNILS, compare the passport in hand with the
checked data, confirm identity. Every look and decision is journaled by the domain (identity/mfc.py)."""

from __future__ import annotations

from typing import Any

from chalice import Blueprint
from pydantic import ValidationError

from chalicelib.core.errors import DomainError
from chalicelib.identity import mfc
from chalicelib.identity.confirmation_models import OperatorConfirmIn, SnilsQuery
from chalicelib.web.pages import Page, Visit, form_errors, invalid, page

bp = Blueprint(__name__)


@page(bp, "/mfc", methods=("GET", "POST"), role="operator")
def desk(visit: Visit) -> Page:
    """POST, not GET: the SNILS is personal data and must stay out of addresses and access logs."""
    context: dict[str, Any] = {"active": "mfc", "snils": visit.form.get("snils", ""), "errors": None, "person": None,
                               "confirmed": False}
    if visit.method == "POST":
        try:
            query = SnilsQuery.model_validate({"snils": visit.form.get("snils", "").strip()})
            context["person"] = mfc.find(visit.user_id, query.snils, visit.origin.ip)
        except ValidationError as exc:
            context["errors"] = invalid(exc, visit.lang)
        except DomainError as exc:
            context["errors"] = form_errors(exc, visit.lang)
        return Page("mfc.html", context, 200 if context["errors"] is None else 400)
    return Page("mfc.html", context)


@page(bp, "/mfc/people/{user_id}/confirm", methods=("POST",), role="operator")
def confirm(visit: Visit, user_id: str) -> Page:
    context: dict[str, Any] = {"active": "mfc", "snils": "", "errors": None, "person": None, "confirmed": False}
    try:
        body = OperatorConfirmIn.model_validate({
            "passport_checked": visit.form.get("passport_checked") == "yes",
            "passport_series": visit.form.get("passport_series", "").strip(),
            "passport_number": visit.form.get("passport_number", "").strip()})
        context["person"] = mfc.confirm(visit.user_id, user_id, body.passport_series, body.passport_number,
                                        visit.origin.ip)
        context["confirmed"] = True
        return Page("mfc.html", context)
    except ValidationError as exc:
        context["errors"] = invalid(exc, visit.lang)
    except DomainError as exc:
        context["errors"] = form_errors(exc, visit.lang)
    return Page("mfc.html", context, 400)
