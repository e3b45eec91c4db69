"""The OpenAPI document is generated from the registered routes and models, is a valid OpenAPI 3.1 document, says
where it is served, and describes what the routes really answer: a person's whole journey through the API is
checked answer by answer against it (the fuzzing gate, tests/test_fuzz.py, does the same with generated data)."""

from __future__ import annotations

import json
import re
from typing import Any

import pyotp
import pytest
import requests
from jsonschema import Draft202012Validator, FormatChecker
from openapi_spec_validator import validate

from app import app
from chalicelib.api.http import ROUTES, Content
from chalicelib.core.models import ID_PATTERN
from tests import files
from tests.conftest import PASSWORD
from tests.test_applications import NCR, citizen, officer


def _doc(api) -> dict[str, Any]:
    resp = api.get("/openapi.json")
    assert resp.status_code == 200
    return resp.json


def test_openapi_lists_every_route_with_schemas(api):
    doc = _doc(api)
    assert doc["openapi"].startswith("3.")
    for route in ROUTES:
        assert route.method.lower() in doc["paths"][route.path], route.path
    login = doc["paths"]["/auth/login"]["post"]
    assert login["requestBody"]["content"]["application/json"]["schema"]["$ref"].endswith("/LoginIn")
    schema = doc["components"]["schemas"]["RegistrationIn"]
    assert {"last_name", "first_name", "phone", "email"} <= set(schema["properties"])
    assert doc["paths"]["/me"]["get"]["security"] == [{"bearer": []}]
    assert "Error" in doc["components"]["schemas"]


def test_the_document_is_valid_openapi(api):
    validate(_doc(api))


def test_every_route_declares_what_it_answers(api):
    doc = _doc(api)
    for route in ROUTES:
        op = doc["paths"][route.path][route.method.lower()]
        success = op["responses"][str(route.status)]
        if route.status == 204:
            assert "content" not in success, route.path
        elif isinstance(route.response, Content):
            schema = success["content"][route.response.media_type]["schema"]
            assert schema["type"] == "string", route.path
        else:
            schema = success["content"]["application/json"]["schema"]
            assert schema, route.path
        assert "default" in op["responses"] and "400" in op["responses"], route.path
    paths = doc["paths"]
    pdf = paths["/requests/{request_id}/journal.pdf"]["get"]["responses"]["200"]["content"]
    assert pdf == {"application/pdf": {"schema": {"type": "string", "format": "binary"}}}
    assert set(paths["/me/login-history.csv"]["get"]["responses"]["200"]["content"]) == {"text/csv"}
    assert "content" not in paths["/auth/logout"]["post"]["responses"]["204"]


def test_servers_say_where_the_document_is_served(api):
    assert _doc(api)["servers"] == [{"url": "/"}]  # the local cloud serves at the root
    event = {"requestContext": {"httpMethod": "GET", "resourcePath": "/openapi.json", "path": "/api/openapi.json",
                                "identity": {"sourceIp": "203.0.113.9"}, "stage": "api"},
             "headers": {}, "pathParameters": None, "multiValueQueryStringParameters": None, "stageVariables": {},
             "body": None}
    on_gateway = json.loads(app(event, None)["body"])
    assert on_gateway["servers"] == [{"url": "/api"}]  # API Gateway's stage URL
    event["requestContext"]["path"] = "/openapi.json"  # a custom domain mapped to the stage
    assert json.loads(app(event, None)["body"])["servers"] == [{"url": "/"}]


def test_parameters_carry_their_real_schemas(api):
    paths = _doc(api)["paths"]

    def params(path: str, method: str = "get") -> dict[str, dict[str, Any]]:
        return {p["name"]: p for p in paths[path][method].get("parameters", [])}

    history = params("/me/login-history")
    assert history["device_type"]["schema"]["enum"] == ["computer", "phone", "tablet", "unknown"]
    assert "ip_not_allowed" in history["result"]["schema"]["enum"] and not history["result"]["required"]
    assert history["from"]["schema"]["anyOf"][0]["format"] == "date"
    assert "approved" in params("/requests")["status"]["schema"]["enum"]
    assert params("/documents")["category"]["schema"]["enum"][0] == "passport"
    catalog = params("/services")
    assert catalog["max_days"]["schema"]["anyOf"][0] == {"maximum": 365, "minimum": 1, "type": "integer"}
    assert catalog["region"]["schema"]["pattern"] == "^(?:[0-9]{2})?$"
    assert params("/requests/{request_id}")["request_id"]["schema"]["pattern"] == ID_PATTERN
    assert params("/me/contacts/{kind}/confirm", "post")["kind"]["schema"]["enum"] == ["phone", "email"]
    assert params("/dev/outbox")["to"]["required"] is True


