"""SQS `agency` consumer: each submitted application goes to its agency's inbox or is decided automatically."""

from __future__ import annotations

import json
import logging
from typing import Any

from chalicelib.requests import agency

log = logging.getLogger("kabinet.agency")


def handle_batch(records: list[dict[str, Any]]) -> dict[str, Any]:
    """Partial failures by message id (ReportBatchItemFailures); routing is idempotent by the application's state."""
    failures = []
    for record in records:
        try:
            outcome = agency.route(json.loads(record["body"]))
            log.info("agency routing of message %s: %s", record.get("messageId"), outcome)
        except Exception:
            log.exception("agency routing failed for message %s", record.get("messageId"))
            failures.append({"itemIdentifier": record["messageId"]})
    return {"batchItemFailures": failures}
