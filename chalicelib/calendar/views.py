"""Reading the calendar (NT-5): the JSON list, CSV and iCalendar (RFC 5545), all from the one Query.

iCalendar is written by the `icalendar` library (imported on first export: ~200 ms): UIDs are a hash of the
owner and the item id (stable when a date moves, and not revealing the account id), DTSTAMP is when the item last
changed (no METHOD: RFC 5545 3.8.7.2), dates without a time are all-day events, moments carry TZID=Europe/Moscow
with its VTIMEZONE (always included), and an enabled reminder is a VALARM `days_before` before the start.
"""

from __future__ import annotations

import csv
import hashlib
import io
from datetime import date, timedelta
from typing import Any

from chalicelib.calendar import items
from chalicelib.calendar import settings as calendar_settings
from chalicelib.calendar.models import CalendarQuery
from chalicelib.core import clock
from chalicelib.core.config import settings as config
from chalicelib.core.errors import Invalid

TZID = "Europe/Moscow"
CSV_HEADER = ("Идентификатор", "Дата", "Время (МСК)", "Категория", "Что", "Ссылка", "Напоминание")


def query_of(raw: dict[str, str]) -> dict[str, str]:
    """The filters as the API and the page take them (ValidationError for a bad value; `from` after `to` is
    refused the way the other period filters are)."""
    query = CalendarQuery.model_validate(raw).model_dump(exclude_none=True)
    if query.get("day_from") and query.get("day_to") and query["day_from"] > query["day_to"]:
        raise Invalid("VALIDATION_ERROR", "Начало периода позже конца", {"from": "Позже даты «по»"})
    return {k: v for k, v in query.items() if v}


def _reminder(item: dict[str, Any], setting: dict[str, Any], today: date) -> dict[str, Any]:
    from chalicelib.calendar.reminders import reminder_day

    due = reminder_day(item, setting, today) if item.get("gsi1pk") else None  # out of the index: sent or off
    return {"enabled": setting["enabled"], "days_before": setting["days_before"], "channel": setting["channel"],
            **({"on": due} if due else {})}


def _view(item: dict[str, Any], setting: dict[str, Any], today: date) -> dict[str, Any]:
    out = {"id": item["id"], "category": item["category"], "category_title": items.CATEGORIES[item["category"]],
           "title": item["title"], "date": item["day"], "link": item["link"],
           "reminder": _reminder(item, setting, today)}
    if item.get("at"):
        out["time"] = clock.from_iso(item["at"]).astimezone(clock.MSK).strftime("%H:%M")
        out["at"] = item["at"]
    return out


def listing(user_id: str, query: dict[str, Any]) -> dict[str, Any]:
    """The person's items in date order with the reminder settings applied to each: one Query."""
    found, stored = items.read(user_id, query.get("day_from"), query.get("day_to"), query.get("category"))
    reminders = calendar_settings.reminders(stored)
    today = clock.moscow_today()
    return {"items": [_view(i, reminders[i["category"]], today) for i in found]}


def csv_text(user_id: str, query: dict[str, Any]) -> str:
    """UTF-8 with a BOM and `;` between fields, as the other exports (payments/exports.py)."""
    out = io.StringIO()
    out.write("\ufeff")
    writer = csv.writer(out, delimiter=";", lineterminator="\r\n")
    writer.writerow(CSV_HEADER)
    for i in listing(user_id, query)["items"]:
        r = i["reminder"]
        when = (f"за {r['days_before']} дн., {calendar_settings.CHANNELS[r['channel']]}" if r["enabled"]
                else "нет")
        writer.writerow([i["id"], date.fromisoformat(i["date"]).strftime("%d.%m.%Y"), i.get("time", ""),
                         i["category_title"], i["title"], config().public_url + i["link"], when])
    return out.getvalue()


def uid(user_id: str, item_id: str) -> str:
    return hashlib.sha256(f"{user_id}/{item_id}".encode()).hexdigest()[:32] + "@kabinet.gosuslugi"


def ics_bytes(user_id: str, query: dict[str, Any] | None = None) -> bytes:
    """The calendar as one VCALENDAR: what `/me/calendar.ics` and the subscription URL answer."""
    import zoneinfo

    import icalendar

    found, stored = items.read(user_id, (query or {}).get("day_from"), (query or {}).get("day_to"),
                               (query or {}).get("category"))
    reminders = calendar_settings.reminders(stored)
    moscow = zoneinfo.ZoneInfo(TZID)
    cal = icalendar.Calendar()
    cal.add("prodid", "-//Gosuslugi//Kabinet calendar//RU")
    cal.add("version", "2.0")
    cal.add("calscale", "GREGORIAN")
    cal.add("x-wr-calname", "Госуслуги: календарь")
    cal.add("x-wr-timezone", TZID)
    cal.add_component(icalendar.Timezone.from_tzid(TZID))
    for item in found:
        title = items.CATEGORIES[item["category"]]
        event = icalendar.Event()
        event.add("uid", uid(user_id, item["id"]))
        event.add("dtstamp", clock.from_iso(item["updated_at"]))
        if item.get("at"):
            event.add("dtstart", clock.from_iso(item["at"]).astimezone(moscow))
        else:
            event.add("dtstart", date.fromisoformat(item["day"]))
        event.add("summary", f"{title}: {item['title']}")
        event.add("categories", [title])
        event.add("url", config().public_url + item["link"])
        setting = reminders[item["category"]]
        if setting["enabled"]:
            alarm = icalendar.Alarm()
            alarm.add("action", "DISPLAY")
            alarm.add("description", f"{title}: {item['title']}")
            alarm.add("trigger", timedelta(days=-setting["days_before"]))
            event.add_component(alarm)
        cal.add_component(event)
    return bytes(cal.to_ical())


