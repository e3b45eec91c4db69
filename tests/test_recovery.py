"""Access recovery (AU-7, AU-2): no enumeration, code → reset token → new password, lock lifted, sessions
ended, 15-minute reset token, single use, second factor (TOTP, backup code, SMS when recovering by e-mail)."""

from __future__ import annotations

import re

import pyotp

from tests.conftest import PASSWORD

PHONE = "+79161234567"
EMAIL = "a.kuznetsov@mail.ru"
NEW = "Sosna@Reka58!"
RECOVERY_CODE = "восстановления доступа"
UNKNOWN_NOTICE = "учётной записи с этим"


def _login(api, password=PASSWORD, login=PHONE):
    return api.post("/auth/login", {"login": login, "password": password})




def _add_email(api, token, email=EMAIL):
    assert api.post("/me/contacts/email", {"email": email}, token=token).status_code == 202
    code = api.code_about(email, "привязки электронной почты")
    assert api.post("/me/contacts/email/confirm", {"code": code}, token=token).status_code == 200


def _enable_totp(api, fake_clock, token):
    secret = api.post("/me/mfa/totp", token=token).json["secret"]
    done = api.post("/me/mfa/totp/confirm", {"code": pyotp.TOTP(secret).at(fake_clock.now)}, token=token)
    assert done.status_code == 200, done.json
    fake_clock.advance(30)  # the enrolment code's time step is spent
    return pyotp.TOTP(secret), done.json["backup_codes"]


def _start(api, login=PHONE):
    resp = api.post("/auth/recovery", {"login": login})
    assert resp.status_code == 202, resp.json
    return resp.json


def _confirmed(api, login=PHONE, to=PHONE):
    """Start a recovery and confirm it: (recovery_id, the confirm answer)."""
    rid = _start(api, login)["recovery_id"]
    resp = api.post(f"/auth/recovery/{rid}/confirm", {"code": api.code_about(to, RECOVERY_CODE)})
    assert resp.status_code == 200, resp.json
    return rid, resp.json


def _reset(api, rid, token, password=NEW, **mfa):
    return api.post(f"/auth/recovery/{rid}/password",
                    {"reset_token": token, "new_password": password, "new_password_repeat": password, **mfa})


def test_known_and_unknown_logins_get_the_same_answer(api):
    api.register(phone=PHONE)
    known = api.post("/auth/recovery", {"login": PHONE})
    unknown = api.post("/auth/recovery", {"login": "+79990001122"})
    assert known.status_code == unknown.status_code == 202
    assert set(known.json) == set(unknown.json)
    assert {k: v for k, v in known.json.items() if k != "recovery_id"} == \
        {k: v for k, v in unknown.json.items() if k != "recovery_id"}
    assert known.json["channel"] == "sms"
    assert api.code_about(PHONE, RECOVERY_CODE)


def test_an_unknown_phone_hears_that_no_account_uses_it(api):
    _start(api, "89990001122")
    messages = api.outbox("+79990001122")
    assert len(messages) == 1 and messages[0]["channel"] == "sms"
    assert UNKNOWN_NOTICE in messages[0]["text"]
    assert not re.search(r"\b\d{6}\b", messages[0]["text"])  # no code for a login nobody has


def test_an_unknown_email_hears_that_no_account_uses_it(api):
    answer = _start(api, "Nobody@Mail.ru")
    assert answer["channel"] == "email"
    messages = api.outbox("nobody@mail.ru")
    assert len(messages) == 1 and messages[0]["channel"] == "email"
    assert UNKNOWN_NOTICE in messages[0]["text"] and not re.search(r"\b\d{6}\b", messages[0]["text"])


def test_an_unknown_login_cannot_be_confirmed(api):
    rid = _start(api, "+79990001122")["recovery_id"]
    for code in ("000000", "123456"):
        resp = api.post(f"/auth/recovery/{rid}/confirm", {"code": code})
        assert resp.status_code == 400 and resp.json["error"]["code"] == "CODE_INVALID"
        assert "reset_token" not in resp.json


def test_a_bad_login_is_a_validation_error(api):
    resp = api.post("/auth/recovery", {"login": "not a login"})
    assert resp.status_code == 400 and resp.json["error"]["code"] == "VALIDATION_ERROR"
    assert "login" in resp.json["error"]["fields"]


def test_recovery_by_email_sends_the_code_to_the_email(api):
    tokens = api.register(phone=PHONE)
    _add_email(api, tokens["access_token"])
    answer = _start(api, EMAIL.upper())
    assert answer["channel"] == "email"
    assert api.code_about(EMAIL, RECOVERY_CODE)
    assert not any(RECOVERY_CODE in m["text"] for m in api.outbox(PHONE))


def test_reset_sets_a_new_password(api):
    api.register(phone=PHONE)
    rid, confirmed = _confirmed(api)
    assert confirmed["reset_token"] and confirmed["expires_in"] == 15 * 60
    assert confirmed["second_factor"] == []
    resp = _reset(api, rid, confirmed["reset_token"])
    assert resp.status_code == 200, resp.json
    assert _login(api).status_code == 401
    assert _login(api, NEW).status_code == 200
    assert any("пароль от вашей учётной записи изменён" in m["text"] for m in api.outbox(PHONE))


