"""A person's news subscriptions (NT-4): one item per topic in the person's partition, each carrying its place
in the topic's subscriber index (GSI1, sharded), so reading one's settings is one Query, changing them is one
transaction, and the fan-out reads the index instead of scanning the table.

Unsubscribing deletes the item and nothing else: the archive (`publications.archive`) is open to every
signed-in person whatever they subscribe to.
"""

from __future__ import annotations

import hashlib
from typing import Any

from chalicelib.core import clock
from chalicelib.core.origin import Origin
from chalicelib.news.topics import TOPICS
from chalicelib.store import journal, keys, table
from chalicelib.store.table import Tx

AUDIT_ACTION = "news.subscriptions_changed"


def shard(user_id: str) -> int:
    """A person's shard is the same for every topic, so the fan-out merges a shard's topics exactly."""
    return hashlib.sha256(user_id.encode()).digest()[0] % keys.NEWS_SUB_SHARDS


def _view(chosen: dict[str, str]) -> dict[str, Any]:
    return {"items": [{"topic": t, "title": title, "frequency": chosen.get(t, "off")} for t, title in TOPICS.items()]}


def listed(user_id: str) -> dict[str, Any]:
    """Every topic of the catalog with the person's choice (`off` where there is no subscription)."""
    page = table.query(keys.user_pk(user_id), keys.NEWS_SUBS_PREFIX, limit=len(TOPICS) + 1, newest_first=False,
                       consistent=True)
    return _view({i["topic"]: i["frequency"] for i in page.items if i.get("topic") in TOPICS})


def replace(user_id: str, choices: dict[str, str], origin: Origin) -> dict[str, Any]:
    """Set every topic at once (a topic not named is off): one transaction, no read, and the answer is what was
    written. A subscription keeps its first `since` only until it is changed (the item is rewritten)."""
    tx = Tx()
    at = clock.iso(clock.now())
    user_shard = shard(user_id)
    chosen = {t: choices.get(t, "off") for t in TOPICS}
    for topic, frequency in chosen.items():
        pk, sk = keys.news_subscription(user_id, topic)
        if frequency == "off":
            tx.delete((pk, sk))
        else:
            tx.put({"pk": pk, "sk": sk, "topic": topic, "frequency": frequency, "user_id": user_id, "since": at,
                    "gsi1pk": keys.news_subscribers(topic, user_shard), "gsi1sk": user_id})
    journal.audit(tx, keys.user_pk(user_id), AUDIT_ACTION, user_id, origin.ip,
                  topics={t: f for t, f in chosen.items() if f != "off"})
    tx.commit()
    return _view(chosen)


def subscribers(topic: str, shard_no: int) -> list[tuple[str, str]]:
    """(user id, frequency) of one shard of a topic's subscribers, read from the index page by page."""
    found: list[tuple[str, str]] = []
    cursor = None
    while True:
        page = table.query(keys.news_subscribers(topic, shard_no), index="GSI1", cursor=cursor, limit=100,
                           newest_first=False)
        found += [(i["user_id"], i["frequency"]) for i in page.items]  # GSI1 projects whole items
        cursor = page.cursor
        if not cursor:
            return found
