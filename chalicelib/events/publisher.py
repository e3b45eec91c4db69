"""Outbox → SNS: the stream handler publishes each new outbox item, then deletes it.

An item that could not be published stays in the table; the sweeper schedule publishes it later,
so an event is never lost. Consumers are idempotent by event id, so a second publish is harmless.
"""

from __future__ import annotations

import json
import logging
from typing import Any

from chalicelib.core import clock
from chalicelib.core.aws import client
from chalicelib.core.config import settings
from chalicelib.store import codec, keys, table

log = logging.getLogger("kabinet.outbox")
SWEEP_AFTER = 120


def _event(item: dict[str, Any]) -> dict[str, Any]:
    return {"id": item["id"], "type": item["type"], "subject": item["subject"], "at": item["at"],
            "data": item.get("data") or {}}


def publish(item: dict[str, Any]) -> None:
    event = _event(item)
    client("sns").publish(TopicArn=settings().events_topic_arn, Message=json.dumps(event, ensure_ascii=False),
                          MessageAttributes={"type": {"DataType": "String", "StringValue": event["type"]}})
    table.delete(keys.outbox(event["id"]))


def handle_stream(records: list[dict[str, Any]]) -> dict[str, Any]:
    """Lambda DynamoDB-stream batch → partial failures as sequence numbers (ReportBatchItemFailures)."""
    failures = []
    for record in records:
        ddb = record.get("dynamodb", {})
        image = ddb.get("NewImage")
        if record.get("eventName") != "INSERT" or not image or not image["pk"]["S"].startswith(keys.OUTBOX_PREFIX):
            continue
        try:
            publish(codec.from_item(image))
        except Exception:
            log.exception("publish failed for %s", image["pk"]["S"])
            failures.append({"itemIdentifier": ddb.get("SequenceNumber")})
            break  # stream order matters: retry from the first failure
    return {"batchItemFailures": failures}


def sweep() -> int:
    """Publish outbox items older than SWEEP_AFTER seconds that the stream did not deliver."""
    cutoff = clock.iso(clock.from_epoch(clock.epoch() - SWEEP_AFTER))
    page = table.query(keys.OUTBOX_INDEX, index="GSI1", sk_between=("0", cutoff), newest_first=False, limit=100)
    for item in page.items:  # GSI1 projects whole items; a duplicate publish is harmless
        publish(item)
    return len(page.items)
