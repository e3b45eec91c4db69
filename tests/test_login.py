"""Sign-in (AU-1, AU-2, AU-9): any login format, lockout, its expiry, no enumeration, history."""

from __future__ import annotations

from tests.conftest import PASSWORD

PHONE = "+79161234567"


def _login(api, login, password=PASSWORD, **kw):
    return api.post("/auth/login", {"login": login, "password": password}, **kw)


def test_login_by_any_phone_format_and_email(api):
    api.register(phone=PHONE)
    for login in ("+79161234567", "89161234567", "79161234567", "9161234567", "8 (916) 123-45-67"):
        resp = _login(api, login)
        assert resp.status_code == 200, (login, resp.json)
        assert resp.json["access_token"] and resp.json["refresh_token"]


def test_login_by_email(api):
    reg = api.post("/auth/registrations", {"last_name": "Орлова", "first_name": "Мария", "email": "m.orlova@mail.ru"})
    rid = reg.json["registration_id"]
    api.post(f"/auth/registrations/{rid}/confirm", {"code": api.last_code("m.orlova@mail.ru")})
    api.post(f"/auth/registrations/{rid}/complete", {"password": PASSWORD, "password_repeat": PASSWORD})
    assert _login(api, "M.Orlova@Mail.ru").status_code == 200


def test_wrong_password_and_unknown_login_look_the_same(api):
    api.register(phone=PHONE)
    wrong = _login(api, PHONE, "Wrong#Pass91")
    unknown = _login(api, "+79990001122", "Wrong#Pass91")
    garbage = _login(api, "not a login", "Wrong#Pass91")
    for resp in (wrong, unknown, garbage):
        assert resp.status_code == 401 and resp.json["error"]["code"] == "INVALID_CREDENTIALS"
    assert wrong.json == unknown.json == garbage.json


def test_third_failure_locks_for_15_minutes(api, fake_clock):
    api.register(phone=PHONE)
    assert _login(api, PHONE, "Wrong#Pass91").status_code == 401
    assert _login(api, PHONE, "Wrong#Pass92").status_code == 401
    third = _login(api, PHONE, "Wrong#Pass93")
    assert third.status_code == 423 and third.json["error"]["code"] == "ACCOUNT_LOCKED"
    assert third.json["error"]["locked_until"].endswith("Z")
    locked = _login(api, PHONE)  # the right password does not help while locked
    assert locked.status_code == 423
    fake_clock.advance(14 * 60)
    assert _login(api, PHONE).status_code == 423
    fake_clock.advance(61)
    assert _login(api, PHONE).status_code == 200
    assert any("заблокирован" in m["text"] for m in api.outbox(PHONE))


def test_success_resets_the_counter(api):
    api.register(phone=PHONE)
    assert _login(api, PHONE, "Wrong#Pass91").status_code == 401
    assert _login(api, PHONE, "Wrong#Pass92").status_code == 401
    assert _login(api, PHONE).status_code == 200
    assert _login(api, PHONE, "Wrong#Pass93").status_code == 401
    assert _login(api, PHONE, "Wrong#Pass94").status_code == 401
    assert _login(api, PHONE).status_code == 200


def test_after_a_lock_expires_three_more_tries(api, fake_clock):
    api.register(phone=PHONE)
    for _ in range(3):
        _login(api, PHONE, "Wrong#Pass91")
    fake_clock.advance(15 * 60 + 1)
    assert _login(api, PHONE, "Wrong#Pass91").status_code == 401
    assert _login(api, PHONE, "Wrong#Pass91").status_code == 401
    assert _login(api, PHONE, "Wrong#Pass91").status_code == 423


def test_a_pending_registration_is_not_an_account(api):
    """Someone else's unfinished registration of a number must not make sign-in with it fail oddly."""
    api.post("/auth/registrations", {"last_name": "Кузнецов", "first_name": "Алексей", "phone": PHONE})
    resp = _login(api, PHONE, "Wrong#Pass91")
    assert resp.status_code == 401 and resp.json["error"]["code"] == "INVALID_CREDENTIALS"
    api.register(phone=PHONE)
    assert _login(api, PHONE).status_code == 200


def test_unknown_login_locks_too(api):
    """No enumeration through the lock: an unregistered number behaves like a registered one."""
    codes = [_login(api, "+79990001122", "Wrong#Pass91").status_code for _ in range(4)]
    assert codes == [401, 401, 423, 423]


def test_login_history_newest_first_with_device(api):
    tokens = api.register(phone=PHONE)
    _login(api, PHONE, "Wrong#Pass91")
    iphone = ("Mozilla/5.0 (iPhone; CPU iPhone OS 17_0 like Mac OS X) AppleWebKit/605.1.15 "
              "(KHTML, like Gecko) Version/17.0 Mobile/15E148 Safari/604.1")
    _login(api, PHONE, headers={"user-agent": iphone})
    history = api.get("/me/login-history", token=tokens["access_token"]).json["items"]
    assert [h["result"] for h in history] == ["success", "failure", "success"]
    assert history[0]["device_type"] == "phone" and history[0]["os"].startswith("iOS")
    assert history[1]["device_type"] == "computer" and history[1]["browser"].startswith("Chrome")
    assert all(set(h) == {"id", "at", "ip", "device_type", "os", "browser", "method", "mfa", "result"}
               for h in history)


def test_locked_attempts_are_recorded(api):
    tokens = api.register(phone=PHONE)
    for _ in range(4):
        _login(api, PHONE, "Wrong#Pass91")
    history = api.get("/me/login-history", token=tokens["access_token"]).json["items"]
    assert [h["result"] for h in history[:4]] == ["locked", "failure", "failure", "failure"]


def test_login_history_pages_with_a_cursor(api):
    tokens = api.register(phone=PHONE)
    for _ in range(25):
        assert _login(api, PHONE).status_code == 200
    first = api.get("/me/login-history", token=tokens["access_token"]).json
    assert len(first["items"]) == 20 and first["cursor"]
    second = api.get(f"/me/login-history?cursor={first['cursor']}", token=tokens["access_token"]).json
    assert len(second["items"]) == 6 and second["cursor"] is None
    bad = api.get("/me/login-history?cursor=bm9wZQ", token=tokens["access_token"])
    assert bad.status_code == 400 and bad.json["error"]["code"] == "INVALID_CURSOR"


def test_login_writes_audit_and_events(api):
    tokens = api.register(phone=PHONE)
    _login(api, PHONE, "Wrong#Pass91")
    _login(api, PHONE)
    from chalicelib.store import table
    actions = [a["action"] for a in table.query(f"USER#{tokens['user_id']}", "AUDIT#", consistent=True).items]
    assert "login.failed" in actions and "login.succeeded" in actions
