"""SQS `notify` consumer: renders and sends the messages an event calls for, once per event id."""

from __future__ import annotations

import logging
from typing import Any

from chalicelib.adapters.outgoing import send_email, send_sms
from chalicelib.adapters.post import send_letter
from chalicelib.core import observability
from chalicelib.events import batch
from chalicelib.identity.users import contacts
from chalicelib.notify import inbox
from chalicelib.notify.messages import messages_for
from chalicelib.notify.render import render
from chalicelib.store import keys, table

log = logging.getLogger("kabinet.notify")
CONSUMER = "notify"
LEASE = 60  # at least the function's timeout (.chalice/config.json); the queue's visibility is 6× the timeout


class _Lookups:
    def login_taken(self, kind: str, value: str) -> bool:
        return table.get(keys.login_alias(kind, value)) is not None

    def contacts(self, user_id: str) -> dict[str, Any] | None:
        user = table.get(keys.user(user_id), consistent=False)
        return contacts(user) if user else None


def process(event: dict[str, Any]) -> int:
    sent = 0
    for message in messages_for(event, _Lookups()):
        subject, text = render(message)
        if message.channel == "inbox":
            inbox.deliver(message.to, event, subject or "", text)
        elif message.channel == "post":
            send_letter(message.to, _recipient(message.context), subject or "", text)
        else:
            _send(message.channel, message.to, subject or "", text)
        sent += 1
    return sent


def _recipient(context: dict[str, Any]) -> str:
    return " ".join(p for p in (context.get("last_name"), context.get("first_name"), context.get("middle_name")) if p)


def _send(channel: str, to: str, subject: str, text: str) -> None:
    """An SMS or e-mail, counted as sent or failed (a failure fails the event: SQS redelivers it)."""
    try:
        if channel == "sms":
            send_sms(to, text)
        else:
            send_email(to, subject, text)
    except Exception:
        observability.count(observability.NOTIFICATION_FAILED)
        raise
    observability.count(observability.NOTIFICATION_SENT)


def handle_batch(records: list[dict[str, Any]]) -> dict[str, Any]:
    return batch.consume(records, CONSUMER, process, lease=LEASE)
