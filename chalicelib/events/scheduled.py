"""The EventBridge event a `schedule` handler receives, for running one outside its rate."""

from __future__ import annotations

from typing import Any

from chalicelib.core import clock
from chalicelib.core.config import settings
from chalicelib.core.ids import new_id


def scheduled_event(rule: str) -> dict[str, Any]:
    return {"version": "0", "id": new_id(), "detail-type": "Scheduled Event", "source": "aws.events",
            "account": "000000000000", "time": clock.iso(clock.now()), "region": settings().region,
            "resources": [f"arn:aws:events:{settings().region}:000000000000:rule/{rule}"], "detail": {}}


def daily_reminders() -> dict[str, int]:
    """The daily run: passwords expiring in 7 days (AU-3), e-signature certificates in 30 (DC-5), debts due in 7
    and 1 days or just overdue (PY-6)."""
    from chalicelib.esign import reminders
    from chalicelib.identity import passwords
    from chalicelib.notify import digests
    from chalicelib.payments import reminders as debts_due

    counts = {"reminded": passwords.remind_expiring(), "esign_reminded": reminders.remind_expiring(),
              "payments_reminded": debts_due.remind_due(), "digests_sent": digests.send_closed()}
    # -- calendar (NT-5): last, so the debt due dates the payments run just wrote are placed and sent today --
    from chalicelib.calendar import reminders as calendar_reminders

    counts["calendar_reminded"] = calendar_reminders.run()
    return counts
