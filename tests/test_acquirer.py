"""The card acquirer adapter (PY-3) and its local simulator: signed webhooks, sessions by order id, every test card's
outcome through the acquirer's pages, 3-D Secure, refunds, saved cards, and the webhook deliveries with retries.
Expected values come from the contract (docs/acquirer.md), not from the code under test."""

from __future__ import annotations

import json
import re
from functools import cache
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit

import pytest
from chalice import Chalice
from chalice.test import Client

from app import app as kabinet
from chalicelib.adapters import acquirer
from chalicelib.adapters.acquirer import AcquirerUnavailable, Outcome, WebhookRefused
from chalicelib.api import dev_acquirer
from chalicelib.core import clock
from chalicelib.core.aws import client
from chalicelib.core.config import settings
from infra import acquirer_simulator as sim

FORM = {"content-type": "application/x-www-form-urlencoded"}
RETURN = "http://127.0.0.1:8000/payments/P1/return?from=acquirer"
SECRET = b"k" * 32


@pytest.fixture
def acq(cloud: dict[str, str], fake_clock: Any) -> Client:
    """The simulator registered, and a client for its pages: the real app's when app.py registers them, else an
    app of our own (a blueprint serves one app at a time)."""
    acquirer.register(sim.Simulator())
    return Client(_pages_app(), stage_name="local")


@cache
def _pages_app() -> Chalice:
    """Once per session: chalice's Blueprint loses its routes' methods when registered a second time."""
    if any(path.startswith("/dev/acquirer/") for path in kabinet.routes):
        return kabinet
    own = Chalice(app_name="acquirer-pages")
    own.register_blueprint(dev_acquirer.bp)
    return own


def _expiry(years: int = 2) -> str:
    return f"{clock.now().month:02d}/{(clock.now().year + years) % 100:02d}"


def _path(url: str) -> str:
    parts = urlsplit(url)
    return parts.path + (f"?{parts.query}" if parts.query else "")


def _post(acq: Client, path: str, fields: dict[str, str]) -> Any:
    return acq.http.post(path, headers=FORM, body=urlencode(fields).encode())


def _card_page(acq: Client, ref: str, number: str, **extra: str) -> Any:
    fields = {"number": number, "expiry": _expiry(), "cvc": "123", "holder": "Ivan Petrov", **extra}
    return _post(acq, f"/dev/acquirer/pay/{ref}/card", fields)


def _pay(acq: Client, number: str, order_id: str = "P1", amount: int = 150000, code: str = "123456",
         save_card: bool = False, clock_: Any = None, **extra: str) -> str:
    started = acquirer.start(order_id, amount, "card", description="Госпошлина за паспорт", return_url=RETURN,
                             save_card=save_card)
    if clock_ is not None:
        clock_.advance(30)  # the person types the card in
    page = acq.http.get(_path(started.redirect_url))
    assert page.status_code == 200 and b'name="number"' in page.body
    went = _card_page(acq, started.ref, number, **extra)
    assert went.status_code == 303, went.body
    done = _post(acq, f"/dev/acquirer/pay/{started.ref}/3ds", {"code": code})
    assert done.status_code == 303
    back = urlsplit(done.headers["Location"])
    assert back._replace(query="").geturl() == RETURN.split("?")[0]
    assert parse_qs(back.query) == {"from": ["acquirer"], "ref": [started.ref]}  # the return_url, plus ?ref=
    return started.ref


def _event(outcome: Outcome | None = None) -> bytes:
    outcome = outcome or Outcome("R1", "success", None, 150000, "P1", None, "2026-12-03T10:00:00Z")
    return acquirer.encode_event(acquirer.Event("E1", "2026-12-03T10:00:01Z", outcome))


# -- signatures ------------------------------------------------------------------------------------------------

def test_a_signed_webhook_verifies_and_carries_its_event():
    body = _event()
    headers = acquirer.sign_webhook(body, timestamp=1_800_000_000, secret=SECRET)
    assert headers["X-Acquirer-Timestamp"] == "1800000000"
    assert re.fullmatch(r"v1=[0-9a-f]{64}", headers["X-Acquirer-Signature"])
    event = acquirer.verify_webhook(headers, body, now=1_800_000_000 + 300, secrets=[SECRET])
    assert (event.event_id, event.sent_at) == ("E1", "2026-12-03T10:00:01Z")
    assert event.outcome == Outcome("R1", "success", None, 150000, "P1", None, "2026-12-03T10:00:00Z")
    lower = {k.lower(): v for k, v in headers.items()}  # HTTP header names are case-insensitive
    assert acquirer.verify_webhook(lower, body, now=1_800_000_000 - 300, secrets=[SECRET]) == event


