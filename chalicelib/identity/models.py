"""Request and response bodies of the identity domain (ID-2, ID-3, AU-*): formats checked by patterns that the
OpenAPI document shows as they are enforced, and answers that list exactly what they carry."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import AfterValidator, ConfigDict, Field, model_validator

from chalicelib.core.models import (
    Cursor,
    DayFilter,
    Id,
    Moment,
    Out,
    PhoneE164,
    Query,
    Strict,
    Tier,
    pattern,
)
from chalicelib.identity.contacts import EMAIL_RULE, PHONE_RULE, normalize_email, normalize_phone

_LETTERS = "[А-ЯЁа-яёA-Za-z]"
# ID-3: letters, parts joined by one hyphen, apostrophe or space, at least two letters; spaces around are dropped.
NAME_PATTERN = rf"^ *(?:{_LETTERS}{{2,}}|{_LETTERS}+(?:[ '\-]{_LETTERS}+)+) *$"
# ID-2: 11 digits starting with 7 or 8 (or +7), or 10 starting with 9 — a Russian mobile number, no spaces.
PHONE_PATTERN = r"^(?:\+7|7|8)?9[0-9]{9}$"
# name@domain.ru: the local part without two dots in a row, a domain of labels and a 2+ letter zone.
EMAIL_PATTERN = r"^(?:(?:\.?[A-Za-z0-9_%+\-])+\.?|\.)@(?:[A-Za-z0-9\-]+\.)+[A-Za-z]{2,}$"
STORED_EMAIL = r"^(?:(?:\.?[a-z0-9_%+\-])+\.?|\.)@(?:[a-z0-9\-]+\.)+[a-z]{2,}$"  # kept in lower case
CODE_PATTERN = r"^[0-9]{6}$"
_OCTET = "(?:25[0-5]|2[0-4][0-9]|1[0-9]{2}|[1-9]?[0-9])"
_V4 = rf"{_OCTET}(?:\.{_OCTET}){{3}}"
_H = "[0-9A-Fa-f]{1,4}"
_LS32 = rf"(?:{_H}:{_H}|{_V4})"
_V6 = "|".join([  # RFC 3986 IPv6address
    rf"(?:{_H}:){{6}}{_LS32}", rf"::(?:{_H}:){{5}}{_LS32}", rf"(?:{_H})?::(?:{_H}:){{4}}{_LS32}",
    rf"(?:(?:{_H}:){{0,1}}{_H})?::(?:{_H}:){{3}}{_LS32}", rf"(?:(?:{_H}:){{0,2}}{_H})?::(?:{_H}:){{2}}{_LS32}",
    rf"(?:(?:{_H}:){{0,3}}{_H})?::{_H}:{_LS32}", rf"(?:(?:{_H}:){{0,4}}{_H})?::{_LS32}",
    rf"(?:(?:{_H}:){{0,5}}{_H})?::{_H}", rf"(?:(?:{_H}:){{0,6}}{_H})?::"])
CIDR_PATTERN = (rf"^(?:{_V4}(?:/(?:3[0-2]|[12]?[0-9]))?|(?:{_V6})(?:/(?:12[0-8]|1[01][0-9]|[1-9]?[0-9]))?)$")
CIDR_RULE = "Укажите IP-адрес или сеть, например 203.0.113.7 или 203.0.113.0/24"


def _name(value: str) -> str:
    return value.strip(" ")


def _phone(value: str) -> str:
    phone = normalize_phone(value)
    if phone is None:
        raise ValueError(PHONE_RULE)
    return phone


def _email(value: str) -> str:
    email = normalize_email(value)
    if email is None:
        raise ValueError(EMAIL_RULE)
    return email


Name = Annotated[str, pattern(NAME_PATTERN, "Только буквы, без сокращений и цифр", max_length=64),
                 AfterValidator(_name)]
Phone = Annotated[str, pattern(PHONE_PATTERN, PHONE_RULE, max_length=16), AfterValidator(_phone)]
Email = Annotated[str, pattern(EMAIL_PATTERN, EMAIL_RULE, max_length=254), AfterValidator(_email)]
Code = Annotated[str, pattern(CODE_PATTERN, "Код — 6 цифр", description="6 цифр")]
Cidr = Annotated[str, pattern(CIDR_PATTERN, CIDR_RULE, max_length=64)]
Password = Annotated[str, Field(max_length=128)]
Factor = Literal["totp", "sms", "backup"]
SignInFactor = Literal["totp", "sms", "backup", "passkey"]  # a passkey is offered at sign-in, never typed as a code
Channel = Literal["sms", "email"]
StoredEmail = Annotated[str, Field(pattern=STORED_EMAIL, max_length=254)]
DeviceType = Literal["computer", "phone", "tablet", "unknown"]
LoginResult = Literal["success", "failure", "locked", "timeout", "ip_not_allowed", "blocked"]


def _one_of(*names: str) -> dict[str, Any]:
    """JSON Schema for "at least one of these fields, not null" (what `_one_contact` checks)."""
    return {"anyOf": [{"required": [n], "properties": {n: {"type": "string"}}} for n in names]}


# -- requests ------------------------------------------------------------------------------------------------

class RegistrationIn(Strict):
    model_config = ConfigDict(json_schema_extra=_one_of("phone", "email"))

    last_name: Name
    first_name: Name
    middle_name: Name | None = None
    phone: Phone | None = None
    email: Email | None = None

    @model_validator(mode="after")
    def _one_contact(self) -> RegistrationIn:
        if not self.phone and not self.email:
            raise ValueError("Укажите мобильный телефон или электронную почту")
        return self


class CodeIn(Strict):
    code: Code


class CompleteIn(Strict):
    password: Password
    password_repeat: Password


class LoginIn(Strict):
    login: str = Field(min_length=1, max_length=254, description="Телефон в любой записи, e-mail или СНИЛС")
    password: str = Field(min_length=1, max_length=128)


class RefreshIn(Strict):
    refresh_token: str = Field(min_length=1, max_length=512)


class MfaLoginIn(Strict):
    challenge_id: str = Field(min_length=1, max_length=2048)
    method: Factor
    code: str = Field(min_length=4, max_length=16)


class ChallengeIn(Strict):
    challenge_id: str = Field(min_length=1, max_length=2048)


class ExpiredPasswordIn(Strict):
    change_token: str = Field(min_length=1, max_length=2048)
    new_password: Password
    new_password_repeat: Password


class RecoveryIn(Strict):
    login: str = Field(min_length=1, max_length=254, description="Телефон в любой записи, e-mail или СНИЛС")


class ResetTokenIn(Strict):
    reset_token: str = Field(min_length=1, max_length=256)


class ResetIn(Strict):
    reset_token: str = Field(min_length=1, max_length=256)
    new_password: Password
    new_password_repeat: Password
    mfa_method: Factor | None = None
    mfa_code: str | None = Field(default=None, max_length=16)


class PasswordChangeIn(Strict):
    current_password: str = Field(min_length=1, max_length=128)
    new_password: Password
    new_password_repeat: Password
    code: Code


class PasswordCodeIn(Strict):
    password: str = Field(min_length=1, max_length=128)
    code: str = Field(min_length=6, max_length=16)


class AllowlistIn(Strict):
    cidrs: list[Cidr] = Field(max_length=20, description="Не более 20 адресов или сетей; пустой список — выключить")
    code: Code


class PhoneIn(Strict):
    phone: Phone


class EmailIn(Strict):
    email: Email


class HistoryFilter(Query):
    """AU-9 filters: Moscow days and the page's device type and result."""

    from_: DayFilter | None = Field(default=None, alias="from", description="С этого дня (МСК)")
    to: DayFilter | None = Field(default=None, description="По этот день включительно (МСК)")
    device_type: DeviceType | None = None
    result: LoginResult | None = None


