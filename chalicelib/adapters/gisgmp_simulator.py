"""The local ГИС ГМП (stage `local` and tests; registered by gisgmp.py on first use): charges made up from the
identifier asked about, deterministically, and the payments reported for them kept in the table.

Nothing is random: the charges of an identifier follow from a SHA-256 of it and from today's Moscow date, so a
person or a test can predict them (docs/gisgmp.md has the tables). The УИН is the charge's seed — kind, issue date
and outcome are digits of it and everything else follows from its hash — so `charge(uin)` rebuilds, for anyone who
types it, exactly the charge a search returned, with no record of searches kept. Three digits of the identifier
pick an outcome (no debts, unavailable, slow, partly paid or closed elsewhere, payment reports lost once).

The texts (offences, addresses, providers) are the outside system's data, in Russian as it sends them: they are
marked `i18n: data` and never translated.
"""

from __future__ import annotations

import hashlib
import logging
import os
import time
from collections.abc import Mapping
from dataclasses import dataclass, replace
from datetime import date, timedelta
from typing import Any

from botocore.exceptions import ClientError

from chalicelib.adapters.gisgmp import Charge, GisGmpUnavailable, Recipient, uin_check_digit
from chalicelib.core import clock
from chalicelib.core.config import settings
from chalicelib.store import keys, table
from chalicelib.store.table import ConditionFailed, Tx

log = logging.getLogger("kabinet.gisgmp")

# Patterns: three digits of the identifier (INN: digits 8-10, SNILS: 7-9 — the check digits are never chosen;
# anything else: its last three) pick the outcome.
NO_DEBTS, UNAVAILABLE, SLOW, PARTLY_PAID, CLOSED, REPORT_LOST_ONCE = "000", "001", "002", "003", "004", "005"
SLOW_FACTOR = 40  # a slow answer takes 40 × KABINET_GISGMP_DELAY (2 s at the default 0.05)
_STATE = {PARTLY_PAID: 1, CLOSED: 2, REPORT_LOST_ONCE: 3}  # the outcome digit of a УИН

EPOCH = date(2000, 1, 1)  # issue dates are days since then in the УИН
FINE_CYCLE = 42  # each of a payer's two fine slots recurs every 42 days, the second 21 days after the first:
FINE_SHIFT = 21  # on any day one decision is at most 20 days old (discount) and the other 21-41 days (none)
FINE_DUE_DAYS = 70  # 10 days to enter into force + 60 days to pay (КоАП 30.3, 31.1, 32.2)
DUTY_CYCLE = 30
TAX_NOTICES_FROM = (9, 1)  # from 1 September the notices for last year are out; before it, the year before

# slot digit → (kind, tax kind or fine number); which slots each identifier kind finds
_SLOTS: dict[int, tuple[str, str]] = {0: ("tax", "ndfl"), 1: ("tax", "property"), 2: ("tax", "transport"),
                                      3: ("tax", "sole_trader"), 4: ("fine", "0"), 5: ("fine", "1"),
                                      6: ("duty", ""), 7: ("utility", "")}
FINDS: dict[str, tuple[int, ...]] = {"inn": (0, 1, 2, 3, 6), "snils": (4, 5, 7), "driving_licence": (4, 5),
                                     "vehicle_certificate": (4, 5), "utility_account": (7,)}
_ADMIN = {"tax": "182", "fine": "188", "duty": "188", "utility": "900"}  # 182 ФНС, 188 МВД, 900: not the budget

_TAX = Recipient("Казначейство России (ФНС России)", "7727406020", "770801001", "03100643000000018500",  # i18n: data
                 "017003983", "ОКЦ № 7 ГУ Банка России по ЦФО//УФК по Тульской области, г Тула",  # i18n: data
                 "18201061201010000510", "45000000")
_MVD = ("УФК по г. Москве (ГУ МВД России по г. Москве)", "7707089101", "770731005",  # i18n: data
        "03100643000000017300", "004525988", "ГУ Банка России по ЦФО//УФК по г. Москве г. Москва")  # i18n: data
_FINE = Recipient(*_MVD, "18811601123010001140", "45000000")
_DUTY = Recipient(*_MVD, "18810806000018003110", "45000000")

