"""ГИС ГМП adapter and its local simulator (PY-1, PY-2): identifiers, УИН, the documented patterns (docs/gisgmp.md),
the demo citizen's charges, and payments reported once."""

from __future__ import annotations

import dataclasses
import json
import threading
import time
from datetime import UTC, date, datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal

import pytest

from chalicelib.adapters import gisgmp
from chalicelib.core import aws
from chalicelib.core.config import settings

DEMO = {"inn": "500100732259", "snils": "11223344595"}  # infra/seed.py, the demo citizen
# Identifiers whose pattern digits (INN 8-10, SNILS 7-9, others the last three) pick an outcome (docs/gisgmp.md).
INN = {"none": "770712300086", "down": "770712300150", "slow": "770712300223", "partly": "770712300304",
       "closed": "770712300470", "lost": "770712300544"}
SNILS = {"none": "12345600018", "down": "12345600119", "partly": "12345600321", "closed": "12345600422"}
OTHER_INN = "770712312349"  # a plain one (pattern 123)


@pytest.fixture
def moscow(fake_clock):
    """The fake clock at 12:00 Moscow time on 3 December 2026."""
    fake_clock.now = datetime(2026, 12, 3, 9, 0, tzinfo=UTC)
    return fake_clock


@pytest.fixture(autouse=True)
def quick(monkeypatch):
    monkeypatch.setenv("KABINET_GISGMP_DELAY", "0.005")
    gisgmp.register(None)
    yield
    gisgmp.register(None)


def _check_digit(body: str) -> str:
    """The ГИС ГМП rule written out independently: weights 1..10 from the left, repeated; mod 11; a 10 is recomputed
    with weights 3..10,1,2,...; a second 10 is 0."""
    first = [1, 2, 3, 4, 5, 6, 7, 8, 9, 10]
    second = [3, 4, 5, 6, 7, 8, 9, 10, 1, 2]
    for weights in (first, second):
        rest = sum(int(d) * weights[i % 10] for i, d in enumerate(body)) % 11
        if rest != 10:
            return str(rest)
    return "0"


def _uin(body: str) -> str:
    return body + _check_digit(body)


# -- identifiers --

@pytest.mark.parametrize(("kind", "typed", "normal"), [
    ("inn", " 5001-0073 2259 ", "500100732259"),
    ("snils", "112-233-445 95", "11223344595"),
    ("driving_licence", "99 12 345678", "9912345678"),
    ("driving_licence", "77 ab 123456", "77АВ123456"),  # Latin letters typed: the Cyrillic twins
    ("vehicle_certificate", "77 ас–123456", "77АС123456"),  # lower-case Cyrillic, an en dash
    ("utility_account", "1234-5678", "12345678"),
    ("utility_account", "00000000000000000001", "00000000000000000001"),
    ("uin", "1881 0177 2000 0000 0017", "18810177200000000017"),
])
def test_normalise_removes_separators_and_upper_cases_document_letters(kind, typed, normal):
    assert gisgmp.normalise(kind, typed) == normal


@pytest.mark.parametrize(("kind", "typed", "message"), [
    ("inn", "50010073225", "ИНН — 12 цифр"),
    ("inn", "500100732258", "ИНН введён с ошибкой: не сходятся контрольные цифры"),
    ("inn", "5001007322５9", "ИНН — 12 цифр"),  # a full-width digit
    ("snils", "1122334459", "СНИЛС — 11 цифр"),
    ("snils", "11223344596", "СНИЛС введён с ошибкой: не сходится контрольное число"),
    ("driving_licence", "99 12 34567", "Водительское удостоверение — 10 знаков"),
    ("driving_licence", "99 1Я 345678", "Водительское удостоверение — 10 знаков"),  # Я has no Latin twin
    ("vehicle_certificate", "ab 12 345678", "Свидетельство о регистрации ТС — 10 знаков"),
    ("utility_account", "1234567", "Лицевой счёт — от 8 до 20 цифр"),
    ("utility_account", "123456789012345678901", "Лицевой счёт — от 8 до 20 цифр"),
    ("uin", "1881017720000000001", "УИН — 20 или 25 цифр"),
    ("uin", "18810177200000000016", "УИН введён с ошибкой: не сходится контрольная цифра"),
    ("passport", "4510123456", "Неизвестный вид идентификатора"),
])
def test_malformed_identifiers_are_refused_with_a_russian_message(kind, typed, message):
    with pytest.raises(gisgmp.InvalidIdentifier) as refused:
        gisgmp.normalise(kind, typed)
    assert refused.value.args[0].startswith(message)
    assert isinstance(refused.value, ValueError)
    with pytest.raises(gisgmp.InvalidIdentifier):
        gisgmp.search({kind: typed})


