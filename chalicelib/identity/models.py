"""Request bodies of the identity domain: unknown fields are refused, formats checked (ID-2, ID-3)."""

from __future__ import annotations

import re
from typing import Annotated

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, model_validator

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


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=False)


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
    at: str
    ip: str | None
    device_type: str
    os: str
    browser: str
    method: str
    result: str
