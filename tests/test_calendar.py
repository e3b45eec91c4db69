"""The calendar (NT-5, issue 14 «Calendar»): one Query of items its producers keep in step, filters, a second
person's calendar unreachable, reminders by the chosen channel exactly once, exports read back by independent
parsers (iCalendar by `icalendar` and `ical`, CSV by the csv module), the private subscription URL and its revoking.

Expected values come from the issue and the requirements: the categories it names, 90-day passwords (AU-3),
RFC 5545's UID/DTSTAMP/VTIMEZONE/VALARM, `from`/`to` periods as the other lists take them.
"""

from __future__ import annotations

import csv
import io
import threading
from datetime import date, timedelta
from urllib.parse import urlsplit

from chalicelib.adapters import gisgmp
from chalicelib.calendar import reminders as calendar_reminders
from chalicelib.core import clock
from chalicelib.events import scheduled
from chalicelib.payments import reminders as debt_reminders
from chalicelib.store import keys, table
from tests import files
from tests.test_applications import citizen, submit_ncr


def cal(api, who, query=""):
    resp = api.get(f"/me/calendar{query}", token=who["access_token"])
    assert resp.status_code == 200, resp.json
    return resp.json["items"]


def by_category(items, category):
    return [i for i in items if i["category"] == category]


def in_days(n: int) -> str:
    return (clock.moscow_today() + timedelta(days=n)).isoformat()


def document(api, who, valid_until: str) -> str:
    return api.upload(who["access_token"], files.pdf(), category="other", valid_until=valid_until)


def parse_both(body: bytes) -> list[dict]:
    """Read an export with two independent parsers; both must agree on every event. Each event as a dict."""
    import icalendar
    from ical.calendar_stream import IcsCalendarStream

    text = body.decode() if isinstance(body, bytes) else body
    first = icalendar.Calendar.from_ical(text)
    zones = [z for z in first.walk("VTIMEZONE")]
    assert [str(z["TZID"]) for z in zones] == ["Europe/Moscow"]  # TZID Europe/Moscow with its VTIMEZONE
    events = []
    for e in first.walk("VEVENT"):
        alarms = e.walk("VALARM")
        start = e.decoded("DTSTART")
        events.append({"uid": str(e["UID"]), "dtstamp": e.decoded("DTSTAMP"), "start": start,
                       "tzid": e["DTSTART"].params.get("TZID"), "summary": str(e["SUMMARY"]),
                       "categories": [str(c) for c in e["CATEGORIES"].cats], "url": str(e["URL"]),
                       "alarms": [a.decoded("TRIGGER") for a in alarms]})
    second = IcsCalendarStream.calendar_from_ics(text)
    assert len(second.timezones) == 1 and second.timezones[0].tz_id == "Europe/Moscow"
    other = {e.uid: e for e in second.events}
    assert set(other) == {e["uid"] for e in events}
    for e in events:
        o = other[e["uid"]]
        assert o.summary == e["summary"] and o.dtstamp == e["dtstamp"]
        assert o.dtstart == e["start"] and o.categories == e["categories"]
        assert [a.trigger for a in o.alarm] == e["alarms"]
    return events


# -- the list, its filters, and who may see it ---------------------------------------------------------------

def test_the_list_filters_by_category_and_period_and_refuses_bad_filters(api):
    who = api.register(phone="+79161110001")
    doc_id = document(api, who, in_days(20))
    items = cal(api, who)
    password = by_category(items, "password")
    assert len(password) == 1  # AU-3: a new password expires in 90 days
    assert password[0]["date"] == in_days(90) or password[0]["date"] == in_days(91)  # Moscow day of the moment
    assert password[0]["time"] and password[0]["at"].endswith("Z")
    docs = by_category(items, "document")
    assert [d["id"] for d in docs] == [f"document.{doc_id}"] and docs[0]["date"] == in_days(20)
    assert docs[0]["link"] == f"/my-documents/{doc_id}" and docs[0]["reminder"]["channel"] in ("email", "sms")
    assert [i["date"] for i in items] == sorted(i["date"] for i in items)

    assert [i["category"] for i in cal(api, who, "?category=document")] == ["document"]
    assert cal(api, who, f"?from={in_days(21)}&category=document") == []
    assert [i["id"] for i in cal(api, who, f"?from={in_days(19)}&to={in_days(20)}")] == [f"document.{doc_id}"]
    assert by_category(cal(api, who, f"?to={in_days(30)}"), "password") == []

    for bad in ("?category=holiday", "?from=2026-13-01", f"?from={in_days(5)}&to={in_days(1)}"):
        resp = api.get(f"/me/calendar{bad}", token=who["access_token"])
        assert resp.status_code == 400 and resp.json["error"]["code"] == "VALIDATION_ERROR", (bad, resp.json)
    assert api.get("/me/calendar").status_code == 401


