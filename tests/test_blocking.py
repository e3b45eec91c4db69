"""Security questions, blocking and unblocking (AU-12): refusals only after the password, the automatic path,
the operators' queue, limited tries, one decision per case, and nobody reaching another person's case."""

from __future__ import annotations

import contextlib
import threading

import pytest
import requests

from chalicelib.core.errors import Conflict
from chalicelib.core.origin import Origin
from chalicelib.events import catalog as events
from chalicelib.identity import blocking, questions
from chalicelib.identity.accounts import add_account
from chalicelib.store import journal, keys, table
from chalicelib.store.table import Tx
from infra.seed import add_operator
from tests import files
from tests.conftest import PASSWORD

PHONE = "+79161112233"
OTHER = "+79164445566"
OPERATOR = "+79992000001"
PASSPORT = {"series": "4510", "number": "123456", "issued_at": "2015-05-20", "issued_by": "ОУФМС",
            "division_code": "770-001"}
ANSWERS = {"mother_maiden_name": "Ёлкина", "childhood_city": "Нижний  Новгород", "first_pet": "Барсик"}
# The same answers as a person might type them again: case, ё/е, spaces around and between words.
TYPED = {"mother_maiden_name": "  елкина ", "childhood_city": "нижний новгород", "first_pet": "БАРСИК"}
ORIGIN = Origin(ip="127.0.0.1", user_agent="test")


def standard(phone: str = PHONE, tier: str = "standard", passport: dict | None = PASSPORT) -> str:
    """A person at `tier` with a checked passport, made the way infra/seed.py makes demo people."""
    tx = Tx()
    extra = {"passport": passport} if passport else {}
    user = add_account(tx, last_name="Кузнецов", first_name="Алексей", middle_name=None, logins={"phone": phone},
                       password=PASSWORD, tier=tier, **extra)
    tx.commit()
    return user["user_id"]


def operator(api) -> dict:
    assert add_operator(last_name="Кузнецова", first_name="Татьяна", office="МФЦ", phone=OPERATOR, password=PASSWORD)
    return api.login(OPERATOR)


def with_questions(api, phone: str = PHONE, answers: dict | None = None) -> tuple[str, dict]:
    user_id = standard(phone)
    tokens = api.login(phone)
    resp = api.call("PUT", "/me/security-questions", {"answers": answers or ANSWERS}, token=tokens["access_token"])
    assert resp.status_code == 200, resp.json
    return user_id, tokens


def block(api, op: dict, user_id: str, reason: str = "Вход из необычной страны") -> None:
    resp = api.post(f"/operator/accounts/{user_id}/block", {"reason": reason}, token=op["access_token"])
    assert resp.status_code == 200, resp.json


def unblock_token(api, phone: str = PHONE) -> str:
    resp = api.post("/auth/login", {"login": phone, "password": PASSWORD})
    assert resp.status_code == 403 and resp.json["error"]["code"] == "ACCOUNT_BLOCKED", resp.json
    return resp.json["error"]["unblock_token"]


def upload_passport(api, token: str) -> str:
    body = {"unblock_token": token, "filename": "passport.pdf", "content_type": "application/pdf"}
    data = files.pdf("Pasport")
    resp = api.post("/auth/unblock/passport", {**body, "size": len(data)})
    assert resp.status_code == 201, resp.json
    form = resp.json["upload"]
    posted = requests.post(form["url"], data=form["fields"], files={"file": ("passport.pdf", data,
                                                                             "application/pdf")}, timeout=10)
    assert posted.status_code in (200, 201, 204), posted.text
    api.pump.drain()
    return resp.json["document_id"]


def ready_case(api, phone: str = PHONE) -> tuple[str, dict]:
    token = unblock_token(api, phone)
    case = api.post("/auth/unblock", {"unblock_token": token})
    assert case.status_code == 200 and case.json["status"] == "collecting", case.json
    assert {q["id"] for q in case.json["questions"]} == set(ANSWERS)
    upload_passport(api, token)
    return token, case.json


