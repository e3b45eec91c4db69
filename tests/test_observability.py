"""Observability (issue 10): JSON log lines with the request id and the user's hash and no personal data; worker
lines with the function; business metrics as EMF lines, flushed per invocation, only in Lambda."""

from __future__ import annotations

import io
import json
from collections.abc import Iterator
from typing import Any

import pytest
from chalice.local import LambdaContext

from app import app
from chalicelib.core import observability
from tests.conftest import PASSWORD, UA_DESKTOP

PHONE = "+79161234567"
EMAIL = "maria.orlova@mail.ru"


class Lines:
    """What the `kabinet` handler writes, one parsed JSON object per line (every line must be JSON)."""

    def __init__(self, buffer: io.StringIO) -> None:
        self.buffer = buffer

    @property
    def text(self) -> str:
        return self.buffer.getvalue()

    def all(self) -> list[dict[str, Any]]:
        return [json.loads(line) for line in self.text.splitlines() if line.strip()]

    def where(self, **keys: Any) -> list[dict[str, Any]]:
        return [line for line in self.all() if all(line.get(k) == v for k, v in keys.items())]

    def clear(self) -> None:
        self.buffer.seek(0)
        self.buffer.truncate()


@pytest.fixture
def lines() -> Iterator[Lines]:
    handler = observability.logger.registered_handler
    buffer = io.StringIO()
    old = handler.setStream(buffer)
    try:
        yield Lines(buffer)
    finally:
        handler.setStream(old)


def _register_by_email(api: Any) -> dict[str, Any]:
    return api.register(email=EMAIL, last_name="Орлова", first_name="Мария")


def _no_personal_data(text: str, *values: str) -> None:
    for value in (*values, PHONE, PHONE[2:], EMAIL, "Кузнецов", "Алексей", "Орлова", "Мария", PASSWORD):
        assert value not in text, value


def test_an_api_request_line_has_the_request_id_and_the_user_hash_and_no_personal_data(api, lines):
    user = api.register(phone=PHONE)
    mine = observability.user_hash(user["user_id"])
    lines.clear()

    api.login(PHONE)
    assert api.get("/me", token=user["access_token"]).status_code == 200

    [signed_in] = lines.where(route="/auth/login")
    assert signed_in["user"] == mine and signed_in["status"] == 200  # known from the tokens it issued
    [me] = lines.where(route="/me")
    assert me["level"] == "INFO" and me["method"] == "GET" and me["status"] == 200 and me["name"] == "kabinet.api"
    assert me["user"] == mine and len(mine) == 16
    assert me["request_id"] and me["request_id"] != signed_in["request_id"]
    assert me["function_request_id"] and me["function_name"]  # the Lambda context chalice's gateway passes
    _no_personal_data(lines.text, user["user_id"], user["access_token"], user["refresh_token"])


def test_a_sign_in_by_e_mail_is_logged_without_the_address(api, lines):
    user = _register_by_email(api)
    api.login(EMAIL)
    assert api.post("/auth/login", {"login": EMAIL, "password": "Wrong#Pass1"}).status_code == 401
    refused = lines.where(route="/auth/login", status=401)
    assert refused and "user" not in refused[0]  # nobody signed in
    assert all(line["request_id"] for line in lines.all() if "route" in line)
    _no_personal_data(lines.text, user["user_id"])


def test_the_500_answer_carries_the_request_id_of_its_log_line(api, lines, monkeypatch):
    """Called as API Gateway calls the function: the request id is API Gateway's, in the answer and the log."""
    from chalicelib.identity import profile

    user = api.register(phone=PHONE)

    def boom(user_id):
        raise RuntimeError(f"internals mentioning {PHONE} and {EMAIL}")

    monkeypatch.setattr(profile, "profile", boom)
    gateway_id = "c6af9ac6-7b61-11e6-9a41-93e8deadbeef"
    event = {"requestContext": {"httpMethod": "GET", "resourcePath": "/me", "requestId": gateway_id,
                                "identity": {"sourceIp": "203.0.113.7"}, "path": "/me"},
             "headers": {"authorization": f"Bearer {user['access_token']}", "user-agent": UA_DESKTOP},
             "pathParameters": None, "stageVariables": None, "multiValueQueryStringParameters": None, "body": None}
    answer = app(event, LambdaContext("kabinet-prod", 1024))

    assert answer["statusCode"] == 500
    assert json.loads(answer["body"])["error"]["request_id"] == gateway_id
    [error] = lines.where(level="ERROR")
    assert error["request_id"] == gateway_id and error["message"] == "unhandled error"
    assert error["user"] == observability.user_hash(user["user_id"]) and error["function_name"] == "kabinet-prod"
    assert error["exception_name"] == "RuntimeError" and "<phone>" in error["exception"]
    [request] = lines.where(route="/me", status=500)
    assert request["request_id"] == gateway_id
    _no_personal_data(lines.text, user["user_id"])


