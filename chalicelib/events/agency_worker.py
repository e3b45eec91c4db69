"""SQS `agency` consumer, the side that talks to other state systems: each submitted application goes to its
agency's inbox or is decided automatically, and each personal-data check goes to its registry (ID-6)."""

from __future__ import annotations

from typing import Any

from chalicelib.applications import agency
from chalicelib.events import batch, catalog
from chalicelib.identity import checks

CONSUMER = "agency"
LEASE = 120  # at least the function's timeout (.chalice/config.json): an automatic decision renders and signs a PDF


def handle(event: dict[str, Any]) -> Any:
    if event.get("type") == catalog.CHECK_REQUESTED.name:
        return checks.handle(event)
    return agency.route(event)


def handle_batch(records: list[dict[str, Any]]) -> dict[str, Any]:
    return batch.consume(records, CONSUMER, handle, lease=LEASE)
