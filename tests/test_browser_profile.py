"""Browser journeys (real Chromium on the local cloud) through the profile and the officer's pages: personal data
with a field error, the registry checks to the standard tier, the partner bank to the confirmed tier; an officer
taking, approving and rejecting applications a citizen submitted over the API. axe-core on every page.

In-process checks of the same pages' refusals (no browser) are at the end.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any
from urllib.parse import urlencode, urlparse

import pytest

from infra.bank_simulator import DEMO_BANK_PASSWORD
from infra.seed import DEMO_PASSWORD, officer_phone
from tests import files
from tests.browser import browser_session, look, submit
from tests.e2e_people import ok, person_data, post, shared_cloud
from tests.test_browser_auth import _register
from tests.test_e2e_documents import DEMO_PHONE, _checked, _upload
from tests.test_e2e_local import _Cloud, _get, _http

pytestmark = pytest.mark.xdist_group("browser")
WAIT = 30
MVD_OFFICER = officer_phone(0)


@pytest.fixture(scope="module")
def local() -> Iterator[_Cloud]:
    with shared_cloud() as cloud:
        yield cloud


def _poll(page: Any, what: str, found: Any, seconds: float = WAIT) -> None:
    """Reload the page until `found()` holds, as a person presses «Обновить»."""
    deadline = time.monotonic() + seconds
    while not found():
        if time.monotonic() > deadline:
            raise AssertionError(f"{what}: not within {seconds} s ({page.url})\n{page.locator('main').inner_text()}")
        time.sleep(0.5)
        page.reload()


def _tier(page: Any) -> str:
    return page.locator("p.tier strong").inner_text()


def _fill_personal_data(page: Any, data: dict[str, Any], snils: str) -> None:
    page.get_by_label("Фамилия").fill(data["last_name"])
    page.get_by_label("Имя", exact=True).fill(data["first_name"])
    page.get_by_label("Отчество (если есть)").fill(data["middle_name"])
    page.get_by_label("Дата рождения").fill("12.04.1985")
    page.get_by_label("Мужской").check()
    page.get_by_label("Место рождения").fill(data["birth_place"])
    passport = data["passport"]
    page.get_by_label("Серия паспорта").fill(passport["series"])
    page.get_by_label("Номер паспорта").fill(passport["number"])
    page.get_by_label("Дата выдачи паспорта").fill("01.06.2005")
    page.get_by_label("Кем выдан").fill(passport["issued_by"])
    page.get_by_label("Код подразделения").fill(passport["division_code"])
    page.get_by_label("СНИЛС").fill(snils)
    page.get_by_label("Адрес регистрации").fill(data["address"])


def test_personal_data_checks_and_the_bank_raise_the_tier(local: _Cloud) -> None:
    data = person_data("4621", "123456", "723456777")  # no simulator pattern: every registry passes
    snils = data["snils"]
    typed = f"{snils[:3]}-{snils[3:6]}-{snils[6:9]} {snils[9:]}"
    with browser_session() as context:
        page = context.new_page()
        _register(page, local, "+79165551301", shots="profile-register")
        page.goto(f"{local.base}/profile")
        look(page, "profile-simplified")
        assert _tier(page) == "Упрощённая"
        assert page.get_by_role("link", name="Профиль").get_attribute("aria-current") == "page"
        with page.expect_navigation():
            page.get_by_role("link", name="Заполнить личные данные").click()
        look(page, "personal-data-empty")

        # A SNILS whose check number is wrong: the form comes back with the field's error, the rest kept.
        _fill_personal_data(page, data, snils[:9] + f"{(int(snils[9:]) + 1) % 100:02d}")
        submit(page, "Отправить на проверку")
        look(page, "personal-data-bad-snils")
        assert "/profile/personal-data" in page.url
        error = page.locator("#f-snils-error")
        assert "контрольное число" in error.inner_text(), error.inner_text()
        assert page.locator(".error-summary a[href='#f-snils']").count() == 1
        assert page.get_by_label("Фамилия").input_value() == data["last_name"]
        assert page.get_by_label("Мужской").is_checked()

        page.get_by_label("СНИЛС").fill(typed)
        submit(page, "Отправить на проверку")
        assert urlparse(page.url).path == "/profile", page.url
        assert page.get_by_text("Данные отправлены на проверку").is_visible()
        look(page, "profile-checking")
        statuses = page.locator("table tbody td:nth-child(2)").all_inner_texts()
        assert len(statuses) == 3 and "Проверяется" in statuses, statuses  # MVD, SFR, FNS: 0.3 s each at least
        assert page.get_by_role("link", name="Обновить").is_visible()

        _poll(page, "the standard tier", lambda: _tier(page) == "Стандартная")
        look(page, "profile-standard")
        assert page.locator("table tbody td:nth-child(2)").all_inner_texts() == ["Пройдена"] * 3

        # The partner bank: its sign-in page, then back to our callback page, which finishes the flow.
        assert page.get_by_label("Банк «Северный» (демо)").is_checked()
        submit(page, "Подтвердить через банк")
        assert urlparse(page.url).path == "/dev/bank/severny/authorize", page.url
        look(page, "bank-authorize")
        page.get_by_label("Логин (СНИЛС, 11 цифр)").fill(snils)
        page.get_by_label("Пароль").fill(DEMO_BANK_PASSWORD)
        submit(page, "Войти и передать данные")
        assert urlparse(page.url).path == "/identity/bank/callback", page.url
        look(page, "bank-callback-confirmed")
        assert "Личность подтверждена" in page.locator("main").inner_text()
        page.goto(f"{local.base}/profile")
        look(page, "profile-confirmed")
        assert _tier(page) == "Подтверждённая"
        assert page.get_by_role("button", name="Подтвердить через банк").count() == 0
        page.get_by_role("link", name="Согласия на обработку персональных данных").click()
        look(page, "profile-consents")
        assert "Банк «Северный» (демо)" in page.locator("main").inner_text()
        _certificate_approved_and_downloaded(page, local)


def _certificate_approved_and_downloaded(page: Any, local: _Cloud) -> None:
    """Issue 12's first journey, its end: the confirmed person applies for an automatic certificate (the sources
    put certificates at the confirmed tier: docs/catalog.md), sees it approved and downloads the signed PDF."""
    from io import BytesIO

    from pypdf import PdfReader

    from tests.test_browser_applications import _download, _until_approved

    page.goto(f"{local.base}/catalog/tax-debt/apply")
    look(page, "journey-apply-tax-debt")
    inn = page.get_by_label("ИНН").input_value()
    assert len(inn) == 12 and inn.startswith("77"), "prefilled with the INN FNS found (docs/identity.md)"
    page.get_by_label("На какую дату").fill(time.strftime("%Y-%m-%d"))
    page.get_by_label("О сальдо единого налогового счёта").check()
    submit(page, "Отправить заявление")
    assert "/applications/" in page.url, page.locator("main").inner_text()[:500]
    _until_approved(page, "journey-certificate-approved")
    pdf = _download(page, "Скачать результат (PDF)")
    reader = PdfReader(BytesIO(pdf))
    text = "".join(p.extract_text() for p in reader.pages)
    assert "Кузнецов Алексей Петрович" in text and inn in text, text[:500]  # the checked data (person_data)
    assert any(f.get("/FT") == "/Sig" and f.get("/V") for f in (reader.get_fields() or {}).values()), "signed"


def _citizen_submits(local: _Cloud, http: Any, citizen: str, passport: str) -> dict[str, Any]:
    prefill = ok(_get(http, local, "/services/no-criminal-record/prefill", citizen))
    params = {**prefill["values"], "birth_place": "г. Москва", "purpose": "employment"}
    return ok(post(http, local, "/requests", {"type": "no-criminal-record", "params": params,
                                              "attachments": [passport]}, citizen), 201)


def _status(local: _Cloud, http: Any, citizen: str, rid: str) -> dict[str, Any]:
    return ok(_get(http, local, f"/requests/{rid}", citizen))


def _open_from_inbox(page: Any, local: _Cloud, number: str) -> None:
    page.goto(f"{local.base}/officer?status=submitted")
    _poll(page, f"application {number} in the MVD inbox", lambda: page.get_by_role("link", name=number).count() > 0)
    look(page, "officer-inbox")
    with page.expect_navigation():
        page.get_by_role("link", name=number).click()


def test_an_officer_takes_approves_and_rejects_through_the_pages(local: _Cloud) -> None:
    http = _http()
    citizen = ok(post(http, local, "/auth/login", {"login": DEMO_PHONE, "password": DEMO_PASSWORD}))["access_token"]
    passport = _upload(http, local, citizen, files.pdf("Passport"), "Паспорт.pdf", "passport")
    assert _checked(http, local, citizen, passport)["status"] == "available"
    with browser_session() as context:
        page = context.new_page()
        page.goto(f"{local.base}/officer")
        assert "/login" in page.url, "the officer's pages ask to sign in"
        page.get_by_label("Телефон, e-mail или СНИЛС").fill(MVD_OFFICER)
        page.get_by_label("Пароль").fill(DEMO_PASSWORD)
        submit(page, "Войти")
        assert urlparse(page.url).path == "/officer", page.url
        look(page, "officer-inbox-first")
        nav = page.get_by_role("navigation", name="Основное меню")
        assert nav.get_by_role("link", name="Заявления ведомства").get_attribute("aria-current") == "page"
        assert nav.get_by_role("link", name="Мои заявки").count() == 0

        # Submitted only now: the local demo officer leaves alone what a real officer took within 20 s.
        first = _citizen_submits(local, http, citizen, passport)
        second = _citizen_submits(local, http, citizen, passport)

        _open_from_inbox(page, local, first["number"])
        look(page, "officer-request-submitted")
        link = page.get_by_role("link", name="Паспорт.pdf")
        opened = page.request.get(f"{local.base}{link.get_attribute('href')}", max_redirects=0)
        assert opened.status == 303 and opened.headers["location"].startswith("http://127.0.0.1:"), opened.headers
        submit(page, "Взять в работу")
        look(page, "officer-request-taken")
        assert page.get_by_text("Заявление взято в работу").first.is_visible()

        # An empty request for documents: the field's error on the page.
        submit(page, "Запросить документы")
        look(page, "officer-request-documents-empty")
        assert page.locator("#f-message-error").is_visible()
        page.get_by_label("Текст комментария").fill("Проверяем сведения в ИЦ МВД")
        submit(page, "Отправить комментарий")
        assert page.get_by_text("Комментарий отправлен заявителю").is_visible()
        page.get_by_label("Файл результата").select_option("")
        page.get_by_label("Комментарий к решению").fill("Сведений о судимости нет")
        submit(page, "Одобрить заявление")
        look(page, "officer-request-approved")
        assert page.get_by_text("Заявление одобрено").is_visible()
        seen = _status(local, http, citizen, first["id"])
        assert seen["status"] == "approved" and seen["result"]["document_id"], seen
        assert any(line.get("text") == "Проверяем сведения в ИЦ МВД" for line in seen["journal"]), seen["journal"]

        _open_from_inbox(page, local, second["number"])
        submit(page, "Взять в работу")
        submit(page, "Отклонить заявление")  # reason and what to fix are both required
        look(page, "officer-reject-empty")
        assert page.locator("#f-reason-error").is_visible() and page.locator("#f-fix-error").is_visible()
        page.get_by_label("Причина отказа").fill("Не указаны прежние ФИО")
        page.get_by_label("Что исправить").fill("Укажите прежние ФИО, если они менялись")
        submit(page, "Отклонить заявление")
        look(page, "officer-request-rejected")
        assert page.get_by_text("Заявление отклонено").is_visible()
        seen = _status(local, http, citizen, second["id"])
        assert seen["status"] == "rejected" and seen["rejection"]["reason"] == "Не указаны прежние ФИО", seen

        page.goto(f"{local.base}/officer")
        page.get_by_label("Статус").select_option("approved")
        submit(page, "Показать")
        look(page, "officer-inbox-approved")
        assert page.get_by_role("link", name=first["number"]).is_visible()
        assert page.get_by_role("link", name=second["number"]).count() == 0


# -- in-process: the same pages' refusals, without a browser ----------------------------------------------

CSRF = "c" * 32


def _page(api: Any, method: str, path: str, token: str, form: dict[str, str] | None = None) -> Any:
    headers = {"cookie": f"kabinet-session={token}; kabinet-csrf={CSRF}"}
    raw = None
    if form is not None:
        headers["content-type"] = "application/x-www-form-urlencoded"
        raw = urlencode({**form, "csrf": CSRF}).encode()
    resp = api.call(method, path, headers=headers, raw=raw)
    resp.text = resp.body.decode()
    return resp


def test_the_bank_callback_shows_each_mismatching_field_and_a_refusal(api: Any) -> None:
    from tests.test_confirmation import SNILS, bank_code, standard

    _, token = standard(api)
    code, state = bank_code(api, token, SNILS + "+all")
    shown = _page(api, "GET", f"/identity/bank/callback?{urlencode({'code': code, 'state': state})}", token)
    assert shown.status_code == 422, shown.text
    for reason in ("Фамилия не совпадает", "Имя не совпадает", "ИНН не совпадает", "Дата рождения не совпадает"):
        assert reason in shown.text, shown.text
    again = _page(api, "GET", f"/identity/bank/callback?{urlencode({'code': code, 'state': state})}", token)
    assert again.status_code in (404, 409) and "начните заново" in again.text, again.text
    denied = _page(api, "GET", "/identity/bank/callback?error=access_denied&state=x", token)
    assert denied.status_code == 400 and "Банк не передал данные" in denied.text
    started = _page(api, "POST", "/profile/bank", token, {"bank": "nope"})
    assert started.status_code == 404 and "Банк не найден" in started.text, started.text
    went = _page(api, "POST", "/profile/bank", token, {"bank": "severny"})
    assert went.status_code == 303 and "/dev/bank/severny/authorize?" in went.headers["Location"]


def test_forms_show_field_errors_never_a_trace(api: Any) -> None:
    from tests.test_confirmation import standard

    _, token = standard(api)
    bad = _page(api, "POST", "/profile/personal-data", token, {"snils": "123", "birth_date": "31.02.1990",
                                                                "passport.series": "45"})
    assert bad.status_code == 400, bad.text
    for field in ("f-snils-error", "f-sex-error", "f-passport-series-error", "f-address-error"):
        assert field in bad.text, field
    assert "Укажите пол" in bad.text
    code = _page(api, "POST", "/profile/letter/code", token, {"code": "12"})
    assert code.status_code == 400 and "f-code-error" in code.text
    assert _page(api, "GET", "/officer", token).status_code == 403
    assert _page(api, "GET", "/profile/personal-data", token).status_code == 200


def test_the_registered_letter_from_the_profile_confirms(api: Any) -> None:
    from tests.test_confirmation import _letter_code, standard

    _, token = standard(api)
    profile = _page(api, "GET", "/profile", token)
    assert profile.status_code == 200 and "Заказать письмо с кодом" in profile.text
    sent = _page(api, "POST", "/profile/letter", token, {})
    assert sent.status_code == 303 and sent.headers["Location"] == "/profile/letter/code?sent=1", sent.text
    wrong = _page(api, "POST", "/profile/letter/code", token, {"code": "000000"})
    assert wrong.status_code == 400 and "f-code-error" in wrong.text, wrong.text
    done = _page(api, "POST", "/profile/letter/code", token, {"code": _letter_code(api)})
    assert done.status_code == 303 and done.headers["Location"] == "/profile?confirmed=letter", done.text
    after = _page(api, "GET", "/profile?confirmed=letter", token)
    assert "Личность подтверждена" in after.text and "Подтверждённая" in after.text
