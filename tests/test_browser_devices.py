"""Browser journey of «Устройства» (NF-3) on the local cloud: the mobile app registers a phone through the API with
the person's token; the person sees it on /security/devices and reads the notice about it in the inbox, marks it
read in the browser — and the app's session sees the same read state; then removes the device on the page, and
the API no longer lists it. axe-core on every page (tests/browser.py)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
import requests

from tests.browser import browser_session, look, sign_in, submit
from tests.e2e_people import ok, post, register, send, shared_cloud, until
from tests.test_e2e_local import PASSWORD, _Cloud

pytestmark = pytest.mark.xdist_group("browser")
PHONE = "+79165551401"
FCM_TOKEN = "fcm-token:" + "APA91bH" * 20


@pytest.fixture(scope="module")
def local() -> Iterator[_Cloud]:
    with shared_cloud() as cloud:
        yield cloud


def test_a_phone_registered_by_the_app_is_shown_read_state_is_shared_and_it_is_removed(local: _Cloud) -> None:
    http = requests.Session()
    register(http, local, PHONE, last_name="Белова", first_name="Анна")
    app_token = ok(post(http, local, "/auth/login", {"login": PHONE, "password": PASSWORD}))["access_token"]
    device = ok(post(http, local, "/me/devices", {"platform": "fcm", "token": FCM_TOKEN, "name": "Pixel 8"},
                     app_token), 201)

    def app_inbox() -> dict:
        return ok(send(http, local, "GET", "/me/messages", None, app_token))

    until("the notice about the device", local,
          lambda: any(m["type"] == "device.added" for m in app_inbox()["items"]), last=app_inbox)

    with browser_session() as context:
        page = context.new_page()
        sign_in(page, local.base, PHONE, PASSWORD, "/security/devices")
        assert page.url.endswith("/security/devices"), page.url
        look(page, "devices-one")
        assert page.get_by_role("rowheader", name="Pixel 8").is_visible()
        assert page.get_by_role("link", name="Устройства").get_attribute("aria-current") == "page"

        page.goto(f"{local.base}/inbox")
        look(page, "devices-inbox-notice")
        unread_before = app_inbox()["unread"]
        assert page.locator("[data-unread]").get_attribute("data-unread") == str(unread_before)
        submit(page, "Отметить прочитанным")
        look(page, "devices-inbox-read")
        seen_by_app = app_inbox()  # the app's own session: the browser's mark is the one truth
        assert seen_by_app["unread"] == unread_before - 1
        assert next(m for m in seen_by_app["items"] if m["type"] == "device.added")["read"] is True
        assert page.locator("[data-unread]").get_attribute("data-unread") == str(seen_by_app["unread"])

        page.goto(f"{local.base}/security/devices")
        submit(page, "Удалить Pixel 8")
        look(page, "devices-removed")
        assert page.get_by_role("status").inner_text().startswith("Устройство удалено")
        assert page.get_by_text("Устройств пока нет").is_visible()
    assert ok(send(http, local, "GET", "/me/devices", None, app_token))["items"] == []
    gone = send(http, local, "DELETE", f"/me/devices/{device['id']}", None, app_token)
    assert gone.status_code == 404
