"""Browser journeys of «Платежи» (real Chromium on the local cloud, the ГИС ГМП and acquirer simulators): the demo
citizen's debts of every kind (found by the profile's INN and SNILS) with the discounted fine; paying one by card,
the SMS code, the acquirer's card page and 3-D Secure, back to Kabinet: paid, the receipt, the history, the debt
closed; a declined card shows the bank's reason and the debt is payable again. axe-core runs on every page
visited, the acquirer's pages too (tests/browser.py)."""

from __future__ import annotations

import re
import time
from collections.abc import Iterator
from datetime import date, timedelta
from typing import Any

import pytest
import requests

from infra.seed import DEMO_PASSWORD
from tests.browser import browser_session, look, submit
from tests.e2e_people import shared_cloud
from tests.test_e2e_local import _Cloud, _outbox

pytestmark = pytest.mark.xdist_group("browser")
DEMO_PHONE = "+79990000001"
PAYMENT_PAGE = re.compile(r"/pay/([0-9A-Z]{26})(\?.*)?$")
CODE = re.compile(r"(?<!\d)\d{6}(?!\d)")
MARKER = "Код для оплаты"
SUCCESS, DECLINED = "2200 0000 0000 0004", "2200 0000 0000 0012"
SETTLE_SECONDS = 20  # the pump runs the webhooks and the agency worker (receipt, marks) every fraction of a second


@pytest.fixture(scope="module")
def local() -> Iterator[_Cloud]:
    with shared_cloud() as cloud:
        yield cloud


def _sign_in(page: Any, cloud: _Cloud, next_path: str) -> None:
    page.goto(f"{cloud.base}/login?next={next_path}")
    page.get_by_label("Телефон, e-mail или СНИЛС").fill(DEMO_PHONE)
    page.get_by_label("Пароль").fill(DEMO_PASSWORD)
    submit(page, "Войти")
    assert page.url.startswith(f"{cloud.base}{next_path}"), page.url


def _codes(cloud: _Cloud) -> list[str]:
    messages = requests.get(f"{cloud.base}/dev/outbox", params={"to": DEMO_PHONE}, timeout=10).json()
    return [m["text"] for m in messages if MARKER in m["text"]]


def _new_code(cloud: _Cloud, seen: int) -> str:
    """The payment code the pump delivers to the demo phone: the newest of more than `seen` such messages."""
    found = _outbox(requests.Session(), cloud, DEMO_PHONE,
                    lambda ms: len([m for m in ms if MARKER in m["text"]]) > seen)
    text = next(m["text"] for m in found if MARKER in m["text"])
    return CODE.search(text).group()


def _until(page: Any, what: str, probe: Any) -> None:
    """Reload the page (as a person presses «Обновить») until `probe()` holds."""
    deadline = time.monotonic() + SETTLE_SECONDS
    while not probe():
        assert time.monotonic() < deadline, f"{what}: not within {SETTLE_SECONDS} s ({page.url})"
        time.sleep(0.4)
        page.reload()


def _pay_by_card(page: Any, cloud: _Cloud, uin: str, number: str, shots: str) -> str:
    """Select one debt on /pay, pay it by a new card: the code, the acquirer's pages; back on /pay/{id}."""
    seen = len(_codes(cloud))
    page.locator(f'input[name="uins"][value="{uin}"]').check()
    page.locator('input[name="method"][value="card"]').check()
    submit(page, "Оплатить выбранные")
    found = PAYMENT_PAGE.search(page.url)
    assert found, page.url
    payment_id = found.group(1)
    look(page, f"{shots}-confirm")
    assert page.get_by_text("Осталось попыток: 3").is_visible()
    assert page.get_by_label("Код подтверждения").get_attribute("autocomplete") == "one-time-code"
    page.get_by_label("Код подтверждения").fill(_new_code(cloud, seen))
    submit(page, "Подтвердить")
    assert f"/pay/{payment_id}" in page.url, page.url
    look(page, f"{shots}-confirmed")
    with page.expect_navigation():
        page.get_by_role("link", name="Перейти к оплате").click()
    assert "/dev/acquirer/pay/" in page.url, page.url
    look(page, f"{shots}-acquirer-card")
    page.get_by_label("Номер карты").fill(number)
    page.get_by_label("Срок действия").fill((date.today() + timedelta(days=800)).strftime("%m/%y"))
    page.get_by_label("CVC").fill("123")
    page.get_by_label("Имя владельца").fill("IVAN PETROV")
    with page.expect_navigation():
        page.get_by_role("button", name=re.compile("^Оплатить")).click()
    look(page, f"{shots}-acquirer-3ds")
    page.get_by_label("Код из SMS банка").fill("123456")
    with page.expect_navigation():
        page.get_by_role("button", name="Подтвердить").click()
    if "/dev/acquirer/" in page.url:  # the acquirer's last page, with the way back
        look(page, f"{shots}-acquirer-done")
        with page.expect_navigation():
            page.get_by_role("link", name=re.compile("Вернуться")).click()
    assert f"/pay/{payment_id}?" in page.url and "ref=" in page.url, page.url
    return payment_id


def _row(page: Any, uin: str) -> Any:
    return page.locator(f'tr[data-uin="{uin}"]')


