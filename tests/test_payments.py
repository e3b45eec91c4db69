"""Payments (PY-1..PY-5) through the API on moto, with the ГИС ГМП and acquirer simulators: debts, the fine
discount, Idempotency-Key, once per УИН under concurrency, confirmation codes, webhooks, refunds, the receipt."""

from __future__ import annotations

import json
import threading
import uuid
from datetime import date, timedelta
from typing import Any
from urllib.parse import urlencode, urlsplit

import pytest

from chalicelib.adapters import acquirer
from chalicelib.core import clock
from chalicelib.core.origin import Origin
from chalicelib.payments import payments
from chalicelib.store import keys, table

LICENCE = "99 12 345678"  # a driving licence: two traffic fines (docs/gisgmp.md)
FORM = {"content-type": "application/x-www-form-urlencoded"}
SUCCESS, DECLINED, DUPLICATE, FLAKY = "2200000000000004", "2200000000000012", "2200000000000061", "2200000000000053"


def person(api: Any, phone: str = "+79161234567") -> dict[str, Any]:
    return api.register(phone=phone)


def debts(api: Any, who: dict[str, Any], **query: str) -> list[dict[str, Any]]:
    resp = api.get(f"/payments/debts?{urlencode(query)}", token=who["access_token"])
    assert resp.status_code == 200, resp.json
    return resp.json["items"]


def pay(api: Any, who: dict[str, Any], uins: list[str], key: str | None = None, method: str = "card",
        **extra: Any) -> Any:
    headers = {"Idempotency-Key": key or str(uuid.uuid4())}
    return api.post("/payments", {"uins": uins, "method": method, **extra}, token=who["access_token"],
                    headers=headers)


def confirm(api: Any, who: dict[str, Any], payment: dict[str, Any], phone: str = "+79161234567") -> Any:
    code = api.code_about(phone, "Код для оплаты")
    return api.post(f"/payments/{payment['id']}/confirm", {"code": code}, token=who["access_token"])


def card_flow(api: Any, redirect_url: str, number: str = SUCCESS, *, save: bool = False,
              deliver: bool = True) -> None:
    """The person on the acquirer's pages: the card, then 3-D Secure (the simulator's code is 123456)."""
    ref = urlsplit(redirect_url).path.rsplit("/", 1)[-1]
    h = {**FORM}
    fields = {"number": number, "expiry": (date.today() + timedelta(days=800)).strftime("%m/%y"), "cvc": "123",
              "holder": "IVAN PETROV", **({"save": "on"} if save else {})}
    card = api.client.http.post(f"/dev/acquirer/pay/{ref}/card", headers=h, body=urlencode(fields).encode())
    assert card.status_code == 303, card.body[:300]
    done = api.client.http.post(f"/dev/acquirer/pay/{ref}/3ds", headers=h, body=b"code=123456")
    assert done.status_code == 303, done.body[:300]
    if deliver:
        api.pump.drain()  # the acquirer's webhooks, then the agency worker's receipt


def fine(api: Any, who: dict[str, Any]) -> dict[str, Any]:
    items = debts(api, who, driving_licence=LICENCE)
    fines = [d for d in items if d["kind"] == "fine" and d["found_by"] == "driving_licence"]
    assert len(fines) == 2, items
    return fines[0]


def test_debts_by_a_typed_licence_carry_requisites_and_the_discount(api):
    who = person(api)
    items = debts(api, who, driving_licence=LICENCE)
    assert {d["kind"] for d in items} == {"fine"}
    today = clock.moscow_today()
    discounted = [d for d in items if "discount_until" in d["fine"]]
    full = [d for d in items if "discount_until" not in d["fine"]]
    assert len(discounted) == 1 and len(full) == 1, items
    d = discounted[0]
    decided = date.fromisoformat(d["fine"]["decision_date"])
    assert date.fromisoformat(d["fine"]["discount_until"]) == decided + timedelta(days=20)  # КоАП 32.2 ч. 1.3
    assert today <= decided + timedelta(days=20)
    assert d["to_pay"] == d["fine"]["discounted_amount"] == (d["amount"] + 1) // 2
    assert full[0]["to_pay"] == full[0]["remaining"] == full[0]["amount"]
    assert today > date.fromisoformat(full[0]["fine"]["decision_date"]) + timedelta(days=20)
    for item in items:
        assert isinstance(item["amount"], int) and set(item["recipient"]) == {
            "name", "inn", "kpp", "account", "bic", "bank", "kbk", "oktmo"}
        assert len(item["uin"]) in (20, 25) and item["status"] == "active" and not item["paying"]


