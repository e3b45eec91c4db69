"""Consents to personal-data processing (ID-9): the list with purpose, recipient, date and legal basis, and
revoking where the law allows it (future use stops; processing already done stays lawful, as the page says)."""

from __future__ import annotations

from chalice import Blueprint

from chalicelib.core.errors import DomainError, not_found
from chalicelib.core.ids import is_id
from chalicelib.identity import consents
from chalicelib.web.pages import Page, Redirect, Visit, form_errors, page

bp = Blueprint(__name__)


@page(bp, "/profile/consents")
def consent_list(visit: Visit) -> Page:
    found = consents.consents(visit.user_id, visit.query.get("cursor"))
    return Page("consents.html", {"active": "profile", **found, "errors": None,
                                  "revoked": visit.query.get("revoked") == "1"})


@page(bp, "/profile/consents/{consent_id}/revoke", methods=("POST",))
def revoke(visit: Visit, consent_id: str) -> Page | Redirect:
    try:
        if not is_id(consent_id):
            raise not_found("Согласие", neuter=True)
        consents.revoke(visit.user_id, consent_id, visit.origin.ip)
        return Redirect("/profile/consents?revoked=1")
    except DomainError as exc:
        found = consents.consents(visit.user_id, None)
        return Page("consents.html", {"active": "profile", **found, "errors": form_errors(exc, visit.lang),
                                      "revoked": False}, 409 if exc.code != "NOT_FOUND" else 404)
