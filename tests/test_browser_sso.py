"""Browser journey of single sign-on (issue 15; docs/sso.md) on the local cloud, as `make run` starts it: a person
signs in to «Демо-госсистема» (the demo relying party, its own port) through Kabinet's sign-in and consent pages;
a second sign-in skips the remembered consent; the consent is revoked on /security/systems; the system's «Выйти»
ends the Kabinet session too (RP-initiated logout); and signing out in Kabinet signs the person out of the system
(back-channel logout, delivered by the event pump). Real Chromium, axe-core on every page (tests/browser.py).
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
import requests

from tests.browser import browser_session, look, reload_until, submit
from tests.e2e_people import register, shared_cloud
from tests.test_e2e_local import PASSWORD, _Cloud

pytestmark = pytest.mark.xdist_group("browser")
PHONE = "+79165551501"
PHONE_EN = "+79165551502"
SYSTEM = "Демо-госсистема"  # the name infra/local.py registers client demo-rp with
SIGNED_OUT_THERE = "Войти через Кабинет"


@pytest.fixture(scope="module")
def local() -> Iterator[_Cloud]:
    with shared_cloud() as cloud:
        yield cloud


def _start_at_the_system(page: Any, local: _Cloud, shot: str) -> None:
    """The system's home page while signed out there, then its «Войти через Кабинет»."""
    page.goto(f"{local.demo_rp}/")
    look(page, shot)
    link = page.get_by_role("link", name=SIGNED_OUT_THERE)
    assert link.is_visible()
    with page.expect_navigation():
        link.click()
    page.wait_for_load_state()


def _kabinet_sign_in(page: Any, local: _Cloud, shot: str, login: str = "Телефон, e-mail или СНИЛС",
                     password: str = "Пароль", button: str = "Войти", phone: str = PHONE) -> None:
    """Kabinet's own sign-in page, reached from the system, filled as a person does."""
    assert page.url.startswith(f"{local.base}/login"), page.url
    look(page, shot)
    page.get_by_label(login).fill(phone)
    page.get_by_label(password).fill(PASSWORD)
    submit(page, button)


def _claims(page: Any) -> dict[str, str]:
    """The system's table of what Kabinet sent: claim name → shown value."""
    rows = page.locator("table tbody tr")
    return {rows.nth(i).locator("td").nth(0).inner_text().strip(): rows.nth(i).locator("td").nth(1).inner_text()
            .strip() for i in range(rows.count())}


def _on_the_systems_claims(page: Any, local: _Cloud, shot: str) -> dict[str, str]:
    assert page.url.startswith(f"{local.demo_rp}/callback"), page.url
    look(page, shot)
    assert page.get_by_role("heading", name="Вход выполнен").is_visible()
    return _claims(page)


