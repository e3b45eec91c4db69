"""Browser journeys (real Chromium on the local cloud) through the catalog, the application form and «Мои заявки»:
an automatic certificate found with suggestions, a broken field fixed, approval and the signed PDF downloaded;
the same without JavaScript; a draft, a template, a comment and cancelling; the tier page for a simplified
account. axe-core runs on every page visited (tests/browser.py)."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from datetime import date
from typing import Any

import pytest
import requests

from infra.seed import DEMO_PASSWORD
from tests.browser import browser_session, look, submit
from tests.e2e_people import register, shared_cloud
from tests.test_e2e_local import PASSWORD, _Cloud

pytestmark = pytest.mark.xdist_group("browser")
DEMO_PHONE = "+79990000001"  # infra/seed.py: the confirmed-tier demo citizen, INN 500100732259
DEMO_INN = "500100732259"
TAX_DEBT = "Справка о наличии (отсутствии) задолженности по налогам"
APPROVAL_SECONDS = 30


@pytest.fixture(scope="module")
def local() -> Iterator[_Cloud]:
    with shared_cloud() as cloud:
        yield cloud


def _sign_in(page: Any, cloud: _Cloud, login: str, password: str, next_path: str = "/") -> None:
    page.goto(f"{cloud.base}/login?next={next_path}")
    page.get_by_label("Телефон, e-mail или СНИЛС").fill(login)
    page.get_by_label("Пароль").fill(password)
    submit(page, "Войти")
    assert "/login" not in page.url, page.url


def _until_approved(page: Any, name: str) -> None:
    deadline = time.monotonic() + APPROVAL_SECONDS
    while time.monotonic() < deadline:
        page.reload()
        if page.locator("[data-status]").get_attribute("data-status") == "approved":
            look(page, name)
            return
        time.sleep(0.5)
    raise AssertionError(f"not approved within {APPROVAL_SECONDS} s: {page.locator('main').inner_text()[:500]}")


def _look_without_js(page: Any, twin: Any, name: str) -> None:
    """axe-core is a script: a page seen without JavaScript is checked as its HTML in a twin tab that runs it
    (same origin, so the stylesheet and the colours are the real ones; the page's own scripts stay blocked by CSP)."""
    twin.set_content(page.content())
    look(twin, name)


def _fill_tax_debt(page: Any, inn: str) -> None:
    page.get_by_label("ИНН").fill(inn)
    page.get_by_label("На какую дату").fill(date.today().isoformat())
    page.get_by_label("О сальдо единого налогового счёта").check()


def _broken_then_fixed(page: Any, shots: str, check: Callable[[str], None] | None = None) -> None:
    """Submit with a wrong INN: the summary links to the field, the field says what is wrong; then fixed."""
    _fill_tax_debt(page, "1234")
    submit(page, "Отправить заявление")
    check = check or (lambda name: look(page, name))
    check(f"{shots}-errors")
    summary = page.locator(".error-summary")
    assert summary.is_visible(), page.locator("main").inner_text()[:500]
    assert summary.locator("a[href='#f-params-inn']").count() == 1, summary.inner_html()
    assert page.locator("#f-params-inn").get_attribute("aria-invalid") == "true"
    assert page.locator("#f-params-inn-error").is_visible()
    _fill_tax_debt(page, DEMO_INN)
    submit(page, "Отправить заявление")
    assert "/applications/" in page.url, page.locator("main").inner_text()[:500]
    check(f"{shots}-submitted")
    assert "Заявление отправлено" in page.locator("main").inner_text()


def _download(page: Any, link: str) -> bytes:
    with page.expect_download() as info:
        page.get_by_role("link", name=link).click()
    path = info.value.path()
    with open(path, "rb") as f:
        return f.read()


def test_a_certificate_found_with_suggestions_submitted_approved_and_downloaded(local: _Cloud) -> None:
    with browser_session() as context:
        page = context.new_page()
        _sign_in(page, local, DEMO_PHONE, DEMO_PASSWORD, "/catalog")
        look(page, "catalog")
        page.get_by_label("Найти услугу").press_sequentially("задолженн", delay=30)
        option = page.get_by_role("option", name=TAX_DEBT)
        option.wait_for()
        look(page, "catalog-suggestions")
        with page.expect_navigation():
            option.click()
        assert page.url.endswith("/catalog/tax-debt"), page.url
        look(page, "service-tax-debt")
        assert "у вас есть" in page.locator("main").inner_text()
        page.get_by_role("link", name="Подать заявление").click()
        page.wait_for_url("**/catalog/tax-debt/apply")
        look(page, "apply-tax-debt")
        assert page.get_by_label("ИНН").input_value() == DEMO_INN, "prefilled from the profile"
        assert page.get_by_label("Фамилия").input_value() == "Иванов"
        _broken_then_fixed(page, "apply-tax-debt")
        detail = page.url
        page.goto(f"{local.base}/applications")
        look(page, "applications")
        assert page.get_by_role("link", name=TAX_DEBT).first.is_visible()
        page.goto(detail)
        _until_approved(page, "application-approved")
        pdf = _download(page, "Скачать результат (PDF)")
        assert pdf.startswith(b"%PDF"), pdf[:20]
        page = context.new_page()  # Chromium asks before a tab's second download: a tab of its own
        page.goto(detail)
        journal = _download(page, "Скачать журнал (PDF с электронной подписью)")
        assert journal.startswith(b"%PDF"), journal[:20]


def test_the_catalog_search_and_the_form_work_without_javascript(local: _Cloud) -> None:
    with browser_session(javascript=False) as context:
        page = context.new_page()
        twin = context.browser.new_context(java_script_enabled=True).new_page()
        twin.goto(f"{local.base}/login")
        _sign_in(page, local, DEMO_PHONE, DEMO_PASSWORD, "/catalog")
        page.get_by_label("Найти услугу").fill("справка о задолжености по налогам")  # a typo on purpose
        submit(page, "Найти")
        _look_without_js(page, twin, "nojs-catalog-results")
        page.get_by_role("link", name=TAX_DEBT).click()
        page.wait_for_url("**/catalog/tax-debt")
        page.get_by_role("link", name="Подать заявление").click()
        page.wait_for_url("**/catalog/tax-debt/apply")
        _look_without_js(page, twin, "nojs-apply")
        _broken_then_fixed(page, "nojs-apply", lambda name: _look_without_js(page, twin, name))
        page.goto(f"{local.base}/applications?status=bad")
        _look_without_js(page, twin, "nojs-applications-bad-filter")
        assert page.locator(".error-summary").is_visible()
        page.goto(f"{local.base}/catalog?max_days=0")
        _look_without_js(page, twin, "nojs-catalog-bad-filter")
        assert page.locator("#f-max_days-error").is_visible()


def test_a_draft_saved_and_reopened_a_template_a_comment_and_cancel(local: _Cloud) -> None:
    with browser_session() as context:
        page = context.new_page()
        _sign_in(page, local, DEMO_PHONE, DEMO_PASSWORD, "/catalog/tax-debt/apply")
        page.get_by_label("ИНН").fill("50010073")  # not finished: a draft takes anything
        submit(page, "Сохранить черновик")
        look(page, "draft-saved")
        assert "Черновик сохранён" in page.locator("main").inner_text()
        draft_url = page.url
        page.goto(f"{local.base}/applications?status=draft")
        look(page, "applications-drafts")
        page.goto(draft_url)
        assert page.get_by_label("ИНН").input_value() == "50010073", "the draft keeps what was typed"
        page.get_by_text("Сохранить как шаблон").click()
        submit(page, "Сохранить шаблон")
        look(page, "template-name-missing")
        assert page.locator("#f-template_name-error").is_visible()
        page.get_by_label("Название шаблона").fill("Для банка")
        submit(page, "Сохранить шаблон")
        assert "Шаблон сохранён" in page.locator("main").inner_text()
        page.goto(f"{local.base}/catalog/tax-debt/apply")
        submit(page, "Для банка")
        look(page, "draft-from-template")
        assert page.get_by_label("ИНН").input_value() == "50010073"
        _fill_tax_debt(page, DEMO_INN)
        # The autosave posts the form by itself after a pause in typing.
        page.get_by_label("Фамилия").fill("Иванов")
        page.wait_for_function("() => !!document.querySelector('form[data-autosave]').dataset.saved", timeout=10_000)
        submit(page, "Отправить заявление")
        assert "/applications/" in page.url, page.locator("main").inner_text()[:500]
        submit(page, "Добавить комментарий")
        look(page, "comment-empty")
        assert page.locator("#f-text-error").is_visible()
        page.get_by_label("Комментарий или вопрос ведомству").fill("Нужна справка к пятнице")
        submit(page, "Добавить комментарий")
        look(page, "comment-added")
        assert "Нужна справка к пятнице" in page.locator("table").last.inner_text()


def test_cancel_before_a_decision(local: _Cloud) -> None:
    """A payment an officer decides stays open: submitted with a number typed as text, then cancelled."""
    with browser_session() as context:
        page = context.new_page()
        _sign_in(page, local, DEMO_PHONE, DEMO_PASSWORD, "/catalog/tax-payment/apply")
        look(page, "apply-tax-payment")
        page.get_by_label("Сумма, ₽").fill("сто")
        submit(page, "Отправить заявление")
        assert page.locator("#f-params-amount-error").is_visible(), page.locator("main").inner_text()[:500]
        page.get_by_label("Сумма, ₽").fill("1 500,50")
        submit(page, "Отправить заявление")
        assert "/applications/" in page.url, page.locator("main").inner_text()[:500]
        assert "1500.5" in page.locator("main").inner_text()
        submit(page, "Отменить заявление")
        look(page, "cancelled")
        assert page.locator("[data-status]").get_attribute("data-status") == "cancelled"
        assert "Заявление отменено" in page.locator("main").inner_text()
        assert page.get_by_role("button", name="Отменить заявление").count() == 0


def test_a_simplified_account_sees_which_tier_a_service_needs(local: _Cloud) -> None:
    register(requests.Session(), local, "+79165551301", last_name="Петрова", first_name="Ольга")
    with browser_session() as context:
        page = context.new_page()
        _sign_in(page, local, "+79165551301", PASSWORD, "/catalog/tax-debt")
        look(page, "service-tier-short")
        assert page.get_by_role("link", name="Подать заявление").count() == 0
        page.goto(f"{local.base}/catalog/tax-debt/apply")
        look(page, "tier-page")
        assert page.get_by_role("heading", name="Нужен другой уровень учётной записи").is_visible()
        assert "Подтверждённая" in page.locator("main").inner_text()
        assert page.get_by_role("link", name="Перейти в профиль").get_attribute("href") == "/profile"


def test_every_service_form_renders_with_and_without_errors() -> None:
    """No browser: each of the catalog's schemas becomes inputs, shows an error on each field, and posts back."""
    from chalicelib.catalog import services
    from chalicelib.web import forms, render

    tpl = render.environment("ru").from_string(
        '{% from "application_fields.html" import schema_field %}{% for f in fields %}{{ schema_field(f, errors) }}'
        '{% endfor %}')
    for service in services.all_services():
        fields = forms.fields(service.form, {})
        broken = {"message": "x", "fields": {f["name"]: "Ошибка поля" for f in fields}}
        html = tpl.render(fields=fields, errors=broken)
        assert html.count('aria-invalid="true"') + html.count("<fieldset") >= len(fields), service.id
        assert tpl.render(fields=fields, errors=None).count("<label") >= len(fields), service.id
        posted = forms.params(service.form, {f["name"]: "12" for f in fields})
        for name, prop in service.form["properties"].items():
            if prop["type"] in ("integer", "number") and "enum" not in prop:
                assert posted[name] == 12, (service.id, name)
