"""Form pre-filling from the profile (SV-3): each form field names its source in `x-prefill`.

Only values that fit the field are offered (a birth date kept as DD.MM.YYYY becomes ISO, a SNILS typed with
separators becomes 11 digits, a passport kept as an object becomes series+number); anything missing or
unusable is left out rather than guessed, and the caller is told which required fields remain empty.
"""

from __future__ import annotations

import re
from datetime import datetime
from typing import Any

from chalicelib.catalog import services
from chalicelib.catalog.services import Service
from chalicelib.identity.users import load_user


def _digits(value: Any, *lengths: int) -> str | None:
    if not isinstance(value, (str, int)) or isinstance(value, bool):
        return None
    text = str(value)
    if re.search(r"[^0-9\s-]", text):
        return None
    digits = re.sub(r"\D", "", text)
    return digits if len(digits) in lengths else None


def _iso_date(value: Any) -> str | None:
    if not isinstance(value, str):
        return None
    for pattern in ("%Y-%m-%d", "%d.%m.%Y"):
        try:
            return datetime.strptime(value.strip(), pattern).date().isoformat()
        except ValueError:
            continue
    return None


def _passport(value: Any) -> str | None:
    if isinstance(value, dict):
        series, number = value.get("series"), value.get("number")
        if series is None or number is None:
            return None
        return _digits(f"{series}{number}", 10)
    return _digits(value, 10)


def _text(value: Any) -> str | None:
    return (value.strip() or None) if isinstance(value, str) else None


SOURCES = {
    "profile.last_name": lambda p: _text(p.get("last_name")),
    "profile.first_name": lambda p: _text(p.get("first_name")),
    "profile.middle_name": lambda p: _text(p.get("middle_name")),
    "profile.birth_date": lambda p: _iso_date(p.get("birth_date")),
    "profile.phone": lambda p: _text(p.get("phone")),
    "profile.email": lambda p: _text(p.get("email")),
    "profile.snils": lambda p: _digits(p.get("snils"), 11),
    "profile.inn": lambda p: _digits(p.get("inn"), 10, 12),
    "profile.passport": lambda p: _passport(p.get("passport")),
    "profile.address": lambda p: _text(p.get("address")),
}


def _fits(value: str, prop: dict[str, Any]) -> bool:
    if prop.get("type") != "string" or len(value) > prop.get("maxLength", len(value)):
        return False
    return "enum" not in prop or value in prop["enum"]


def prefill(service: Service, profile: dict[str, Any]) -> dict[str, Any]:
    """`{"values": {field: value}, "missing": [required fields still empty]}` for one person and form."""
    props: dict[str, Any] = service.form["properties"]
    values: dict[str, Any] = {}
    for name, prop in props.items():
        source = prop.get("x-prefill")
        value = SOURCES[source](profile) if source else None
        if value is not None and _fits(value, prop):
            values[name] = value
    missing = [name for name in service.form.get("required", []) if name not in values]
    return {"values": values, "missing": missing}


def for_user(user_id: str, service_id: str) -> dict[str, Any]:
    """What `GET /services/{id}/prefill` answers: one GetItem for the profile."""
    service = services.require(service_id)
    user = load_user(user_id)
    return {"service_id": service.id, **prefill(service, user),
            "tier": {"required": service.tier, "current": user.get("tier"),
                     "enough": services.tier_allows(user.get("tier"), service.tier)}}
