"""Request and response bodies of the news routes (NT-4)."""

from __future__ import annotations

from pydantic import Field

from chalicelib.core.models import Cursor, Id, Moment, Out, Query, Strict, pattern
from chalicelib.news.topics import Choice, Frequency, Topic

TITLE_MAX, TEXT_MAX = 200, 20_000


class TopicChoices(Strict):
    """Every topic's choice; a topic left out is off (PUT replaces the whole set)."""

    pensions: Choice = "off"
    vehicles: Choice = "off"
    certificates: Choice = "off"
    taxes: Choice = "off"
    health: Choice = "off"
    family: Choice = "off"


class SubscriptionsIn(Strict):
    topics: TopicChoices


class SubscriptionOut(Out):
    topic: Topic
    title: str
    frequency: Choice


class SubscriptionsOut(Out):
    items: list[SubscriptionOut] = Field(description="Все темы каталога, по порядку; off — без подписки")


class PublicationIn(Strict):
    title: str = Field(min_length=3, max_length=TITLE_MAX)
    text: str = Field(min_length=10, max_length=TEXT_MAX, description="Простой текст; абзацы — пустой строкой")
    topics: list[Topic] = Field(min_length=1, max_length=6)


class TopicOut(Out):
    topic: Topic
    title: str


class PublicationOut(Out):
    id: Id
    title: str
    text: str
    topics: list[TopicOut]
    published_at: Moment


class PublicationSummaryOut(Out):
    id: Id
    title: str
    excerpt: str
    topics: list[TopicOut]
    published_at: Moment


class ArchiveOut(Out):
    items: list[PublicationSummaryOut]
    cursor: Cursor


class ArchiveQuery(Query):
    topic: Topic | None = None
    cursor: str | None = pattern(r"^[A-Za-z0-9_-]*$", "Курсор — из ответа с предыдущей страницей", default=None,
                                 max_length=600, description="Курсор следующей страницы (base64url)")


__all__ = ["ArchiveOut", "ArchiveQuery", "Frequency", "PublicationIn", "PublicationOut", "SubscriptionsIn",
           "SubscriptionsOut", "TopicChoices"]
