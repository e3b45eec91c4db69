"""Catalog pages (SV-1..SV-3): the searchable catalog, a service's page, and its application form.

The same domain calls as GET /services, GET /services/{id}, GET /services/{id}/prefill and POST/PUT /requests
(chalicelib/api/catalog.py, applications.py). The catalog and a service's page are public, as in the API; the
form is a citizen's. The form is drawn from the service's JSON schema (chalicelib/web/forms.py) and saved as a
draft, a template, or submitted; the optional autosave (static/autosave.js) posts the same form to the same route.
"""

from __future__ import annotations

import urllib.parse
from typing import Any

from chalice import Blueprint
from pydantic import ValidationError

from chalicelib.applications import submission, templates, views
from chalicelib.applications.models import DraftIn, RequestIn, TemplateIn
from chalicelib.catalog import popularity, prefill, search, services
from chalicelib.core.errors import DomainError, Forbidden
from chalicelib.core.errors import invalid as refused
from chalicelib.documents import library
from chalicelib.identity.users import load_user
from chalicelib.web import forms
from chalicelib.web.pages import Page, Redirect, Visit, form_errors, invalid, page

bp = Blueprint(__name__)
SORT_TITLES = {"relevance": "По соответствию", "popularity": "По популярности", "updated": "Сначала обновлённые",
               "title": "По названию", "tier": "По уровню учётной записи"}
FILTERS = ("q", "category", "region", "max_days", "sort")
ACTIONS = ("submit", "draft", "autosave", "template", "from_template")


@page(bp, "/catalog", auth=False)
def catalog(visit: Visit) -> Page:
    chosen = {k: visit.query.get(k, "").strip() for k in FILTERS}
    context: dict[str, Any] = {"active": "catalog", "chosen": chosen, "categories": services.category_counts(),
                               "sorts": SORT_TITLES, "errors": None, "items": [], "total": 0, "more": None}
    try:
        found = search.search_query({**chosen, "cursor": visit.query.get("cursor", "")})
    except DomainError as exc:
        context["errors"] = form_errors(exc, visit.lang)
        return Page("catalog.html", context, 400)
    more = None
    if found["cursor"]:
        more = "/catalog?" + urllib.parse.urlencode({**{k: v for k, v in chosen.items() if v},
                                                     "cursor": found["cursor"]})
    context.update(items=found["items"], total=found["total"], more=more)
    return Page("catalog.html", context)


def _tier(visit: Visit, service: services.Service) -> dict[str, Any] | None:
    """The person's tier against the service's (None before signing in)."""
    if visit.principal is None:
        return None
    current = load_user(visit.user_id).get("tier") or "simplified"
    return {"required": service.tier, "current": current, "enough": services.tier_allows(current, service.tier),
            "required_title": services.TIER_TITLES[service.tier], "current_title": services.TIER_TITLES[current]}


@page(bp, "/catalog/{service_id}", auth=False)
def service_page(visit: Visit, service_id: str) -> Page:
    found = services.require(service_id)
    return Page("catalog_service.html", {"active": "catalog", "tier": _tier(visit, found),
                                         "service": services.detail(found, popularity.of(found.id))})


def _tier_page(visit: Visit, service: services.Service, tier: dict[str, Any]) -> Page:
    return Page("catalog_tier.html", {"active": "catalog", "service": services.detail(service, 0), "tier": tier}, 403)


def _ready_documents(user_id: str) -> list[dict[str, Any]]:
    return library.list_documents(user_id, {"status": "available"})["items"]


def _draft(visit: Visit, service: services.Service, draft_id: str) -> dict[str, Any] | None:
    """The person's own draft of this service, or None (a submitted one is not a form any more)."""
    if not draft_id:
        return None
    req = views.load_own(visit.user_id, draft_id)
    return req if req["status"] == "draft" and req["service_id"] == service.id else None


@page(bp, "/catalog/{service_id}/apply", methods=("GET", "POST"), role="citizen")
def apply(visit: Visit, service_id: str) -> Page | Redirect:
    service = services.require(service_id)
    tier = _tier(visit, service)
    assert tier is not None
    if not tier["enough"]:
        return _tier_page(visit, service, tier)
    draft_id = visit.form.get("draft_id") or visit.query.get("draft", "")
    draft = _draft(visit, service, draft_id)
    if visit.method == "GET":
        values = draft["params"] if draft else prefill.prefill(service, load_user(visit.user_id))["values"]
        attached = draft.get("attachments") or [] if draft else []
        notice = {"saved": "Черновик сохранён", "template": "Шаблон сохранён",
                  "started": "Черновик создан из шаблона"}.get(visit.query.get("done", ""))
        return _form_page(visit, service, values, attached, draft, notice=notice)
    return _post(visit, service, draft)