_OFFENCES = (  # article, offence, amount in kopecks
    ("ч. 2 ст. 12.9 КоАП РФ", "Превышение установленной скорости движения на величину более 20, но не более 40 км/ч", 75000),  # i18n: data # noqa: E501
    ("ч. 3 ст. 12.9 КоАП РФ", "Превышение установленной скорости движения на величину более 40, но не более 60 км/ч", 200000),  # i18n: data # noqa: E501
    ("ч. 1 ст. 12.12 КоАП РФ", "Проезд на запрещающий сигнал светофора", 100000),  # i18n: data
    ("ч. 2 ст. 12.16 КоАП РФ", "Поворот налево или разворот в нарушение требований знаков или разметки", 75000),  # i18n: data # noqa: E501
    ("ч. 4 ст. 12.16 КоАП РФ", "Остановка или стоянка в нарушение требований знаков", 150000),  # i18n: data
    ("ч. 1 ст. 12.15 КоАП РФ", "Нарушение правил расположения транспортного средства на проезжей части", 150000),  # i18n: data # noqa: E501
)
_PLACES = ("г. Москва, ул. Тверская, д. 12", "г. Москва, Ленинский пр-т, д. 45",  # i18n: data
           "г. Москва, МКАД, 41-й км, внешняя сторона", "г. Москва, ш. Энтузиастов, д. 31",  # i18n: data
           "Московская обл., трасса М-11 «Нева», 68-й км", "г. Москва, Садовая-Кудринская ул., д. 3")  # i18n: data
_STREETS = ("ул. Лесная", "ул. Садовая", "Мичуринский пр-т", "ул. Профсоюзная", "Кутузовский пр-т")  # i18n: data
_AGENTS = ("ООО «Ромашка» (демо)", "АО «Вектор» (демо)", "ООО «Северный ветер» (демо)")  # i18n: data
_DUTIES = (  # purpose, short title, amount in kopecks
    ("Государственная пошлина за выдачу паспорта гражданина Российской Федерации",  # i18n: data
     "Госпошлина за выдачу паспорта гражданина РФ", 60000),  # i18n: data
    ("Государственная пошлина за выдачу заграничного паспорта, содержащего электронный носитель информации",  # i18n: data # noqa: E501
     "Госпошлина за выдачу загранпаспорта нового образца", 600000),  # i18n: data
    ("Государственная пошлина за выдачу национального водительского удостоверения",  # i18n: data
     "Госпошлина за выдачу водительского удостоверения", 400000),  # i18n: data
)
_PROVIDERS = ("ЕИРЦ «Северный квартал» (демо)", "УК «Добрый дом» (демо)")  # i18n: data
_PROVIDER_ACCOUNTS = (("7701234561", "770101001", "40702810900000000001"),
                      ("7709876540", "770901001", "40702810900000000002"))
_MONTHS = ("январь", "февраль", "март", "апрель", "май", "июнь", "июль", "август", "сентябрь",  # i18n: data
           "октябрь", "ноябрь", "декабрь")  # i18n: data
_LETTERS = "АВЕКМНОРСТУХ"  # i18n: data
_REGIONS = ("77", "97", "177", "777", "50", "750", "199")


@dataclass(frozen=True)
class _Draft:
    charge: Charge  # remaining and status as if nothing was paid
    paid_elsewhere: int  # kopecks the story says were paid outside the portal


def pattern(kind: str, value: str) -> str:
    """The three digits of a normalised identifier that pick its outcome."""
    if kind == "inn":
        return value[7:10]
    if kind == "snils":
        return value[6:9]
    return value[-3:]


def _hash(*parts: str) -> int:
    return int.from_bytes(hashlib.sha256(":".join(("kabinet-gisgmp", *parts)).encode()).digest(), "big")


class _Dice:
    """Deterministic choices from a seed: each label gives its own, independent number."""

    def __init__(self, seed: str) -> None:
        self.seed = seed

    def number(self, label: str, low: int, high: int) -> int:
        return low + _hash(self.seed, label) % (high - low + 1)

    def pick(self, label: str, options: tuple[Any, ...]) -> Any:
        return options[_hash(self.seed, label) % len(options)]


def _delay(slow: bool) -> None:
    time.sleep(float(os.environ.get("KABINET_GISGMP_DELAY", "0.05")) * (SLOW_FACTOR if slow else 1))


def _today() -> date:
    return clock.now().astimezone(clock.MSK).date()


# -- УИН layout (the simulator's own; docs/gisgmp.md) --
# 20 digits: administrator (3) · slot (1) · outcome (1) · issue day since 2000-01-01 (5) · payer (6) · tag (3) · check
# 25 digits (a bill found by its account): billing month since 2000-01 (3) · account (21) · check

def _tag(head: str) -> str:
    return f"{_hash('tag', head) % 1000:03d}"


def _uin20(slot: int, outcome: int, issued: date, payer: str) -> str:
    head = f"{_ADMIN[_SLOTS[slot][0]]}{slot}{outcome}{(issued - EPOCH).days:05d}{payer}"
    body = head + _tag(head)
    return body + uin_check_digit(body)