@pytest.mark.parametrize("case", ["no timestamp", "no signature", "wrong secret", "tampered body", "late", "early",
                                  "not a number", "not v1", "not json", "bad outcome", "failed without reason"])
def test_webhooks_that_are_not_the_acquirers_or_not_now_are_refused(case: str):
    body = _event()
    now = 1_800_000_000
    stamp = now - 301 if case == "late" else now + 301 if case == "early" else now
    if case == "not json":
        body = b"{not json"
    if case == "bad outcome":
        body = body.replace(b'"success"', b'"paid"')
    if case == "failed without reason":
        body = body.replace(b'"success"', b'"failed"')
    headers = acquirer.sign_webhook(body, timestamp=stamp, secret=b"x" * 32 if case == "wrong secret" else SECRET)
    if case == "tampered body":
        body = body.replace(b"150000", b"1")
    if case == "no timestamp":
        del headers["X-Acquirer-Timestamp"]
    if case == "no signature":
        del headers["X-Acquirer-Signature"]
    if case == "not a number":
        headers["X-Acquirer-Timestamp"] = "1.8e9"
    if case == "not v1":
        headers["X-Acquirer-Signature"] = headers["X-Acquirer-Signature"].replace("v1=", "v0=")
    with pytest.raises(WebhookRefused):
        acquirer.verify_webhook(headers, body, now=now, secrets=[SECRET])


def test_the_previous_secret_still_verifies_after_a_rotation(cloud):
    sm = client("secretsmanager")
    secret_id = settings().acquirer_webhook_secret_id
    before = json.loads(sm.get_secret_value(SecretId=secret_id)["SecretString"])
    assert len(bytes.fromhex(before["current"])) == 32  # bootstrap filled a random 32-byte key
    old = bytes.fromhex(before["current"])
    sm.put_secret_value(SecretId=secret_id, SecretString=acquirer.rotated_webhook_secret(json.dumps(before)))
    acquirer.forget_secrets()
    new = bytes.fromhex(json.loads(sm.get_secret_value(SecretId=secret_id)["SecretString"])["current"])
    assert new != old and acquirer.webhook_secrets() == (new, old)
    body, now = _event(), clock.epoch()
    for key in (old, new):
        acquirer.verify_webhook(acquirer.sign_webhook(body, timestamp=now, secret=key), body, now=now)
    both = acquirer.sign_webhook(body, timestamp=now, secret=SECRET)["X-Acquirer-Signature"] + ", " + \
        acquirer.sign_webhook(body, timestamp=now, secret=new)["X-Acquirer-Signature"]
    acquirer.verify_webhook({"X-Acquirer-Timestamp": str(now), "X-Acquirer-Signature": both}, body, now=now)
    with pytest.raises(WebhookRefused):
        acquirer.verify_webhook(acquirer.sign_webhook(body, timestamp=now, secret=SECRET), body, now=now)


# -- sessions and outcomes -------------------------------------------------------------------------------------

def test_starting_an_order_twice_gives_the_same_session(acq):
    first = acquirer.start("P1", 150000, "card", description="Штраф ГИБДД", return_url=RETURN)
    again = acquirer.start("P1", 150000, "card", description="Штраф ГИБДД", return_url=RETURN)
    other = acquirer.start("P2", 150000, "card", description="Штраф ГИБДД", return_url=RETURN)
    assert again == first and other.ref != first.ref
    assert first.redirect_url == f"{settings().public_url}/dev/acquirer/pay/{first.ref}"
    assert acquirer.status(first.ref) == Outcome(first.ref, "pending", None, 150000, "P1", None, None)
    with pytest.raises(ValueError):
        acquirer.start("P3", 100, "cash", description="x", return_url=RETURN)
    with pytest.raises(ValueError):
        acquirer.start("P1", 999, "card", description="Штраф ГИБДД", return_url=RETURN)  # the order, changed


