"""The one SQS batch consumer: exactly-once handling per event id and the partial-batch-failure report.

SNS and SQS deliver at least once. A consumer claims `EVENT#<id>/DONE#<consumer>` with a conditional put
before handling an event; the claim is a lease, so a handler that crashed or timed out mid-way (the Lambda
was killed, nothing released it) is retried once the lease runs out instead of being lost. Success marks
the claim done for good (a later duplicate is skipped); a failure releases it and reports the message, so
SQS redelivers only that one (ReportBatchItemFailures), up to the DLQ.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable
from typing import Any

from chalicelib.core import clock
from chalicelib.store import keys, table
from chalicelib.store.table import ConditionFailed

log = logging.getLogger("kabinet.events")
DONE_TTL = 7 * 24 * 3600


def claim(event_id: str, consumer: str, lease: int) -> bool:
    """True when this delivery may handle the event: nobody did it, and nobody is doing it right now."""
    pk, sk = keys.processed(event_id, consumer)
    now = clock.epoch()
    try:
        table.put({"pk": pk, "sk": sk, "state": "working", "lease_until": now + lease, "ttl": now + DONE_TTL},
                  cond="attribute_not_exists(pk) OR (#state = :working AND lease_until < :now)",
                  names={"#state": "state"}, values={":working": "working", ":now": now})
    except ConditionFailed:
        return False
    return True


def finish(event_id: str, consumer: str) -> None:
    pk, sk = keys.processed(event_id, consumer)
    table.put({"pk": pk, "sk": sk, "state": "done", "ttl": clock.epoch() + DONE_TTL})


def release(event_id: str, consumer: str) -> None:
    table.delete(keys.processed(event_id, consumer))


def consume(records: list[dict[str, Any]], consumer: str, handle: Callable[[dict[str, Any]], Any], *,
            lease: int) -> dict[str, Any]:
    """Run `handle(event)` once per event id over an SQS batch; `lease` outlasts one run of the function."""
    failures = []
    for record in records:
        message_id = record.get("messageId")
        event: dict[str, Any] | None = None
        try:
            event = json.loads(record["body"])
            if not claim(event["id"], consumer, lease):
                log.info("%s: event %s already handled", consumer, event["id"])
                continue
            outcome = handle(event)
            finish(event["id"], consumer)
            log.info("%s: event %s (%s) → %s", consumer, event["id"], event.get("type"), outcome)
        except Exception:
            log.exception("%s failed for message %s", consumer, message_id)
            if event is not None and "id" in event:
                try:
                    release(event["id"], consumer)
                except Exception:
                    log.exception("%s could not release the claim of %s", consumer, event["id"])
            failures.append({"itemIdentifier": message_id})
    return {"batchItemFailures": failures}