def audit_actions(user_id: str) -> list[str]:
    return [i["action"] for i in table.query(keys.user_pk(user_id), "AUDIT#", limit=200).items]


# -- security questions -----------------------------------------------------------------------------------

def test_questions_are_set_at_standard_tier_and_never_shown(api):
    user_id, tokens = with_questions(api)
    shown = api.get("/me/security-questions", token=tokens["access_token"])
    assert shown.status_code == 200
    assert {q["id"] for q in shown.json["set"]} == set(ANSWERS) and shown.json["can_set"] is True
    assert "Ёлкина" not in shown.body.decode() and "Барсик" not in shown.body.decode()
    stored = table.get(keys.user(user_id))["security_questions"]
    assert all(q["hash"].startswith("$argon2id$") and "Барсик" not in q["hash"] for q in stored)
    assert "security.questions_set" in audit_actions(user_id)
    assert any("онтрольные вопросы" in m["text"] for m in api.outbox(PHONE))

    standard(OTHER, tier="simplified")
    low = api.login(OTHER)
    refused = api.call("PUT", "/me/security-questions", {"answers": ANSWERS}, token=low["access_token"])
    assert refused.status_code == 403 and refused.json["error"]["code"] == "TIER_REQUIRED"
    assert api.get("/me/security-questions", token=low["access_token"]).json["set"] == []  # not the first's


def test_normalized_answers_match_and_others_do_not():
    stored = {"security_questions": [{"id": q, "hash": questions.hash_password(questions.normalize(a))}
                                     for q, a in ANSWERS.items()]}
    assert questions.all_right(stored, TYPED)
    assert not questions.all_right(stored, {**TYPED, "first_pet": "Мурзик"})
    assert not questions.all_right(stored, {k: v for k, v in TYPED.items() if k != "first_pet"})


@pytest.mark.parametrize("answers", [
    {"mother_maiden_name": "a", "first_pet": "b"},  # two, not three
    {"mother_maiden_name": "a", "first_pet": "b", "nickname": "c"},  # not from the list
    {"mother_maiden_name": "a", "first_pet": "b", "first_car": "   "},  # blank
    {"mother_maiden_name": "a", "first_pet": "b", "first_car": "\x1c"},  # blank once normalized
])
def test_bad_question_choices_name_the_field(api, answers):
    standard()
    tokens = api.login(PHONE)
    resp = api.call("PUT", "/me/security-questions", {"answers": answers}, token=tokens["access_token"])
    assert resp.status_code == 400 and resp.json["error"]["code"] == "VALIDATION_ERROR", resp.json
    assert all(f.startswith("answers") for f in resp.json["error"]["fields"])


# -- blocking ----------------------------------------------------------------------------------------------

def test_operator_block_ends_sessions_and_the_refusal_comes_only_after_the_password(api):
    user_id, tokens = with_questions(api)
    op = operator(api)
    block(api, op, user_id)
    again = api.post(f"/operator/accounts/{user_id}/block", {"reason": "x"}, token=op["access_token"])
    assert again.status_code == 409 and again.json["error"]["code"] == "ALREADY_BLOCKED"
    assert api.post("/auth/token/refresh", {"refresh_token": tokens["refresh_token"]}).status_code in (401, 403)
    wrong = api.post("/auth/login", {"login": PHONE, "password": "Wrong#Pass123"})
    assert wrong.status_code == 401 and wrong.json["error"]["code"] == "INVALID_CREDENTIALS"
    assert "unblock_token" not in wrong.body.decode()
    right = api.post("/auth/login", {"login": PHONE, "password": PASSWORD})
    assert right.status_code == 403 and right.json["error"]["code"] == "ACCOUNT_BLOCKED"
    assert "паспорт" in right.json["error"]["message"] and right.json["error"]["unblock_token"]
    assert "account.blocked" in audit_actions(user_id)
    assert "operator.account_blocked" in audit_actions(op["user_id"])
    history = table.query(keys.user_pk(user_id), keys.login_event_sk(""), limit=5).items
    assert history[0]["result"] == "blocked"
    assert any("заблокирована" in m["text"] for m in api.outbox(PHONE))


