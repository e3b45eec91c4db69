"""«Настройки уведомлений» and the unsubscribe page in-process: the form saves only one's own settings, security stays
on, a bad time gets a field error, CSRF, the test notice, the inbox's delivery log, and the unsubscribe page that
works without signing in and asks before it switches anything off. The browser journey is
tests/test_browser_notifications.py."""

from __future__ import annotations

import re
import urllib.parse

from chalicelib.events import notify_worker
from tests.test_notifications import EMAIL, person, status_event
from tests.test_web_payments import Browser, _text

FORM = {"content-type": "application/x-www-form-urlencoded"}


def _form(**changes: str) -> dict[str, str]:
    """What the page posts when nothing is changed (every box of every type ticked, news without SMS)."""
    form = {f"{t}.{c}": "on" for t in ("applications", "payments", "documents", "identity", "calendar", "news",
                                       "system") for c in ("sms", "email", "push", "inbox")}
    del form["news.sms"]
    form.update({f"{t}.frequency": "immediately" for t in ("applications", "payments", "documents", "identity",
                                                           "calendar", "news", "system")})
    form.update({"quiet": "on", "quiet_start": "22:00", "quiet_end": "08:00", "time_zone": "Europe/Moscow"})
    for key, value in changes.items():
        if value == "":
            form.pop(key, None)
        else:
            form[key] = value
    return form


def test_the_settings_form_saves_ones_own_settings_and_security_stays_on(api):
    first, second = person(api), person(api, phone="+79165550101", email="other@mail.ru")
    page = _text(Browser(api, first).get("/notifications/settings"))
    assert "Уведомления о безопасности отключить нельзя" in page
    assert 'name="security.sms" checked disabled' in page
    saved = Browser(api, first).post("/notifications/settings", _form(**{"applications.sms": "",
                                                                         "applications.frequency": "daily",
                                                                         "time_zone": "Asia/Omsk"}))
    assert saved.status_code == 303 and saved.headers["Location"] == "/notifications/settings?saved=1"
    mine = {t["type"]: t for t in api.get("/me/notifications/settings", token=first["access_token"]).json["types"]}
    assert mine["applications"]["channels"]["sms"] is False and mine["applications"]["frequency"] == "daily"
    assert mine["security"]["channels"]["sms"] is True
    theirs = {t["type"]: t for t in api.get("/me/notifications/settings", token=second["access_token"]).json["types"]}
    assert theirs["applications"]["channels"]["sms"] is True
    again = _text(Browser(api, first).get("/notifications/settings?saved=1"))
    assert "Настройки сохранены" in again and 'name="applications.sms">' in again
    assert '<option value="Asia/Omsk" selected>' in again


def test_a_bad_quiet_hour_is_a_field_error_and_nothing_changes(api):
    who = person(api)
    bad = Browser(api, who).post("/notifications/settings", _form(quiet_start="25:70"))
    assert bad.status_code == 400 and 'id="f-quiet-start-error"' in _text(bad)
    assert api.get("/me/notifications/settings", token=who["access_token"]).json["quiet_hours"]["start"] == "22:00"
    refused = Browser(api, who).post("/notifications/settings", _form(quiet_start="23:00"), csrf=False)
    assert refused.status_code == 403
    assert api.get("/me/notifications/settings", token=who["access_token"]).json["quiet_hours"]["start"] == "22:00"


def test_the_test_button_sends_and_the_inbox_shows_each_channels_delivery(api):
    who = person(api)
    Browser(api, who).post("/notifications/settings", _form(quiet=""))
    sent = Browser(api, who).post("/notifications/test", {"type": "applications"})
    assert sent.status_code == 303 and "tested=applications" in sent.headers["Location"]
    api.pump.drain()
    inbox = _text(Browser(api, who).get("/inbox"))
    assert "Проверочное уведомление" in inbox and "Доставка" in inbox
    assert 'data-channel="sms"' in inbox and 'data-channel="email"' in inbox
    english = Browser(api, who)
    english.cookies["kabinet-lang"] = "en"
    assert "Notification settings" in _text(english.get("/notifications/settings"))
    assert "Delivered" in _text(english.get("/inbox")) or "Sent" in _text(english.get("/inbox"))


def test_the_unsubscribe_page_needs_no_sign_in_and_asks_first(api):
    who = person(api)
    notify_worker.process(status_event(who))
    mail = next(m for m in api.outbox(EMAIL) if "0001-2026-000001" in m["subject"])
    link = next(line for line in mail["text"].splitlines() if "/unsubscribe?token=" in line).split(": ", 1)[1]
    path = urllib.parse.urlsplit(link)
    page = api.client.http.request("GET", f"{path.path}?{path.query}", headers={"accept": "text/html"})
    html = _text(page)
    assert page.status_code == 200 and "«Заявления»" in html and 'action="/unsubscribe"' in html
    kinds = {t["type"]: t for t in api.get("/me/notifications/settings", token=who["access_token"]).json["types"]}
    assert kinds["applications"]["channels"]["email"] is True  # looking changes nothing
    token_csrf = re.search(r'name="csrf" value="([^"]+)"', html).group(1)  # the page set it as its cookie too
    token = urllib.parse.parse_qs(path.query)["token"][0]
    done = api.client.http.request("POST", "/unsubscribe", headers={**FORM, "cookie": f"kabinet-csrf={token_csrf}"},
                                   body=urllib.parse.urlencode({"token": token, "csrf": token_csrf}).encode())
    assert done.status_code == 200 and "больше не придут" in _text(done)
    kinds = {t["type"]: t for t in api.get("/me/notifications/settings", token=who["access_token"]).json["types"]}
    assert kinds["applications"]["channels"]["email"] is False and kinds["applications"]["channels"]["sms"] is True
    broken = api.client.http.request("GET", "/unsubscribe?token=not-a-token-at-all-really", headers={})
    assert broken.status_code == 400 and "недействительна" in _text(broken)

