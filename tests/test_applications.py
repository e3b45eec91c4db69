"""Applications (SV-3..SV-11, NT-2) through the real app on moto: submission and its checks, drafts, templates,
the status machine guarded by conditional writes, the agency side, automatic certificates, the in-app inbox."""

from __future__ import annotations

import base64
import io
import json
import re
import subprocess
import sys
import threading
from pathlib import Path
from typing import Any

import pytest
import requests

from chalicelib.applications import actors, submission, transitions, views
from chalicelib.applications import agency as agency_domain
from chalicelib.core import clock
from chalicelib.core.errors import Conflict
from chalicelib.core.tokens import Principal
from chalicelib.store import keys, table
from infra import demo_officer
from infra.seed import add_officer
from tests import files
from tests.conftest import PASSWORD

PROFILE = {"birth_date": "1985-04-12", "snils": "11223344595", "inn": "500100732259",
           "address": "г. Москва, ул. Тверская, д. 1, кв. 1"}
NCR = {"last_name": "Кузнецов", "first_name": "Алексей", "birth_date": "1985-04-12", "birth_place": "г. Москва",
       "snils": "11223344595", "purpose": "employment", "address": "г. Москва, ул. Тверская, д. 1, кв. 1"}
TAX_DEBT = {"kind": "tax_debt", "last_name": "Кузнецов", "first_name": "Алексей", "inn": "500100732259",
            "as_of": "2026-11-01", "variant": "balance"}


def citizen(api, phone: str = "+79161234567", tier: str = "confirmed", **names: str) -> dict:
    """A registered person whose identity was confirmed to `tier` (ID-6), with the profile data it brings."""
    reg = api.register(phone=phone, **names)
    table.update(keys.user(reg["user_id"]), "SET tier = :t, birth_date = :b, snils = :s, inn = :i, address = :a",
                 values={":t": tier, ":b": PROFILE["birth_date"], ":s": PROFILE["snils"], ":i": PROFILE["inn"],
                         ":a": PROFILE["address"]})
    return {**api.login(phone), "phone": phone}


def officer(api, agency: str, phone: str, last_name: str = "Петров") -> dict:
    assert add_officer(agency=agency, last_name=last_name, first_name="Сергей", department="Информационный центр",
                       phone=phone, password=PASSWORD)
    return api.login(phone)


def submit_ncr(api, person: dict) -> dict:
    passport = api.upload(person["access_token"], files.pdf(), category="passport")
    resp = api.post("/requests", {"type": "no-criminal-record", "params": NCR, "attachments": [passport]},
                    token=person["access_token"])
    assert resp.status_code == 201, resp.json
    api.pump.drain()
    return resp.json


def detail(api, person: dict, request_id: str) -> dict:
    resp = api.get(f"/requests/{request_id}", token=person["access_token"])
    assert resp.status_code == 200, resp.json
    return resp.json


def test_an_automatic_certificate_arrives_signed_within_the_pump_round(api):
    person = citizen(api)
    api.no_quiet_hours(person["access_token"])
    resp = api.post("/requests", {"type": "certificate", "params": TAX_DEBT}, token=person["access_token"])
    assert resp.status_code == 201, resp.json
    assert re.fullmatch(r"\d{4}-\d{9}", resp.json["number"]) and resp.json["status"] == "submitted"
    assert re.fullmatch(r"\d{4}-\d{2}-\d{2}", resp.json["expected_by"])
    api.pump.drain()
    req = detail(api, person, resp.json["id"])
    assert req["status"] == "approved" and req["status_title"] == "Одобрено"
    assert [(line["from"], line["to"]) for line in req["journal"] if line["kind"] == "status"] == [
        ("draft", "submitted"), ("submitted", "approved")]
    doc_id = req["result"]["document_id"]
    doc = api.get(f"/documents/{doc_id}", token=person["access_token"]).json
    assert doc["category"] == "certificate" and doc["origin"] == "generated"
    assert api.get(f"/verify/{doc_id}").json["valid"] is True
    inbox = api.get("/me/messages", token=person["access_token"]).json
    assert inbox["unread"] == 2 and [m["type"] for m in inbox["items"]] == ["request.status_changed"] * 2
    assert resp.json["number"] in inbox["items"][0]["title"] and "Одобрено" in inbox["items"][0]["title"]
    assert any("Одобрено" in m["text"] for m in api.outbox(person["phone"]))  # and by SMS (NT-2)


def test_every_form_problem_is_reported_per_field_in_one_400(api):
    person = citizen(api)
    bad = {**NCR, "snils": "11223344590", "birth_date": "2090-01-01", "purpose": "fun", "shoe_size": 44}
    del bad["address"]
    resp = api.post("/requests", {"type": "no-criminal-record", "params": bad, "attachments": []},
                    token=person["access_token"])
    assert resp.status_code == 400 and resp.json["error"]["code"] == "VALIDATION_ERROR"
    fields = resp.json["error"]["fields"]
    assert fields["params.snils"] == "Неверная контрольная сумма СНИЛС"
    assert {"params.birth_date", "params.purpose", "params.shoe_size", "params.address", "attachments"} <= set(fields)
    assert "Паспорт" in fields["attachments"]
    for body, field in (({"type": "nope", "params": {}}, "type"), ({"params": {}}, "type"),
                        ({"type": "certificate", "params": {"kind": "moon"}}, "params.kind"),
                        ({"type": "certificate", "params": {**TAX_DEBT, "inn": "500100732250"}}, "params.inn")):
        resp = api.post("/requests", body, token=person["access_token"])
        assert resp.status_code == 400 and field in resp.json["error"]["fields"], (body, resp.json)
    assert api.get("/requests", token=person["access_token"]).json["items"] == []  # nothing was kept