def test_a_wrong_identifier_is_refused_by_field(api):
    who = person(api)
    resp = api.get("/payments/debts?driving_licence=12", token=who["access_token"])
    assert resp.status_code == 400 and "driving_licence" in resp.json["error"]["fields"], resp.json


def test_the_amount_comes_from_the_debts_and_the_code_names_it(api):
    who = person(api)
    debt = fine(api, who)
    resp = pay(api, who, [debt["uin"]])
    assert resp.status_code == 201, resp.json
    assert resp.json["amount"] == debt["to_pay"] and resp.json["status"] == "created"
    assert resp.json["confirmation"]["method"] == "sms" and resp.json["confirmation"]["attempts_left"] == 3
    sms = [m["text"] for m in api.outbox("+79161234567") if "Код для оплаты" in m["text"]]
    rub = f"{debt['to_pay'] // 100:,}".replace(",", "\u00a0") + f",{debt['to_pay'] % 100:02d}\u00a0₽"
    assert sms and rub in sms[0], (sms, rub)
    assert api.post("/payments", {"uins": [debt["uin"]], "method": "card", "amount": 1},
                    token=who["access_token"], headers={"Idempotency-Key": "k1"}).status_code == 400
    broken = debt["uin"][:-1] + str((int(debt["uin"][-1]) + 1) % 10)  # the УИН's control digit no longer fits
    refused = pay(api, who, [broken])
    assert refused.status_code == 400 and "uins.0" in refused.json["error"]["fields"], refused.json


def test_a_successful_card_payment_closes_the_debt_and_leaves_a_receipt(api):
    who = person(api)
    debt = fine(api, who)
    created = pay(api, who, [debt["uin"]]).json
    started = confirm(api, who, created)
    assert started.status_code == 200 and started.json["status"] == "started", started.json
    card_flow(api, started.json["redirect_url"])
    done = api.get(f"/payments/{created['id']}", token=who["access_token"]).json
    assert done["status"] == "success" and done["finished"] and done["paid_at"], done
    assert done["receipt_document_id"]
    receipt = api.get(f"/documents/{done['receipt_document_id']}", token=who["access_token"])
    assert receipt.status_code == 200 and receipt.json["category"] == "receipt", receipt.json
    after = {d["uin"]: d for d in debts(api, who, driving_licence=LICENCE)}
    assert after[debt["uin"]]["status"] == "closed" and after[debt["uin"]]["remaining"] == 0
    again = pay(api, who, [debt["uin"]])
    assert again.status_code == 409 and again.json["error"]["code"] == "DEBT_CLOSED", again.json
    inbox = api.get("/me/messages", token=who["access_token"]).json["items"]
    assert any("прошёл" in m["title"] for m in inbox), inbox


def test_idempotency_same_body_same_payment_other_body_409(api):
    who = person(api)
    a, b = debts(api, who, driving_licence=LICENCE)[:2]
    first = pay(api, who, [a["uin"]], key="key-1")
    assert first.status_code == 201
    same = pay(api, who, [a["uin"]], key="key-1")
    assert same.status_code == 200 and same.json["id"] == first.json["id"]
    other = pay(api, who, [b["uin"]], key="key-1")
    assert other.status_code == 409 and other.json["error"]["code"] == "IDEMPOTENCY_KEY_REUSED"
    missing = api.post("/payments", {"uins": [b["uin"]], "method": "card"}, token=who["access_token"])
    assert missing.status_code == 400 and missing.json["error"]["code"] == "IDEMPOTENCY_KEY_REQUIRED"
    bad = pay(api, who, [b["uin"]], key="ключ")
    assert bad.status_code == 400 and "Idempotency-Key" in bad.json["error"]["fields"]
    assert len([p for p in _payments(who)]) == 1


def test_a_key_is_free_again_after_a_day(api, fake_clock):
    who = person(api)
    debt = fine(api, who)
    first = pay(api, who, [debt["uin"]], key="daily-key").json
    fake_clock.advance(16 * 60)
    api.post("/dev/schedules/outbox_sweeper")  # the unconfirmed payment expires and frees the debt
    api.pump.drain()
    fake_clock.advance(24 * 3600 - 16 * 60 - 5)
    who = api.login("+79161234567")
    within = pay(api, who, [debt["uin"]], key="daily-key")
    assert within.status_code == 200 and within.json["id"] == first["id"], within.json
    fake_clock.advance(10)
    who = api.login("+79161234567")
    after = pay(api, who, [debt["uin"]], key="daily-key")
    assert after.status_code == 201 and after.json["id"] != first["id"], after.json


