"""Local-only helpers (stage `local`): read outgoing messages, run a schedule now. Not registered elsewhere."""

from __future__ import annotations

from typing import Any

from chalice import Blueprint

from chalicelib.api.http import Call, endpoint
from chalicelib.api.shapes import OutboxQuery, ScheduleRunOut, SentMessageOut
from chalicelib.core.errors import invalid, not_found
from chalicelib.events.scheduled import scheduled_event
from chalicelib.identity.contacts import normalize_email, normalize_phone
from chalicelib.store import keys, table

bp = Blueprint(__name__)


@endpoint(bp, "GET", "/dev/outbox", summary="Latest SMS and e-mails sent to a phone or address (local only)",
          auth=False, query=OutboxQuery, response=list[SentMessageOut], tag="dev",
          checked={"to": "телефон (пробелы и дефисы допустимы) или адрес электронной почты"})
def outbox(call: Call) -> list[dict[str, Any]]:
    raw = call.query.get("to", "")
    to = normalize_email(raw) if "@" in raw else normalize_phone(raw.replace(" ", "").replace("-", ""))
    if not to:
        raise invalid({"to": "Укажите телефон или адрес электронной почты"})
    page = table.query(keys.dev_outbox(to.lower()), keys.MESSAGES, limit=20, consistent=True)
    return [{k: item.get(k) for k in ("channel", "to", "subject", "text", "at", "headers")}
            for item in page.items]


SCHEDULES = ["outbox_sweeper", "password_expiry_reminder", "agency_simulator"]


@endpoint(bp, "POST", "/dev/schedules/{name}", summary="Run a schedule handler now (local only)",
          auth=False, response=ScheduleRunOut, tag="dev", path_schemas={"name": {"type": "string", "enum": SCHEDULES}})
def run_schedule(call: Call, name: str) -> dict[str, Any]:
    handler = bp.current_app.handler_map.get(name)
    if handler is None or name not in {s.name for s in bp.current_app.event_sources
                                         if hasattr(s, "schedule_expression")}:
        raise not_found("Расписание", neuter=True)
    result = handler(scheduled_event(name), None)
    return {"name": name, "result": result}
