"""Browser journeys of "Мои документы", the public check and the inbox (real Chromium on the local cloud): an
upload straight to S3 with a progress bar and, without JavaScript, through the plain presigned form; the checker
accepts the file (the local pump runs it on the S3 event); download and delete; anyone checks a signed PDF by
its number and by the file, and a changed file is refused; marking a message read lowers the unread count.
axe-core runs on every page visited (tests/browser.py)."""

from __future__ import annotations

import base64
import json
import re
import time
import urllib.parse
from collections.abc import Callable, Iterator
from typing import Any

import pytest
import requests

from infra.seed import DEMO_PASSWORD
from tests import files
from tests.browser import SHOTS, browser_session, look, submit
from tests.e2e_people import ok, post, shared_cloud, until
from tests.test_e2e_local import HTTP_TIMEOUT, _Cloud, _get

pytestmark = pytest.mark.xdist_group("browser")
DEMO_PHONE = "+79990000001"
DOCUMENT_PAGE = re.compile(r"/my-documents/[0-9A-Z]{26}(\?.*)?$")
CHECK_SECONDS = 20


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


def _token(cloud: _Cloud) -> str:
    return ok(post(requests.Session(), cloud, "/auth/login", {"login": DEMO_PHONE, "password": DEMO_PASSWORD}))[
        "access_token"]


def _look_without_js(page: Any, checker: Any, name: str) -> None:
    """axe-core cannot run in a page whose scripts are off (its promise never settles): the page is looked at
    as the person saw it (the screenshot), and its very HTML is checked by axe in a page that runs scripts."""
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / f"{name}.png"), full_page=True)
    origin = urllib.parse.urlsplit(page.url)
    checker.goto(f"{origin.scheme}://{origin.netloc}/check")  # the same origin, so the page's CSS loads
    checker.set_content(page.content().replace('<script type="module"', '<script type="text/plain"'))
    look(checker, f"{name}-axe")


def _until_available(page: Any, cloud: _Cloud) -> None:
    """The checker runs on the S3 event; the page says so once it has (a person presses "Обновить страницу")."""
    deadline = time.monotonic() + CHECK_SECONDS
    while page.locator("[data-status]").get_attribute("data-status") == "checking":
        assert time.monotonic() < deadline, f"still checking after {CHECK_SECONDS} s\n{cloud.console()}"
        time.sleep(0.5)
        page.reload()
    assert page.locator("[data-status]").get_attribute("data-status") == "available", page.content()[:2000]


def _download_and_delete(page: Any, data: bytes, title: str, shots: str, seen: Callable[[str], None]) -> None:
    with page.expect_download() as caught:
        page.get_by_role("link", name="Скачать", exact=True).click()
    download = caught.value
    assert download.suggested_filename.endswith(".pdf"), download.suggested_filename
    with open(download.path(), "rb") as got:
        assert got.read() == data, "the same bytes come back from S3"
    page.get_by_role("link", name="Удалить").click()
    page.wait_for_url("**/delete")
    seen(f"{shots}-delete-confirm")
    submit(page, "Да, удалить")
    assert page.url.endswith("/my-documents?deleted=1"), page.url
    seen(f"{shots}-after-delete")
    assert page.get_by_text("Документ удалён").is_visible()
    assert page.get_by_role("link", name=title).count() == 0


def test_upload_with_progress_download_and_delete(local: _Cloud, tmp_path) -> None:
    data = files.pdf("Dogovor arendy")
    path = tmp_path / "Договор аренды.pdf"
    path.write_bytes(data)
    with browser_session() as context:
        page = context.new_page()
        _sign_in(page, local, "/my-documents")
        look(page, "documents-list")
        page.get_by_role("link", name="Загрузить документ").click()
        page.wait_for_url("**/my-documents/new")
        look(page, "documents-new")
        page.get_by_label("Файл", exact=True).set_input_files(str(path))
        assert page.get_by_label("Имя файла").input_value() == "Договор аренды.pdf", "the file fills the name"
        page.get_by_label("Категория").select_option(label="Договор")
        page.get_by_role("button", name="Продолжить").click()
        # «Загружено» with the bar full, read in one go: the page moves on 800 ms later (upload.js), and under load
        # a second look could land on the next page (the form itself was checked by axe above)
        page.wait_for_function("() => { const s = document.querySelector('[data-upload-status]');"
                               " const p = document.querySelector('progress');"
                               " return !!s && s.textContent.includes('Загружено') && !!p && p.value === p.max; }")
        page.wait_for_url(DOCUMENT_PAGE)
        _until_available(page, local)
        look(page, "document-detail")
        assert page.get_by_role("heading", name="Договор аренды.pdf").is_visible()
        assert page.get_by_role("cell", name="Файл проверен и сохранён").is_visible(), "the access journal"
        page.goto(f"{local.base}/my-documents?category=contract")
        look(page, "documents-filtered")
        assert page.get_by_role("link", name="Договор аренды.pdf").is_visible()
        page.get_by_role("link", name="Договор аренды.pdf").click()
        page.wait_for_url(DOCUMENT_PAGE)
        _download_and_delete(page, data, "Договор аренды.pdf", "documents", lambda name: look(page, name))


def test_upload_without_javascript(local: _Cloud, tmp_path) -> None:
    data = files.pdf("Diplom")
    path = tmp_path / "diploma.pdf"
    path.write_bytes(data)
    with browser_session(javascript=False) as context:
        checker = context.browser.new_context(viewport={"width": 1280, "height": 900}).new_page()
        _upload_without_javascript(context.new_page(), checker, local, data, str(path))


