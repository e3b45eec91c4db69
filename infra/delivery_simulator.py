"""The local providers' delivery feedback (stage `local` only; docs/delivery-feedback.md): what SES and SNS would
say about each message, decided by the address, emitted after a short delay in exactly AWS's shapes.

The sender calls `sent(channel, provider_id, to, at)` right after SES or SNS accepted a message (stage local).
Each piece of feedback becomes a table item under `DELIVSIM#<provider id>` with its due time in the GSI1
partition `DELIVSIMDUE` (store/keys.py), so every process of the local cloud sees the same schedule. The pump's
`pump_feedback` step calls `deliver_due`: an e-mail's SES event is published to the `delivery-feedback` topic
(SNS → the `feedback` queue → the function, as on AWS); an SMS's delivery-status line is wrapped as a CloudWatch
Logs subscription would wrap it (gzip + base64 `awslogs.data`) and handed to the function directly, retried like
an asynchronous invocation.

Outcomes by address (everything else is delivered):

    e-mail @bounce.kabinet.test     Bounce Permanent/General (hard bounce)        → permanent-failure
    e-mail @soft.kabinet.test       Bounce Transient/MailboxFull, every time       → temporary-failure
    e-mail @soft1.kabinet.test      Bounce Transient on the first send to the address, delivered afterwards
    e-mail @complaint.kabinet.test  Delivery, then a Complaint (abuse)             → delivered, then permanent-failure
    e-mail @reject.kabinet.test     Reject ("Bad content")                         → technical-failure
    SMS    +79995550001             FAILURE "Unknown subscriber"                   → permanent-failure
    SMS    +79995550002             FAILURE "Phone is currently unreachable/unavailable", every time → temporary
    SMS    +79995550003             FAILURE "This delivery would exceed max price" → technical-failure
    SMS    +79995550004             "Phone is currently unreachable/unavailable" the first time, delivered afterwards

Delays: `KABINET_DELIVERY_FEEDBACK_DELAY` seconds, "0.2-1" by default (a range: each message's own delay is
chosen within it from its provider id, so a run repeats), "0" in tests; a complaint comes one more delay later.
"""

from __future__ import annotations

import base64
import gzip
import hashlib
import json
import logging
import os
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from chalicelib.core import clock
from chalicelib.core.aws import client
from chalicelib.core.config import settings
from chalicelib.store import keys, table
from chalicelib.store.table import ConditionFailed
from infra.functions import ASYNC_RETRIES

log = logging.getLogger("kabinet.delivery_simulator")

DELAY_ENV = "KABINET_DELIVERY_FEEDBACK_DELAY"
DEFAULT_DELAY = (0.2, 1.0)
ATTEMPTS = 1 + ASYNC_RETRIES  # an SMS status the function failed on: Lambda's asynchronous retries
RETRY_AFTER_MS = 1000
KEEP = 24 * 3600  # the simulator's items expire (TTL) after a day
SMS_LOG_GROUP = "DirectPublishToPhoneNumber"  # infra/functions.py subscribes to both groups of this name
MTA = "a7-12.smtp-out.eu-central-1.amazonses.com"

EMAIL_DOMAINS = {"bounce.kabinet.test": "bounce", "soft.kabinet.test": "soft-bounce",
                 "soft1.kabinet.test": "soft-bounce-once", "complaint.kabinet.test": "complaint",
                 "reject.kabinet.test": "reject"}
PHONES = {"9995550001": "unknown-subscriber", "9995550002": "unreachable", "9995550003": "technical",
          "9995550004": "unreachable-once"}
ONCE = {"soft-bounce-once": "soft-bounce", "unreachable-once": "unreachable"}  # what the first send gets

# Each scenario's feedback, in order: an SES event type (with its detail) or an SMS (status, providerResponse).
EMAIL_FEEDBACK: dict[str, list[tuple[str, str]]] = {
    "delivered": [("Delivery", "")],
    "bounce": [("Bounce", "Permanent")],
    "soft-bounce": [("Bounce", "Transient")],
    "complaint": [("Delivery", ""), ("Complaint", "")],
    "reject": [("Reject", "")],
}
SMS_FEEDBACK: dict[str, tuple[str, str]] = {
    "delivered": ("SUCCESS", "Message has been accepted by phone carrier"),
    "unknown-subscriber": ("FAILURE", "Unknown subscriber"),
    "unreachable": ("FAILURE", "Phone is currently unreachable/unavailable"),
    "technical": ("FAILURE", "This delivery would exceed max price"),
}


def scenario_of(channel: str, to: str) -> str:
    """The address's pattern, before "first send" is taken into account (pure: the documented table above)."""
    if channel == "email":
        return EMAIL_DOMAINS.get(to.strip().lower().rsplit("@", 1)[-1], "delivered")
    if channel == "sms":
        digits = "".join(ch for ch in to if ch.isdigit())
        return PHONES.get(digits[-10:], "delivered") if len(digits) >= 10 else "delivered"
    raise ValueError(f"unknown channel {channel!r}")


