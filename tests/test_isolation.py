"""A second user cannot see the first one's data (AU-9, security standard)."""

from __future__ import annotations


def test_second_user_sees_only_their_own_profile_and_history(api):
    first = api.register(phone="+79161234567")
    second = api.register(phone="+79167654321", last_name="Смирнова", first_name="Анна")
    api.post("/auth/login", {"login": "+79161234567", "password": "Wrong#Pass91"})
    me = api.get("/me", token=second["access_token"]).json
    assert me["user_id"] == second["user_id"] and me["phone"] == "+79167654321"
    history = api.get("/me/login-history", token=second["access_token"]).json["items"]
    assert len(history) == 1 and history[0]["result"] == "success"
    first_history = api.get("/me/login-history", token=first["access_token"]).json
    assert [h["result"] for h in first_history["items"]] == ["failure", "success"]


def test_a_cursor_from_another_user_is_refused(api):
    first = api.register(phone="+79161234567")
    second = api.register(phone="+79167654321", last_name="Смирнова", first_name="Анна")
    for _ in range(21):
        api.post("/auth/login", {"login": "+79161234567", "password": "Vesna#Dom48!"})
    cursor = api.get("/me/login-history", token=first["access_token"]).json["cursor"]
    assert cursor
    resp = api.get(f"/me/login-history?cursor={cursor}", token=second["access_token"])
    assert resp.status_code == 400 and resp.json["error"]["code"] == "INVALID_CURSOR"


def test_refresh_token_of_one_user_cannot_be_bent_to_another(api):
    first = api.register(phone="+79161234567")
    second = api.register(phone="+79167654321", last_name="Смирнова", first_name="Анна")
    _, sid, secret = first["refresh_token"].split(".")
    forged = f"{second['user_id']}.{sid}.{secret}"
    assert api.post("/auth/token/refresh", {"refresh_token": forged}).status_code == 401
    assert api.post("/auth/token/refresh", {"refresh_token": first["refresh_token"]}).status_code == 200
