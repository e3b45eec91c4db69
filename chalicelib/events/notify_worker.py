"""SQS `notify` consumer: renders and sends the messages an event calls for, once per event id."""

from __future__ import annotations

import json
import logging
from typing import Any

from chalicelib.adapters.outgoing import send_email, send_sms
from chalicelib.core import clock
from chalicelib.identity.users import contacts
from chalicelib.notify import inbox
from chalicelib.notify.messages import messages_for
from chalicelib.notify.render import render
from chalicelib.store import keys, table
from chalicelib.store.table import ConditionFailed

log = logging.getLogger("kabinet.notify")
CONSUMER = "notify"
CLAIM_TTL = 7 * 24 * 3600


class _Lookups:
    def login_taken(self, kind: str, value: str) -> bool:
        return table.get(keys.login_alias(kind, value)) is not None

    def contacts(self, user_id: str) -> dict[str, Any] | None:
        user = table.get(keys.user(user_id), consistent=False)
        return contacts(user) if user else None


def _claim(event_id: str) -> bool:
    pk, sk = keys.processed(event_id, CONSUMER)
    try:
        table.put({"pk": pk, "sk": sk, "ttl": clock.epoch() + CLAIM_TTL}, cond="attribute_not_exists(pk)")
    except ConditionFailed:
        return False
    return True


def process(event: dict[str, Any]) -> None:
    if not _claim(event["id"]):
        return  # already delivered: SNS and SQS deliver at least once
    try:
        for message in messages_for(event, _Lookups()):
            subject, text = render(message)
            if message.channel == "inbox":
                inbox.deliver(message.to, event, subject or "", text)
            elif message.channel == "sms":
                send_sms(message.to, text)
            else:
                send_email(message.to, subject or "", text)
    except Exception:
        table.delete(keys.processed(event["id"], CONSUMER))  # let the retry deliver it
        raise


def handle_batch(records: list[dict[str, Any]]) -> dict[str, Any]:
    """Lambda SQS batch → partial failures by message id (ReportBatchItemFailures)."""
    failures = []
    for record in records:
        try:
            process(json.loads(record["body"]))
        except Exception:
            log.exception("notify failed for message %s", record.get("messageId"))
            failures.append({"itemIdentifier": record["messageId"]})
    return {"batchItemFailures": failures}
