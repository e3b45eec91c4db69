"""The calendar (NT-5): `/me/calendar` as JSON, CSV and iCalendar, reminder settings, the private subscription
URL, and its public feed (the token is the credential: calendar apps poll without signing in)."""

from __future__ import annotations

from typing import Any

from chalice import Blueprint, Response

from chalicelib.api.http import Call, Content, endpoint
from chalicelib.calendar import settings, views
from chalicelib.calendar.models import (
    CalendarOut,
    CalendarQuery,
    CalendarSettingsIn,
    CalendarSettingsOut,
    CalendarSubscriptionOut,
)

bp = Blueprint(__name__)
PERIOD = {"from": "не позже даты «по»"}
ICS = "text/calendar; charset=utf-8"


def _query(call: Call) -> dict[str, Any]:
    return views.query_of(call.query)


def _file(body: str | bytes, media_type: str, name: str) -> Response:
    return Response(body=body, status_code=200, headers={
        "Content-Type": media_type, "Content-Disposition": f'attachment; filename="{name}"',
        "Cache-Control": "no-store"})


@endpoint(bp, "GET", "/me/calendar", summary="Dated things in date order: deadlines, due dates, expiries",
          query=CalendarQuery, response=CalendarOut, checked=PERIOD, tag="calendar")
def calendar(call: Call) -> dict[str, Any]:
    return views.listing(call.user_id, _query(call))


@endpoint(bp, "GET", "/me/calendar.csv", summary="The calendar as CSV (UTF-8, «;»), with the list's filters",
          query=CalendarQuery, response=Content("text/csv", description="CSV в UTF-8 с BOM, разделитель «;»"),
          checked=PERIOD, tag="calendar")
def calendar_csv(call: Call) -> Response:
    return _file(views.csv_text(call.user_id, _query(call)), "text/csv; charset=utf-8", "calendar.csv")


@endpoint(bp, "GET", "/me/calendar.ics", summary="The calendar as iCalendar (RFC 5545), with the list's filters",
          query=CalendarQuery, response=Content("text/calendar", description="iCalendar: VTIMEZONE Europe/Moscow, "
                                                "VALARM для напоминаний"), checked=PERIOD, tag="calendar")
def calendar_ics(call: Call) -> Response:
    return _file(views.ics_bytes(call.user_id, _query(call)).decode(), ICS, "calendar.ics")


@endpoint(bp, "GET", "/me/calendar/settings", summary="Reminders per category: on or off, days before, channel",
          response=CalendarSettingsOut, tag="calendar")
def get_settings(call: Call) -> dict[str, Any]:
    return settings.view(call.user_id)


@endpoint(bp, "PUT", "/me/calendar/settings", summary="Change the reminders of the categories given",
          body=CalendarSettingsIn, response=CalendarSettingsOut, tag="calendar")
def put_settings(call: Call, body: CalendarSettingsIn) -> dict[str, Any]:
    return settings.update(call.user_id, body.model_dump(exclude_none=True), call.origin)


@endpoint(bp, "POST", "/me/calendar/subscription", summary="A new private URL for calendar apps (the old stops)",
          response=CalendarSubscriptionOut, status=201, tag="calendar")
def subscribe(call: Call) -> dict[str, Any]:
    return settings.subscribe(call.user_id, call.origin)


@endpoint(bp, "DELETE", "/me/calendar/subscription", summary="Revoke the private URL: it answers 404 from now on",
          status=204, tag="calendar")
def unsubscribe(call: Call) -> None:
    settings.unsubscribe(call.user_id, call.origin)


@endpoint(bp, "GET", "/ical/{token}", summary="The subscription feed: the token is the credential",
          auth=False, response=Content("text/calendar", description="iCalendar, как /me/calendar.ics"),
          path_schemas={"token": {"type": "string", "pattern": r"^[A-Za-z0-9_-]{43}\.ics$"}}, tag="calendar")
def feed(call: Call, token: str) -> Response:
    secret = token.removesuffix(".ics")
    return _file(views.ics_bytes(settings.subscriber(secret)).decode(), ICS, "calendar.ics")
