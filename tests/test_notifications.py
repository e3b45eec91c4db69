"""Notifications people control and can trust (issue 14): settings per type × channel, frequency and digests,
filters, quiet hours across midnight and time zones, delivery statuses with retries and unreachable contacts,
dedup, the carriers' hourly limits, versioned templates, one-click unsubscribe, the test notice.

Expected values come from the issue: security notices cannot be switched off; quiet hours hold SMS and push only;
temporary failures are retried for up to 72 hours; at most 20 identical and 100 SMS per number per hour.
"""

from __future__ import annotations

import json
import threading
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest

from chalicelib.core import clock
from chalicelib.core.ids import new_id
from chalicelib.events import notify_worker
from chalicelib.notify import deliveries, digests, preferences
from chalicelib.store import keys, table

PHONE, EMAIL = "+79161234567", "anna.orlova@mail.ru"
FORM = {"content-type": "application/x-www-form-urlencoded"}


def person(api: Any, phone: str = PHONE, email: str | None = EMAIL) -> dict[str, Any]:
    """A registered person with a phone and (set directly, as a confirmed contact change would) an e-mail."""
    reg = api.register(phone=phone, first_name="Анна", last_name="Орлова")
    if email:
        table.update(keys.user(reg["user_id"]), "SET email = :e", values={":e": email})
    api.pump.drain()
    return {**reg, "phone": phone, "email": email}


def status_event(who: dict[str, Any], status: str = "in_progress", service_id: str = "no-criminal-record",
                 at: datetime | None = None) -> dict[str, Any]:
    return {"id": new_id(), "type": "request.status_changed", "at": clock.iso(at or clock.now()),
            "data": {"user_id": who["user_id"], "request_id": new_id(), "number": "0001-2026-000001",
                     "service_title": "Справка о наличии (отсутствии) судимости", "service_id": service_id,
                     "status": status, "status_title": "В работе", "expected_by": "10.12.2026", "text": None,
                     "reason": None, "fix": None}}


def password_changed(who: dict[str, Any]) -> dict[str, Any]:
    return {"id": new_id(), "type": "password.changed", "at": clock.iso(clock.now()),
            "data": {"user_id": who["user_id"], "phone": PHONE, "email": EMAIL, "first_name": "Анна",
                     "ip": "203.0.113.7"}}


def sent_to(api: Any, to: str) -> list[dict[str, Any]]:
    return api.outbox(to) or []


def deliveries_of(who: dict[str, Any], event_id: str) -> dict[str, dict[str, Any]]:
    items = table.query(keys.user_pk(who["user_id"]), f"{keys.DELIVERIES_PREFIX}{event_id}#", consistent=True).items
    return {i["channel"]: i for i in items}


def settings_body(current: dict[str, Any], **changes: Any) -> dict[str, Any]:
    body = {"types": {t["type"]: {"channels": dict(t["channels"]), "frequency": t["frequency"]}
                      for t in current["types"] if not t["locked"]},
            "filters": dict(current["filters"]), "quiet_hours": dict(current["quiet_hours"]),
            "time_zone": current["time_zone"]}
    for key, value in changes.items():
        if key in ("filters", "quiet_hours", "time_zone"):
            body[key] = value
        else:
            body["types"][key] = value
    return body


def put_settings(api: Any, who: dict[str, Any], **changes: Any) -> Any:
    current = api.get("/me/notifications/settings", token=who["access_token"]).json
    return api.call("PUT", "/me/notifications/settings", settings_body(current, **changes), token=who["access_token"])


def channels(sms: bool = True, email: bool = True, push: bool = True, inbox: bool = True,
             frequency: str = "immediately") -> dict[str, Any]:
    return {"channels": {"sms": sms, "email": email, "push": push, "inbox": inbox}, "frequency": frequency}


NO_QUIET = {"enabled": False, "start": "22:00", "end": "08:00"}


