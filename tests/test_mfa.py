"""Second factor (AU-4): TOTP with replay protection, backup codes, SMS codes, challenge limits."""

from __future__ import annotations

import pyotp
import pytest

from tests.conftest import PASSWORD

PHONE = "+79161234567"


def _totp(api, fake_clock, token):
    start = api.post("/me/mfa/totp", token=token)
    assert start.status_code == 201, start.json
    secret = start.json["secret"]
    assert start.json["otpauth_uri"].startswith("otpauth://totp/") and secret in start.json["otpauth_uri"]
    assert start.json["qr_svg"].startswith("<svg")
    code = pyotp.TOTP(secret).at(fake_clock.now)
    done = api.post("/me/mfa/totp/confirm", {"code": code}, token=token)
    assert done.status_code == 200, done.json
    return pyotp.TOTP(secret), done.json["backup_codes"]


@pytest.fixture
def enrolled(api, fake_clock):
    tokens = api.register(phone=PHONE)
    totp, backup = _totp(api, fake_clock, tokens["access_token"])
    fake_clock.advance(30)  # the enrolment code's step is spent
    return tokens, totp, backup


def _password_step(api):
    resp = api.post("/auth/login", {"login": PHONE, "password": PASSWORD})
    assert resp.status_code == 200 and resp.json["mfa_required"] is True, resp.json
    return resp.json


def test_enrolment_returns_ten_backup_codes_once(api, fake_clock, enrolled):
    tokens, _, backup = enrolled
    assert len(backup) == 10 and len(set(backup)) == 10
    sec = api.get("/me/security", token=tokens["access_token"]).json
    assert sec["factors"] == {"totp": True, "sms": False} and sec["backup_codes_left"] == 10
    again = api.post("/me/mfa/totp", token=tokens["access_token"])
    assert again.status_code == 409 and again.json["error"]["code"] == "TOTP_ALREADY_ENABLED"
    notice = api.outbox(PHONE)
    assert any("подключён" in m["text"] for m in notice)


def test_wrong_enrolment_code_is_refused(api, fake_clock):
    tokens = api.register(phone=PHONE)
    start = api.post("/me/mfa/totp", token=tokens["access_token"]).json
    code = pyotp.TOTP(start["secret"]).at(fake_clock.now)
    wrong = f"{(int(code) + 1) % 1_000_000:06d}"
    resp = api.post("/me/mfa/totp/confirm", {"code": wrong}, token=tokens["access_token"])
    assert resp.status_code == 400 and resp.json["error"]["code"] == "CODE_INVALID"
    assert not api.get("/me/security", token=tokens["access_token"]).json["factors"]["totp"]


def test_login_with_totp_and_no_replay(api, fake_clock, enrolled):
    _, totp, _ = enrolled
    step = _password_step(api)
    assert step["methods"] == ["totp", "backup"] and "access_token" not in step
    code = totp.at(fake_clock.now)
    ok = api.post("/auth/login/mfa", {"challenge_id": step["challenge_id"], "method": "totp", "code": code})
    assert ok.status_code == 200 and ok.json["access_token"], ok.json
    replay = api.post("/auth/login/mfa", {"challenge_id": _password_step(api)["challenge_id"], "method": "totp",
                                          "code": code})
    assert replay.status_code == 400 and replay.json["error"]["code"] == "CODE_REUSED"
    history = api.get("/me/login-history", token=ok.json["access_token"]).json["items"]
    assert history[0]["result"] == "failure" and history[0]["mfa"] == "totp"
    assert history[1]["result"] == "success" and history[1]["mfa"] == "totp"


def test_a_challenge_works_once(api, fake_clock, enrolled):
    _, totp, _ = enrolled
    challenge = _password_step(api)["challenge_id"]
    first = api.post("/auth/login/mfa", {"challenge_id": challenge, "method": "totp", "code": totp.at(fake_clock.now)})
    assert first.status_code == 200
    fake_clock.advance(30)
    again = api.post("/auth/login/mfa", {"challenge_id": challenge, "method": "totp", "code": totp.at(fake_clock.now)})
    assert again.status_code == 401 and again.json["error"]["code"] == "CHALLENGE_INVALID"


def test_backup_code_is_single_use(api, fake_clock, enrolled):
    _, _, backup = enrolled
    ok = api.post("/auth/login/mfa", {"challenge_id": _password_step(api)["challenge_id"], "method": "backup",
                                      "code": backup[0].lower()})
    assert ok.status_code == 200, ok.json
    again = api.post("/auth/login/mfa", {"challenge_id": _password_step(api)["challenge_id"], "method": "backup",
                                         "code": backup[0]})
    assert again.status_code == 400 and again.json["error"]["code"] == "CODE_INVALID"
    assert api.get("/me/security", token=ok.json["access_token"]).json["backup_codes_left"] == 9


