"""The providers' delivery feedback → `deliveries.record_feedback` (issue 14 "Delivery"; docs/delivery-feedback.md).

Two shapes reach the one function `delivery_feedback`:
- **SES event publishing.** The configuration set's event destination publishes each event to the SNS topic
  `delivery-feedback`; the queue `feedback` is subscribed to it (not raw), so an SQS record's body is the SNS
  envelope and its `Message` is the SES event JSON. Failed records are reported (ReportBatchItemFailures) and
  redelivered, up to the queue's DLQ.
- **SNS SMS delivery status.** SNS writes one log line per SMS to `sns/<region>/<account>/DirectPublishToPhoneNumber`
  (and `…/Failure`); a CloudWatch Logs subscription filter invokes the function asynchronously with
  `{"awslogs": {"data": base64(gzip(json))}}`. A status that could not be recorded fails the invocation, so Lambda
  retries the event and then sends it to the function's on-failure queue.

Parsing is pure (no AWS, no table): the shapes are the ones AWS documents. What a feedback *does* (statuses,
retries, unreachable contacts) is the notifications' business, `chalicelib.notify.deliveries`, which is imported
only when there is something to record and is idempotent, so a redelivered message changes nothing twice.
"""

from __future__ import annotations

import base64
import gzip
import json
import logging
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from chalicelib.core import clock

log = logging.getLogger("kabinet.feedback")

DELIVERED = "delivered"
TEMPORARY = "temporary-failure"
PERMANENT = "permanent-failure"
TECHNICAL = "technical-failure"

# SNS's `delivery.providerResponse` texts that say how a failed SMS failed; any other failure is technical.
SMS_TEMPORARY = frozenset({"unknown error attempting to reach phone", "phone is currently unreachable/unavailable"})
SMS_PERMANENT = frozenset({"invalid phone number", "phone number is opted out", "unknown subscriber"})

# SES events that say nothing about delivery (Send: accepted, which the sender already knows; the rest are
# engagement events the configuration set does not publish).
SES_IGNORED = frozenset({"Send", "Open", "Click", "Subscription"})


class MalformedFeedback(ValueError):
    """A message that is not one of the documented shapes: it is kept (DLQ, on-failure queue) for a person to read."""


@dataclass(frozen=True)
class Feedback:
    """One provider's word about one message: what `deliveries.record_feedback` takes."""

    provider_id: str  # SES MessageId / SNS MessageId, as the send returned it
    channel: str  # "email" | "sms"
    outcome: str  # DELIVERED | TEMPORARY | PERMANENT | TECHNICAL
    detail: str
    at: str  # UTC ISO-8601, second precision: "2026-12-03T14:12:17Z"


def utc_iso(text: str) -> str:
    """SES's "2017-08-05T00:41:02.669Z" and SNS's "2016-06-28 00:40:34.558" (UTC without a zone) → our form."""
    try:
        moment = datetime.fromisoformat(text.strip())
    except (AttributeError, ValueError) as exc:
        raise MalformedFeedback(f"not a timestamp: {text!r}") from exc
    return clock.iso(moment if moment.tzinfo else moment.replace(tzinfo=UTC))


# -- SES ---------------------------------------------------------------------------------------------------------

def _first(items: Any, field: str) -> str:
    """`field` of the first recipient entry, or ""."""
    if isinstance(items, list) and items and isinstance(items[0], dict):
        return str(items[0].get(field) or "")
    return ""


def ses_event(event: dict[str, Any]) -> Feedback | None:
    """One SES event record (event publishing's `eventType`; the older identity notifications' `notificationType`
    has the same objects) → its feedback, or None for the events that are not about delivery."""
    kind = event.get("eventType") or event.get("notificationType")
    if kind in SES_IGNORED:
        return None
    mail = event.get("mail")
    if not isinstance(mail, dict) or not mail.get("messageId"):
        raise MalformedFeedback(f"SES {kind} event without mail.messageId")
    mail_at = mail.get("timestamp", "")

    def part(name: str) -> dict[str, Any]:
        value = event.get(name)
        if not isinstance(value, dict):
            raise MalformedFeedback(f"SES {kind} event without its {name!r} object")
        return value

    if kind == "Delivery":
        delivery = part("delivery")
        outcome, detail, at = DELIVERED, str(delivery.get("smtpResponse") or ""), delivery.get("timestamp", mail_at)
    elif kind == "Bounce":
        bounce = part("bounce")
        permanent = bounce.get("bounceType") == "Permanent"  # Transient and Undetermined may go through later
        diagnostic = _first(bounce.get("bouncedRecipients"), "diagnosticCode")
        detail = f"bounce {bounce.get('bounceType')}/{bounce.get('bounceSubType')}" + (
            f": {diagnostic}" if diagnostic else "")
        outcome, at = PERMANENT if permanent else TEMPORARY, bounce.get("timestamp", mail_at)
    elif kind == "Complaint":  # the person marked it as spam: never send there again
        complaint = part("complaint")
        outcome, detail, at = PERMANENT, "complaint", complaint.get("timestamp", mail_at)
    elif kind == "Reject":  # SES refused to send it (it found a virus): ours to fix, not the address's fault
        outcome, detail, at = TECHNICAL, f"reject: {part('reject').get('reason', '')}", mail_at
    elif kind == "DeliveryDelay":
        delay = part("deliveryDelay")
        diagnostic = _first(delay.get("delayedRecipients"), "diagnosticCode")
        detail = f"delay {delay.get('delayType')}" + (f": {diagnostic}" if diagnostic else "")
        outcome, at = TEMPORARY, delay.get("timestamp", mail_at)
    elif kind in ("Rendering Failure", "RenderingFailure"):  # the documented value has the space
        outcome, detail, at = TECHNICAL, f"rendering failure: {part('failure').get('errorMessage', '')}", mail_at
    else:
        raise MalformedFeedback(f"unknown SES event type {kind!r}")
    return Feedback(str(mail["messageId"]), "email", outcome, detail, utc_iso(at))