def test_the_uin_check_digit_is_the_official_rule():
    # 1·1 + 8·2 + 8·3 + 1·4 + 0·5 + 1·6 + 7·7 + 7·8 + 2·9 + 0·10 + 0·1 … + 1·9 = 183, 183 mod 11 = 7
    assert _check_digit("1881017720000000001") == "7"
    bodies = [f"{n * 7919:019d}" for n in range(2000)] + [f"{n * 104729:024d}" for n in range(2000)]
    assert all(gisgmp.uin_check_digit(b) == _check_digit(b) for b in bodies)
    assert {_check_digit(b) for b in bodies} == set("0123456789")


def test_a_charge_of_a_malformed_uin_is_refused_before_any_backend():
    with pytest.raises(gisgmp.InvalidIdentifier):
        gisgmp.charge("123")
    with pytest.raises(gisgmp.InvalidIdentifier):
        gisgmp.report_payment("18810177200000000016", 100, "2026-12-03T10:00:00Z", "p1")


# -- determinism and shape --

def test_the_same_identifier_gives_the_same_charges_and_others_give_others(cloud, moscow):
    first, again = gisgmp.search({"inn": DEMO["inn"]}), gisgmp.search({"inn": " 5001 0073 2259"})
    assert first and first == again
    other = gisgmp.search({"inn": OTHER_INN})
    assert other and not {c.uin for c in first} & {c.uin for c in other}
    licence = gisgmp.search({"driving_licence": "99 12 345678"})
    certificate = gisgmp.search({"vehicle_certificate": "99 12 345678"})
    assert licence and certificate and not {c.uin for c in licence} & {c.uin for c in certificate}


def test_the_demo_citizen_has_every_kind_and_the_fines_straddle_the_discount_window(cloud, moscow):
    charges = gisgmp.search(DEMO)
    assert {c.kind for c in charges} == {"tax", "fine", "duty", "utility"}
    assert sorted(c.details["tax"] for c in charges if c.kind == "tax") == sorted(
        ["ndfl", "property", "transport", "sole_trader"])
    today = date(2026, 12, 3)
    fines = [c for c in charges if c.kind == "fine"]
    ages = sorted((today - date.fromisoformat(c.issued_on)).days for c in fines)
    assert len(ages) == 2 and 0 <= ages[0] <= 20 < ages[1]  # one inside the 20-day discount, one past it
    for fine in fines:
        assert fine.details["decision_date"] == fine.issued_on
        assert date.fromisoformat(fine.due_date) == date.fromisoformat(fine.issued_on) + timedelta(days=70)
        assert fine.details["camera_url"] == f"{settings().public_url}/dev/gisgmp/camera/" \
                                             f"{fine.details['decision_number']}"
        assert fine.details["vehicle"] and fine.details["article"].endswith("КоАП РФ") and fine.details["offence"]
        assert fine.title.startswith("Штраф ГИБДД по постановлению № ")
    taxes = {c.details["tax"]: c for c in charges if c.kind == "tax"}
    assert taxes["transport"].title == "Транспортный налог за 2025 год"
    assert {c.details["period"] for c in taxes.values()} == {"2025"}
    assert taxes["property"].due_date == "2026-12-01"
    duty = next(c for c in charges if c.kind == "duty")
    assert duty.details["purpose"].startswith("Государственная пошлина за ")
    bill = next(c for c in charges if c.kind == "utility")
    assert bill.details["period"] == "2026-11" and len(bill.details["lines"]) >= 3
    assert {c.found_by for c in charges} == {"inn", "snils"}
    assert all(c.status == "active" and c.remaining == c.amount for c in charges)


