"""The agency side (SV-11): an officer's inbox and decisions. Only officers (`role="officer"`: others get 403);
other agencies' applications answer 404."""

from __future__ import annotations

from typing import Any

from chalice import Blueprint

from chalicelib.api.http import Call, endpoint
from chalicelib.applications import agency
from chalicelib.applications.models import (
    ApproveIn,
    CommentIn,
    InboxOut,
    InboxQuery,
    RejectIn,
    RequestDetailOut,
    RequestDocumentsIn,
    RequestOut,
)
from chalicelib.documents.models import StaffDownloadOut

bp = Blueprint(__name__)
OFFICER = "officer"


def _officer(call: Call) -> tuple[Any, str]:
    """The officer as an actor of the journal, and their agency (the role itself is checked by `endpoint`)."""
    assert call.principal is not None
    return agency.officer(call.principal, call.origin)


@endpoint(bp, "GET", "/agency/requests", summary="The agency's inbox", query=InboxQuery, response=InboxOut,
          role=OFFICER, tag="agency")
def inbox(call: Call) -> dict[str, Any]:
    _, agency_id = _officer(call)
    return agency.inbox(agency_id, call.query)


@endpoint(bp, "GET", "/agency/requests/{request_id}", summary="An application of the agency",
          response=RequestDetailOut, role=OFFICER, tag="agency")
def detail(call: Call, request_id: str) -> dict[str, Any]:
    _, agency_id = _officer(call)
    return agency.detail(agency_id, request_id)


@endpoint(bp, "GET", "/agency/requests/{request_id}/attachments/{document_id}",
          summary="A download link to an attached document, as submitted", response=StaffDownloadOut, role=OFFICER,
          tag="agency")
def attachment(call: Call, request_id: str, document_id: str) -> dict[str, Any]:
    actor, agency_id = _officer(call)
    return agency.attachment(actor, agency_id, request_id, document_id, call.origin)


@endpoint(bp, "POST", "/agency/requests/{request_id}/take", summary="Take into work", response=RequestOut,
          role=OFFICER, tag="agency")
def take(call: Call, request_id: str) -> dict[str, Any]:
    return agency.take(*_officer(call), request_id)


@endpoint(bp, "POST", "/agency/requests/{request_id}/request-documents", summary="Ask the applicant for documents",
          body=RequestDocumentsIn, response=RequestOut, role=OFFICER, tag="agency")
def request_documents(call: Call, body: RequestDocumentsIn, request_id: str) -> dict[str, Any]:
    return agency.request_documents(*_officer(call), request_id, body.message)


@endpoint(bp, "POST", "/agency/requests/{request_id}/approve", summary="Approve; the result is a signed PDF",
          body=ApproveIn, response=RequestOut, role=OFFICER, tag="agency",
          checked={"result_document_id": "свой проверенный PDF из «Моих документов»"})
def approve(call: Call, body: ApproveIn, request_id: str) -> dict[str, Any]:
    return agency.approve(*_officer(call), request_id, body.comment, body.result_document_id)


@endpoint(bp, "POST", "/agency/requests/{request_id}/reject", summary="Reject with the reason and what to fix",
          body=RejectIn, response=RequestOut, role=OFFICER, tag="agency")
def reject(call: Call, body: RejectIn, request_id: str) -> dict[str, Any]:
    return agency.reject(*_officer(call), request_id, body.reason, body.fix)


@endpoint(bp, "POST", "/agency/requests/{request_id}/comments", summary="Comment to the applicant", body=CommentIn,
          status=204, role=OFFICER, tag="agency")
def comment(call: Call, body: CommentIn, request_id: str) -> None:
    agency.comment(*_officer(call), request_id, body.text)
