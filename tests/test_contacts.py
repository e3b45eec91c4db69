"""Changing the phone or e-mail (AU-11): a code to the new contact, notices to the old and the new one,
a contact of another account refused with the same answer, formats, codes per user."""

from __future__ import annotations

import re

from tests.conftest import PASSWORD

PHONE = "+79161234567"
NEW_PHONE = "+79035550011"
OTHER_PHONE = "+79264440022"
EMAIL = "a.kuznetsov@mail.ru"
NEW_EMAIL = "alexey.k@yandex.ru"
CHANGED = "изменён"
TAKEN = "привязать"


def _login(api, login, password=PASSWORD):
    return api.post("/auth/login", {"login": login, "password": password})




def _phone_code(api, to):
    return api.code_about(to, "привязки номера телефона")


def _email_code(api, to):
    return api.code_about(to, "привязки электронной почты")


def _notices(api, to, marker=CHANGED):
    return [m for m in api.outbox(to) if marker in m["text"] and not re.search(r"\b\d{6}\b", m["text"])]


def _change_phone(api, token, phone):
    sent = api.post("/me/contacts/phone", {"phone": phone}, token=token)
    assert sent.status_code == 202, sent.json
    done = api.post("/me/contacts/phone/confirm", {"code": _phone_code(api, phone)}, token=token)
    assert done.status_code == 200, done.json
    return done.json


def _add_email(api, token, email):
    sent = api.post("/me/contacts/email", {"email": email}, token=token)
    assert sent.status_code == 202, sent.json
    done = api.post("/me/contacts/email/confirm", {"code": _email_code(api, email)}, token=token)
    assert done.status_code == 200, done.json
    return done.json


def test_change_phone(api):
    token = api.register(phone=PHONE)["access_token"]
    sent = api.post("/me/contacts/phone", {"phone": "8 903 555 00 11".replace(" ", "")}, token=token)
    assert sent.status_code == 202 and sent.json["channel"] == "sms", sent.json
    assert set(sent.json) == {"channel", "expires_in", "resend_after"}
    code = _phone_code(api, NEW_PHONE)
    assert api.get("/me", token=token).json["phone"] == PHONE  # nothing changes before the code
    done = api.post("/me/contacts/phone/confirm", {"code": code}, token=token)
    assert done.status_code == 200 and done.json == {"phone": NEW_PHONE}
    assert api.get("/me", token=token).json["phone"] == NEW_PHONE
    assert _login(api, NEW_PHONE).status_code == 200
    old = _login(api, PHONE)
    assert old.status_code == 401 and old.json["error"]["code"] == "INVALID_CREDENTIALS"


def test_both_phones_hear_of_the_change(api):
    token = api.register(phone=PHONE)["access_token"]
    _change_phone(api, token, NEW_PHONE)
    for to in (PHONE, NEW_PHONE):
        notices = _notices(api, to)
        assert len(notices) == 1 and notices[0]["channel"] == "sms", to
        assert "номер телефона" in notices[0]["text"] and "00-11" in notices[0]["text"]  # the new one, masked


def test_a_wrong_code_does_not_switch(api):
    token = api.register(phone=PHONE)["access_token"]
    api.post("/me/contacts/phone", {"phone": NEW_PHONE}, token=token)
    code = _phone_code(api, NEW_PHONE)
    wrong = api.post("/me/contacts/phone/confirm", {"code": "000000" if code != "000000" else "111111"},
                     token=token)
    assert wrong.status_code == 400 and wrong.json["error"]["code"] == "CODE_INVALID"
    assert wrong.json["error"]["attempts_left"] == 4
    assert api.get("/me", token=token).json["phone"] == PHONE
    assert _login(api, PHONE).status_code == 200 and _login(api, NEW_PHONE).status_code == 401


def test_confirm_without_a_request_is_refused(api):
    token = api.register(phone=PHONE)["access_token"]
    resp = api.post("/me/contacts/email/confirm", {"code": "123456"}, token=token)
    assert resp.status_code == 400 and resp.json["error"]["code"] == "CODE_INVALID"


