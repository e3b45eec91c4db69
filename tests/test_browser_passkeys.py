"""Browser journey of passkeys (AU-4) with Chromium's virtual authenticator (the CDP WebAuthn domain): enrol on
/security/passkeys, sign out, sign in without a password, sign in with password + passkey, remove it (the owner
is told); the assertion the browser sent, replayed over the API, is refused. axe-core on every page.

The pages are opened at http://localhost:<port>: Chromium refuses an IP address as the WebAuthn RP ID, so the
local cloud's relying party is `localhost` (docs/web-passkeys.md).
"""

from __future__ import annotations

import json
import urllib.parse
from collections.abc import Iterator

import pytest
import requests

from tests.browser import browser_session, look, submit
from tests.e2e_people import register, shared_cloud
from tests.test_e2e_local import PASSWORD, _Cloud, _outbox

pytestmark = pytest.mark.xdist_group("browser")
PHONE = "+79165551301"


@pytest.fixture(scope="module")
def local() -> Iterator[_Cloud]:
    with shared_cloud() as cloud:
        yield cloud


def _authenticator(context, page) -> None:
    cdp = context.new_cdp_session(page)
    cdp.send("WebAuthn.enable")
    cdp.send("WebAuthn.addVirtualAuthenticator", {"options": {
        "protocol": "ctap2", "transport": "internal", "hasResidentKey": True, "hasUserVerification": True,
        "isUserVerified": True}})


def _password(page, base: str) -> None:
    page.goto(f"{base}/login")
    page.get_by_label("Телефон, e-mail или СНИЛС").fill(PHONE)
    page.get_by_label("Пароль").fill(PASSWORD)
    submit(page, "Войти")


def test_enrol_sign_in_without_a_password_second_factor_and_remove(local: _Cloud) -> None:
    http = requests.Session()
    register(http, local, PHONE, last_name="Соколова", first_name="Мария")
    base = local.base.replace("127.0.0.1", "localhost")
    with browser_session() as context:
        page = context.new_page()
        _authenticator(context, page)
        _password(page, base)
        assert "/login" not in page.url, page.url
        page.goto(f"{base}/security/passkeys")
        look(page, "passkeys-empty")
        assert page.get_by_text("Ключей доступа пока нет").is_visible()
        page.get_by_label("Название ключа").fill("Ноутбук")
        submit(page, "Добавить ключ доступа")
        look(page, "passkeys-added")
        assert page.get_by_role("status").inner_text().startswith("Ключ доступа добавлен"), page.content()[:2000]
        assert page.get_by_role("rowheader", name="Ноутбук").is_visible()

        submit(page, "Выйти")
        assert "/login" in page.url
        look(page, "login-with-passkey-button")
        page.get_by_role("link", name="Войти с ключом доступа").click()
        page.wait_for_url("**/login/passkey**")
        look(page, "login-passkey")
        with page.expect_request(lambda r: r.method == "POST" and "/login/passkey" in r.url) as sent:
            submit(page, "Войти с ключом доступа")
        assert page.get_by_role("heading", name="Личный кабинет").is_visible(), page.url
        form = urllib.parse.parse_qs(sent.value.post_data or "")
        replay = {"challenge_id": form["challenge_id"][0], "credential": json.loads(form["credential"][0])}
        refused = http.post(f"{local.base}/auth/passkey", json=replay, timeout=10)
        assert refused.status_code == 401, refused.text
        assert refused.json()["error"]["code"] == "PASSKEY_CHALLENGE_INVALID", refused.text

        submit(page, "Выйти")
        _password(page, base)
        assert "/login/second-factor" in page.url, page.url
        look(page, "second-factor-passkey")
        submit(page, "Подтвердить ключом доступа")
        assert page.get_by_role("heading", name="Личный кабинет").is_visible(), page.url

        page.goto(f"{base}/security/passkeys")
        assert page.get_by_role("cell", name="ещё не использовался").count() == 0, "the last sign-in is shown"
        submit(page, "Удалить Ноутбук")
        look(page, "passkeys-removed")
        assert page.get_by_role("status").inner_text().startswith("Ключ доступа удалён")
        assert page.get_by_text("Ключей доступа пока нет").is_visible()
    texts = [m["text"] for m in _outbox(http, local, PHONE, lambda ms: any("удалён ключ" in m["text"] for m in ms))]
    assert any("добавлен ключ доступа «Ноутбук»" in t for t in texts), texts
    assert any("удалён ключ доступа «Ноутбук»" in t for t in texts), texts


def test_without_javascript_the_page_says_a_passkey_needs_it(local: _Cloud) -> None:
    base = local.base.replace("127.0.0.1", "localhost")
    with browser_session(javascript=False) as context:
        page = context.new_page()
        page.goto(f"{base}/login/passkey")
        assert page.get_by_text("Для ключа доступа нужен JavaScript").is_visible()
        assert not page.get_by_role("button", name="Войти с ключом доступа").is_visible()
        assert page.get_by_role("link", name="Войти по паролю").is_visible()
        html = page.content()
    # axe-core is a script: it cannot run where JavaScript is off, so the page as served without it is checked in
    # a browser with JavaScript, off its origin (its relative script never loads, so it stays as it was), with
    # the site's style sheet added by hand.
    css = requests.get(f"{local.base}/static/kabinet.css", timeout=10).text
    with browser_session() as context:
        page = context.new_page()
        page.set_content(html)
        page.add_style_tag(content=css)
        look(page, "nojs-login-passkey")
