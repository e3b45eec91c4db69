"""Daily and weekly digests (NT-3): notices of a type set to «раз в день» or «раз в неделю» are held, and once the
period is over the person gets one message that lists them, exactly once per period.

- The notify worker holds a notice: `DIGEST#<period>#<event id>` under the person (a redelivery rewrites the
  same item) and `DIGESTP#<period>`, which lists the person in GSI1 `DIGESTQ#<period>`.
- The daily schedule looks at yesterday's day and the last full week (a missed run is caught up the next day).
  For each listed person one transaction puts `DIGESTSENT#<period>` with `attribute_not_exists`, drops the
  listing and queues the `notification.digest` event: two runs, or two at once, send it once.
- The inbox is not held: it shows every notice at once; the digest goes by the channels the held notices would
  have used.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta
from typing import Any

from chalicelib.core import clock
from chalicelib.events import catalog as events
from chalicelib.store import journal, keys, table
from chalicelib.store.table import ConditionFailed, Tx

LISTED = 50  # titles a digest names; the rest are counted


def period_of(frequency: str, moment: datetime) -> str:
    day = moment.astimezone(clock.MSK).date()
    if frequency == "daily":
        return f"D-{day.isoformat()}"
    year, week, _ = day.isocalendar()
    return f"W-{year}-W{week:02d}"


def _title(period: str) -> str:
    if period.startswith("D-"):
        return f"за {date.fromisoformat(period[2:]).strftime('%d.%m.%Y')}"  # i18n: data (the digest's text)
    year, week = period[2:].split("-W")
    monday = date.fromisocalendar(int(year), int(week), 1)
    return f"за неделю {monday.strftime('%d.%m')}–{(monday + timedelta(days=6)).strftime('%d.%m.%Y')}"  # i18n: data


def hold(tx: Tx, user_id: str, event: dict[str, Any], frequency: str, title: str, channels: list[str]) -> None:
    """Add a notice to the person's current digest (inside the worker's one transaction)."""
    period = period_of(frequency, clock.from_iso(event["at"]))
    pk, sk = keys.digest_entry(user_id, period, event["id"])
    tx.put({"pk": pk, "sk": sk, "event_id": event["id"], "title": title, "at": event["at"], "channels": channels,
            "ttl": clock.epoch() + 30 * 86400})
    pk, sk = keys.digest_pending(user_id, period)
    tx.put({"pk": pk, "sk": sk, "user_id": user_id, "period": period, "gsi1pk": keys.digest_queue(period),
            "gsi1sk": user_id, "ttl": clock.epoch() + 30 * 86400})


def closed_periods(now: datetime) -> list[str]:
    today = now.astimezone(clock.MSK).date()
    yesterday = today - timedelta(days=1)
    last_week = today - timedelta(days=7)
    return [f"D-{yesterday.isoformat()}", period_of("weekly", datetime.combine(
        last_week, datetime.min.time(), tzinfo=clock.MSK))]


def send_closed(now: datetime | None = None) -> int:
    """The daily run: one digest per person and closed period."""
    now = now or clock.now()
    sent = 0
    for period in closed_periods(now):
        cursor = None
        while True:
            page = table.query(keys.digest_queue(period), index="GSI1", cursor=cursor, limit=100,
                               newest_first=False)
            for listed in page.items:
                sent += _send_one(listed["user_id"], period)
            cursor = page.cursor
            if not cursor:
                break
    return sent


def _send_one(user_id: str, period: str) -> int:
    entries = _entries(user_id, period)
    channels = sorted({c for e in entries for c in e.get("channels", [])})
    pk, sk = keys.digest_sent(user_id, period)
    tx = Tx().put_new({"pk": pk, "sk": sk, "at": clock.iso(clock.now()), "count": len(entries)})
    tx.update(keys.digest_pending(user_id, period), "REMOVE gsi1pk, gsi1sk")
    if entries and channels:
        journal.emit(tx, events.NOTIFICATION_DIGEST, keys.user_pk(user_id), {
            "user_id": user_id, "period": period, "period_title": _title(period), "count": len(entries),
            "items": [{"title": e["title"], "at": clock.ru(clock.from_iso(e["at"]))} for e in entries[:LISTED]],
            "channels": channels})
    try:
        tx.commit()
    except ConditionFailed:
        return 0  # sent before
    return 1 if entries and channels else 0


def _entries(user_id: str, period: str) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []
    cursor = None
    while True:
        page = table.query(keys.user_pk(user_id), keys.digest_prefix(period), cursor=cursor, limit=200,
                           newest_first=False, consistent=True)
        out += page.items
        cursor = page.cursor
        if not cursor:
            return out