def test_a_phone_code_does_not_confirm_an_email(api):
    token = api.register(phone=PHONE)["access_token"]
    api.post("/me/contacts/phone", {"phone": NEW_PHONE}, token=token)
    resp = api.post("/me/contacts/email/confirm", {"code": _phone_code(api, NEW_PHONE)}, token=token)
    assert resp.status_code == 400 and resp.json["error"]["code"] == "CODE_INVALID"
    assert api.get("/me", token=token).json["email"] is None


def test_add_an_email_to_a_phone_only_account(api):
    token = api.register(phone=PHONE)["access_token"]
    sent = api.post("/me/contacts/email", {"email": "A.Kuznetsov@Mail.RU"}, token=token)
    assert sent.status_code == 202 and sent.json["channel"] == "email", sent.json
    done = api.post("/me/contacts/email/confirm", {"code": _email_code(api, EMAIL)}, token=token)
    assert done.status_code == 200 and done.json == {"email": EMAIL}
    me = api.get("/me", token=token).json
    assert me["email"] == EMAIL and me["phone"] == PHONE
    assert _login(api, EMAIL).status_code == 200 and _login(api, PHONE).status_code == 200
    notices = _notices(api, EMAIL)
    assert len(notices) == 1 and notices[0]["channel"] == "email"
    assert "электронной почты" in notices[0]["subject"]
    assert not _notices(api, PHONE, "электронной почты")  # there was no old address to tell


def test_change_email_tells_both_addresses(api):
    token = api.register(phone=PHONE)["access_token"]
    _add_email(api, token, EMAIL)
    _add_email(api, token, NEW_EMAIL)
    assert api.get("/me", token=token).json["email"] == NEW_EMAIL
    assert _login(api, NEW_EMAIL).status_code == 200 and _login(api, EMAIL).status_code == 401
    old = [m for m in _notices(api, EMAIL) if "a***@yandex.ru" in m["text"]]
    assert len(old) == 1 and old[0]["channel"] == "email"
    assert len(_notices(api, NEW_EMAIL)) == 1


def test_a_phone_of_another_account_gets_the_same_answer_and_its_owner_a_notice(api, fake_clock):
    api.register(phone=PHONE)
    other = api.register(phone=OTHER_PHONE, first_name="Мария", last_name="Орлова")["access_token"]
    free = api.post("/me/contacts/phone", {"phone": NEW_PHONE}, token=other)
    fake_clock.advance(61)  # the code cooldown
    before = {m["text"] for m in api.outbox(PHONE)}
    taken = api.post("/me/contacts/phone", {"phone": PHONE}, token=other)
    assert taken.status_code == free.status_code == 202
    assert taken.json == free.json  # nothing tells that the number is someone's
    new = [m for m in api.outbox(PHONE) if m["text"] not in before]
    assert len(new) == 1 and TAKEN in new[0]["text"] and not re.search(r"\b\d{6}\b", new[0]["text"])
    for code in ("000000", "123456"):
        resp = api.post("/me/contacts/phone/confirm", {"code": code}, token=other)
        assert resp.status_code == 400 and resp.json["error"]["code"] == "CODE_INVALID"
    assert api.get("/me", token=other).json["phone"] == OTHER_PHONE
    assert _login(api, PHONE).status_code == 200  # the owner keeps the number


def test_an_email_of_another_account_gets_the_same_answer_and_its_owner_a_notice(api, fake_clock):
    owner = api.register(phone=PHONE)["access_token"]
    _add_email(api, owner, EMAIL)
    other = api.register(phone=OTHER_PHONE, first_name="Мария", last_name="Орлова")["access_token"]
    free = api.post("/me/contacts/email", {"email": NEW_EMAIL}, token=other)
    fake_clock.advance(61)
    before = {m["text"] for m in api.outbox(EMAIL)}
    taken = api.post("/me/contacts/email", {"email": EMAIL.upper()}, token=other)
    assert taken.status_code == free.status_code == 202 and taken.json == free.json
    new = [m for m in api.outbox(EMAIL) if m["text"] not in before]
    assert len(new) == 1 and "привязать" in new[0]["subject"] and not re.search(r"\b\d{6}\b", new[0]["text"])
    resp = api.post("/me/contacts/email/confirm", {"code": "123456"}, token=other)
    assert resp.status_code == 400 and resp.json["error"]["code"] == "CODE_INVALID"
    assert api.get("/me", token=other).json["email"] is None
    assert api.get("/me", token=owner).json["email"] == EMAIL