def test_a_second_person_reaches_neither_the_calendar_nor_the_subscription(api):
    first = api.register(phone="+79161110002")
    second = api.register(phone="+79161110003")
    doc_id = document(api, first, in_days(10))
    url = api.post("/me/calendar/subscription", token=first["access_token"]).json["url"]
    assert f"document.{doc_id}" not in {i["id"] for i in cal(api, second)}
    assert api.call("DELETE", "/me/calendar/subscription", token=second["access_token"]).status_code == 404
    assert api.get(urlsplit(url).path).status_code == 200  # the second person's revoking touched nothing
    events = parse_both(api.get("/me/calendar.ics", token=second["access_token"]).body)
    assert [e["categories"] for e in events] == [["Окончание срока действия пароля"]]  # only their own password
    assert doc_id not in str(events)


# -- exports ------------------------------------------------------------------------------------------------------

def test_every_export_reads_back_with_two_parsers_and_uids_stay_when_a_date_moves(api):
    who = api.register(phone="+79161110009")
    doc_id = document(api, who, in_days(40))
    before = {e["uid"]: e for e in parse_both(api.get("/me/calendar.ics", token=who["access_token"]).body)}
    again = {e["uid"]: e for e in parse_both(api.get("/me/calendar.ics", token=who["access_token"]).body)}
    assert before == again  # the same calendar twice: the same UIDs and DTSTAMPs
    doc_event = next(e for e in before.values() if e["categories"] == ["Окончание срока действия документа"])
    assert doc_event["start"] == date.fromisoformat(in_days(40))  # a date: an all-day event
    assert doc_event["alarms"] == [timedelta(days=-30)]  # the default for documents: 30 days before, e-mail
    password = next(e for e in before.values() if e["categories"] == ["Окончание срока действия пароля"])
    assert password["tzid"] == "Europe/Moscow" and password["start"].utcoffset() == timedelta(hours=3)
    assert password["alarms"] == []  # passwords have their own reminder (AU-3): off here by default
    assert doc_event["dtstamp"].tzinfo is not None

    api.upload(who["access_token"], files.pdf(), document_id=doc_id, valid_until=in_days(45))
    moved = {e["uid"]: e for e in parse_both(api.get("/me/calendar.ics", token=who["access_token"]).body)}
    assert set(moved) == set(before) and moved[doc_event["uid"]]["start"] == date.fromisoformat(in_days(45))

    put = api.call("PUT", "/me/calendar/settings", {"password": {"enabled": True, "days_before": 5,
                                                                 "channel": "sms"}}, token=who["access_token"])
    assert put.status_code == 200, put.json
    assert put.json["reminders"]["password"] == {"enabled": True, "days_before": 5, "channel": "sms"}
    url = api.post("/me/calendar/subscription", token=who["access_token"]).json["url"]
    feed = parse_both(api.get(urlsplit(url).path).body)  # no token: the URL is the credential
    assert {e["uid"] for e in feed} == set(before)
    assert next(e for e in feed if e["uid"] == password["uid"])["alarms"] == [timedelta(days=-5)]

    resp = api.get("/me/calendar.csv?category=document", token=who["access_token"])
    assert resp.status_code == 200 and resp.headers["Content-Type"].startswith("text/csv")
    text = resp.body.decode("utf-8")
    assert text.startswith("\ufeff")
    rows = list(csv.reader(io.StringIO(text.lstrip("\ufeff")), delimiter=";"))
    assert rows[0][:2] == ["Идентификатор", "Дата"]
    assert [(r[0], r[1]) for r in rows[1:]] == [(f"document.{doc_id}",
                                                 date.fromisoformat(in_days(45)).strftime("%d.%m.%Y"))]


