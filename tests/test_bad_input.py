"""Bad input always gets the one error shape with a fitting status; nothing produces a 500."""

from __future__ import annotations

import json

import pytest

from tests.conftest import PASSWORD

ROUTES = ["/auth/registrations", "/auth/registrations/01ARZ3NDEKTSV4RRFFQ69G5FAV/confirm",
          "/auth/registrations/01ARZ3NDEKTSV4RRFFQ69G5FAV/complete", "/auth/login", "/auth/token/refresh"]


def _shape(resp, status, code=None):
    assert resp.status_code == status, resp.json
    err = resp.json["error"]
    assert set(err) >= {"code", "message", "fields"} and err["message"]
    if code:
        assert err["code"] == code
    return err


@pytest.mark.parametrize("path", ROUTES)
def test_malformed_json(api, path):
    _shape(api.post(path, raw=b"{not json"), 400, "INVALID_JSON")
    _shape(api.post(path, raw=b"[1,2]"), 400, "INVALID_JSON")
    _shape(api.post(path, raw=b""), 400, "INVALID_JSON")
    _shape(api.post(path, raw=b"\xff\xfe"), 400, "INVALID_JSON")


@pytest.mark.parametrize("path", ROUTES)
def test_wrong_content_type(api, path):
    _shape(api.post(path, raw=b"login=x", headers={"content-type": "text/plain"}), 415, "UNSUPPORTED_MEDIA_TYPE")


@pytest.mark.parametrize("path", ROUTES)
def test_body_over_64_kb(api, path):
    big = json.dumps({"login": "x" * 70_000, "password": "y"}).encode()
    _shape(api.post(path, raw=big), 413, "PAYLOAD_TOO_LARGE")


def test_unknown_fields_are_refused(api):
    err = _shape(api.post("/auth/login", {"login": "x", "password": "y", "admin": True}), 400, "VALIDATION_ERROR")
    assert err["fields"] == {"admin": "Неизвестное поле"}


def test_bad_phone_and_email_name_the_field(api):
    body = {"last_name": "Кузнецов", "first_name": "Алексей", "phone": "+7 916 123"}
    err = _shape(api.post("/auth/registrations", body), 400, "VALIDATION_ERROR")
    assert "phone" in err["fields"] and "11 цифр" in err["fields"]["phone"]
    body = {"last_name": "Кузнецов", "first_name": "Алексей", "email": "ivan@mail"}
    err = _shape(api.post("/auth/registrations", body), 400, "VALIDATION_ERROR")
    assert "email" in err["fields"]
    body = {"last_name": "Кузнецов", "first_name": "Алексей", "email": "iv an@mail.ru"}
    assert "email" in _shape(api.post("/auth/registrations", body), 400)["fields"]


def test_registration_needs_a_contact_and_real_names(api):
    err = _shape(api.post("/auth/registrations", {"last_name": "Кузнецов", "first_name": "Алексей"}), 400)
    assert "телефон" in err["fields"]["body"]
    err = _shape(api.post("/auth/registrations", {"last_name": "К.", "first_name": "Алексей1",
                                                  "phone": "9161234567"}), 400)
    assert set(err["fields"]) == {"last_name", "first_name"}
    err = _shape(api.post("/auth/registrations", {"phone": "9161234567"}), 400)
    assert err["fields"]["last_name"] == "Обязательное поле"


def test_wrong_types(api):
    err = _shape(api.post("/auth/login", {"login": 5, "password": ["x"]}), 400)
    assert set(err["fields"]) == {"login", "password"}
    err = _shape(api.post("/auth/registrations/01ARZ3NDEKTSV4RRFFQ69G5FAV/confirm", {"code": "12ab56"}), 400)
    assert "code" in err["fields"]


def test_method_not_allowed(api):
    resp = api.call("DELETE", "/auth/login")
    _shape(resp, 405, "METHOD_NOT_ALLOWED")


def test_unexpected_failure_is_a_500_with_request_id_only(api, monkeypatch):
    from chalicelib.identity import profile

    def boom(user_id):
        raise RuntimeError("secret internals")

    tokens = api.register()
    monkeypatch.setattr(profile, "profile", boom)
    resp = api.get("/me", token=tokens["access_token"])
    err = _shape(resp, 500, "INTERNAL")
    assert err["request_id"] and "secret" not in resp.body.decode()


def _concrete(path):
    return path.replace("{kind}", "phone").replace("{registration_id}", "01ARZ3NDEKTSV4RRFFQ69G5FAV") \
        .replace("{recovery_id}", "01ARZ3NDEKTSV4RRFFQ69G5FAV").replace("{session_id}", "01ARZ3NDEKTSV4RRFFQ69G5FAV") \
        .replace("{event_id}", "01ARZ3NDEKTSV4RRFFQ69G5FAV").replace("{name}", "outbox_sweeper")


def test_every_route_with_a_body_answers_bad_input_in_the_one_shape(api):
    """Malformed JSON, a wrong content type and unknown fields on every such route, signed in or not."""
    from chalicelib.api.http import ROUTES
    from infra.seed import add_officer, add_operator

    token = api.register()["access_token"]
    add_officer(agency="mvd", last_name="Петров", first_name="Сергей", department="Центр", phone="+79991110009",
                password=PASSWORD)
    officer = api.login("+79991110009")["access_token"]
    add_operator(last_name="Кузнецова", first_name="Татьяна", office="МФЦ", phone="+79992000009", password=PASSWORD)
    staff = {("officer",): officer, ("operator",): api.login("+79992000009")["access_token"]}
    # news (NT-4): the editors' publishing route
    from infra.seed import add_editor

    add_editor(last_name="Белова", first_name="Наталья", office="Редакция", phone="+79993000009", password=PASSWORD)
    staff[("editor",)] = api.login("+79993000009")["access_token"]
    checked = 0
    for route in ROUTES:
        if route.body is None:
            continue
        who = staff.get(getattr(route, "roles", None), token)
        path, kw = _concrete(route.path), {"token": who} if route.auth else {}
        _shape(api.call(route.method, path, raw=b"{oops", **kw), 400, "INVALID_JSON")
        _shape(api.call(route.method, path, raw=b"x", headers={"content-type": "text/plain"}, **kw), 415)
        err = _shape(api.call(route.method, path, {"surprise": 1}, **kw), 400)
        assert err["fields"].get("surprise") == "Неизвестное поле", route.path
        if route.auth:
            _shape(api.call(route.method, path, {"surprise": 1}), 401, "UNAUTHORIZED")
        checked += 1
    assert checked >= 20