# -- settings --------------------------------------------------------------------------------------------
def test_someone_who_never_opens_the_settings_gets_every_channel_news_without_sms_and_quiet_nights(api):
    who = person(api)
    got = api.get("/me/notifications/settings", token=who["access_token"])
    assert got.status_code == 200
    kinds = {t["type"]: t for t in got.json["types"]}
    assert set(kinds) == {"security", "applications", "payments", "documents", "identity", "calendar", "news",
                          "system"}
    assert kinds["security"]["locked"] and all(not t["locked"] for n, t in kinds.items() if n != "security")
    assert kinds["applications"]["channels"] == {"sms": True, "email": True, "push": True, "inbox": True}
    assert kinds["news"]["channels"]["sms"] is False and kinds["news"]["channels"]["email"] is True
    assert all(t["frequency"] == "immediately" for t in kinds.values())
    assert got.json["quiet_hours"] == {"enabled": True, "start": "22:00", "end": "08:00"}
    assert got.json["time_zone"] == "Europe/Moscow" and got.json["unreachable"] == []


def test_security_notices_stay_on_and_other_settings_are_saved_with_an_audit_entry(api):
    who = person(api)
    refused = put_settings(api, who, security=channels(sms=False))
    assert refused.status_code == 400 and "types.security" in refused.json["error"]["fields"]
    saved = put_settings(api, who, applications=channels(sms=False, frequency="weekly"),
                         quiet_hours={"enabled": True, "start": "23:30", "end": "07:00"}, time_zone="Asia/Omsk")
    assert saved.status_code == 200, saved.json
    kinds = {t["type"]: t for t in saved.json["types"]}
    assert kinds["applications"]["channels"]["sms"] is False and kinds["applications"]["frequency"] == "weekly"
    assert saved.json["quiet_hours"]["start"] == "23:30" and saved.json["time_zone"] == "Asia/Omsk"
    assert kinds["security"]["channels"]["sms"] is True
    audit = table.query(keys.user_pk(who["user_id"]), "AUDIT#", limit=50).items
    assert any(a["action"] == "notification.settings_changed" for a in audit)
    bad = put_settings(api, who, quiet_hours={"enabled": True, "start": "25:00", "end": "07:00"})
    assert bad.status_code == 400 and "quiet_hours.start" in bad.json["error"]["fields"]


def test_a_second_person_neither_sees_nor_changes_the_first_ones_settings(api):
    first = person(api)
    second = person(api, phone="+79165550101", email="other@mail.ru")
    assert put_settings(api, first, applications=channels(sms=False)).status_code == 200
    theirs = {t["type"]: t for t in api.get("/me/notifications/settings", token=second["access_token"]).json["types"]}
    assert theirs["applications"]["channels"]["sms"] is True
    assert put_settings(api, second, payments=channels(email=False)).status_code == 200
    mine = {t["type"]: t for t in api.get("/me/notifications/settings", token=first["access_token"]).json["types"]}
    assert mine["applications"]["channels"]["sms"] is False and mine["payments"]["channels"]["email"] is True
    assert api.get("/me/notifications/settings").status_code == 401


# -- which channels a notice takes --------------------------------------------------------------------
def test_a_channel_switched_off_for_a_type_gets_nothing_of_that_type_and_security_still_arrives(api):
    who = person(api)
    put_settings(api, who, applications=channels(sms=False), quiet_hours=NO_QUIET)
    event = status_event(who)
    notify_worker.process(event)
    assert sent_to(api, PHONE) == [] or all("Заявление" not in m["text"] for m in sent_to(api, PHONE))
    assert any("0001-2026-000001" in m["subject"] for m in sent_to(api, EMAIL))
    assert set(deliveries_of(who, event["id"])) == {"email"}
    inbox = api.get("/me/messages", token=who["access_token"]).json["items"]
    assert inbox and inbox[0]["id"] == event["id"]
    notify_worker.process(password_changed(who))
    assert any("пароль" in m["text"].lower() for m in sent_to(api, PHONE))