def choose(channel: str, to: str, *, first: bool) -> str:
    """The outcome of this send: `first` says whether the address had no message from the simulator before."""
    pattern = scenario_of(channel, to)
    if pattern in ONCE:
        return ONCE[pattern] if first else "delivered"
    return pattern


def delays() -> tuple[float, float]:
    text = os.environ.get(DELAY_ENV, "").strip()
    if not text:
        return DEFAULT_DELAY
    low, _, high = text.partition("-")
    return float(low), float(high or low)


def delay_of(provider_id: str) -> float:
    """Seconds between acceptance and feedback: within the configured range, the same for the same message."""
    low, high = delays()
    spread = int.from_bytes(hashlib.sha256(provider_id.encode()).digest()[:2], "big") / 0xFFFF
    return low + (high - low) * spread


def _first_send(channel: str, to: str) -> bool:
    pk, sk = keys.delivery_sim_seen(channel, to.strip().lower())
    try:
        table.put({"pk": pk, "sk": sk, "ttl": clock.epoch() + KEEP}, cond="attribute_not_exists(pk)")
    except ConditionFailed:
        return False
    return True


@dataclass(frozen=True)
class Planned:
    """One piece of feedback to emit: what and when (milliseconds since the epoch)."""

    kind: str  # SES eventType, or the SMS status
    detail: str
    due_ms: int


def plan(channel: str, scenario: str, provider_id: str, now_ms: int) -> list[Planned]:
    step = round(delay_of(provider_id) * 1000)
    if channel == "email":
        return [Planned(kind, detail, now_ms + step * (n + 1)) for n, (kind, detail) in
                enumerate(EMAIL_FEEDBACK[scenario])]
    status, response = SMS_FEEDBACK[scenario]
    return [Planned(status, response, now_ms + step)]


def sent(channel: str, provider_id: str, to: str, at: str) -> str:
    """SES or SNS accepted a message (`at`: UTC ISO-8601): schedule what the provider will say. Returns the
    scenario chosen (the table in this module's docstring)."""
    if not settings().is_local:
        raise RuntimeError("the delivery simulator is the local cloud's; a deployed stage hears from SES and SNS")
    pattern = scenario_of(channel, to)
    scenario = choose(channel, to, first=_first_send(channel, to) if pattern in ONCE else False)
    now_ms = int(clock.now().timestamp() * 1000)
    for seq, planned in enumerate(plan(channel, scenario, provider_id, now_ms)):
        pk, sk = keys.delivery_sim_feedback(provider_id, seq)
        table.put({"pk": pk, "sk": sk, "channel": channel, "provider_id": provider_id, "to": to, "sent_at": at,
                   "kind": planned.kind, "detail": planned.detail, "scenario": scenario, "due_ms": planned.due_ms,
                   "seq": seq, "attempts": 0, "state": "pending", "gsi1pk": keys.DELIVSIM_DUE,
                   "gsi1sk": keys.delivery_sim_due_sort(planned.due_ms, provider_id, seq), "ttl": clock.epoch() + KEEP})
    log.info("simulated %s %s: %s", channel, provider_id, scenario)
    return scenario


def scheduled(provider_id: str) -> list[dict[str, Any]]:
    """The feedback planned for a message, in order, with its state (pending, emitted, failed): tests, dev."""
    return table.query(keys.delivery_sim_feedback_pk(provider_id), limit=20, newest_first=False,
                       consistent=True).items


# -- what AWS would send ----------------------------------------------------------------------------------------

