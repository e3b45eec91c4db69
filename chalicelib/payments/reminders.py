"""Due-date reminders (PY-6): 7 days and 1 day before a debt's due date, and once the day after it passed.

Whom to watch: a person is watched from the moment their INN and SNILS are checked (the standard tier, ID-6): the
daily run asks ГИС ГМП for each watched person's charges, as the debts list does. Watches are spread over
WATCH_SHARDS partitions so no single partition holds the whole country. At national scale ГИС ГМП's own
subscription (it pushes new charges) would replace this poll; the reminder logic stays.
Each reminder is a conditional put of `PAYREMIND#<uin>#<due>#<lead>` together with its event: sent once, however
often the day is run. A debt paid (or being paid) through Kabinet is not reminded about.
"""

from __future__ import annotations

import contextlib
import hashlib
from datetime import date
from typing import Any

from chalicelib.adapters import gisgmp
from chalicelib.core import clock
from chalicelib.events import catalog as events
from chalicelib.payments import debts
from chalicelib.store import journal, keys, table
from chalicelib.store.table import ConditionFailed, TransactionConflict, Tx

LEADS = {7: "7d", 1: "1d", -1: "overdue"}  # days before the due date (negative: after) → the reminder's name
REMINDER_TTL = 400 * 86400
CALENDAR_OPS = 90  # writes of one person's due dates per run: a transaction holds 100 operations


def watch(tx: Tx, user_id: str) -> None:
    """Add the person to the daily run (in the transaction that checked their identifiers)."""
    pk, sk = keys.debt_watch(_shard(user_id), user_id)
    tx.put({"pk": pk, "sk": sk, "user_id": user_id})


def _shard(user_id: str) -> int:
    return hashlib.sha256(user_id.encode()).digest()[0] % keys.DEBT_WATCH_SHARDS


def remind_due(today: date | None = None) -> int:
    today = today or clock.moscow_today()
    sent = 0
    for shard in range(keys.DEBT_WATCH_SHARDS):
        cursor = None
        while True:
            page = table.query(keys.debt_watch_pk(shard), cursor=cursor, limit=100, newest_first=False)
            for item in page.items:
                sent += _remind(item["user_id"], today)
            cursor = page.cursor
            if not cursor:
                break
    return sent


def _remind(user_id: str, today: date) -> int:
    user, marks = debts.account_and_marks(user_id)
    if user is None:
        return 0
    try:
        found = gisgmp.search(debts.identifiers(user))
    except gisgmp.GisGmpUnavailable:
        return 0  # that day's reminders for this person are missed; the 1-day and overdue ones still come
    calendar_due_dates(user_id, found, marks)
    sent = 0
    for charge in found:
        if not charge.due_date or charge.status == "closed" or (marks.get(charge.uin) or {}).get("state"):
            continue
        days_left = (date.fromisoformat(charge.due_date) - today).days
        lead = LEADS.get(days_left)
        if lead is None:
            continue
        sent += _send(user_id, charge, lead, days_left, today)
    return sent


def calendar_due_dates(user_id: str, found: list[gisgmp.Charge], marks: dict[str, Any]) -> int:
    """NT-5: the person's open debts with a due date are calendar items; paid (or being paid through Kabinet),
    closed or moved ones are put right. One Query of the person's payment items, one transaction if anything
    changed; returns how many items were written or removed."""
    from chalicelib.calendar import items as calendar_items

    wanted = {c.uin: c for c in found if c.due_date and c.status != "closed" and not (marks.get(c.uin) or {}).get(
        "state")}
    have, _ = calendar_items.read(user_id, category="payment")
    tx, changes = Tx(), 0
    for item in have:
        charge = wanted.get(item["source_id"])
        if charge is None or charge.due_date != item["day"]:
            calendar_items.remove(tx, user_id, "payment", item["source_id"], item["day"])
            changes += 1
    current = {(i["source_id"], i["day"]) for i in have}
    for uin, charge in wanted.items():
        if (uin, charge.due_date) not in current and changes < CALENDAR_OPS:
            calendar_items.put(tx, user_id, "payment", uin, charge.due_date or "", charge.title, "/pay")
            changes += 1
    if changes:
        journal.audit(tx, keys.user_pk(user_id), "calendar.due_dates", "system", None, changes=changes)
        with contextlib.suppress(ConditionFailed, TransactionConflict):
            tx.commit()
    return changes


def _send(user_id: str, charge: gisgmp.Charge, lead: str, days_left: int, today: date) -> int:
    pk, sk = keys.payment_reminder(user_id, charge.uin, charge.due_date or "", lead)
    tx = Tx().put({"pk": pk, "sk": sk, "sent_on": today.isoformat(), "ttl": clock.epoch() + REMINDER_TTL},
                  cond="attribute_not_exists(pk)")
    journal.emit(tx, events.PAYMENT_DUE, keys.user_pk(user_id), {
        "user_id": user_id, "uin": charge.uin, "title": charge.title, "amount": debts.to_pay(charge, today),
        "due_date": date.fromisoformat(charge.due_date or today.isoformat()).strftime("%d.%m.%Y"),
        "days_left": days_left})
    try:
        tx.commit()
    except ConditionFailed:
        return 0
    return 1
