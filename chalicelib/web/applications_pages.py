"""«Мои заявки» (SV-6..SV-9): the list with filters, an application's page with its journal, comments, cancelling,
the signed journal PDF and the result document.

The same domain calls as GET /requests, GET /requests/{id}, POST /requests/{id}/comments, /cancel and
GET /requests/{id}/journal.pdf (chalicelib/api/applications.py), and GET /documents/{id}/download for the result.
"""

from __future__ import annotations

import contextvars
import urllib.parse
from collections.abc import Callable
from typing import Any

from chalice import Blueprint, Response
from pydantic import ValidationError

from chalicelib.applications import actors, journal_pdf, statuses, transitions, views
from chalicelib.applications.models import CommentIn, RequestsQuery
from chalicelib.catalog import services
from chalicelib.core.errors import DomainError, not_found
from chalicelib.documents import library
from chalicelib.web import forms
from chalicelib.web.pages import FORM_TYPE, Page, Redirect, Visit, form_errors, page
from chalicelib.web.signin import invalid

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
    try:
        RequestsQuery.model_validate(query)
        found = views.list_requests(visit.user_id, query)
    except ValidationError as exc:
        context["errors"] = invalid(exc, visit.lang)
        return Page("applications.html", context, 400)
    except DomainError as exc:
        context["errors"] = form_errors(exc, visit.lang)
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


# -- files through the page plumbing -------------------------------------------------------------------------------
# A page answers with a template or a redirect; the signed journal is bytes. The view runs under `page()` (session,
# refresh, role, error pages) on a stand-in blueprint, and the bytes it leaves here replace the placeholder answer.

_FILE: contextvars.ContextVar[tuple[bytes, str] | None] = contextvars.ContextVar("web_file", default=None)


class _Capture:
    """What `page()` needs of a blueprint: the current request, and a `route` that hands the view back."""

    def __init__(self, real: Blueprint) -> None:
        self.real = real
        self.view: Callable[..., Response] | None = None

    @property
    def current_request(self) -> Any:
        return self.real.current_request

    def route(self, path: str, **_: Any) -> Callable[[Callable[..., Response]], Callable[..., Response]]:
        def keep(view: Callable[..., Response]) -> Callable[..., Response]:
            self.view = view
            return view
        return keep


def pdf_page(path: str, role: str) -> Callable[[Callable[..., tuple[bytes, str]]], Callable[..., Response]]:
    def decorate(fn: Callable[..., tuple[bytes, str]]) -> Callable[..., Response]:
        capture = _Capture(bp)

        def placeholder(visit: Visit, **params: str) -> Redirect:
            _FILE.set(fn(visit, **params))
            return Redirect(visit.path)

        placeholder.__name__ = fn.__name__
        page(capture, path, role=role)(placeholder)  # type: ignore[arg-type]

        def view(**params: str) -> Response:
            _FILE.set(None)
            assert capture.view is not None
            answer = capture.view(**params)
            found = _FILE.get()
            if found is None:  # sign-in redirect or an error page
                return answer
            data, filename = found
            hdrs = {k: v for k, v in answer.headers.items() if k not in ("Location", "Content-Type")}
            hdrs.update({"Content-Type": "application/pdf",
                         "Content-Disposition": f'attachment; filename="{filename}"'})
            return Response(body=data, status_code=200, headers=hdrs)

        view.__name__ = fn.__name__
        bp.route(path, methods=["GET"], content_types=[FORM_TYPE, "application/json"])(view)
        return view

    return decorate


@pdf_page("/applications/{request_id}/journal.pdf", role="citizen")
def journal(visit: Visit, request_id: str) -> tuple[bytes, str]:
    return journal_pdf.render(views.detail(visit.user_id, request_id)), f"journal-{request_id}.pdf"
