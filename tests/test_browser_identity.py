"""Browser journeys for the identity desks: the МФЦ operator confirms a person after comparing the passport
(ID-7), and a person revokes a consent where the law allows it (ID-9). axe-core on every page."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from infra.seed import DEMO_PASSWORD, operator_phone
from tests.browser import browser_session, look, submit
from tests.e2e_people import identity, make_standard, shared_cloud
from tests.test_e2e_identity import _bank_confirm, _http
from tests.test_e2e_local import PASSWORD, _Cloud

pytestmark = pytest.mark.xdist_group("browser")


@pytest.fixture(scope="module")
def local() -> Iterator[_Cloud]:
    with shared_cloud() as cloud:
        yield cloud


def _sign_in(page, cloud: _Cloud, login: str, password: str) -> None:
    page.goto(f"{cloud.base}/login")
    page.get_by_label("Телефон, e-mail или СНИЛС").fill(login)
    page.get_by_label("Пароль").fill(password)
    submit(page, "Войти")


def test_the_operator_confirms_a_person_after_comparing_the_passport(local: _Cloud) -> None:
    http = _http()
    tokens, view = make_standard(http, local, "+79165552301", "4611", "623456777")
    snils = view["data"]["snils"]
    with browser_session() as context:
        page = context.new_page()
        _sign_in(page, local, operator_phone(0), DEMO_PASSWORD)
        assert page.url == f"{local.base}/mfc", "an operator lands on the desk"
        look(page, "mfc-desk")
        page.get_by_label("СНИЛС заявителя").fill(f"{snils[:3]}-{snils[3:6]}-{snils[6:9]} {snils[9:]}")
        submit(page, "Найти")
        look(page, "mfc-person")
        assert page.get_by_role("heading", name="Кузнецов Алексей Петрович").is_visible()
        assert "12.04.1985" in page.inner_text("main")
        page.get_by_label("Серия паспорта").fill("4611")
        page.get_by_label("Номер паспорта").fill("654321")
        page.get_by_label("Паспорт предъявлен лично и сверен с человеком").check()
        submit(page, "Подтвердить личность")
        look(page, "mfc-mismatch")
        assert "Паспорт не совпадает" in page.locator(".error-summary").inner_text()
        assert identity(http, local, tokens["access_token"])["tier"] == "standard", "a mismatch confirms nothing"
        page.get_by_label("СНИЛС заявителя").fill(snils)
        submit(page, "Найти")
        page.get_by_label("Серия паспорта").fill("4611")
        page.get_by_label("Номер паспорта").fill("123456")
        page.get_by_label("Паспорт предъявлен лично и сверен с человеком").check()
        submit(page, "Подтвердить личность")
        look(page, "mfc-confirmed")
        assert "Личность подтверждена" in page.inner_text("main")
    assert identity(http, local, tokens["access_token"])["tier"] == "confirmed"


def test_a_person_revokes_the_bank_consent_and_not_the_registration_one(local: _Cloud) -> None:
    http = _http()
    tokens, view = make_standard(http, local, "+79165552302", "4612", "723456777")
    assert _bank_confirm(http, local, tokens["access_token"], view["data"]["snils"]).status_code == 200
    with browser_session() as context:
        page = context.new_page()
        _sign_in(page, local, "+79165552302", PASSWORD)
        page.goto(f"{local.base}/profile/consents")
        look(page, "consents")
        rows = page.locator("tbody tr")
        assert rows.count() >= 3, page.inner_text("main")
        assert page.get_by_text("Нельзя отозвать: обработка нужна по закону").count() >= 2  # registration, checks
        buttons = page.get_by_role("button", name="Отозвать")
        assert buttons.count() == 1, "only the bank's consent can be revoked"
        with page.expect_navigation():
            buttons.first.click()
        look(page, "consents-revoked")
        assert "Согласие отозвано" in page.inner_text("main")
        assert page.get_by_role("button", name="Отозвать").count() == 0
    consents = http.get(f"{local.base}/me/consents", headers={"Authorization": f"Bearer {tokens['access_token']}"},
                        timeout=10).json()["items"]
    bank = [c for c in consents if c["kind"] == "bank_confirmation"]
    assert len(bank) == 1 and bank[0]["revoked_at"], bank
