"""Confirmation at a service centre (МФЦ, ID-7): an operator finds the person by SNILS, checks the passport in
hand against the checked data and confirms.

Every operator action is journaled twice, in one transaction: in the person's activity journal (who looked at
my data, from which office) and in the operator's own (what this operator did). Only citizens' accounts can be
found or confirmed; an unknown SNILS is not found and that search is journaled too.
"""

from __future__ import annotations

import re
from typing import Any

from chalicelib.core.errors import NotFound, Unprocessable
from chalicelib.identity import confirmation, tiers
from chalicelib.identity.users import full_name, load_user
from chalicelib.store import journal, keys, table
from chalicelib.store.table import ConditionFailed, Tx

PASSPORT_FIELDS = {"passport_series": ("series", "Серия паспорта не совпадает с проверенными данными"),
                   "passport_number": ("number", "Номер паспорта не совпадает с проверенными данными")}


def snils_digits(text: str) -> str:
    return re.sub(r"[\s-]", "", text)


def _masked_snils(digits: str) -> str:
    return f"***-***-{digits[6:9]} {digits[9:]}"


def _operator(operator_id: str) -> dict[str, Any]:
    operator = load_user(operator_id)
    return {"operator": full_name(operator), "office": operator.get("office")}


def _person(user_id: str | None) -> dict[str, Any] | None:
    person = table.get(keys.user(user_id)) if user_id else None
    return person if person and person.get("role", "citizen") == "citizen" else None


def not_found() -> NotFound:
    return NotFound("PERSON_NOT_FOUND", "Заявитель с таким СНИЛС не найден")


def view(person: dict[str, Any]) -> dict[str, Any]:
    """What the operator sees: the checked data to compare with the documents in hand."""
    passport = person.get("passport") or {}
    return {"user_id": person["user_id"], "last_name": person["last_name"], "first_name": person["first_name"],
            "middle_name": person.get("middle_name"), "birth_date": person.get("birth_date"),
            "snils": person.get("snils"), "inn": person.get("inn"), "address": person.get("address"),
            "passport": {k: passport.get(k) for k in ("series", "number", "issued_at", "issued_by", "division_code")}
            if passport else None, "tier": person.get("tier") or "simplified",
            "tier_title": tiers.TITLES[person.get("tier") or "simplified"],
            "can_confirm": person.get("tier") == "standard"}


def find(operator_id: str, snils: str, ip: str | None) -> dict[str, Any]:
    digits = snils_digits(snils)
    who = _operator(operator_id)
    alias = table.get(keys.login_alias("snils", digits))
    person = _person(alias["user_id"] if alias else None)
    tx = Tx()
    if person is None:
        journal.audit(tx, keys.user_pk(operator_id), "operator.person_not_found", operator_id, ip,
                      snils=_masked_snils(digits), **who)
        tx.commit()
        raise not_found()
    journal.audit(tx, keys.user_pk(person["user_id"]), "operator.person_viewed", operator_id, ip, **who)
    journal.audit(tx, keys.user_pk(operator_id), "operator.person_viewed", operator_id, ip,
                  person=person["user_id"], **who)
    tx.commit()
    return view(person)


def confirm(operator_id: str, user_id: str, series: str, number: str, ip: str | None) -> dict[str, Any]:
    who = _operator(operator_id)
    person = _person(user_id)
    if person is None:
        raise NotFound("PERSON_NOT_FOUND", "Заявитель не найден")
    confirmation.check_confirmable(person)
    passport = person.get("passport") or {}
    seen = {"passport_series": series, "passport_number": number}
    differ = {field: message for field, (key, message) in PASSPORT_FIELDS.items() if seen[field] != passport.get(key)}
    tx = Tx()
    if differ:
        for subject in (keys.user_pk(user_id), keys.user_pk(operator_id)):
            journal.audit(tx, subject, "operator.passport_mismatch", operator_id, ip, person=user_id,
                          fields=sorted(differ), **who)
        tx.commit()
        raise Unprocessable("PASSPORT_MISMATCH", "Паспорт не совпадает с проверенными данными: подтвердить личность "
                                                 "нельзя", differ)
    tiers.raise_tier(tx, person, "confirmed", channel="mfc", actor=operator_id, ip=ip, **who)
    journal.audit(tx, keys.user_pk(operator_id), "operator.person_confirmed", operator_id, ip, person=user_id, **who)
    try:
        tx.commit()
    except ConditionFailed as exc:
        if exc.tag == "tier_changed":
            raise confirmation.already_confirmed() from None
        raise
    return {**view({**person, "tier": "confirmed"}), "tier_channel": "mfc"}