def test_a_citizen_cannot_use_the_operator_routes(api):
    user_id, _ = with_questions(api)
    standard(OTHER)
    other = api.login(OTHER)
    resp = api.post(f"/operator/accounts/{user_id}/block", {"reason": "x"}, token=other["access_token"])
    assert resp.status_code == 403 and resp.json["error"]["code"] == "FORBIDDEN"
    assert api.get("/operator/unblock-cases", token=other["access_token"]).status_code == 403
    assert not table.get(keys.user(user_id)).get("blocked")


def test_refresh_of_a_surviving_session_is_refused_after_its_secret(api, monkeypatch):
    user_id, tokens = with_questions(api)
    monkeypatch.setattr("chalicelib.identity.sessions.revoke_others", lambda *a, **k: 0)  # a session the block missed
    block(api, operator(api), user_id)
    forged = tokens["refresh_token"].rsplit(".", 1)[0] + ".wrong"
    assert api.post("/auth/token/refresh", {"refresh_token": forged}).status_code == 401
    resp = api.post("/auth/token/refresh", {"refresh_token": tokens["refresh_token"]})
    assert resp.status_code == 403 and resp.json["error"]["code"] == "ACCOUNT_BLOCKED"


def test_recovery_says_blocked_only_after_the_code(api):
    user_id, _ = with_questions(api)
    block(api, operator(api), user_id)
    started = api.post("/auth/recovery", {"login": PHONE})
    assert started.status_code == 202, started.json
    rid = started.json["recovery_id"]
    wrong = api.post(f"/auth/recovery/{rid}/confirm", {"code": "000000"})
    assert wrong.status_code == 400 and wrong.json["error"]["code"] == "CODE_INVALID"
    code = api.code_about(PHONE, "восстановления")
    resp = api.post(f"/auth/recovery/{rid}/confirm", {"code": code})
    assert resp.status_code == 403 and resp.json["error"]["code"] == "ACCOUNT_BLOCKED"
    assert "unblock_token" not in resp.json["error"]


def test_not_me_with_block_blocks_the_account(api):
    standard()
    tokens = api.login(PHONE)
    event = api.get("/me/login-history", token=tokens["access_token"]).json["items"][0]
    resp = api.post(f"/me/login-history/{event['id']}/not-me/block", token=tokens["access_token"])
    assert resp.status_code == 200 and resp.json["blocked"] is True and resp.json["sessions_ended"] >= 1
    assert api.post("/auth/token/refresh", {"refresh_token": tokens["refresh_token"]}).status_code in (401, 403)
    unblock_token(api)
    again = api.post(f"/me/login-history/{event['id']}/not-me/block", token=tokens["access_token"])
    assert again.status_code == 409
    # No security questions were set: the case goes straight to the operators.
    case = api.post("/auth/unblock", {"unblock_token": unblock_token(api)}).json
    assert case["status"] == "queued"
    queue = api.get("/operator/unblock-cases", token=operator(api)["access_token"]).json["items"]
    assert [(c["case_id"], c["reason"], c["blocked_by"]) for c in queue] == [
        (case["case_id"], "no_security_questions", "owner")]


def test_blocked_session_cannot_rewrite_the_questions(api):
    user_id, tokens = with_questions(api)
    block(api, operator(api), user_id)  # the access token outlives the block by at most its 10 minutes
    resp = api.call("PUT", "/me/security-questions", {"answers": {**ANSWERS, "first_pet": "Шарик"}},
                    token=tokens["access_token"])
    assert resp.status_code == 409 and resp.json["error"]["code"] == "ACCOUNT_BLOCKED"