def test_bad_formats_name_the_field(api):
    token = api.register(phone=PHONE)["access_token"]
    for phone in ("12345", "+19161234567", "8916123456a", ""):
        resp = api.post("/me/contacts/phone", {"phone": phone}, token=token)
        assert resp.status_code == 400 and resp.json["error"]["code"] == "VALIDATION_ERROR", phone
        assert "phone" in resp.json["error"]["fields"], phone
    for email in ("not-an-email", "a@b", "a b@mail.ru", "a..b@mail.ru"):
        resp = api.post("/me/contacts/email", {"email": email}, token=token)
        assert resp.status_code == 400 and resp.json["error"]["code"] == "VALIDATION_ERROR", email
        assert "email" in resp.json["error"]["fields"], email
    assert len(api.outbox(PHONE)) == 2  # only the sign-up code and welcome: nothing else was sent


def test_unknown_kind_is_404(api):
    token = api.register(phone=PHONE)["access_token"]
    resp = api.post("/me/contacts/fax/confirm", {"code": "123456"}, token=token)
    assert resp.status_code == 404 and resp.json["error"]["code"] == "NOT_FOUND"


def test_the_same_phone_is_422(api):
    token = api.register(phone=PHONE)["access_token"]
    for phone in (PHONE, "89161234567"):
        resp = api.post("/me/contacts/phone", {"phone": phone}, token=token)
        assert resp.status_code == 422 and resp.json["error"]["code"] == "SAME_CONTACT", phone
    assert len(api.outbox(PHONE)) == 2  # no code was sent


def test_the_same_email_is_422(api):
    token = api.register(phone=PHONE)["access_token"]
    _add_email(api, token, EMAIL)
    resp = api.post("/me/contacts/email", {"email": EMAIL.upper()}, token=token)
    assert resp.status_code == 422 and resp.json["error"]["code"] == "SAME_CONTACT"


def test_requests_have_a_cooldown(api, fake_clock):
    token = api.register(phone=PHONE)["access_token"]
    assert api.post("/me/contacts/phone", {"phone": NEW_PHONE}, token=token).status_code == 202
    early = api.post("/me/contacts/phone", {"phone": NEW_PHONE}, token=token)
    assert early.status_code == 429 and early.json["error"]["code"] == "RESEND_TOO_SOON"
    assert early.json["error"]["retry_after"] >= 1


def test_codes_belong_to_the_user_who_asked(api):
    first = api.register(phone=PHONE)["access_token"]
    second = api.register(phone=OTHER_PHONE, first_name="Мария", last_name="Орлова")["access_token"]
    api.post("/me/contacts/phone", {"phone": NEW_PHONE}, token=first)
    code = _phone_code(api, NEW_PHONE)
    stolen = api.post("/me/contacts/phone/confirm", {"code": code}, token=second)
    assert stolen.status_code == 400 and stolen.json["error"]["code"] == "CODE_INVALID"
    assert api.get("/me", token=second).json["phone"] == OTHER_PHONE
    assert api.get("/me", token=first).json["phone"] == PHONE
    done = api.post("/me/contacts/phone/confirm", {"code": code}, token=first)
    assert done.status_code == 200 and api.get("/me", token=first).json["phone"] == NEW_PHONE
    assert api.get("/me", token=second).json["phone"] == OTHER_PHONE
    assert _login(api, OTHER_PHONE).status_code == 200


def test_contact_routes_need_a_session(api):
    assert api.post("/me/contacts/phone", {"phone": NEW_PHONE}).status_code == 401
    assert api.post("/me/contacts/phone/confirm", {"code": "123456"}).status_code == 401
    assert api.outbox(NEW_PHONE) == []