def _ms_iso(ms: int) -> str:
    """SES's timestamps: ISO-8601 with milliseconds and a Z."""
    return clock.from_epoch(ms // 1000).strftime("%Y-%m-%dT%H:%M:%S") + f".{ms % 1000:03d}Z"


def _account() -> str:
    return settings().events_topic_arn.split(":")[4]


def topic_arn() -> str:
    """The `delivery-feedback` topic: the events topic's account and region, its own name (infra/resources.py)."""
    return settings().events_topic_arn.rsplit(":", 1)[0] + ":" + settings().name("delivery-feedback")


def ses_event(item: dict[str, Any], now_ms: int) -> dict[str, Any]:
    """The SES event record of `item`, as event publishing sends it to SNS (docs: "Examples of event data that
    Amazon SES publishes to Amazon SNS")."""
    to, sender, region = item["to"], settings().sender_email, settings().region
    mail = {"timestamp": item["sent_at"].replace("Z", ".000Z"), "source": sender,
            "sourceArn": f"arn:aws:ses:{region}:{_account()}:identity/{sender}", "sendingAccountId": _account(),
            "messageId": item["provider_id"], "destination": [to], "headersTruncated": False,
            "tags": {"ses:configuration-set": [settings().ses_configuration_set or settings().name("mail")]}}
    at = _ms_iso(now_ms)
    feedback_id = hashlib.sha256(f"{item['provider_id']}#{item['seq']}".encode()).hexdigest()[:40] + "-000000"
    kind = item["kind"]
    if kind == "Delivery":
        return {"eventType": "Delivery", "mail": mail, "delivery": {
            "timestamp": at, "processingTimeMillis": max(0, now_ms - int(item["due_ms"]) + 1), "recipients": [to],
            "smtpResponse": "250 2.6.0 Message received", "reportingMTA": MTA}}
    if kind == "Bounce":
        permanent = item["detail"] == "Permanent"
        recipient = {"emailAddress": to, "action": "failed", "status": "5.1.1" if permanent else "4.2.2",
                     "diagnosticCode": "smtp; 550 5.1.1 user unknown" if permanent else
                     "smtp; 452 4.2.2 mailbox full"}
        return {"eventType": "Bounce", "mail": mail, "bounce": {
            "bounceType": "Permanent" if permanent else "Transient",
            "bounceSubType": "General" if permanent else "MailboxFull", "bouncedRecipients": [recipient],
            "timestamp": at, "feedbackId": feedback_id, "reportingMTA": f"dsn; {MTA}"}}
    if kind == "Complaint":
        return {"eventType": "Complaint", "mail": mail, "complaint": {
            "complainedRecipients": [{"emailAddress": to}], "timestamp": at, "feedbackId": feedback_id,
            "userAgent": "Kabinet local mail client", "complaintFeedbackType": "abuse", "arrivalDate": at}}
    if kind == "Reject":
        return {"eventType": "Reject", "mail": mail, "reject": {"reason": "Bad content"}}
    raise ValueError(f"no SES event {kind!r}")


def sms_log_event(item: dict[str, Any], now_ms: int) -> dict[str, Any]:
    """The function's event for an SMS status: one log line (SNS's delivery-status shape) in a CloudWatch Logs
    subscription's envelope (`awslogs.data` = base64 of gzip of the JSON)."""
    success = item["kind"] == "SUCCESS"
    moment = clock.from_epoch(now_ms // 1000)
    line = {"notification": {"messageId": item["provider_id"],
                             "timestamp": moment.strftime("%Y-%m-%d %H:%M:%S") + f".{now_ms % 1000:03d}"},
            "delivery": {"mnc": 1 if success else 0, "mcc": 250 if success else 0, "destination": item["to"],
                         "priceInUSD": 0.03, "smsType": "Transactional", "providerResponse": item["detail"],
                         "dwellTimeMs": 350, **({"dwellTimeMsUntilDeviceAck": 1200} if success else {})},
            "status": item["kind"]}
    region, account = settings().region, _account()
    group = f"sns/{region}/{account}/{SMS_LOG_GROUP}" + ("" if success else "/Failure")
    data = {"messageType": "DATA_MESSAGE", "owner": account, "logGroup": group,
            "logStream": hashlib.sha256(item["provider_id"].encode()).hexdigest()[:32],
            "subscriptionFilters": [settings().name("sms-delivered" if success else "sms-failed")],
            "logEvents": [{"id": f"{now_ms:020d}", "timestamp": now_ms, "message": json.dumps(line)}]}
    return {"awslogs": {"data": base64.b64encode(gzip.compress(json.dumps(data).encode())).decode()}}


Invoke = Callable[[dict[str, Any]], Any]


def deliver_due(invoke: Invoke, limit: int = 20) -> int:
    """Emit every piece of feedback now due: SES events to the topic, SMS statuses through `invoke(event)` (the
    function, as CloudWatch Logs invokes it; raising counts as a failed invocation). Returns how many were emitted."""
    now_ms = int(clock.now().timestamp() * 1000)
    due = table.query(keys.DELIVSIM_DUE, index="GSI1", newest_first=False, limit=limit,
                      sk_between=("0", keys.delivery_sim_due_sort(now_ms, "~", 99)))
    emitted = 0
    for item in due.items:
        key = (item["pk"], item["sk"])
        try:  # claim this attempt: two pumps never emit it twice
            table.update(key, "SET attempts = attempts + :one REMOVE gsi1pk, gsi1sk",
                         cond="attempts = :seen AND #state = :pending", names={"#state": "state"},
                         values={":one": 1, ":seen": item["attempts"], ":pending": "pending"})
        except ConditionFailed:
            continue
        emitted += 1
        if item["channel"] == "email":
            client("sns").publish(TopicArn=topic_arn(), Message=json.dumps(ses_event(item, now_ms)))
            _done(key, "emitted")
            continue
        try:
            invoke(sms_log_event(item, now_ms))
        except Exception:
            attempt = int(item["attempts"]) + 1
            log.warning("SMS status of %s: the function failed (attempt %d of %d)", item["provider_id"], attempt,
                        ATTEMPTS, exc_info=True)
            if attempt >= ATTEMPTS:  # on AWS: the function's on-failure queue
                log.error("SMS status of %s given up after %d attempts", item["provider_id"], attempt)
                _done(key, "failed")
            else:
                retry = now_ms + RETRY_AFTER_MS
                table.update(key, "SET gsi1pk = :due, gsi1sk = :sort", values={
                    ":due": keys.DELIVSIM_DUE,
                    ":sort": keys.delivery_sim_due_sort(retry, item["provider_id"], int(item["seq"]))})
            continue
        _done(key, "emitted")
    return emitted


def _done(key: tuple[str, str], state: str) -> None:
    table.update(key, "SET #state = :state", names={"#state": "state"}, values={":state": state})
