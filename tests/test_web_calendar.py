"""«Календарь» pages without a browser (NT-5): the list with a label per category, the downloads, the
subscription made and revoked, reminder settings saved and refused; a second person sees none of it."""

from __future__ import annotations

from tests import files
from tests.test_calendar import in_days
from tests.test_web_payments import Browser


def test_the_page_lists_downloads_subscribes_and_saves(api):
    who = api.register(phone="+79161120001")
    api.upload(who["access_token"], files.pdf(), category="other", valid_until=in_days(12))
    web = Browser(api, who)
    page = web.get("/calendar")
    text = page.body.decode()
    assert page.status_code == 200, text[:2000]
    assert 'data-category="document"' in text and 'data-category="password"' in text
    assert "cal-swatch" in text and "Документы" in text  # a colour and a text label
    assert web.get("/calendar?category=document").body.decode().count("data-category=") == 1
    assert web.get(f"/calendar?from={in_days(5)}&to={in_days(1)}").status_code == 400
    csv = web.get("/calendar/export.csv")
    assert csv.status_code == 200 and csv.headers["Content-Type"].startswith("text/csv")
    ics = web.get("/calendar/export.ics")
    assert ics.status_code == 200 and b"BEGIN:VCALENDAR" in ics.body

    made = web.post("/calendar/subscription", {})
    assert made.status_code == 201 and "/ical/" in made.body.decode()
    assert web.post("/calendar/subscription/revoke", {}).status_code == 303

    saved = web.post("/calendar/settings", {"document.enabled": "on", "document.days_before": "10",
                                            "document.channel": "sms"})
    assert saved.status_code == 303
    got = api.get("/me/calendar/settings", token=who["access_token"]).json["reminders"]
    assert got["document"] == {"enabled": True, "days_before": 10, "channel": "sms"}
    saved = web.post("/calendar/settings", {"application.days_before": "3", "application.channel": "email"})
    assert saved.status_code == 303  # an unchecked box is «off», as a form sends it
    assert api.get("/me/calendar/settings", token=who["access_token"]).json["reminders"]["application"][
        "enabled"] is False
    refused = web.post("/calendar/settings", {"document.days_before": "99", "document.channel": "sms"})
    assert refused.status_code == 400 and "error-summary" in refused.body.decode()

    other = Browser(api, api.register(phone="+79161120002"))
    assert 'data-category="document"' not in other.get("/calendar").body.decode()
