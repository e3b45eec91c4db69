"""«Новости» pages in-process (chalice's test gateway on moto): the subscription form saves one's own choices only,
a bad choice is a 400 form, the editor's page is the editor's, a publication made there is in the archive, and
English comes from the catalog. The journey in a real browser is tests/test_browser_news.py."""

from __future__ import annotations

from typing import Any

from tests.test_news import ALL_OFF, choices, editor
from tests.test_web_payments import Browser


def _text(resp: Any) -> str:
    return resp.body.decode()


def test_the_subscription_form_changes_only_ones_own(api):
    first, second = api.register(phone="+79161230001"), api.register(phone="+79161230002")
    saved = Browser(api, first).post("/portal-news/subscriptions", {"taxes": "daily", "health": "weekly"})
    assert saved.status_code == 200 and "Подписка сохранена." in _text(saved)
    assert choices(api, first) == {**ALL_OFF, "taxes": "daily", "health": "weekly"}
    assert choices(api, second) == ALL_OFF
    page = _text(Browser(api, second).get("/portal-news/subscriptions"))
    assert 'name="taxes" value="off" checked' in page, "the second person's form shows their own"
    bad = Browser(api, first).post("/portal-news/subscriptions", {"taxes": "hourly"})
    assert bad.status_code == 400 and "error-summary" in _text(bad)
    assert choices(api, first) == {**ALL_OFF, "taxes": "daily", "health": "weekly"}, "unchanged by a bad form"
    refused = Browser(api, first).post("/portal-news/subscriptions", {"taxes": "off"}, csrf=False)
    assert refused.status_code == 403


def test_the_newsroom_is_the_editors_and_publishes_to_the_archive(api):
    citizen = api.register(phone="+79161230001")
    assert Browser(api, citizen).get("/newsroom").status_code == 403
    assert Browser(api, citizen).post("/newsroom", {"title": "Новость", "text": "Текст новости",
                                                    "topics": "taxes"}).status_code == 403
    desk = Browser(api, editor(api))
    empty = desk.post("/newsroom", {"title": "", "text": ""})
    assert empty.status_code == 400 and "Выберите хотя бы одну тему из каталога" in _text(empty)
    done = desk.post("/newsroom", [("title", "Налоговый вычет"), ("text", "Подробности в разделе «Налоги»."),
                                   ("topics", "taxes"), ("topics", "health")])
    assert done.status_code == 303, _text(done)
    location = done.headers["Location"]
    assert location.startswith("/portal-news/") and location.endswith("?published=1")
    archive = _text(Browser(api, citizen).get("/portal-news?topic=health"))
    assert "Налоговый вычет" in archive
    english = Browser(api, citizen)
    english.cookies["kabinet-lang"] = "en"
    assert "Subscribe to news by topic" in _text(english.get("/portal-news"))