def test_a_worker_line_carries_the_function(api, lines):
    api.post("/auth/registrations", {"last_name": "Кузнецов", "first_name": "Алексей", "phone": PHONE})
    lines.clear()
    api.pump.drain()  # as the local pump calls the handlers: no Lambda context, the handler's name only
    [sent] = lines.where(handler="notify_worker", name="kabinet.events")  # (the local delivery simulator logs too)
    assert "code.requested" in sent["message"] and sent["name"] == "kabinet.events" and "request_id" not in sent
    _no_personal_data(lines.text)

    lines.clear()
    context = LambdaContext("kabinet-prod-document_checker", 1024)
    record = {"s3": {"object": {"key": "u/not-a-document", "versionId": "1"}}}
    assert app.handler_map["document_checker"]({"Records": [record]}, context) == ["ignored"]
    [ignored, checked] = lines.all()
    assert ignored["level"] == "WARNING" and ignored["handler"] == "document_checker"
    assert ignored["function_name"] == "kabinet-prod-document_checker"
    assert ignored["function_request_id"] == context.aws_request_id and ignored["cold_start"] in (True, False)
    assert checked["message"] == "document check - (version 1): ignored" and checked["handler"] == "document_checker"
    assert "not-a-document" not in lines.text  # an unknown key may hold a person's id: not logged

    lines.clear()
    app.handler_map["notify_worker"]({"Records": [{"messageId": "m-1", "body": "{not json"}]}, context)
    [failed] = lines.where(level="ERROR")
    assert failed["handler"] == "notify_worker" and failed["function_request_id"] == context.aws_request_id
    lines.clear()
    observability.logger.info("between invocations")
    assert set(lines.all()[0]) & {"handler", "function_name", "request_id", "user"} == set()  # nothing stays


def test_every_event_handler_is_a_logging_scope_named_as_registered():
    names = [s.name for s in app.event_sources] + [f.name for f in app.pure_lambda_functions]
    assert len(names) >= 6
    for name in names:
        if name == "agency_simulator":  # the local-only demo officer (infra/demo_officer.py)
            continue
        fn = app.handler_map[name].func  # chalice's EventSourceHandler; a lambda_function sits in an adapter
        fn = getattr(fn, "_original_func", fn)
        assert getattr(fn, "handler_name", None) == name, name


def test_the_user_hash_is_stable_per_person_and_differs_between_people(monkeypatch):
    one, other = "01ARZ3NDEKTSV4RRFFQ69G5FAV", "01ARZ3NDEKTSV4RRFFQ69G5FAW"
    assert observability.user_hash(one) == observability.user_hash(one)
    assert observability.user_hash(one) != observability.user_hash(other)
    assert len(observability.user_hash(one)) == 16 and one not in observability.user_hash(one)
    plain = observability.user_hash(one)
    monkeypatch.setenv("KABINET_LOG_USER_KEY", "another key")  # keyed: a hash of the bare id is not it
    assert observability.user_hash(one) != plain


def test_two_people_get_two_hashes_in_the_log(api, lines):
    first = api.register(phone=PHONE)
    second = api.register(phone="+79167654321", last_name="Смирнова", first_name="Ольга")
    lines.clear()
    for tokens in (first, second, first):
        assert api.get("/me", token=tokens["access_token"]).status_code == 200
    users = [line["user"] for line in lines.where(route="/me")]
    assert users[0] == users[2] != users[1]


def _emf(out: str) -> list[dict[str, Any]]:
    return [json.loads(line) for line in out.splitlines() if line.startswith("{") and '"_aws"' in line]


def _total(lines: list[dict[str, Any]], metric: str) -> float:
    return sum(sum(line.get(metric, [])) for line in lines)


def test_business_metrics_are_one_emf_line_per_request_in_lambda_only(api, capsys, monkeypatch, recwarn):
    api.register(phone=PHONE)
    capsys.readouterr()

    api.login(PHONE)
    assert _emf(capsys.readouterr().out) == []  # outside Lambda: counted, then dropped

    monkeypatch.setenv("AWS_LAMBDA_FUNCTION_NAME", "kabinet-prod")
    api.login(PHONE)
    [line] = _emf(capsys.readouterr().out)
    assert line["SignInSucceeded"] == [1.0] and line["service"] == "kabinet" and line["stage"] == "local"
    [directive] = line["_aws"]["CloudWatchMetrics"]
    assert directive["Namespace"] == "Kabinet" and directive["Metrics"] == [
        {"Name": "SignInSucceeded", "Unit": "Count"}]
    assert sorted(directive["Dimensions"][0]) == ["service", "stage"]

    assert api.post("/auth/login", {"login": PHONE, "password": "Wrong#Pass1"}).status_code == 401
    [line] = _emf(capsys.readouterr().out)
    assert line["SignInFailed"] == [1.0] and "SignInSucceeded" not in line  # nothing carried over

    assert api.get("/services").status_code == 200
    assert _emf(capsys.readouterr().out) == []  # counted nothing: no line
    assert not [w for w in recwarn if "metrics" in str(w.message)]  # nor powertools' warning about it


def test_notifications_and_documents_are_counted_by_their_workers(api, capsys, monkeypatch):
    from tests.files import pdf

    monkeypatch.setenv("AWS_LAMBDA_FUNCTION_NAME", "kabinet-prod-worker")
    user = api.register(phone=PHONE)
    emitted = _emf(capsys.readouterr().out)
    assert _total(emitted, "NotificationSent") == 1  # the registration code's SMS

    api.upload(user["access_token"], pdf())
    api.upload(user["access_token"], b"MZ\x90\x00 not a pdf at all", filename="virus.pdf")
    emitted = _emf(capsys.readouterr().out)
    assert _total(emitted, "DocumentChecked") == 2 and _total(emitted, "DocumentRejected") == 1
