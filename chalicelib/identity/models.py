"""Request bodies of the identity domain: unknown fields are refused, formats checked (ID-2, ID-3)."""

from __future__ import annotations

import re
from typing import Annotated, Literal

from pydantic import AfterValidator, BaseModel, Field, model_validator

from chalicelib.core.models import Strict
from chalicelib.identity.contacts import EMAIL_RULE, PHONE_RULE, normalize_email, normalize_phone

_NAME = re.compile(r"^[А-ЯЁа-яёA-Za-z]+(?:[\- '][А-ЯЁа-яёA-Za-z]+)*$")


def _name(value: str) -> str:
    value = value.strip()
    if not _NAME.match(value):
        raise ValueError("Только буквы, без сокращений и цифр")
    if len(value) < 2:
        raise ValueError("Укажите полностью, без сокращений")
    return value


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


Name = Annotated[str, Field(max_length=64), AfterValidator(_name)]
Phone = Annotated[str, Field(max_length=16), AfterValidator(_phone)]
Email = Annotated[str, Field(max_length=254), AfterValidator(_email)]
Code = Annotated[str, Field(pattern=r"^\d{6}$", description="6 digits")]


class RegistrationIn(Strict):
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
    password: str = Field(max_length=128)
    password_repeat: str = Field(max_length=128)


class LoginIn(Strict):
    login: str = Field(min_length=1, max_length=254)
    password: str = Field(min_length=1, max_length=128)


class RefreshIn(Strict):
    refresh_token: str = Field(min_length=1, max_length=512)


class RegistrationOut(BaseModel):
    registration_id: str
    channel: str
    expires_in: int
    resend_after: int


class TokensOut(BaseModel):
    user_id: str
    access_token: str
    refresh_token: str
    expires_in: int
    tier: str | None = None


class ProfileOut(BaseModel):
    user_id: str
    last_name: str
    first_name: str
    middle_name: str | None
    phone: str | None
    email: str | None
    tier: str
    created_at: str


class LoginEventOut(BaseModel):
    id: str
    at: str
    ip: str | None
    device_type: str
    os: str
    browser: str
    method: str
    mfa: str | None
    result: str


class MfaLoginIn(Strict):
    challenge_id: str = Field(min_length=1, max_length=2048)
    method: Literal["totp", "sms", "backup"]
    code: str = Field(min_length=4, max_length=16)


class ChallengeIn(Strict):
    challenge_id: str = Field(min_length=1, max_length=2048)


class ExpiredPasswordIn(Strict):
    change_token: str = Field(min_length=1, max_length=2048)
    new_password: str = Field(max_length=128)
    new_password_repeat: str = Field(max_length=128)


class RecoveryIn(Strict):
    login: str = Field(min_length=1, max_length=254)


class ResetTokenIn(Strict):
    reset_token: str = Field(min_length=1, max_length=256)


class ResetIn(Strict):
    reset_token: str = Field(min_length=1, max_length=256)
    new_password: str = Field(max_length=128)
    new_password_repeat: str = Field(max_length=128)
    mfa_method: Literal["totp", "sms", "backup"] | None = None
    mfa_code: str | None = Field(default=None, max_length=16)


class PasswordChangeIn(Strict):
    current_password: str = Field(min_length=1, max_length=128)
    new_password: str = Field(max_length=128)
    new_password_repeat: str = Field(max_length=128)
    code: Code


class PasswordCodeIn(Strict):
    password: str = Field(min_length=1, max_length=128)
    code: str = Field(min_length=6, max_length=16)


class AllowlistIn(Strict):
    cidrs: list[Annotated[str, Field(max_length=64)]]
    code: Code


class PhoneIn(Strict):
    phone: Phone


class EmailIn(Strict):
    email: Email


class MfaLoginOut(BaseModel):
    mfa_required: bool
    challenge_id: str
    methods: list[str]
    expires_in: int


class SecurityOut(BaseModel):
    factors: dict[str, bool]
    backup_codes_left: int
    password_changed_at: str
    password_expires_at: str
    ip_allowlist: list[str]


class CodeSentOut(BaseModel):
    channel: str
    expires_in: int
    resend_after: int
