"""End to end on the local cloud (`python -m infra.local`), over HTTP: blocking and unblocking (AU-12,
docs/blocking.md).

A person who reached the standard tier through the registry checks sets security questions, presses "not me" and
blocks the account: every session ends, sign-in with the right password is refused as blocked (with an unblock
token; a wrong password stays a plain 401). Unblocking on the automatic path: the passport copy goes straight to
S3 (presigned POST), the upload checker runs through the pump, the answers and the passport number decide at once;
sign-in works again (first asking for the new password "not me" demanded). A person whose answers do not match
is queued for the МФЦ operator (seeded +79992000000), who sees why and decides.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any

import pytest
import requests

from tests import files
from tests.e2e_people import CHECK_SECONDS, make_standard, ok, post, put, shared_cloud
from tests.test_e2e_documents import DEMO_PASSWORD
from tests.test_e2e_local import HTTP_TIMEOUT, PASSWORD, _Cloud, _error, _get, _http, _outbox

pytestmark = pytest.mark.xdist_group("e2e_blocking")  # one worker starts the module's cloud

OPERATOR = "+79992000000"  # infra/seed.py operator_phone(0)
NEW_PASSWORD = "Luna#Sad73?"
ANSWERS = {"mother_maiden_name": "Ёлкина", "childhood_city": "Нижний Новгород", "first_pet": "Барсик"}
TYPED = {"mother_maiden_name": "  елкина ", "childhood_city": "нижний  новгород", "first_pet": "БАРСИК"}


@pytest.fixture(scope="module")
def local() -> Iterator[_Cloud]:
    with shared_cloud() as cloud:
        yield cloud


def _blocked_by_owner(http: requests.Session, cloud: _Cloud, phone: str, series: str, snils9: str
                      ) -> dict[str, Any]:
    """A standard-tier person with security questions who marks their last sign-in "not me" and blocks."""
    make_standard(http, cloud, phone, series, snils9)
    tokens = ok(post(http, cloud, "/auth/login", {"login": phone, "password": PASSWORD}))
    access = tokens["access_token"]
    set_ = ok(put(http, cloud, "/me/security-questions", {"answers": ANSWERS}, access))
    assert {q["id"] for q in set_["set"]} == set(ANSWERS) and "Барсик" not in str(set_), set_
    event = ok(_get(http, cloud, "/me/login-history", access))["items"][0]
    assert event["result"] == "success", event
    blocked = ok(post(http, cloud, f"/me/login-history/{event['id']}/not-me/block", {}, access))
    assert blocked["blocked"] is True and blocked["sessions_ended"] >= 1, blocked
    # Every session ended; the refresh token is dead.
    assert post(http, cloud, "/auth/token/refresh", {"refresh_token": tokens["refresh_token"]}).status_code in (
        401, 403)
    _outbox(http, cloud, phone, lambda ms: any("заблокирована" in m["text"] for m in ms))
    return tokens


def _unblock_token(http: requests.Session, cloud: _Cloud, phone: str, password: str = PASSWORD) -> str:
    wrong = _error(post(http, cloud, "/auth/login", {"login": phone, "password": "Wrong#Pass123"}), 401,
                   "INVALID_CREDENTIALS")
    assert "unblock_token" not in wrong, wrong  # the block is told only to whoever knows the password
    refused = _error(post(http, cloud, "/auth/login", {"login": phone, "password": password}), 403,
                     "ACCOUNT_BLOCKED")
    assert refused["unblock_token"] and "паспорт" in refused["message"], refused
    return refused["unblock_token"]


def _case_with_passport_copy(http: requests.Session, cloud: _Cloud, token: str) -> dict[str, Any]:
    case = ok(post(http, cloud, "/auth/unblock", {"unblock_token": token}))
    assert case["status"] == "collecting" and {q["id"] for q in case["questions"]} == set(ANSWERS), case
    data = files.pdf("Pasport")
    start = ok(post(http, cloud, "/auth/unblock/passport", {"unblock_token": token, "filename": "passport.pdf",
                                                              "content_type": "application/pdf",
                                                              "size": len(data)}), 201)
    form = start["upload"]
    assert form["url"].startswith(f"http://127.0.0.1:{cloud.moto_port}/"), form  # straight to S3
    posted = http.post(form["url"], data=form["fields"], files={"file": ("passport.pdf", data, "application/pdf")},
                       timeout=HTTP_TIMEOUT)
    assert posted.status_code in (200, 201, 204), posted.text
    return case


def _answer(http: requests.Session, cloud: _Cloud, token: str, passport_number: str, answers: dict[str, str]
            ) -> dict[str, Any]:
    """The last piece. While the upload checker has not yet seen the copy: 409 DOCUMENT_CHECKING, retry."""
    body = {"unblock_token": token, "passport_number": passport_number, "answers": answers}
    deadline = time.monotonic() + CHECK_SECONDS
    while True:
        resp = post(http, cloud, "/auth/unblock/answers", body)
        if resp.status_code != 409 or resp.json()["error"]["code"] != "DOCUMENT_CHECKING":
            return ok(resp)
        assert time.monotonic() < deadline, f"passport copy still being checked\n{cloud.console()}"
        time.sleep(0.2)


def _sign_in_after_not_me(http: requests.Session, cloud: _Cloud, phone: str, new_password: str) -> dict[str, Any]:
    """"Not me" asked for a new password and the unblock keeps that: the sign-in asks for it, then works."""
    first = ok(post(http, cloud, "/auth/login", {"login": phone, "password": PASSWORD}))
    assert first.get("password_expired") is True and first["reason"] == "not_me", first
    ok(post(http, cloud, "/auth/password/expired", {"change_token": first["change_token"],
                                                     "new_password": new_password,
                                                     "new_password_repeat": new_password}))
    tokens = ok(post(http, cloud, "/auth/login", {"login": phone, "password": new_password}))
    assert tokens["access_token"], tokens
    me = ok(_get(http, cloud, "/me", tokens["access_token"]))
    assert me["user_id"] == tokens["user_id"], me
    return tokens


def test_not_me_block_then_automatic_unblock_and_sign_in_again(local: _Cloud) -> None:
    cloud, http = local, _http()
    phone = "+79165550201"
    before = _blocked_by_owner(http, cloud, phone, "4611", "423456777")
    token = _unblock_token(http, cloud, phone)
    case = _case_with_passport_copy(http, cloud, token)
    again = ok(post(http, cloud, "/auth/unblock", {"unblock_token": token}))
    assert again["case_id"] == case["case_id"], again  # the open case, not a second one

    # Right answers (typed differently: case, ё/е, spaces) and the checked passport's series+number: unblocked.
    decided = _answer(http, cloud, token, "4611123456", TYPED)
    assert decided["status"] == "approved" and decided["case_id"] == case["case_id"], decided
    _outbox(http, cloud, phone, lambda ms: any("разблокирована" in m["text"] for m in ms))
    stale = post(http, cloud, "/auth/unblock/status", {"unblock_token": token})
    _error(stale, 401, "UNBLOCK_TOKEN_INVALID")  # bound to the block that is gone

    tokens = _sign_in_after_not_me(http, cloud, phone, NEW_PASSWORD)
    assert tokens["user_id"] == before["user_id"], tokens
    history = ok(_get(http, cloud, "/me/login-history", tokens["access_token"]))["items"]
    assert "blocked" in [e["result"] for e in history], history
    assert ok(_get(http, cloud, "/me/identity", tokens["access_token"]))["tier"] == "standard"


def test_answers_that_do_not_match_go_to_the_operator_queue(local: _Cloud) -> None:
    cloud, http = local, _http()
    phone = "+79165550202"
    before = _blocked_by_owner(http, cloud, phone, "4612", "523456777")
    token = _unblock_token(http, cloud, phone)
    case = _case_with_passport_copy(http, cloud, token)
    queued = _answer(http, cloud, token, "4612123456", {**TYPED, "first_pet": "Мурзик"})
    assert queued["status"] == "queued" and queued["operator_days"] == 3, queued
    assert "answers_mismatch" not in str(queued) and "Мурзик" not in str(queued), queued  # not told what failed
    _error(post(http, cloud, "/auth/login", {"login": phone, "password": PASSWORD}), 403, "ACCOUNT_BLOCKED")
    more = post(http, cloud, "/auth/unblock/answers", {"unblock_token": token, "passport_number": "4612123456",
                                                        "answers": TYPED})
    _error(more, 409, "UNBLOCK_CASE_QUEUED")  # no second comparison of a queued case

    operator = ok(post(http, cloud, "/auth/login", {"login": OPERATOR, "password": DEMO_PASSWORD}))["access_token"]
    queue = ok(_get(http, cloud, "/operator/unblock-cases", operator))["items"]
    mine = [c for c in queue if c["case_id"] == case["case_id"]]
    assert len(mine) == 1, queue
    entry = mine[0]
    assert (entry["user_id"], entry["reason"], entry["blocked_by"]) == (before["user_id"], "answers_mismatch",
                                                                        "owner"), entry
    assert entry["checks"] == {"document": True, "answers": False, "passport": True}, entry
    assert entry["document_id"] and entry["full_name"].startswith("Кузнецов Алексей"), entry
    # The citizen cannot see the queue.
    assert _get(http, cloud, "/operator/unblock-cases", before["access_token"]).status_code in (401, 403)

    path = f"/operator/unblock-cases/{case['case_id']}/decision"
    approved = ok(post(http, cloud, path, {"decision": "approve", "reason": "Личность подтверждена в МФЦ"},
                        operator))
    assert approved["status"] == "approved", approved
    _error(post(http, cloud, path, {"decision": "reject", "reason": "x"}, operator), 409, "UNBLOCK_CASE_DECIDED")
    left = ok(_get(http, cloud, "/operator/unblock-cases", operator))["items"]
    assert case["case_id"] not in [c["case_id"] for c in left], left
    _sign_in_after_not_me(http, cloud, phone, NEW_PASSWORD)


def test_operator_block_a_wrong_passport_number_is_rejected_then_a_new_case_unblocks(local: _Cloud) -> None:
    cloud, http = local, _http()
    phone = "+79165550203"
    make_standard(http, cloud, phone, "4613", "623456777")
    tokens = ok(post(http, cloud, "/auth/login", {"login": phone, "password": PASSWORD}))
    ok(put(http, cloud, "/me/security-questions", {"answers": ANSWERS}, tokens["access_token"]))
    operator = ok(post(http, cloud, "/auth/login", {"login": OPERATOR, "password": DEMO_PASSWORD}))["access_token"]
    path = f"/operator/accounts/{tokens['user_id']}/block"
    blocked = ok(post(http, cloud, path, {"reason": "Вход из необычной страны"}, operator))
    assert blocked["blocked"] is True and blocked["sessions_ended"] >= 1, blocked
    _error(post(http, cloud, path, {"reason": "x"}, operator), 409, "ALREADY_BLOCKED")
    assert post(http, cloud, "/auth/token/refresh", {"refresh_token": tokens["refresh_token"]}).status_code in (
        401, 403)

    token = _unblock_token(http, cloud, phone)
    case = _case_with_passport_copy(http, cloud, token)
    queued = _answer(http, cloud, token, "4613654321", TYPED)  # right answers, not the checked passport
    assert queued["status"] == "queued", queued
    entry = next(c for c in ok(_get(http, cloud, "/operator/unblock-cases", operator))["items"]
                 if c["case_id"] == case["case_id"])
    assert (entry["reason"], entry["blocked_by"], entry["block_reason"]) == (
        "passport_mismatch", "operator", "Вход из необычной страны"), entry
    rejected = ok(post(http, cloud, f"/operator/unblock-cases/{case['case_id']}/decision",
                        {"decision": "reject", "reason": "Номер паспорта не совпал"}, operator))
    assert rejected["status"] == "rejected", rejected
    assert ok(post(http, cloud, "/auth/unblock/status", {"unblock_token": token}))["status"] == "rejected"

    # Still blocked; a new case with the right number unblocks on the automatic path (a try of three is left).
    token = _unblock_token(http, cloud, phone)
    second = _case_with_passport_copy(http, cloud, token)
    assert second["case_id"] != case["case_id"], second
    assert _answer(http, cloud, token, "4613123456", TYPED)["status"] == "approved"
    signed_in = ok(post(http, cloud, "/auth/login", {"login": phone, "password": PASSWORD}))
    assert signed_in["access_token"] and not signed_in.get("password_expired"), signed_in  # no "not me" here
