"""What an id_token and userinfo say about the person: levels of assurance and the claims of each scope."""

from __future__ import annotations

from typing import Any

ACR = {"simplified": "urn:kabinet:loa:simplified", "standard": "urn:kabinet:loa:standard",
       "confirmed": "urn:kabinet:loa:confirmed"}
ACR_ORDER = list(ACR.values())

# RFC 8176 values for the factors a session was opened with (sessions.open_session: method and mfa).
_AMR = {"password": "pwd", "totp": "otp", "otp": "otp", "sms": "sms", "email": "otp", "passkey": "hwk",
        "esign": "esig"}

# What the consent page and the account's list of systems say each scope hands over.
SCOPE_TITLES = {
    "openid": "Ваш идентификатор для этой системы (у каждой системы свой)",
    "profile": "Фамилия, имя, отчество",
    "birthdate": "Дата рождения",
    "snils": "СНИЛС",
    "inn": "ИНН",
    "passport": "Паспортные данные",
    "contacts": "Телефон и электронная почта",
    "address": "Адрес регистрации",
    "offline_access": "Доступ к этим данным без вашего входа, пока вы не отзовёте согласие",
}
SCOPES = ("openid", "profile", "birthdate", "snils", "inn", "passport", "contacts", "address", "offline_access")


def acr(tier: str) -> str:
    """The identity tier as an `acr` value; an unknown tier is the lowest."""
    return ACR.get(tier, ACR["simplified"])


def amr(method: str | None, mfa: str | None) -> list[str]:
    """The factors of the session, first factor first, each once; `mfa` when there were two."""
    out: list[str] = []
    for factor in (method, mfa):
        value = _AMR.get(factor or "")
        if value and value not in out:
            out.append(value)
    if len(out) > 1:
        out.append("mfa")
    return out or ["pwd"]


def user_claims(user: dict[str, Any], scopes: list[str]) -> dict[str, Any]:
    """The claims of the granted scopes that the account holds (absent values are left out, not null)."""
    claims: dict[str, Any] = {}
    if "profile" in scopes:
        claims.update({"family_name": user.get("last_name"), "given_name": user.get("first_name"),
                       "middle_name": user.get("middle_name")})
    if "birthdate" in scopes:
        claims["birthdate"] = user.get("birth_date")
    if "snils" in scopes:
        claims["snils"] = user.get("snils")
    if "inn" in scopes:
        claims["inn"] = user.get("inn")
    if "passport" in scopes and user.get("passport"):
        claims["passport"] = {k: user["passport"].get(k) for k in ("series", "number", "issued_at", "issued_by",
                                                                   "division_code")}
    if "address" in scopes and user.get("address"):
        claims["address"] = {"formatted": user["address"]}
    if "contacts" in scopes:  # both are confirmed before an account exists (ID-2) or a change lands (ID-5)
        claims.update({"email": user.get("email"), "phone_number": user.get("phone")})
        claims.update({"email_verified": True} if user.get("email") else {})
        claims.update({"phone_number_verified": True} if user.get("phone") else {})
    return {k: v for k, v in claims.items() if v is not None}
