""""Мои документы" (DC-1..DC-4): uploads through presigned S3 forms, versions, the access journal,
system-issued signed PDFs, and the public signature check anyone can use."""

from __future__ import annotations

from typing import Any

from chalice import Blueprint

from chalicelib.api.http import Call, endpoint
from chalicelib.documents import categories, issue, library
from chalicelib.documents.models import (
    CategoryOut,
    DocumentDetailOut,
    DocumentsOut,
    DocumentsQuery,
    DownloadOut,
    DownloadQuery,
    FileIn,
    JournalOut,
    JournalQuery,
    PublicFactsOut,
    UploadIn,
    UploadOut,
    VerificationOut,
)
from chalicelib.identity import ratelimit

bp = Blueprint(__name__)
VERIFY_MAX = categories.MAX_SIZE


@endpoint(bp, "GET", "/documents/categories", summary="Document categories, file types and size limits",
          response=list[CategoryOut], tag="documents")
def document_categories(call: Call) -> list[dict[str, Any]]:
    return categories.listing()


@endpoint(bp, "POST", "/documents/uploads", summary="Start an upload: a new document and a presigned POST form",
          body=UploadIn, response=UploadOut, status=201, tag="documents")
def request_upload(call: Call, body: UploadIn) -> dict[str, Any]:
    return library.request_upload(call.user_id, body, call.origin)


@endpoint(bp, "GET", "/documents", summary="Own documents, newest first", query=DocumentsQuery,
          response=DocumentsOut, tag="documents")
def list_documents(call: Call) -> dict[str, Any]:
    return library.list_documents(call.user_id, call.query)


@endpoint(bp, "GET", "/documents/{document_id}", summary="A document: metadata, versions, validity",
          response=DocumentDetailOut, tag="documents")
def get_document(call: Call, document_id: str) -> dict[str, Any]:
    return library.view(call.user_id, document_id, call.origin)


@endpoint(bp, "GET", "/documents/{document_id}/download", summary="A presigned link to the file (5 minutes)",
          query=DownloadQuery, response=DownloadOut, tag="documents")
def download(call: Call, document_id: str) -> dict[str, Any]:
    return library.download(call.user_id, document_id, call.origin, call.query.get("version"))


@endpoint(bp, "POST", "/documents/{document_id}/versions", summary="Replace the file: a presigned POST for a new "
          "version", body=FileIn, response=UploadOut, status=201, tag="documents")
def replace(call: Call, body: FileIn, document_id: str) -> dict[str, Any]:
    return library.request_replacement(call.user_id, document_id, body, call.origin)


@endpoint(bp, "DELETE", "/documents/{document_id}", summary="Delete the file; metadata and journal stay",
          status=204, tag="documents")
def delete(call: Call, document_id: str) -> None:
    library.delete(call.user_id, document_id, call.origin)


@endpoint(bp, "GET", "/documents/{document_id}/journal", summary="Every view, download, replacement and deletion",
          query=JournalQuery, response=JournalOut, tag="documents")
def access_journal(call: Call, document_id: str) -> dict[str, Any]:
    return library.access_journal(call.user_id, document_id, call.query.get("cursor"))


@endpoint(bp, "POST", "/documents/generate/profile-extract", summary="Issue a signed PDF extract of the profile",
          response=DocumentDetailOut, status=201, tag="documents")
def profile_extract(call: Call) -> dict[str, Any]:
    return issue.profile_extract(call.user_id, call.origin)


@endpoint(bp, "GET", "/verify/{document_id}", summary="Public: is this document one the system issued and signed?",
          auth=False, response=PublicFactsOut, limited=True, tag="verify")
def verify_by_id(call: Call, document_id: str) -> dict[str, Any]:
    ratelimit.charge_now(call.origin.ip)
    return issue.public_facts(document_id)


@endpoint(bp, "POST", "/verify", summary="Public: check a PDF's signature: ours and unchanged?", auth=False,
          raw=("application/pdf",), max_raw=VERIFY_MAX, response=VerificationOut, limited=True, tag="verify")
def verify_file(call: Call, data: bytes) -> dict[str, Any]:
    ratelimit.charge_now(call.origin.ip)
    return issue.check_file(data)
