"""End to end on the local cloud (`python -m infra.local`), over HTTP, with the real clock: the second factor.

Registration, an authenticator app (TOTP) with backup codes, sign-in with the app, a replayed code refused,
sign-in with a backup code, the session list; then access recovery with the second factor, after which every
earlier refresh token is dead, the old password fails and the new one leads to the MFA challenge. Then a
clean stop with SIGINT. About 17 requests to /auth/*, well under its 30 a minute per IP.
"""

from __future__ import annotations

import signal
import subprocess
import time
from typing import Any

import pyotp
import requests

from tests.test_e2e_local import (
    CODE,
    PASSWORD,
    PHONE,
    PHONE_E164,
    STOP_SECONDS,
    _Cloud,
    _error,
    _free_port,
    _get,
    _http,
    _local_cloud,
    _outbox,
    _post,
    _wait_ready,
)

NEW_PASSWORD = "Osen#Lug73!"
STEP = 30  # seconds per TOTP step
MARGIN = 3.0  # never compute a code this close to the end of its step: the server might see the next one


def _totp(secret: str, steps_back: int = 0) -> str:
    """The app's code now (or `steps_back` steps ago, inside the server's one-step drift window), computed
    away from a step boundary so the server checks it in the same step."""
    left = STEP - time.time() % STEP
    if left < MARGIN:
        time.sleep(left + 0.1)
    totp = pyotp.TOTP(secret)
    return totp.now() if steps_back == 0 else totp.at(time.time() - steps_back * STEP)


def _json(resp: requests.Response, status: int) -> dict[str, Any]:
    assert resp.status_code == status, (resp.status_code, resp.text)
    return resp.json()


def _challenge(http: requests.Session, cloud: _Cloud, password: str) -> str:
    body = _json(_post(http, cloud, "/auth/login", {"login": PHONE, "password": password}), 200)
    assert body["mfa_required"] is True, body
    assert "access_token" not in body and "refresh_token" not in body, body
    assert set(body["methods"]) == {"totp", "backup"}, body
    assert body["challenge_id"], body
    return body["challenge_id"]


def _tokens(body: dict[str, Any], user_id: str) -> dict[str, Any]:
    assert body["user_id"] == user_id, body
    assert body["access_token"] and body["refresh_token"] and body["expires_in"] > 0, body
    return body


def _session_id(tokens: dict[str, Any]) -> str:
    return tokens["refresh_token"].split(".")[1]  # "<user_id>.<session_id>.<secret>"


