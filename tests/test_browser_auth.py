"""Browser journeys (real Chromium on the local cloud): registration, sign-in, the language switch, and the forms
without JavaScript. axe-core runs on every page visited (tests/browser.py)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
import requests

from tests.browser import browser_session, look, submit
from tests.e2e_people import shared_cloud
from tests.test_e2e_local import CODE, PASSWORD, _Cloud, _outbox

pytestmark = pytest.mark.xdist_group("browser")


@pytest.fixture(scope="module")
def local() -> Iterator[_Cloud]:
    with shared_cloud() as cloud:
        yield cloud


def _code(cloud: _Cloud, phone: str) -> str:
    sms = _outbox(requests.Session(), cloud, phone, lambda ms: any(CODE.search(m["text"]) for m in ms))
    return CODE.search(next(m["text"] for m in sms if CODE.search(m["text"]))).group()  # type: ignore[union-attr]


def _register(page, cloud: _Cloud, phone: str, shots: str = "register") -> None:
    page.goto(f"{cloud.base}/register")
    look(page, f"{shots}-start")
    page.get_by_label("Фамилия").fill("Соколова")
    page.get_by_label("Имя", exact=True).fill("Мария")
    page.get_by_label("Мобильный телефон").fill(phone)
    submit(page, "Получить код")
    look(page, f"{shots}-code")
    page.get_by_label("Код").fill(_code(cloud, phone))
    submit(page, "Подтвердить")
    look(page, f"{shots}-password")
    page.get_by_label("Пароль", exact=True).fill(PASSWORD)
    page.get_by_label("Повторите пароль").fill(PASSWORD)
    submit(page, "Создать учётную запись")


def test_register_sign_out_and_sign_in_again(local: _Cloud) -> None:
    with browser_session() as context:
        page = context.new_page()
        _register(page, local, "+79165551201")
        assert page.url.startswith(f"{local.base}/") and "/register" not in page.url, page.url
        look(page, "after-registration")
        cookies = {c["name"]: c for c in context.cookies()}
        assert cookies["kabinet-session"]["httpOnly"] and cookies["kabinet-refresh"]["httpOnly"], cookies
        assert cookies["kabinet-session"]["sameSite"] == "Lax", cookies
        # Tokens never reach JavaScript: the page's script sees no session cookie.
        assert "kabinet-session" not in page.evaluate("() => document.cookie")
        page.goto(f"{local.base}/")
        look(page, "home")
        assert page.get_by_role("heading", name="Личный кабинет").is_visible()
        submit(page, "Выйти")
        assert "/login" in page.url
        page.goto(f"{local.base}/")
        assert "/login" in page.url, "signed out: the main page asks to sign in"
        page.get_by_label("Телефон, e-mail или СНИЛС").fill("+7 916 555-12-01")
        page.get_by_label("Пароль").fill(PASSWORD)
        submit(page, "Войти")
        assert page.url.rstrip("/") == local.base, page.url
        assert page.get_by_role("heading", name="Личный кабинет").is_visible()


def test_a_wrong_password_shows_the_error_summary_linked_to_the_field(local: _Cloud) -> None:
    with browser_session() as context:
        page = context.new_page()
        page.goto(f"{local.base}/login")
        page.get_by_label("Телефон, e-mail или СНИЛС").fill("")
        page.get_by_label("Пароль").fill("")
        submit(page, "Войти")
        look(page, "login-errors")
        summary = page.locator(".error-summary")
        assert summary.is_visible()
        link = summary.locator("a[href='#f-login']")
        assert link.count() == 1
        assert page.evaluate("() => document.activeElement.classList.contains('error-summary')"), \
            "the summary takes focus"
        link.click()
        assert page.evaluate("() => document.activeElement.id") == "f-login"
        page.get_by_label("Телефон, e-mail или СНИЛС").fill("+79990000000")
        page.get_by_label("Пароль").fill("Wrong-password-1")
        submit(page, "Войти")
        assert "Неверный логин или пароль" in summary.inner_text(), summary.inner_text()


def test_the_language_switch_and_accept_language(local: _Cloud) -> None:
    with browser_session() as context:
        page = context.new_page()
        page.goto(f"{local.base}/login")
        assert page.locator("html").get_attribute("lang") == "ru"
        submit(page, "English")
        assert page.locator("html").get_attribute("lang") == "en"
        look(page, "login-en")
        assert page.get_by_role("heading", name="Sign in to your account").is_visible()
        page.get_by_label("Phone, e-mail or SNILS").fill("+79990000011")
        page.get_by_label("Password").fill("Wrong-password-1")
        submit(page, "Sign in")
        assert "Invalid login or password" in page.locator(".error-summary").inner_text()
        submit(page, "Русский")
        assert page.get_by_role("heading", name="Вход в личный кабинет").is_visible()
    with browser_session(locale="en-GB") as context:
        page = context.new_page()
        page.goto(f"{local.base}/register")
        assert page.locator("html").get_attribute("lang") == "en", "Accept-Language chooses English"
        look(page, "register-en")
    api = requests.post(f"{local.base}/auth/login", json={"login": "+79990000012", "password": "x"},
                        headers={"Accept-Language": "en"}, timeout=10)
    assert api.status_code == 401 and api.json()["error"]["message"] == "Invalid login or password", api.text


def test_registration_works_without_javascript(local: _Cloud) -> None:
    with browser_session(javascript=False) as context:
        page = context.new_page()
        _register(page, local, "+79165551202", shots="nojs-register")
        assert "/register" not in page.url, page.url
        look(page, "nojs-after-registration")
        assert page.get_by_role("heading", name="Личный кабинет").is_visible() or \
            page.get_by_role("heading", name="Профиль").is_visible()


def test_a_form_without_its_csrf_token_is_refused(local: _Cloud) -> None:
    resp = requests.post(f"{local.base}/login", data={"login": "+79990000000", "password": "x"},
                         allow_redirects=False, timeout=10)
    assert resp.status_code == 403 and "Срок действия формы истёк" in resp.text, resp.text[:300]
    page = requests.get(f"{local.base}/login", timeout=10)
    csp = page.headers["Content-Security-Policy"]
    assert "frame-ancestors 'none'" in csp and "'unsafe-inline'" not in csp and "'nonce-" in csp, csp
    assert page.headers["Referrer-Policy"] == "same-origin"


def test_the_password_policy_answers_as_you_type(local: _Cloud) -> None:
    with browser_session() as context:
        page = context.new_page()
        page.goto(f"{local.base}/register")
        page.get_by_label("Фамилия").fill("Соколова")
        page.get_by_label("Имя", exact=True).fill("Мария")
        page.get_by_label("Мобильный телефон").fill("+79165551203")
        submit(page, "Получить код")
        page.get_by_label("Код").fill(_code(local, "+79165551203"))
        submit(page, "Подтвердить")
        live = page.locator("#policy-live")
        page.get_by_label("Пароль", exact=True).press_sequentially("sokolova1", delay=20)
        live.get_by_text("Хотя бы одна заглавная буква").wait_for()
        assert "Пароль подходит" not in live.inner_text()
        look(page, "register-password-typing")
        page.get_by_label("Пароль", exact=True).fill("")
        page.get_by_label("Пароль", exact=True).press_sequentially(PASSWORD, delay=20)
        live.get_by_text("Пароль подходит").wait_for()
