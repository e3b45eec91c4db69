"""Password lifecycle (AU-3, AU-8): change with a code, no reuse of the last 5, sessions, 90-day expiry, notices."""

from __future__ import annotations

from tests.conftest import PASSWORD

PHONE = "+79161234567"
NEW = "Sosna@Reka58!"
CHANGED_NOTICE = "пароль от вашей учётной записи изменён"
EXPIRING_NOTICE = "срок действия пароля истекает"


def _login(api, password=PASSWORD, login=PHONE):
    return api.post("/auth/login", {"login": login, "password": password})




def _change_code(api, token, to=PHONE):
    sent = api.post("/me/password/code", token=token)
    assert sent.status_code == 202, sent.json
    return api.code_about(to, "смены пароля")


def _change(api, token, current, new, code, repeat=None):
    return api.post("/me/password", {"current_password": current, "new_password": new,
                                     "new_password_repeat": new if repeat is None else repeat, "code": code},
                    token=token)


def _refresh(api, refresh_token):
    return api.post("/auth/token/refresh", {"refresh_token": refresh_token})


def test_change_code_goes_by_sms_with_a_cooldown(api, fake_clock):
    token = api.register(phone=PHONE)["access_token"]
    first = api.post("/me/password/code", token=token)
    assert first.status_code == 202 and first.json["channel"] == "sms" and first.json["resend_after"] == 60
    assert api.code_about(PHONE, "смены пароля")
    early = api.post("/me/password/code", token=token)
    assert early.status_code == 429 and early.json["error"]["code"] == "RESEND_TOO_SOON"
    assert 1 <= early.json["error"]["retry_after"] <= 60
    fake_clock.advance(61)
    assert api.post("/me/password/code", token=token).status_code == 202


def test_change_code_goes_by_email_without_a_phone(api):
    email = "m.orlova@mail.ru"
    reg = api.post("/auth/registrations", {"last_name": "Орлова", "first_name": "Мария", "email": email}).json
    rid = reg["registration_id"]
    api.post(f"/auth/registrations/{rid}/confirm", {"code": api.code_about(email, "подтверждения регистрации")})
    token = api.post(f"/auth/registrations/{rid}/complete",
                     {"password": PASSWORD, "password_repeat": PASSWORD}).json["access_token"]
    sent = api.post("/me/password/code", token=token)
    assert sent.status_code == 202 and sent.json["channel"] == "email"
    code = api.code_about(email, "смены пароля")
    assert _change(api, token, PASSWORD, NEW, code).status_code == 200
    assert _login(api, NEW, login=email).status_code == 200


def test_change_needs_the_current_password(api):
    token = api.register(phone=PHONE)["access_token"]
    code = _change_code(api, token)
    wrong = _change(api, token, "Wrong#Pass91", NEW, code)
    assert wrong.status_code == 400 and wrong.json["error"]["code"] == "PASSWORD_INVALID"
    assert "current_password" in wrong.json["error"]["fields"]
    assert _login(api).status_code == 200 and _login(api, NEW).status_code == 401
    assert _change(api, token, PASSWORD, NEW, code).status_code == 200  # the code was not spent


def test_change_needs_the_right_code(api):
    token = api.register(phone=PHONE)["access_token"]
    code = _change_code(api, token)
    wrong_code = "000000" if code != "000000" else "111111"
    wrong = _change(api, token, PASSWORD, NEW, wrong_code)
    assert wrong.status_code == 400 and wrong.json["error"]["code"] == "CODE_INVALID"
    assert wrong.json["error"]["attempts_left"] == 4
    assert _login(api, NEW).status_code == 401
    assert _change(api, token, PASSWORD, NEW, code).status_code == 200


def test_change_without_requesting_a_code_is_refused(api):
    token = api.register(phone=PHONE)["access_token"]
    resp = _change(api, token, PASSWORD, NEW, "123456")
    assert resp.status_code == 400 and resp.json["error"]["code"] == "CODE_INVALID"
    assert _login(api).status_code == 200


def test_change_applies_the_policy(api):
    token = api.register(phone=PHONE)["access_token"]
    code = _change_code(api, token)
    weak = _change(api, token, PASSWORD, "kuznetsov123", code, repeat="other")
    assert weak.status_code == 400 and weak.json["error"]["code"] == "PASSWORD_POLICY"
    reasons = " ".join(weak.json["error"]["fields"]["password"])
    for fragment in ("заглавная", "специальный", "последовательност", "личных данных", "не совпадают"):
        assert fragment in reasons, fragment
    same = _change(api, token, PASSWORD, PASSWORD, code)
    assert same.status_code == 400 and same.json["error"]["code"] == "PASSWORD_POLICY"
    assert _login(api).status_code == 200


