"""Request and response bodies of the confirmed tier's channels (ID-7) and the МФЦ operator's desk."""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from chalicelib.core.models import Day, Id, Out, Query, Strict, Tier, absent, pattern
from chalicelib.identity.models import CODE_PATTERN

BANK_ID_PATTERN = r"^[a-z0-9-]{1,32}$"
TOKEN_PATTERN = r"^[A-Za-z0-9_-]{16,128}$"  # OAuth state and code as we and the banks mint them (URL-safe)
SNILS_QUERY = r"^[0-9]{3}[ -]?[0-9]{3}[ -]?[0-9]{3}[ -]?[0-9]{2}$"
Channel = Literal["bank", "mfc", "letter", "esign", "video"]


class BankOut(Out):
    id: str
    name: str


class ChannelOut(Out):
    channel: Channel
    title: str
    how: str
    available: bool
    note: str | None
    banks: list[BankOut] = absent()


class ChannelsOut(Out):
    tier: Tier
    channels: list[ChannelOut]


class BankStartIn(Strict):
    bank: str = pattern(BANK_ID_PATTERN, "Идентификатор банка: строчные латинские буквы, цифры, дефис")


class BankStartOut(Out):
    bank: str
    bank_name: str
    authorize_url: str = Field(description="Адрес страницы банка: перенаправьте туда человека")
    state: str
    expires_in: int


class BankFinishIn(Strict):
    code: str = pattern(TOKEN_PATTERN, "Неверный код банка")
    state: str = pattern(TOKEN_PATTERN, "Неверный параметр state")


class ConfirmedOut(Out):
    tier: Literal["confirmed"]
    channel: Literal["bank", "letter", "esign"]
    bank: str = absent()
    bank_name: str = absent()


class LetterOut(Out):
    address: str
    expires_in: int = Field(description="Секунд до истечения кода (30 дней)")
    resend_after: int
    attempts: int


class LetterCodeIn(Strict):
    code: str = pattern(CODE_PATTERN, "Код из письма: 6 цифр")


class SnilsQuery(Query):
    snils: str = pattern(SNILS_QUERY, "СНИЛС: 11 цифр, например 112-233-445 95")


class ConfirmationPassportOut(Out):
    series: str | None
    number: str | None
    issued_at: str | None
    issued_by: str | None
    division_code: str | None


class PersonOut(Out):
    user_id: Id
    last_name: str
    first_name: str
    middle_name: str | None
    birth_date: Day | None
    snils: str | None
    inn: str | None
    address: str | None
    passport: ConfirmationPassportOut | None
    tier: Tier
    tier_title: str
    can_confirm: bool
    tier_channel: str = absent()


class OperatorConfirmIn(Strict):
    passport_checked: Literal[True] = Field(description="Оператор сверил паспорт с человеком")
    passport_series: str = pattern(r"^[0-9]{4}$", "Серия паспорта: 4 цифры")
    passport_number: str = pattern(r"^[0-9]{6}$", "Номер паспорта: 6 цифр")


class AuthorizeQuery(Query):
    """The OAuth2 authorization request, as a partner bank receives it (local simulator only)."""

    response_type: Literal["code"]
    client_id: str = Field(max_length=64)
    redirect_uri: str = Field(max_length=300)
    scope: str = Field(default="", max_length=200)
    state: str = pattern(TOKEN_PATTERN, "Неверный параметр state")
    nonce: str = pattern(TOKEN_PATTERN, "Неверный параметр nonce")
    code_challenge: str = pattern(r"^[A-Za-z0-9_-]{43}$", "Неверный code_challenge")
    code_challenge_method: Literal["S256"]
    error: str = Field(default="", max_length=20)


class CallbackQuery(Query):
    code: str = Field(default="", max_length=200)
    state: str = Field(default="", max_length=200)
    error: str = Field(default="", max_length=40)


class DevLetterOut(Out):
    id: Id
    to: str
    recipient: str
    subject: str
    text: str
    at: str
    pdf_url: str
