"""State registries (ID-6): MVD (passports), SFR (SNILS), FNS (INN), behind one interface.

The production route is СМЭВ (the interagency exchange), which needs an agreement and a certificate of the
portal's operator; until that adapter exists every stage talks to the simulator below, which behaves like the
registries do: answers in a fraction of a second or a few seconds, reports mismatches field by field, and is
sometimes unavailable. Outcomes are deterministic from the data asked about (docs/identity.md lists them), so a
test or a person trying `make run` can choose one; well-formed data that matches no pattern passes.
"""

from __future__ import annotations

import os
import time
from dataclasses import dataclass, field
from typing import Any

from chalicelib.identity.numbers import inn_check_digits

REGISTRIES = ("mvd", "sfr", "fns")
TITLES = {"mvd": "МВД России", "sfr": "Социальный фонд России", "fns": "ФНС России"}
_WHO = {"mvd": "МВД", "sfr": "СФР", "fns": "ФНС"}
# What each registry compares, and how the mismatch reads (ID-6).
_FIELD_TEXT = {"last_name": "фамилия", "first_name": "имя", "middle_name": "отчество", "birth_date": "дата рождения",
               "sex": "пол"}


@dataclass(frozen=True)
class Answer:
    status: str  # passed | failed | unavailable
    fields: dict[str, str] = field(default_factory=dict)
    reason: str | None = None
    found: dict[str, Any] = field(default_factory=dict)  # what the registry told us (FNS: the INN)


class RegistryUnavailable(Exception):
    """The registry did not answer (time-out, maintenance): the check is retried later."""


def _delay(slow: bool) -> None:
    base = float(os.environ.get("KABINET_REGISTRY_DELAY", "0.3"))
    time.sleep(base * (10 if slow else 1))


def _mismatch(registry: str, *names: str) -> Answer:
    fields = {n: f"{_FIELD_TEXT[n]} не совпадает с данными {_WHO[registry]}" for n in names}
    reason = "; ".join(fields.values())
    return Answer("failed", fields, reason[:1].upper() + reason[1:])


def _refused(registry: str, field_name: str, text: str) -> Answer:
    return Answer("failed", {field_name: text}, text[:1].upper() + text[1:])


# The pattern is the tail of the number asked about: passport number (MVD), SNILS digits 7-9 (SFR), INN digits
# 8-10 or, when no INN was given, the passport number (FNS).
_MVD = {"0000": lambda: _refused("mvd", "passport", "паспорт значится в списке недействительных паспортов МВД"),
        "0001": lambda: _mismatch("mvd", "last_name"),
        "0002": lambda: _mismatch("mvd", "birth_date"),
        "0005": lambda: _mismatch("mvd", "first_name", "middle_name")}
_SFR = {"001": lambda: _mismatch("sfr", "last_name"),
        "002": lambda: _mismatch("sfr", "birth_date"),
        "003": lambda: _mismatch("sfr", "sex"),
        "009": lambda: _refused("sfr", "snils", "СНИЛС не найден в СФР")}
_UNAVAILABLE_TWICE = {"mvd": "0003", "sfr": "004", "fns": "004"}
_SLOW = {"mvd": "0004", "sfr": "005", "fns": "005"}


def _key(registry: str, data: dict[str, Any]) -> str:
    if registry == "mvd":
        return data["passport"]["number"][-4:]
    if registry == "sfr":
        return data["snils"][6:9]
    return data["inn"][7:10] if data.get("inn") else data["passport"]["number"][-4:]


def simulate(registry: str, data: dict[str, Any], attempt: int) -> Answer:
    """The simulator: `attempt` counts asks about this submission (1 for the first), as СМЭВ's retries do."""
    key = _key(registry, data)
    _delay(slow=key == _SLOW[registry])
    if key == _UNAVAILABLE_TWICE[registry] and attempt <= 2:
        raise RegistryUnavailable(f"{TITLES[registry]}: сервис временно недоступен")
    if registry == "mvd" and key in _MVD:
        return _MVD[key]()
    if registry == "sfr" and key in _SFR:
        return _SFR[key]()
    if registry == "fns":
        if data.get("inn"):
            if key == "001":
                return _refused("fns", "inn", "ИНН не соответствует паспортным данным по данным ФНС")
            return Answer("passed")
        if key == "0009":
            return _refused("fns", "inn", "ИНН по паспортным данным не найден в ФНС: укажите ИНН, если он есть")
        first_ten = "77" + data["passport"]["series"] + data["passport"]["number"][:4]
        return Answer("passed", found={"inn": first_ten + inn_check_digits(first_ten)})
    return Answer("passed")


def ask(registry: str, data: dict[str, Any], attempt: int) -> Answer:
    """Ask `registry` about the person's data; RegistryUnavailable when it does not answer."""
    return simulate(registry, data, attempt)