def test_the_last_five_passwords_cannot_be_reused(api, fake_clock):
    """The oldest password becomes usable again only when it is the 6th one back."""
    token = api.register(phone=PHONE)["access_token"]
    chain = [PASSWORD] + [f"Kedr#Luna{n}7!" for n in range(1, 6)]
    for i in range(1, 6):
        fake_clock.advance(61)  # the code cooldown
        code = _change_code(api, token)
        if i == 5:  # PASSWORD is the 5th back now (current + 4 before it): still refused
            again = _change(api, token, chain[4], PASSWORD, code)
            assert again.status_code == 400 and again.json["error"]["code"] == "PASSWORD_POLICY", again.json
            assert any("пяти последних" in r for r in again.json["error"]["fields"]["password"])
        done = _change(api, token, chain[i - 1], chain[i], code)
        assert done.status_code == 200, (i, done.json)  # this session stays signed in
    fake_clock.advance(61)
    code = _change_code(api, token)
    for old in chain[1:]:  # every one of the last five is refused
        resp = _change(api, token, chain[5], old, code)
        assert resp.status_code == 400 and resp.json["error"]["code"] == "PASSWORD_POLICY", old
        assert any("пяти последних" in r for r in resp.json["error"]["fields"]["password"]), old
    ok = _change(api, token, chain[5], PASSWORD, code)  # the 6th back
    assert ok.status_code == 200, ok.json
    assert _login(api, PASSWORD).status_code == 200


def test_change_ends_other_sessions_but_keeps_this_one(api, fake_clock):
    here = api.register(phone=PHONE)
    other = _login(api).json
    code = _change_code(api, here["access_token"])
    done = _change(api, here["access_token"], PASSWORD, NEW, code)
    assert done.status_code == 200 and done.json["sessions_ended"] == 1
    assert _refresh(api, other["refresh_token"]).status_code == 401
    kept = _refresh(api, here["refresh_token"])
    assert kept.status_code == 200, kept.json
    assert api.get("/me", token=kept.json["access_token"]).status_code == 200
    assert _login(api).status_code == 401
    assert _login(api, NEW).status_code == 200


def test_change_sends_a_notice(api):
    token = api.register(phone=PHONE)["access_token"]
    code = _change_code(api, token)
    assert not any(CHANGED_NOTICE in m["text"] for m in api.outbox(PHONE))
    assert _change(api, token, PASSWORD, NEW, code).status_code == 200
    notices = [m for m in api.outbox(PHONE) if CHANGED_NOTICE in m["text"]]
    assert len(notices) == 1 and notices[0]["channel"] == "sms"


def test_the_notice_goes_to_every_contact(api):
    token = api.register(phone=PHONE)["access_token"]
    email = "a.kuznetsov@mail.ru"
    assert api.post("/me/contacts/email", {"email": email}, token=token).status_code == 202
    added = api.post("/me/contacts/email/confirm", {"code": api.code_about(email, "привязки электронной почты")},
                     token=token)
    assert added.status_code == 200, added.json
    assert _change(api, token, PASSWORD, NEW, _change_code(api, token)).status_code == 200
    assert [m["subject"] for m in api.outbox(email) if m["subject"] == "Пароль изменён"] == ["Пароль изменён"]
    assert len([m for m in api.outbox(PHONE) if CHANGED_NOTICE in m["text"]]) == 1