def _form_page(visit: Visit, service: services.Service, values: dict[str, Any], attached: list[str],
               draft: dict[str, Any] | None, errors: dict[str, Any] | None = None, notice: str | None = None,
               status: int = 200, template_name: str = "") -> Page:
    schema = service.form
    labels = {**forms.labels(schema), "attachments": visit._("Документы"), "template_name": visit._("Название шаблона")}
    if errors:  # "attachments.0" and the like point at the list of documents
        errors["fields"] = {("attachments" if k.startswith("attachments.") else k): v
                            for k, v in errors["fields"].items()}
    own = [t for t in templates.templates(visit.user_id) if t["service_id"] == service.id]
    return Page("application_form.html", {
        "active": "catalog", "service": services.detail(service, 0), "fields": forms.fields(schema, values),
        "labels": labels, "errors": errors, "notice": notice, "draft": draft, "attached": set(attached),
        "documents": _ready_documents(visit.user_id), "templates": own, "template_name": template_name}, status)


def _redirect(service: services.Service, draft_id: str, done: str) -> Redirect:
    return Redirect(f"/catalog/{service.id}/apply?" + urllib.parse.urlencode({"draft": draft_id, "done": done}))


def _save(visit: Visit, service: services.Service, draft: dict[str, Any] | None, body: DraftIn) -> str:
    """The draft saved through the same calls as POST /requests (draft) and PUT /requests/{id}; its id."""
    assert visit.principal is not None
    if draft:
        submission.update_draft(visit.principal, draft["id"], body, visit.origin)
        return str(draft["id"])
    created = submission.create(visit.principal, RequestIn(type=service.id, params=body.params,
                                                           attachments=body.attachments, draft=True), visit.origin)
    return str(created["id"])


def _template_name(text: str) -> str:
    """TemplateIn's rule, reported on the page's own input (`template_name`, not the API's `name`)."""
    try:
        return TemplateIn.model_validate({"name": text}).name
    except ValidationError:
        raise refused({"template_name": "Название шаблона: от 1 до 100 символов"}) from None


def _post(visit: Visit, service: services.Service, draft: dict[str, Any] | None) -> Page | Redirect:
    assert visit.principal is not None
    action = visit.form.get("action", "submit")
    values = forms.params(service.form, visit.form)
    attached = [a for a in visit.lists.get("attachments", []) if a]
    template_name = visit.form.get("template_name", "").strip()
    try:
        if action == "from_template":
            created = submission.create(visit.principal, RequestIn.model_validate(
                {"template_id": visit.form.get("template_id", ""), "draft": True}), visit.origin)
            return _redirect(service, created["id"], "started")
        body = DraftIn.model_validate({"params": values, "attachments": attached})
        if action in ("draft", "autosave"):
            return _redirect(service, _save(visit, service, draft, body), "saved")
        if action == "template":
            name = _template_name(template_name)
            draft_id = _save(visit, service, draft, body)
            templates.save_template(visit.principal, draft_id, name, visit.origin)
            return _redirect(service, draft_id, "template")
        if draft:
            submission.update_draft(visit.principal, draft["id"], body, visit.origin)
            created = submission.submit_draft(visit.principal, draft["id"], visit.origin)
        else:
            created = submission.create(visit.principal, RequestIn(type=service.id, params=body.params,
                                                                   attachments=body.attachments), visit.origin)
        return Redirect(f"/applications/{created['id']}?done=submitted")
    except ValidationError as exc:
        errors = invalid(exc, visit.lang)
    except Forbidden as exc:
        if exc.code == "TIER_REQUIRED":
            tier = _tier(visit, service)
            assert tier is not None
            return _tier_page(visit, service, tier)
        raise
    except DomainError as exc:
        errors = form_errors(exc, visit.lang)
    return _form_page(visit, service, values, attached, draft, errors, status=400, template_name=template_name)
