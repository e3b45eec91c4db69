"""Publications (NT-4): an editor (or the admin command) publishes; the archive is open to every signed-in person.

A publication is `NEWS#<id>/PUB` (in GSI1 `NEWS`, the whole archive newest first) plus one entry per topic in the
same partition (in GSI1 `NEWS#T#<topic>`), so the archive and each topic's filter are one Query and the detail is
one GetItem. Publishing is one transaction: the publication, its entries, the audit line and one
`news.published` event, which the agency worker fans out to the topics' subscribers (news/fanout.py).
"""

from __future__ import annotations

from typing import Any

from chalicelib.core import clock
from chalicelib.core.errors import Invalid, not_found
from chalicelib.core.ids import is_id, new_id
from chalicelib.events import catalog as events
from chalicelib.news.models import TEXT_MAX, TITLE_MAX
from chalicelib.news.topics import TOPICS
from chalicelib.store import journal, keys, table
from chalicelib.store.table import Tx

PAGE = 20
EXCERPT = 240
ADMIN = "admin"  # the actor of a publication made with `python -m infra.admin news-publish`


def _topics(topics: list[str]) -> list[dict[str, str]]:
    return [{"topic": t, "title": TOPICS[t]} for t in topics if t in TOPICS]


def _excerpt(text: str) -> str:
    flat = " ".join(text.split())
    return flat if len(flat) <= EXCERPT else flat[:EXCERPT].rsplit(" ", 1)[0] + "…"


def _clean(title: str, text: str, topics: list[str]) -> tuple[str, str, list[str]]:
    """Surrounding blanks dropped, each topic once, in the catalog's order; blank title or text refused."""
    title, text = " ".join(title.split()), text.strip().replace("\r\n", "\n")
    problems = {}
    if not 3 <= len(title) <= TITLE_MAX:
        problems["title"] = f"Заголовок: от 3 до {TITLE_MAX} символов, не считая пробелов по краям"
    if not 10 <= len(text) <= TEXT_MAX:
        problems["text"] = f"Текст: от 10 до {TEXT_MAX} символов, не считая пробелов по краям"
    unknown = [t for t in topics if t not in TOPICS]
    if unknown or not topics:
        problems["topics"] = "Выберите хотя бы одну тему из каталога"
    if problems:
        raise Invalid("VALIDATION_ERROR", "Проверьте введённые данные", problems)
    return title, text, [t for t in TOPICS if t in topics]


def publish(actor: str, title: str, text: str, topics: list[str], ip: str | None) -> dict[str, Any]:
    """Publish now: the archive shows it at once, subscribers hear of it through the fan-out."""
    title, text, topics = _clean(title, text, topics)
    publication_id = new_id()
    at = clock.iso(clock.now())
    pk, sk = keys.news_publication(publication_id)
    tx = Tx().put_new({"pk": pk, "sk": sk, "id": publication_id, "title": title, "text": text, "topics": topics,
                       "published_at": at, "actor": actor, "gsi1pk": keys.NEWS_ARCHIVE, "gsi1sk": publication_id})
    for topic in topics:
        tpk, tsk = keys.news_topic_entry(publication_id, topic)
        tx.put({"pk": tpk, "sk": tsk, "id": publication_id, "title": title, "excerpt": _excerpt(text),
                "topics": topics, "published_at": at, "gsi1pk": keys.news_topic_archive(topic),
                "gsi1sk": publication_id})
    journal.audit(tx, keys.user_pk(actor) if actor != ADMIN else pk, events.NEWS_PUBLISHED.name, actor, ip,
                  publication_id=publication_id, title=title, topics=topics)
    journal.emit(tx, events.NEWS_PUBLISHED, pk, {"publication_id": publication_id, "title": title,
                                                 "topics": topics})
    tx.commit()
    return view({"id": publication_id, "title": title, "text": text, "topics": topics, "published_at": at})


def view(item: dict[str, Any]) -> dict[str, Any]:
    return {"id": item["id"], "title": item["title"], "text": item["text"], "topics": _topics(item["topics"]),
            "published_at": item["published_at"]}


def _summary(item: dict[str, Any]) -> dict[str, Any]:
    return {"id": item["id"], "title": item["title"], "excerpt": item.get("excerpt") or _excerpt(item["text"]),
            "topics": _topics(item["topics"]), "published_at": item["published_at"]}


def archive(topic: str | None = None, cursor: str | None = None) -> dict[str, Any]:
    """Newest first, PAGE at a time; with a topic, that topic's entries only. One Query either way."""
    partition = keys.news_topic_archive(topic) if topic else keys.NEWS_ARCHIVE
    page = table.query(partition, index="GSI1", cursor=cursor, limit=PAGE)
    return {"items": [_summary(i) for i in page.items], "cursor": page.cursor}


def get(publication_id: str) -> dict[str, Any]:
    item = table.get(keys.news_publication(publication_id), consistent=False) if is_id(publication_id) else None
    if item is None:
        raise not_found("Публикация", feminine=True)
    return view(item)