@pytest.mark.parametrize(("number", "status", "reason"), [
    ("2200 0000 0000 0004", "success", None),
    ("4111 1111 1111 1111", "success", None),
    ("2200 0000 0000 0012", "failed", "declined"),
    ("2200 0000 0000 0020", "failed", "insufficient_funds"),
    ("2200 0000 0000 0038", "failed", "3ds_failed"),
])
def test_each_test_card_ends_as_documented(acq, fake_clock, number, status, reason):
    ref = _pay(acq, number)
    result = acquirer.status(ref)
    assert (result.status, result.reason, result.amount, result.order_id) == (status, reason, 150000, "P1")
    assert result.finished_at == clock.iso(clock.now()) and result.card is None
    if reason:
        assert acquirer.REASONS[reason]
    page = acq.http.get(f"/dev/acquirer/pay/{ref}")  # back on the acquirer's page later: the outcome, no form
    assert page.status_code == 200 and b'name="number"' not in page.body


def test_the_timeout_card_stays_pending_without_a_webhook_then_succeeds(acq, fake_clock):
    ref = _pay(acq, "2200000000000046")
    assert acquirer.status(ref).status == "pending"
    fake_clock.advance(59)
    assert acquirer.status(ref).status == "pending"
    fake_clock.advance(2)
    assert acquirer.status(ref).status == "success"
    assert sim.deliveries(ref) == []


def test_the_flaky_card_makes_status_unavailable_three_times(acq):
    ref = _pay(acq, "2200000000000053")
    for _ in range(3):
        with pytest.raises(AcquirerUnavailable):
            acquirer.status(ref)
    assert acquirer.status(ref).status == "success"


def test_the_duplicate_card_sends_success_twice_and_a_late_pending(acq, fake_clock):
    _pay(acq, "2200000000000061", clock_=fake_clock)
    sent: list[acquirer.Event] = []

    def post(body: bytes, headers: dict[str, str]) -> int:
        sent.append(acquirer.verify_webhook(headers, body, now=clock.epoch()))
        return 200

    sim.deliver_webhooks(post)
    fake_clock.advance(3)
    sim.deliver_webhooks(post)
    assert [e.outcome.status for e in sent] == ["success", "success", "pending"]
    assert len({e.event_id for e in sent}) == 3 and {e.outcome.order_id for e in sent} == {"P1"}
    assert sent[2].sent_at < sent[0].sent_at  # the late one was written before the success


def test_a_wrong_3ds_code_may_be_retried_and_the_third_fails_the_payment(acq):
    started = acquirer.start("P1", 5000, "card", description="Налог", return_url=RETURN)
    assert _card_page(acq, started.ref, "2200000000000004").status_code == 303
    page = acq.http.get(f"/dev/acquirer/pay/{started.ref}")
    assert b"123456" in page.body and "Код из SMS банка".encode() in page.body
    for left in (2, 1):
        wrong = _post(acq, f"/dev/acquirer/pay/{started.ref}/3ds", {"code": "000000"})
        assert wrong.status_code == 400 and f"Осталось попыток: {left}".encode() in wrong.body
    assert acquirer.status(started.ref).status == "pending"
    assert _post(acq, f"/dev/acquirer/pay/{started.ref}/3ds", {"code": "111111"}).status_code == 303
    assert (acquirer.status(started.ref).status, acquirer.status(started.ref).reason) == ("failed", "3ds_failed")


def test_one_wrong_code_then_the_right_one_pays(acq):
    started = acquirer.start("P1", 5000, "card", description="Налог", return_url=RETURN)
    _card_page(acq, started.ref, "2200000000000004")
    _post(acq, f"/dev/acquirer/pay/{started.ref}/3ds", {"code": "000000"})
    assert _post(acq, f"/dev/acquirer/pay/{started.ref}/3ds", {"code": "123456"}).status_code == 303
    assert acquirer.status(started.ref).status == "success"


def test_the_card_form_names_each_wrong_field_in_russian(acq, fake_clock):
    started = acquirer.start("P1", 5000, "card", description="Налог", return_url=RETURN)
    blank = dict.fromkeys(("number", "expiry", "cvc", "holder"), "")
    empty = _post(acq, f"/dev/acquirer/pay/{started.ref}/card", blank)
    text = empty.body.decode()
    assert empty.status_code == 400 and "Проверьте данные карты" in text
    for message in ("Введите номер карты", "Введите срок действия карты", "Введите код CVC",
                    "Введите имя владельца, как на карте"):
        assert message in text
    past = f"{clock.now().month:02d}/{(clock.now().year - 1) % 100:02d}"
    wrong = _post(acq, f"/dev/acquirer/pay/{started.ref}/card", {
        "number": "2200 0000 0000 0005", "expiry": past, "cvc": "987", "holder": "Иван"})
    text = wrong.body.decode()
    assert wrong.status_code == 400
    assert "Номер карты введён с ошибкой" in text and "Срок действия карты истёк" in text
    assert "латинскими буквами" in text and "987" not in text  # the CVC is never written back
    assert 'aria-invalid="true"' in text and 'href="#number"' in text
    assert _post(acq, f"/dev/acquirer/pay/{started.ref}/card", {
        "number": "2200000000000004", "expiry": "13/30", "cvc": "12", "holder": "IVAN"}).status_code == 400
    assert acquirer.status(started.ref).status == "pending"