class LoginHistoryQuery(HistoryFilter):
    cursor: str | None = Field(default=None, max_length=2048, description="Курсор следующей страницы")


# -- responses -----------------------------------------------------------------------------------------------

class RegistrationOut(Out):
    registration_id: Id
    channel: Channel
    expires_in: int
    resend_after: int


class RegistrationConfirmedOut(Out):
    registration_id: Id
    confirmed: Literal[True]


class TokensOut(Out):
    user_id: Id
    access_token: str
    refresh_token: str
    expires_in: int
    tier: Tier


class MfaChallengeOut(Out):
    mfa_required: Literal[True]
    challenge_id: str
    methods: list[SignInFactor]
    expires_in: int


class PasswordExpiredOut(Out):
    password_expired: Literal[True]
    reason: Literal["expired", "not_me"]
    change_token: str
    expires_in: int


SignInOut = TokensOut | MfaChallengeOut | PasswordExpiredOut  # a second factor or a new password may come first
SecondStepOut = TokensOut | PasswordExpiredOut


class CodeSentOut(Out):
    channel: Channel
    expires_in: int
    resend_after: int


class RecoveryStartedOut(Out):
    recovery_id: Id
    channel: Channel
    expires_in: int


class RecoveryConfirmedOut(Out):
    reset_token: str
    expires_in: int
    second_factor: list[Factor] = Field(description="Что ещё нужно для смены пароля; пусто — ничего")


