"""Browser journey of «Настройки уведомлений» (NT-1, NT-3; real Chromium on the local cloud): the demo citizen
opens the settings from «Уведомления», sees that security notices stay on, switches SMS off for applications,
chooses a weekly digest for payments, sets quiet hours in another time zone and saves; sends a test notice and
reads its delivery per channel in the inbox; then, signed out, follows the e-mail's unsubscribe link, confirms,
and the settings show that type's e-mail off. axe-core runs on every page visited (tests/browser.py)."""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

import pytest
import requests

from infra.seed import DEMO_PASSWORD
from tests.browser import browser_session, look, reload_until, sign_in, submit
from tests.e2e_people import shared_cloud
from tests.test_e2e_local import _Cloud

pytestmark = pytest.mark.xdist_group("browser")
DEMO_PHONE, DEMO_EMAIL = "+79990000001", "ivanov@example.ru"


@pytest.fixture(scope="module")
def local() -> Iterator[_Cloud]:
    with shared_cloud() as cloud:
        yield cloud


def _test_mail(cloud: _Cloud) -> dict[str, Any] | None:
    found = requests.get(f"{cloud.base}/dev/outbox", params={"to": DEMO_EMAIL}, timeout=10).json()
    return next((m for m in found if m["subject"] == "Проверочное уведомление"), None)


def test_a_person_tunes_notifications_tries_them_and_unsubscribes_from_an_email(local: _Cloud) -> None:
    with browser_session() as context:
        page = context.new_page()
        sign_in(page, local.base, DEMO_PHONE, DEMO_PASSWORD, "/inbox")
        page.get_by_role("link", name="Настройки уведомлений").click()
        page.wait_for_url(re.compile(r"/notifications/settings$"))
        look(page, "notifications-settings")
        security = page.get_by_role("group", name="Безопасность и вход")
        assert security.get_by_label("SMS").is_disabled() and security.get_by_label("SMS").is_checked()
        assert security.get_by_text("Уведомления о безопасности отключить нельзя").is_visible()
        page.get_by_role("group", name="Заявления", exact=True).get_by_label("SMS").uncheck()
        page.get_by_role("group", name="Платежи, штрафы и налоги").get_by_label("Как часто").select_option("weekly")
        page.get_by_label("С", exact=True).fill("23:00")
        page.get_by_label("До", exact=True).fill("07:30")
        page.get_by_label("Часовой пояс").select_option("Asia/Yekaterinburg")
        submit(page, "Сохранить")
        assert page.get_by_text("Настройки сохранены").is_visible()
        look(page, "notifications-settings-saved")
        assert not page.get_by_role("group", name="Заявления", exact=True).get_by_label("SMS").is_checked()
        assert page.get_by_label("Часовой пояс").input_value() == "Asia/Yekaterinburg"
        page.get_by_label("Раздел").select_option("system")
        submit(page, "Отправить проверочное уведомление")
        assert page.get_by_text("Проверочное уведомление отправлено").is_visible()
        page.goto(f"{local.base}/inbox")
        heading = page.get_by_role("heading", name="Проверочное уведомление")
        reload_until(page, "the test notice", heading.count)
        notice = page.locator("li.message").filter(has=page.get_by_role("heading", name="Проверочное уведомление"))
        notice.get_by_text("Доставка").click()
        reload_until(page, "its e-mail delivered", lambda: page.locator(
            "li.message", has=page.get_by_role("heading", name="Проверочное уведомление")).locator(
            '[data-channel="email"][data-status="delivered"]').count())
        look(page, "notifications-inbox-delivery")

    mail = _test_mail(local)
    assert mail and mail["headers"]["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    link = re.search(r"(http://\S+/unsubscribe\?token=\S+)", mail["text"]).group(1)
    with browser_session() as context:  # from the mail program: not signed in
        page = context.new_page()
        page.goto(link)
        look(page, "unsubscribe-confirm")
        assert page.get_by_text("«Системные сообщения»").is_visible()
        submit(page, "Отписаться")
        assert page.get_by_text("больше не придут").is_visible()
        look(page, "unsubscribe-done")
        sign_in(page, local.base, DEMO_PHONE, DEMO_PASSWORD, "/notifications/settings")
        system = page.get_by_role("group", name="Системные сообщения")
        assert not system.get_by_label("Электронная почта").is_checked()
        assert system.get_by_label("SMS").is_checked()
