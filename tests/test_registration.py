"""Registration (ID-1, ID-2, ID-4, ID-5): codes, TTL, attempts, resend cooldown, enumeration safety."""

from __future__ import annotations

import json
import re

from tests.conftest import PASSWORD

PHONE = "+79161234567"
BODY = {"last_name": "Кузнецов", "first_name": "Алексей", "middle_name": "Игоревич", "phone": "89161234567"}


def _start(api, body=None):
    resp = api.post("/auth/registrations", body or BODY)
    assert resp.status_code == 201, resp.json
    return resp.json


def test_start_sends_code_by_sms_and_stores_only_its_hash(api):
    reg = _start(api)
    assert reg["channel"] == "sms" and reg["expires_in"] == 300 and reg["resend_after"] == 60
    messages = api.outbox(PHONE)
    assert len(messages) == 1 and messages[0]["channel"] == "sms" and messages[0]["to"] == PHONE
    code = api.last_code(PHONE)
    from chalicelib.store import keys, table
    stored = table.get(keys.registration(reg["registration_id"]))
    assert code not in str({k: v for k, v in stored.items()})  # only the salted hash is kept


def test_email_registration_gets_code_by_email(api):
    reg = _start(api, {"last_name": "Орлова", "first_name": "Мария", "email": "Maria.Orlova@Mail.RU"})
    assert reg["channel"] == "email"
    msg = api.outbox("maria.orlova@mail.ru")[0]
    assert msg["channel"] == "email" and "Код подтверждения" in msg["subject"]


def test_full_registration_gives_simplified_account(api):
    tokens = api.register(phone=PHONE)
    assert tokens["tier"] == "simplified" and tokens["expires_in"] <= 600
    me = api.get("/me", token=tokens["access_token"]).json
    assert me["last_name"] == "Кузнецов" and me["tier"] == "simplified" and me["phone"] == PHONE
    welcome = api.outbox(PHONE)[0]["text"]
    assert "Учётная запись" in welcome


def test_wrong_code_counts_attempts_then_dies(api):
    rid = _start(api)["registration_id"]
    code = api.last_code(PHONE)
    wrong = "000000" if code != "000000" else "111111"
    for left in (4, 3, 2, 1, 0):
        resp = api.post(f"/auth/registrations/{rid}/confirm", {"code": wrong})
        assert resp.status_code == 400 and resp.json["error"]["code"] == "CODE_INVALID"
        assert resp.json["error"]["attempts_left"] == left
    resp = api.post(f"/auth/registrations/{rid}/confirm", {"code": code})
    assert resp.status_code == 429 and resp.json["error"]["code"] == "CODE_ATTEMPTS_EXCEEDED"
    assert resp.json["error"]["retry_after"] >= 1


def test_code_expires_after_five_minutes(api, fake_clock):
    rid = _start(api)["registration_id"]
    code = api.last_code(PHONE)
    fake_clock.advance(301)
    resp = api.post(f"/auth/registrations/{rid}/confirm", {"code": code})
    assert resp.status_code == 410 and resp.json["error"]["code"] == "CODE_EXPIRED"


def test_resend_has_cooldown_and_replaces_the_code(api, fake_clock):
    rid = _start(api)["registration_id"]
    first = api.last_code(PHONE)
    early = api.post(f"/auth/registrations/{rid}/resend")
    assert early.status_code == 429 and early.json["error"]["code"] == "RESEND_TOO_SOON"
    assert 1 <= early.json["error"]["retry_after"] <= 60 and early.headers["Retry-After"]
    fake_clock.advance(61)
    again = api.post(f"/auth/registrations/{rid}/resend")
    assert again.status_code == 202 and again.json["resend_after"] == 60
    messages = api.outbox(PHONE)
    assert len(messages) == 2
    second = api.last_code(PHONE)
    assert second != first  # a new code: two random 6-digit codes coincide once in a million runs
    resp = api.post(f"/auth/registrations/{rid}/confirm", {"code": first})
    assert resp.status_code == 400 and resp.json["error"]["code"] == "CODE_INVALID"  # the replaced code is dead
    assert api.post(f"/auth/registrations/{rid}/confirm", {"code": second}).status_code == 200