def test_wrong_recovery_code_counts_attempts(api):
    api.register(phone=PHONE)
    rid = _start(api)["recovery_id"]
    code = api.code_about(PHONE, RECOVERY_CODE)
    wrong = api.post(f"/auth/recovery/{rid}/confirm", {"code": "000000" if code != "000000" else "111111"})
    assert wrong.status_code == 400 and wrong.json["error"]["code"] == "CODE_INVALID"
    assert wrong.json["error"]["attempts_left"] == 4 and "reset_token" not in wrong.json
    assert api.post(f"/auth/recovery/{rid}/confirm", {"code": code}).status_code == 200


def test_reset_applies_the_policy_and_history(api):
    api.register(phone=PHONE)
    rid, confirmed = _confirmed(api)
    weak = _reset(api, rid, confirmed["reset_token"], "weakpass")
    assert weak.status_code == 400 and weak.json["error"]["code"] == "PASSWORD_POLICY"
    assert weak.json["error"]["fields"]["password"]
    same = _reset(api, rid, confirmed["reset_token"], PASSWORD)
    assert same.status_code == 400 and same.json["error"]["code"] == "PASSWORD_POLICY"
    assert _reset(api, rid, confirmed["reset_token"]).status_code == 200  # the token survives a refusal


def test_recovery_lifts_a_lock(api):
    api.register(phone=PHONE)
    for wrong in ("Wrong#Pass91", "Wrong#Pass92", "Wrong#Pass93"):
        _login(api, wrong)
    assert _login(api).status_code == 423
    rid, confirmed = _confirmed(api)
    assert _reset(api, rid, confirmed["reset_token"]).status_code == 200
    resp = _login(api, NEW)
    assert resp.status_code == 200, resp.json
    assert _login(api, "Wrong#Pass94").status_code == 401  # the failure counter starts over too
    assert _login(api, "Wrong#Pass95").status_code == 401


def test_reset_ends_every_session(api):
    first = api.register(phone=PHONE)
    second = _login(api).json
    rid, confirmed = _confirmed(api)
    resp = _reset(api, rid, confirmed["reset_token"])
    assert resp.status_code == 200 and resp.json["sessions_ended"] == 2
    for tokens in (first, second):
        refresh = api.post("/auth/token/refresh", {"refresh_token": tokens["refresh_token"]})
        assert refresh.status_code == 401


def test_reset_token_lives_15_minutes(api, fake_clock):
    api.register(phone=PHONE)
    rid, confirmed = _confirmed(api)
    fake_clock.advance(15 * 60 + 1)
    resp = _reset(api, rid, confirmed["reset_token"])
    assert resp.status_code == 401 and resp.json["error"]["code"] == "RESET_TOKEN_INVALID"
    assert _login(api, NEW).status_code == 401 and _login(api).status_code == 200


def test_reset_token_within_15_minutes_works(api, fake_clock):
    api.register(phone=PHONE)
    rid, confirmed = _confirmed(api)
    fake_clock.advance(14 * 60)
    assert _reset(api, rid, confirmed["reset_token"]).status_code == 200


def test_a_wrong_reset_token_is_refused(api):
    api.register(phone=PHONE)
    rid, confirmed = _confirmed(api)
    resp = _reset(api, rid, confirmed["reset_token"][:-2] + "xx")
    assert resp.status_code == 401 and resp.json["error"]["code"] == "RESET_TOKEN_INVALID"
    assert _reset(api, rid, "").status_code == 400
    assert _login(api).status_code == 200


def test_reset_without_confirming_is_refused(api):
    api.register(phone=PHONE)
    rid = _start(api)["recovery_id"]
    resp = _reset(api, rid, "anything")
    assert resp.status_code == 401 and resp.json["error"]["code"] == "RESET_TOKEN_INVALID"


def test_a_used_recovery_cannot_be_reused(api):
    api.register(phone=PHONE)
    rid, confirmed = _confirmed(api)
    assert _reset(api, rid, confirmed["reset_token"]).status_code == 200
    again = _reset(api, rid, confirmed["reset_token"], "Volna$Gora74!")
    # a used recovery is gone like an expired one (recovery._load): 404, whatever the token or the code
    assert (again.status_code, again.json["error"]["code"]) == (404, "NOT_FOUND"), again.json
    assert _login(api, "Volna$Gora74!").status_code == 401 and _login(api, NEW).status_code == 200
    confirm_again = api.post(f"/auth/recovery/{rid}/confirm", {"code": "123456"})
    assert (confirm_again.status_code, confirm_again.json["error"]["code"]) == (404, "NOT_FOUND"), confirm_again.json