def test_a_service_above_the_tier_is_refused_with_what_is_needed(api):
    person = api.register()
    resp = api.post("/requests", {"type": "certificate", "params": TAX_DEBT}, token=person["access_token"])
    assert resp.status_code == 403
    assert resp.json["error"]["code"] == "TIER_REQUIRED"
    assert (resp.json["error"]["required"], resp.json["error"]["current"]) == ("confirmed", "simplified")


def test_attachments_must_be_own_available_documents_of_the_required_categories(api):
    person = citizen(api)
    other = citizen(api, phone="+79167654321", last_name="Смирнова", first_name="Анна")
    theirs = api.upload(other["access_token"], files.pdf(), category="passport")
    wrong_category = api.upload(person["access_token"], files.pdf(), category="diploma")
    rejected = api.upload(person["access_token"], files.EXE, category="passport")
    for attachments, path in (([theirs], "attachments.0"), ([wrong_category], "attachments"),
                              ([rejected], "attachments.0"), (["x" * 5], "attachments.0")):
        resp = api.post("/requests", {"type": "no-criminal-record", "params": NCR, "attachments": attachments},
                        token=person["access_token"])
        assert resp.status_code == 400 and path in resp.json["error"]["fields"], (attachments, resp.json)


def test_drafts_autosave_then_submit_once(api):
    person = citizen(api)
    token = person["access_token"]
    draft = api.post("/requests", {"type": "no-criminal-record", "params": {"last_name": "Кузн"}, "draft": True},
                     token=token)
    assert draft.status_code == 201 and draft.json["status"] == "draft" and draft.json["number"] is None
    rid = draft.json["id"]
    early = api.post(f"/requests/{rid}/submit", token=token)
    assert early.status_code == 400 and "params.birth_place" in early.json["error"]["fields"]
    passport = api.upload(token, files.pdf(), category="passport")
    saved = api.call("PUT", f"/requests/{rid}", {"params": NCR, "attachments": [passport]}, token=token)
    assert saved.status_code == 200 and saved.json["params"] == NCR
    done = api.post(f"/requests/{rid}/submit", token=token)
    assert done.status_code == 201 and done.json["status"] == "submitted"
    again = api.post(f"/requests/{rid}/submit", token=token)
    assert again.status_code == 409 and again.json["error"]["code"] == "NOT_A_DRAFT"
    late = api.call("PUT", f"/requests/{rid}", {"params": {}}, token=token)
    assert late.status_code == 409


def test_templates_start_new_drafts(api):
    person = citizen(api)
    token = person["access_token"]
    first = submit_ncr(api, person)
    saved = api.post(f"/requests/{first['id']}/template", {"name": "Справка для работы"}, token=token)
    assert saved.status_code == 201
    assert [t["name"] for t in api.get("/me/templates", token=token).json] == ["Справка для работы"]
    started = api.post("/requests", {"template_id": saved.json["id"], "params": {"purpose": "visa"}}, token=token)
    assert started.status_code == 201 and started.json["status"] == "draft"
    req = detail(api, person, started.json["id"])
    assert req["params"] == {**NCR, "purpose": "visa"} and req["service_id"] == "no-criminal-record"
    assert api.post("/requests", {"template_id": "01ARZ3NDEKTSV4RRFFQ69G5FAV"}, token=token).status_code == 404


def test_the_full_agency_journey_with_documents_requested(api):
    person = citizen(api)
    token = person["access_token"]
    clerk = officer(api, "mvd", "+79991110001")
    submitted = submit_ncr(api, person)
    rid = submitted["id"]
    inbox = api.get("/agency/requests?status=submitted", token=clerk["access_token"]).json["items"]
    assert [r["id"] for r in inbox] == [rid]
    for action, body in (("take", {}), ("request-documents", {"message": "Приложите СНИЛС"})):
        resp = api.post(f"/agency/requests/{rid}/{action}", body, token=clerk["access_token"])
        assert resp.status_code == 200, resp.json
    assert detail(api, person, rid)["status"] == "awaiting_documents"
    snils = api.upload(token, files.image("PNG"), filename="snils.png", content_type="image/png", category="snils")
    answered = api.post(f"/requests/{rid}/documents", {"attachments": [snils]}, token=token)
    assert answered.status_code == 200 and answered.json["status"] == "in_progress"
    api.post(f"/requests/{rid}/comments", {"text": "Спасибо, приложил"}, token=token)
    api.post(f"/agency/requests/{rid}/comments", {"text": "Принято"}, token=clerk["access_token"])
    approved = api.post(f"/agency/requests/{rid}/approve", {"comment": "Сведений о судимости нет"},
                        token=clerk["access_token"])
    assert approved.status_code == 200 and approved.json["status"] == "approved"
    api.pump.drain()
    req = detail(api, person, rid)
    assert snils in req["attachments"] and req["result"]["title"].startswith("Решение по заявлению")
    journal = [(line["kind"], line.get("to"), line["actor"]["kind"]) for line in req["journal"]]
    assert journal == [("status", "submitted", "citizen"), ("routed", None, "system"),
                       ("status", "in_progress", "officer"), ("status", "awaiting_documents", "officer"),
                       ("status", "in_progress", "citizen"), ("comment", None, "citizen"),
                       ("comment", None, "officer"), ("status", "approved", "officer")]
    officer_line = req["journal"][2]["actor"]
    assert officer_line == {"kind": "officer", "name": "Петров Сергей", "department": "Информационный центр"}
    titles = [m["title"] for m in api.get("/me/messages", token=token).json["items"]]
    assert len(titles) == 6 and "Одобрено" in titles[0] and "Требуются документы" in titles[3]
    listed = api.get("/requests", token=token).json["items"][0]
    assert listed["status_title"] == "Одобрено" and listed["number"] == submitted["number"]