def test_five_wrong_codes_kill_the_challenge(api, fake_clock, enrolled):
    _, totp, _ = enrolled
    challenge = _password_step(api)["challenge_id"]
    good = totp.at(fake_clock.now)
    wrong = f"{(int(good) + 7) % 1_000_000:06d}"
    for left in (4, 3, 2, 1, 0):
        resp = api.post("/auth/login/mfa", {"challenge_id": challenge, "method": "totp", "code": wrong})
        assert resp.status_code == 400 and resp.json["error"]["attempts_left"] == left
    dead = api.post("/auth/login/mfa", {"challenge_id": challenge, "method": "totp", "code": good})
    assert dead.status_code == 429 and dead.json["error"]["code"] == "CODE_ATTEMPTS_EXCEEDED"


def test_challenge_lives_five_minutes(api, fake_clock, enrolled):
    _, totp, _ = enrolled
    challenge = _password_step(api)["challenge_id"]
    fake_clock.advance(301)
    resp = api.post("/auth/login/mfa", {"challenge_id": challenge, "method": "totp", "code": totp.at(fake_clock.now)})
    assert resp.status_code == 401 and resp.json["error"]["code"] == "CHALLENGE_INVALID"
    forged = api.post("/auth/login/mfa", {"challenge_id": "x.y.z", "method": "totp", "code": "123456"})
    assert forged.status_code == 401


def test_a_lock_still_applies_at_the_second_step(api, fake_clock, enrolled):
    _, totp, _ = enrolled
    challenge = _password_step(api)["challenge_id"]
    for _ in range(3):
        api.post("/auth/login", {"login": PHONE, "password": "Wrong#Pass91"})
    resp = api.post("/auth/login/mfa", {"challenge_id": challenge, "method": "totp", "code": totp.at(fake_clock.now)})
    assert resp.status_code == 423


def test_method_not_enabled_is_refused(api, fake_clock, enrolled):
    challenge = _password_step(api)["challenge_id"]
    resp = api.post("/auth/login/mfa", {"challenge_id": challenge, "method": "sms", "code": "123456"})
    assert resp.status_code == 400 and resp.json["error"]["code"] == "MFA_METHOD_UNAVAILABLE"
    assert api.post("/auth/login/mfa/sms", {"challenge_id": challenge}).status_code == 400


def test_sms_factor(api, fake_clock):
    tokens = api.register(phone=PHONE)
    sent = api.post("/me/mfa/sms/code", token=tokens["access_token"])
    assert sent.status_code == 202 and sent.json["channel"] == "sms"
    enabled = api.post("/me/mfa/sms", {"code": api.last_code(PHONE)}, token=tokens["access_token"])
    assert enabled.status_code == 200 and len(enabled.json["backup_codes"]) == 10
    step = _password_step(api)
    assert step["methods"] == ["sms", "backup"]
    assert api.post("/auth/login/mfa/sms", {"challenge_id": step["challenge_id"]}).status_code == 202
    early = api.post("/auth/login/mfa/sms", {"challenge_id": step["challenge_id"]})
    assert early.status_code == 429 and early.json["error"]["code"] == "RESEND_TOO_SOON"
    code = api.last_code(PHONE)
    ok = api.post("/auth/login/mfa", {"challenge_id": step["challenge_id"], "method": "sms", "code": code})
    assert ok.status_code == 200, ok.json
    again = api.post("/auth/login/mfa", {"challenge_id": _password_step(api)["challenge_id"], "method": "sms",
                                         "code": code})
    assert again.status_code == 400  # that code was used up


def test_disable_totp_needs_password_and_code(api, fake_clock, enrolled):
    tokens, totp, _ = enrolled
    token = tokens["access_token"]
    wrong_pw = api.call("DELETE", "/me/mfa/totp", {"password": "Wrong#Pass91", "code": totp.at(fake_clock.now)},
                        token=token)
    assert wrong_pw.status_code == 400 and wrong_pw.json["error"]["code"] == "PASSWORD_INVALID"
    ok = api.call("DELETE", "/me/mfa/totp", {"password": PASSWORD, "code": totp.at(fake_clock.now)}, token=token)
    assert ok.status_code == 204, ok.json
    plain = api.post("/auth/login", {"login": PHONE, "password": PASSWORD})
    assert plain.status_code == 200 and "access_token" in plain.json
    sec = api.get("/me/security", token=token).json
    assert sec["factors"]["totp"] is False and sec["backup_codes_left"] == 0


def test_wrong_codes_when_disabling_are_limited(api, fake_clock, enrolled):
    tokens, totp, _ = enrolled
    wrong = f"{(int(totp.at(fake_clock.now)) + 3) % 1_000_000:06d}"
    for _ in range(5):
        resp = api.call("DELETE", "/me/mfa/totp", {"password": PASSWORD, "code": wrong},
                        token=tokens["access_token"])
        assert resp.status_code == 400
    blocked = api.call("DELETE", "/me/mfa/totp", {"password": PASSWORD, "code": totp.at(fake_clock.now)},
                       token=tokens["access_token"])
    assert blocked.status_code == 429 and blocked.json["error"]["code"] == "MFA_BLOCKED"