@pytest.mark.parametrize(("statuses", "categories", "status", "service", "outside"), [
    ([], [], "in_progress", "no-criminal-record", True),
    (["approved"], [], "in_progress", "no-criminal-record", False),
    (["approved"], [], "approved", "no-criminal-record", True),
    ([], ["Оплата"], "in_progress", "no-criminal-record", False),
    ([], ["Справки"], "in_progress", "no-criminal-record", True),
])
def test_filters_by_status_and_service_kind_act_on_sms_email_and_push_but_the_inbox_keeps_everything(
        api, statuses, categories, status, service, outside):
    from chalicelib.catalog import services

    assert services.get(service).category == "Справки"  # the catalog's kind of this service
    who = person(api)
    put_settings(api, who, filters={"statuses": statuses, "categories": categories}, quiet_hours=NO_QUIET)
    event = status_event(who, status=status, service_id=service)
    notify_worker.process(event)
    assert set(deliveries_of(who, event["id"])) == ({"sms", "email"} if outside else set())
    assert api.get("/me/messages", token=who["access_token"]).json["items"][0]["id"] == event["id"]


# -- quiet hours -----------------------------------------------------------------------------------------
QUIET = {"enabled": True, "start": "22:00", "end": "08:00"}


@pytest.mark.parametrize(("zone", "utc", "quiet", "morning_utc"), [
    ("Europe/Moscow", "2026-12-03T18:59:00", False, None),  # 21:59 in Moscow
    ("Europe/Moscow", "2026-12-03T19:00:00", True, "2026-12-04T05:00:00"),  # 22:00: until 08:00 tomorrow
    ("Europe/Moscow", "2026-12-03T23:30:00", True, "2026-12-04T05:00:00"),  # 02:30 after midnight
    ("Europe/Moscow", "2026-12-04T04:59:00", True, "2026-12-04T05:00:00"),  # 07:59
    ("Europe/Moscow", "2026-12-04T05:00:00", False, None),  # 08:00 sharp
    ("Asia/Vladivostok", "2026-12-03T12:30:00", True, "2026-12-03T22:00:00"),  # 22:30 there, 15:30 in Moscow
    ("Europe/Kaliningrad", "2026-12-03T19:30:00", False, None),  # 22:30 in Moscow, 21:30 there
])
def test_quiet_hours_hold_sms_and_push_until_the_morning_in_the_persons_own_time_zone(zone, utc, quiet,
                                                                                      morning_utc):
    prefs = preferences.defaults() | {"quiet_hours": QUIET, "time_zone": zone}
    now = datetime.fromisoformat(utc).replace(tzinfo=UTC)
    for channel in ("sms", "push"):
        decision = preferences.decide(prefs, "applications", channel, {}, now)
        assert decision.action == ("defer" if quiet else "send")
        if quiet:
            assert decision.when == datetime.fromisoformat(morning_utc).replace(tzinfo=UTC)
    assert preferences.decide(prefs, "applications", "email", {}, now).action == "send"
    assert preferences.decide(prefs, "security", "sms", {}, now).action == "send"


def test_quiet_hours_that_do_not_cross_midnight_and_empty_ones():
    prefs = preferences.defaults() | {"quiet_hours": {"enabled": True, "start": "13:00", "end": "15:00"}}
    at = datetime(2026, 12, 3, 10, 30, tzinfo=UTC)  # 13:30 in Moscow
    assert preferences.decide(prefs, "payments", "sms", {}, at).action == "defer"
    assert preferences.decide(prefs, "payments", "sms", {}, at + timedelta(hours=2)).action == "send"
    prefs["quiet_hours"] = {"enabled": True, "start": "13:00", "end": "13:00"}
    assert preferences.decide(prefs, "payments", "sms", {}, at).action == "send"
    prefs["quiet_hours"] = {"enabled": False, "start": "00:00", "end": "23:59"}
    assert preferences.decide(prefs, "payments", "sms", {}, at).action == "send"


