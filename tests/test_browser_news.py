"""Browser journey of «Новости» (NT-4; real Chromium on the local cloud): the demo citizen subscribes to a topic
with a frequency; the demo editor publishes on that topic; the citizen finds the publication in the archive (and
by the topic filter) and its notice in «Уведомления»; after unsubscribing the archive still shows it. A citizen
is refused the editor's page. axe-core runs on every page visited (tests/browser.py)."""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

import pytest

from infra.seed import DEMO_PASSWORD, editor_phone
from tests.browser import browser_session, look, reload_until, sign_in, submit
from tests.e2e_people import shared_cloud
from tests.test_e2e_local import _Cloud

pytestmark = pytest.mark.xdist_group("browser")
DEMO_PHONE = "+79990000001"
SETTLE_SECONDS = 20  # the pump runs the fan-out (agency worker) and the notice (notify worker) within seconds
TITLE = "Вычет за лечение теперь оформляется без декларации"


@pytest.fixture(scope="module")
def local() -> Iterator[_Cloud]:
    with shared_cloud() as cloud:
        yield cloud


def _sign_in(page: Any, cloud: _Cloud, login: str, next_path: str) -> None:
    sign_in(page, cloud.base, login, DEMO_PASSWORD, next_path)
    assert page.url.startswith(f"{cloud.base}{next_path}"), page.url


def test_an_editor_publishes_and_a_subscriber_reads_it_in_news_and_the_inbox(local: _Cloud) -> None:
    with browser_session() as context:
        reader = context.new_page()
        _sign_in(reader, local, DEMO_PHONE, "/")
        reader.get_by_role("link", name="Новости", exact=True).click()
        reader.wait_for_url(re.compile(r"/portal-news$"))
        look(reader, "news-archive-seeded")
        assert reader.get_by_role("link", name="Новости", exact=True).get_attribute("aria-current") == "page"
        assert reader.locator("[data-news] li").count() >= 1, "the seeded publications"
        reader.get_by_role("link", name="Подписка на новости по темам").click()
        reader.wait_for_url(re.compile(r"/portal-news/subscriptions$"))
        look(reader, "news-subscriptions")
        reader.get_by_role("group", name="Налоги").get_by_label("Сразу").check()
        reader.get_by_role("group", name="Здоровье").get_by_label("Раз в неделю").check()
        submit(reader, "Сохранить подписку")
        assert reader.get_by_text("Подписка сохранена.").is_visible()
        assert reader.get_by_role("group", name="Налоги").get_by_label("Сразу").is_checked()
        look(reader, "news-subscriptions-saved")
        reader.goto(f"{local.base}/newsroom")
        look(reader, "news-newsroom-refused")
        assert reader.get_by_text("Раздел доступен только редакторам новостей портала").is_visible()

    with browser_session() as context:
        desk = context.new_page()
        _sign_in(desk, local, editor_phone(0), "/")
        assert desk.url.endswith("/newsroom"), desk.url  # an editor's main page is the desk
        look(desk, "news-newsroom")
        submit(desk, "Опубликовать")  # nothing filled: the form says what is missing
        look(desk, "news-newsroom-errors")
        desk.get_by_label("Заголовок").fill(TITLE)
        desk.get_by_label("Текст").fill("Социальный вычет за лечение предоставляется по данным клиник.\n\n"
                                        "Подтвердить его можно в разделе «Налоги».")
        desk.get_by_label("Налоги").check()
        submit(desk, "Опубликовать")
        assert re.search(r"/portal-news/[0-9A-Z]{26}\?published=1$", desk.url), desk.url
        assert desk.get_by_role("heading", name=TITLE).is_visible()
        assert desk.get_by_text("Подтвердить его можно в разделе «Налоги».").is_visible(), "paragraphs kept"
        look(desk, "news-published")

    with browser_session() as context:
        reader = context.new_page()
        _sign_in(reader, local, DEMO_PHONE, "/portal-news")
        assert reader.get_by_role("link", name=TITLE).is_visible()
        reader.get_by_label("Тема").select_option(label="Налоги")
        submit(reader, "Показать")
        assert "topic=taxes" in reader.url and reader.get_by_role("link", name=TITLE).is_visible()
        look(reader, "news-archive-taxes")
        reader.get_by_role("link", name=TITLE).click()
        reader.wait_for_url(re.compile(r"/portal-news/[0-9A-Z]{26}$"))
        look(reader, "news-item")
        reader.get_by_role("link", name="Уведомления").click()
        reader.wait_for_url(re.compile(r"/inbox$"))
        reload_until(reader, "the news notice", lambda: reader.get_by_role("heading", name=f"Новость: {TITLE}").count())
        look(reader, "news-inbox")
        # Unsubscribing keeps the archive (NT-4).
        reader.goto(f"{local.base}/portal-news/subscriptions")
        for topic in ("Налоги", "Здоровье"):
            reader.get_by_role("group", name=topic).get_by_label("Не получать").check()
        submit(reader, "Сохранить подписку")
        assert reader.get_by_role("group", name="Налоги").get_by_label("Не получать").is_checked()
        reader.goto(f"{local.base}/portal-news?topic=taxes")
        assert reader.get_by_role("link", name=TITLE).is_visible()
        look(reader, "news-archive-after-unsubscribing")
