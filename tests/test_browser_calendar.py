"""Browser journey of «Календарь» (NT-5; real Chromium on the local cloud with the demo data): the demo citizen's
calendar shows several categories, each with its colour and its text label; the category filter; both downloads;
a private subscription URL made, read without cookies, revoked (404 after); reminder settings saved and a bad value
refused with the error summary. axe-core runs on every page visited (tests/browser.py)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
import requests

from infra.seed import DEMO_PASSWORD
from tests.browser import browser_session, look, sign_in, submit
from tests.e2e_people import shared_cloud
from tests.test_e2e_local import _Cloud

pytestmark = pytest.mark.xdist_group("browser")
DEMO_PHONE = "+79990000001"


@pytest.fixture(scope="module")
def local() -> Iterator[_Cloud]:
    with shared_cloud() as cloud:
        yield cloud


def _categories(page: Any) -> list[str]:
    return page.locator("tr[data-category]").evaluate_all("rows => rows.map(r => r.dataset.category)")


def test_the_calendar_page_filters_exports_subscribes_and_saves_reminders(local: _Cloud) -> None:
    with browser_session() as context:
        page = context.new_page()
        sign_in(page, local.base, DEMO_PHONE, DEMO_PASSWORD)
        page.get_by_role("navigation", name="Основное меню").get_by_role("link", name="Календарь").click()
        assert page.url.endswith("/calendar")
        look(page, "calendar")
        shown = set(_categories(page))
        assert {"password", "document", "application"} <= shown and len(shown) >= 3, shown
        first = page.locator("tr[data-category]").first
        assert first.locator(".cal-swatch").count() == 1 and first.locator(".cal-tag").inner_text().strip()

        page.get_by_label("Категория").select_option("password")
        submit(page, "Показать")
        assert set(_categories(page)) == {"password"}
        look(page, "calendar-filtered")

        for fmt, kind in (("CSV", "text/csv"), ("iCalendar (.ics)", "text/calendar")):
            href = page.get_by_role("link", name=fmt).get_attribute("href")
            got = context.request.get(f"{local.base}{href}")
            assert got.status == 200 and got.headers["content-type"].startswith(kind), (fmt, got.status)

        submit(page, "Получить ссылку")
        url = page.get_by_label("Ваша ссылка (показывается один раз):").input_value()
        look(page, "calendar-subscribed")
        feed = requests.get(url, timeout=10)  # no cookies: the URL is the credential
        assert feed.status_code == 200 and "BEGIN:VCALENDAR" in feed.text
        submit(page, "Отозвать ссылку")
        assert requests.get(url, timeout=10).status_code == 404

        page.get_by_label("За сколько дней (0–60)").nth(2).fill("10")  # the third category: documents
        submit(page, "Сохранить напоминания")
        assert page.get_by_text("Настройки напоминаний сохранены.").is_visible()
        assert page.locator('input[name="document.days_before"]').input_value() == "10"
        look(page, "calendar-saved")
        page.locator('input[name="document.days_before"]').fill("99")
        submit(page, "Сохранить напоминания")
        assert page.locator(".error-summary").is_visible()
        look(page, "calendar-refused")
