""""Мои документы" in the browser (DC-1..DC-3): the list with filters, uploads straight to S3, a document's
versions and access journal, download, a new version, delete. The same domain calls as chalicelib/api/documents.py.

An upload takes two steps, as the API's: the declaration (category, name, type, size) creates the document and
answers with S3's presigned form; the file then goes from the browser to S3 itself, never through us. Without
JavaScript the second step is a plain multipart form, and S3 sends the browser back with
`success_action_redirect`; static/upload.js does both steps from one page with a progress bar.
"""

from __future__ import annotations

import json
import urllib.parse
from typing import Any

from chalice import Blueprint, Response
from pydantic import BaseModel, ValidationError

from chalicelib.core import clock
from chalicelib.core.config import settings
from chalicelib.core.errors import DomainError
from chalicelib.core.ids import is_id
from chalicelib.documents import categories, library
from chalicelib.documents.models import DocumentsQuery, DownloadQuery, FileIn, JournalQuery, UploadIn
from chalicelib.web.pages import Page, Redirect, Visit, attempt, form_errors, invalid, page

bp = Blueprint(__name__)
TYPES = {ct: label for ct, (_, label) in categories.CONTENT_TYPES.items()}
ACCEPT = ",".join([*categories.CONTENT_TYPES, *(e for ends, _ in categories.CONTENT_TYPES.values() for e in ends)])
SCRIPT = "script"  # upload.js marks its own post, so the return address answers it instead of redirecting


def moment(value: str | None) -> str:
    """A timestamp as a person in Moscow reads it: DD.MM.YYYY HH:MM."""
    return clock.from_iso(value).astimezone(clock.MSK).strftime("%d.%m.%Y %H:%M") if value else ""


def _return_to(document_id: str) -> str:
    """Where S3 sends the browser after the plain form post (an absolute address of our own site)."""
    return f"{settings().public_url}/my-documents/{document_id}/uploaded"


def _validate(model: type[BaseModel], body: dict[str, Any]) -> Any:
    """Text from a form, read as the API reads JSON (a date as ГГГГ-ММ-ДД, the size as a number)."""
    return model.model_validate_json(json.dumps(body))


def _file_body(visit: Visit, limit: int) -> dict[str, Any]:
    """The declaration. The size comes from the script (the chosen file's); a form without it declares the
    category's limit, which S3's policy and the checker hold the real file to anyway."""
    size = visit.form.get("size", "").strip()
    body: dict[str, Any] = {"filename": visit.form.get("filename", "").strip(),
                            "content_type": visit.form.get("content_type", ""),
                            "size": int(size) if size.isdigit() else limit}
    if visit.form.get("valid_until", "").strip():
        body["valid_until"] = visit.form["valid_until"].strip()
    return body