def test_request_models_show_the_rules_they_enforce(api):
    schemas = _doc(api)["components"]["schemas"]
    phone = schemas["PhoneIn"]["properties"]["phone"]
    assert phone["pattern"] == r"^(?:\+7|7|8)?9[0-9]{9}$"
    assert schemas["ProfileOut"]["properties"]["phone"]["anyOf"][0]["pattern"] == r"^\+7[0-9]{10}$"
    assert schemas["ProfileOut"]["properties"]["created_at"]["format"] == "date-time"
    assert schemas["UploadIn"]["properties"]["size"]["type"] == "integer"
    assert schemas["UploadIn"]["properties"]["category"]["enum"][0] == "passport"
    assert {b["properties"]["content_type"]["const"] for b in schemas["FileIn"]["anyOf"]} == {
        "application/pdf", "image/jpeg", "image/png"}
    assert "no-criminal-record" in schemas["RequestIn"]["properties"]["type"]["anyOf"][0]["enum"]
    assert schemas["AllowlistIn"]["properties"]["cidrs"]["maxItems"] == 20
    assert schemas["RequestOut"]["additionalProperties"] is False


def test_roles_are_documented(api):
    paths = _doc(api)["paths"]
    assert paths["/agency/requests"]["get"]["x-roles"] == ["officer"]
    assert "officer" in paths["/agency/requests"]["get"]["description"]
    assert paths["/requests"]["post"]["x-roles"] == ["citizen"]
    assert "x-roles" not in paths["/me"]["get"]


def test_patterns_agree_with_the_checks_behind_them():
    """The patterns pydantic enforces for contacts say exactly what identity/contacts.py accepts."""
    from chalicelib.identity.contacts import normalize_email, normalize_phone
    from chalicelib.identity.models import EMAIL_PATTERN, PHONE_PATTERN

    phones = ["+79161234567", "79161234567", "89161234567", "9161234567", "+89161234567", "+9161234567",
              "78161234567", "8916123456", "916123456", "+7916123456", "+791612345678"]
    for text in phones:
        assert bool(re.fullmatch(PHONE_PATTERN, text)) == (normalize_phone(text) is not None), text
    emails = ["a@b.ru", ".a@b.ru", "a.@b.ru", ".@b.ru", "a..b@c.ru", "a@b..ru", "a@b.r", "a b@c.ru", "A_B%+-@x-y.RU"]
    for text in emails:
        assert bool(re.fullmatch(EMAIL_PATTERN, text)) == (normalize_email(text) is not None), text


# -- the journey, answer by answer --------------------------------------------------------------------------------

class Contract:
    """Wraps the test API: every answer must be one the document describes for its route and status."""

    def __init__(self, api: Any, doc: dict[str, Any]) -> None:
        self.api, self.doc, self.seen = api, doc, set()
        self.routes = [(re.compile("^" + re.sub(r"{\w+}", "[^/]+", r.path) + "$"), r) for r in ROUTES]
        self._call = api.call
        api.call = self.call

    def _route(self, method: str, path: str) -> Any:
        bare = path.split("?", 1)[0]
        found = [r for rx, r in self.routes if r.method == method and rx.match(bare)]
        found.sort(key=lambda r: r.path.count("{"))  # a literal segment wins over a parameter
        return found[0] if found else None

    def call(self, method: str, path: str, *args: Any, **kw: Any) -> Any:
        resp = self._call(method, path, *args, **kw)
        route = self._route(method, path)
        if route is not None:
            self.check(route, resp)
        return resp

    def check(self, route: Any, resp: Any) -> None:
        op = self.doc["paths"][route.path][route.method.lower()]
        declared = op["responses"].get(str(resp.status_code)) or op["responses"]["default"]
        content = declared.get("content")
        if not content:
            assert not resp.body, (route.path, resp.status_code)
            return
        media = resp.headers["Content-Type"].split(";")[0]
        assert media in content, (route.path, resp.status_code, media)
        if media != "application/json":
            return
        schema = {**content[media]["schema"], "components": self.doc["components"]}
        errors = sorted(Draft202012Validator(schema, format_checker=FormatChecker()).iter_errors(resp.json),
                        key=str)
        assert not errors, (route.method, route.path, resp.status_code, [e.message for e in errors[:3]], resp.json)
        if 200 <= resp.status_code < 300:
            self.seen.add((route.method, route.path))