def test_unknown_recovery_is_404(api):
    resp = api.post("/auth/recovery/01ARZ3NDEKTSV4RRFFQ69G5FAV/confirm", {"code": "123456"})
    assert resp.status_code == 404 and resp.json["error"]["code"] == "NOT_FOUND"


def test_with_totp_the_reset_needs_a_code(api, fake_clock):
    tokens = api.register(phone=PHONE)
    totp, _ = _enable_totp(api, fake_clock, tokens["access_token"])
    rid, confirmed = _confirmed(api)
    assert set(confirmed["second_factor"]) == {"totp", "backup"}
    token = confirmed["reset_token"]
    bare = _reset(api, rid, token)
    assert bare.status_code == 400 and bare.json["error"]["code"] == "MFA_REQUIRED"
    assert set(bare.json["error"]["methods"]) == {"totp", "backup"}
    method_only = _reset(api, rid, token, mfa_method="totp")
    assert method_only.status_code == 400 and method_only.json["error"]["code"] == "MFA_REQUIRED"
    assert _reset(api, rid, token, mfa_method="sms", mfa_code="123456").json["error"]["code"] == "MFA_REQUIRED"
    right = totp.at(fake_clock.now)
    wrong = _reset(api, rid, token, mfa_method="totp", mfa_code=f"{(int(right) + 1) % 1_000_000:06d}")
    assert wrong.status_code == 400 and wrong.json["error"]["code"] == "CODE_INVALID"
    assert _login(api, NEW).status_code == 401
    ok = _reset(api, rid, token, mfa_method="totp", mfa_code=right)
    assert ok.status_code == 200, ok.json
    step = _login(api, NEW)
    assert step.status_code == 200 and step.json["mfa_required"] is True  # the factor stays on


def test_with_totp_a_backup_code_also_works_once(api, fake_clock):
    tokens = api.register(phone=PHONE)
    _, backup = _enable_totp(api, fake_clock, tokens["access_token"])
    rid, confirmed = _confirmed(api)
    ok = _reset(api, rid, confirmed["reset_token"], mfa_method="backup", mfa_code=backup[0])
    assert ok.status_code == 200, ok.json
    fake_clock.advance(61)  # the recovery code cooldown is per recovery, the rate limit per minute
    rid, confirmed = _confirmed(api)
    reused = _reset(api, rid, confirmed["reset_token"], "Volna$Gora74!", mfa_method="backup", mfa_code=backup[0])
    assert reused.status_code == 400 and reused.json["error"]["code"] in ("CODE_INVALID", "CODE_REUSED")
    assert _reset(api, rid, confirmed["reset_token"], "Volna$Gora74!", mfa_method="backup",
                  mfa_code=backup[1]).status_code == 200


def test_recovery_by_email_offers_sms_as_the_second_factor(api, fake_clock):
    tokens = api.register(phone=PHONE)
    _add_email(api, tokens["access_token"])
    _enable_totp(api, fake_clock, tokens["access_token"])
    rid, confirmed = _confirmed(api, login=EMAIL, to=EMAIL)
    assert set(confirmed["second_factor"]) == {"totp", "backup", "sms"}
    token = confirmed["reset_token"]
    bare = _reset(api, rid, token)
    assert bare.status_code == 400 and "sms" in bare.json["error"]["methods"]
    before = {m["text"] for m in api.outbox(PHONE)}
    sent = api.post(f"/auth/recovery/{rid}/sms", {"reset_token": token})
    assert sent.status_code == 202 and sent.json["channel"] == "sms", sent.json
    early = api.post(f"/auth/recovery/{rid}/sms", {"reset_token": token})
    assert early.status_code == 429 and early.json["error"]["code"] == "RESEND_TOO_SOON"
    codes = [found.group() for m in api.outbox(PHONE)
             if m["text"] not in before and m["channel"] == "sms" and (found := re.search(r"\b\d{6}\b", m["text"]))]
    assert len(codes) == 1, "the SMS code for the reset did not reach the phone"
    code = codes[0]
    ok = _reset(api, rid, token, mfa_method="sms", mfa_code=code)
    assert ok.status_code == 200, ok.json
    assert _login(api, NEW).status_code == 200


def test_recovery_by_sms_does_not_offer_sms_again(api, fake_clock):
    tokens = api.register(phone=PHONE)
    _enable_totp(api, fake_clock, tokens["access_token"])
    rid, confirmed = _confirmed(api)
    assert "sms" not in confirmed["second_factor"]
    resp = api.post(f"/auth/recovery/{rid}/sms", {"reset_token": confirmed["reset_token"]})
    assert resp.status_code == 400 and resp.json["error"]["code"] == "MFA_METHOD_UNAVAILABLE"


def test_recovery_by_email_without_a_factor_needs_nothing_more(api):
    tokens = api.register(phone=PHONE)
    _add_email(api, tokens["access_token"])
    rid, confirmed = _confirmed(api, login=EMAIL, to=EMAIL)
    assert confirmed["second_factor"] == []
    assert _reset(api, rid, confirmed["reset_token"]).status_code == 200
    assert _login(api, NEW, login=EMAIL).status_code == 200
