"""Browser journeys through the security settings (real Chromium on the local cloud): the authenticator app with
its QR code and backup codes shown once, then a sign-in with it; sessions with "end"; login history with filters,
the CSV and "not me"; a wrong code. The API sets up the people; the pages are what is tested. axe-core runs on
every page visited (tests/browser.py)."""

from __future__ import annotations

import csv
import io
import pathlib
import time
from collections.abc import Iterator
from datetime import datetime, timedelta, timezone
from typing import Any

import pyotp
import pytest
import requests

from tests.browser import browser_session, look, submit
from tests.e2e_people import ok, post, register, shared_cloud
from tests.test_e2e_local import CODE, PASSWORD, _Cloud, _outbox

# Its own group (so another worker than the other journeys): the longest module, mostly waiting out the per-IP limit.
pytestmark = pytest.mark.xdist_group("browser-security")
MSK = timezone(timedelta(hours=3))


@pytest.fixture(scope="module")
def local() -> Iterator[_Cloud]:
    with shared_cloud() as cloud:
        yield cloud


def _sign_in(page: Any, cloud: _Cloud, phone: str, shots: str) -> None:
    page.goto(f"{cloud.base}/login")
    page.get_by_label("Телефон, e-mail или СНИЛС").fill(phone)
    page.get_by_label("Пароль").fill(PASSWORD)
    submit(page, "Войти")
    look(page, f"{shots}-signed-in")


def _start_totp(page: Any, cloud: _Cloud, shots: str) -> str:
    page.goto(f"{cloud.base}/security")
    look(page, f"{shots}-overview")
    submit(page, "Подключить приложение-аутентификатор")
    look(page, f"{shots}-totp-qr")
    qr = page.get_by_role("img", name="QR-код для приложения-аутентификатора")
    assert qr.is_visible() and qr.evaluate("img => img.naturalWidth") > 0, "the QR code is drawn"
    return page.locator("#totp-secret").inner_text().strip()


def _next_code(secret: str, after_step: int) -> str:
    """A code of a newer time step than `after_step`: a TOTP code is accepted once (AU-4)."""
    totp = pyotp.TOTP(secret)
    while totp.timecode(datetime.now()) <= after_step:
        time.sleep(0.5)
    return totp.now()


def test_enrol_the_authenticator_app_see_backup_codes_once_and_sign_in_with_it(local: _Cloud) -> None:
    phone = "+79165553301"
    register(requests.Session(), local, phone)
    with browser_session() as context:
        page = context.new_page()
        _sign_in(page, local, phone, "sec-totp")
        secret = _start_totp(page, local, "sec-totp")
        totp = pyotp.TOTP(secret)
        step = totp.timecode(datetime.now())
        page.get_by_label("Код из приложения").fill(totp.now())
        submit(page, "Подключить")
        assert page.url.endswith("/security/backup-codes"), page.url
        look(page, "sec-totp-backup-codes")
        codes = page.locator(".security-codes code").all_inner_texts()
        assert len(codes) == 10 and all(len(c) == 11 and c[5] == "-" for c in codes), codes
        page.reload()
        look(page, "sec-totp-backup-codes-again")
        assert page.locator(".security-codes").count() == 0, "backup codes are shown once"
        assert "только один раз" in page.locator("main").inner_text()
        page.goto(f"{local.base}/security")
        assert "Не подключено" not in page.locator("#h-factors + dl").inner_text()
        submit(page, "Выйти")
        page.get_by_label("Телефон, e-mail или СНИЛС").fill(phone)
        page.get_by_label("Пароль").fill(PASSWORD)
        submit(page, "Войти")
        assert "/login/second-factor" in page.url, page.url
        look(page, "sec-totp-second-factor")
        page.get_by_label("Код из приложения-аутентификатора").fill(_next_code(secret, step))
        submit(page, "Подтвердить")
        assert page.url.rstrip("/") == local.base, page.url
        page.goto(f"{local.base}/security")
        look(page, "sec-totp-overview-on")
        assert page.get_by_role("link", name="Отключить вход через приложение").is_visible()


def test_a_wrong_authenticator_code_shows_the_field_error(local: _Cloud) -> None:
    phone = "+79165553302"
    register(requests.Session(), local, phone)
    with browser_session() as context:
        page = context.new_page()
        _sign_in(page, local, phone, "sec-wrong")
        secret = _start_totp(page, local, "sec-wrong")
        right = pyotp.TOTP(secret).now()
        page.get_by_label("Код из приложения").fill(f"{(int(right) + 500_000) % 1_000_000:06d}")
        submit(page, "Подключить")
        look(page, "sec-wrong-code")
        summary = page.locator(".error-summary")
        assert "Неверный код" in summary.inner_text(), summary.inner_text()
        assert summary.locator("a[href='#f-code']").count() == 1
        field = page.get_by_label("Код из приложения")
        assert field.get_attribute("aria-invalid") == "true"
        assert "Неверный код" in page.locator("#f-code-error").inner_text()
        assert page.locator("#totp-secret").inner_text().strip() == secret, "the key stays on the page"
        field.fill("12ab")
        submit(page, "Подключить")
        look(page, "sec-wrong-format")
        assert "6 цифр" in page.locator("#f-code-error").inner_text()
        page.get_by_label("Код из приложения").fill(pyotp.TOTP(secret).now())
        submit(page, "Подключить")
        assert page.url.endswith("/security/backup-codes"), page.url


