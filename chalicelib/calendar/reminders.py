"""Calendar reminders (NT-5): by e-mail or SMS, a chosen number of days before, per category; from the daily run.

Two steps, neither scans. `place`: items written since the last run wait in GSI1 `CALNEW#<shard>` (producers do
not read the settings); each is moved to `CALREMIND#<day>#<shard>`, the Moscow day its reminder is due (or taken
out of the index when its category's reminders are off). `send_due`: reads today's and yesterday's partitions (a
missed run is caught up) and sends each reminder in one transaction: the item leaves the index (conditional on
still being in that partition), a marker `CALSENT#<item id>#<day>` is put only if absent, the audit entry and the
notify event. Two runs at once, or the same day run twice, send it once; a moved date is a new reminder.
Shards spread a busy day over CALENDAR_SHARDS partitions, as the debt watch does.
"""

from __future__ import annotations

import contextlib
from datetime import date, timedelta
from typing import Any

from chalicelib.calendar import items
from chalicelib.calendar import settings as calendar_settings
from chalicelib.core import clock
from chalicelib.events import catalog
from chalicelib.identity.users import contacts
from chalicelib.store import journal, keys, table
from chalicelib.store.table import ConditionFailed, TransactionConflict, Tx

MARKER_TTL = 400 * 86400


def reminder_day(item: dict[str, Any], setting: dict[str, Any], today: date) -> str | None:
    """The Moscow day the item's reminder is due: `days_before` its day, today if that has passed, None when
    reminders of its category are off or the day itself is over."""
    day = date.fromisoformat(item["day"])
    if not setting["enabled"] or day < today:
        return None
    return max(day - timedelta(days=setting["days_before"]), today).isoformat()


def _index(user_id: str, item: dict[str, Any], setting: dict[str, Any], today: date) -> tuple[str, list[str]]:
    """The update expression that places `item` in the reminder index (or takes it out) and its values."""
    due = reminder_day(item, setting, today)
    if due is None:
        return "REMOVE gsi1pk, gsi1sk", []
    return "SET gsi1pk = :pk, gsi1sk = :sk", [keys.calendar_reminders(due, items.shard(user_id)),
                                               keys.calendar_index_sort(user_id, item["sk"])]


def _place(user_id: str, item: dict[str, Any], setting: dict[str, Any], today: date, cond: str,
           cond_values: dict[str, Any]) -> None:
    expr, pk_sk = _index(user_id, item, setting, today)
    values = dict(cond_values)
    if pk_sk:
        values.update({":pk": pk_sk[0], ":sk": pk_sk[1]})
    with contextlib.suppress(ConditionFailed):  # changed or removed meanwhile: its producer re-queued it or not
        table.update((item["pk"], item["sk"]), expr, cond=cond, values=values or None)


def place(today: date) -> int:
    """Step 1: every item written since the last run gets its reminder day from its owner's settings."""
    placed = 0
    cache: dict[str, dict[str, dict[str, Any]]] = {}
    for shard in range(keys.CALENDAR_SHARDS):
        partition = keys.calendar_unindexed(shard)
        for item in _all(partition):
            user_id = item["user_id"]
            if user_id not in cache:
                cache[user_id] = calendar_settings.reminders(calendar_settings.load(user_id))
            _place(user_id, item, cache[user_id][item["category"]], today, "gsi1pk = :was", {":was": partition})
            placed += 1
    return placed


def place_person(user_id: str, reminders: dict[str, dict[str, Any]]) -> None:
    """New settings: the person's items from today on are placed again (tens of items, one update each)."""
    today = clock.moscow_today()
    found, _ = items.read(user_id, today.isoformat())
    for item in found:
        _place(user_id, item, reminders[item["category"]], today, "attribute_exists(pk)", {})


def _all(partition: str) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []
    cursor = None
    while True:
        page = table.query(partition, index="GSI1", cursor=cursor, limit=100, newest_first=False)
        out += page.items
        cursor = page.cursor
        if not cursor:
            return out


def send_due(today: date) -> int:
    """Step 2: the reminders due yesterday and today, each sent once."""
    sent = 0
    people: dict[str, tuple[dict[str, Any] | None, dict[str, dict[str, Any]]]] = {}
    for day in (today - timedelta(days=1), today):
        for shard in range(keys.CALENDAR_SHARDS):
            partition = keys.calendar_reminders(day.isoformat(), shard)
            for item in _all(partition):
                user_id = item["user_id"]
                if user_id not in people:
                    people[user_id] = (table.get(keys.user(user_id), consistent=False),
                                       calendar_settings.reminders(calendar_settings.load(user_id)))
                user, reminders = people[user_id]
                sent += _send(item, partition, user, reminders[item["category"]], today)
    return sent


def _leave_index(tx: Tx, item: dict[str, Any], partition: str) -> Tx:
    return tx.update((item["pk"], item["sk"]), "REMOVE gsi1pk, gsi1sk", cond="gsi1pk = :k",
                     values={":k": partition}, tag="item")


def _to(user: dict[str, Any], channel: str) -> dict[str, Any]:
    """The chosen channel's contact only (the other one if the account has no such contact)."""
    found = contacts(user)
    phone, email = found.pop("phone"), found.pop("email")
    if (channel == "sms" and phone) or not email:
        return {**found, "phone": phone}
    return {**found, "email": email}


def _send(item: dict[str, Any], partition: str, user: dict[str, Any] | None, setting: dict[str, Any],
          today: date) -> int:
    if user is None or not setting["enabled"] or date.fromisoformat(item["day"]) < today:
        with contextlib.suppress(ConditionFailed, TransactionConflict):
            _leave_index(Tx(), item, partition).commit()
        return 0
    tx = _leave_index(Tx(), item, partition)
    pk, sk = keys.calendar_reminded(item["user_id"], item["id"], item["day"])
    tx.put_new({"pk": pk, "sk": sk, "at": clock.iso(clock.now()), "ttl": clock.epoch() + MARKER_TTL},
               tag="reminded")
    journal.audit(tx, keys.user_pk(item["user_id"]), catalog.CALENDAR_REMINDER.name, "system", None,
                  item_id=item["id"], day=item["day"], channel=setting["channel"])
    journal.emit(tx, catalog.CALENDAR_REMINDER, keys.user_pk(item["user_id"]), {
        **_to(user, setting["channel"]), "item_id": item["id"], "category": item["category"],
        "category_title": items.CATEGORIES[item["category"]], "title": item["title"],
        "date": date.fromisoformat(item["day"]).strftime("%d.%m.%Y"), "days_left": items.days_left(item, today),
        "link": item["link"], "notice_type": "calendar"})
    try:
        tx.commit()
    except ConditionFailed as exc:
        if exc.tag == "reminded":  # sent before (the item was placed again): it only leaves the index
            with contextlib.suppress(ConditionFailed, TransactionConflict):
                _leave_index(Tx(), item, partition).commit()
        return 0
    except TransactionConflict:  # another run is sending it right now; if that one fails, tomorrow re-reads today
        return 0
    return 1


def run(today: date | None = None) -> int:
    """The daily schedule's part: place what is new, then send what is due."""
    today = today or clock.moscow_today()
    place(today)
    return send_due(today)