def test_sign_in_to_the_demo_system_consent_once_revoke_and_sign_out_both_ways(local: _Cloud) -> None:
    register(requests.Session(), local, PHONE, last_name="Соколова", first_name="Мария")
    with browser_session() as context:
        page = context.new_page()

        # 1. From the system to Kabinet's sign-in, consent, and back with the claims.
        _start_at_the_system(page, local, "sso-rp-home")
        _kabinet_sign_in(page, local, "sso-kabinet-login")
        assert page.url.startswith(f"{local.base}/login/authorize"), page.url
        look(page, "sso-consent")
        assert page.get_by_role("heading", name=f"Вход в систему «{SYSTEM}»").is_visible()
        asked = page.locator("main ul.scopes").inner_text()
        for data in ("Фамилия, имя, отчество", "Дата рождения", "СНИЛС", "ИНН"):  # the scopes demo-rp asks
            assert data in asked, asked
        submit(page, "Разрешить и войти")
        claims = _on_the_systems_claims(page, local, "sso-rp-claims")
        assert claims["family_name"] == "Соколова" and claims["given_name"] == "Мария", claims
        assert claims["acr"] == "urn:kabinet:loa:simplified", claims  # a freshly registered account
        assert "pwd" in claims["amr"], claims
        first_sub = claims["sub"]

        # 2. Again: the consent is remembered, so Kabinet sends the person straight back.
        page.goto(f"{local.demo_rp}/")
        assert page.get_by_role("heading", name="Вход выполнен").is_visible()
        page.goto(f"{local.demo_rp}/login")
        again = _on_the_systems_claims(page, local, "sso-rp-claims-again")
        assert again["sub"] == first_sub and again["family_name"] == "Соколова", again

        # 3. The account's list of systems; revoking the consent.
        page.goto(f"{local.base}/security/systems")
        look(page, "sso-systems")
        row = page.get_by_role("row", name=SYSTEM)
        assert row.is_visible() and "Фамилия, имя, отчество" in row.inner_text()
        submit(page, f"Отозвать {SYSTEM}")
        look(page, "sso-systems-revoked")
        assert page.get_by_role("status").inner_text().startswith("Согласие отозвано")
        assert "Отозвано" in page.get_by_role("row", name=SYSTEM).inner_text()

        # 4. The system's «Выйти»: RP-initiated logout at Kabinet, and back to the system, signed out of both.
        page.goto(f"{local.demo_rp}/")
        assert page.get_by_role("heading", name="Вход выполнен").is_visible()  # revoking ends no session there
        submit(page, "Выйти")
        assert page.url.startswith(f"{local.demo_rp}/?state="), page.url
        look(page, "sso-rp-signed-out")
        assert page.get_by_role("status").inner_text() == "Вы вышли из Демо-госсистемы и из Кабинета."
        assert page.get_by_role("link", name=SIGNED_OUT_THERE).is_visible()
        page.goto(f"{local.base}/security/systems")
        assert page.url.startswith(f"{local.base}/login"), f"Kabinet's session ended too: {page.url}"

        # 5. Back-channel: signed in again (consent asked again, it was revoked), then out in Kabinet.
        _start_at_the_system(page, local, "sso-rp-home-again")
        _kabinet_sign_in(page, local, "sso-kabinet-login-again")
        assert page.url.startswith(f"{local.base}/login/authorize"), f"consent asked again: {page.url}"
        look(page, "sso-consent-again")
        submit(page, "Разрешить и войти")
        assert _on_the_systems_claims(page, local, "sso-rp-claims-third")["sub"] == first_sub
        page.goto(f"{local.base}/security/systems")
        look(page, "sso-systems-active-again")
        with page.expect_navigation():
            page.locator("header").get_by_role("button", name="Выйти").click()
        look(page, "sso-kabinet-signed-out")
        page.goto(f"{local.demo_rp}/")
        reload_until(page, "the system signs the person out on Kabinet's logout token",
                     lambda: page.get_by_role("link", name=SIGNED_OUT_THERE).count() == 1)
        look(page, "sso-rp-signed-out-by-kabinet")


def test_the_consent_page_in_english(local: _Cloud) -> None:
    register(requests.Session(), local, PHONE_EN, last_name="Орлов", first_name="Илья")
    with browser_session(locale="en-US") as context:
        page = context.new_page()
        _start_at_the_system(page, local, "sso-rp-home-en")
        _kabinet_sign_in(page, local, "sso-kabinet-login-en", login="Phone, e-mail or SNILS", password="Password",
                         button="Sign in", phone=PHONE_EN)
        assert page.url.startswith(f"{local.base}/login/authorize"), page.url
        assert page.locator("html").get_attribute("lang") == "en"
        look(page, "sso-consent-en")
        text = page.locator("main").inner_text()
        assert SYSTEM in text and "Last name, first name, patronymic" in text, text
        assert "Разрешить и войти" not in text
        submit(page, "Allow and sign in")
        assert _on_the_systems_claims(page, local, "sso-rp-claims-en")["family_name"] == "Орлов"