class ResetOut(Out):
    reset: Literal[True]
    sessions_ended: int


class ProfileOut(Out):
    user_id: Id
    last_name: str
    first_name: str
    middle_name: str | None
    phone: PhoneE164 | None
    email: StoredEmail | None
    tier: Tier
    created_at: Moment


class LoginEventOut(Out):
    id: Id
    at: Moment
    ip: str | None
    device_type: DeviceType
    os: str
    browser: str
    method: Literal["password", "esign", "passkey"]
    mfa: SignInFactor | None
    result: LoginResult


class LoginHistoryOut(Out):
    items: list[LoginEventOut]
    cursor: Cursor


class Factors(Out):
    totp: bool
    sms: bool


class SecurityOut(Out):
    factors: Factors
    backup_codes_left: int
    password_changed_at: Moment
    password_expires_at: Moment
    ip_allowlist: list[str]


class TotpStartOut(Out):
    secret: str = Field(pattern=r"^[A-Z2-7]+=*$", description="Base32")
    otpauth_uri: str = Field(pattern=r"^otpauth://totp/")
    qr_svg: str = Field(description="QR-код otpauth_uri, SVG")


class FactorEnabledOut(Out):
    enabled: Literal[True]
    backup_codes: list[Annotated[str, Field(pattern=r"^[A-Z2-9]{5}-[A-Z2-9]{5}$")]] | None = Field(
        description="Резервные коды: показываются один раз, с первым фактором; иначе null")


class PasswordChangedOut(Out):
    changed: Literal[True]
    sessions_ended: int


class AllowlistOut(Out):
    ip_allowlist: list[str]


class PhoneChangedOut(Out):
    phone: PhoneE164


class EmailChangedOut(Out):
    email: StoredEmail


ContactChangedOut = PhoneChangedOut | EmailChangedOut


class SessionOut(Out):
    id: Id
    device_type: DeviceType
    os: str
    browser: str
    ip: str | None
    created_at: Moment
    last_used_at: Moment
    current: bool


class SessionsOut(Out):
    items: list[SessionOut]


class SessionsEndedOut(Out):
    sessions_ended: int


class NotMeOut(Out):
    sessions_ended: int
    password_change_required: Literal[True]
    blocked: bool = Field(default=False, description="Учётная запись заблокирована по выбору владельца (AU-12)")