def test_a_revoked_or_replaced_subscription_url_answers_404(api):
    who = api.register(phone="+79161110010")
    first = urlsplit(api.post("/me/calendar/subscription", token=who["access_token"]).json["url"]).path
    assert api.get(first).status_code == 200
    second = urlsplit(api.post("/me/calendar/subscription", token=who["access_token"]).json["url"]).path
    assert api.get(first).status_code == 404 and api.get(second).status_code == 200
    assert api.call("DELETE", "/me/calendar/subscription", token=who["access_token"]).status_code == 204
    assert api.get(second).status_code == 404
    assert api.call("DELETE", "/me/calendar/subscription", token=who["access_token"]).status_code == 404
    stored = table.get(keys.calendar_settings(who["user_id"]))
    assert "subscription" not in stored and second.rsplit("/", 1)[1].removesuffix(".ics") not in str(stored)
    assert api.get("/ical/" + "A" * 43 + ".ics").status_code == 404


# -- reminders ----------------------------------------------------------------------------------------------------

def _reminder_messages(api, to):
    return [m for m in api.outbox(to) if "окончание срока действия документа" in m["text"].lower()]


def test_a_reminder_goes_once_by_the_chosen_channel_however_often_the_day_runs(api):
    who = api.register(phone="+79161110011")
    api.no_quiet_hours(who["access_token"])
    put = api.call("PUT", "/me/calendar/settings", {"document": {"enabled": True, "days_before": 3,
                                                                 "channel": "sms"}}, token=who["access_token"])
    assert put.status_code == 200
    document(api, who, in_days(3))
    document(api, who, in_days(10))  # its reminder is a week away
    scheduled.daily_reminders()
    scheduled.daily_reminders()
    assert len(_reminder_messages(api, "+79161110011")) == 1
    item = by_category(cal(api, who), "document")[0]
    assert item["reminder"] == {"enabled": True, "days_before": 3, "channel": "sms"}  # sent: no day to come

    # a week later the second one is due: the first is not sent again
    later = clock.moscow_today() + timedelta(days=7)
    assert calendar_reminders.run(later) == 1
    assert calendar_reminders.run(later) == 0
    assert len(_reminder_messages(api, "+79161110011")) == 2


def test_concurrent_runs_send_each_reminder_once(api):
    who = api.register(phone="+79161110012")
    api.no_quiet_hours(who["access_token"])
    api.call("PUT", "/me/calendar/settings", {"document": {"enabled": True, "days_before": 1, "channel": "sms"}},
             token=who["access_token"])
    for n in (0, 1, 1):  # with one day before, all three are due today
        document(api, who, in_days(n))
    calendar_reminders.place(clock.moscow_today())
    counts: list[int] = []
    runs = [threading.Thread(target=lambda: counts.append(calendar_reminders.send_due(clock.moscow_today())))
            for _ in range(3)]
    for t in runs:
        t.start()
    for t in runs:
        t.join()
    calendar_reminders.send_due(clock.moscow_today())  # whatever a conflict left is sent by a later run, once
    assert len(_reminder_messages(api, "+79161110012")) == 3


def test_reminders_off_send_nothing_and_settings_are_checked(api):
    who = api.register(phone="+79161110013")
    api.call("PUT", "/me/calendar/settings", {"document": {"enabled": False, "days_before": 3, "channel": "sms"}},
             token=who["access_token"])
    document(api, who, in_days(1))
    scheduled.daily_reminders()
    assert _reminder_messages(api, "+79161110013") == []
    for bad in ({"document": {"enabled": True, "days_before": -1, "channel": "sms"}},
                {"document": {"enabled": True, "days_before": 3, "channel": "pigeon"}},
                {"holiday": {"enabled": True, "days_before": 3, "channel": "sms"}}):
        resp = api.call("PUT", "/me/calendar/settings", bad, token=who["access_token"])
        assert resp.status_code == 400 and resp.json["error"]["code"] == "VALIDATION_ERROR", resp.json
    got = api.get("/me/calendar/settings", token=who["access_token"]).json
    assert got["reminders"]["document"]["enabled"] is False and got["subscribed"] is False


# -- producers write and remove their items ------------------------------------------------------------------

def test_a_document_s_expiry_moves_with_a_new_version_and_goes_with_the_document(api):
    who = api.register(phone="+79161110004")
    doc_id = document(api, who, in_days(40))
    api.upload(who["access_token"], files.pdf(), document_id=doc_id, valid_until=in_days(50))
    assert [(i["id"], i["date"]) for i in by_category(cal(api, who), "document")] == [(f"document.{doc_id}",
                                                                                       in_days(50))]
    assert api.call("DELETE", f"/documents/{doc_id}", token=who["access_token"]).status_code == 204
    assert by_category(cal(api, who), "document") == []