@pytest.fixture
def contract(api) -> Contract:
    return Contract(api, _doc(api))


def test_a_citizens_and_an_officers_answers_match_the_document(api, contract, fake_clock):
    person = citizen(api)
    token = person["access_token"]
    get = lambda path, **kw: api.get(path, token=token, **kw)  # noqa: E731
    post = lambda path, body=None, **kw: api.post(path, body, token=token, **kw)  # noqa: E731

    # Catalog, keys, documents.
    for path in ("/services?q=справка&max_days=30", "/services/suggest?q=паспорт", "/services/categories",
                 "/services/no-criminal-record", "/.well-known/jwks.json", "/documents/categories"):
        assert api.get(path, token=token).status_code == 200, path
    assert get("/services/no-criminal-record/prefill").status_code == 200
    passport = api.upload(token, files.pdf(), category="passport")
    scan = api.upload(token, files.image(), filename="scan.png", content_type="image/png", category="other",
                      valid_until="2030-12-31")
    for path in ("/documents", f"/documents/{passport}", f"/documents/{passport}/download?version=1",
                 f"/documents/{passport}/journal"):
        assert get(path).status_code == 200, path
    assert post(f"/documents/{scan}/versions", {"filename": "scan2.png", "content_type": "image/png",
                                                 "size": 10}).status_code == 201
    extract = post("/documents/generate/profile-extract").json
    assert api.get(f"/verify/{extract['id']}").status_code == 200
    link = get(f"/documents/{extract['id']}/download").json["url"]
    pdf = requests.get(link, timeout=10).content
    assert api.call("POST", "/verify", raw=pdf, headers={"content-type": "application/pdf"}).json["valid"] is True
    assert api.call("DELETE", f"/documents/{scan}", token=token).status_code == 204

    # Applications, templates, messages; the officer's side.
    submitted = post("/requests", {"type": "no-criminal-record", "params": NCR, "attachments": [passport]}).json
    rid = submitted["id"]
    api.pump.drain()
    draft = post("/requests", {"type": "no-criminal-record", "params": {"purpose": "visa"}, "draft": True}).json
    assert api.call("PUT", f"/requests/{draft['id']}", {"params": NCR}, token=token).status_code == 200
    assert post(f"/requests/{draft['id']}/template", {"name": "Шаблон"}).status_code == 201
    assert post(f"/requests/{draft['id']}/cancel").status_code == 200
    assert get("/me/templates").status_code == 200 and get("/requests?status=submitted").status_code == 200
    clerk = officer(api, "mvd", "+79991110001")["access_token"]
    assert api.get("/agency/requests?status=submitted", token=clerk).json["items"]
    assert api.post(f"/agency/requests/{rid}/take", token=clerk).status_code == 200
    assert api.get(f"/agency/requests/{rid}", token=clerk).status_code == 200
    assert api.get(f"/agency/requests/{rid}/attachments/{passport}", token=clerk).status_code == 200
    assert api.post(f"/agency/requests/{rid}/comments", {"text": "Проверяем"}, token=clerk).status_code == 204
    assert api.post(f"/agency/requests/{rid}/request-documents", {"message": "Нужен СНИЛС"},
                    token=clerk).status_code == 200
    snils = api.upload(token, files.pdf("SNILS"), category="snils")
    assert post(f"/requests/{rid}/documents", {"attachments": [snils]}).status_code == 200
    assert post(f"/requests/{rid}/comments", {"text": "Приложил"}).status_code == 204
    assert api.post(f"/agency/requests/{rid}/approve", {"comment": "Сведений нет"}, token=clerk).status_code == 200
    api.pump.drain()
    assert get(f"/requests/{rid}").json["result"]
    assert get(f"/requests/{rid}/journal.pdf", headers={"accept": "application/pdf"}).status_code == 200
    other = post("/requests", {"type": "no-criminal-record", "params": NCR, "attachments": [passport]}).json
    api.pump.drain()
    assert api.post(f"/agency/requests/{other['id']}/take", token=clerk).status_code == 200
    assert api.post(f"/agency/requests/{other['id']}/reject", {"reason": "Нет", "fix": "Подать снова"},
                    token=clerk).status_code == 200
    messages = get("/me/messages").json["items"]
    assert api.call("POST", f"/me/messages/{messages[0]['id']}/read", token=token).status_code == 204

    # Security: sessions, history, TOTP and a sign-in with it, codes, contacts, recovery.
    assert get("/me").status_code == 200 and get("/me/security").status_code == 200
    assert get("/me/sessions").status_code == 200 and get("/me/login-history?result=success").status_code == 200
    assert get("/me/login-history.csv").status_code == 200
    secret = post("/me/mfa/totp").json["secret"]
    done = post("/me/mfa/totp/confirm", {"code": pyotp.TOTP(secret).at(fake_clock.now)}).json
    assert len(done["backup_codes"]) == 10
    fake_clock.advance(30)
    step = api.post("/auth/login", {"login": person["phone"], "password": PASSWORD}).json
    assert step["mfa_required"] is True
    signed = api.post("/auth/login/mfa", {"challenge_id": step["challenge_id"], "method": "totp",
                                          "code": pyotp.TOTP(secret).at(fake_clock.now)}).json
    assert api.post("/auth/token/refresh", {"refresh_token": signed["refresh_token"]}).status_code == 200
    for path in ("/me/password/code", "/me/security/ip-allowlist/code", "/me/mfa/sms/code"):
        assert post(path).status_code == 202, path
        fake_clock.advance(61)
    code = api.last_code(person["phone"])
    assert api.call("PUT", "/me/security/ip-allowlist", {"cidrs": [], "code": code}, token=token).status_code in (
        200, 400)
    assert post("/me/contacts/email", {"email": "Kuznetsov@Example.ru"}).status_code == 202
    assert post("/me/contacts/email/confirm", {"code": api.last_code("kuznetsov@example.ru")}).status_code == 200
    assert api.call("DELETE", "/me/sessions", token=token).status_code == 200
    event = get("/me/login-history").json["items"][0]["id"]
    assert post(f"/me/login-history/{event}/not-me").status_code == 200
    recovery = api.post("/auth/recovery", {"login": person["phone"]}).json
    confirmed = api.post(f"/auth/recovery/{recovery['recovery_id']}/confirm",
                         {"code": api.code_about(person["phone"], "восстановлен")})
    assert confirmed.status_code in (200, 400)
    assert api.call("POST", "/auth/logout", token=signed["access_token"]).status_code == 204

    covered = len(contract.seen)
    assert covered >= 50, sorted(contract.seen)


def test_no_bound_is_written_in_pydantic_words_only(api):
    """`ge`/`le` are pydantic's names: a bound that reaches the document under them binds no client and no fuzzer
    (it happened inside `| None` on a number with its own validator: whole_number() in core/models.py)."""
    def walk(node, path=""):
        if isinstance(node, dict):
            for key, value in node.items():
                if key in ("ge", "le", "gt", "lt") and not isinstance(value, (dict, list)):
                    yield f"{path}/{key}"
                yield from walk(value, f"{path}/{key}")
        elif isinstance(node, list):
            for i, value in enumerate(node):
                yield from walk(value, f"{path}/{i}")

    assert list(walk(_doc(api))) == []
