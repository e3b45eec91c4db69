"""Sessions, login history filters and export, "not me", new-device notice, IP allowlist, rate limit."""

from __future__ import annotations

import csv
import io
from datetime import timedelta, timezone

from tests.conftest import PASSWORD

PHONE = "+79161234567"
IPHONE = ("Mozilla/5.0 (iPhone; CPU iPhone OS 17_0 like Mac OS X) AppleWebKit/605.1.15 "
          "(KHTML, like Gecko) Version/17.0 Mobile/15E148 Safari/604.1")


def _login(api, password=PASSWORD, **kw):
    return api.post("/auth/login", {"login": PHONE, "password": password}, **kw)


def test_sessions_list_and_end_one(api):
    first = api.register(phone=PHONE)
    second = _login(api, headers={"user-agent": IPHONE}).json
    items = api.get("/me/sessions", token=first["access_token"]).json["items"]
    assert len(items) == 2 and sum(s["current"] for s in items) == 1
    phone_session = next(s for s in items if s["device_type"] == "phone")
    assert phone_session["os"].startswith("iOS") and phone_session["ip"] == "127.0.0.1"
    assert api.call("DELETE", f"/me/sessions/{phone_session['id']}", token=first["access_token"]).status_code == 204
    assert api.post("/auth/token/refresh", {"refresh_token": second["refresh_token"]}).status_code == 401
    assert len(api.get("/me/sessions", token=first["access_token"]).json["items"]) == 1
    again = api.call("DELETE", f"/me/sessions/{phone_session['id']}", token=first["access_token"])
    assert again.status_code == 404


def test_end_all_other_sessions(api):
    first = api.register(phone=PHONE)
    others = [_login(api).json for _ in range(3)]
    resp = api.call("DELETE", "/me/sessions", token=first["access_token"])
    assert resp.status_code == 200 and resp.json["sessions_ended"] == 3
    for other in others:
        assert api.post("/auth/token/refresh", {"refresh_token": other["refresh_token"]}).status_code == 401
    assert api.post("/auth/token/refresh", {"refresh_token": first["refresh_token"]}).status_code == 200


def test_another_users_session_is_404(api):
    first = api.register(phone=PHONE)
    second = api.register(phone="+79167654321", last_name="Смирнова", first_name="Анна")
    sid = first["refresh_token"].split(".")[1]
    assert api.call("DELETE", f"/me/sessions/{sid}", token=second["access_token"]).status_code == 404
    assert api.post("/auth/token/refresh", {"refresh_token": first["refresh_token"]}).status_code == 200
    assert api.call("DELETE", "/me/sessions/not-an-id", token=second["access_token"]).status_code == 404


def test_history_filters_timeout_and_csv(api, fake_clock):
    tokens = api.register(phone=PHONE)
    _login(api, "Wrong#Pass91")
    _login(api, headers={"user-agent": IPHONE})
    fake_clock.advance(31 * 60)
    assert api.post("/auth/token/refresh", {"refresh_token": tokens["refresh_token"]}).status_code == 401
    token = _login(api).json["access_token"]
    get = lambda q: api.get(f"/me/login-history?{q}", token=token)  # noqa: E731
    assert [h["result"] for h in get("result=failure").json["items"]] == ["failure"]
    assert [h["result"] for h in get("result=timeout").json["items"]] == ["timeout"]
    assert [h["device_type"] for h in get("device_type=phone").json["items"]] == ["phone"]
    today = fake_clock.now.astimezone(timezone(timedelta(hours=3))).strftime("%Y-%m-%d")  # filters are Moscow days
    assert len(get(f"from={today}&to={today}").json["items"]) >= 4
    assert get("from=2000-01-01&to=2000-01-02").json["items"] == []
    for bad in ("result=maybe", "device_type=fridge", "from=23.11.2026", "from=2026-02-01&to=2026-01-01"):
        assert get(bad).status_code == 400, bad
    resp = api.get("/me/login-history.csv", token=token)
    assert resp.status_code == 200 and resp.headers["Content-Type"].startswith("text/csv")
    rows = list(csv.reader(io.StringIO(resp.body.decode("utf-8"))))
    assert rows[0][0].startswith("Дата и время") and len(rows) == 1 + 5
    assert rows[1][0].count(".") == 2 and rows[1][0][2] == "." and len(rows[1][0]) == 19
    assert {r[-1] for r in rows[1:]} >= {"Успешно", "Ошибка", "Завершён по времени"}
    only_failures = api.get("/me/login-history.csv?result=failure", token=token).body.decode()
    assert only_failures.count("\r\n") == 2


