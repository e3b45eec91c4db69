"""SQS `agency` consumer: each submitted application goes to its agency's inbox or is decided automatically."""

from __future__ import annotations

from typing import Any

from chalicelib.applications import agency
from chalicelib.events import batch

CONSUMER = "agency"
LEASE = 120  # at least the function's timeout (.chalice/config.json): an automatic decision renders and signs a PDF


def handle_batch(records: list[dict[str, Any]]) -> dict[str, Any]:
    return batch.consume(records, CONSUMER, agency.route, lease=LEASE)
