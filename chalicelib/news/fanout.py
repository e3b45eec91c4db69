"""The fan-out of a publication to its topics' subscribers (NT-4), run by the agency worker on `news.published`.

It reads the subscriber index (GSI1 `NEWSSUBS#<topic>#<shard>`), never the table. A person lands in the same
shard for every topic, so one shard's topics are merged exactly: someone subscribed to two of the publication's
topics gets one notice, with the more urgent of the two frequencies.

Exactly once per (publication, person), however often the fan-out runs (a redelivered event, a retry after a
timeout): each notice's event is written in one transaction with a `NEWSTO#<publication>` marker in the person's
partition (≤100 items per transaction: 50 people). Before each transaction the markers of its 50 people are read
(one BatchGetItem) and those already told are left out; if another run told someone meanwhile, the marker's
condition cancels the transaction and the batch is read and written again.
"""

from __future__ import annotations

import logging
from typing import Any

from chalicelib.core import clock
from chalicelib.events import catalog as events
from chalicelib.news import subscriptions
from chalicelib.news.topics import RANK, TOPICS
from chalicelib.store import journal, keys, table
from chalicelib.store.table import ConditionFailed, TransactionConflict, Tx

log = logging.getLogger("kabinet.news")
PER_TX = 50  # two items a person (the marker and the event): 100, DynamoDB's limit for one transaction
MARKER_TTL = 90 * 86400  # far longer than any redelivery (SQS keeps a message 14 days at most)
TRIES = 5


def handle(event: dict[str, Any]) -> str:
    data = event["data"]
    topics = [t for t in data["topics"] if t in TOPICS]
    sent = 0
    for shard in range(keys.NEWS_SUB_SHARDS):
        wanted: dict[str, tuple[str, list[str]]] = {}
        for topic in topics:
            for user_id, frequency in subscriptions.subscribers(topic, shard):
                best, mine = wanted.get(user_id, (frequency, []))
                wanted[user_id] = (min(best, frequency, key=RANK.__getitem__), [*mine, topic])
        people = sorted(wanted.items())
        for start in range(0, len(people), PER_TX):
            sent += _send(data, people[start:start + PER_TX])
    return f"news: {sent} notices"


def _send(data: dict[str, Any], people: list[tuple[str, tuple[str, list[str]]]]) -> int:
    publication_id = data["publication_id"]
    for _ in range(TRIES):
        marks = table.get_many([keys.news_delivery(publication_id, user_id) for user_id, _ in people])
        todo = [person for person, mark in zip(people, marks, strict=True) if mark is None]
        if not todo:
            return 0
        tx = Tx()
        at = clock.iso(clock.now())
        for user_id, (frequency, topics) in todo:
            pk, sk = keys.news_delivery(publication_id, user_id)
            tx.put_new({"pk": pk, "sk": sk, "at": at, "ttl": clock.epoch() + MARKER_TTL}, tag="told")
            journal.emit(tx, events.NEWS_NOTICE, keys.user_pk(user_id), {
                "user_id": user_id, "publication_id": publication_id, "title": data["title"],
                "topics_title": ", ".join(TOPICS[t] for t in topics), "notice_type": "news",
                "frequency": frequency})
        try:
            tx.commit()
        except (ConditionFailed, TransactionConflict):
            log.info("news %s: another run wrote some of this batch; reading it again", publication_id)
            continue
        return len(todo)
    raise RuntimeError(f"news {publication_id}: a batch kept losing to other runs")