def test_not_me_ends_sessions_and_forces_a_password_change(api):
    tokens = api.register(phone=PHONE)
    intruder = _login(api, headers={"user-agent": IPHONE}).json
    event = api.get("/me/login-history", token=tokens["access_token"]).json["items"][0]
    resp = api.post(f"/me/login-history/{event['id']}/not-me", token=tokens["access_token"])
    assert resp.status_code == 200 and resp.json["sessions_ended"] == 2
    for t in (tokens, intruder):
        assert api.post("/auth/token/refresh", {"refresh_token": t["refresh_token"]}).status_code == 401
    forced = _login(api).json
    assert forced["password_expired"] is True and forced["reason"] == "not_me" and "access_token" not in forced
    changed = api.post("/auth/password/expired", {"change_token": forced["change_token"],
                                                   "new_password": "Osen#Lug73!", "new_password_repeat": "Osen#Lug73!"})
    assert changed.status_code == 200 and changed.json["access_token"]
    assert "access_token" in _login(api, "Osen#Lug73!").json
    assert any("завершены" in m["text"] for m in api.outbox(PHONE))
    other = api.post("/me/login-history/01ARZ3NDEKTSV4RRFFQ69G5FAV/not-me", token=changed.json["access_token"])
    assert other.status_code == 404


def test_new_device_sends_a_notice_known_one_does_not(api):
    api.register(phone=PHONE)
    _login(api)
    assert not any("нового устройства" in m["text"] for m in api.outbox(PHONE))
    _login(api, headers={"user-agent": IPHONE})
    notices = [m for m in api.outbox(PHONE) if "нового устройства" in m["text"]]
    assert len(notices) == 1 and "127.0.0.1" in notices[0]["text"] and "Это не я" in notices[0]["text"]
    _login(api, headers={"user-agent": IPHONE})
    assert len([m for m in api.outbox(PHONE) if "нового устройства" in m["text"]]) == 1


def test_ip_allowlist(api, fake_clock):
    tokens = api.register(phone=PHONE)
    token = tokens["access_token"]
    assert api.post("/me/security/ip-allowlist/code", token=token).status_code == 202
    code = api.last_code(PHONE)
    bad = api.call("PUT", "/me/security/ip-allowlist", {"cidrs": ["300.1.1.1", "10.0.0.0/8"], "code": code},
                   token=token)
    assert bad.status_code == 400 and set(bad.json["error"]["fields"]) == {"cidrs.0"}
    ok = api.call("PUT", "/me/security/ip-allowlist", {"cidrs": ["203.0.113.0/24"], "code": code}, token=token)
    assert ok.status_code == 200 and ok.json["ip_allowlist"] == ["203.0.113.0/24"]
    refused = _login(api)
    assert refused.status_code == 403 and refused.json["error"]["code"] == "IP_NOT_ALLOWED"
    assert _login(api, "Wrong#Pass91").status_code == 401  # a wrong password says nothing about the list
    history = api.get("/me/login-history", token=token).json["items"]
    assert "ip_not_allowed" in [h["result"] for h in history]
    assert any("отклонён вход" in m["text"] for m in api.outbox(PHONE))
    assert api.get("/me/security", token=token).json["ip_allowlist"] == ["203.0.113.0/24"]
    fake_clock.advance(61)
    api.post("/me/security/ip-allowlist/code", token=token)
    cleared = api.call("PUT", "/me/security/ip-allowlist", {"cidrs": ["127.0.0.0/8"], "code": api.last_code(PHONE)},
                       token=token)
    assert cleared.status_code == 200
    assert _login(api).status_code == 200
    wrong_code = api.call("PUT", "/me/security/ip-allowlist", {"cidrs": [], "code": "000000"}, token=token)
    assert wrong_code.status_code == 400


def test_auth_rate_limit_per_ip(api, fake_clock):
    statuses = [_login(api, "Wrong#Pass91").status_code for _ in range(31)]
    assert 429 not in statuses[:30] and statuses[30] == 429
    resp = _login(api, "Wrong#Pass91")
    assert resp.json["error"]["code"] == "TOO_MANY_REQUESTS" and 1 <= resp.json["error"]["retry_after"] <= 60
    fake_clock.advance(61)
    assert _login(api, "Wrong#Pass91").status_code in (401, 423)