def test_sessions_list_and_ending_the_other_session(local: _Cloud) -> None:
    phone = "+79165553303"
    api = register(requests.Session(), local, phone)  # the API's session
    with browser_session() as context:
        page = context.new_page()
        _sign_in(page, local, phone, "sec-sessions")  # the browser's
        page.goto(f"{local.base}/security/sessions")
        look(page, "sec-sessions-two")
        rows = page.locator("table.security-table tbody tr")
        assert rows.count() == 2, rows.all_inner_texts()
        assert page.locator("tr.security-current").count() == 1
        other = page.locator("table.security-table tbody tr:not(.security-current)")
        with page.expect_navigation():
            other.get_by_role("button").click()
        look(page, "sec-sessions-ended")
        assert "Сеанс завершён" in page.locator("main").inner_text()
        assert rows.count() == 1 and page.locator("tr.security-current").count() == 1, rows.all_inner_texts()
        refused = requests.post(f"{local.base}/auth/token/refresh", json={"refresh_token": api["refresh_token"]},
                                timeout=10)
        assert refused.status_code == 401, refused.text
        page.goto(f"{local.base}/security/sessions")
        assert page.locator("table.security-table tbody tr").count() == 1, "the browser session lives on"


def test_login_history_filters_csv_and_not_me(local: _Cloud) -> None:
    phone = "+79165553304"
    http = requests.Session()
    api = register(http, local, phone)
    wrong = post(http, local, "/auth/login", {"login": phone, "password": "Wrong-password-1"})
    assert wrong.status_code == 401, wrong.text
    today = datetime.now(MSK).date().isoformat()
    with browser_session() as context:
        page = context.new_page()
        _sign_in(page, local, phone, "sec-history")
        page.goto(f"{local.base}/security/login-history")
        look(page, "sec-history-all")
        rows = page.locator("table.security-table tbody tr")
        texts = rows.all_inner_texts()
        assert any("Ошибка" in t for t in texts) and any("Успешно" in t for t in texts), texts
        # bad filters: the field errors on the page
        page.get_by_label("С даты").fill(today)
        page.get_by_label("По дату").fill((datetime.now(MSK).date() - timedelta(days=1)).isoformat())
        submit(page, "Показать")
        look(page, "sec-history-bad-filter")
        assert page.locator(".error-summary").is_visible() and page.locator("#f-from-error").is_visible()
        page.get_by_label("По дату").fill(today)
        page.get_by_label("Результат").select_option("success")
        submit(page, "Показать")
        look(page, "sec-history-filtered")
        texts = rows.all_inner_texts()
        assert texts and all("Успешно" in t for t in texts), texts
        assert f"from={today}" in page.url and "result=success" in page.url, page.url
        with page.expect_download() as info:
            page.get_by_role("link", name="Скачать в CSV").click()
        download = info.value
        assert download.suggested_filename == "login-history.csv"
        table = list(csv.reader(io.StringIO(pathlib.Path(download.path()).read_text(encoding="utf-8"))))
        assert table[0][:2] == ["Дата и время (МСК)", "IP-адрес"] and table[0][-1] == "Результат", table[0]
        assert len(table) >= 3 and all(r[-1] == "Успешно" for r in table[1:]), table  # registration + browser
        assert table[1][0].startswith(datetime.now(MSK).strftime("%d.%m.%Y")), table[1]
        # "Это был не я" on the failed attempt: choose not to block; every session ends, this one too
        page.goto(f"{local.base}/security/login-history?result=failure")
        with page.expect_navigation():
            page.get_by_role("link", name="Это был не я").first.click()
        look(page, "sec-not-me")
        submit(page, "Подтвердить")
        look(page, "sec-not-me-no-choice")
        assert "Выберите" in page.locator("#f-block-error").inner_text()
        page.get_by_label("Нет, только завершить сеансы и сменить пароль").check()
        submit(page, "Подтвердить")
        look(page, "sec-not-me-done")
        assert page.get_by_role("heading", name="Сеансы завершены").is_visible()
        refused = requests.post(f"{local.base}/auth/token/refresh", json={"refresh_token": api["refresh_token"]},
                                timeout=10)
        assert refused.status_code == 401, refused.text
        page.goto(f"{local.base}/security")
        assert "/login" in page.url, "the browser's session ended too"
    again = ok(post(http, local, "/auth/login", {"login": phone, "password": PASSWORD}))
    assert again.get("password_expired") and again["reason"] == "not_me", again


