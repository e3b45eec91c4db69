"""Access JWTs and rotating refresh tokens: expiry, rotation, reuse detection, idle time-out, logout."""

from __future__ import annotations

from datetime import timedelta

import jwt

from tests.conftest import PASSWORD

PHONE = "+79161234567"
ABSOLUTE_DAYS = 30  # docs/architecture.md: "30 minutes idle or 30 days absolute end it"
IDLE_SECONDS = 30 * 60


def _login(api):
    resp = api.post("/auth/login", {"login": PHONE, "password": PASSWORD})
    assert resp.status_code == 200
    return resp.json


def test_access_token_is_ed25519_jwt_with_kid_and_short_life(api):
    tokens = api.register(phone=PHONE)
    header = jwt.get_unverified_header(tokens["access_token"])
    claims = jwt.decode(tokens["access_token"], options={"verify_signature": False})
    assert header["alg"] == "EdDSA" and header["kid"]
    assert claims["exp"] - claims["iat"] <= 600 and claims["sub"] == tokens["user_id"]
    keys = api.get("/.well-known/jwks.json").json["keys"]
    assert any(k["kid"] == header["kid"] and k["crv"] == "Ed25519" for k in keys)


def test_access_token_expires(api, fake_clock):
    tokens = api.register(phone=PHONE)
    fake_clock.advance(601)
    resp = api.get("/me", token=tokens["access_token"])
    assert resp.status_code == 401 and resp.json["error"]["code"] == "UNAUTHORIZED"


def test_forged_or_missing_token_is_401(api):
    tokens = api.register(phone=PHONE)
    head, body, sig = tokens["access_token"].split(".")
    flipped = "B" if sig[10] == "A" else "A"
    forged = f"{head}.{body}.{sig[:10]}{flipped}{sig[11:]}"  # a change inside the signature
    for headers in ({"authorization": f"Bearer {forged}"}, {"authorization": "Bearer"}, {},
                    {"authorization": f"Basic {tokens['access_token']}"},
                    {"authorization": "Bearer eyJhbGciOiJub25lIn0.eyJzdWIiOiJ4In0."}):
        resp = api.call("GET", "/me", headers=headers)
        assert resp.status_code == 401 and resp.json["error"]["code"] == "UNAUTHORIZED", headers


def test_refresh_rotates_and_reuse_kills_the_session(api, fake_clock):
    first = api.register(phone=PHONE)
    second = api.post("/auth/token/refresh", {"refresh_token": first["refresh_token"]})
    assert second.status_code == 200 and second.json["refresh_token"] != first["refresh_token"]
    fake_clock.advance(21)  # past the two-tabs grace window (about 20 s, issue 9)
    reused = api.post("/auth/token/refresh", {"refresh_token": first["refresh_token"]})
    assert reused.status_code == 401
    # the thief's reuse ended the session: even the newest token no longer works
    after = api.post("/auth/token/refresh", {"refresh_token": second.json["refresh_token"]})
    assert after.status_code == 401


def test_refresh_idle_timeout(api, fake_clock):
    tokens = api.register(phone=PHONE)
    fake_clock.advance(29 * 60)
    tokens = api.post("/auth/token/refresh", {"refresh_token": tokens["refresh_token"]}).json
    fake_clock.advance(29 * 60)
    tokens = api.post("/auth/token/refresh", {"refresh_token": tokens["refresh_token"]}).json
    fake_clock.advance(31 * 60)
    idle = api.post("/auth/token/refresh", {"refresh_token": tokens["refresh_token"]})
    assert idle.status_code == 401