def test_of_two_officers_deciding_at_once_one_wins_and_the_other_gets_409(api):
    person = citizen(api)
    first = officer(api, "mvd", "+79991110001")
    second = officer(api, "mvd", "+79991110002", last_name="Сидоров")
    rid = submit_ncr(api, person)["id"]
    api.post(f"/agency/requests/{rid}/take", token=first["access_token"])
    stale = views.load(rid)  # what the second officer's request read, just before the first one's write
    assert api.post(f"/agency/requests/{rid}/approve", {}, token=first["access_token"]).status_code == 200
    actor = actors.Actor("officer", second["user_id"], "Сидоров Сергей")
    with pytest.raises(Exception) as lost:
        transitions.transition(stale, "rejected", actor, fields={"rejection": {"reason": "x", "fix": "y"}})
    assert isinstance(lost.value, Conflict) and lost.value.code == "CONFLICT"
    through_api = api.post(f"/agency/requests/{rid}/reject", {"reason": "Нет", "fix": "Ничего"},
                           token=second["access_token"])
    assert through_api.status_code == 409
    assert detail(api, person, rid)["status"] == "approved"


def _race(moves: dict[str, Any], rid: str) -> dict[str, str]:
    """Each move in its own thread: it reads the application as its API request would, all wait until every one
    has read, then all write at once. What each got: "won" or the refusal's code."""
    barrier = threading.Barrier(len(moves), timeout=30)
    outcomes: dict[str, str] = {}

    def run(name: str, move: Any) -> None:
        req = views.load(rid)
        barrier.wait()
        try:
            move(req)
            outcomes[name] = "won"
        except Conflict as exc:
            outcomes[name] = exc.code

    threads = [threading.Thread(target=run, args=item) for item in moves.items()]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return outcomes


def test_conflicting_moves_racing_on_one_application_have_exactly_one_winner(api):
    """Real parallel attempts on the local cloud (SV-6, SV-11): every racer read the same status, so exactly one
    conditional write lands, every other one is 409 CONFLICT, and the journal gets one status line, the winner's."""
    person = citizen(api)
    first = officer(api, "mvd", "+79991110001")
    second = officer(api, "mvd", "+79991110002", last_name="Сидоров")
    petrov = actors.Actor("officer", first["user_id"], "Петров Сергей")
    sidorov = actors.Actor("officer", second["user_id"], "Сидоров Сергей")
    applicant = actors.Actor("citizen", person["user_id"])
    lands_in = {"take:petrov": "in_progress", "take:sidorov": "in_progress", "cancel": "cancelled",
                "approve": "approved", "reject": "rejected", "request_documents": "awaiting_documents"}
    rounds = {  # from submitted: two officers take it while the applicant cancels
        "submitted": {
            "take:petrov": lambda req: transitions.transition(req, "in_progress", petrov, text="Взято в работу"),
            "take:sidorov": lambda req: transitions.transition(req, "in_progress", sidorov, text="Взято в работу"),
            "cancel": lambda req: transitions.transition(req, "cancelled", applicant, text="Отменено заявителем")},
        # from in_progress: one officer approves, another rejects, a third asks for documents, the applicant cancels
        "in_progress": {
            "approve": lambda req: agency_domain.approve_loaded(req, petrov, "Сведений нет"),
            "reject": lambda req: transitions.transition(req, "rejected", sidorov, text="Нет",
                                                         fields={"rejection": {"reason": "Нет", "fix": "Ничего"}}),
            "request_documents": lambda req: transitions.transition(req, "awaiting_documents", sidorov,
                                                                    text="Приложите СНИЛС"),
            "cancel": lambda req: transitions.transition(req, "cancelled", applicant, text="Отменено заявителем")},
    }
    for frm, moves in rounds.items():
        for _ in range(2):
            rid = submit_ncr(api, person)["id"]
            if frm == "in_progress":
                assert api.post(f"/agency/requests/{rid}/take", token=first["access_token"]).status_code == 200
            before = [line for line in detail(api, person, rid)["journal"] if line["kind"] == "status"]
            outcomes = _race(moves, rid)
            assert sorted(outcomes.values()) == sorted(["won"] + ["CONFLICT"] * (len(moves) - 1)), outcomes
            [winner] = [name for name, outcome in outcomes.items() if outcome == "won"]
            after = detail(api, person, rid)
            lines = [line for line in after["journal"] if line["kind"] == "status"]
            assert lines[:-1] == before and (lines[-1]["from"], lines[-1]["to"]) == (frm, lands_in[winner])
            assert after["status"] == lands_in[winner]