def _new_code(cloud: _Cloud, to: str, seen: int) -> tuple[str, int]:
    """The code of the newest message to `to` once more than `seen` have arrived (the pump is asynchronous)."""
    found = _outbox(requests.Session(), cloud, to, lambda ms: len([m for m in ms if CODE.search(m["text"])]) > seen)
    coded = sorted((m for m in found if CODE.search(m["text"])), key=lambda m: m["at"])
    return CODE.search(coded[-1]["text"]).group(), len(coded)  # type: ignore[union-attr]


def test_sms_factor_ip_allowlist_contact_change_and_turning_the_app_off(local: _Cloud) -> None:
    phone, email = "+79165553305", "sokolova.sec@example.ru"
    register(requests.Session(), local, phone)
    _, seen = _new_code(local, phone, 0)
    with browser_session() as context:
        page = context.new_page()
        _sign_in(page, local, phone, "sec-more")
        # SMS codes as the second factor: the first factor brings the backup codes
        page.goto(f"{local.base}/security/sms")
        look(page, "sec-sms")
        submit(page, "Отправить код")
        look(page, "sec-sms-sent")
        code, seen = _new_code(local, phone, seen)
        page.get_by_label("Код из SMS").fill(code)
        submit(page, "Подключить")
        assert page.url.endswith("/security/backup-codes") and page.locator(".security-codes li").count() == 10
        # the IP allowlist: a bad line is named, then the code confirms the list
        page.goto(f"{local.base}/security/ip-allowlist")
        look(page, "sec-allowlist")
        submit(page, "Отправить код")
        code, seen = _new_code(local, phone, seen)
        page.get_by_label("Адреса и сети").fill("127.0.0.0/8\nне адрес")
        page.get_by_label("Код подтверждения").fill(code)
        submit(page, "Сохранить")
        look(page, "sec-allowlist-error")
        assert "Строка 2" in page.locator("#f-cidrs-error").inner_text(), page.locator("main").inner_text()
        page.get_by_label("Адреса и сети").fill("127.0.0.0/8")
        page.get_by_label("Код подтверждения").fill(code)
        submit(page, "Сохранить")
        look(page, "sec-allowlist-saved")
        assert "Список разрешённых IP-адресов сохранён" in page.locator("main").inner_text()
        assert "127.0.0.0/8" in page.locator("#h-allowlist + ul").inner_text()
        # a new e-mail proves itself with a code sent to it
        page.goto(f"{local.base}/security/contacts/email")
        look(page, "sec-email")
        page.get_by_label("Электронная почта").fill("не почта")
        submit(page, "Получить код")
        look(page, "sec-email-error")
        assert page.locator("#f-value-error").is_visible()
        page.get_by_label("Электронная почта").fill(email)
        submit(page, "Получить код")
        look(page, "sec-email-code")
        code, _ = _new_code(local, email, 0)
        page.get_by_label("Код подтверждения").fill(code)
        submit(page, "Подтвердить")
        assert "Адрес электронной почты изменён" in page.locator("main").inner_text()
        assert email in page.locator("#h-contacts + dl").inner_text()
        # the app on, then off again with the password and a current code
        secret = _start_totp(page, local, "sec-more")
        step = pyotp.TOTP(secret).timecode(datetime.now())
        page.get_by_label("Код из приложения").fill(pyotp.TOTP(secret).now())
        submit(page, "Подключить")
        assert page.url.endswith("/security?done=totp_on"), "backup codes came with the first factor already"
        page.goto(f"{local.base}/security/totp/disable")
        look(page, "sec-totp-disable")
        page.get_by_label("Пароль").fill("Wrong-password-1")
        page.get_by_label("Код из приложения").fill("000000")
        submit(page, "Отключить")
        look(page, "sec-totp-disable-error")
        assert "Неверный пароль" in page.locator("#f-password-error").inner_text()
        page.get_by_role("textbox", name="Пароль").fill(PASSWORD)
        page.get_by_role("textbox", name="Код из приложения").fill(_next_code(secret, step))
        submit(page, "Отключить")
        look(page, "sec-totp-off")
        assert "Вход через приложение отключён" in page.locator("main").inner_text()


def test_security_pages_ask_to_sign_in_and_the_csv_is_no_open_door(local: _Cloud) -> None:
    for path in ("/security", "/security/sessions", "/security/login-history.csv?result=success",
                 "/security/backup-codes"):
        resp = requests.get(f"{local.base}{path}", allow_redirects=False, timeout=10)
        assert resp.status_code == 303 and resp.headers["Location"].startswith("/login?next="), (path, resp.text)
    refused = requests.post(f"{local.base}/security/sessions/end-others", data={"x": "1"}, allow_redirects=False,
                            timeout=10)
    assert refused.status_code == 403, "no CSRF token, no action"
