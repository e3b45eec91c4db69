"""The officer's pages (SV-11): the agency inbox with a status filter and an application with its attachments
and the decisions — take, request documents, approve (with a result file of the officer's own, or the notice the
system writes), reject with the reason and what to fix, comment. The same domain calls as /agency/requests/*,
validated with the same models; attachments open through the journaled staff download, as the API's does.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from chalice import Blueprint
from pydantic import BaseModel, ValidationError

from chalicelib.api.errors import status_of
from chalicelib.applications import agency, statuses
from chalicelib.applications.models import ApproveIn, CommentIn, InboxQuery, RejectIn, RequestDocumentsIn
from chalicelib.catalog import services
from chalicelib.core.errors import DomainError
from chalicelib.documents import library
from chalicelib.web.pages import Page, Redirect, Visit, form_errors, invalid, page

bp = Blueprint(__name__)
OFFICER = "officer"
PDF = "application/pdf"


def _officer(visit: Visit) -> tuple[Any, str]:
    assert visit.principal is not None
    return agency.officer(visit.principal, visit.origin)


@page(bp, "/officer", role=OFFICER)
def inbox(visit: Visit) -> Page:
    """Oldest first within a status: the queue an officer works through (GET /agency/requests)."""
    _, agency_id = _officer(visit)
    status = visit.query.get("status") or None
    query = {k: v for k, v in {"status": status, "cursor": visit.query.get("cursor") or None}.items() if v}
    context: dict[str, Any] = {"active": OFFICER, "status": status, "statuses": statuses.TITLES, "errors": None,
                               "items": [], "cursor": None}
    try:
        InboxQuery.model_validate(query)
        found = agency.inbox(agency_id, query)
        context.update(items=found["items"], cursor=found["cursor"])
    except ValidationError as exc:
        context["errors"] = invalid(exc, visit.lang)
        return Page("officer_inbox.html", context, 400)
    except DomainError as exc:
        context["errors"] = form_errors(exc, visit.lang)
        return Page("officer_inbox.html", context, status_of(exc))
    return Page("officer_inbox.html", context)


def _detail(visit: Visit, request_id: str, status: int = 200, **extra: Any) -> Page:
    _, agency_id = _officer(visit)
    req = agency.detail(agency_id, request_id)
    own = library.list_documents(visit.user_id, {"status": "available"})["items"]
    service = services.get(req["service_id"])
    fields = (service.form.get("properties") or {}) if service else {}
    context: dict[str, Any] = {"active": OFFICER, "req": req, "results": [d for d in own if d["content_type"] == PDF],
                               "done": visit.query.get("done"), "errors": None, "failed": None,
                               "form": visit.form, "titles": {k: v.get("title", k) for k, v in fields.items()}}
    context.update(extra)
    return Page("officer_request.html", context, status)


@page(bp, "/officer/requests/{request_id}", role=OFFICER)
def detail(visit: Visit, request_id: str) -> Page:
    return _detail(visit, request_id)


@page(bp, "/officer/requests/{request_id}/attachments/{document_id}", role=OFFICER)
def attachment(visit: Visit, request_id: str, document_id: str) -> Redirect:
    """The file as submitted, through a 5-minute link; the owner's document journal records who opened it."""
    actor, agency_id = _officer(visit)
    return Redirect(agency.attachment(actor, agency_id, request_id, document_id, visit.origin)["url"])


# action → (the body model, the body from the form, the domain call with the validated body)
Act = Callable[[Any, str, str, Any], Any]
ACTIONS: dict[str, tuple[type[BaseModel] | None, Callable[[dict[str, str]], dict[str, Any]], Act]] = {
    "take": (None, lambda f: {}, lambda actor, ag, rid, body: agency.take(actor, ag, rid)),
    "request-documents": (RequestDocumentsIn, lambda f: {"message": f.get("message", "").strip()},
                          lambda actor, ag, rid, body: agency.request_documents(actor, ag, rid, body.message)),
    "approve": (ApproveIn, lambda f: {"comment": f.get("comment", "").strip() or None,
                                      "result_document_id": f.get("result_document_id") or None},
                lambda actor, ag, rid, body: agency.approve(actor, ag, rid, body.comment, body.result_document_id)),
    "reject": (RejectIn, lambda f: {"reason": f.get("reason", "").strip(), "fix": f.get("fix", "").strip()},
               lambda actor, ag, rid, body: agency.reject(actor, ag, rid, body.reason, body.fix)),
    "comment": (CommentIn, lambda f: {"text": f.get("text", "").strip()},
                lambda actor, ag, rid, body: agency.comment(actor, ag, rid, body.text)),
}


@page(bp, "/officer/requests/{request_id}/{action}", methods=("POST",), role=OFFICER)
def act(visit: Visit, request_id: str, action: str) -> Page | Redirect:
    """One decision form; a refusal shows the application again with that form's errors."""
    if action not in ACTIONS:
        return _detail(visit, request_id, 404, failed="unknown",
                       errors={"message": visit._("Такого действия нет"), "fields": {}})
    model, body_of, call = ACTIONS[action]
    actor, agency_id = _officer(visit)
    try:
        body = model.model_validate(body_of(visit.form)) if model else None
        call(actor, agency_id, request_id, body)
        return Redirect(f"/officer/requests/{request_id}?done={action}")
    except ValidationError as exc:
        errors, status = invalid(exc, visit.lang), 400
    except DomainError as exc:
        errors, status = form_errors(exc, visit.lang), status_of(exc)
    return _detail(visit, request_id, status, failed=action, errors=errors)