def test_rejection_carries_reason_and_fix_and_cancel_only_before_a_decision(api):
    person = citizen(api)
    clerk = officer(api, "mvd", "+79991110001")
    rid = submit_ncr(api, person)["id"]
    api.post(f"/agency/requests/{rid}/take", token=clerk["access_token"])
    rejected = api.post(f"/agency/requests/{rid}/reject", {"reason": "Нечитаемый скан", "fix": "Загрузите скан"},
                        token=clerk["access_token"])
    assert rejected.status_code == 200
    req = detail(api, person, rid)
    assert req["rejection"] == {"reason": "Нечитаемый скан", "fix": "Загрузите скан"}
    refused = api.post(f"/requests/{rid}/cancel", token=person["access_token"])
    assert refused.status_code == 409 and refused.json["error"]["code"] == "INVALID_TRANSITION"
    other = submit_ncr(api, person)["id"]
    cancelled = api.post(f"/requests/{other}/cancel", token=person["access_token"])
    assert cancelled.status_code == 200 and cancelled.json["status"] == "cancelled"
    assert api.post(f"/agency/requests/{other}/take", token=clerk["access_token"]).status_code == 409


@pytest.mark.parametrize(("frm", "action", "body"), [
    ("submitted", "request-documents", {"message": "x"}),
    ("submitted", "approve", {}),
    ("submitted", "reject", {"reason": "x", "fix": "y"}),
])
def test_moves_out_of_order_are_refused(api, frm, action, body):
    person = citizen(api)
    clerk = officer(api, "mvd", "+79991110001")
    rid = submit_ncr(api, person)["id"]
    resp = api.post(f"/agency/requests/{rid}/{action}", body, token=clerk["access_token"])
    assert resp.status_code == 409 and resp.json["error"]["current"] == frm


def test_nobody_else_sees_an_application(api):
    person = citizen(api)
    stranger = citizen(api, phone="+79167654321", last_name="Смирнова", first_name="Анна")
    elsewhere = officer(api, "fns", "+79991110003")
    rid = submit_ncr(api, person)["id"]
    for method, path, body in (("GET", f"/requests/{rid}", None), ("PUT", f"/requests/{rid}", {"params": {}}),
                               ("POST", f"/requests/{rid}/submit", None), ("POST", f"/requests/{rid}/cancel", None),
                               ("POST", f"/requests/{rid}/comments", {"text": "hi"}),
                               ("POST", f"/requests/{rid}/documents", {"attachments": ["x"]}),
                               ("POST", f"/requests/{rid}/template", {"name": "x"}),
                               ("GET", f"/requests/{rid}/journal.pdf", None)):
        resp = api.call(method, path, body, token=stranger["access_token"])
        assert resp.status_code == 404, (method, path, resp.json)
    assert api.get("/requests", token=stranger["access_token"]).json["items"] == []
    for action, body in (("take", {}), ("approve", {}), ("comments", {"text": "x"})):
        resp = api.post(f"/agency/requests/{rid}/{action}", body, token=elsewhere["access_token"])
        assert resp.status_code == 404, action
    assert api.get(f"/agency/requests/{rid}", token=elsewhere["access_token"]).status_code == 404
    assert api.get("/agency/requests", token=elsewhere["access_token"]).json["items"] == []
    citizen_try = api.get("/agency/requests", token=person["access_token"])
    assert citizen_try.status_code == 403 and citizen_try.json["error"]["code"] == "FORBIDDEN"
    assert api.post(f"/agency/requests/{rid}/take", token=person["access_token"]).status_code == 403


def test_list_filters_by_status_dates_and_number_fragment(api):
    person = citizen(api)
    token = person["access_token"]
    a = submit_ncr(api, person)
    api.post("/requests", {"type": "no-criminal-record", "params": {}, "draft": True}, token=token)
    items = api.get("/requests", token=token).json["items"]
    assert [i["status"] for i in items] == ["draft", "submitted"]
    assert [i["id"] for i in api.get(f"/requests?number={a['number'][-6:]}", token=token).json["items"]] == [a["id"]]
    assert api.get("/requests?status=approved", token=token).json["items"] == []
    year = detail(api, person, a["id"])["submitted_at"][:4]
    assert len(api.get(f"/requests?from={year}-01-01", token=token).json["items"]) == 1
    assert api.get("/requests?to=2000-01-01", token=token).json["items"] == []
    for bad in ("status=lost", "from=yesterday", "cursor=zzz"):
        assert api.get(f"/requests?{bad}", token=token).status_code == 400, bad


def test_the_journal_exports_as_a_signed_pdf(api):
    from pypdf import PdfReader

    person = citizen(api)
    rid = submit_ncr(api, person)["id"]
    resp = api.get(f"/requests/{rid}/journal.pdf", token=person["access_token"], headers={"accept": "application/pdf"})
    assert resp.status_code == 200 and resp.headers["Content-Type"] == "application/pdf", resp.body[:300]
    text = "".join(p.extract_text() for p in PdfReader(io.BytesIO(resp.body)).pages)
    assert "Журнал заявления" in text and "Принято" in text and "Маршрутизация" in text
    check = api.call("POST", "/verify", raw=resp.body, headers={"content-type": "application/pdf"}).json
    assert check["valid"] is True


