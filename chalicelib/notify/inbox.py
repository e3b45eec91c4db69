"""In-app messages (NT-1): delivered by the notify worker, read in the personal account, with an unread count.

Each message is `MSG#<event id>` under the user, so a redelivered event writes nothing twice; the unread
counter (`MSG#~`) sorts after every message, so one newest-first Query returns the count and the page.
"""

from __future__ import annotations

from typing import Any

from chalicelib.core import clock
from chalicelib.core.config import settings
from chalicelib.core.errors import not_found
from chalicelib.core.ids import is_id
from chalicelib.notify import deliveries
from chalicelib.store import keys, table
from chalicelib.store.table import ConditionFailed, Tx

PAGE = 20
MESSAGE_FIELDS = ("id", "at", "type", "title", "text", "request_id", "number", "link", "read")


def add(tx: Tx, user_id: str, event: dict[str, Any], title: str, text: str) -> None:
    """The message and its unread count, in the worker's transaction (`attribute_not_exists`: once per event)."""
    data = event.get("data") or {}
    pk, sk = keys.message(user_id, event["id"])
    request_id = data.get("request_id")
    item = {"pk": pk, "sk": sk, "id": event["id"], "at": event["at"], "type": event["type"], "title": title,
            "text": text, "request_id": request_id, "number": data.get("number"), "read": False,
            "link": _link(event["type"], data)}
    tx.put_new(item, tag="delivered")
    tx.update(keys.inbox(user_id), "ADD unread :one", values={":one": 1})


def _link(event_type: str, data: dict[str, Any]) -> str | None:
    base = settings().public_url
    if data.get("request_id"):
        return f"{base}/applications/{data['request_id']}"
    return data.get("link") if isinstance(data.get("link"), str) else None


def messages(user_id: str, cursor: str | None) -> dict[str, Any]:
    page = table.query(keys.user_pk(user_id), keys.MESSAGES, cursor=cursor, limit=PAGE + (0 if cursor else 1))
    counter = next((i for i in page.items if i["sk"] == keys.inbox(user_id)[1]), None)
    if cursor:  # the counter sorts first, so only the first page carries it; later pages read it alone
        counter = table.get(keys.inbox(user_id), consistent=False)
    items = [{f: i.get(f) for f in MESSAGE_FIELDS} for i in page.items if i["sk"] != keys.inbox(user_id)[1]]
    log = deliveries.log_of(user_id, items[0]["id"], items[-1]["id"]) if items else {}
    for item in items:
        item["deliveries"] = log.get(item["id"], [])
    return {"unread": max(0, (counter or {}).get("unread", 0)), "items": items, "cursor": page.cursor}


def mark_read(user_id: str, message_id: str) -> None:
    if not is_id(message_id):
        raise not_found("Сообщение", neuter=True)
    tx = Tx().update(keys.message(user_id, message_id), "SET #read = :yes, read_at = :at",
                     cond="attribute_exists(pk) AND #read = :no", names={"#read": "read"},
                     values={":yes": True, ":no": False, ":at": clock.iso(clock.now())}, tag="unread")
    tx.update(keys.inbox(user_id), "ADD unread :minus", values={":minus": -1})
    try:
        tx.commit()
    except ConditionFailed:
        if table.get(keys.message(user_id, message_id)) is None:
            raise not_found("Сообщение", neuter=True) from None
        # already read: reading twice is fine