def _account_offsets() -> list[tuple[int, int]]:
    """(length, first code) of each account length 8…20: codes of shorter accounts come first, so leading zeros
    survive the trip through the УИН."""
    out, start = [], 0
    for length in range(8, 21):
        out.append((length, start))
        start += 10 ** length
    return out


def _uin25(period: date, account: str) -> str:
    start = dict(_account_offsets())[len(account)]
    body = f"{(period.year - 2000) * 12 + period.month - 1:03d}{start + int(account):021d}"
    return body + uin_check_digit(body)


def _account_of(code: int) -> str | None:
    for length, start in reversed(_account_offsets()):
        if start <= code < start + 10 ** length:
            return f"{code - start:0{length}d}"
    return None


def _payer(kind: str, value: str) -> str:
    return f"{_hash('payer', kind, value) % 10 ** 6:06d}"


def issued_uins(kind: str, value: str, today: date) -> list[str]:
    """The УИНs of the charges an identifier has today (its pattern aside)."""
    if kind == "utility_account":
        return [_uin25(_previous_month(today), value)]
    payer, phase = _payer(kind, value), _hash("phase", kind, value)
    outcome = _STATE.get(pattern(kind, value), 0)
    out = []
    for slot in FINDS[kind]:
        out.append(_uin20(slot, outcome, _issue_day(slot, phase, today), payer))
    return out


def _previous_month(today: date) -> date:
    return (today.replace(day=1) - timedelta(days=1)).replace(day=1)


def _tax_period(today: date) -> int:
    return today.year - 1 if (today.month, today.day) >= TAX_NOTICES_FROM else today.year - 2


def _issue_day(slot: int, phase: int, today: date) -> date:
    kind, variant = _SLOTS[slot]
    n = (today - EPOCH).days
    if kind == "tax":
        year = _tax_period(today) + 1
        return date(year, 4, 1 + phase % 25) if variant == "sole_trader" else date(year, 8, 1 + phase % 28)
    if kind == "fine":
        return today - timedelta(days=(n - phase % FINE_CYCLE - FINE_SHIFT * int(variant)) % FINE_CYCLE)
    if kind == "duty":
        return today - timedelta(days=(n - phase % DUTY_CYCLE) % DUTY_CYCLE)
    return today.replace(day=1)


# -- a charge from its УИН --

def draft(uin: str, found_by: str, today: date) -> _Draft | None:
    """The charge a УИН stands for, before the payments reported to us; None: no such charge (yet)."""
    if len(uin) == 25:
        return _bill_by_account(uin, found_by, today)
    admin, slot, outcome, day, payer, tag = uin[:3], int(uin[3]), int(uin[4]), int(uin[5:10]), uin[10:16], uin[16:19]
    if slot not in _SLOTS or outcome > 3 or admin != _ADMIN[_SLOTS[slot][0]] or tag != _tag(uin[:16]):
        return None
    issued = EPOCH + timedelta(days=day)
    if issued > today:
        return None
    kind, variant = _SLOTS[slot]
    dice, person = _Dice(uin), _Dice(payer)
    if kind == "tax":
        title, amount, due, recipient, details = _tax(variant, issued, dice, person)
    elif kind == "fine":
        title, amount, due, recipient, details = _fine(uin, issued, dice, person)
    elif kind == "duty":
        title, amount, due, recipient, details = _duty(dice)
    else:
        title, amount, due, recipient, details = _utility(f"{_hash('account', payer) % 10 ** 10:010d}",
                                                          _previous_month(issued), person)
    return _make(uin, kind, title, amount, issued, due, recipient, details, found_by, outcome, dice)