def test_an_expired_password_signs_in_to_a_change_token_only(api, fake_clock):
    api.register(phone=PHONE)
    fake_clock.advance(91 * 86400)
    assert _login(api, "Wrong#Pass91").status_code == 401  # the password is still checked
    resp = _login(api)
    assert resp.status_code == 200, resp.json
    assert resp.json["password_expired"] is True and resp.json["change_token"]
    assert "access_token" not in resp.json and "refresh_token" not in resp.json
    change_token = resp.json["change_token"]
    assert api.get("/me", token=change_token).status_code == 401  # not an access token
    weak = api.post("/auth/password/expired", {"change_token": change_token, "new_password": PASSWORD,
                                               "new_password_repeat": PASSWORD})
    assert weak.status_code == 400 and weak.json["error"]["code"] == "PASSWORD_POLICY"  # no reuse
    done = api.post("/auth/password/expired", {"change_token": change_token, "new_password": NEW,
                                               "new_password_repeat": NEW})
    assert done.status_code == 200, done.json
    assert api.get("/me", token=done.json["access_token"]).status_code == 200
    assert _refresh(api, done.json["refresh_token"]).status_code == 200
    again = api.post("/auth/password/expired", {"change_token": change_token, "new_password": "Volna$Gora74!",
                                                "new_password_repeat": "Volna$Gora74!"})
    assert again.status_code == 401 and again.json["error"]["code"] == "CHANGE_TOKEN_INVALID"
    assert _login(api, "Volna$Gora74!").status_code == 401
    fresh = _login(api, NEW)
    assert fresh.status_code == 200 and fresh.json["access_token"] and not fresh.json.get("password_expired")
    assert _login(api).status_code == 401


def test_a_password_younger_than_90_days_is_not_expired(api, fake_clock):
    api.register(phone=PHONE)
    fake_clock.advance(89 * 86400)
    resp = _login(api)
    assert resp.status_code == 200 and resp.json["access_token"] and not resp.json.get("password_expired")


def test_a_bogus_change_token_is_refused(api):
    api.register(phone=PHONE)
    for token in ("bogus", "eyJhbGciOiJFZERTQSJ9.e30.c2ln"):
        resp = api.post("/auth/password/expired", {"change_token": token, "new_password": NEW,
                                                   "new_password_repeat": NEW})
        assert resp.status_code == 401 and resp.json["error"]["code"] == "CHANGE_TOKEN_INVALID"


def test_an_access_token_is_not_a_change_token(api):
    tokens = api.register(phone=PHONE)
    resp = api.post("/auth/password/expired", {"change_token": tokens["access_token"], "new_password": NEW,
                                               "new_password_repeat": NEW})
    assert resp.status_code == 401
    assert _login(api).status_code == 200


def test_the_change_token_expires(api, fake_clock):
    api.register(phone=PHONE)
    fake_clock.advance(91 * 86400)
    change_token = _login(api).json["change_token"]
    fake_clock.advance(15 * 60 + 1)
    resp = api.post("/auth/password/expired", {"change_token": change_token, "new_password": NEW,
                                               "new_password_repeat": NEW})
    assert resp.status_code == 401
    assert _login(api, NEW).status_code == 401


def test_a_reminder_goes_out_seven_days_before_expiry_once(api, fake_clock):
    api.register(phone=PHONE)
    fake_clock.advance(82 * 86400)
    api.post("/dev/schedules/password_expiry_reminder")
    assert not any(EXPIRING_NOTICE in m["text"] for m in api.outbox(PHONE))  # not due yet
    fake_clock.advance(86400)  # 83 days: expires in 7
    run = api.post("/dev/schedules/password_expiry_reminder")
    assert run.status_code == 200 and run.json["result"]["reminded"] == 1, run.json
    notices = [m for m in api.outbox(PHONE) if EXPIRING_NOTICE in m["text"]]
    assert len(notices) == 1 and notices[0]["channel"] == "sms"
    fake_clock.advance(3600)
    again = api.post("/dev/schedules/password_expiry_reminder")
    assert again.status_code == 200 and again.json["result"]["reminded"] == 0
    assert len([m for m in api.outbox(PHONE) if EXPIRING_NOTICE in m["text"]]) == 1


def test_a_missed_reminder_day_is_caught_up_the_next_day(api, fake_clock):
    api.register(phone=PHONE)
    fake_clock.advance(84 * 86400)  # the run on day 83 did not happen
    assert api.post("/dev/schedules/password_expiry_reminder").json["result"]["reminded"] == 1
    assert any(EXPIRING_NOTICE in m["text"] for m in api.outbox(PHONE))


def test_a_changed_password_is_not_reminded_about(api, fake_clock):
    api.register(phone=PHONE)
    fake_clock.advance(30 * 86400)
    token = _login(api).json["access_token"]
    assert _change(api, token, PASSWORD, NEW, _change_code(api, token)).status_code == 200
    fake_clock.advance(53 * 86400)  # 83 days after registration, 53 after the change
    assert api.post("/dev/schedules/password_expiry_reminder").json["result"]["reminded"] == 0
    assert not any(EXPIRING_NOTICE in m["text"] for m in api.outbox(PHONE))