@pytest.mark.parametrize("moment", ["2026-01-01T00:30:00", "2026-08-31T20:59:59", "2026-08-31T21:00:00",
                                    "2027-03-15T12:00:00", "2026-12-03T22:30:00"])
def test_on_any_day_one_demo_fine_is_inside_the_discount_window_and_one_outside(cloud, fake_clock, moment):
    fake_clock.now = datetime.fromisoformat(moment).replace(tzinfo=UTC)
    today = (fake_clock.now + timedelta(hours=3)).date()  # Moscow's date, not UTC's
    charges = gisgmp.search(DEMO)
    ages = sorted((today - date.fromisoformat(c.issued_on)).days for c in charges if c.kind == "fine")
    assert len(ages) == 2 and 0 <= ages[0] <= 20 < ages[1]
    assert all(date.fromisoformat(c.issued_on) <= today for c in charges)
    tax_year = today.year - 1 if today >= date(today.year, 9, 1) else today.year - 2  # the notices already out
    assert {c.details["period"] for c in charges if c.kind == "tax"} == {str(tax_year)}


def test_through_a_whole_fine_cycle_exactly_one_demo_fine_has_the_discount(cloud, moscow):
    for _ in range(43):  # the simulator's fines recur every 42 days
        today = (moscow.now + timedelta(hours=3)).date()
        fines = [c for c in gisgmp.search({"snils": DEMO["snils"]}) if c.kind == "fine"]
        inside = [c for c in fines if (today - date.fromisoformat(c.issued_on)).days <= 20]
        assert len(fines) == 2 and len(inside) == 1, today
        moscow.advance(86400)


def test_amounts_are_kopecks_and_utility_lines_sum_to_the_bill(cloud, moscow):
    charges = gisgmp.search({**DEMO, "utility_account": "1234-5678", "vehicle_certificate": "77 АВ 123456"})
    for c in charges:
        assert type(c.amount) is int and type(c.remaining) is int and c.amount > 0
        assert c.kind in gisgmp.KINDS and c.status in ("active", "partly_paid", "closed")
        assert len(c.uin) in (20, 25) and c.uin == gisgmp.normalise("uin", c.uin)
        json.dumps(dataclasses.asdict(c))  # details are JSON as they are
    bills = [c for c in charges if c.kind == "utility"]
    assert len(bills) == 2
    for bill in bills:
        lines = bill.details["lines"]
        assert sum(line["amount"] for line in lines) == bill.amount
        assert all(type(line["tariff"]) is int and type(line["amount"]) is int for line in lines)
    typed = next(b for b in bills if b.found_by == "utility_account")
    assert typed.details["account"] == "12345678"  # the account typed, not a made-up one
    cold = next(line for line in typed.details["lines"] if line["service"] == "Холодное водоснабжение")
    assert cold["unit"] == "м³" and cold["tariff"] == 5143
    exact = Decimal(cold["consumption"]) * 5143  # consumption × tariff, half a kopeck up
    assert cold["amount"] == int(exact.quantize(Decimal(1), rounding=ROUND_HALF_UP))


def test_sorted_by_due_date_none_last_and_each_uin_once(cloud, moscow):
    charges = gisgmp.search(DEMO)
    dues = [c.due_date for c in charges]
    assert dues == sorted([d for d in dues if d]) + [None] * dues.count(None)
    fine = next(c for c in charges if c.kind == "fine")
    again = gisgmp.search({**DEMO, "uin": fine.uin})
    assert [c.uin for c in again] == [c.uin for c in charges]
    assert next(c for c in again if c.uin == fine.uin).found_by == "snils"


# -- a charge by its УИН --

def test_charge_by_uin_is_the_searched_charge_for_anyone_and_any_later_day(cloud, moscow):
    searched = gisgmp.search(DEMO)
    for c in searched:
        looked_up = gisgmp.charge(c.uin)
        assert looked_up == dataclasses.replace(c, found_by="uin")
        assert gisgmp.search({"uin": c.uin}) == [looked_up]
    moscow.advance(90 * 86400)  # three months later the same УИН is still the same charge
    assert [gisgmp.charge(c.uin) for c in searched] == [dataclasses.replace(c, found_by="uin") for c in searched]