def _bill_by_account(uin: str, found_by: str, today: date) -> _Draft | None:
    months, account = int(uin[:3]), _account_of(int(uin[3:24]))
    period = date(2000 + months // 12, months % 12 + 1, 1)
    if account is None or period > _previous_month(today) or pattern("utility_account", account) == NO_DEBTS:
        return None
    outcome_digits = pattern("utility_account", account)
    if outcome_digits == UNAVAILABLE:
        raise GisGmpUnavailable("simulated outage")
    if outcome_digits == SLOW:
        _delay(slow=True)
    issued = (period + timedelta(days=31)).replace(day=1)
    title, amount, due, recipient, details = _utility(account, period, _Dice(_payer("utility_account", account)))
    return _make(uin, "utility", title, amount, issued, due, recipient, details, found_by,
                 _STATE.get(outcome_digits, 0), _Dice(uin))


def _make(uin: str, kind: str, title: str, amount: int, issued: date, due: date | None, recipient: Recipient,
          details: dict[str, Any], found_by: str, outcome: int, dice: _Dice) -> _Draft:
    elsewhere = {1: amount * dice.number("partly", 30, 70) // 100, 2: amount}.get(outcome, 0)
    charge = Charge(uin=uin, kind=kind, title=title, amount=amount, remaining=amount, status="active",
                    issued_on=issued.isoformat(), due_date=due.isoformat() if due else None, recipient=recipient,
                    details=details, found_by=found_by)
    return _Draft(charge, elsewhere)


_Parts = tuple[str, int, date | None, Recipient, dict[str, Any]]


def _plate(dice: _Dice, label: str) -> str:
    letters = [dice.pick(f"{label}{i}", tuple(_LETTERS)) for i in range(3)]
    return f"{letters[0]}{dice.number(label, 1, 999):03d}{letters[1]}{letters[2]}{dice.pick(label, _REGIONS)}"


def _tax(variant: str, issued: date, dice: _Dice, person: _Dice) -> _Parts:
    period = str(issued.year - 1)
    if variant == "ndfl":
        title = f"НДФЛ, не удержанный налоговым агентом, за {period} год"  # i18n: data
        obj, rubles = f"Доход, полученный от {person.pick('agent', _AGENTS)}", dice.number("rub", 1300, 45000)  # i18n: data # noqa: E501
    elif variant == "property":
        title = f"Налог на имущество физических лиц за {period} год"  # i18n: data
        obj = (f"г. Москва, {person.pick('street', _STREETS)}, д. {person.number('house', 1, 90)}, "  # i18n: data
               f"кв. {person.number('flat', 1, 240)}")
        rubles = dice.number("rub", 300, 9000)
    elif variant == "transport":
        title, obj = f"Транспортный налог за {period} год", _plate(person, "car")  # i18n: data
        rubles = dice.number("rub", 1000, 25000)
    else:
        title = f"Налог по упрощённой системе налогообложения (ИП) за {period} год"  # i18n: data
        obj, rubles = "Упрощённая система налогообложения, объект «доходы»", dice.number("rub", 6000, 60000)  # i18n: data # noqa: E501
    # Tax notices (property, transport, NDFL not withheld) are due on 1 December; the simplified tax on 28 April.
    due = date(issued.year, 4, 28) if variant == "sole_trader" else date(issued.year, 12, 1)
    return title, rubles * 100, due, _TAX, {"tax": variant, "period": period, "object": obj}


def _fine(uin: str, issued: date, dice: _Dice, person: _Dice) -> _Parts:
    article, offence, amount = dice.pick("offence", _OFFENCES)
    details = {"decision_number": uin, "decision_date": issued.isoformat(), "article": article, "offence": offence,
               "place": dice.pick("place", _PLACES), "vehicle": _plate(person, "car"),
               "camera_url": f"{settings().public_url}/dev/gisgmp/camera/{uin}"}
    title = f"Штраф ГИБДД по постановлению № {uin}"  # i18n: data
    return title, amount, issued + timedelta(days=FINE_DUE_DAYS), _FINE, details


def _duty(dice: _Dice) -> _Parts:
    purpose, title, amount = dice.pick("duty", _DUTIES)
    return title, amount, None, _DUTY, {"purpose": purpose}


def _utility(account: str, period: date, person: _Dice) -> _Parts:
    """A bill of several lines, each consumption × tariff rounded to the kopeck; the amount is their sum."""
    cold, hot = person.number(f"cold{period}", 30, 120), person.number(f"hot{period}", 20, 80)  # tenths of a m³
    lines = [_line("Холодное водоснабжение", cold, 1, "м³", 5143),  # i18n: data
             _line("Горячее водоснабжение", hot, 1, "м³", 27624),  # i18n: data
             _line("Водоотведение", cold + hot, 1, "м³", 4235),  # i18n: data
             _line("Электроснабжение", person.number(f"power{period}", 1200, 3500), 1, "кВт·ч", 836),  # i18n: data
             _line("Содержание жилого помещения", person.number("area", 350, 800), 1, "м²", 3312)]  # i18n: data
    if period.month in (1, 2, 3, 4, 10, 11, 12):
        lines.append(_line("Отопление", person.number(f"heat{period}", 500, 2000), 3, "Гкал", 295021))  # i18n: data
    index = person.number("provider", 0, len(_PROVIDERS) - 1)
    inn, kpp, bank_account = _PROVIDER_ACCOUNTS[index]
    recipient = Recipient(_PROVIDERS[index], inn, kpp, bank_account, "044525225", "ПАО Сбербанк", "", "45000000")  # i18n: data # noqa: E501
    title = f"Жилищно-коммунальные услуги за {_MONTHS[period.month - 1]} {period.year}"  # i18n: data
    due = (period + timedelta(days=31)).replace(day=10)  # ЖК РФ ст. 155: by the 10th of the next month
    details = {"account": account, "period": f"{period:%Y-%m}", "provider": _PROVIDERS[index], "lines": lines}
    return title, sum(line["amount"] for line in lines), due, recipient, details


def _line(service: str, quantity: int, decimals: int, unit: str, tariff: int) -> dict[str, Any]:
    scale = 10 ** decimals
    amount = (2 * quantity * tariff + scale) // (2 * scale)  # half up, in integers
    text = f"{quantity // scale}.{quantity % scale:0{decimals}d}"
    return {"service": service, "consumption": text, "unit": unit, "tariff": tariff, "amount": amount}


# -- the backend --

class Simulator:
    """The Backend of gisgmp.py for stage `local` and the tests."""

    def search(self, identifiers: Mapping[str, str]) -> list[Charge]:
        patterns = {pattern(k, v) for k, v in identifiers.items() if k != "uin"}
        _delay(slow=SLOW in patterns)
        if UNAVAILABLE in patterns:
            raise GisGmpUnavailable("simulated outage")
        today, drafts = _today(), []
        for kind, value in identifiers.items():
            if kind == "uin":
                drafts.append(draft(value, "uin", today))
            elif pattern(kind, value) != NO_DEBTS:
                drafts.extend(draft(uin, kind, today) for uin in issued_uins(kind, value, today))
        return _with_payments([d for d in drafts if d])

    def charge(self, uin: str) -> Charge | None:
        _delay(slow=False)
        found = draft(uin, "uin", _today())
        return _with_payments([found])[0] if found else None

    def report_payment(self, uin: str, amount: int, paid_at: str, payment_id: str) -> None:
        _delay(slow=False)
        if _outcome(uin) == UNAVAILABLE:
            raise GisGmpUnavailable("simulated outage")
        if _outcome(uin) == REPORT_LOST_ONCE:
            pk, sk = keys.gisgmp_attempt(uin, payment_id)
            try:
                table.put({"pk": pk, "sk": sk}, cond="attribute_not_exists(pk)")
            except ConditionFailed:
                pass  # reported before: this time it gets through
            else:
                raise GisGmpUnavailable("simulated lost report (the first of this payment)")
        _record(uin, amount, paid_at, payment_id)


def _outcome(uin: str) -> str:
    """The pattern a УИН's charges were issued under."""
    if len(uin) == 25:
        account = _account_of(int(uin[3:24]))
        return pattern("utility_account", account) if account else ""
    return {v: k for k, v in _STATE.items()}.get(int(uin[4]), "")


def _record(uin: str, amount: int, paid_at: str, payment_id: str) -> None:
    """The payment item (once per id) and the УИН's total, in one transaction: a repeated report loses the
    condition and changes nothing. Concurrent reports that collide are tried again."""
    pk, sk = keys.gisgmp_payment(uin, payment_id)
    for attempt in range(8):
        try:
            (Tx().put({"pk": pk, "sk": sk, "uin": uin, "payment_id": payment_id, "amount": amount, "paid_at": paid_at},
                      cond="attribute_not_exists(pk)")
             .update(keys.gisgmp_paid(uin), "ADD #paid :amount SET #uin = :uin", names={"#paid": "paid", "#uin": "uin"},
                     values={":amount": amount, ":uin": uin})
             .commit())
            return
        except ConditionFailed:
            return  # this payment was reported already
        except ClientError as exc:
            if exc.response.get("Error", {}).get("Code") != "TransactionCanceledException" or attempt == 7:
                raise
            time.sleep(0.02 * (attempt + 1))  # a concurrent report of the same charge won this round


def _with_payments(drafts: list[_Draft]) -> list[Charge]:
    """Remaining and status after what was paid elsewhere and reported to us: one BatchGetItem for all."""
    if not drafts:
        return []
    totals = table.get_many([keys.gisgmp_paid(d.charge.uin) for d in drafts])
    out = []
    for d, total in zip(drafts, totals, strict=True):
        paid = d.paid_elsewhere + int(total["paid"]) if total else d.paid_elsewhere
        remaining = max(d.charge.amount - paid, 0)
        status = "closed" if remaining == 0 else "partly_paid" if remaining < d.charge.amount else "active"
        out.append(replace(d.charge, remaining=remaining, status=status))
    return out