def test_messages_count_unread_and_mark_read(api):
    person = citizen(api)
    token = person["access_token"]
    submit_ncr(api, person)
    inbox = api.get("/me/messages", token=token).json
    assert inbox["unread"] == 1
    message = inbox["items"][0]
    assert message["link"].endswith(f"/applications/{message['request_id']}") and message["read"] is False
    assert api.post(f"/me/messages/{message['id']}/read", token=token).status_code == 204
    assert api.post(f"/me/messages/{message['id']}/read", token=token).status_code == 204
    assert api.get("/me/messages", token=token).json["unread"] == 0
    stranger = citizen(api, phone="+79167654321", last_name="Смирнова", first_name="Анна")
    assert api.post(f"/me/messages/{message['id']}/read", token=stranger["access_token"]).status_code == 404


def test_submissions_count_towards_popularity(api):
    person = citizen(api)
    submit_ncr(api, person)
    assert table.get(keys.service_stats("no-criminal-record"))["submitted"] == 1


def test_a_missing_profile_field_is_reported_as_such_by_an_automatic_service(api):
    """SV-9: when neither the form nor the profile has what the certificate needs, the answer says so."""
    person = citizen(api)
    principal = Principal(person["user_id"], "s", "confirmed", "citizen")
    req = submission.new_item(principal, submission.catalog.get("pension-amount"), {}, [])
    table.update(keys.user(person["user_id"]), "REMOVE snils")
    req = {**req, "status": "submitted", "number": "2026-000000001", "submitted_at": req["created_at"]}
    table.put(req)
    assert agency_domain.route({"data": {"request_id": req["id"]}}) == "rejected"
    done = detail(api, person, req["id"])
    assert done["status"] == "rejected" and "СНИЛС" in done["rejection"]["reason"]


# Who may move an application from one status to another, written from SV-5, SV-6, SV-9, SV-11 and
# docs/architecture.md ("Statuses", "Agency routing", "Local demo officer"), not from statuses.MOVES.
# "system" is the automatic services and the local demo officer, who stands in for an officer.
STATUSES = ("draft", "submitted", "in_progress", "awaiting_documents", "approved", "rejected", "cancelled")
ALLOWED_MOVES = {
    ("draft", "submitted"): {"citizen"},  # SV-5: the applicant submits
    ("submitted", "in_progress"): {"officer", "system"},  # SV-6 "Принято" → "В работе": taken in work
    ("submitted", "approved"): {"system"},  # SV-9: an automatic certificate is decided at once
    ("submitted", "rejected"): {"system"},  # SV-9: missing data is reported as such
    ("in_progress", "awaiting_documents"): {"officer"},  # SV-6 "Требуются документы"
    ("awaiting_documents", "in_progress"): {"citizen"},  # the applicant answers with documents
    ("in_progress", "approved"): {"officer", "system"},  # SV-6 "Одобрено"
    ("in_progress", "rejected"): {"officer", "system"},  # SV-6 "Отклонено"
    ("draft", "cancelled"): {"citizen"},  # a citizen may cancel before a decision
    ("submitted", "cancelled"): {"citizen"},
    ("in_progress", "cancelled"): {"citizen"},
    ("awaiting_documents", "cancelled"): {"citizen"},
}  # every other (from, to, actor) is forbidden: nothing leaves a decision or a cancellation, nothing goes back


def test_every_move_is_allowed_exactly_as_the_status_machine_says(api):
    """Each (from, to, actor) against the conditional write: the moves the requirements allow land, every other
    one is 409 INVALID_TRANSITION and leaves the application as it was."""
    from chalicelib.applications import statuses

    assert set(statuses.TITLES) == set(STATUSES)  # a new status must get its rows in the table above
    person = citizen(api)
    principal = Principal(person["user_id"], "s", "confirmed", "citizen")
    service = submission.catalog.get("no-criminal-record")
    movers = {"citizen": actors.Actor("citizen", person["user_id"]), "officer": actors.Actor("officer", "o", "Петров"),
              "system": actors.SYSTEM}
    seen, expected = {}, {}
    for frm in STATUSES:
        for to in STATUSES:
            for kind, actor in movers.items():
                req = {**submission.new_item(principal, service, {}, []), "status": frm, "number": "2026-000000001"}
                table.put(req)
                try:
                    transitions.transition(req, to, actor)
                    outcome = "moved"
                except Conflict as exc:
                    outcome = exc.code
                seen[frm, to, kind] = (outcome, views.load(req["id"])["status"])
                allowed = kind in ALLOWED_MOVES.get((frm, to), set())
                expected[frm, to, kind] = ("moved", to) if allowed else ("INVALID_TRANSITION", frm)
    assert {k: v for k, v in seen.items() if v != expected[k]} == {}


def test_the_local_demo_officer_moves_waiting_applications_but_not_ones_a_real_officer_took(api, fake_clock):
    person = citizen(api)
    clerk = officer(api, "mvd", "+79991110001")
    waiting = submit_ncr(api, person)["id"]
    taken = submit_ncr(api, person)["id"]
    api.post(f"/agency/requests/{taken}/take", token=clerk["access_token"])
    assert demo_officer.simulate(["mvd"]) == 0  # nothing has waited long enough yet
    fake_clock.advance(demo_officer.DEMO_DELAY + 1)
    assert demo_officer.simulate(["mvd"]) == 1
    assert detail(api, person, waiting)["status"] == "in_progress"
    fake_clock.advance(demo_officer.DEMO_DELAY + 1)
    demo_officer.simulate(["mvd"])
    assert detail(api, person, waiting)["status"] == "approved"
    assert detail(api, person, taken)["status"] == "in_progress"
    ran = api.post("/dev/schedules/agency_simulator")
    assert ran.status_code == 200 and ran.json["name"] == "agency_simulator"