def test_pay_a_fine_by_card_receipt_history_and_the_debt_closed(local: _Cloud) -> None:
    with browser_session() as context:
        page = context.new_page()
        _sign_in(page, local, "/pay")
        look(page, "pay-debts")
        for kind in ("Налоги", "Штрафы", "Госпошлины", "ЖКУ"):
            assert page.get_by_role("heading", name=kind).is_visible(), kind
        assert page.get_by_role("link", name="Платежи").get_attribute("aria-current") == "page"
        assert page.get_by_text(re.compile(r"до 150\u00a0000,00\u00a0₽ за операцию")).is_visible(), "limits shown"
        discounted = page.locator("tr:has(.discount)")
        assert discounted.count() == 1, "one fine inside its discount days"
        assert re.search(r"скидка до \d\d\.\d\d\.\d{4}", discounted.inner_text())
        assert re.search(r"\d,\d\d\u00a0₽", discounted.inner_text()), discounted.inner_text()
        uin = discounted.get_attribute("data-uin")

        page.goto(f"{local.base}/pay?kind=fine")
        look(page, "pay-debts-fines")
        assert page.locator("tr[data-uin]").count() == 2 and not page.get_by_role("heading", name="Налоги").count()
        page.goto(f"{local.base}/pay")
        submit(page, "Оплатить выбранные")
        look(page, "pay-debts-nothing-chosen")
        assert page.locator(".error-summary a[href='#f-uins']").count() == 1

        payment_id = _pay_by_card(page, local, uin, SUCCESS, "pay-success")
        _until(page, "paid with a receipt", lambda: page.get_by_role("link", name="Квитанция об оплате").count() > 0)
        assert page.get_by_role("heading", level=1, name="Оплачено").is_visible()
        look(page, "pay-success")
        assert page.get_by_text("ОКТМО").is_visible() and page.get_by_text(uin).first.is_visible(), "requisites"
        page.get_by_role("link", name="Квитанция об оплате").click()
        page.wait_for_url(re.compile(r"/my-documents/[0-9A-Z]{26}$"))
        look(page, "pay-receipt")

        page.goto(f"{local.base}/pay/history")
        look(page, "pay-history")
        row = page.locator(f'tr[data-payment="{payment_id}"]')
        assert row.get_attribute("data-status") == "success" and "Оплачено" in row.inner_text()
        page.goto(f"{local.base}/pay/history?status=successful")
        look(page, "pay-history-successful")
        assert page.locator(f'tr[data-payment="{payment_id}"]').count() == 1
        page.locator(f'tr[data-payment="{payment_id}"] a').click()
        page.wait_for_url(f"**/pay/{payment_id}")

        page.goto(f"{local.base}/pay")
        _until(page, "the debt closed", lambda: _row(page, uin).get_attribute("data-status") == "closed")
        look(page, "pay-debts-after")
        assert _row(page, uin).locator("input[type=checkbox]").count() == 0, "a paid debt cannot be chosen again"


def test_a_declined_card_shows_the_reason_and_the_debt_is_payable_again(local: _Cloud) -> None:
    with browser_session() as context:
        page = context.new_page()
        _sign_in(page, local, "/pay?kind=tax")
        look(page, "pay-taxes")
        uin = page.locator('tr[data-status="active"]').first.get_attribute("data-uin")
        _pay_by_card(page, local, uin, DECLINED, "pay-declined")
        assert page.get_by_role("heading", level=1, name="Платёж не прошёл").is_visible()
        assert page.get_by_text("Банк отклонил платёж").is_visible()
        look(page, "pay-declined")
        page.goto(f"{local.base}/pay")
        _until(page, "the debt free again", lambda: _row(page, uin).get_attribute("data-status") == "active")
        assert _row(page, uin).locator("input[type=checkbox]").is_enabled()
        look(page, "pay-debts-after-decline")
        page.goto(f"{local.base}/pay/cards")
        look(page, "pay-cards")
        assert page.get_by_role("button", name="Добавить карту").is_visible()


def _look_without_js(page: Any, checker: Any, name: str) -> None:
    """axe-core cannot run in a page whose scripts are off: the page is screenshotted as seen, and its very HTML
    is checked by axe in a page of the same origin that runs scripts (as test_browser_documents.py does)."""
    from tests.browser import SHOTS

    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / f"{name}.png"), full_page=True)
    origin = re.match(r"https?://[^/]+", page.url).group()
    checker.goto(f"{origin}/check")
    checker.set_content(page.content().replace('<script type="module"', '<script type="text/plain"'))
    look(checker, f"{name}-axe")


def test_without_javascript_a_duty_paid_by_sbp(local: _Cloud) -> None:
    with browser_session(javascript=False) as context:
        checker = context.browser.new_context(viewport={"width": 1280, "height": 900}).new_page()
        page = context.new_page()
        _sign_in(page, local, "/pay?kind=duty")
        _look_without_js(page, checker, "nojs-pay-duty")
        uin = page.locator('tr[data-status="active"]').first.get_attribute("data-uin")
        seen = len(_codes(local))
        page.locator(f'input[name="uins"][value="{uin}"]').check()
        page.locator('input[name="method"][value="sbp"]').check()
        submit(page, "Оплатить выбранные")
        assert PAYMENT_PAGE.search(page.url), page.url
        _look_without_js(page, checker, "nojs-pay-confirm")
        page.get_by_label("Код подтверждения").fill(_new_code(local, seen))
        submit(page, "Подтвердить")
        with page.expect_navigation():
            page.get_by_role("link", name="Перейти к оплате").click()
        assert "/dev/acquirer/pay/" in page.url, page.url
        _look_without_js(page, checker, "nojs-pay-acquirer-sbp")
        with page.expect_navigation():
            page.get_by_role("button", name=re.compile("Оплатить в приложении банка")).click()
        if "/dev/acquirer/" in page.url:
            with page.expect_navigation():
                page.get_by_role("link", name=re.compile("Вернуться")).click()
        assert "/pay/" in page.url and "ref=" in page.url, page.url
        assert page.get_by_role("heading", level=1, name="Оплачено").is_visible(), page.content()[:3000]
        _look_without_js(page, checker, "nojs-pay-success")