def _upload_without_javascript(page: Any, checker: Any, local: _Cloud, data: bytes, path: str) -> None:
    _sign_in(page, local, "/my-documents/new")
    assert page.locator("[data-upload-pick]").is_hidden(), "without a script the file is chosen on step 2"
    submit(page, "Продолжить")
    _look_without_js(page, checker, "nojs-documents-new-errors")
    summary = page.locator(".error-summary")
    assert summary.is_visible() and summary.locator("a[href='#f-category']").count() == 1, summary.inner_text()
    page.get_by_label("Категория").select_option(label="Документ об образовании")
    page.get_by_label("Имя файла").fill("Диплом.pdf")
    page.get_by_label("Тип файла").select_option("application/pdf")
    page.get_by_label("Действителен до").fill("2035-06-30")
    submit(page, "Продолжить")
    _look_without_js(page, checker, "nojs-documents-file")
    form = page.locator("form#s3-upload")
    assert form.get_attribute("action").startswith(f"http://127.0.0.1:{local.moto_port}/"), "straight to S3"
    back = form.locator("input[name=success_action_redirect]").get_attribute("value")
    assert back.startswith(f"{local.base}/my-documents/") and back.endswith("/uploaded"), back
    policy = json.loads(base64.b64decode(form.locator("input[name=policy]").get_attribute("value")))
    assert ["starts-with", "$success_action_redirect", back] in policy["conditions"], "real S3 checks the field"
    page.get_by_label("Файл", exact=True).set_input_files(path)
    submit(page, "Загрузить")  # S3 answers with a redirect back to the document's page
    assert DOCUMENT_PAGE.search(page.url) and "uploaded=1" in page.url, page.url
    _look_without_js(page, checker, "nojs-document-checking")
    _until_available(page, local)
    assert page.get_by_text("до 30.06.2035").is_visible(), "validity as DD.MM.YYYY"
    _look_without_js(page, checker, "nojs-document-detail")
    _download_and_delete(page, data, "Диплом.pdf", "nojs-documents",
                         lambda name: _look_without_js(page, checker, name))


def test_the_public_check_by_number_and_by_file(local: _Cloud, tmp_path) -> None:
    http = requests.Session()
    token = _token(local)
    issued = ok(post(http, local, "/documents/generate/profile-extract", {}, token), 201)
    link = ok(_get(http, local, f"/documents/{issued['id']}/download", token))
    pdf = http.get(link["url"], timeout=HTTP_TIMEOUT).content
    genuine, forged = tmp_path / "extract.pdf", tmp_path / "forged.pdf"
    genuine.write_bytes(pdf)
    middle = len(pdf) // 3
    forged.write_bytes(pdf[:middle] + bytes([pdf[middle] ^ 0x01]) + pdf[middle + 1:])
    with browser_session() as context:  # nobody signed in
        page = context.new_page()
        page.goto(f"{local.base}/check")
        look(page, "check")
        page.get_by_label("Номер документа").fill("not a number")
        submit(page, "Проверить номер")
        look(page, "check-bad-number")
        assert page.locator(".error-summary a[href='#f-document_id']").count() == 1
        page.get_by_role("textbox", name="Номер документа").fill(issued["id"])
        submit(page, "Проверить номер")
        assert page.url.endswith(f"/check/{issued['id']}"), page.url
        look(page, "check-by-number")
        assert page.locator("[data-verdict]").get_attribute("data-verdict") == "valid"
        assert page.get_by_text("Выписка из профиля").is_visible()
        page.goto(f"{local.base}/check/01ARZ3NDEKTSV4RRFFQ69G5FAV")
        look(page, "check-unknown-number")
        assert page.locator("[data-verdict]").get_attribute("data-verdict") == "invalid"
        for name, verdict in ((genuine, "valid"), (forged, "invalid")):
            page.goto(f"{local.base}/check")
            page.get_by_label("PDF-файл документа").set_input_files(str(name))
            submit(page, "Проверить файл")
            look(page, f"check-file-{verdict}")
            assert page.locator("[data-verdict]").get_attribute("data-verdict") == verdict, page.content()[:2000]
        page.goto(f"{local.base}/check")
        submit(page, "Проверить файл")
        look(page, "check-no-file")
        assert page.locator(".error-summary a[href='#f-file']").count() == 1


def test_the_inbox_and_marking_read(local: _Cloud) -> None:
    http = requests.Session()
    token = _token(local)
    prefill = ok(_get(http, local, "/services/tax-debt/prefill", token))["values"]
    ok(post(http, local, "/requests", {"type": "certificate", "params": {
        "kind": "tax_debt", **prefill, "as_of": "2026-11-01", "variant": "balance"}}, token), 201)
    until("in-app messages", local, lambda: ok(_get(http, local, "/me/messages", token))["unread"] >= 2)
    with browser_session() as context:
        page = context.new_page()
        _sign_in(page, local, "/inbox")
        look(page, "inbox")
        before = int(page.locator("[data-unread]").get_attribute("data-unread"))
        assert before >= 2 and page.get_by_text(f"Непрочитанных: {before}").is_visible()
        assert page.get_by_role("link", name=re.compile("Открыть заявление")).count() >= 1
        page.get_by_role("button", name=re.compile("Отметить прочитанным")).first.click()
        page.wait_for_load_state()
        look(page, "inbox-after-read")
        assert int(page.locator("[data-unread]").get_attribute("data-unread")) == before - 1