def test_officers_are_made_by_the_admin_command_not_by_registration(api, capsys):
    from infra import admin

    args = ["officer", "--agency", "fns", "--phone", "89991112233", "--last-name", "Соколов", "--first-name",
            "Андрей", "--department", "Межрайонная ИФНС", "--password", PASSWORD]
    assert admin.main(args) == 0 and "created" in capsys.readouterr().out
    assert admin.main(args) == 1  # the phone is taken now
    assert admin.main([*args[:-1], "12345"]) == 2  # the password policy applies to officers too
    signed_in = api.login("+79991112233")
    me = api.get("/me", token=signed_in["access_token"]).json
    assert table.get(keys.user(me["user_id"]))["role"] == "officer"
    assert api.get("/agency/requests", token=signed_in["access_token"]).json == {"items": [], "cursor": None}


def _fill(schema: dict, known: dict) -> dict:
    """Valid values for a service's form: the profile's where it has them, plain examples elsewhere."""
    out = {}
    for name, prop in schema["properties"].items():
        if name not in schema.get("required", []):
            continue
        if name in known:
            out[name] = known[name]
        elif "enum" in prop:
            out[name] = prop["enum"][0]
        elif prop.get("type") == "integer":
            out[name] = max(prop.get("minimum", 1), min(prop.get("maximum", 2025), 2025))
        elif prop.get("format") == "date":
            out[name] = "2026-01-15"
        else:
            out[name] = "Пример"
    return out


@pytest.mark.parametrize("service_id", [s.id for s in submission.catalog.all_services() if s.automatic])
def test_every_automatic_service_issues_its_signed_certificate(api, service_id):
    person = citizen(api)
    token = person["access_token"]
    service = submission.catalog.get(service_id)
    prefill = api.get(f"/services/{service_id}/prefill", token=token).json["values"]
    known = {**prefill, "inn": PROFILE["inn"], "snils": PROFILE["snils"], "birth_date": PROFILE["birth_date"],
             "last_name": "Кузнецов", "first_name": "Алексей"}
    resp = api.post("/requests", {"type": "certificate", "params": {"kind": service.certificate_kind,
                                                                    **_fill(service.form, known)}}, token=token)
    assert resp.status_code == 201, resp.json
    api.pump.drain()
    req = detail(api, person, resp.json["id"])
    assert req["status"] == "approved", req
    assert api.get(f"/verify/{req['result']['document_id']}").json["title"] == service.title


def test_a_certificate_about_someone_else_is_refused(api):
    person = citizen(api)
    forged = {**TAX_DEBT, "last_name": "Другой", "inn": "7707083893"}
    rid = api.post("/requests", {"type": "certificate", "params": forged}, token=person["access_token"]).json["id"]
    api.pump.drain()
    req = detail(api, person, rid)
    assert req["status"] == "rejected" and req["result"] is None
    assert "только о себе" in req["rejection"]["reason"] and "ИНН" in req["rejection"]["reason"]
    assert [line["to"] for line in req["journal"] if line["kind"] == "status"] == ["submitted", "rejected"]


def test_officers_read_attachments_as_submitted_and_the_owner_sees_who(api):
    person = citizen(api)
    token = person["access_token"]
    clerk = officer(api, "mvd", "+79991110001")
    elsewhere = officer(api, "fns", "+79991110003")
    original = files.pdf("as submitted")
    passport = api.upload(token, original, category="passport")
    rid = api.post("/requests", {"type": "no-criminal-record", "params": NCR, "attachments": [passport]},
                   token=token).json["id"]
    api.pump.drain()
    api.upload(token, files.pdf("replaced later"), document_id=passport)
    link = api.get(f"/agency/requests/{rid}/attachments/{passport}", token=clerk["access_token"])
    assert link.status_code == 200 and link.json["version"] == 1
    assert requests.get(link.json["url"], timeout=10).content == original
    journal = api.get(f"/documents/{passport}/journal", token=token).json["items"]
    assert journal[0]["action"] == "downloaded"
    assert journal[0]["actor"] == {"kind": "officer", "name": "Петров Сергей", "department": "Информационный центр"}
    assert api.get(f"/agency/requests/{rid}/attachments/{passport}", token=elsewhere["access_token"]).status_code == 404
    other_doc = api.upload(token, files.pdf(), category="other")
    assert api.get(f"/agency/requests/{rid}/attachments/{other_doc}", token=clerk["access_token"]).status_code == 404
    kept = api.call("DELETE", f"/documents/{passport}", token=token)
    assert kept.status_code == 409 and kept.json["error"]["code"] == "DOCUMENT_ATTACHED"
    assert detail(api, person, rid)["attachment_versions"][passport]["version"] == 1
    assert "user_id" not in (detail(api, person, rid)["officer"] or {})


def test_an_officers_own_pdf_becomes_a_verifiable_result(api):
    person = citizen(api)
    clerk = officer(api, "mvd", "+79991110001")
    rid = submit_ncr(api, person)["id"]
    result_file = api.upload(clerk["access_token"], files.pdf("Spravka"), category="certificate")
    api.post(f"/agency/requests/{rid}/take", token=clerk["access_token"])
    done = api.post(f"/agency/requests/{rid}/approve", {"result_document_id": result_file},
                    token=clerk["access_token"])
    assert done.status_code == 200, done.json
    result = detail(api, person, rid)["result"]
    link = api.get(f"/documents/{result['document_id']}/download", token=person["access_token"]).json
    pdf = requests.get(link["url"], timeout=10).content
    check = api.call("POST", "/verify", raw=pdf, headers={"content-type": "application/pdf"}).json
    assert check["valid"] is True and check["document_id"] == result["document_id"], check