def test_a_session_kept_active_ends_at_the_30_day_absolute_limit(api, fake_clock):
    """The absolute limit, with the idle time-out as it is: refreshed every 29 min 59 s for 30 days, the session
    lives to the last second before 30 days and ends at 30 days (AU-9: a time-out in the login history)."""
    tokens = api.register(phone=PHONE)
    end = fake_clock.now + timedelta(days=ABSOLUTE_DAYS)  # the session opened at registration, on this clock
    refreshes = 0
    while fake_clock.now + timedelta(seconds=IDLE_SECONDS - 1) < end:
        fake_clock.advance(IDLE_SECONDS - 1)  # always inside the idle time-out
        resp = _refresh(api, tokens["refresh_token"])
        assert resp.status_code == 200, (fake_clock.now, resp.json)
        tokens, refreshes = resp.json, refreshes + 1
    fake_clock.advance((end - fake_clock.now).total_seconds() - 1)
    last = _refresh(api, tokens["refresh_token"])  # 30 days less one second: still alive
    assert last.status_code == 200, last.json
    assert refreshes == 1440 and api.get("/me", token=last.json["access_token"]).status_code == 200
    fake_clock.advance(1)
    ended = _refresh(api, last.json["refresh_token"])
    assert ended.status_code == 401 and ended.json["error"]["code"] == "UNAUTHORIZED"
    history = api.get("/me/login-history", token=last.json["access_token"]).json["items"]
    assert [h["result"] for h in history] == ["timeout", "success"]


def test_logout_revokes_the_refresh_token(api):
    tokens = api.register(phone=PHONE)
    out = api.post("/auth/logout", token=tokens["access_token"])
    assert out.status_code == 204 and not out.body
    resp = api.post("/auth/token/refresh", {"refresh_token": tokens["refresh_token"]})
    assert resp.status_code == 401


def test_garbage_refresh_token_is_401(api):
    for token in ("x", "a.b.c", "01ARZ3NDEKTSV4RRFFQ69G5FAV.01ARZ3NDEKTSV4RRFFQ69G5FAV.secret"):
        resp = api.post("/auth/token/refresh", {"refresh_token": token})
        assert resp.status_code == 401, token


def _refresh(api, token):
    return api.post("/auth/token/refresh", {"refresh_token": token})


def test_a_forged_secret_with_real_ids_is_a_plain_401_and_the_session_lives_on(api):
    """Both ids are readable from any access token: only a secret really issued and rotated away is reuse."""
    tokens = api.register(phone=PHONE)
    user_id, session_id, _ = tokens["refresh_token"].split(".")
    for forged in ("AAAA", "x" * 43, tokens["refresh_token"].split(".")[2][::-1]):
        refused = _refresh(api, f"{user_id}.{session_id}.{forged}")
        assert refused.status_code == 401 and refused.json["error"]["code"] == "UNAUTHORIZED"
    assert _refresh(api, tokens["refresh_token"]).status_code == 200
    assert api.get("/me/sessions", token=tokens["access_token"]).status_code == 200


def test_the_just_rotated_secret_gets_the_same_successor_within_the_grace_window(api, fake_clock):
    first = api.register(phone=PHONE)
    tab_a = _refresh(api, first["refresh_token"]).json
    fake_clock.advance(15)
    tab_b = _refresh(api, first["refresh_token"])
    assert tab_b.status_code == 200 and tab_b.json["refresh_token"] == tab_a["refresh_token"]
    third = _refresh(api, tab_a["refresh_token"])  # the successor goes on rotating as usual
    assert third.status_code == 200
    fake_clock.advance(21)
    assert _refresh(api, first["refresh_token"]).status_code == 401  # now it is reuse of an old secret...
    assert _refresh(api, third.json["refresh_token"]).status_code == 401  # ...and the session is gone


def test_an_older_rotated_secret_is_reuse_even_right_after_rotation(api):
    first = api.register(phone=PHONE)
    second = _refresh(api, first["refresh_token"]).json
    third = _refresh(api, second["refresh_token"]).json
    assert _refresh(api, first["refresh_token"]).status_code == 401  # two rotations back: not the grace secret
    assert _refresh(api, third["refresh_token"]).status_code == 401


def test_two_tabs_refreshing_at_once_both_stay_signed_in(api):
    """Parallel refreshes of one secret: one rotates, the others get the same successor (no reuse alarm)."""
    from concurrent.futures import ThreadPoolExecutor

    from chalicelib.core.origin import Origin
    from chalicelib.identity import sessions

    first = api.register(phone=PHONE)
    with ThreadPoolExecutor(6) as pool:
        answers = list(pool.map(lambda _: sessions.refresh(first["refresh_token"], Origin("10.0.0.9", "tab")),
                                range(6)))
    assert len({a["refresh_token"] for a in answers}) == 1
    assert _refresh(api, answers[0]["refresh_token"]).status_code == 200
