"""SQS `notify` consumer: decides, records and sends the messages an event calls for, once per event id.

Per event: the person's account item is read once (contacts, settings, unreachable marks; cached for the batch),
every message is rendered first (a template missing a field fails the event before anything is sent), and one
transaction writes the inbox message, the delivery items (`attribute_not_exists`: nothing twice) and any held
digest entries. Then each immediate delivery goes to its provider (chalicelib/notify/deliveries.py).
"""

from __future__ import annotations

import logging
from typing import Any

from chalicelib.adapters.post import send_letter
from chalicelib.core import clock
from chalicelib.events import batch
from chalicelib.identity.users import contacts
from chalicelib.notify import deliveries, digests, inbox, preferences, types, unsubscribe
from chalicelib.notify.messages import Message, messages_for
from chalicelib.notify.render import render, version
from chalicelib.store import keys, table
from chalicelib.store.table import ConditionFailed, Tx

log = logging.getLogger("kabinet.notify")
CONSUMER = "notify"
LEASE = 60  # at least the function's timeout (.chalice/config.json); the queue's visibility is 6× the timeout


class _Lookups:
    """What the rules and the worker read, once per batch."""

    def __init__(self) -> None:
        self._users: dict[str, dict[str, Any] | None] = {}

    def login_taken(self, kind: str, value: str) -> bool:
        return table.get(keys.login_alias(kind, value)) is not None

    def user(self, user_id: str) -> dict[str, Any] | None:
        if user_id not in self._users:
            self._users[user_id] = table.get(keys.user(user_id), consistent=False)
        return self._users[user_id]

    def contacts(self, user_id: str) -> dict[str, Any] | None:
        user = self.user(user_id)
        return contacts(user) if user else None


_batch_lookups: _Lookups | None = None


def process(event: dict[str, Any], lookups: _Lookups | None = None) -> int:
    lookups = lookups or _batch_lookups or _Lookups()
    data = event.get("data") or {}
    user_id = data.get("user_id")
    user = lookups.user(user_id) if user_id else None
    prefs = preferences.effective(user) if user else None
    notice_type = types.of(event)
    now = clock.now()
    rendered = [(m, *render(m), version(m.template)) for m in _with_push(messages_for(event, lookups), user)]
    note: tuple[str, str] | None = None
    planned: list[dict[str, Any]] = []
    held: list[str] = []
    held_title = ""
    for message, subject, text, ver in rendered:
        if message.channel == "post":
            send_letter(message.to, _recipient(message.context), subject or "", text)
            continue
        decision = (preferences.decide(prefs, notice_type, message.channel, data, now) if prefs
                    else preferences.Decision("send"))
        if decision.action == "skip":
            continue
        if message.channel == "inbox":
            note = (subject or "", text)
            continue
        if decision.action == "hold":
            held.append(message.channel)
            held_title = subject or held_title
            continue
        planned += _deliveries(event, user, message, subject or "", text, ver, notice_type, decision, now)
    _record(event, user_id if user else None, note, planned, held, held_title,
            preferences.frequency_of(prefs, notice_type, data) if prefs else "immediately")
    for item in planned:
        if deliveries.immediate(item):
            deliveries.dispatch(item)
    return len(planned) + (1 if note else 0)


def _with_push(messages: list[Message], user: dict[str, Any] | None) -> list[Message]:
    """A push to each of the person's devices goes with every notice that reaches the inbox."""
    if not user or int(user.get("push_devices", 0)) <= 0:
        return messages
    for m in messages:
        if m.channel == "inbox":
            return [*messages, Message("push", m.to, m.template, m.context)]
    return messages


def _deliveries(event: dict[str, Any], user: dict[str, Any] | None, message: Message, subject: str, text: str,
                ver: int, notice_type: str, decision: preferences.Decision, now: Any) -> list[dict[str, Any]]:
    user_id = user["user_id"] if user else None
    common = {"subject": subject, "text": text, "template": message.template, "version": ver,
              "notice_type": notice_type, "when": decision.when}
    if message.channel == "push":
        from chalicelib.notify import devices

        return [deliveries.new(user_id, event, "push", device_id, endpoint=arn, **common)
                for device_id, arn in devices.endpoints(message.to)]
    if user and preferences.unreachable(user, message.channel, message.to, now):
        return [deliveries.new(user_id, event, message.channel, message.to, status="permanent-failure",
                               detail="contact unreachable", **common)]
    links = unsubscribe.links(user_id, notice_type) if user_id and message.channel == "email" else None
    return [deliveries.new(user_id, event, message.channel, message.to, unsubscribe=list(links) if links else None,
                           **common)]


def _record(event: dict[str, Any], user_id: str | None, note: tuple[str, str] | None,
            planned: list[dict[str, Any]], held: list[str], held_title: str, frequency: str) -> None:
    """One transaction for the whole event; a redelivery finds it written and resends only what never left."""
    tx = Tx()
    if note and user_id:
        inbox.add(tx, user_id, event, *note)
    for item in planned:
        tx.put_new(item)
    if held and user_id:
        digests.hold(tx, user_id, event, frequency, held_title, held)
    if not tx.ops:
        return
    try:
        tx.commit()
    except ConditionFailed:
        stored = table.get_many([(i["pk"], i["sk"]) for i in planned])
        fresh = []
        for item, was in zip(planned, stored, strict=True):
            if was is None:
                try:
                    table.put(item, cond="attribute_not_exists(pk)")
                except ConditionFailed:
                    continue
                fresh.append(item)
            elif deliveries.reclaim(was):
                fresh.append(was)  # recorded, never sent: the run before stopped in between
        planned[:] = fresh
        log.info("event %s was recorded before; %d deliveries still to send", event["id"], len(planned))


def _recipient(context: dict[str, Any]) -> str:
    return " ".join(p for p in (context.get("last_name"), context.get("first_name"), context.get("middle_name")) if p)


def handle_batch(records: list[dict[str, Any]]) -> dict[str, Any]:
    global _batch_lookups
    _batch_lookups = _Lookups()
    try:
        return batch.consume(records, CONSUMER, process, lease=LEASE)
    finally:
        _batch_lookups = None