def test_form_data_that_could_not_be_stored_is_refused_not_a_500(api):
    person = citizen(api)
    token = person["access_token"]
    for params in ({"": 1}, {"a#b": 1}, {"n": 10**20}, {"deep": [[[[[[[1]]]]]]]}, {"s": "x" * 6000}):
        resp = api.post("/requests", {"type": "no-criminal-record", "params": params, "draft": True}, token=token)
        fields = resp.json["error"]["fields"]
        assert resp.status_code == 400 and any(f == "params" or f.startswith("params.") for f in fields), resp.json
    raw = b'{"type": "no-criminal-record", "params": {"n": NaN}, "draft": true}'
    assert api.call("POST", "/requests", raw=raw, token=token).json["error"]["code"] == "INVALID_JSON"
    assert api.call("POST", "/requests", raw=b"[" * 60000, token=token).status_code == 400
    for query in ("to=9999-12-31", "from=0001-01-01"):
        assert api.get(f"/requests?{query}", token=token).status_code == 400, query
    forged = base64.urlsafe_b64encode(json.dumps({"gsi1pk": f"REQS#{person['user_id']}"}).encode()).decode()
    assert api.get(f"/requests?cursor={forged}", token=token).json["error"]["code"] == "INVALID_CURSOR"


def test_a_cancel_before_routing_keeps_it_out_of_the_agency_inbox(api):
    person = citizen(api)
    clerk = officer(api, "mvd", "+79991110001")
    passport = api.upload(person["access_token"], files.pdf(), category="passport")
    rid = api.post("/requests", {"type": "no-criminal-record", "params": NCR, "attachments": [passport]},
                   token=person["access_token"]).json["id"]
    api.post(f"/requests/{rid}/cancel", token=person["access_token"])
    api.pump.drain()  # the routing event arrives after the cancel
    assert api.get("/agency/requests", token=clerk["access_token"]).json["items"] == []


def test_a_long_comment_still_exports_in_the_journal_pdf(api):
    person = citizen(api)
    rid = submit_ncr(api, person)["id"]
    text = "Прошу учесть, что " + "документы были поданы ранее и приняты без замечаний. " * 38
    assert api.post(f"/requests/{rid}/comments", {"text": text[:2000]}, token=person["access_token"]).status_code == 204
    resp = api.get(f"/requests/{rid}/journal.pdf", token=person["access_token"], headers={"accept": "application/pdf"})
    assert resp.status_code == 200 and resp.body.startswith(b"%PDF")


def test_a_number_clash_is_retried_with_a_new_number(api, monkeypatch):
    import secrets as secrets_module

    person = citizen(api)
    year = clock.now().astimezone(clock.MSK).year
    taken_pk, taken_sk = keys.request_number(f"{year}-000000007")
    table.put({"pk": taken_pk, "sk": taken_sk, "request_id": "someone-else"})
    draws = iter([7, 8])
    monkeypatch.setattr(secrets_module, "randbelow", lambda _: next(draws))
    resp = api.post("/requests", {"type": "certificate", "params": TAX_DEBT}, token=person["access_token"])
    assert resp.status_code == 201 and resp.json["number"] == f"{year}-000000008"


def test_templates_and_inbox_pages_belong_to_their_owner(api):
    person = citizen(api)
    stranger = citizen(api, phone="+79167654321", last_name="Смирнова", first_name="Анна")
    clerk = officer(api, "mvd", "+79991110001")
    elsewhere = officer(api, "fns", "+79991110003")
    first = submit_ncr(api, person)
    tpl = api.post(f"/requests/{first['id']}/template", {"name": "Мой"}, token=person["access_token"]).json["id"]
    assert api.post("/requests", {"template_id": tpl}, token=stranger["access_token"]).status_code == 404
    api.post(f"/agency/requests/{first['id']}/take", token=clerk["access_token"])
    for action, body in (("request-documents", {"message": "x"}), ("reject", {"reason": "x", "fix": "y"})):
        assert api.post(f"/agency/requests/{first['id']}/{action}", body,
                        token=elsewhere["access_token"]).status_code == 404
    passport = api.upload(person["access_token"], files.pdf(), category="passport")
    for _ in range(21):
        resp = api.post("/requests", {"type": "no-criminal-record", "params": NCR, "attachments": [passport]},
                        token=person["access_token"])
        assert resp.status_code == 201, resp.json
    api.pump.drain()
    for path, token in (("/requests", person["access_token"]), ("/agency/requests?status=submitted",
                                                                 clerk["access_token"])):
        page = api.get(path, token=token).json
        assert len(page["items"]) == 20 and page["cursor"], path
        joiner = "&" if "?" in path else "?"
        rest = api.get(f"{path}{joiner}cursor={page['cursor']}", token=token).json
        assert len(rest["items"]) >= 1 and not {r["id"] for r in rest["items"]} & {r["id"] for r in page["items"]}
    cursor = api.get("/requests", token=person["access_token"]).json["cursor"]
    assert api.get(f"/requests?cursor={cursor}", token=stranger["access_token"]).status_code == 400


