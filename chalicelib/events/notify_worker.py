"""SQS `notify` consumer: renders and sends the messages an event calls for, once per event id."""

from __future__ import annotations

import logging
from typing import Any

from chalicelib.adapters.outgoing import send_email, send_sms
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
        elif message.channel == "sms":
            send_sms(message.to, text)
        else:
            send_email(message.to, subject or "", text)
        sent += 1
    return sent


def handle_batch(records: list[dict[str, Any]]) -> dict[str, Any]:
    return batch.consume(records, CONSUMER, process, lease=LEASE)