def test_an_application_s_deadline_comes_with_submission_and_goes_with_the_decision(api):
    who = citizen(api, phone="+79161110005")
    sent = submit_ncr(api, who)
    items = by_category(cal(api, who), "application")
    assert [(i["id"], i["date"], i["link"]) for i in items] == [
        (f"application.{sent['id']}", sent["expected_by"], f"/applications/{sent['id']}")]
    assert api.post(f"/requests/{sent['id']}/cancel", token=who["access_token"]).status_code == 200
    assert by_category(cal(api, who), "application") == []


def test_a_password_change_moves_its_expiry(api, fake_clock):
    from chalicelib.identity import passwords
    from chalicelib.identity.users import load_user
    from chalicelib.store.table import Change, Tx

    who = api.register(phone="+79161110006")
    before = by_category(cal(api, who), "password")
    fake_clock.advance(30 * 86400)
    user = load_user(who["user_id"])
    tx = Tx()
    passwords.set_password(Change(), user, "Leto#Gorod93!", tx=tx).apply(tx, keys.user(who["user_id"]))
    tx.commit()
    after = by_category(cal(api, api.login("+79161110006", "Leto#Gorod93!")), "password")
    assert len(after) == 1 and after[0]["id"] == before[0]["id"] == "password.password"
    assert date.fromisoformat(after[0]["date"]) - date.fromisoformat(before[0]["date"]) == timedelta(days=30)


def test_a_bound_certificate_s_expiry_is_there_until_it_is_unbound(api):
    from tests.test_esign import bind, issue, person

    who = person(api, phone="+79161110007")
    issued = issue()
    bound = bind(api, who, issued)
    cert = bound["certificate"]
    items = cal(api, {"access_token": who["token"]}, "?category=esign")
    assert [i["id"] for i in items] == [f"esign.{cert['id']}"] and items[0]["at"] == cert["not_after"]
    assert api.call("DELETE", f"/me/esign/certificates/{cert['id']}", token=who["token"]).status_code == 204
    assert cal(api, {"access_token": who["token"]}, "?category=esign") == []


def test_the_daily_debt_watch_writes_moves_and_removes_due_dates(api):
    who = api.register(phone="+79161110008")
    uid = who["user_id"]

    def charge(uin: str, due: str, status: str = "active") -> gisgmp.Charge:
        return gisgmp.Charge(uin=uin, kind="fine", title=f"Штраф {uin[-2:]}", amount=50000, remaining=50000,
                             status=status, issued_on="2026-01-01", due_date=due, recipient=None,  # type: ignore
                             details={}, found_by="driving_licence")

    a, b = "18810177240000000011", "18810177240000000022"
    debt_reminders.calendar_due_dates(uid, [charge(a, in_days(5)), charge(b, in_days(9))], {})
    assert sorted((i["id"], i["date"]) for i in by_category(cal(api, who), "payment")) == [
        (f"payment.{a}", in_days(5)), (f"payment.{b}", in_days(9))]
    # b moved, a paid through Kabinet (a mark), nothing else changes
    debt_reminders.calendar_due_dates(uid, [charge(a, in_days(5)), charge(b, in_days(12))], {a: {"state": "paid"}})
    assert [(i["id"], i["date"]) for i in by_category(cal(api, who), "payment")] == [(f"payment.{b}", in_days(12))]
    debt_reminders.calendar_due_dates(uid, [charge(b, in_days(12), status="closed")], {})
    assert by_category(cal(api, who), "payment") == []


def test_the_calendar_is_one_query(api):
    """Issue 14 «AWS calls»: the calendar is one Query (bench/aws_calls.py has the same row)."""
    from chalicelib.core import aws

    who = api.register(phone="+79161110014")
    document(api, who, in_days(3))
    api.call("PUT", "/me/calendar/settings", {"document": {"enabled": True, "days_before": 1, "channel": "sms"}},
             token=who["access_token"])
    calls: list[str] = []
    ddb = aws.client("dynamodb")
    hook = lambda model, **_: calls.append(model.name)  # noqa: E731
    ddb.meta.events.register("before-call.dynamodb", hook)
    try:
        items = cal(api, who, f"?from={in_days(0)}&category=document")
    finally:
        ddb.meta.events.unregister("before-call.dynamodb", hook)
    assert calls == ["Query"] and items[0]["reminder"]["days_before"] == 1  # the settings came with the items