def test_the_pages_are_plain_accessible_html_under_a_strict_csp(acq):
    started = acquirer.start("P1", 5000, "card", description="Налог", return_url=RETURN, save_card=True)
    page = acq.http.get(f"/dev/acquirer/pay/{started.ref}")
    html = page.body.decode()
    csp = page.headers["Content-Security-Policy"]
    assert "unsafe-inline" not in csp and "default-src 'none'" in csp and "<script" not in html
    assert '<html lang="ru">' in html and html.count("<h1>") == 1 and " style=" not in html
    inputs = re.findall(r'<input id="([^"]+)"', html)
    assert set(inputs) == {"number", "expiry", "cvc", "holder"}
    assert all(f'<label for="{name}">' in html for name in inputs)
    assert re.search(r'<label class="check"><input type="checkbox" name="save"', html)  # asked for at start
    assert acq.http.get("/dev/acquirer/style.css").status_code == 200
    assert acq.http.get("/dev/acquirer/pay/01NOSUCHSESSION0000000000").status_code == 404


def test_a_saved_card_comes_back_and_pays_straight_through_3ds(acq):
    ref = _pay(acq, "2200000000000004", save_card=True, save="on")
    card = acquirer.status(ref).card
    assert card is not None and (card.mask, card.expiry, card.brand) == ("2200 00•• •••• 0004", _expiry(), "mir")
    again = acquirer.start("P2", 7000, "card", description="Налог", return_url=RETURN, card_token=card.token)
    page = acq.http.get(_path(again.redirect_url))
    assert b'name="code"' in page.body and b'name="number"' not in page.body
    _post(acq, f"/dev/acquirer/pay/{again.ref}/3ds", {"code": "123456"})
    assert acquirer.status(again.ref) == Outcome(again.ref, "success", None, 7000, "P2", None,
                                                 clock.iso(clock.now()))
    unknown = acquirer.start("P3", 7000, "card", description="Налог", return_url=RETURN, card_token="nope")
    assert (acquirer.status(unknown.ref).status, acquirer.status(unknown.ref).reason) == ("failed", "declined")


def test_a_card_is_saved_only_when_the_person_ticks_the_box(acq):
    ref = _pay(acq, "2200000000000004", save_card=True)  # offered, not ticked
    assert acquirer.status(ref).status == "success" and acquirer.status(ref).card is None


def test_binding_a_card_charges_nothing_and_returns_its_token(acq):
    started = acquirer.bind_card("B1", RETURN)
    assert b'name="save"' not in acq.http.get(_path(started.redirect_url)).body  # binding always saves
    _card_page(acq, started.ref, "4111111111111111")
    _post(acq, f"/dev/acquirer/pay/{started.ref}/3ds", {"code": "123456"})
    result = acquirer.status(started.ref)
    assert (result.status, result.amount, result.order_id) == ("success", 0, "B1")
    assert result.card is not None and result.card.brand == "visa" and result.card.mask == "4111 11•• •••• 1111"


@pytest.mark.parametrize(("method", "action", "status"), [("sbp", "pay", "success"), ("sbp", "refuse", "failed"),
                                                          ("wallet", "pay", "success"), ("wallet", "refuse", "failed")])
def test_sbp_and_wallet_pages_confirm_or_refuse(acq, method, action, status):
    started = acquirer.start("P1", 5000, method, description="Налог", return_url=RETURN)
    page = acq.http.get(_path(started.redirect_url)).body.decode()
    assert "Отказаться" in page
    if method == "sbp":
        assert 'src="data:image/svg+xml;base64,' in page and "Оплатить в приложении банка" in page
    went = _post(acq, f"/dev/acquirer/pay/{started.ref}/decide", {"action": action})
    assert went.status_code == 303 and f"ref={started.ref}" in went.headers["Location"]
    result = acquirer.status(started.ref)
    assert (result.status, result.reason) == (status, None if status == "success" else "declined")


