"""«Мои заявки» (SV-6..SV-9): the list with filters, an application's page with its journal, comments, cancelling,
the signed journal PDF and the result document.

The same domain calls as GET /requests, GET /requests/{id}, POST /requests/{id}/comments, /cancel and
GET /requests/{id}/journal.pdf (chalicelib/api/applications.py), and GET /documents/{id}/download for the result.
"""

from __future__ import annotations

import urllib.parse
from typing import Any

from chalice import Blueprint
from pydantic import ValidationError

from chalicelib.applications import actors, journal_pdf, statuses, transitions, views
from chalicelib.applications.models import CommentIn, RequestsQuery
from chalicelib.catalog import services
from chalicelib.core.errors import DomainError, not_found
from chalicelib.documents import library
from chalicelib.web import forms
from chalicelib.web.pages import Download, Page, Redirect, Visit, attempt, form_errors, invalid, page

bp = Blueprint(__name__)
FILTERS = ("status", "from", "to", "number")
CANCELLABLE = frozenset(s for (s, to) in statuses.MOVES if to == "cancelled")
DONE = {"submitted": "Заявление отправлено", "commented": "Комментарий добавлен", "cancelled": "Заявление отменено"}


@page(bp, "/applications", role="citizen")
def applications(visit: Visit) -> Page:
    chosen = {k: visit.query.get(k, "").strip() for k in FILTERS}
    context: dict[str, Any] = {"active": "applications", "chosen": chosen, "statuses": statuses.TITLES,
                               "errors": None, "items": [], "more": None}
    query = {k: v for k, v in chosen.items() if v}
    if visit.query.get("cursor"):
        query["cursor"] = visit.query["cursor"]
    def listing() -> dict[str, Any]:
        RequestsQuery.model_validate(query)  # the API's query rules, with their messages
        return views.list_requests(visit.user_id, query)

    found = attempt(visit, context, listing)
    if found is None:
        return Page("applications.html", context, 400)
    if found["cursor"]:
        context["more"] = "/applications?" + urllib.parse.urlencode({**{k: v for k, v in chosen.items() if v},
                                                                     "cursor": found["cursor"]})
    context["items"] = found["items"]
    return Page("applications.html", context)


def _detail_page(visit: Visit, request_id: str, errors: dict[str, Any] | None = None, comment: str = "",
                 status: int = 200) -> Page:
    req = views.detail(visit.user_id, request_id)
    service = services.get(req["service_id"])
    return Page("application.html", {
        "active": "applications", "req": req, "fields": forms.shown(service.form if service else {}, req["params"]),
        "cancellable": req["status"] in CANCELLABLE, "final": req["status"] in statuses.FINAL,
        "errors": errors, "comment": comment, "notice": DONE.get(visit.query.get("done", "")),
        "labels": {"text": visit._("Комментарий")}}, status)


@page(bp, "/applications/{request_id}", role="citizen")
def application(visit: Visit, request_id: str) -> Page:
    return _detail_page(visit, request_id)


@page(bp, "/applications/{request_id}/comment", methods=("POST",), role="citizen")
def add_comment(visit: Visit, request_id: str) -> Page | Redirect:
    assert visit.principal is not None
    text = visit.form.get("text", "").strip()
    try:
        body = CommentIn.model_validate({"text": text})
        req = views.load_own(visit.user_id, request_id)
        transitions.comment(req, actors.citizen(visit.principal, visit.origin), body.text)
    except ValidationError as exc:
        return _detail_page(visit, request_id, invalid(exc, visit.lang), text, 400)
    except DomainError as exc:
        if exc.code == "NOT_FOUND":
            raise
        errors = form_errors(exc, visit.lang)
        errors["fields"] = errors["fields"] or {"text": errors["message"]}
        return _detail_page(visit, request_id, errors, text, 400)
    return Redirect(f"/applications/{request_id}?done=commented#journal-title")


@page(bp, "/applications/{request_id}/cancel", methods=("POST",), role="citizen")
def cancel(visit: Visit, request_id: str) -> Page | Redirect:
    assert visit.principal is not None
    try:
        transitions.cancel(visit.principal, request_id, visit.origin)
    except DomainError as exc:
        if exc.code == "NOT_FOUND":
            raise
        return _detail_page(visit, request_id, form_errors(exc, visit.lang), status=409)
    return Redirect(f"/applications/{request_id}?done=cancelled")


@page(bp, "/applications/{request_id}/result", role="citizen")
def result(visit: Visit, request_id: str) -> Redirect:
    """The result document through a presigned link, as GET /documents/{id}/download gives it."""
    req = views.detail(visit.user_id, request_id)
    if not req["result"]:
        raise not_found("Результат заявления")
    return Redirect(library.download(visit.user_id, req["result"]["document_id"], visit.origin)["url"])


@page(bp, "/applications/{request_id}/journal.pdf", role="citizen")
def journal(visit: Visit, request_id: str) -> Download:
    """The journal as the signed PDF GET /requests/{id}/journal.pdf gives."""
    return Download(journal_pdf.render(views.detail(visit.user_id, request_id)), "application/pdf",
                    f"journal-{request_id}.pdf")