# -- unblocking --------------------------------------------------------------------------------------------

def test_matching_passport_and_answers_unblock_automatically(api):
    user_id, _ = with_questions(api)
    block(api, operator(api), user_id)
    token, case = ready_case(api)
    early = api.post("/auth/unblock", {"unblock_token": token})
    assert early.json["case_id"] == case["case_id"]  # the open case, not a second one
    resp = api.post("/auth/unblock/answers", {"unblock_token": token, "passport_number": "4510123456",
                                              "answers": TYPED})
    assert resp.status_code == 200 and resp.json["status"] == "approved", resp.json
    signed_in = api.post("/auth/login", {"login": PHONE, "password": PASSWORD})
    assert signed_in.status_code == 200 and signed_in.json["access_token"]
    history = api.get("/me/login-history", token=signed_in.json["access_token"])
    assert history.status_code == 200 and "blocked" in [e["result"] for e in history.json["items"]]
    assert not table.get(keys.user(user_id)).get("blocked")
    assert {"account.blocked", "unblock.case_opened", "account.unblocked"} <= set(audit_actions(user_id))
    assert any("разблокирована" in m["text"] for m in api.outbox(PHONE))
    stale = api.post("/auth/unblock/status", {"unblock_token": token})
    assert stale.status_code == 401 and stale.json["error"]["code"] == "UNBLOCK_TOKEN_INVALID"


def test_answers_wait_for_the_checked_copy(api):
    user_id, _ = with_questions(api)
    block(api, operator(api), user_id)
    token = unblock_token(api)
    api.post("/auth/unblock", {"unblock_token": token})
    body = {"unblock_token": token, "passport_number": "4510123456", "answers": TYPED}
    assert api.post("/auth/unblock/answers", body).json["error"]["code"] == "PASSPORT_COPY_REQUIRED"
    data = files.pdf()
    resp = api.post("/auth/unblock/passport", {"unblock_token": token, "filename": "p.pdf",
                                               "content_type": "application/pdf", "size": len(data)})
    assert resp.status_code == 201  # the file has not arrived: the document is still being checked
    waiting = api.post("/auth/unblock/answers", body)
    assert waiting.status_code == 409 and waiting.json["error"]["code"] == "DOCUMENT_CHECKING"
    assert table.get(keys.user(user_id)).get("unblock_tries", 0) == 0  # no try spent on it


@pytest.mark.parametrize(("number", "answers", "reason"), [
    ("4510123456", {**TYPED, "first_pet": "Мурзик"}, "answers_mismatch"),
    ("4510654321", TYPED, "passport_mismatch"),
])
def test_a_mismatch_goes_to_the_operator_who_decides_once(api, number, answers, reason):
    user_id, _ = with_questions(api)
    op = operator(api)
    block(api, op, user_id)
    token, case = ready_case(api)
    resp = api.post("/auth/unblock/answers", {"unblock_token": token, "passport_number": number,
                                              "answers": answers})
    assert resp.status_code == 200 and resp.json["status"] == "queued", resp.json
    text = resp.body.decode()
    assert "Мурзик" not in text and reason not in text  # the applicant is not told what was wrong
    queue = api.get("/operator/unblock-cases", token=op["access_token"]).json["items"]
    assert [(c["case_id"], c["reason"]) for c in queue] == [(case["case_id"], reason)]
    assert api.post("/auth/unblock/answers", {"unblock_token": token, "passport_number": "4510123456",
                                              "answers": TYPED}).json["error"]["code"] == "UNBLOCK_CASE_QUEUED"
    path = f"/operator/unblock-cases/{case['case_id']}/decision"
    ok = api.post(path, {"decision": "approve", "reason": "Личность подтверждена по видеозвонку"},
                  token=op["access_token"])
    assert ok.status_code == 200 and ok.json["status"] == "approved"
    twice = api.post(path, {"decision": "reject", "reason": "x"}, token=op["access_token"])
    assert twice.status_code == 409 and twice.json["error"]["code"] == "UNBLOCK_CASE_DECIDED"
    assert api.get("/operator/unblock-cases", token=op["access_token"]).json["items"] == []
    assert api.post("/auth/login", {"login": PHONE, "password": PASSWORD}).status_code == 200
    assert "operator.unblock_decided" in audit_actions(op["user_id"])