def test_an_sms_held_by_quiet_hours_is_sent_by_the_sweeper_in_the_morning(api, fake_clock):
    fake_clock.now = datetime(2026, 12, 3, 20, 0, tzinfo=UTC)  # 23:00 in Moscow
    who = person(api)
    event = status_event(who)
    notify_worker.process(event)
    held = deliveries_of(who, event["id"])
    assert held["sms"]["status"] == "created" and held["sms"]["next_at"] == "2026-12-04T05:00:00Z"
    assert held["email"]["status"] == "sending"
    fake_clock.now = datetime(2026, 12, 4, 4, 59, tzinfo=UTC)
    assert deliveries.send_due() == 0
    fake_clock.now = datetime(2026, 12, 4, 5, 0, tzinfo=UTC)
    assert deliveries.send_due() == 1 and deliveries.send_due() == 0
    assert deliveries_of(who, event["id"])["sms"]["status"] == "sending"
    assert [m for m in sent_to(api, PHONE) if "0001-2026-000001" in m["text"]]


# -- dedup -----------------------------------------------------------------------------------------------
def test_a_redelivered_event_sends_nothing_twice_even_after_the_claim_was_lost(api):
    who = person(api)
    put_settings(api, who, quiet_hours=NO_QUIET)
    event = status_event(who)
    before = len(sent_to(api, PHONE))
    notify_worker.process(event)
    notify_worker.process(event)  # what SQS does when the worker died after sending, before marking it done
    texts = [m for m in sent_to(api, PHONE) if "0001-2026-000001" in m["text"]]
    assert len(texts) == 1 and len(sent_to(api, PHONE)) == before + 1
    assert len([m for m in sent_to(api, EMAIL) if "0001-2026-000001" in m["subject"]]) == 1
    inbox = api.get("/me/messages", token=who["access_token"]).json
    assert [m["id"] for m in inbox["items"]].count(event["id"]) == 1


def test_an_sqs_message_redelivered_after_the_worker_died_sends_nothing_twice(api):
    """The worker sent, then died before marking the event done (its claim is gone): SQS delivers the message again."""
    import uuid

    who = person(api)
    put_settings(api, who, quiet_hours=NO_QUIET)
    event = status_event(who)
    record = {"messageId": str(uuid.uuid4()), "body": json.dumps(event)}
    assert notify_worker.handle_batch([record]) == {"batchItemFailures": []}
    table.delete(keys.processed(event["id"], notify_worker.CONSUMER))  # as if it never finished
    assert notify_worker.handle_batch([{**record, "messageId": str(uuid.uuid4())}]) == {"batchItemFailures": []}
    assert len([m for m in sent_to(api, PHONE) if "0001-2026-000001" in m["text"]]) == 1
    assert len([m for m in sent_to(api, EMAIL) if "0001-2026-000001" in m["subject"]]) == 1


