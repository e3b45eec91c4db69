"""«Календарь» in the browser (NT-5): the person's dated things with a colour and a label per category, filters,
CSV and iCalendar downloads, the private subscription URL (made and revoked here) and the reminder settings.

The same domain calls as chalicelib/api/calendar.py; pages live under `/calendar…` (the API under `/me/calendar…`
and the public feed under `/ical/…`, which is not a page). A new subscription URL is shown once, on the
page the POST answers: only its hash is kept.
"""

from __future__ import annotations

import contextlib
import urllib.parse
from typing import Any

from chalice import Blueprint
from pydantic import ValidationError

from chalicelib.calendar import items, settings, views
from chalicelib.calendar.models import CalendarSettingsIn
from chalicelib.core.errors import DomainError
from chalicelib.web.pages import Download, Page, Redirect, Visit, attempt, form_errors, invalid, page

bp = Blueprint(__name__)
FILTERS = ("category", "from", "to")
LABELS = {"application": "Заявления", "payment": "Платежи и штрафы", "document": "Документы",
          "password": "Пароль", "esign": "Электронная подпись", "appointment": "Приёмы"}


def _chosen(visit: Visit) -> dict[str, str]:
    return {k: visit.query.get(k, "").strip() for k in FILTERS}


def _context(visit: Visit) -> dict[str, Any]:
    chosen = _chosen(visit)
    plain = urllib.parse.urlencode({k: v for k, v in chosen.items() if v})
    suffix = f"?{plain}" if plain else ""
    return {"active": "calendar", "chosen": chosen, "errors": None, "items": [], "labels": LABELS,
            "titles": items.CATEGORIES, "channels": settings.CHANNELS, "max_days": settings.MAX_DAYS_BEFORE,
            "exports": {"csv": f"/calendar/export.csv{suffix}", "ics": f"/calendar/export.ics{suffix}"},
            "new_url": None, "saved": visit.query.get("saved") == "1", "settings_errors": None}


def _show(visit: Visit, context: dict[str, Any], status: int = 200) -> Page:
    current = settings.view(visit.user_id)
    context.update({"reminders": current["reminders"], "subscribed": current["subscribed"]})
    if context["errors"] is None:
        query = attempt(visit, context, lambda: views.query_of({k: v for k, v in context["chosen"].items() if v}))
        if query is not None:
            context["items"] = views.listing(visit.user_id, query)["items"]
    return Page("calendar.html", context, 400 if context["errors"] or context["settings_errors"] else status)


@page(bp, "/calendar", role="citizen")
def calendar_page(visit: Visit) -> Page:
    return _show(visit, _context(visit))


def _export(visit: Visit, fmt: str) -> Page | Download:
    try:
        query = views.query_of({k: v for k, v in _chosen(visit).items() if v})
    except (ValidationError, DomainError) as exc:
        errors = invalid(exc, visit.lang) if isinstance(exc, ValidationError) else form_errors(exc, visit.lang)
        return _show(visit, {**_context(visit), "errors": errors})
    if fmt == "csv":
        return Download(views.csv_text(visit.user_id, query), "text/csv; charset=utf-8", "calendar.csv")
    return Download(views.ics_bytes(visit.user_id, query).decode(), "text/calendar; charset=utf-8", "calendar.ics")


@page(bp, "/calendar/export.csv", role="citizen")
def export_csv(visit: Visit) -> Page | Download:
    return _export(visit, "csv")


@page(bp, "/calendar/export.ics", role="citizen")
def export_ics(visit: Visit) -> Page | Download:
    return _export(visit, "ics")


@page(bp, "/calendar/subscription", methods=("POST",), role="citizen")
def subscribe(visit: Visit) -> Page:
    """The new URL is on this answer only (it is not stored); the old one stops working."""
    context = _context(visit)
    context["new_url"] = settings.subscribe(visit.user_id, visit.origin)["url"]
    return _show(visit, context, 201)


@page(bp, "/calendar/subscription/revoke", methods=("POST",), role="citizen")
def unsubscribe(visit: Visit) -> Redirect:
    with contextlib.suppress(DomainError):  # already revoked (another tab): the page shows there is none
        settings.unsubscribe(visit.user_id, visit.origin)
    return Redirect("/calendar")


def _form(visit: Visit) -> dict[str, Any]:
    """The settings form: a checkbox (absent: off), a number of days and a channel per category."""
    body: dict[str, Any] = {}
    for category in items.CATEGORIES:
        if f"{category}.days_before" not in visit.form and f"{category}.channel" not in visit.form:
            continue  # not on the form sent: unchanged
        days = visit.form.get(f"{category}.days_before", "").strip()
        body[category] = {"enabled": visit.form.get(f"{category}.enabled") == "on",
                          "days_before": int(days) if days.isdigit() and len(days) < 4 else days,
                          "channel": visit.form.get(f"{category}.channel", "")}
    return body


@page(bp, "/calendar/settings", methods=("POST",), role="citizen")
def save_settings(visit: Visit) -> Page | Redirect:
    context = _context(visit)
    done = attempt(visit, context, lambda: settings.update(
        visit.user_id, CalendarSettingsIn.model_validate(_form(visit)).model_dump(exclude_none=True), visit.origin))
    if done is None:
        context["settings_errors"], context["errors"] = context["errors"], None
        return _show(visit, context)
    return Redirect("/calendar?saved=1#reminders")
