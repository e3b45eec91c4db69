"""Each message's delivery (anchor: GOV.UK Notify): created → sending → delivered | temporary-failure |
permanent-failure | technical-failure.

- One item per (event, channel, address), created with `attribute_not_exists`: a redelivered SQS message sends
  nothing twice.
- Held messages (quiet hours, the carrier's hourly limit, a retry) wait in the sharded GSI1 `NOTIFYDUE#`
  partitions by due time; the 5-minute sweeper sends what is due, each claimed with a condition first.
- The providers' feedback (SES events, SNS SMS delivery status: chalicelib/events/feedback.py) finds a delivery by
  the provider's message id (GSI2) and moves it on. A temporary failure is retried with backoff for up to 72 hours;
  a permanent one marks the contact unreachable and tells the person in the inbox, once.
- The text is kept only until the status is final (it is needed to retry).
"""

from __future__ import annotations

import hashlib
import logging
from datetime import datetime, timedelta
from typing import Any

from chalicelib.core import clock, observability
from chalicelib.events import catalog as events
from chalicelib.store import journal, keys, table
from chalicelib.store.table import ConditionFailed, Tx

log = logging.getLogger("kabinet.notify")

STATUS_TITLES = {"created": "Ожидает отправки", "sending": "Отправлено", "delivered": "Доставлено",
                 "temporary-failure": "Временная ошибка доставки", "permanent-failure": "Не доставлено",
                 "technical-failure": "Техническая ошибка"}
FINAL = frozenset({"delivered", "permanent-failure", "technical-failure"})
BACKOFF = (300, 900, 3600, 3 * 3600, 6 * 3600, 12 * 3600, 24 * 3600)  # then a day apart, until 72 h are up
RETRY_FOR = timedelta(hours=72)
SMS_PER_HOUR, SMS_IDENTICAL_PER_HOUR = 100, 20  # per number: what the phone networks allow
CLAIM = 120  # seconds a sweeper owns a due delivery before another may take it


def mask(channel: str, to: str) -> str:
    """What the delivery log shows of a contact."""
    if channel == "sms" and len(to) >= 12:
        return f"+7 {to[2:5]} ***-**-{to[-2:]}"
    if channel == "email" and "@" in to:
        name, domain = to.split("@", 1)
        return f"{name[:2]}***@{domain}"
    return to


def new(user_id: str | None, event: dict[str, Any], channel: str, to: str, *, subject: str, text: str,
        template: str, version: int, notice_type: str, when: datetime | None = None,
        endpoint: str | None = None, unsubscribe: str | None = None, status: str = "created",
        detail: str | None = None) -> dict[str, Any]:
    """A delivery item, not yet written. `when` holds it until then (quiet hours)."""
    pk, sk = keys.delivery(user_id, event["id"], channel, to)
    at = clock.iso(clock.now())
    item: dict[str, Any] = {
        "pk": pk, "sk": sk, "event_id": event["id"], "user_id": user_id, "channel": channel, "to": to,
        "shown_to": mask(channel, to), "template": template, "version": version, "notice_type": notice_type,
        "status": status, "attempts": 0, "created_at": at, "updated_at": at, "subject": subject, "text": text,
        "endpoint": endpoint, "unsubscribe": unsubscribe, "detail": detail}
    if status in FINAL:
        item.pop("text"), item.pop("subject")
    if when is not None:
        _due(item, when)
    else:
        item["claim_until"] = clock.epoch() + CLAIM  # whoever writes it sends it; a crash frees it after CLAIM
    return item


def _due(item: dict[str, Any], when: datetime) -> None:
    at = clock.iso(when)
    shard = int(hashlib.sha256(item["sk"].encode()).hexdigest(), 16) % keys.NOTIFY_DUE_SHARDS
    item.update(next_at=at, gsi1pk=keys.notify_due_pk(shard), gsi1sk=keys.notify_due_sort(at, item["event_id"]))


def immediate(item: dict[str, Any]) -> bool:
    return item["status"] == "created" and not item.get("next_at")


def reclaim(item: dict[str, Any]) -> bool:
    """Take over a created delivery whose writer stopped before sending it (its claim ran out)."""
    if not immediate(item) or int(item.get("claim_until", 0)) >= clock.epoch():
        return False
    try:
        table.update((item["pk"], item["sk"]), "SET claim_until = :mine", cond="claim_until = :seen",
                     values={":mine": clock.epoch() + CLAIM, ":seen": item.get("claim_until", 0)})
    except ConditionFailed:
        return False
    return True