def test_rejection_keeps_the_block_and_tries_run_out(api):
    user_id, _ = with_questions(api)
    op = operator(api)
    block(api, op, user_id)
    wrong = {**TYPED, "first_pet": "Мурзик"}
    for _ in range(blocking.MAX_TRIES):
        token, case = ready_case(api)
        resp = api.post("/auth/unblock/answers", {"unblock_token": token, "passport_number": "4510123456",
                                                  "answers": wrong})
        assert resp.json["status"] == "queued"
        rejected = api.post(f"/operator/unblock-cases/{case['case_id']}/decision",
                            {"decision": "reject", "reason": "Данные не совпали"}, token=op["access_token"])
        assert rejected.json["status"] == "rejected"
        assert unblock_token(api)  # still blocked
    token, case = ready_case(api)
    last = api.post("/auth/unblock/answers", {"unblock_token": token, "passport_number": "4510123456",
                                              "answers": TYPED})  # right, but no automatic try is left
    assert last.json["status"] == "queued"
    queue = api.get("/operator/unblock-cases", token=op["access_token"]).json["items"]
    assert [c["reason"] for c in queue] == ["tries_exhausted"]
    assert table.get(keys.user(user_id))["unblock_tries"] == blocking.MAX_TRIES


def test_concurrent_answers_spend_tries_before_comparing(api, monkeypatch):
    user_id, _ = with_questions(api)
    block(api, operator(api), user_id)
    token, _ = ready_case(api)
    compared = []
    real = questions.all_right
    monkeypatch.setattr(questions, "all_right", lambda u, a: compared.append(1) or real(u, a))
    results: list[object] = []

    def attempt() -> None:
        try:
            results.append(blocking.submit(token, "4510123456", {**TYPED, "first_pet": "Мурзик"}, ORIGIN))
        except Conflict as exc:
            results.append(exc.code)

    threads = [threading.Thread(target=attempt) for _ in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(compared) <= 1  # one case, one charged try: the others lost the condition before comparing
    assert table.get(keys.user(user_id))["unblock_tries"] == 1


def test_the_automatic_path_and_an_operator_racing_decide_once(api, monkeypatch):
    user_id, _ = with_questions(api)
    op = operator(api)
    block(api, op, user_id)
    token, case = ready_case(api)
    outcomes: list[str] = []
    barrier = threading.Barrier(2)
    both_read = threading.Barrier(2, timeout=10)
    real_emit = journal.emit

    def emit(tx, event, subject, data):  # both deciders have read the undecided case before either writes
        if event in (events.ACCOUNT_UNBLOCKED, events.UNBLOCK_REJECTED):
            with contextlib.suppress(threading.BrokenBarrierError):
                both_read.wait()
        return real_emit(tx, event, subject, data)

    monkeypatch.setattr(journal, "emit", emit)

    def automatic() -> None:
        barrier.wait()
        outcomes.append("auto:" + blocking.submit(token, "4510123456", TYPED, ORIGIN)["status"])

    def by_operator() -> None:
        barrier.wait()
        try:
            blocking.decide(case["case_id"], "reject", actor=op["user_id"], reason="Подозрение на мошенничество",
                            origin=ORIGIN)
            outcomes.append("operator:rejected")
        except Conflict as exc:
            outcomes.append("operator:" + exc.code)

    threads = [threading.Thread(target=automatic), threading.Thread(target=by_operator)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    decisions = [a for a in audit_actions(user_id) if a in ("account.unblocked", "unblock.rejected")]
    assert len(decisions) == 1, (decisions, outcomes)
    stored = table.get(keys.unblock_case(case["case_id"]))
    assert stored["status"] == ("approved" if decisions == ["account.unblocked"] else "rejected")
    assert bool(table.get(keys.user(user_id)).get("blocked")) == (stored["status"] == "rejected")


def test_nobody_reaches_another_persons_case(api):
    first_id, _ = with_questions(api)
    op = operator(api)
    block(api, op, first_id)
    token, case = ready_case(api)
    second_id, second = with_questions(api, OTHER)
    # The second person's session does not open the first one's case; a forged token is refused.
    forged = token[:-4] + ("AAAA" if not token.endswith("AAAA") else "BBBB")
    resp = api.post("/auth/unblock/status", {"unblock_token": forged})
    assert resp.status_code == 401 and resp.json["error"]["code"] == "UNBLOCK_TOKEN_INVALID"
    decide = api.post(f"/operator/unblock-cases/{case['case_id']}/decision", {"decision": "approve", "reason": "x"},
                      token=second["access_token"])
    assert decide.status_code == 403
    block(api, op, second_id)
    second_token = unblock_token(api, OTHER)
    second_case = api.post("/auth/unblock", {"unblock_token": second_token}).json
    assert second_case["case_id"] != case["case_id"]
    # The first person's right answers under the second person's token unblock nobody.
    upload_passport(api, second_token)
    resp = api.post("/auth/unblock/answers", {"unblock_token": second_token, "passport_number": "4510123456",
                                              "answers": {**TYPED, "first_pet": "Мурзик"}})
    assert resp.json["status"] == "queued"
    assert table.get(keys.user(first_id)).get("blocked")
    assert table.get(keys.unblock_case(case["case_id"]))["status"] == "collecting"


BAD_ROUTES = [("POST", "/auth/unblock"), ("POST", "/auth/unblock/status"), ("POST", "/auth/unblock/passport"),
              ("POST", "/auth/unblock/answers"), ("PUT", "/me/security-questions"),
              ("POST", "/operator/accounts/01ARZ3NDEKTSV4RRFFQ69G5FAV/block"),
              ("POST", "/operator/unblock-cases/01ARZ3NDEKTSV4RRFFQ69G5FAV/decision")]


@pytest.mark.parametrize(("method", "path"), BAD_ROUTES)
def test_bad_input_gets_the_one_error_shape(api, method, path):
    op = operator(api)
    for raw in (b"{not json", b"[1]", b"", b'{"unblock_token": 5, "answers": [], "reason": ""}'):
        resp = api.call(method, path, raw=raw, token=op["access_token"])
        assert resp.status_code == 400, (raw, resp.json)
        assert set(resp.json["error"]) >= {"code", "message", "fields"}
    garbage = api.call(method, path, {"unblock_token": "x.y.z", "decision": "approve", "reason": "r",
                                      "answers": {"first_pet": "a", "first_car": "b", "first_school": "c"},
                                      "passport_number": "4510123456", "filename": "a.pdf",
                                      "content_type": "application/pdf", "size": 10}, token=op["access_token"])
    assert garbage.status_code in (400, 401, 403, 404, 409), garbage.json
    assert set(garbage.json["error"]) >= {"code", "message", "fields"}


def test_unknown_ids_are_not_found(api):
    op = operator(api)
    resp = api.post("/operator/accounts/01ARZ3NDEKTSV4RRFFQ69G5FAV/block", {"reason": "x"}, token=op["access_token"])
    assert resp.status_code == 404
    resp = api.post("/operator/unblock-cases/not-an-id/decision", {"decision": "approve", "reason": "x"},
                    token=op["access_token"])
    assert resp.status_code == 404
    # An operator is not blocked through the citizens' route.
    resp = api.post(f"/operator/accounts/{op['user_id']}/block", {"reason": "x"}, token=op["access_token"])
    assert resp.status_code == 404
