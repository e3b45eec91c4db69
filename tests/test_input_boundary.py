"""One boundary for every value from outside (api/boundary.py, api/http.py): numbers the store cannot hold, text that
is not UTF-8, NUL in addresses, JSON types taken strictly — each a 400 VALIDATION_ERROR naming the field path,
never a 500. And roles in the route plumbing: 403 before a view runs."""

from __future__ import annotations

import json
from typing import Any

import pytest

from app import app
from chalicelib.api.http import ROUTES
from tests import files
from tests.test_applications import NCR, citizen, officer, submit_ncr

HUGE = int("1" + "0" * 400)  # OverflowError in float maths
LONE = "a\ud800"  # a lone surrogate: json.dumps writes it as the escape \ud800


def _raw(body: dict[str, Any]) -> bytes:
    return json.dumps(body).encode()  # ensure_ascii: the surrogate travels as an escape, as a client would send it


def _refused(resp: Any, *paths: str) -> dict[str, str]:
    assert resp.status_code == 400, (resp.status_code, resp.body[:300])
    err = resp.json["error"]
    assert err["code"] == "VALIDATION_ERROR" and err["message"], err
    for path in paths:
        assert path in err["fields"], (path, err["fields"])
    resp.body.decode("utf-8")  # the answer itself is UTF-8
    return err["fields"]


@pytest.fixture
def person(api) -> dict[str, Any]:
    return citizen(api)


@pytest.fixture
def submission(api, person) -> dict[str, Any]:
    """A submission body exactly as a client posts it: the no-criminal-record form and a checked passport."""
    passport = api.upload(person["access_token"], files.pdf(), category="passport")
    return {"type": "no-criminal-record", "params": dict(NCR), "attachments": [passport]}


def test_a_400_digit_number_in_params_is_refused_not_a_500(api, person, submission):
    body = {**submission, "params": {**submission["params"], "amount": HUGE}}
    fields = _refused(api.call("POST", "/requests", raw=_raw(body), token=person["access_token"]), "params.amount")
    assert "10^15" in fields["params.amount"]
    draft = {"type": "no-criminal-record", "params": {"amount": HUGE}, "draft": True}
    _refused(api.call("POST", "/requests", raw=_raw(draft), token=person["access_token"]), "params.amount")


@pytest.mark.parametrize(("params", "path", "draft"), [
    ({"birth_place": LONE}, "params.birth_place", False),  # free text: the form itself would accept it
    ({"purpose": LONE}, "params.purpose", True),  # drafts are kept as typed, unchecked
    ({LONE: "x"}, "params", False),
    ({"children": [{"name": LONE}]}, "params.children.0.name", True),
])
def test_lone_surrogates_in_params_are_refused_not_a_500(api, person, submission, params, path, draft):
    body = {**submission, "params": {**submission["params"], **params}, "draft": draft}
    _refused(api.call("POST", "/requests", raw=_raw(body), token=person["access_token"]), path)
    assert api.get("/requests", token=person["access_token"]).json["items"] == []  # nothing was kept


@pytest.mark.parametrize(("value", "path"), [
    (10**15 + 1, "params.n"), (-(10**15) - 1, "params.n"), (1e-200, "params.n"), (5e-324, "params.n"),
])
def test_numbers_the_store_cannot_hold_are_refused(api, person, value, path):
    body = {"type": "no-criminal-record", "params": {"n": value}, "draft": True}
    _refused(api.call("POST", "/requests", raw=_raw(body), token=person["access_token"]), path)


def test_numbers_within_the_limit_are_kept(api, person):
    body = {"type": "no-criminal-record", "params": {"n": 10**15, "m": -1.5e-100, "z": 0}, "draft": True}
    resp = api.call("POST", "/requests", raw=_raw(body), token=person["access_token"])
    assert resp.status_code == 201, resp.json


def test_infinity_spelt_as_a_huge_exponent_is_refused(api, person):
    raw = b'{"type": "no-criminal-record", "params": {"n": 1e400}, "draft": true}'
    _refused(api.call("POST", "/requests", raw=raw, token=person["access_token"]), "params.n")


def test_surrogates_anywhere_in_any_body_are_refused(api):
    _refused(api.call("POST", "/auth/login", raw=_raw({"login": LONE, "password": "x"})), "login")
    _refused(api.call("POST", "/auth/login", raw=_raw({"login": "x", "password": "x", LONE: 1})), "body")
    reg = {"last_name": "Кузнецов", "first_name": "Алексей", "phone": "9161234567", "middle_name": "П\udfff"}
    _refused(api.call("POST", "/auth/registrations", raw=_raw(reg)), "middle_name")


@pytest.mark.parametrize(("body", "field"), [
    ({"size": True}, "size"), ({"size": 1.5}, "size"), ({"size": "1000"}, "size"), ({"valid_until": 20301231},
                                                                                        "valid_until"),
])
def test_json_types_are_taken_strictly(api, person, body, field):
    base = {"category": "other", "filename": "scan.pdf", "content_type": "application/pdf", "size": 1000}
    resp = api.post("/documents/uploads", {**base, **body}, token=person["access_token"])
    _refused(resp, field)


