"""Calendar items: what producers write beside their own state change, and the one Query that reads them.

An item lives at `USER#<id>` / `CAL#<day>#<category>#<source id>`, so a period is a key range and the calendar is
never assembled from other sources at read time. Its id (`<category>.<source id>`) does not contain the day:
a moved deadline keeps its id (and its iCalendar UID) while its key changes. A producer that changes a date
deletes the old key and puts the new one in the same transaction as its own change; a source that goes away
deletes its item. Every put enters the reminder index's "to be placed" partition (`CALNEW#<shard>`); the daily
run places it by the day its reminder is due, with the person's settings (calendar/reminders.py), so producers
never read the settings and keep their own AWS-call budgets.
"""

from __future__ import annotations

import hashlib
from datetime import date
from typing import Any

from chalicelib.core import clock
from chalicelib.store import keys, table
from chalicelib.store.table import Tx

# The categories, in the order the page shows them; `appointment` has no producer yet (no appointments exist).
CATEGORIES: dict[str, str] = {
    "application": "Срок рассмотрения заявления",
    "payment": "Срок оплаты",
    "document": "Окончание срока действия документа",
    "password": "Окончание срока действия пароля",
    "esign": "Окончание срока действия сертификата электронной подписи",
    "appointment": "Запись на приём",
}
MAX_ITEMS = 1000  # one Query page: a person's dated things are tens, not thousands


def shard(user_id: str) -> int:
    return hashlib.sha256(user_id.encode()).digest()[0] % keys.CALENDAR_SHARDS


def item_id(category: str, source_id: str) -> str:
    return f"{category}.{source_id}"


def put(tx: Tx, user_id: str, category: str, source_id: str, day: str, title: str, link: str,
        at: str | None = None) -> None:
    """Add (or overwrite) the item in `tx`; `at` is the moment (UTC ISO) when the thing has a time of day."""
    if category not in CATEGORIES:
        raise ValueError(f"unknown calendar category {category}")
    pk, sk = keys.calendar_item(user_id, day, category, source_id)
    tx.put({"pk": pk, "sk": sk, "id": item_id(category, source_id), "user_id": user_id, "category": category,
            "source_id": source_id, "day": day, "at": at, "title": title, "link": link,
            "updated_at": clock.iso(clock.now()),
            "gsi1pk": keys.calendar_unindexed(shard(user_id)), "gsi1sk": keys.calendar_index_sort(user_id, sk)})


def remove(tx: Tx, user_id: str, category: str, source_id: str, day: str | None) -> None:
    """Delete the item in `tx` (a no-op when it is not there: sources older than the calendar have none)."""
    if day:
        tx.delete(keys.calendar_item(user_id, day, category, source_id))


def move(tx: Tx, user_id: str, category: str, source_id: str, old_day: str | None, day: str | None,
         title: str, link: str, at: str | None = None) -> None:
    """The source's date is now `day` (None: it has none any more): the old key goes, the new one is put."""
    if old_day and old_day != day:
        remove(tx, user_id, category, source_id, old_day)
    if day:
        put(tx, user_id, category, source_id, day, title, link, at)


def moscow_day(moment: str) -> str:
    return clock.from_iso(moment).astimezone(clock.MSK).date().isoformat()


def read(user_id: str, day_from: str | None = None, day_to: str | None = None,
         category: str | None = None) -> tuple[list[dict[str, Any]], dict[str, Any] | None]:
    """The items of a period (and of a category) in date order, and the settings item: one Query. The range runs
    from the first day to the end of the prefix (the settings sort last); the last day and the category filter."""
    conds, values, names = [], {}, {}
    if day_to:
        conds.append("#day <= :to")
        values[":to"] = day_to
        names["#day"] = "day"
    if category:
        conds.append("#cat = :cat")
        values[":cat"] = category
        names["#cat"] = "category"
    filter_expr = None
    if conds:  # the settings item has no category (a filter may not name the sort key)
        names["#cat"] = "category"
        filter_expr = f"attribute_not_exists(#cat) OR ({' AND '.join(conds)})"
    page = table.query(keys.user_pk(user_id), sk_between=(keys.calendar_day(day_from or ""), keys.CALENDAR_END),
                       newest_first=False, limit=MAX_ITEMS + 1, filter_expr=filter_expr, filter_values=values,
                       filter_names=names)
    settings = next((i for i in page.items if i["sk"] == keys.CALENDAR_SETTINGS_SK), None)
    found = [i for i in page.items if i["sk"] != keys.CALENDAR_SETTINGS_SK][:MAX_ITEMS]
    return found, settings


def days_left(item: dict[str, Any], today: date) -> int:
    return (date.fromisoformat(item["day"]) - today).days
