"""Browser journey: access recovery (AU-7) — the login, the code, a new password, every old session ended; the
same pages for a login nobody has."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
import requests

from tests.browser import browser_session, look, submit
from tests.e2e_people import register, shared_cloud
from tests.test_e2e_local import CODE, HTTP_TIMEOUT, _Cloud, _outbox

pytestmark = pytest.mark.xdist_group("browser")
NEW_PASSWORD = "Osen#Sad93!"


@pytest.fixture(scope="module")
def local() -> Iterator[_Cloud]:
    with shared_cloud() as cloud:
        yield cloud


def _codes(cloud: _Cloud, phone: str, count: int) -> list[str]:
    sms = _outbox(requests.Session(), cloud, phone,
                  lambda ms: sum(1 for m in ms if CODE.search(m["text"])) >= count)
    return [CODE.search(m["text"]).group() for m in sms if CODE.search(m["text"])]  # type: ignore[union-attr]


def test_recovery_sets_a_new_password_and_ends_the_old_sessions(local: _Cloud) -> None:
    phone = "+79165552401"
    tokens = register(requests.Session(), local, phone)
    first = _codes(local, phone, 1)
    with browser_session() as context:
        page = context.new_page()
        page.goto(f"{local.base}/login")
        page.get_by_role("link", name="Восстановить доступ").click()
        look(page, "recovery")
        page.get_by_label("Телефон, e-mail или СНИЛС").fill(phone)
        submit(page, "Получить код")
        look(page, "recovery-code")
        page.get_by_label("Код").fill("000000" if "000000" not in first else "111111")
        submit(page, "Подтвердить")
        assert page.locator(".error-summary").is_visible(), "a wrong code is refused on the page"
        code = next(c for c in _codes(local, phone, len(first) + 1) if c not in first)
        page.get_by_role("textbox", name="Код").fill(code)
        submit(page, "Подтвердить")
        look(page, "recovery-password")
        page.get_by_label("Новый пароль").fill("short")
        page.get_by_label("Повторите пароль").fill("short")
        submit(page, "Сменить пароль")
        look(page, "recovery-password-errors")
        assert page.locator("#f-new_password-error").is_visible()
        page.get_by_label("Новый пароль").fill(NEW_PASSWORD)
        page.get_by_label("Повторите пароль").fill(NEW_PASSWORD)
        submit(page, "Сменить пароль")
        assert "/login" in page.url, page.url
        page.get_by_label("Телефон, e-mail или СНИЛС").fill(phone)
        page.get_by_label("Пароль").fill(NEW_PASSWORD)
        submit(page, "Войти")
        assert page.get_by_role("heading", name="Личный кабинет").is_visible()
    old = requests.post(f"{local.base}/auth/token/refresh", json={"refresh_token": tokens["refresh_token"]},
                        timeout=HTTP_TIMEOUT)
    assert old.status_code == 401, old.text  # every session of the old password ended


def test_an_unknown_login_gets_the_same_pages(local: _Cloud) -> None:
    with browser_session() as context:
        page = context.new_page()
        page.goto(f"{local.base}/recovery")
        page.get_by_label("Телефон, e-mail или СНИЛС").fill("+79165552499")
        submit(page, "Получить код")
        assert "/recovery/" in page.url and page.url.endswith("/code?channel=sms"), page.url
        assert page.get_by_role("heading", name="Введите код подтверждения").is_visible()
