"""Outbox events and audit entries, added to the same transaction as the change they describe."""

from __future__ import annotations

from typing import Any

from chalicelib.core import clock
from chalicelib.core.ids import new_id
from chalicelib.events.catalog import EventType
from chalicelib.store import keys
from chalicelib.store.table import Tx

OUTBOX_TTL = 24 * 3600


def emit(tx: Tx, event: EventType, subject: str, data: dict[str, Any]) -> str:
    """Queue a domain event of the catalog; the stream publisher sends it to SNS after the commit (AU-13, NT-2)."""
    event.check(data)
    event_id = new_id()
    pk, sk = keys.outbox(event_id)
    at = clock.iso(clock.now())
    tx.put({"pk": pk, "sk": sk, "id": event_id, "type": event.name, "subject": subject, "at": at,
            "data": data, "gsi1pk": keys.OUTBOX_INDEX, "gsi1sk": keys.outbox_sort(at, event_id),
            "ttl": clock.epoch() + OUTBOX_TTL})
    return event_id


def audit(tx: Tx, subject: str, action: str, actor: str, ip: str | None, **details: Any) -> None:
    """An activity-journal entry (AU-13): who did what, when, from where."""
    pk, sk = keys.audit(subject, new_id())
    tx.put({"pk": pk, "sk": sk, "action": action, "actor": actor, "ip": ip, "at": clock.iso(clock.now()),
            "details": details or None})