def test_totp_backup_codes_sessions_and_recovery_end_to_end() -> None:
    started = time.monotonic()
    api_port, moto_port = _free_port(), _free_port()
    while moto_port == api_port:
        moto_port = _free_port()
    with _local_cloud(api_port, moto_port) as cloud:
        boot = _wait_ready(cloud)
        http = _http()

        # Registration with the SMS code from the outbox.
        reg = _json(_post(http, cloud, "/auth/registrations",
                          {"last_name": "Смирнова", "first_name": "Ольга", "phone": PHONE}), 201)
        rid = reg["registration_id"]
        sms = _outbox(http, cloud, PHONE, lambda ms: any(CODE.search(m["text"]) for m in ms))
        code = CODE.findall(sms[0]["text"])
        assert len(code) == 1 and sms[0]["to"] == PHONE_E164, sms
        _json(_post(http, cloud, f"/auth/registrations/{rid}/confirm", {"code": code[0]}), 200)
        first = _json(_post(http, cloud, f"/auth/registrations/{rid}/complete",
                            {"password": PASSWORD, "password_repeat": PASSWORD}), 201)
        user_id = first["user_id"]
        first = _tokens(first, user_id)

        # The authenticator app: a secret, then a code from it turns it on and yields ten backup codes.
        # The code confirming the app is the previous step's (the server's drift window accepts it), so
        # that the current step is still unused for the sign-in below, without waiting up to 30 s.
        start = _json(_post(http, cloud, "/me/mfa/totp", {}, first["access_token"]), 201)
        secret = start["secret"]
        assert start["otpauth_uri"].startswith("otpauth://totp/") and secret in start["otpauth_uri"], start
        assert "<svg" in start["qr_svg"], start["qr_svg"][:200]
        enabled = _json(_post(http, cloud, "/me/mfa/totp/confirm", {"code": _totp(secret, steps_back=1)},
                              first["access_token"]), 200)
        assert enabled["enabled"] is True, enabled
        backup_codes = enabled["backup_codes"]
        assert len(backup_codes) == 10 and len(set(backup_codes)) == 10, enabled

        # Sign-in: the password gives a challenge, the app's current code gives the tokens.
        totp_code = _totp(secret)
        challenge = _challenge(http, cloud, PASSWORD)
        by_app = _tokens(_json(_post(http, cloud, "/auth/login/mfa",
                                     {"challenge_id": challenge, "method": "totp", "code": totp_code}), 200),
                         user_id)

        # The same code again, on a new challenge: refused as reused.
        challenge = _challenge(http, cloud, PASSWORD)
        reused = _error(_post(http, cloud, "/auth/login/mfa",
                              {"challenge_id": challenge, "method": "totp", "code": totp_code}), 400, "CODE_REUSED")
        assert "code" in reused["fields"], reused

        # A backup code signs in too.
        challenge = _challenge(http, cloud, PASSWORD)
        by_backup = _tokens(_json(_post(http, cloud, "/auth/login/mfa",
                                        {"challenge_id": challenge, "method": "backup", "code": backup_codes[0]}),
                                  200), user_id)

        # Three sessions (registration, app, backup code); the one asking is marked current.
        listed = _json(_get(http, cloud, "/me/sessions", by_backup["access_token"]), 200)["items"]
        ids = {s["id"] for s in listed}
        assert ids == {_session_id(first), _session_id(by_app), _session_id(by_backup)}, listed
        assert [s["id"] for s in listed if s["current"]] == [_session_id(by_backup)], listed

        # Recovery: a code to the phone, then a reset token that asks for the second factor too.
        rec = _json(_post(http, cloud, "/auth/recovery", {"login": PHONE}), 202)
        recovery_id = rec["recovery_id"]

        def recovery_codes(ms: list[dict[str, Any]]) -> list[str]:
            return [c for m in ms if "восстановления" in m["text"] for c in CODE.findall(m["text"])]

        sms = _outbox(http, cloud, PHONE, lambda ms: bool(recovery_codes(ms)))
        code = recovery_codes(sms)[0]  # the outbox lists the newest first
        confirmed = _json(_post(http, cloud, f"/auth/recovery/{recovery_id}/confirm", {"code": code}), 200)
        assert "totp" in confirmed["second_factor"], confirmed
        reset = _json(_post(http, cloud, f"/auth/recovery/{recovery_id}/password", {
            "reset_token": confirmed["reset_token"], "new_password": NEW_PASSWORD,
            "new_password_repeat": NEW_PASSWORD, "mfa_method": "backup", "mfa_code": backup_codes[1]}), 200)
        assert reset["reset"] is True and reset["sessions_ended"] == 3, reset

        # Every refresh token from before the reset is dead.
        for tokens in (first, by_app, by_backup):
            _error(_post(http, cloud, "/auth/token/refresh", {"refresh_token": tokens["refresh_token"]}),
                   401, "UNAUTHORIZED")

        # The old password fails; the new one leads to the second factor.
        _error(_post(http, cloud, "/auth/login", {"login": PHONE, "password": PASSWORD}), 401, "INVALID_CREDENTIALS")
        _challenge(http, cloud, NEW_PASSWORD)

        # A clean stop, the way Ctrl-C does it.
        cloud.proc.send_signal(signal.SIGINT)
        try:
            exit_code = cloud.proc.wait(STOP_SECONDS)
        except subprocess.TimeoutExpired:
            raise AssertionError(f"still running {STOP_SECONDS} s after SIGINT\n{cloud.console()}") from None
        cloud.out.thread.join(5)
        assert exit_code == 0, f"exit code {exit_code}\n{cloud.console()}"
        assert "Stopped." in cloud.out.text, cloud.console()
    print(f"\nsecurity e2e: ready in {boot:.1f} s, whole test {time.monotonic() - started:.1f} s")