def _payments(who: dict[str, Any]) -> list[dict[str, Any]]:
    return table.query(keys.user_pk(who["user_id"]), keys.PAYMENTS_PREFIX, limit=100).items


def test_a_key_in_flight_answers_409(api):
    who = person(api)
    debt = fine(api, who)
    ikey = keys.idempotency(who["user_id"], payments._hash("slow-key"))
    body = {"uins": [debt["uin"]], "method": "card", "card_id": None, "save_card": False}
    table.put({"pk": ikey[0], "sk": ikey[1], "state": "in_flight", "body_hash": payments.body_digest(body),
               "lease_until": clock.epoch() + 60, "ttl": clock.epoch() + 3600})  # the first call, still working
    resp = pay(api, who, [debt["uin"]], key="slow-key")
    assert resp.status_code == 409 and resp.json["error"]["code"] == "IDEMPOTENCY_IN_FLIGHT", resp.json


def test_twenty_parallel_payments_of_one_uin_with_twenty_keys_make_one_payment(api):
    who = person(api)
    debt = fine(api, who)
    results: list[str] = []
    barrier = threading.Barrier(20)

    def run(n: int) -> None:
        barrier.wait()
        try:
            payments.create(who["user_id"], {"uins": [debt["uin"]], "method": "card"}, f"parallel-{n}",
                            Origin(f"203.0.113.{n}", None))
            results.append("created")
        except Exception as exc:  # the losers' refusals, whatever they are
            results.append(getattr(exc, "code", type(exc).__name__))

    threads = [threading.Thread(target=run, args=(n,)) for n in range(20)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert results.count("created") == 1, results
    assert set(results) == {"created", "DEBT_BEING_PAID"}, results
    assert len(_payments(who)) == 1
    lock = table.get(keys.uin_lock(debt["uin"]))
    assert lock["payment_id"] == _payments(who)[0]["id"]


def test_three_wrong_codes_cancel_the_payment_and_free_the_debt(api):
    who = person(api)
    debt = fine(api, who)
    created = pay(api, who, [debt["uin"]]).json
    right = api.code_about("+79161234567", "Код для оплаты")
    wrong = "000000" if right != "000000" else "111111"
    for left in (2, 1):
        resp = api.post(f"/payments/{created['id']}/confirm", {"code": wrong}, token=who["access_token"])
        assert resp.status_code == 400 and resp.json["error"]["attempts_left"] == left, resp.json
    third = api.post(f"/payments/{created['id']}/confirm", {"code": wrong}, token=who["access_token"])
    assert third.status_code == 409 and third.json["error"]["code"] == "PAYMENT_CANCELLED"
    late = api.post(f"/payments/{created['id']}/confirm", {"code": right}, token=who["access_token"])
    assert late.status_code == 409, late.json
    api.pump.drain()
    assert table.get(keys.uin_lock(debt["uin"])) is None
    assert pay(api, who, [debt["uin"]]).status_code == 201


def test_an_expired_code_is_refused(api, fake_clock):
    who = person(api)
    debt = fine(api, who)
    created = pay(api, who, [debt["uin"]]).json
    code = api.code_about("+79161234567", "Код для оплаты")
    fake_clock.advance(301)
    resp = api.post(f"/payments/{created['id']}/confirm", {"code": code}, token=who["access_token"])
    assert resp.status_code == 400 and resp.json["error"]["code"] == "CODE_INVALID", resp.json


def test_a_declined_card_fails_the_payment_and_frees_the_debt(api):
    who = person(api)
    debt = fine(api, who)
    created = pay(api, who, [debt["uin"]]).json
    started = confirm(api, who, created).json
    card_flow(api, started["redirect_url"], DECLINED)
    done = api.get(f"/payments/{created['id']}", token=who["access_token"]).json
    assert done["status"] == "failed" and done["reason"] == "declined" and done["finished"], done
    assert table.get(keys.uin_lock(debt["uin"])) is None
    assert "receipt_document_id" not in done


def test_a_duplicate_success_and_a_late_pending_change_nothing(api, fake_clock):
    who = person(api)
    debt = fine(api, who)
    created = pay(api, who, [debt["uin"]]).json
    started = confirm(api, who, created).json
    card_flow(api, started["redirect_url"], DUPLICATE)
    fake_clock.advance(5)
    api.pump.drain()
    done = api.get(f"/payments/{created['id']}", token=who["access_token"]).json
    assert done["status"] == "success" and "refunded_amount" not in done, done
    actions = [i["action"] for i in table.query(keys.user_pk(who["user_id"]), "AUDIT#", limit=200).items]
    assert actions.count("payment.succeeded") == 1, actions


def _signed(outcome: acquirer.Outcome, event_id: str) -> tuple[bytes, dict[str, str]]:
    body = acquirer.encode_event(acquirer.Event(event_id, clock.iso(clock.now()), outcome))
    return body, acquirer.sign_webhook(body, timestamp=int(clock.epoch()), secret=acquirer.webhook_secrets()[0])


def _webhook(api: Any, body: bytes, headers: dict[str, str]) -> Any:
    return api.call("POST", acquirer.WEBHOOK_PATH, raw=body, headers=headers)


def test_webhooks_unsigned_replayed_or_stale_are_refused(api, fake_clock):
    who = person(api)
    debt = fine(api, who)
    created = pay(api, who, [debt["uin"]]).json
    started = confirm(api, who, created).json
    order = keys.payment_order(who["user_id"], created["id"])
    outcome = acquirer.Outcome(started["acquirer_ref"], "success", None, created["amount"], order, None,
                               clock.iso(clock.now()))
    body, headers = _signed(outcome, "evt-1")
    assert _webhook(api, body, {}).status_code == 401
    tampered = body.replace(b'"success"', b'"failed"')
    assert _webhook(api, tampered, headers).status_code == 401
    ok = _webhook(api, body, headers)
    assert ok.status_code == 200 and ok.json == {"status": "applied"}, ok.json
    replay = _webhook(api, body, headers)
    assert replay.status_code == 409 and replay.json["error"]["code"] == "WEBHOOK_REPLAYED"
    fake_clock.advance(301)
    stale_body, stale_headers = body, headers
    assert _webhook(api, stale_body, stale_headers).status_code == 401


def test_a_real_charge_after_the_payment_failed_is_refunded_once(api):
    """Out of order: the acquirer's "failed" arrives first, then the person's card is charged after all and the
    success is told three times (new event ids). The money goes back once."""
    who = person(api)
    debt = fine(api, who)
    created = pay(api, who, [debt["uin"]]).json
    started = confirm(api, who, created).json
    order = keys.payment_order(who["user_id"], created["id"])
    failed = acquirer.Outcome(started["acquirer_ref"], "failed", "declined", created["amount"], order, None,
                              clock.iso(clock.now()))
    assert _webhook(api, *_signed(failed, "evt-f")).json == {"status": "applied"}
    card_flow(api, started["redirect_url"])  # the simulator charges the card and sends its success webhook
    late = acquirer.Outcome(started["acquirer_ref"], "success", None, created["amount"], order, None,
                            clock.iso(clock.now()))
    for n in range(2):
        assert _webhook(api, *_signed(late, f"evt-late-{n}")).status_code == 200
    api.pump.drain()
    done = api.get(f"/payments/{created['id']}", token=who["access_token"]).json
    assert done["status"] == "refunded" and done["refunded_amount"] == created["amount"], done
    refunds = table.query(keys.user_pk(who["user_id"]), "REFUND#", limit=10).items
    assert len(refunds) == 1 and refunds[0]["state"] == "done", refunds
    assert acquirer.status(started["acquirer_ref"]).status == "success"


def test_another_person_sees_and_pays_nothing_of_the_first(api):
    first, second = person(api), person(api, "+79167654321")
    debt = fine(api, first)
    created = pay(api, first, [debt["uin"]]).json
    assert api.get(f"/payments/{created['id']}", token=second["access_token"]).status_code == 404
    code = api.code_about("+79161234567", "Код для оплаты")
    stolen = api.post(f"/payments/{created['id']}/confirm", {"code": code}, token=second["access_token"])
    assert stolen.status_code == 404
    assert api.post(f"/payments/{created['id']}/cancel", token=second["access_token"]).status_code == 404
    assert api.get("/payments", token=second["access_token"]).json["items"] == []
    assert api.get("/me/cards", token=second["access_token"]).json["items"] == []
    mine = api.get("/payments", token=first["access_token"]).json["items"]
    assert [p["id"] for p in mine] == [created["id"]]


def test_history_filters_by_status_and_kind(api):
    who = person(api)
    a, b = debts(api, who, driving_licence=LICENCE)[:2]
    paid = pay(api, who, [a["uin"]]).json
    card_flow(api, confirm(api, who, paid).json["redirect_url"])
    open_ = pay(api, who, [b["uin"]]).json
    token = who["access_token"]
    ok = api.get("/payments?status=successful", token=token).json["items"]
    assert [p["id"] for p in ok] == [paid["id"]]
    pending = api.get("/payments?status=processing", token=token).json["items"]
    assert [p["id"] for p in pending] == [open_["id"]]
    assert api.get("/payments?kind=tax", token=token).json["items"] == []
    newest = api.get("/payments", token=token).json["items"]
    assert [p["id"] for p in newest] == [open_["id"], paid["id"]]
    assert json.dumps(newest).count("token") == 0


@pytest.mark.parametrize("method", ["card", "sbp", "wallet", "bank_transfer"])
def test_limits_are_shown_and_enforced(api, monkeypatch, method):
    from chalicelib.payments import rules

    who = person(api)
    listed = api.get(f"/payments/debts?driving_licence={LICENCE}", token=who["access_token"]).json
    assert listed["limits"][method] == rules.DEFAULT_LIMITS[method]
    debt = listed["items"][0]
    monkeypatch.setattr(rules, "limits", lambda: {**rules.DEFAULT_LIMITS, method: debt["to_pay"] - 1})
    resp = pay(api, who, [debt["uin"]], method=method)
    assert resp.status_code == 422 and resp.json["error"]["code"] == "LIMIT_EXCEEDED", resp.json


def test_exports_read_back_by_independent_readers(api):
    """CSV by the csv module, XLSX by openpyxl, PDF by pypdf: each holds the paid debt with its amount."""
    import csv
    import io

    import openpyxl
    import pypdf

    who = person(api)
    debt = fine(api, who)
    paid = pay(api, who, [debt["uin"]]).json
    card_flow(api, confirm(api, who, paid).json["redirect_url"])
    token = who["access_token"]
    rubles = f"{debt['to_pay'] // 100:,}".replace(",", "\u00a0") + f",{debt['to_pay'] % 100:02d}\u00a0₽"

    got = api.get("/payments/history.csv?status=successful", token=token)
    assert got.status_code == 200 and got.headers["Content-Type"].startswith("text/csv")
    rows = list(csv.reader(io.StringIO(got.body.decode("utf-8-sig")), delimiter=";"))
    assert rows[0][:3] == ["Дата и время (МСК)", "Номер платежа", "Что оплачено"] and len(rows) == 2, rows
    assert rows[1][1] == paid["id"] and rows[1][5] == debt["uin"] and rows[1][6] == rubles and rows[1][8] == "Успешно"

    xlsx = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"  # API Gateway: binary when asked
    book = openpyxl.load_workbook(io.BytesIO(api.get("/payments/history.xlsx", token=token,
                                                     headers={"accept": xlsx}).body))
    sheet = book.active
    values = [[c.value for c in row] for row in sheet.iter_rows()]
    assert values[1][1] == paid["id"] and values[1][5] == debt["uin"]
    assert round(values[1][6] * 100) == debt["to_pay"]  # a number cell, rubles: a spreadsheet can sum it

    text = "".join(p.extract_text() for p in pypdf.PdfReader(io.BytesIO(
        api.get("/payments/history.pdf", token=token, headers={"accept": "application/pdf"}).body)).pages)
    assert debt["uin"] in text.replace("\n", "") and "История платежей" in text

    listed = api.get(f"/payments/debts.csv?driving_licence={LICENCE}", token=token)
    debt_rows = list(csv.reader(io.StringIO(listed.body.decode("utf-8-sig")), delimiter=";"))
    assert {r[0] for r in debt_rows[1:]} == {d["uin"] for d in debts(api, who, driving_licence=LICENCE)}
    closed = next(r for r in debt_rows if r[0] == debt["uin"])
    assert closed[7] == "Оплачено"
    pdf_text = "".join(p.extract_text() for p in pypdf.PdfReader(io.BytesIO(
        api.get(f"/payments/debts.pdf?driving_licence={LICENCE}", token=token,
                headers={"accept": "application/pdf"}).body)).pages)
    assert "Задолженности" in pdf_text


def test_disputing_a_fine_files_an_appeal_with_the_documents_and_marks_the_debt(api):
    from tests import files
    from tests.test_applications import citizen

    who = citizen(api)
    debt = fine(api, who)
    photo = api.upload(who["access_token"], files.pdf(), category="other")
    resp = api.post(f"/payments/debts/{debt['uin']}/dispute", {
        "grounds": "На фотографии не мой автомобиль: номер читается иначе", "attachments": [photo]},
        token=who["access_token"])
    assert resp.status_code == 201, resp.json
    api.pump.drain()
    req = api.get(f"/requests/{resp.json['request_id']}", token=who["access_token"]).json
    assert req["service_id"] == "traffic-fine-appeal" and req["status"] == "submitted", req
    assert req["params"]["resolution_number"] == debt["uin"]
    assert req["params"]["resolution_date"] == debt["fine"]["decision_date"]
    assert [a["id"] if isinstance(a, dict) else a for a in req["attachments"]] == [photo]
    after = {d["uin"]: d for d in debts(api, who, driving_licence=LICENCE)}
    assert after[debt["uin"]]["disputed"] and after[debt["uin"]]["request_id"] == resp.json["request_id"]
    others = [d for u, d in after.items() if u != debt["uin"] and d["kind"] == "fine"]
    assert others and not any(d["disputed"] for d in others)
    tax = api.post("/payments/debts/12345678901234567890/dispute", {"grounds": "Не согласен с начислением"},
                   token=who["access_token"])
    assert tax.status_code == 404


def test_due_reminders_come_7_and_1_days_ahead_and_once_overdue_each_once(api, fake_clock):
    """PY-6: a watched person (checked INN/SNILS) hears about a debt 7 days and 1 day before its due date and the
    day after it passed; running the day again sends nothing more."""
    from chalicelib.adapters import gisgmp
    from chalicelib.payments import reminders
    from chalicelib.store.table import Tx
    from tests.test_applications import citizen

    who = citizen(api)
    api.no_quiet_hours(who["access_token"])
    tx = Tx()
    reminders.watch(tx, who["user_id"])
    tx.commit()
    user = table.get(keys.user(who["user_id"]))
    charges = gisgmp.search({"inn": user["inn"], "snils": user["snils"]})
    target = next(c for c in charges if c.due_date and c.status != "closed")
    due = date.fromisoformat(target.due_date)
    seen: dict[int, int] = {}
    for offset in (8, 7, 6, 1, 0, -1, -2):
        day = due - timedelta(days=offset)
        first = reminders.remind_due(day)
        again = reminders.remind_due(day)
        assert again == 0, day
        mine = [k for k in _reminder_keys(who) if k.startswith(f"PAYREMIND#{target.uin}#")]
        seen[offset] = len(mine)
        assert first >= 0
    assert seen == {8: 0, 7: 1, 6: 1, 1: 2, 0: 2, -1: 3, -2: 3}, seen
    api.pump.drain()
    texts = [m["text"] for m in api.outbox(who["phone"]) if target.title[:20] in m["text"]]
    assert len(texts) == 3, texts


def _reminder_keys(who: dict[str, Any]) -> list[str]:
    return [i["sk"] for i in table.query(keys.user_pk(who["user_id"]), "PAYREMIND#", limit=200).items]


TIMEOUT = "2200000000000046"  # the acquirer never sends a webhook; its status turns success after 60 s


def _started(api: Any, who: dict[str, Any], **extra: Any) -> tuple[dict[str, Any], dict[str, Any]]:
    debt = fine(api, who)
    created = pay(api, who, [debt["uin"]], **extra).json
    return debt, confirm(api, who, created).json


def test_with_no_webhook_the_page_polls_the_acquirer(api, fake_clock):
    who = person(api)
    _, started = _started(api, who)
    card_flow(api, started["redirect_url"], TIMEOUT)
    now = api.get(f"/payments/{started['id']}", token=who["access_token"]).json
    assert now["status"] == "started", now  # the acquirer still says pending
    fake_clock.advance(61)
    done = api.get(f"/payments/{started['id']}", token=who["access_token"]).json
    assert done["status"] == "success", done  # our poll, not a webhook
    api.pump.drain()
    assert api.get(f"/payments/{started['id']}", token=who["access_token"]).json["receipt_document_id"]


def test_status_unknown_is_reconciled_by_the_schedule(api, fake_clock):
    """The webhook has not come and the acquirer does not answer our polls (the flaky card: three failures): the
    payment says status_unknown, and the schedule asks again every five minutes until the outcome is final."""
    who = person(api)
    _, started = _started(api, who)
    card_flow(api, started["redirect_url"], FLAKY, deliver=False)  # the pump, which posts webhooks, is not run
    pid = started["id"]
    fake_clock.advance(31 * 60)  # past the 30 minutes a started payment waits
    unknown = payments.view(payments.current(who["user_id"], pid))  # the page, asked after the token's life
    assert unknown["status"] == "status_unknown" and not unknown["finished"], unknown
    statuses = []
    for _ in range(4):
        fake_clock.advance(301)
        api.post("/dev/schedules/outbox_sweeper")
        statuses.append(table.get(keys.payment(who["user_id"], pid))["status"])
    assert statuses == ["status_unknown", "status_unknown", "success", "success"], statuses


def test_an_unconfirmed_payment_expires_and_frees_the_debt(api, fake_clock):
    who = person(api)
    debt = fine(api, who)
    created = pay(api, who, [debt["uin"]]).json
    fake_clock.advance(14 * 60)
    assert api.post("/dev/schedules/outbox_sweeper").json["result"]["payments_expired"] == 0
    fake_clock.advance(2 * 60)
    assert api.post("/dev/schedules/outbox_sweeper").json["result"]["payments_expired"] == 1
    api.pump.drain()
    gone = table.get(keys.payment(who["user_id"], created["id"]))  # 16 minutes: past the access token's life
    assert gone["status"] == "cancelled" and gone["reason"] == "expired", gone
    assert table.get(keys.uin_lock(debt["uin"])) is None
    fresh = api.login("+79161234567")
    late = api.post(f"/payments/{created['id']}/confirm", {"code": "123456"}, token=fresh["access_token"])
    assert late.status_code == 409 and late.json["error"]["code"] == "PAYMENT_NOT_PENDING", late.json


def test_a_saved_card_is_only_a_token_and_a_mask_and_only_its_owners(api):
    who, other = person(api), person(api, "+79167654321")
    _, started = _started(api, who, save_card=True)
    card_flow(api, started["redirect_url"], save=True)
    cards = api.get("/me/cards", token=who["access_token"]).json["items"]
    assert len(cards) == 1 and cards[0]["mask"].endswith("0004") and set(cards[0]) == {
        "id", "mask", "expiry", "brand", "added_at"}, cards
    stored = table.get(keys.card(who["user_id"], cards[0]["id"]))
    assert "2200000000000004" not in json.dumps(stored) and stored["token"]
    debt = fine(api, other)
    stolen = pay(api, other, [debt["uin"]], card_id=cards[0]["id"])
    assert stolen.status_code == 404, stolen.json
    assert api.call("DELETE", f"/me/cards/{cards[0]['id']}", token=other["access_token"]).status_code == 404
    assert api.call("DELETE", f"/me/cards/{cards[0]['id']}", token=who["access_token"]).status_code == 204
    assert api.get("/me/cards", token=who["access_token"]).json["items"] == []


def test_gisgmp_is_told_of_the_payment_even_when_its_first_answer_is_lost(api):
    """ГИС ГМП's pattern 005 loses the first report of each payment (docs/gisgmp.md): the agency worker's event
    comes back from the queue and the second report goes through; ГИС ГМП then shows the debt closed."""
    import time

    from chalicelib.adapters import gisgmp
    from tests.test_applications import citizen

    who = citizen(api)
    table.update(keys.user(who["user_id"]), "SET inn = :i", values={":i": "770712300544"})
    tax = next(d for d in debts(api, who) if d["kind"] == "tax" and d["found_by"] == "inn")
    created = pay(api, who, [tax["uin"]]).json
    card_flow(api, confirm(api, who, created).json["redirect_url"])
    deadline = time.monotonic() + 15
    while time.monotonic() < deadline and gisgmp.charge(tax["uin"]).status != "closed":
        time.sleep(0.5)
        api.pump.drain()
    told = gisgmp.charge(tax["uin"])
    assert told.status == "closed" and told.remaining == 0, told
