"""End to end on the local cloud (`python -m infra.local`), over HTTP: issue 11's journey (ID-3, ID-6, ID-7).

A new person registers (SMS code from /dev/outbox), submits personal data that matches no failing simulator
pattern, and becomes standard once MVD, SFR and FNS answered through the event pump; certificates stay closed at
standard (the sources put them at confirmed: docs/catalog.md); the partner-bank simulator confirms the person (OAuth2
redirect, signed assertion), the tier is confirmed, and an automatic certificate (tax_debt) is approved with a
signed PDF.

And an unavailable registry (MVD, passport number ending 0003: unavailable on the first two asks): the identity
page says so, the person is told once, and the check resumes by itself — the outbox sweeper (every 5 minutes in
the pump; run at once here through POST /dev/schedules/outbox_sweeper) asks again when the backoff is over. The
backoff is 300 s, then 900 s, and the local cloud has no clock override over HTTP, so the test moves the stored
retry time of the check into the past in the local DynamoDB instead of waiting 20 minutes. The same resumption
on a fake clock, in-process: tests/test_identity.py::test_an_unavailable_registry_is_retried_with_backoff_and_the_
check_resumes.
"""

from __future__ import annotations

import io
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import parse_qs, urlencode, urlparse

import pytest
import requests

from tests.e2e_people import (
    TABLE,
    identity,
    ok,
    person_data,
    post,
    put,
    register,
    shared_cloud,
    statuses,
    table_client,
    until,
    wait_standard,
)
from tests.test_e2e_documents import _fetch
from tests.test_e2e_local import HTTP_TIMEOUT, _Cloud, _get, _http, _outbox

pytestmark = pytest.mark.xdist_group("e2e_identity")  # one worker starts the module's cloud

BANK_PASSWORD = "bank-demo"  # infra/bank_simulator.py DEMO_BANK_PASSWORD (docs/confirmation.md)


@pytest.fixture(scope="module")
def local() -> Iterator[_Cloud]:
    with shared_cloud() as cloud:
        yield cloud


