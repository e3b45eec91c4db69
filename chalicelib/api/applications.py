"""Applications (SV-3..SV-10): submit, drafts, templates, statuses, journal, comments, documents, cancel."""

from __future__ import annotations

from typing import Any

from chalice import Blueprint, Response

from chalicelib.api.http import Call, endpoint
from chalicelib.applications import actors, journal_pdf, submission, templates, transitions, views
from chalicelib.applications.models import AttachIn, CommentIn, DraftIn, RequestIn, TemplateIn

bp = Blueprint(__name__)


@endpoint(bp, "POST", "/requests", summary="Submit an application (or save a draft, or start one from a template)",
          body=RequestIn, status=201, tag="requests")
def create(call: Call, body: RequestIn) -> dict[str, Any]:
    assert call.principal is not None
    return submission.create(call.principal, body, call.origin)


@endpoint(bp, "GET", "/requests", summary="My applications, newest first",
          query=("status", "from", "to", "number", "cursor"), tag="requests")
def list_requests(call: Call) -> dict[str, Any]:
    return views.list_requests(call.user_id, call.query)


@endpoint(bp, "GET", "/requests/{request_id}", summary="An application: form, attachments, result, journal",
          tag="requests")
def detail(call: Call, request_id: str) -> dict[str, Any]:
    return views.detail(call.user_id, request_id)


@endpoint(bp, "PUT", "/requests/{request_id}", summary="Autosave a draft", body=DraftIn, tag="requests")
def save_draft(call: Call, body: DraftIn, request_id: str) -> dict[str, Any]:
    assert call.principal is not None
    return submission.update_draft(call.principal, request_id, body, call.origin)


@endpoint(bp, "POST", "/requests/{request_id}/submit", summary="Submit a draft", status=201, tag="requests")
def submit(call: Call, request_id: str) -> dict[str, Any]:
    assert call.principal is not None
    return submission.submit_draft(call.principal, request_id, call.origin)


@endpoint(bp, "POST", "/requests/{request_id}/cancel", summary="Cancel before a decision", tag="requests")
def cancel(call: Call, request_id: str) -> dict[str, Any]:
    assert call.principal is not None
    return transitions.cancel(call.principal, request_id, call.origin)


@endpoint(bp, "POST", "/requests/{request_id}/comments", summary="Comment or ask the operator", body=CommentIn,
          status=204, tag="requests")
def add_comment(call: Call, body: CommentIn, request_id: str) -> None:
    assert call.principal is not None
    req = views.load_own(call.user_id, request_id)
    transitions.comment(req, actors.citizen(call.principal, call.origin), body.text)


@endpoint(bp, "POST", "/requests/{request_id}/documents", summary="Answer a request for documents",
          body=AttachIn, tag="requests")
def add_documents(call: Call, body: AttachIn, request_id: str) -> dict[str, Any]:
    assert call.principal is not None
    return submission.add_documents(call.principal, request_id, body.attachments, call.origin)


@endpoint(bp, "POST", "/requests/{request_id}/template", summary="Save as a template", body=TemplateIn, status=201,
          tag="requests")
def save_template(call: Call, body: TemplateIn, request_id: str) -> dict[str, Any]:
    assert call.principal is not None
    return templates.save_template(call.principal, request_id, body.name, call.origin)


@endpoint(bp, "GET", "/me/templates", summary="My application templates", tag="requests")
def my_templates(call: Call) -> list[dict[str, Any]]:
    return templates.templates(call.user_id)


@endpoint(bp, "GET", "/requests/{request_id}/journal.pdf", summary="The journal as a signed PDF", tag="requests")
def journal(call: Call, request_id: str) -> Response:
    data = journal_pdf.render(views.detail(call.user_id, request_id))
    return Response(body=data, status_code=200, headers={
        "Content-Type": "application/pdf", "Cache-Control": "no-store",
        "Content-Disposition": f'attachment; filename="journal-{request_id}.pdf"'})