def test_booleans_are_not_numbers_or_strings(api, person):
    for draft in (1, "true"):
        resp = api.post("/requests", {"type": "no-criminal-record", "params": {}, "draft": draft},
                        token=person["access_token"])
        _refused(resp, "draft")


def test_nul_in_a_query_string_is_refused(api, person):
    _refused(api.get("/services?q=%00"), "q")
    _refused(api.get("/requests?number=12%0034", token=person["access_token"]), "number")


def _lambda(method: str, route: str, path: str, *, params: dict[str, str] | None = None,
            query: dict[str, list[str]] | None = None, token: str | None = None) -> dict[str, Any]:
    """The app called as API Gateway calls it: path parameters arrive decoded, so any text can reach a view."""
    headers = {"user-agent": "pytest"} | ({"authorization": f"Bearer {token}"} if token else {})
    event = {"requestContext": {"httpMethod": method, "resourcePath": route, "path": path,
                                "identity": {"sourceIp": "203.0.113.9"}},
             "headers": headers, "pathParameters": params, "multiValueQueryStringParameters": query,
             "stageVariables": {}, "body": None}
    out = app(event, None)
    return {"status": out["statusCode"], "json": json.loads(out["body"])}


@pytest.mark.parametrize("bad", [LONE, "01ARZ3NDEKTSV4RRFFQ69G5FA\x00", "\udc80"])
def test_path_parameters_with_surrogates_or_nul_are_refused(api, person, bad):
    for route, name in (("/services/{service_id}", "service_id"), ("/requests/{request_id}", "request_id")):
        out = _lambda("GET", route, route, params={name: bad}, token=person["access_token"])
        assert out["status"] == 400 and out["json"]["error"]["code"] == "VALIDATION_ERROR", out
        assert set(out["json"]["error"]["fields"]) == {name}, out


@pytest.mark.parametrize("bad", [LONE, "x\x00y"])
def test_query_values_with_surrogates_or_nul_are_refused(api, bad):
    out = _lambda("GET", "/services", "/services", query={"q": [bad]})
    assert out["status"] == 400 and "q" in out["json"]["error"]["fields"], out
    out = _lambda("GET", "/services", "/services", query={bad: ["x"]})
    assert out["status"] == 400 and out["json"]["error"]["code"] == "VALIDATION_ERROR", out


def test_every_json_answer_is_utf8_without_escapes(api):
    resp = api.get("/services/no-criminal-record")
    assert resp.status_code == 200 and "Справка".encode() in resp.body and b"\\u04" not in resp.body
    resp = api.get("/services/no-such-service")
    assert "не найдена".encode() in resp.body and b"\\u" not in resp.body


# -- roles -----------------------------------------------------------------------------------------------------

def _concrete(path: str, request_id: str) -> str:
    return (path.replace("{request_id}", request_id).replace("{document_id}", "01ARZ3NDEKTSV4RRFFQ69G5FAV")
            .replace("{service_id}", "no-criminal-record").replace("{template_id}", "01ARZ3NDEKTSV4RRFFQ69G5FAV"))


def _body(route: Any) -> dict[str, Any] | None:
    return {"oops": 1} if route.body is not None else None  # the role is refused before the body is read


def test_a_citizen_gets_403_on_every_agency_route(api, person):
    rid = submit_ncr(api, person)["id"]
    agency = [r for r in ROUTES if r.path.startswith("/agency/")]
    assert len(agency) == 8 and all(r.roles == ("officer",) for r in agency)
    for route in agency:
        resp = api.call(route.method, _concrete(route.path, rid), _body(route), token=person["access_token"])
        assert resp.status_code == 403 and resp.json["error"]["code"] == "FORBIDDEN", (route.path, resp.json)
        assert "сотрудникам ведомств" in resp.json["error"]["message"]


def test_an_officer_gets_403_on_citizen_only_routes(api, person):
    clerk = officer(api, "mvd", "+79991110001")
    rid = submit_ncr(api, person)["id"]
    own = [r for r in ROUTES if r.roles == ("citizen",)]
    assert {r.path for r in own} >= {"/requests", "/requests/{request_id}", "/me/templates",
                                     "/services/{service_id}/prefill"}
    for route in own:
        resp = api.call(route.method, _concrete(route.path, rid), _body(route), token=clerk["access_token"])
        assert resp.status_code == 403 and resp.json["error"]["code"] == "FORBIDDEN", (route.path, resp.json)
    assert api.get("/me", token=clerk["access_token"]).status_code == 200  # their own account is theirs
    assert api.get("/documents", token=clerk["access_token"]).status_code == 200  # result PDFs are uploaded there


def test_an_officer_still_works_the_agency_inbox(api, person):
    clerk = officer(api, "mvd", "+79991110001")
    rid = submit_ncr(api, person)["id"]
    assert api.post(f"/agency/requests/{rid}/take", token=clerk["access_token"]).json["status"] == "in_progress"