def _moment(text: str) -> datetime:
    return datetime.strptime(text, "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=UTC)


def _bank_confirm(http: requests.Session, cloud: _Cloud, token: str, login: str) -> requests.Response:
    """The partner-bank channel as a browser walks it: our redirect to the bank's page, the bank's sign-in form,
    the bank's 303 back to our redirect URI (the web page /identity/bank/callback) with code and state, then the
    client finishes with them over the API."""
    start = ok(post(http, cloud, "/me/identity/bank", {"bank": "severny"}, token), 201)
    assert start["expires_in"] == 600, start
    authorize = urlparse(start["authorize_url"])
    assert f"{authorize.scheme}://{authorize.netloc}" == cloud.base, start  # locally the bank lives in the API
    assert authorize.path == "/dev/bank/severny/authorize", start
    query = {k: v[0] for k, v in parse_qs(authorize.query).items()}
    assert query["state"] == start["state"] and query["code_challenge_method"] == "S256", query
    page = http.get(start["authorize_url"], timeout=HTTP_TIMEOUT)
    assert page.status_code == 200 and "Северный" in page.text and 'name="login"' in page.text, page.text
    form = {**query, "login": login, "password": BANK_PASSWORD, "action": "allow"}
    signed_in = http.post(f"{cloud.base}{authorize.path}", data=urlencode(form),
                          headers={"Content-Type": "application/x-www-form-urlencoded"}, allow_redirects=False,
                          timeout=HTTP_TIMEOUT)
    assert signed_in.status_code == 303, (signed_in.status_code, signed_in.text)
    back = urlparse(signed_in.headers["Location"])
    assert back.path == "/identity/bank/callback", signed_in.headers
    returned = {k: v[0] for k, v in parse_qs(back.query).items()}
    assert returned["state"] == start["state"] and returned["code"], returned
    # The landing is the web client's page: without its session cookie it asks to sign in and comes back there
    # (a script holding a bearer token finishes over the API instead, as here).
    landing = http.get(signed_in.headers["Location"], allow_redirects=False, timeout=HTTP_TIMEOUT)
    assert landing.status_code == 303 and landing.headers["Location"].startswith("/login?next="), landing.headers
    return post(http, cloud, "/me/identity/bank/finish", {"code": returned["code"], "state": returned["state"]},
                 token)


def test_register_standard_bank_confirmed_then_a_certificate(local: _Cloud) -> None:
    from pypdf import PdfReader

    cloud, http = local, _http()
    phone = "+79165550101"
    tokens = register(http, cloud, phone)
    token = tokens["access_token"]
    assert tokens["tier"] == "simplified", tokens
    before = identity(http, cloud, token)
    assert before["tier"] == "simplified" and before["data"] is None and before["checks"] == [], before
    assert before["next_tier"]["tier"] == "standard", before

    # A certificate is closed to the simplified account.
    closed = post(http, cloud, "/requests", {"type": "certificate", "params": {
        "kind": "tax_debt", "last_name": "Кузнецов", "first_name": "Алексей", "as_of": "2026-11-01",
        "variant": "balance"}}, token)
    assert closed.status_code == 403 and closed.json()["error"]["code"] == "TIER_REQUIRED", closed.text

    # Personal data: 202 "checking", every registry pending; then the pump brings the three answers.
    body = person_data("4601", "123456", "123456777")  # no pattern: MVD 3456, SFR 777, FNS found from the passport
    started = ok(put(http, cloud, "/me/personal-data", body, token), 202)
    assert started["status"] == "checking", started
    assert statuses(started) == {"mvd": "pending", "sfr": "pending", "fns": "pending"}, started
    view = wait_standard(http, cloud, token)
    assert statuses(view) == {"mvd": "passed", "sfr": "passed", "fns": "passed"}, view
    assert view["pending"] is None and view["next_tier"]["tier"] == "confirmed", view
    data = view["data"]
    assert (data["last_name"], data["snils"], data["passport"]["number"]) == ("Кузнецов", body["snils"], "123456")
    found_inn = data["inn"]
    assert found_inn.startswith("7746011234") and len(found_inn) == 12, data  # "77" + series + 4 digits + check
    assert any(c["channel"] == "bank" and c["available"] for c in view["channels"]), view["channels"]
    _outbox(http, cloud, phone, lambda ms: any("стандартная" in m["text"] for m in ms))

    # Certificates need the confirmed tier (docs/catalog.md, "Tiers per service"): standard is still refused.
    still = post(http, cloud, "/requests", {"type": "certificate", "params": {
        "kind": "tax_debt", "last_name": "Кузнецов", "first_name": "Алексей", "as_of": "2026-11-01",
        "variant": "balance"}}, token)
    assert still.status_code == 403 and still.json()["error"]["current"] == "standard", still.text

    # Partner bank: the simulator signs the person in by SNILS and returns a signed assertion that matches.
    finished = _bank_confirm(http, cloud, token, body["snils"])
    assert finished.status_code == 200, finished.text
    confirmed = identity(http, cloud, token)
    assert confirmed["tier"] == "confirmed" and confirmed["next_tier"] is None, confirmed
    refreshed = ok(post(http, cloud, "/auth/token/refresh", {"refresh_token": tokens["refresh_token"]}))
    assert refreshed["tier"] == "confirmed", refreshed
    token = refreshed["access_token"]

    # An automatic certificate, filled from the checked profile: approved and signed.
    prefill = ok(_get(http, cloud, "/services/tax-debt/prefill", token))["values"]
    assert prefill["inn"] == found_inn and prefill["last_name"] == "Кузнецов", prefill
    submitted = ok(post(http, cloud, "/requests", {"type": "certificate", "params": {
        "kind": "tax_debt", **prefill, "as_of": "2026-11-01", "variant": "balance"}}, token), 201)
    seen: list[Any] = []

    def decided() -> dict[str, Any] | None:
        seen[:] = [ok(_get(http, cloud, f"/requests/{submitted['id']}", token))]
        return seen[0] if seen[0]["status"] == "approved" else None

    done = until("the automatic certificate approved", cloud, decided, last=lambda: seen)
    steps = [line.get("to") for line in done["journal"] if line["kind"] == "status"]
    assert steps == ["submitted", "approved"], done["journal"]
    pdf = _fetch(http, cloud, token, done["result"]["document_id"])
    assert pdf.startswith(b"%PDF-"), pdf[:20]
    reader = PdfReader(io.BytesIO(pdf))
    text = "".join(page.extract_text() for page in reader.pages)
    assert "Кузнецов Алексей Петрович" in text and found_inn in text, text
    assert "12.04.1985" in text and "1985-04-12" not in text, text  # ID-3: dates as DD.MM.YYYY
    signatures = [f for f in (reader.get_fields() or {}).values() if f.get("/FT") == "/Sig"]
    assert signatures and all(f.get("/V") for f in signatures), reader.get_fields()  # a signed signature field
    verdict = ok(http.post(f"{cloud.base}/verify", data=pdf, headers={"Content-Type": "application/pdf"},
                           timeout=HTTP_TIMEOUT))
    assert verdict["valid"] is True, verdict
    assert ok(http.get(f"{cloud.base}/verify/{done['result']['document_id']}", timeout=HTTP_TIMEOUT))["valid"]

    consents = ok(_get(http, cloud, "/me/consents", token))["items"]
    kinds = {c["kind"] for c in consents}
    assert {"registration", "registry_check", "application", "bank_confirmation"} <= kinds, consents
    twice = post(http, cloud, "/me/identity/bank", {"bank": "severny"}, token)
    assert twice.status_code == 409 and twice.json()["error"]["code"] == "ALREADY_CONFIRMED", twice.text


def test_bank_mismatch_is_reported_per_field_and_the_tier_stays(local: _Cloud) -> None:
    cloud, http = local, _http()
    tokens = register(http, cloud, "+79165550103")
    body = person_data("4603", "123456", "323456777")
    ok(put(http, cloud, "/me/personal-data", body, tokens["access_token"]), 202)
    wait_standard(http, cloud, tokens["access_token"])
    refused = _bank_confirm(http, cloud, tokens["access_token"], body["snils"] + "+birth")
    assert refused.status_code == 422, refused.text
    error = refused.json()["error"]
    assert error["code"] == "BANK_DATA_MISMATCH" and set(error["fields"]) == {"birth_date"}, error
    assert "не совпадает с данными банка" in error["fields"]["birth_date"], error
    assert identity(http, cloud, tokens["access_token"])["tier"] == "standard"


def _rewind_retry(cloud: _Cloud, user_id: str, registry: str) -> str:
    """Stand-in for the backoff passing: the check's next try (and its place in the IDRETRY index) is moved
    a second into the past in the local DynamoDB. Returns the time it was set to."""
    past = (datetime.now(UTC) - timedelta(seconds=1)).strftime("%Y-%m-%dT%H:%M:%SZ")
    table_client(cloud).update_item(
        TableName=TABLE, Key={"pk": {"S": f"USER#{user_id}"}, "sk": {"S": "PROFILE#CHECK"}},
        UpdateExpression="SET #checks.#r.retry_at = :at, gsi1sk = :sort",
        ConditionExpression="#checks.#r.#status = :unavailable AND gsi1pk = :retry",
        ExpressionAttributeNames={"#checks": "checks", "#r": registry, "#status": "status"},
        ExpressionAttributeValues={":at": {"S": past}, ":sort": {"S": f"{past}#{user_id}"},
                                   ":unavailable": {"S": "unavailable"}, ":retry": {"S": "IDRETRY"}})
    return past


def _sweep(http: requests.Session, cloud: _Cloud) -> dict[str, Any]:
    resp = http.post(f"{cloud.base}/dev/schedules/outbox_sweeper", timeout=HTTP_TIMEOUT)
    return ok(resp)["result"]


def test_an_unavailable_registry_is_shown_and_the_check_resumes_by_itself(local: _Cloud) -> None:
    cloud, http = local, _http()
    phone = "+79165550102"
    tokens = register(http, cloud, phone)
    token, user_id = tokens["access_token"], tokens["user_id"]
    body = person_data("4602", "120003", "223456777")  # MVD 0003: unavailable on the first two asks
    ok(put(http, cloud, "/me/personal-data", body, token), 202)
    seen: list[Any] = []

    def settled_but_mvd() -> dict[str, Any] | None:
        seen[:] = [identity(http, cloud, token)]
        return seen[0] if statuses(seen[0]) == {"mvd": "unavailable", "sfr": "passed", "fns": "passed"} else None

    view = until("MVD unavailable, SFR and FNS passed", cloud, settled_but_mvd, last=lambda: seen)
    asked_at = datetime.now(UTC)
    mvd = next(c for c in view["checks"] if c["registry"] == "mvd")
    assert "временно недоступен" in mvd["reason"] and "автоматически" in mvd["reason"], mvd
    first_retry = _moment(mvd["retry_at"])
    assert asked_at + timedelta(seconds=240) <= first_retry <= asked_at + timedelta(seconds=310), mvd  # 300 s
    assert view["tier"] == "simplified" and view["pending"]["data"]["passport"]["number"] == "120003", view
    _outbox(http, cloud, phone, lambda ms: sum("задерживается" in m["text"] for m in ms) == 1)

    # Before the backoff is over the sweeper asks nothing.
    assert _sweep(http, cloud)["registry_checks_resumed"] == 0
    assert statuses(identity(http, cloud, token))["mvd"] == "unavailable"

    # The first 300 s "pass": the sweeper asks MVD again; still down (second ask), next try after 900 s.
    rewound = _rewind_retry(cloud, user_id, "mvd")
    assert _sweep(http, cloud)["registry_checks_resumed"] == 1

    def asked_again() -> dict[str, Any] | None:
        seen[:] = [identity(http, cloud, token)]
        state = next(c for c in seen[0]["checks"] if c["registry"] == "mvd")
        return state if state["status"] == "unavailable" and state["retry_at"] not in (None, rewound) else None

    second = until("MVD asked a second time", cloud, asked_again, last=lambda: seen)
    second_asked = datetime.now(UTC)
    second_retry = _moment(second["retry_at"])
    assert second_asked + timedelta(seconds=840) <= second_retry <= second_asked + timedelta(seconds=910), second

    # The next 900 s "pass": the third ask answers, every check passed, standard tier, told only once of the delay.
    _rewind_retry(cloud, user_id, "mvd")
    assert _sweep(http, cloud)["registry_checks_resumed"] == 1
    done = wait_standard(http, cloud, token)
    assert statuses(done) == {"mvd": "passed", "sfr": "passed", "fns": "passed"}, done
    assert done["pending"] is None and done["data"]["passport"]["number"] == "120003", done
    messages = _outbox(http, cloud, phone, lambda ms: any("стандартная" in m["text"] for m in ms))
    assert sum("задерживается" in m["text"] for m in messages) == 1, messages
    assert _sweep(http, cloud)["registry_checks_resumed"] == 0  # nothing left in the retry index


def test_mismatches_are_reported_per_field_and_corrected_data_passes(local: _Cloud) -> None:
    """Fails today: the corrected submission is refused with 409 CONFLICT (product bug, see
    tests/test_identity_resubmit.py)."""
    cloud, http = local, _http()
    phone = "+79165550104"
    token = register(http, cloud, phone)["access_token"]
    wrong = person_data("4604", "120002", "423456001")  # MVD 0002: birth date; SFR 001: last name
    ok(put(http, cloud, "/me/personal-data", wrong, token), 202)
    seen: list[Any] = []

    def answered() -> dict[str, Any] | None:
        seen[:] = [identity(http, cloud, token)]
        return seen[0] if "pending" not in statuses(seen[0]).values() else None

    view = until("every registry answered", cloud, answered, last=lambda: seen)
    by = {c["registry"]: c for c in view["checks"]}
    assert (by["mvd"]["status"], by["mvd"]["fields"]) == (
        "failed", {"birth_date": "дата рождения не совпадает с данными МВД"}), by
    assert (by["sfr"]["status"], by["sfr"]["fields"]) == (
        "failed", {"last_name": "фамилия не совпадает с данными СФР"}), by
    assert by["fns"]["status"] == "passed", by
    assert view["tier"] == "simplified" and view["data"] is None, view
    assert view["pending"]["data"]["snils"] == wrong["snils"], view  # kept for correcting
    _outbox(http, cloud, phone, lambda ms: any("не прошли проверку" in m["text"] for m in ms))

    # Corrected: another SNILS and another passport number; nothing was checked yet, so no passport upload.
    fixed = person_data("4604", "123456", "423456777")
    ok(put(http, cloud, "/me/personal-data", fixed, token), 202)
    done = wait_standard(http, cloud, token)
    assert statuses(done) == {"mvd": "passed", "sfr": "passed", "fns": "passed"}, done
    assert done["data"]["snils"] == fixed["snils"] and done["data"]["passport"]["number"] == "123456", done


def test_a_slow_registry_still_answers_and_the_checks_pass(local: _Cloud) -> None:
    cloud, http = local, _http()
    token = register(http, cloud, "+79165550105")["access_token"]
    body = person_data("4605", "120004", "523456005")  # MVD 0004 and SFR 005: ten times the simulator's delay
    ok(put(http, cloud, "/me/personal-data", body, token), 202)
    done = wait_standard(http, cloud, token)
    assert statuses(done) == {"mvd": "passed", "sfr": "passed", "fns": "passed"}, done
    assert done["data"]["passport"]["number"] == "120004", done
