"""Reading the account item: the one place that turns "no such user" into the API's answer."""

from __future__ import annotations

from typing import Any

from chalicelib.core.errors import not_found
from chalicelib.store import keys, table


def load_user(user_id: str) -> dict[str, Any]:
    user = table.get(keys.user(user_id))
    if not user:
        raise not_found("Пользователь")
    return user


def code_channel(user: dict[str, Any]) -> tuple[str, str]:
    """Where a confirmation code for the account goes: the phone when there is one, else the e-mail."""
    return ("sms", user["phone"]) if user.get("phone") else ("email", user["email"])


def contacts(user: dict[str, Any]) -> dict[str, Any]:
    """What a notice about the account needs: where to send it and how to greet."""
    return {"user_id": user["user_id"], "phone": user.get("phone"), "email": user.get("email"),
            "first_name": user["first_name"]}


def full_name(user: dict[str, Any]) -> str:
    """Фамилия Имя Отчество, as documents and journals print it."""
    return " ".join(p for p in (user["last_name"], user["first_name"], user.get("middle_name")) if p)
