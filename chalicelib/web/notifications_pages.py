"""Настройки уведомлений (NT-1, NT-3): type × channel, frequency, application filters, quiet hours and the time
zone, a test notice; and the page of an e-mail's unsubscribe link, which works without signing in and asks
before it switches anything off (the one-click POST of mail programs is the API's
`POST /mail/unsubscribe`)."""

from __future__ import annotations

from typing import Any

from chalice import Blueprint
from pydantic import ValidationError

from chalicelib.api.errors import status_of
from chalicelib.core.errors import DomainError
from chalicelib.notify import preferences, types, unsubscribe
from chalicelib.notify.models import ZONES, NotificationSettingsIn, TestIn
from chalicelib.notify.types import CHANNEL_TITLES
from chalicelib.web.pages import Page, Redirect, Visit, attempt, form_errors, page

bp = Blueprint(__name__)
STATUSES = ("submitted", "in_progress", "awaiting_documents", "approved", "rejected", "cancelled")
CATEGORIES = ("Документы", "Оплата", "Заявления", "Справки")
FREQUENCY_TITLES = {"immediately": "Сразу", "daily": "Сводкой раз в день", "weekly": "Сводкой раз в неделю"}


def _context(visit: Visit, current: dict[str, Any], **extra: Any) -> dict[str, Any]:
    from chalicelib.applications.statuses import TITLES as STATUS_TITLES

    return {"active": "inbox", "settings": current, "channels": CHANNEL_TITLES, "frequencies": FREQUENCY_TITLES,
            "statuses": {s: STATUS_TITLES[s] for s in STATUSES}, "categories": CATEGORIES, "zones": ZONES,
            "saved": visit.query.get("saved") == "1", "tested": visit.query.get("tested", ""), "errors": None,
            **extra}


@page(bp, "/notifications/settings")
def settings_page(visit: Visit) -> Page:
    return Page("notifications_settings.html", _context(visit, preferences.read(visit.user_id)))


def _body(form: dict[str, str]) -> dict[str, Any]:
    kinds = {t: {"channels": {c: form.get(f"{t}.{c}") == "on" for c in types.CHANNELS},
                 "frequency": form.get(f"{t}.frequency", "immediately")}
             for t in types.TITLES if t not in types.LOCKED}
    return {"types": kinds,
            "filters": {"statuses": [s for s in STATUSES if form.get(f"status.{s}") == "on"],
                        "categories": [c for c in CATEGORIES if form.get(f"category.{c}") == "on"]},
            "quiet_hours": {"enabled": form.get("quiet") == "on", "start": form.get("quiet_start", ""),
                            "end": form.get("quiet_end", "")},
            "time_zone": form.get("time_zone", "")}


@page(bp, "/notifications/settings", methods=("POST",))
def save(visit: Visit) -> Page | Redirect:
    context = _context(visit, preferences.read(visit.user_id))

    def action() -> None:
        body = NotificationSettingsIn.model_validate(_body(visit.form), strict=False).model_dump()
        preferences.update(visit.user_id, body, visit.origin.ip)

    if attempt(visit, context, action) is None and context["errors"]:
        return Page("notifications_settings.html", context, 400)
    return Redirect("/notifications/settings?saved=1")


@page(bp, "/notifications/test", methods=("POST",))
def test(visit: Visit) -> Page | Redirect:
    context = _context(visit, preferences.read(visit.user_id))
    try:
        kind = TestIn.model_validate({"type": visit.form.get("type", "system")}).type
        preferences.send_test(visit.user_id, kind, visit.origin.ip)
    except ValidationError:
        context["errors"] = {"message": "Выберите раздел", "fields": {}}
        return Page("notifications_settings.html", context, 400)
    except DomainError as exc:
        context["errors"] = form_errors(exc, visit.lang)
        return Page("notifications_settings.html", context, status_of(exc))
    return Redirect(f"/notifications/settings?tested={kind}")


@page(bp, "/unsubscribe", auth=False)
def unsubscribe_page(visit: Visit) -> Page:
    token = visit.query.get("token", "")
    try:
        what = unsubscribe.read(token)
    except DomainError:
        return Page("unsubscribe.html", {"what": None, "token": "", "done": False}, 400)
    return Page("unsubscribe.html", {"what": what, "token": token, "done": False})


@page(bp, "/unsubscribe", methods=("POST",), auth=False)
def unsubscribe_confirm(visit: Visit) -> Page:
    token = visit.form.get("token", "")
    try:
        what = unsubscribe.apply(token, visit.origin.ip)
    except DomainError:
        return Page("unsubscribe.html", {"what": None, "token": "", "done": False}, 400)
    return Page("unsubscribe.html", {"what": what, "token": "", "done": True})