def test_unknown_well_formed_uins_are_no_charge(cloud, moscow):
    fine = next(c for c in gisgmp.search(DEMO) if c.kind == "fine")
    forged = _uin(fine.uin[:15] + str((int(fine.uin[15]) + 1) % 10) + fine.uin[16:19])  # another payer's digits
    unknown = [
        _uin("1881017720000000001"),  # slot 1 is a tax, not МВД's
        forged,
        _uin(fine.uin[:5] + "10000" + fine.uin[10:19]),  # issued in 2027
        _uin("999" + "0" * 16),
        _uin("9" * 24),  # a bill for a month far ahead
    ]
    for uin in unknown:
        assert gisgmp.charge(uin) is None
        assert gisgmp.search({"uin": uin}) == []


def test_a_uin_issued_after_today_is_not_known_yet(cloud, moscow):
    moscow.advance(200 * 86400)
    later = [c for c in gisgmp.search(DEMO) if c.issued_on > "2026-12-03"]
    moscow.advance(-200 * 86400)
    assert {c.kind for c in later} >= {"fine", "duty", "utility"}
    for c in later:
        assert gisgmp.charge(c.uin) is None


def test_a_bill_found_by_its_account_has_the_documented_25_digit_uin(cloud, moscow):
    bill, = gisgmp.search({"utility_account": "1234 5678"})
    assert bill.uin == _uin("322" + "12345678".zfill(21))  # November 2026 = month 322 since 2000-01; the account
    assert bill.details["period"] == "2026-11" and bill.found_by == "utility_account"
    assert gisgmp.charge(bill.uin) == dataclasses.replace(bill, found_by="uin")
    with pytest.raises(gisgmp.GisGmpUnavailable):  # an account with the "unavailable" pattern
        gisgmp.charge(_uin("322" + "87654001".zfill(21)))
    assert gisgmp.charge(_uin("322" + "12345000".zfill(21))) is None  # and one with no debts


# -- patterns --

def test_pattern_no_debts(cloud, moscow):
    assert gisgmp.search({"inn": INN["none"]}) == []
    assert gisgmp.search({"snils": SNILS["none"]}) == []
    assert gisgmp.search({"utility_account": "12345000"}) == []
    assert [c.found_by for c in gisgmp.search({"inn": INN["none"], "snils": DEMO["snils"]})] == ["snils"] * 3


def test_pattern_unavailable(cloud, moscow):
    for identifiers in ({"inn": INN["down"]}, {"snils": SNILS["down"]}, {"driving_licence": "99 12 345001"},
                        {"inn": DEMO["inn"], "utility_account": "87654001"}):
        with pytest.raises(gisgmp.GisGmpUnavailable):
            gisgmp.search(identifiers)


def test_pattern_slow(cloud, moscow, monkeypatch):
    monkeypatch.setenv("KABINET_GISGMP_DELAY", "0.01")
    started = time.monotonic()
    assert gisgmp.search({"inn": INN["slow"]})
    slow = time.monotonic() - started
    started = time.monotonic()
    gisgmp.search({"inn": OTHER_INN})
    assert slow >= 0.4 > time.monotonic() - started  # 40 × the delay, against one


def test_pattern_partly_paid_elsewhere(cloud, moscow):
    charges = gisgmp.search({"inn": INN["partly"], "snils": SNILS["partly"]})
    assert {c.kind for c in charges} == set(gisgmp.KINDS)
    assert all(c.status == "partly_paid" and 0 < c.remaining < c.amount for c in charges)
    assert all(gisgmp.charge(c.uin).remaining == c.remaining for c in charges)


def test_pattern_closed(cloud, moscow):
    charges = gisgmp.search({"inn": INN["closed"], "snils": SNILS["closed"], "utility_account": "11111004"})
    assert len(charges) == 9
    assert all(c.status == "closed" and c.remaining == 0 and c.amount > 0 for c in charges)


