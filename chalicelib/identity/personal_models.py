"""Bodies of the personal-data routes (ID-3, ID-6): every format checked where the OpenAPI document shows it,
with the Russian message a person reads next to the field."""

from __future__ import annotations

import re
from typing import Annotated, Any, Literal

from pydantic import AfterValidator, Field

from chalicelib.core.models import Day, Id, Moment, Out, Strict, Tier, pattern
from chalicelib.identity.confirmation_models import ChannelOut
from chalicelib.identity.contacts import snils_valid
from chalicelib.identity.models import Name
from chalicelib.identity.numbers import inn_valid

SNILS_INPUT = r"^(?:[0-9]{11}|[0-9]{3}-[0-9]{3}-[0-9]{3}[ -][0-9]{2})$"
SNILS_RULE = "СНИЛС — 11 цифр, например 112-233-445 95"
INN_RULE = "ИНН физического лица — 12 цифр"


def _snils(value: str) -> str:
    digits = re.sub(r"\D", "", value)
    if not snils_valid(digits):
        raise ValueError("Неверный СНИЛС: не сходится контрольное число")
    return digits


def _inn(value: str) -> str:
    if not inn_valid(value):
        raise ValueError("Неверный ИНН: не сходятся контрольные цифры")
    return value


_LINE = r"^[^\x00-\x1f\x7f]*\S[^\x00-\x1f\x7f]*$"  # one line of text, not blank


def _text(rule: str, low: int, high: int) -> Any:
    """One line as in the passport: `rule` is the message for a blank, short or multi-line value."""
    def check(value: str) -> str:
        value = " ".join(value.split())
        if len(value) < low:
            raise ValueError(rule)
        return value
    return Annotated[str, pattern(_LINE, "Одна строка текста, не пустая", min_length=low,
                                 max_length=high), AfterValidator(check)]


IssuedBy = _text("Кем выдан: как в паспорте, от 5 до 200 символов", 5, 200)
BirthPlace = _text("Место рождения: как в паспорте, от 2 до 200 символов", 2, 200)
Address = _text("Адрес регистрации: от 5 до 300 символов", 5, 300)
Snils = Annotated[str, pattern(SNILS_INPUT, SNILS_RULE, max_length=14), AfterValidator(_snils)]
Inn = Annotated[str, pattern(r"^[0-9]{12}$", INN_RULE), AfterValidator(_inn)]
Sex = Literal["male", "female"]
Registry = Literal["mvd", "sfr", "fns"]
CheckStatus = Literal["pending", "passed", "failed", "unavailable"]


class PassportIn(Strict):
    series: Annotated[str, pattern(r"^[0-9]{4}$", "Серия паспорта — 4 цифры без пробелов")]
    number: Annotated[str, pattern(r"^[0-9]{6}$", "Номер паспорта — 6 цифр")]
    issued_at: Annotated[Day, Field(description="Дата выдачи, ГГГГ-ММ-ДД")]
    issued_by: IssuedBy
    division_code: Annotated[str, pattern(r"^[0-9]{3}-[0-9]{3}$", "Код подразделения в формате 000-000")]


class PersonalDataIn(Strict):
    """Everything ID-3 asks for. `passport_document_id`: a checked upload of the new passport, required when
    names or passport data change after they were checked (ID-8)."""

    last_name: Name
    first_name: Name
    middle_name: Name | None = None
    birth_date: Annotated[Day, Field(description="Дата рождения, ГГГГ-ММ-ДД")]
    sex: Sex
    birth_place: BirthPlace
    passport: PassportIn
    snils: Snils
    inn: Inn | None = None
    address: Address
    passport_document_id: Id | None = None


class PassportOut(Out):
    series: str
    number: str
    issued_at: Day
    issued_by: str
    division_code: str


class PersonalDataOut(Out):
    last_name: str
    first_name: str
    middle_name: str | None
    birth_date: Day | None
    sex: Sex | None
    birth_place: str | None
    passport: PassportOut | None
    snils: Annotated[str, Field(pattern=r"^[0-9]{11}$")] | None
    inn: Annotated[str, Field(pattern=r"^[0-9]{12}$")] | None
    address: str | None


class CheckOut(Out):
    registry: Registry
    title: str
    status: CheckStatus
    reason: str | None
    fields: dict[str, str] | None = Field(description="Расхождения по полям: поле → что не совпало")
    checked_at: Moment | None
    retry_at: Moment | None


class PendingOut(Out):
    submitted_at: Moment
    data: PersonalDataOut


class NextTierOut(Out):
    tier: Tier
    title: str
    needs: list[str]


class IdentityOut(Out):
    tier: Tier
    tier_title: str
    data: PersonalDataOut | None = Field(description="Проверенные данные: по ним оказываются услуги")
    pending: PendingOut | None = Field(description="Данные на проверке; до её окончания действуют проверенные")
    checks: list[CheckOut]
    next_tier: NextTierOut | None
    channels: list[ChannelOut]


class CheckingOut(Out):
    status: Literal["checking"]
    checks: list[CheckOut]
