"""ГИС ГМП, the state system of state and municipal payments (PY-1, PY-2): a person's charges, found by their
identifiers or by a charge's УИН, and the payments the portal takes for them.

The production route is a connection through СМЭВ, which needs the portal operator's agreement with the Treasury;
it does not exist yet. The seam is `register(backend)`: stage `local` (also when KABINET_STAGE is unset) registers
the deterministic simulator of `gisgmp_simulator` on first use; any other stage has no backend until the real
adapter registers one, and every call answers GisGmpUnavailable meanwhile — the caller's retry path, not a
crash. Identifiers are normalised and checked here, before any backend sees them (docs/gisgmp.md).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Protocol

from chalicelib.core.config import settings
from chalicelib.identity.numbers import inn_valid, snils_valid

KINDS = ("tax", "fine", "duty", "utility")
IDENTIFIERS = ("inn", "snils", "driving_licence", "vehicle_certificate", "utility_account", "uin")
STATUSES = ("active", "partly_paid", "closed")
TAX_KINDS = ("ndfl", "property", "transport", "sole_trader")


@dataclass(frozen=True)
class Recipient:
    name: str
    inn: str
    kpp: str
    account: str
    bic: str
    bank: str
    kbk: str
    oktmo: str


@dataclass(frozen=True)
class Charge:
    uin: str  # 20 or 25 digits
    kind: str  # one of KINDS
    title: str  # Russian, as the administrator wrote it
    amount: int  # kopecks, the full charge (a fine: without the 50% discount; the domain computes it)
    remaining: int  # kopecks still to pay (partly paid elsewhere: less than amount; closed: 0)
    status: str  # one of STATUSES
    issued_on: str  # ISO date the charge was issued (a fine: the decision date)
    due_date: str | None  # ISO date
    recipient: Recipient
    details: dict[str, Any]  # by kind, JSON-serialisable (docs/gisgmp.md)
    found_by: str  # the identifier kind that found it ("uin" for a look-up by УИН)


class GisGmpUnavailable(Exception):
    """The system did not answer (time-out, maintenance, no connection on this stage): the caller retries later."""


class InvalidIdentifier(ValueError):
    """A malformed identifier: args[0] is the Russian message for the person, args[1] the identifier kind."""

    def __init__(self, message: str, kind: str) -> None:
        super().__init__(message, kind)
        self.kind = kind


class Backend(Protocol):
    """What a ГИС ГМП connection answers; identifiers arrive normalised, УИНs checked."""

    def search(self, identifiers: Mapping[str, str]) -> list[Charge]: ...

    def charge(self, uin: str) -> Charge | None: ...

    def report_payment(self, uin: str, amount: int, paid_at: str, payment_id: str) -> None: ...


_backend: Backend | None = None


def register(backend: Backend | None) -> None:
    """Install the connection every call goes to (None: none, the next local call registers the simulator)."""
    global _backend
    _backend = backend


def _current() -> Backend:
    global _backend
    if _backend is None and settings().is_local:
        from chalicelib.adapters.gisgmp_simulator import Simulator

        _backend = Simulator()
    if _backend is None:
        raise GisGmpUnavailable(f"no GIS GMP connection on stage {settings().stage}")
    return _backend


# -- identifiers --

_SEPARATORS = re.compile(r"[\s\-‐‑‒–—]")
# Series letters of Russian driving licences and vehicle certificates: the Cyrillic letters that have a Latin twin;
# a Latin twin typed on the wrong keyboard layout means the same letter.
_LATIN_TWINS = str.maketrans("ABEKMHOPCTYX", "АВЕКМНОРСТУХ")  # i18n: data
_DOCUMENT = re.compile(r"\d{2}[0-9АВЕКМНОРСТУХ]{2}\d{6}")
_DOCUMENT_TEXT = {
    "driving_licence": "Водительское удостоверение — 10 знаков: серия из 4 цифр (или 2 цифр и 2 букв) и номер из "
                       "6 цифр",
    "vehicle_certificate": "Свидетельство о регистрации ТС — 10 знаков: серия из 4 цифр (или 2 цифр и 2 букв) и "
                           "номер из 6 цифр",
}
_UIN_WEIGHTS = (1, 2, 3, 4, 5, 6, 7, 8, 9, 10)


def uin_check_digit(body: str) -> str:
    """The control digit of a УИН (ГИС ГМП's rule, the one of the all-Russian classifiers): weights 1…10 repeated
    from the leftmost digit, sum mod 11; a remainder of 10 is recomputed with the weights shifted by two (3…10, 1,
    2, …), and a second 10 gives 0."""
    for shift in (0, 2):
        rest = sum(int(d) * _UIN_WEIGHTS[(i + shift) % 10] for i, d in enumerate(body)) % 11
        if rest < 10:
            return str(rest)
    return "0"


def normalise(kind: str, value: str) -> str:
    """The identifier as the system compares it: separators removed, document letters upper-case Cyrillic;
    InvalidIdentifier with the person's message when it is malformed."""
    if kind not in IDENTIFIERS:
        raise InvalidIdentifier("Неизвестный вид идентификатора для поиска начислений", kind)
    text = _SEPARATORS.sub("", value or "")
    if kind == "inn":
        if not (len(text) == 12 and text.isascii() and text.isdigit()):
            raise InvalidIdentifier("ИНН — 12 цифр", kind)
        if not inn_valid(text):
            raise InvalidIdentifier("ИНН введён с ошибкой: не сходятся контрольные цифры", kind)
    elif kind == "snils":
        if not (len(text) == 11 and text.isascii() and text.isdigit()):
            raise InvalidIdentifier("СНИЛС — 11 цифр", kind)
        if not snils_valid(text):
            raise InvalidIdentifier("СНИЛС введён с ошибкой: не сходится контрольное число", kind)
    elif kind in _DOCUMENT_TEXT:
        text = text.upper().replace("Ё", "Е").translate(_LATIN_TWINS)  # i18n: data
        if not _DOCUMENT.fullmatch(text):
            raise InvalidIdentifier(_DOCUMENT_TEXT[kind], kind)
    elif kind == "utility_account":
        if not (8 <= len(text) <= 20 and text.isascii() and text.isdigit()):
            raise InvalidIdentifier("Лицевой счёт — от 8 до 20 цифр", kind)
    else:
        if not (len(text) in (20, 25) and text.isascii() and text.isdigit()):
            raise InvalidIdentifier("УИН — 20 или 25 цифр", kind)
        if uin_check_digit(text[:-1]) != text[-1]:
            raise InvalidIdentifier("УИН введён с ошибкой: не сходится контрольная цифра", kind)
    return text


# -- the calls --

def search(identifiers: Mapping[str, str]) -> list[Charge]:
    """Every charge for these identifiers (kind → value), each УИН once, by due date (none last). A charge two
    identifiers find is reported as found by the first of them in IDENTIFIERS' order (a typed УИН comes last)."""
    checked = {kind: normalise(kind, value) for kind, value in identifiers.items()}
    wanted = {kind: checked[kind] for kind in IDENTIFIERS if kind in checked}
    if not wanted:
        return []
    found: dict[str, Charge] = {}
    for item in _current().search(wanted):
        found.setdefault(item.uin, item)
    return sorted(found.values(), key=lambda c: (c.due_date is None, c.due_date or "", c.issued_on, c.uin))


def charge(uin: str) -> Charge | None:
    """One charge by its УИН; None when the system has no such charge."""
    return _current().charge(normalise("uin", uin))


def report_payment(uin: str, amount: int, paid_at: str, payment_id: str) -> None:
    """Tell the system a payment was taken for the charge. Idempotent by payment_id: the same payment reported again
    changes nothing."""
    if not isinstance(amount, int) or isinstance(amount, bool) or amount <= 0:
        raise ValueError("amount must be a positive number of kopecks")
    if not payment_id:
        raise ValueError("payment_id is required")
    _current().report_payment(normalise("uin", uin), amount, paid_at, payment_id)