def test_resend_is_limited(api, fake_clock):
    rid = _start(api)["registration_id"]
    for _ in range(4):
        fake_clock.advance(61)
        assert api.post(f"/auth/registrations/{rid}/resend").status_code == 202
    fake_clock.advance(61)
    resp = api.post(f"/auth/registrations/{rid}/resend")
    assert resp.status_code == 429 and resp.json["error"]["code"] == "RESEND_LIMIT"


def test_existing_contact_gets_same_answer_and_a_recovery_notice(api):
    api.register(phone=PHONE)
    before = len(api.outbox(PHONE))
    again = api.post("/auth/registrations", {**BODY, "last_name": "Другой"})
    assert again.status_code == 201  # the same answer as for a new contact
    assert set(again.json) == {"registration_id", "channel", "expires_in", "resend_after"}
    messages = api.outbox(PHONE)
    assert len(messages) == before + 1
    assert "уже есть" in messages[0]["text"] and "Восстановите" in messages[0]["text"]
    assert not re.search(r"\b\d{6}\b", messages[0]["text"])  # no code for someone else's contact


def test_complete_requires_confirmation(api):
    rid = _start(api)["registration_id"]
    resp = api.post(f"/auth/registrations/{rid}/complete", {"password": PASSWORD, "password_repeat": PASSWORD})
    assert resp.status_code == 422 and resp.json["error"]["code"] == "CONTACT_NOT_CONFIRMED"


def test_complete_twice_is_refused(api):
    reg = _start(api)
    rid = reg["registration_id"]
    api.post(f"/auth/registrations/{rid}/confirm", {"code": api.last_code(PHONE)})
    body = {"password": PASSWORD, "password_repeat": PASSWORD}
    assert api.post(f"/auth/registrations/{rid}/complete", body).status_code == 201
    again = api.post(f"/auth/registrations/{rid}/complete", body)
    assert again.status_code == 409


def test_password_policy_reports_every_broken_rule(api):
    rid = _start(api)["registration_id"]
    api.post(f"/auth/registrations/{rid}/confirm", {"code": api.last_code(PHONE)})
    resp = api.post(f"/auth/registrations/{rid}/complete", {"password": "kuznetsov123", "password_repeat": "x"})
    assert resp.status_code == 400 and resp.json["error"]["code"] == "PASSWORD_POLICY"
    reasons = resp.json["error"]["fields"]["password"]
    joined = " ".join(reasons)
    for fragment in ("заглавная", "специальный", "последовательност", "личных данных", "не совпадают"):
        assert fragment in joined, fragment
    ok = api.post(f"/auth/registrations/{rid}/complete", {"password": PASSWORD, "password_repeat": PASSWORD})
    assert ok.status_code == 201


def test_unknown_registration_is_404(api):
    resp = api.post("/auth/registrations/01ARZ3NDEKTSV4RRFFQ69G5FAV/confirm", {"code": "123456"})
    assert resp.status_code == 404 and resp.json["error"]["code"] == "NOT_FOUND"
    traversal = api.post("/auth/registrations/../../x/confirm", {"code": "123456"})
    # no route matches, so the gateway itself refuses, as API Gateway does for an unknown path
    assert (traversal.status_code, json.loads(traversal.body)) == (403, {"message": "Missing Authentication Token"})


def test_registration_writes_audit_entries(api):
    tokens = api.register(phone=PHONE)
    from chalicelib.store import table
    audit = table.query(f"USER#{tokens['user_id']}", "AUDIT#", consistent=True).items
    actions = {a["action"] for a in audit}
    assert "account.created" in actions and all(a["ip"] and a["at"] for a in audit)