# -- sending ---------------------------------------------------------------------------------------------
def dispatch(item: dict[str, Any]) -> str:
    """Hand one created or retried delivery to its provider and record what happened; returns the new status."""
    from chalicelib.adapters.outgoing import Permanent, Technical, Temporary

    now = clock.now()
    if item["channel"] == "sms" and not _charge(item["to"], item["text"], now):
        hour = now.replace(minute=0, second=0, microsecond=0) + timedelta(hours=1)
        return _retry(item, hour, "carrier hourly limit", status=item["status"], attempt=False)
    try:
        provider_id = _send(item)
    except Temporary as exc:
        observability.count(observability.NOTIFICATION_FAILED)
        return _retry(item, None, str(exc) or "temporary failure", attempt=True)
    except Permanent as exc:
        observability.count(observability.NOTIFICATION_FAILED)
        return _final(item, "permanent-failure", str(exc) or "permanent failure")
    except Technical as exc:
        observability.count(observability.NOTIFICATION_FAILED)
        log.error("technical failure sending %s: %s", item["channel"], exc)
        return _final(item, "technical-failure", str(exc) or "technical failure")
    observability.count(observability.NOTIFICATION_SENT)
    status = "delivered" if item["channel"] == "push" else "sending"  # SNS reports no device delivery for push
    values = {":s": status, ":p": provider_id, ":g": keys.provider_message(provider_id),
              ":at": clock.iso(now), ":one": 1}
    expr = "SET #s = :s, provider_id = :p, gsi2pk = :g, gsi2sk = :at, updated_at = :at ADD attempts :one"
    expr += " REMOVE next_at, gsi1pk, gsi1sk" + (", #t, subject" if status in FINAL else "")
    table.update((item["pk"], item["sk"]), expr, names={"#s": "status", **({"#t": "text"} if status in FINAL
                                                                             else {})}, values=values)
    return status


def _send(item: dict[str, Any]) -> str:
    from chalicelib.adapters import outgoing
    from chalicelib.adapters.outgoing import Permanent

    if item["channel"] == "sms":
        return outgoing.send_sms(item["to"], item["text"])
    if item["channel"] == "email":
        return outgoing.send_email(item["to"], item.get("subject") or "", item["text"],
                                   unsubscribe=item.get("unsubscribe"))
    from chalicelib.adapters import push

    try:
        return push.send_push(item["endpoint"], item.get("subject") or "", item["text"],
                              {"event_id": item["event_id"], "type": item["notice_type"]})
    except push.EndpointGone as exc:
        from chalicelib.notify import devices

        devices.forget(item["user_id"], item["to"])
        raise Permanent("device endpoint disabled") from exc


def _charge(phone: str, text: str, now: datetime) -> bool:
    """Count one text against the number's hour; False when the carriers' limit is reached."""
    same = "n_" + hashlib.sha256(text.encode()).hexdigest()[:16]
    try:
        table.update(keys.sms_rate(phone, now.strftime("%Y-%m-%dT%H")),
                     "ADD sent :one, #same :one SET #ttl = :ttl",
                     cond="(attribute_not_exists(sent) OR sent < :all) AND "
                          "(attribute_not_exists(#same) OR #same < :identical)",
                     names={"#same": same, "#ttl": "ttl"},
                     values={":one": 1, ":all": SMS_PER_HOUR, ":identical": SMS_IDENTICAL_PER_HOUR,
                             ":ttl": clock.epoch() + 2 * 3600})
    except ConditionFailed:
        return False
    return True


def _retry(item: dict[str, Any], when: datetime | None, detail: str, status: str = "temporary-failure",
           attempt: bool = False) -> str:
    """Try again later: at `when`, or after the next backoff step; after 72 hours it stays a temporary failure.
    `attempt`: the failed try was not counted yet (the provider refused at once, rather than by feedback)."""
    now = clock.now()
    attempts = max(1, int(item.get("attempts", 0)) + (1 if attempt else 0))
    if when is None:
        when = now + timedelta(seconds=BACKOFF[min(attempts - 1, len(BACKOFF) - 1)])
    first = clock.from_iso(item["created_at"])
    if when > first + RETRY_FOR:
        return _final(item, "temporary-failure", detail, attempts=attempts)
    _due(item, when)
    table.update((item["pk"], item["sk"]),
                 "SET #s = :s, attempts = :n, next_at = :next, gsi1pk = :g, gsi1sk = :gs, updated_at = :at, "
                 "detail = :d", names={"#s": "status"},
                 values={":s": status, ":n": attempts, ":next": item["next_at"], ":g": item["gsi1pk"],
                         ":gs": item["gsi1sk"], ":at": clock.iso(now), ":d": detail})
    return status


