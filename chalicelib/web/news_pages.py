"""Новости (NT-4) in the browser: the archive with a topic filter, a publication, one's subscriptions (topic ×
frequency) and the editors' publishing form.

The same domain calls as chalicelib/api/news.py. The API owns `/news…` and `/editor/news`, and pages never share
a path's first segment with the API (tests/test_web_plumbing.py), so the pages live under `/portal-news…` and
`/newsroom` (docs/news.md).
"""

from __future__ import annotations

import urllib.parse
from typing import Any

from chalice import Blueprint
from pydantic import ValidationError

from chalicelib.news import publications, subscriptions
from chalicelib.news.models import PublicationIn, TopicChoices
from chalicelib.news.topics import FREQUENCIES, TOPICS
from chalicelib.web.documents_pages import moment
from chalicelib.web.pages import Page, Redirect, Visit, attempt, invalid, page

bp = Blueprint(__name__)
ARCHIVE = "/portal-news"
CHOICES = {**FREQUENCIES, "off": "Не получать"}


def _paragraphs(text: str) -> list[str]:
    return [p.strip() for p in text.replace("\r\n", "\n").split("\n\n") if p.strip()]


@page(bp, ARCHIVE)
def archive(visit: Visit) -> Page:
    """Any signed-in person reads every publication, subscribed or not (the archive outlives a subscription)."""
    topic = visit.query.get("topic") or None
    if topic not in TOPICS:
        topic = None
    cursor = visit.query.get("cursor") or None
    found = publications.archive(topic, cursor)
    more = None
    if found["cursor"]:
        more = ARCHIVE + "?" + urllib.parse.urlencode({**({"topic": topic} if topic else {}),
                                                        "cursor": found["cursor"]})
    return Page("news.html", {"active": "news", "items": found["items"], "topic": topic, "topics": TOPICS,
                              "more": more, "moment": moment})


@page(bp, ARCHIVE + "/subscriptions", methods=("GET", "POST"))
def subscriptions_form(visit: Visit) -> Page:
    context: dict[str, Any] = {"active": "news", "errors": None, "saved": False, "choices": CHOICES}
    if visit.method == "POST":
        def save() -> dict[str, Any]:
            chosen = TopicChoices.model_validate({t: visit.form.get(t, "off") for t in TOPICS})
            return subscriptions.replace(visit.user_id, chosen.model_dump(), visit.origin)

        done = attempt(visit, context, save)
        context["saved"] = done is not None
    current = subscriptions.listed(visit.user_id)
    context["items"] = current["items"]
    return Page("news_subscriptions.html", context, 400 if context["errors"] else 200)


@page(bp, ARCHIVE + "/{publication_id}")
def publication(visit: Visit, publication_id: str) -> Page:
    item = publications.get(publication_id)
    return Page("news_item.html", {"active": "news", "item": item, "paragraphs": _paragraphs(item["text"]),
                                   "moment": moment, "published": visit.query.get("published") == "1"})


@page(bp, "/newsroom", methods=("GET", "POST"), role="editor")
def newsroom(visit: Visit) -> Page | Redirect:
    """The editor's form: title, text, topics; publishing shows the publication as readers see it."""
    context: dict[str, Any] = {"active": "newsroom", "errors": None, "topics": TOPICS,
                               "form": {"title": "", "text": "", "topics": []}}
    if visit.method == "POST":
        form = {"title": visit.form.get("title", ""), "text": visit.form.get("text", ""),
                "topics": [t for t in visit.lists.get("topics", []) if t in TOPICS]}
        context["form"] = form
        try:
            body = PublicationIn.model_validate(form)
        except ValidationError as exc:
            context["errors"] = invalid(exc, visit.lang)
            if "topics" in context["errors"]["fields"]:  # «too few items» says less than the domain's own words
                context["errors"]["fields"]["topics"] = visit._("Выберите хотя бы одну тему из каталога")
        else:
            done = attempt(visit, context, lambda: publications.publish(
                visit.user_id, body.title, body.text, list(body.topics), visit.origin.ip))
            if done is not None:
                return Redirect(f"{ARCHIVE}/{done['id']}?published=1")
    context["latest"] = publications.archive(None, None)["items"][:5]
    context["moment"] = moment
    return Page("newsroom.html", context, 400 if context["errors"] else 200)