def _upload_page(visit: Visit, answer: dict[str, Any], content_type: str, limit: int) -> Page:
    return Page("documents_upload.html", {
        "active": "documents", "document_id": answer["document_id"], "upload": answer["upload"],
        "accept": ",".join([content_type, *categories.CONTENT_TYPES[content_type][0]]),
        "type_label": TYPES[content_type], "limit": categories.megabytes(limit),
        "expires": answer["expires_in"] // 60})


@page(bp, "/my-documents")
def documents(visit: Visit) -> Page:
    wanted = {k: v for k, v in visit.query.items() if k in ("category", "status", "cursor") and v}
    context: dict[str, Any] = {"active": "documents", "categories": categories.CATEGORIES,
                               "statuses": library.STATUSES, "chosen": wanted, "items": [], "cursor": None,
                               "errors": None, "deleted": visit.query.get("deleted") == "1", "next": None}
    found = attempt(visit, context, lambda: library.list_documents(
        visit.user_id, DocumentsQuery.model_validate(wanted).model_dump(exclude_none=True)))
    if found is None:
        return Page("documents.html", context, 400)
    context.update(items=found["items"], cursor=found["cursor"])
    if found["cursor"]:
        context["next"] = "/my-documents?" + urllib.parse.urlencode({**wanted, "cursor": found["cursor"]})
    return Page("documents.html", context)


@page(bp, "/my-documents/new", methods=("GET", "POST"))
def new(visit: Visit) -> Page:
    context: dict[str, Any] = {"active": "documents", "categories": categories.CATEGORIES, "types": TYPES,
                               "form": visit.form, "errors": None, "accept": ACCEPT, "document": None}
    if visit.method == "POST":
        limit = categories.max_size(visit.form.get("category", ""))
        try:
            body = _validate(UploadIn, {**_file_body(visit, limit), "category": visit.form.get("category", "")})
            answer = library.request_upload(visit.user_id, body, visit.origin, redirect=_return_to)
            return _upload_page(visit, answer, body.content_type, categories.max_size(body.category))
        except ValidationError as exc:
            context["errors"] = invalid(exc, visit.lang)
        except DomainError as exc:
            context["errors"] = form_errors(exc, visit.lang)
        return Page("documents_new.html", context, 400)
    return Page("documents_new.html", context)


@page(bp, "/my-documents/{document_id}")
def document(visit: Visit, document_id: str) -> Page:
    cursor = visit.query.get("journal")
    try:
        JournalQuery.model_validate({"cursor": cursor})
    except ValidationError:
        return _bad_address(visit)
    doc = library.view(visit.user_id, document_id, visit.origin)
    journal = library.access_journal(visit.user_id, document_id, cursor)
    more = f"/my-documents/{document_id}?" + urllib.parse.urlencode({"journal": journal["cursor"]}) \
        if journal["cursor"] else None
    return Page("documents_detail.html", {
        "active": "documents", "doc": doc, "journal": journal["items"], "more": more, "moment": moment,
        "uploaded": visit.query.get("uploaded") == "1", "size": _size})


def _bad_address(visit: Visit) -> Page:
    return Page("error.html", {"active": "documents", "status": 400, "request_id": None,
                               "message": visit._("Неверный адрес страницы: проверьте ссылку")}, 400)


def _size(size: int) -> str:
    """Bytes as people say them: КБ below a megabyte, МБ with one decimal above."""
    return f"{size / categories.MIB:.1f} МБ".replace(".", ",") if size >= categories.MIB \
        else f"{max(1, round(size / 1024))} КБ"


@bp.route("/my-documents/{document_id}/uploaded", methods=["GET", "OPTIONS"])
def uploaded(document_id: str) -> Response:
    """S3's `success_action_redirect`: a browser's plain form post comes back to the document's page; the
    script's post, which follows the redirect as a CORS request from an opaque origin (with a preflight, as
    an upload with progress always has), gets an empty answer it may read. Nothing here reads or changes data."""
    if not is_id(document_id):
        return Response(body="", status_code=404, headers={"Content-Type": "text/plain; charset=utf-8"})
    if (bp.current_request.query_params or {}).get("via") == SCRIPT or bp.current_request.method == "OPTIONS":
        return Response(body="", status_code=204, headers={
            "Access-Control-Allow-Origin": "*", "Access-Control-Allow-Methods": "GET", "Cache-Control": "no-store"})
    return Response(body="", status_code=303, headers={"Location": f"/my-documents/{document_id}?uploaded=1",
                                                       "Cache-Control": "no-store"})


@page(bp, "/my-documents/{document_id}/download")
def download(visit: Visit, document_id: str) -> Page | Redirect:
    try:
        version = DownloadQuery.model_validate(visit.query).version
    except ValidationError:
        return _bad_address(visit)
    link = library.download(visit.user_id, document_id, visit.origin, None if version is None else str(version))
    return Redirect(link["url"])


@page(bp, "/my-documents/{document_id}/replace", methods=("GET", "POST"))
def replace(visit: Visit, document_id: str) -> Page:
    doc = library.view(visit.user_id, document_id, visit.origin)
    limit = categories.max_size(doc["category"])
    context: dict[str, Any] = {"active": "documents", "types": TYPES, "form": visit.form, "errors": None,
                               "accept": ACCEPT, "document": doc, "limit": limit}
    if visit.method == "POST":
        try:
            body = _validate(FileIn, _file_body(visit, limit))
            answer = library.request_replacement(visit.user_id, document_id, body, visit.origin,
                                                 redirect=_return_to)
            return _upload_page(visit, answer, body.content_type, limit)
        except ValidationError as exc:
            context["errors"] = invalid(exc, visit.lang)
        except DomainError as exc:
            context["errors"] = form_errors(exc, visit.lang)
        return Page("documents_new.html", context, 400)
    return Page("documents_new.html", context)


@page(bp, "/my-documents/{document_id}/delete", methods=("GET", "POST"))
def delete(visit: Visit, document_id: str) -> Page | Redirect:
    doc = library.view(visit.user_id, document_id, visit.origin)
    context: dict[str, Any] = {"active": "documents", "doc": doc, "errors": None}
    if visit.method == "POST":
        try:
            library.delete(visit.user_id, document_id, visit.origin)
            return Redirect("/my-documents?deleted=1")
        except DomainError as exc:
            context["errors"] = form_errors(exc, visit.lang)
            return Page("documents_delete.html", context, 409)
    return Page("documents_delete.html", context)