def test_parallel_redeliveries_of_one_event_send_one_sms(api):
    who = person(api)
    put_settings(api, who, quiet_hours=NO_QUIET)
    event = status_event(who)
    threads = [threading.Thread(target=notify_worker.process, args=(event,)) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len([m for m in sent_to(api, PHONE) if "0001-2026-000001" in m["text"]]) == 1


# -- delivery statuses, retries, unreachable contacts ---------------------------------------------------
def test_a_temporary_failure_is_retried_with_backoff_and_gives_up_after_72_hours(api, fake_clock):
    who = person(api)
    put_settings(api, who, quiet_hours=NO_QUIET)
    event = status_event(who)
    notify_worker.process(event)
    sms = deliveries_of(who, event["id"])["sms"]
    assert sms["status"] == "sending" and sms["attempts"] == 1
    assert deliveries.record_feedback(sms["provider_id"], "sms", "temporary-failure", "phone switched off",
                                      clock.iso(clock.now()))
    sms = deliveries_of(who, event["id"])["sms"]
    assert sms["status"] == "temporary-failure"
    assert clock.from_iso(sms["next_at"]) == clock.from_iso(sms["updated_at"]) + timedelta(minutes=5)
    fake_clock.advance(5 * 60)
    assert deliveries.send_due() == 1
    sms = deliveries_of(who, event["id"])["sms"]
    assert sms["status"] == "sending" and sms["attempts"] == 2  # sent again (the pump is not run here: the
    # simulator's own feedback would say "delivered"; this test plays the provider by hand)
    # every later try fails too: backoff grows, and after 72 hours the status stays a temporary failure
    waits = []
    for _ in range(20):
        sms = deliveries_of(who, event["id"])["sms"]
        if sms["status"] != "sending":
            break
        deliveries.record_feedback(sms["provider_id"], "sms", "temporary-failure", "off", clock.iso(clock.now()))
        sms = deliveries_of(who, event["id"])["sms"]
        if not sms.get("next_at"):
            break
        waits.append((clock.from_iso(sms["next_at"]) - clock.now()).total_seconds())
        fake_clock.now = clock.from_iso(sms["next_at"])
        deliveries.send_due()
    sms = deliveries_of(who, event["id"])["sms"]
    assert sms["status"] == "temporary-failure" and not sms.get("next_at") and "text" not in sms
    assert waits[:3] == [15 * 60, 3600, 3 * 3600] and waits == sorted(waits)
    assert clock.now() - clock.from_iso(sms["created_at"]) <= timedelta(hours=72)


def test_a_permanent_failure_marks_the_contact_unreachable_tells_the_person_once_and_stops_sending(api):
    who = person(api)
    put_settings(api, who, quiet_hours=NO_QUIET)
    first = status_event(who)
    notify_worker.process(first)
    sms = deliveries_of(who, first["id"])["sms"]
    assert deliveries.record_feedback(sms["provider_id"], "sms", "permanent-failure", "Unknown subscriber",
                                      clock.iso(clock.now()))
    assert deliveries_of(who, first["id"])["sms"]["status"] == "permanent-failure"
    assert not deliveries.record_feedback(sms["provider_id"], "sms", "delivered", "late", clock.iso(clock.now()))
    api.pump.drain()
    inbox = api.get("/me/messages", token=who["access_token"]).json["items"]
    told = [m for m in inbox if m["type"] == "contact.unreachable"]
    assert len(told) == 1 and "+7 916 ***-**-67" in told[0]["title"]
    view = api.get("/me/notifications/settings", token=who["access_token"]).json
    assert [(u["channel"], u["contact"]) for u in view["unreachable"]] == [("sms", "+7 916 ***-**-67")]
    second = status_event(who)
    before = len(sent_to(api, PHONE))
    notify_worker.process(second)
    assert len(sent_to(api, PHONE)) == before
    assert deliveries_of(who, second["id"])["sms"]["status"] == "permanent-failure"
    assert deliveries_of(who, second["id"])["email"]["status"] == "delivered"  # the simulator's feedback, drained
    deliveries.mark_unreachable(who["user_id"], "sms", PHONE)
    api.pump.drain()
    inbox = api.get("/me/messages", token=who["access_token"]).json["items"]
    assert len([m for m in inbox if m["type"] == "contact.unreachable"]) == 1
    # saving the settings tries the contact again
    put_settings(api, who, quiet_hours=NO_QUIET)
    third = status_event(who)
    notify_worker.process(third)
    assert deliveries_of(who, third["id"])["sms"]["status"] == "sending"


def test_the_providers_refusals_are_classed_temporary_permanent_or_technical(api, monkeypatch):
    from botocore.exceptions import ClientError

    from chalicelib.adapters import outgoing

    who = person(api)
    put_settings(api, who, quiet_hours=NO_QUIET)
    real = outgoing.client
    outcomes = {"Throttling": "temporary-failure", "InvalidParameter": "permanent-failure",
                "AuthorizationError": "technical-failure"}
    for code, expected in outcomes.items():
        class Refusing:
            def __init__(self, code: str) -> None:
                self.code = code

            def publish(self, **_: Any) -> None:
                raise ClientError({"Error": {"Code": self.code, "Message": "refused"}}, "Publish")

        monkeypatch.setattr(outgoing, "client", lambda name, c=code: Refusing(c) if name == "sns" else real(name))
        event = status_event(who)
        notify_worker.process(event)
        assert deliveries_of(who, event["id"])["sms"]["status"] == expected, code
        table.update(keys.user(who["user_id"]), "REMOVE unreachable")


# -- carriers' limits ------------------------------------------------------------------------------------
def test_at_most_20_identical_and_100_sms_per_number_per_hour(api, fake_clock):
    fake_clock.now = datetime(2026, 12, 3, 10, 10, tzinfo=UTC)
    event = {"id": new_id(), "at": clock.iso(clock.now())}

    def sms(i: int, text: str) -> dict[str, Any]:
        item = deliveries.new(None, {**event, "id": new_id()}, "sms", "+79165557777", subject="", text=text,
                              template="code", version=1, notice_type="security")
        table.put(item)
        return item

    same = [deliveries.dispatch(sms(i, "Один и тот же текст")) for i in range(21)]
    assert same.count("sending") == 20 and same[-1] == "created"
    held = table.query(keys.notify_due_pk(0), index="GSI1", limit=100).items + [
        i for s in range(1, keys.NOTIFY_DUE_SHARDS) for i in table.query(keys.notify_due_pk(s), index="GSI1").items]
    assert [h["next_at"] for h in held] == ["2026-12-03T11:00:00Z"]
    other = [deliveries.dispatch(sms(i, f"Текст {i}")) for i in range(81)]
    assert other.count("sending") == 80 and other[-1] == "created"  # 100 in all
    fake_clock.now = datetime(2026, 12, 3, 11, 0, tzinfo=UTC)
    assert deliveries.send_due() == 2  # the next hour takes them


# -- digests ---------------------------------------------------------------------------------------------
def test_a_daily_digest_gathers_the_days_notices_and_is_sent_exactly_once(api, fake_clock):
    fake_clock.now = datetime(2026, 12, 3, 9, 0, tzinfo=UTC)
    who = person(api)
    put_settings(api, who, applications=channels(frequency="daily"), quiet_hours=NO_QUIET)
    events = [status_event(who) for _ in range(3)]
    for event in events:
        notify_worker.process(event)
    assert all(deliveries_of(who, e["id"]) == {} for e in events)  # nothing left at once
    assert len(api.get("/me/messages", token=who["access_token"]).json["items"]) >= 3  # the inbox has them
    assert digests.send_closed() == 0  # the day is not over
    fake_clock.now = datetime(2026, 12, 4, 6, 0, tzinfo=UTC)
    results = []
    threads = [threading.Thread(target=lambda: results.append(digests.send_closed())) for _ in range(3)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sum(results) == 1 and digests.send_closed() == 0
    api.pump.drain()
    mails = [m for m in sent_to(api, EMAIL) if m["subject"].startswith("Сводка уведомлений")]
    assert len(mails) == 1 and "за 03.12.2026: 3" in mails[0]["subject"]
    assert mails[0]["text"].count("Заявление № 0001-2026-000001") == 3
    assert len([m for m in sent_to(api, PHONE) if "сводка за 03.12.2026" in m["text"]]) == 1


def test_a_weekly_digest_waits_for_the_week_to_end():
    monday = datetime(2026, 11, 30, 9, 0, tzinfo=UTC)
    assert digests.period_of("weekly", monday) == "W-2026-W49"
    assert digests.period_of("weekly", monday + timedelta(days=6, hours=11)) == "W-2026-W49"  # Sunday 23:00 MSK
    assert digests.period_of("weekly", monday + timedelta(days=6, hours=12)) == "W-2026-W50"  # Monday 00:00 MSK
    assert "W-2026-W49" not in digests.closed_periods(monday + timedelta(days=6))
    assert "W-2026-W49" in digests.closed_periods(monday + timedelta(days=7))
    assert "D-2026-12-06" in digests.closed_periods(datetime(2026, 12, 7, 1, 0, tzinfo=UTC))


# -- unsubscribing ---------------------------------------------------------------------------------------
def _headers(api: Any, subject_part: str) -> dict[str, str]:
    mail = next(m for m in sent_to(api, EMAIL) if subject_part in m["subject"])
    return mail["headers"]


def test_non_security_email_unsubscribes_with_one_click_and_security_email_has_no_link(api):
    who = person(api)
    put_settings(api, who, quiet_hours=NO_QUIET)
    notify_worker.process(status_event(who))
    headers = _headers(api, "0001-2026-000001")
    assert headers["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    url = headers["List-Unsubscribe"].strip("<>")
    assert urlsplit(url).path == "/mail/unsubscribe"
    notify_worker.process(password_changed(who))
    security = next(m for m in sent_to(api, EMAIL) if "парол" in m["subject"].lower())
    assert "List-Unsubscribe" not in (security.get("headers") or {})
    # the mail program's one POST, with no cookie and no token of ours
    token = parse_qs(urlsplit(url).query)["token"][0]
    done = api.call("POST", f"/mail/unsubscribe?token={token}", raw=b"List-Unsubscribe=One-Click",
                    headers=FORM)
    assert done.status_code == 200 and done.json == {"type": "applications", "title": "Заявления",
                                                     "channel": "email"}
    again = api.call("POST", f"/mail/unsubscribe?token={token}", raw=b"List-Unsubscribe=One-Click",
                     headers=FORM)
    assert again.status_code == 200
    kinds = {t["type"]: t for t in api.get("/me/notifications/settings", token=who["access_token"]).json["types"]}
    assert kinds["applications"]["channels"]["email"] is False and kinds["applications"]["channels"]["sms"]
    event = status_event(who)
    notify_worker.process(event)
    assert set(deliveries_of(who, event["id"])) == {"sms"}
    forged = api.call("POST", f"/mail/unsubscribe?token={token[:-4]}AAAA", raw=b"List-Unsubscribe=One-Click",
                      headers=FORM)
    assert forged.status_code == 400 and forged.json["error"]["code"] == "VALIDATION_ERROR"


# -- templates -------------------------------------------------------------------------------------------
def test_every_template_is_versioned_and_a_missing_field_sends_nothing(api):
    from pathlib import Path

    from chalicelib.notify import render
    from chalicelib.notify.messages import Message

    names = [p.stem for p in Path("chalicelib/templates/notify").glob("*.j2")]
    assert len(names) > 30 and all(render.version(n) >= 1 for n in names)
    with pytest.raises(Exception, match="service_title"):
        render.render(Message("email", EMAIL, "request_status", {"first_name": "Анна", "status": "approved",
                                                                  "status_title": "Одобрено", "request_id": "x",
                                                                  "number": None, "text": None,
                                                                  "event_at": "03.12.2026 10:00:00"}))
    who = person(api)
    event = status_event(who)
    del event["data"]["service_title"]
    before = (len(sent_to(api, PHONE)), len(sent_to(api, EMAIL)))
    with pytest.raises(Exception, match="service_title"):
        notify_worker.process(event)
    assert (len(sent_to(api, PHONE)), len(sent_to(api, EMAIL))) == before
    assert deliveries_of(who, event["id"]) == {}


# -- the test notice and the delivery log ---------------------------------------------------------------
def test_a_test_notification_goes_through_the_types_channels_five_an_hour(api):
    who = person(api)
    put_settings(api, who, payments=channels(sms=False), quiet_hours=NO_QUIET)
    sent = api.post("/me/notifications/test", {"type": "payments"}, token=who["access_token"])
    assert sent.status_code == 202 and sent.json == {"channels": ["email", "inbox"]}
    api.pump.drain()
    assert [m for m in sent_to(api, EMAIL) if m["subject"] == "Проверочное уведомление"]
    assert not [m for m in sent_to(api, PHONE) if "проверочное" in m["text"]]
    inbox = api.get("/me/messages", token=who["access_token"]).json["items"]
    test = next(m for m in inbox if m["type"] == "notification.test")
    assert [(d["channel"], d["status"]) for d in test["deliveries"]] == [("email", "delivered")]
    assert test["deliveries"][0]["to"] == "an***@mail.ru" and test["deliveries"][0]["template_version"] == 1
    for _ in range(4):
        assert api.post("/me/notifications/test", {"type": "system"}, token=who["access_token"]).status_code == 202
    assert api.post("/me/notifications/test", {"type": "system"}, token=who["access_token"]).status_code == 429
    assert api.post("/me/notifications/test", {"type": "nonsense"}, token=who["access_token"]).status_code == 400


# -- the providers' feedback, end to end through the local simulator (docs/delivery-feedback.md) --------
def test_feedback_from_the_providers_moves_each_delivery_to_its_final_status(api):
    """SES events travel SNS → SQS → delivery_feedback, SMS statuses come as a CloudWatch Logs subscription;
    the simulator picks outcomes by address: +79995550001 is an unknown subscriber, soft1.kabinet.test bounces
    softly the first time only."""
    who = person(api, phone="+79995550001", email="anna@soft1.kabinet.test")
    put_settings(api, who, quiet_hours=NO_QUIET)  # saving clears the mark the welcome SMS left

    def told() -> int:
        items = api.get("/me/messages", token=who["access_token"]).json["items"]
        return [m["type"] for m in items].count("contact.unreachable")

    before = told()
    event = status_event(who)
    notify_worker.process(event)
    api.pump.drain()
    got = deliveries_of(who, event["id"])
    assert got["sms"]["status"] == "permanent-failure" and got["sms"]["detail"]
    assert got["email"]["status"] == "temporary-failure" and got["email"]["next_at"]
    assert told() == before + 1
    assert deliveries.send_due(clock.from_iso(got["email"]["next_at"]) + timedelta(seconds=1)) == 1
    api.pump.drain()
    email = deliveries_of(who, event["id"])["email"]
    assert email["status"] == "delivered" and email["attempts"] == 2 and "text" not in email
    inbox = api.get("/me/messages", token=who["access_token"]).json["items"]
    log = {d["channel"]: d for d in next(m for m in inbox if m["id"] == event["id"])["deliveries"]}
    assert log["email"]["status_title"] == "Доставлено" and log["sms"]["status_title"] == "Не доставлено"


def test_a_complaint_switches_off_that_types_email_only(api):
    who = person(api, phone="+79165550202", email="anna@complaint.kabinet.test")
    put_settings(api, who, quiet_hours=NO_QUIET)
    notify_worker.process(status_event(who))
    api.pump.drain()
    kinds = {t["type"]: t for t in api.get("/me/notifications/settings", token=who["access_token"]).json["types"]}
    assert kinds["applications"]["channels"] == {"sms": True, "email": False, "push": True, "inbox": True}
    assert kinds["payments"]["channels"]["email"] is True


# -- push ---------------------------------------------------------------------------------------------------
def test_a_notice_goes_to_each_device_by_push_and_a_dead_endpoint_forgets_its_device(api, moto_server):
    from infra import admin
    from tests.test_push import APNS, _endpoints

    who = person(api)
    put_settings(api, who, quiet_hours=NO_QUIET)
    added = api.post("/me/devices", {"platform": "apns", "token": APNS, "name": "iPhone"}, token=who["access_token"])
    assert added.status_code == 201
    api.pump.drain()
    event = status_event(who)
    notify_worker.process(event)
    push = deliveries_of(who, event["id"])["push"]
    assert push["status"] == "delivered" and push["to"] == added.json["id"]
    [endpoint] = _endpoints(moto_server)
    sent = json.loads(endpoint["messages"][push["provider_id"]])
    assert "0001-2026-000001" in sent["default"]
    # the person switched push off for applications: no push, SMS and e-mail as before
    put_settings(api, who, applications=channels(push=False), quiet_hours=NO_QUIET)
    quiet = status_event(who)
    notify_worker.process(quiet)
    assert set(deliveries_of(who, quiet["id"])) == {"sms", "email"}
    put_settings(api, who, applications=channels(), quiet_hours=NO_QUIET)
    assert admin.main(["push-disable", push["endpoint"]]) == 0  # what SNS does when Apple refuses the token
    dead = status_event(who)
    notify_worker.process(dead)
    assert deliveries_of(who, dead["id"])["push"]["status"] == "permanent-failure"
    assert api.get("/me/devices", token=who["access_token"]).json["items"] == []
    assert table.get(keys.user(who["user_id"]))["push_devices"] == 0
    after = status_event(who)
    notify_worker.process(after)
    assert "push" not in deliveries_of(who, after["id"])