def test_pattern_first_report_lost(cloud, moscow):
    tax = gisgmp.search({"inn": INN["lost"]})[0]
    with pytest.raises(gisgmp.GisGmpUnavailable):
        gisgmp.report_payment(tax.uin, 10000, "2026-12-03T09:00:00Z", "pay-1")
    assert gisgmp.charge(tax.uin).remaining == tax.amount
    gisgmp.report_payment(tax.uin, 10000, "2026-12-03T09:05:00Z", "pay-1")  # the retry gets through
    assert gisgmp.charge(tax.uin).remaining == tax.amount - 10000


# -- payments --

def test_a_payment_reported_twice_counts_once_and_two_payments_twice(cloud, moscow):
    fine = next(c for c in gisgmp.search(DEMO) if c.kind == "fine")
    half = fine.amount // 2
    gisgmp.report_payment(fine.uin, half, "2026-12-03T09:00:00Z", "pay-a")
    gisgmp.report_payment(fine.uin, half, "2026-12-03T09:00:00Z", "pay-a")
    once = gisgmp.charge(fine.uin)
    assert (once.remaining, once.status) == (fine.amount - half, "partly_paid")
    gisgmp.register(None)  # another process: a fresh simulator reads the table
    found = next(c for c in gisgmp.search(DEMO) if c.uin == fine.uin)
    assert (found.remaining, found.status) == (fine.amount - half, "partly_paid")
    gisgmp.report_payment(fine.uin, fine.amount - half, "2026-12-03T09:10:00Z", "pay-b")
    closed = gisgmp.charge(fine.uin)
    assert (closed.remaining, closed.status) == (0, "closed")
    others = [c for c in gisgmp.search(DEMO) if c.uin != fine.uin]
    assert all(c.status == "active" for c in others)


def test_concurrent_reports_of_one_payment_count_once(cloud, moscow):
    tax = next(c for c in gisgmp.search(DEMO) if c.kind == "tax")
    errors: list[BaseException] = []

    def report() -> None:
        try:
            gisgmp.report_payment(tax.uin, 5000, "2026-12-03T09:00:00Z", "pay-same")
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=report) for _ in range(5)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    assert gisgmp.charge(tax.uin).remaining == tax.amount - 5000


def test_report_payment_refuses_non_positive_amounts():
    with pytest.raises(ValueError):
        gisgmp.report_payment("18810177200000000017", 0, "2026-12-03T09:00:00Z", "p")


# -- cost and the seam --

def _count_calls():
    calls: list[str] = []
    aws.client("dynamodb").meta.events.register("before-call.dynamodb", lambda model, **_: calls.append(model.name))
    return calls


def test_a_search_costs_one_batch_get_and_nothing_when_there_is_nothing(cloud, moscow):
    gisgmp.search(DEMO)  # warm: the simulator module is imported
    calls = _count_calls()
    assert len(gisgmp.search({**DEMO, "driving_licence": "99 12 345678"})) == 10
    assert calls == ["BatchGetItem"]
    calls.clear()
    assert gisgmp.search({"inn": INN["none"]}) == []
    assert gisgmp.search({}) == []
    assert calls == []


def test_a_stage_without_a_connection_is_unavailable_and_a_registered_backend_answers(monkeypatch):
    monkeypatch.setattr(gisgmp, "settings", lambda: dataclasses.replace(settings(), stage="prod"))
    gisgmp.register(None)
    with pytest.raises(gisgmp.GisGmpUnavailable):
        gisgmp.search(DEMO)
    with pytest.raises(gisgmp.GisGmpUnavailable):
        gisgmp.charge("18810177200000000017")

    class Quiet:
        def search(self, identifiers):
            assert identifiers == {"inn": "500100732259"}  # normalised before the backend sees it
            return []

        def charge(self, uin):
            return None

        def report_payment(self, uin, amount, paid_at, payment_id):
            raise AssertionError("not called")

    gisgmp.register(Quiet())
    assert gisgmp.search({"inn": "5001 0073 2259"}) == []
    assert gisgmp.charge("18810177200000000017") is None
