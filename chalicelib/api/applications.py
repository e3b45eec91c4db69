"""Applications (SV-3..SV-10): submit, drafts, templates, statuses, journal, comments, documents, cancel.

Citizens' routes: an officer applying (perhaps to their own agency, to decide it themselves) would mix the two
sides of SV-11, so officers' accounts get 403 here (`role="citizen"`).
"""

from __future__ import annotations

from typing import Any

from chalice import Blueprint, Response

from chalicelib.api.http import Call, Content, endpoint
from chalicelib.applications import actors, journal_pdf, submission, templates, transitions, views
from chalicelib.applications.models import (
    FORM_CHECKED,
    AttachIn,
    CommentIn,
    CreatedOut,
    DraftIn,
    DraftOut,
    RequestDetailOut,
    RequestIn,
    RequestOut,
    RequestsOut,
    RequestsQuery,
    TemplateIn,
    TemplateOut,
)
from chalicelib.core import observability

bp = Blueprint(__name__)


def _submitted(created: dict[str, Any]) -> dict[str, Any]:
    if created["status"] == "submitted":  # not a draft
        observability.count(observability.APPLICATION_SUBMITTED)
    return created


@endpoint(bp, "POST", "/requests", summary="Submit an application (or save a draft, or start one from a template)",
          body=RequestIn, response=CreatedOut, status=201, role="citizen", checked=FORM_CHECKED, tag="requests")
def create(call: Call, body: RequestIn) -> dict[str, Any]:
    assert call.principal is not None
    return _submitted(submission.create(call.principal, body, call.origin))


@endpoint(bp, "GET", "/requests", summary="My applications, newest first",
          query=RequestsQuery, response=RequestsOut, role="citizen", tag="requests")
def list_requests(call: Call) -> dict[str, Any]:
    return views.list_requests(call.user_id, call.query)


@endpoint(bp, "GET", "/requests/{request_id}", summary="An application: form, attachments, result, journal",
          response=RequestDetailOut, role="citizen", tag="requests")
def detail(call: Call, request_id: str) -> dict[str, Any]:
    return views.detail(call.user_id, request_id)


@endpoint(bp, "PUT", "/requests/{request_id}", summary="Autosave a draft", body=DraftIn, response=DraftOut,
          role="citizen", tag="requests")
def save_draft(call: Call, body: DraftIn, request_id: str) -> dict[str, Any]:
    assert call.principal is not None
    return submission.update_draft(call.principal, request_id, body, call.origin)


@endpoint(bp, "POST", "/requests/{request_id}/submit", summary="Submit a draft", response=CreatedOut, status=201,
          role="citizen", checked=FORM_CHECKED, tag="requests")
def submit(call: Call, request_id: str) -> dict[str, Any]:
    assert call.principal is not None
    return _submitted(submission.submit_draft(call.principal, request_id, call.origin))


@endpoint(bp, "POST", "/requests/{request_id}/cancel", summary="Cancel before a decision", response=RequestOut,
          role="citizen", tag="requests")
def cancel(call: Call, request_id: str) -> dict[str, Any]:
    assert call.principal is not None
    return transitions.cancel(call.principal, request_id, call.origin)


@endpoint(bp, "POST", "/requests/{request_id}/comments", summary="Comment or ask the operator", body=CommentIn,
          status=204, role="citizen", tag="requests")
def add_comment(call: Call, body: CommentIn, request_id: str) -> None:
    assert call.principal is not None
    req = views.load_own(call.user_id, request_id)
    transitions.comment(req, actors.citizen(call.principal, call.origin), body.text)


@endpoint(bp, "POST", "/requests/{request_id}/documents", summary="Answer a request for documents",
          body=AttachIn, response=RequestOut, role="citizen", checked={"attachments": FORM_CHECKED["attachments"]},
          tag="requests")
def add_documents(call: Call, body: AttachIn, request_id: str) -> dict[str, Any]:
    assert call.principal is not None
    return submission.add_documents(call.principal, request_id, body.attachments, call.origin)


@endpoint(bp, "POST", "/requests/{request_id}/template", summary="Save as a template", body=TemplateIn,
          response=TemplateOut, status=201, role="citizen", tag="requests")
def save_template(call: Call, body: TemplateIn, request_id: str) -> dict[str, Any]:
    assert call.principal is not None
    return templates.save_template(call.principal, request_id, body.name, call.origin)


@endpoint(bp, "GET", "/me/templates", summary="My application templates", response=list[TemplateOut],
          role="citizen", tag="requests")
def my_templates(call: Call) -> list[dict[str, Any]]:
    return templates.templates(call.user_id)


@endpoint(bp, "GET", "/requests/{request_id}/journal.pdf", summary="The journal as a signed PDF",
          response=Content("application/pdf", binary=True, description="Подписанный PDF (Accept: application/pdf)"),
          role="citizen", tag="requests")
def journal(call: Call, request_id: str) -> Response:
    data = journal_pdf.render(views.detail(call.user_id, request_id))
    return Response(body=data, status_code=200, headers={
        "Content-Type": "application/pdf", "Cache-Control": "no-store",
        "Content-Disposition": f'attachment; filename="journal-{request_id}.pdf"'})