def parse_ses(body: str) -> list[Feedback]:
    """An SQS record's body: the SNS envelope whose `Message` is the SES event (a raw SES event is taken too).
    SES's own check of the topic ("Successfully validated SNS topic …", not JSON) gives nothing."""
    try:
        envelope = json.loads(body)
    except (TypeError, ValueError) as exc:
        raise MalformedFeedback("SQS body is not JSON") from exc
    if not isinstance(envelope, dict):
        raise MalformedFeedback("SQS body is not an object")
    message: Any = envelope
    if envelope.get("Type") == "Notification" and "Message" in envelope:
        try:
            message = json.loads(envelope["Message"])
        except (TypeError, ValueError):
            log.info("SNS notification that is not an SES event (topic check?) ignored")
            return []
    if not isinstance(message, dict):
        raise MalformedFeedback("SES event is not an object")
    found = ses_event(message)
    return [found] if found else []


# -- SNS SMS delivery status --------------------------------------------------------------------------------------

def sms_status(line: dict[str, Any]) -> Feedback:
    """One delivery-status log line of an SMS (SNS writes them to the DirectPublishToPhoneNumber log groups)."""
    notification, delivery = line.get("notification"), line.get("delivery")
    if not isinstance(notification, dict) or not notification.get("messageId") or not isinstance(delivery, dict):
        raise MalformedFeedback("SMS delivery status without notification.messageId or delivery")
    response = str(delivery.get("providerResponse") or "")
    status = line.get("status")
    if status == "SUCCESS":
        outcome = DELIVERED
    elif status == "FAILURE":
        key = response.strip().lower()
        outcome = TEMPORARY if key in SMS_TEMPORARY else PERMANENT if key in SMS_PERMANENT else TECHNICAL
    else:
        raise MalformedFeedback(f"SMS delivery status {status!r}")
    return Feedback(str(notification["messageId"]), "sms", outcome, response,
                    utc_iso(str(notification.get("timestamp", ""))))


def parse_sms_logs(event: dict[str, Any]) -> list[Feedback]:
    """A CloudWatch Logs subscription's invocation: `awslogs.data` is base64 of gzip of the JSON with `logEvents`.
    CloudWatch Logs' own CONTROL_MESSAGE (it checks the destination is reachable) gives nothing."""
    try:
        data = json.loads(gzip.decompress(base64.b64decode(event["awslogs"]["data"])))
    except (KeyError, TypeError, ValueError, OSError) as exc:  # OSError: gzip.BadGzipFile
        raise MalformedFeedback("awslogs.data is not base64 of gzipped JSON") from exc
    if data.get("messageType") != "DATA_MESSAGE":
        return []
    out = []
    for entry in data.get("logEvents", []):
        try:
            line = json.loads(entry["message"])
        except (KeyError, TypeError, ValueError) as exc:
            raise MalformedFeedback(f"log event {entry.get('id')} is not JSON") from exc
        out.append(sms_status(line))
    return out


# -- the function ---------------------------------------------------------------------------------------------------

def _record(found: Feedback) -> bool:
    from chalicelib.notify import deliveries  # the notifications' side; loaded on the first feedback only

    changed = deliveries.record_feedback(found.provider_id, found.channel, found.outcome, found.detail, found.at)
    log.info("feedback %s %s: %s%s", found.channel, found.provider_id, found.outcome,
             "" if changed else " (nothing changed)")
    return bool(changed)


def _sqs(records: list[dict[str, Any]]) -> dict[str, Any]:
    failures = []
    for record in records:
        try:
            for found in parse_ses(record["body"]):
                _record(found)
        except Exception:
            log.exception("delivery feedback: SQS message %s not handled", record.get("messageId"))
            failures.append({"itemIdentifier": record.get("messageId")})
    return {"batchItemFailures": failures}


def _logs(event: dict[str, Any]) -> dict[str, Any]:
    statuses = parse_sms_logs(event)
    failed = 0
    for found in statuses:  # each on its own: one failure does not keep the others from being recorded
        try:
            _record(found)
        except Exception:
            log.exception("delivery feedback: SMS status of %s not recorded", found.provider_id)
            failed += 1
    if failed:  # Lambda retries the whole event; the ones already recorded change nothing the second time
        raise RuntimeError(f"{failed} of {len(statuses)} SMS delivery statuses not recorded")
    return {"recorded": len(statuses)}


def handle(event: dict[str, Any]) -> dict[str, Any]:
    """The function's event, told apart by shape: SQS records (SES events) or a Logs subscription (SMS)."""
    if isinstance(event, dict) and "awslogs" in event:
        return _logs(event)
    if isinstance(event, dict) and isinstance(event.get("Records"), list):
        return _sqs(event["Records"])
    raise MalformedFeedback("neither SQS records nor a CloudWatch Logs subscription event")