def test_the_demo_officer_exists_only_in_the_local_stage():
    code = "import app; print(sorted(s.name for s in app.app.event_sources))"
    names = {}
    for stage in ("local", "prod"):
        env = {"PATH": "/usr/bin:/bin", "KABINET_STAGE": stage, "AWS_DEFAULT_REGION": "eu-central-1"}
        out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, env=env,
                             cwd=str(Path(__file__).resolve().parent.parent))
        names[stage] = out.stdout
    assert "agency_simulator" in names["local"] and "agency_simulator" not in names["prod"]


def test_the_unread_count_is_the_same_on_every_page_of_the_inbox(api):
    from chalicelib.core.ids import new_id
    from chalicelib.notify import inbox
    from chalicelib.store.table import Tx

    person = citizen(api)
    for i in range(25):
        tx = Tx()
        inbox.add(tx, person["user_id"], {"id": new_id(), "at": f"2026-12-01T10:00:{i:02d}Z",
                                         "type": "request.status_changed", "data": {}}, f"Сообщение {i}", "Текст")
        tx.commit()
    first = api.get("/me/messages", token=person["access_token"]).json
    assert first["unread"] == 25 and len(first["items"]) == 20 and first["cursor"]
    second = api.get(f"/me/messages?cursor={first['cursor']}", token=person["access_token"]).json
    assert second["unread"] == 25 and len(second["items"]) == 5
    assert all(not m["read"] for m in second["items"])


def test_comments_keep_their_text_are_audited_reach_only_the_other_side_and_stop_at_100(api):
    """SV-8: a comment stays in the history with its text and its author; the applicant is told of the agency's
    comment (not of their own); a draft cannot be commented; an application takes at most 100 comments."""
    person = citizen(api)
    token = person["access_token"]
    draft = api.post("/requests", {"type": "no-criminal-record", "params": {"last_name": "Кузн"}, "draft": True},
                     token=token).json
    early = api.post(f"/requests/{draft['id']}/comments", {"text": "Вопрос"}, token=token)
    assert early.status_code == 409 and early.json["error"]["code"] == "NOT_SUBMITTED", early.json
    clerk = officer(api, "mvd", "+79991110001")
    rid = submit_ncr(api, person)["id"]
    assert api.post(f"/agency/requests/{rid}/take", {}, token=clerk["access_token"]).status_code == 200
    api.pump.drain()
    before = len(api.get("/me/messages", token=token).json["items"])
    assert api.post(f"/requests/{rid}/comments", {"text": "Спасибо, приложил"}, token=token).status_code == 204
    api.pump.drain()
    assert len(api.get("/me/messages", token=token).json["items"]) == before  # one's own comment: no notice
    mine = api.post(f"/agency/requests/{rid}/comments", {"text": "Принято"}, token=clerk["access_token"])
    assert mine.status_code == 204, mine.json
    api.pump.drain()
    told = api.get("/me/messages", token=token).json["items"]
    assert len(told) == before + 1 and "Петров Сергей: Принято" in json.dumps(told[0], ensure_ascii=False), told[0]
    lines = [(line["kind"], line.get("text"), line["actor"]["kind"]) for line in detail(api, person, rid)["journal"]
             if line["kind"] == "comment"]
    assert lines == [("comment", "Спасибо, приложил", "citizen"), ("comment", "Принято", "officer")]
    audited = [a for a in table.query(keys.user_pk(person["user_id"]), "AUDIT#", limit=200).items
               if a["action"] == "request.comment"]
    assert sorted(a["details"]["request_id"] for a in audited) == [rid, rid], audited
    assert {a["actor"] for a in audited} == {person["user_id"], clerk["user_id"]}, audited
    for n in range(98):  # 2 so far: the 100th is the last one taken
        assert api.post(f"/requests/{rid}/comments", {"text": f"№ {n}"}, token=token).status_code == 204
    over = api.post(f"/requests/{rid}/comments", {"text": "ещё"}, token=token)
    assert over.status_code == 422 and over.json["error"]["code"] == "TOO_MANY_COMMENTS", over.json
    assert sum(line["kind"] == "comment" for line in detail(api, person, rid)["journal"]) == 100


def test_a_cancel_says_so_in_the_history_and_an_unknown_status_filter_names_the_allowed_ones(api):
    """SV-6: the applicant's cancel is a journal line «Отменено заявителем»; a status filter outside the seven
    statuses is a 400 on the `status` field, for the applicant's list and the agency's queue."""
    person = citizen(api)
    rid = submit_ncr(api, person)["id"]
    assert api.post(f"/requests/{rid}/cancel", token=person["access_token"]).status_code == 200
    last = detail(api, person, rid)["journal"][-1]
    assert (last["kind"], last.get("to"), last.get("text")) == ("status", "cancelled", "Отменено заявителем"), last
    clerk = officer(api, "mvd", "+79991110001")
    for path, token in (("/requests", person["access_token"]), ("/agency/requests", clerk["access_token"])):
        bad = api.get(f"{path}?status=done", token=token)
        assert bad.status_code == 400 and list(bad.json["error"]["fields"]) == ["status"], (path, bad.json)
        for status in ("draft", "submitted", "in_progress", "awaiting_documents", "approved", "rejected",
                       "cancelled"):
            assert api.get(f"{path}?status={status}", token=token).status_code == 200, (path, status)