def test_a_bank_transfer_arrives_later(acq, fake_clock):
    started = acquirer.start("P1", 5000, "bank_transfer", description="Налог", return_url=RETURN)
    assert "Я оплатил в своём банке" in acq.http.get(_path(started.redirect_url)).body.decode()
    assert _post(acq, f"/dev/acquirer/pay/{started.ref}/transfer", {"action": "paid"}).status_code == 303
    assert acquirer.status(started.ref).status == "pending"
    assert sim.deliver_webhooks(lambda body, headers: 200) == 0  # the webhook is not due yet
    fake_clock.advance(5)
    assert acquirer.status(started.ref).status == "success"
    assert sim.deliver_webhooks(lambda body, headers: 200) == 1


def test_an_unfinished_session_expires(acq, fake_clock):
    started = acquirer.start("P1", 5000, "card", description="Налог", return_url=RETURN)
    fake_clock.advance(20 * 60)
    assert (acquirer.status(started.ref).status, acquirer.status(started.ref).reason) == ("failed", "expired")


# -- refunds ---------------------------------------------------------------------------------------------------

def test_refunds_are_idempotent_by_key_and_never_exceed_the_charge(acq):
    ref = _pay(acq, "2200000000000004", amount=1000)
    first = acquirer.refund(ref, 600, "k1")
    assert acquirer.refund(ref, 600, "k1") == first  # the same key: the same refund, money returned once
    with pytest.raises(ValueError):
        acquirer.refund(ref, 500, "k2")  # 600 + 500 > 1000
    second = acquirer.refund(ref, 400, "k2")
    assert second != first
    with pytest.raises(ValueError):
        acquirer.refund(ref, 1, "k3")
    declined = _pay(acq, "2200000000000012", order_id="P2")
    with pytest.raises(ValueError):
        acquirer.refund(declined, 100, "k4")


# -- webhook deliveries ----------------------------------------------------------------------------------------

def test_due_webhooks_are_signed_retried_with_backoff_and_sent_once_delivered(acq, fake_clock):
    ref = _pay(acq, "2200000000000004")
    calls: list[tuple[dict[str, str], bytes]] = []
    answers = [500, 503]

    def post(body: bytes, headers: dict[str, str]) -> int:
        calls.append((headers, body))
        return answers.pop(0) if answers else 200

    assert sim.deliver_webhooks(post) == 1
    headers, body = calls[0]
    event = acquirer.verify_webhook(headers, body, now=clock.epoch())  # the secret the API verifies with
    assert (event.outcome.ref, event.outcome.status, event.outcome.amount) == (ref, "success", 150000)
    assert headers["Content-Type"] == "application/json"
    assert sim.deliver_webhooks(post) == 0  # the 500 waits for its backoff
    fake_clock.advance(2)
    assert sim.deliver_webhooks(post) == 1  # second try, after 2 s, answered 503
    fake_clock.advance(3)
    assert sim.deliver_webhooks(post) == 0  # the third waits 4 s
    fake_clock.advance(1)
    assert sim.deliver_webhooks(post) == 1  # answered 200
    assert {c[1] for c in calls} == {body}  # the same event each time
    assert len({c[0]["X-Acquirer-Timestamp"] for c in calls}) == 3  # signed anew at each attempt
    fake_clock.advance(3600)
    assert sim.deliver_webhooks(post) == 0 and len(calls) == 3
    [delivery] = sim.deliveries(ref)
    assert delivery["delivery_state"] == "delivered"
    assert [a["status"] for a in delivery["answer_log"]] == [500, 503, 200]


def test_a_webhook_nobody_takes_is_given_up_after_five_attempts(acq, fake_clock):
    ref = _pay(acq, "2200000000000004")
    sent = 0
    for _ in range(10):
        sent += sim.deliver_webhooks(lambda body, headers: 1 / 0)  # no answer at all
        fake_clock.advance(20)
    [delivery] = sim.deliveries(ref)
    assert sent == 5 and delivery["delivery_state"] == "failed"
    assert [a["status"] for a in delivery["answer_log"]] == [0] * 5


def test_the_pump_sends_due_webhooks_to_the_api(acq, api):
    ref = _pay(acq, "2200000000000004")
    api.pump.drain()
    [delivery] = sim.deliveries(ref)
    assert len(delivery["answer_log"]) == 1  # posted in-process to WEBHOOK_PATH; the answer is the payments API's
