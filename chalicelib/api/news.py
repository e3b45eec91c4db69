"""News (NT-4): one's subscriptions by topic, the archive (any signed-in person, subscribed or not), and
editors' publications."""

from __future__ import annotations

from typing import Any

from chalice import Blueprint

from chalicelib.api.http import Call, endpoint
from chalicelib.news import publications, subscriptions
from chalicelib.news.models import (
    ArchiveOut,
    ArchiveQuery,
    PublicationIn,
    PublicationOut,
    SubscriptionsIn,
    SubscriptionsOut,
)

bp = Blueprint(__name__)


@endpoint(bp, "GET", "/me/news/subscriptions", summary="Every news topic with one's frequency, or off",
          response=SubscriptionsOut, tag="news")
def get_subscriptions(call: Call) -> dict[str, Any]:
    return subscriptions.listed(call.user_id)


@endpoint(bp, "PUT", "/me/news/subscriptions", summary="Set every topic at once: a frequency, or off (a topic "
          "left out is off); the archive stays readable", body=SubscriptionsIn, response=SubscriptionsOut, tag="news")
def put_subscriptions(call: Call, body: SubscriptionsIn) -> dict[str, Any]:
    return subscriptions.replace(call.user_id, body.topics.model_dump(), call.origin)


@endpoint(bp, "GET", "/news", summary="The news archive, newest first, by topic if asked", query=ArchiveQuery,
          response=ArchiveOut, tag="news")
def archive(call: Call) -> dict[str, Any]:
    query = ArchiveQuery.model_validate(call.query)
    return publications.archive(query.topic, query.cursor or None)


@endpoint(bp, "GET", "/news/{publication_id}", summary="One publication", response=PublicationOut, tag="news")
def publication(call: Call, publication_id: str) -> dict[str, Any]:
    return publications.get(publication_id)


@endpoint(bp, "POST", "/editor/news", summary="Publish now: the archive at once, subscribers by their frequency",
          body=PublicationIn, response=PublicationOut, status=201, role="editor", tag="news")
def publish(call: Call, body: PublicationIn) -> dict[str, Any]:
    return publications.publish(call.user_id, body.title, body.text, list(body.topics), call.origin.ip)