def _final(item: dict[str, Any], status: str, detail: str, attempts: int | None = None) -> str:
    table.update((item["pk"], item["sk"]),
                 "SET #s = :s, attempts = :n, updated_at = :at, detail = :d REMOVE next_at, gsi1pk, gsi1sk, #t, "
                 "subject", names={"#s": "status", "#t": "text"},
                 values={":s": status, ":n": attempts if attempts is not None else int(item.get("attempts", 0)) + 1,
                         ":at": clock.iso(clock.now()), ":d": detail})
    if status == "permanent-failure" and item["channel"] in ("sms", "email") and item.get("user_id"):
        mark_unreachable(item["user_id"], item["channel"], item["to"])
    return status


def send_due(now: datetime | None = None, limit: int = 100) -> int:
    """The sweeper's part: every held delivery whose time has come, each claimed before it is sent."""
    now = now or clock.now()
    sent = 0
    for shard in range(keys.NOTIFY_DUE_SHARDS):
        page = table.query(keys.notify_due_pk(shard), index="GSI1", sk_between=("0", clock.iso(now) + "~"),
                           newest_first=False, limit=limit)
        for item in page.items:
            try:
                table.update((item["pk"], item["sk"]), "SET claim_until = :mine REMOVE gsi1pk, gsi1sk, next_at",
                             cond="gsi1sk = :seen", values={":seen": item["gsi1sk"],
                                                            ":mine": clock.epoch() + CLAIM})
            except ConditionFailed:
                continue  # another sweeper took it
            dispatch(item)
            sent += 1
    return sent


# -- the providers' feedback ---------------------------------------------------------------------------
def record_feedback(provider_id: str, channel: str, outcome: str, detail: str, at: str) -> bool:
    """Apply one provider report; False when it names no delivery we know or comes after a final status."""
    found = table.query(keys.provider_message(provider_id), index="GSI2", limit=1).items
    if not found:
        log.info("feedback for an unknown %s message", channel)
        return False
    item = found[0]
    if item["status"] in FINAL and not (outcome == "permanent-failure" and item["status"] == "delivered"
                                        and detail == "complaint"):
        return False
    if outcome == "delivered":
        table.update((item["pk"], item["sk"]), "SET #s = :s, updated_at = :at, detail = :d REMOVE #t, subject",
                     cond="provider_id = :p", names={"#s": "status", "#t": "text"},
                     values={":s": "delivered", ":at": at, ":d": detail, ":p": provider_id})
    elif outcome == "temporary-failure":
        _retry(item, None, detail)  # the failed try was counted when it was sent
    elif detail == "complaint":  # the person marked it as spam: no more e-mail of this type (not security)
        from chalicelib.notify import unsubscribe

        unsubscribe.switch_off(item["user_id"], item["notice_type"], "email", actor="provider")
    else:
        _final(item, outcome, detail, attempts=int(item.get("attempts", 1)))
    return True


def mark_unreachable(user_id: str, channel: str, to: str) -> None:
    """Note the contact on the account (the worker skips it for 30 days) and tell the person once, in the inbox."""
    user = table.get(keys.user(user_id), consistent=False)
    if user is None:
        return
    digest = keys.contact_hash(channel, to)
    if "unreachable" not in user:
        table.update(keys.user(user_id), "SET unreachable = if_not_exists(unreachable, :none)",
                     cond="attribute_exists(pk)", values={":none": {}})
    tx = Tx().update(keys.user(user_id), "SET unreachable.#h = :m",
                     cond="attribute_exists(pk) AND attribute_not_exists(unreachable.#h)", names={"#h": digest},
                     values={":m": {"channel": channel, "contact": mask(channel, to), "since": clock.iso(clock.now())}})
    journal.emit(tx, events.CONTACT_UNREACHABLE, keys.user_pk(user_id), {
        "user_id": user_id, "channel": channel, "contact": mask(channel, to), "first_name": user["first_name"]})
    try:
        tx.commit()
    except ConditionFailed:
        return  # marked before (or the account is gone)


def log_of(user_id: str, first_id: str, last_id: str) -> dict[str, list[dict[str, Any]]]:
    """The deliveries of the inbox page's messages (ids between first and last), by message: one Query."""
    lo, hi = sorted((first_id, last_id))
    page = table.query(keys.user_pk(user_id), sk_between=(f"{keys.DELIVERIES_PREFIX}{lo}",
                                                          f"{keys.DELIVERIES_PREFIX}{hi}#~"),
                       newest_first=False, limit=200)
    out: dict[str, list[dict[str, Any]]] = {}
    for d in page.items:
        out.setdefault(d["event_id"], []).append({
            "channel": d["channel"], "to": d["shown_to"], "status": d["status"],
            "status_title": STATUS_TITLES[d["status"]], "attempts": int(d.get("attempts", 0)),
            "updated_at": d["updated_at"], "next_attempt_at": d.get("next_at"),
            "template_version": int(d.get("version", 1))})
    return out
