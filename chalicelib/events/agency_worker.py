"""SQS `agency` consumer, the side that talks to other state systems: each submitted application goes to its
agency's inbox or is decided automatically, each personal-data check goes to its registry (ID-6), and each
payment's outcome reaches ГИС ГМП, the receipt and, for a double charge, the acquirer's refund (PY-4)."""

from __future__ import annotations

from typing import Any

from chalicelib.applications import agency
from chalicelib.events import batch, catalog
from chalicelib.identity import checks

CONSUMER = "agency"
LEASE = 120  # at least the function's timeout (.chalice/config.json): an automatic decision renders and signs a PDF


PAYMENT_EVENTS = {e.name for e in (catalog.PAYMENT_SUCCEEDED, catalog.PAYMENT_FAILED, catalog.PAYMENT_CANCELLED,
                                   catalog.PAYMENT_REFUND_DUE)}


def handle(event: dict[str, Any]) -> Any:
    if event.get("type") == catalog.CHECK_REQUESTED.name:
        return checks.handle(event)
    if event.get("type") == catalog.REQUEST_SUBMITTED.name:
        from chalicelib.payments import disputes

        disputes.on_submitted(event)  # an appeal against a fine marks the debt disputed (idempotent)
    # news (NT-4; docs/news.md): a publication's fan-out to its topics' subscribers
    if event.get("type") == catalog.NEWS_PUBLISHED.name:
        from chalicelib.news import fanout

        return fanout.handle(event)
    # single sign-on (issue 15): every system an ended session signed into is told (back-channel logout)
    if event.get("type") == catalog.SESSIONS_ENDED.name:
        from chalicelib.sso import backchannel

        return backchannel.handle(event)
    if event.get("type") in PAYMENT_EVENTS:
        from chalicelib.payments import after  # the receipt's PDF stack loads only where it is used

        return after.handle(event)
    return agency.route(event)


def handle_batch(records: list[dict[str, Any]]) -> dict[str, Any]:
    return batch.consume(records, CONSUMER, handle, lease=LEASE)
