"""A service's form schema (JSON Schema 2020-12, chalicelib/catalog/services.py) as HTML inputs, and a posted
HTML form back as the `params` the domain validates.

Inputs are named `params.<field>`: the domain reports problems as `params.<field>` paths, so each message lands
next to its own input without a mapping table. Only the conversion a browser cannot do is done here (text to
numbers, a checkbox to a boolean, an empty input to an absent field); every rule stays in the domain's check.
"""

from __future__ import annotations

from typing import Any

PREFIX = "params."
RADIO_MAX = 3  # enum options shown as radio buttons; more become a select
# Hints for the formats the domain checks (chalicelib/applications/forms.py), and the browser helpers for them.
FORMAT_HINTS = {
    "snils": "11 цифр без пробелов и дефисов",
    "inn": "12 цифр",
    "passport": "Серия и номер — 10 цифр без пробелов",
    "division_code": "В формате 000-000",
    "phone": "Например, +79161234567",
}
INPUT_TYPES = {"date": "date", "email": "email", "phone": "tel"}
INPUTMODES = {"snils": "numeric", "inn": "numeric", "passport": "numeric", "division_code": "numeric"}
AUTOCOMPLETE = {"profile.last_name": "family-name", "profile.first_name": "given-name",
                "profile.middle_name": "additional-name", "profile.birth_date": "bday", "profile.phone": "tel",
                "profile.email": "email", "profile.address": "street-address"}


def _text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else ""
    return str(value)


def fields(schema: dict[str, Any], values: dict[str, Any]) -> list[dict[str, Any]]:
    """One entry per property, in the schema's order: what the template needs to draw the input."""
    required = set(schema.get("required", []))
    out = []
    for name, prop in schema["properties"].items():
        kind = prop.get("type")
        entry: dict[str, Any] = {"name": PREFIX + name, "label": prop["title"], "required": name in required,
                                 "value": _text(values.get(name)), "hint": prop.get("description"), "type": "text",
                                 "maxlength": None, "inputmode": None, "autocomplete": None, "checked": False,
                                 "options": []}
        if "enum" in prop:
            options = list(zip(prop["enum"], prop["x-enum-titles"], strict=True))
            entry.update(widget="radio" if len(options) <= RADIO_MAX else "select", options=options)
        elif kind == "boolean":
            entry.update(widget="checkbox", checked=values.get(name) is True)
        elif kind in ("integer", "number"):
            entry.update(widget="input", type="text", inputmode="numeric" if kind == "integer" else "decimal",
                         hint=entry["hint"] or f"От {prop['minimum']} до {prop['maximum']}")
        else:
            fmt = prop.get("format")
            entry.update(widget="textarea" if prop.get("maxLength", 0) > 300 else "input",
                         type=INPUT_TYPES.get(fmt, "text"), inputmode=INPUTMODES.get(fmt),
                         maxlength=prop.get("maxLength"), autocomplete=AUTOCOMPLETE.get(prop.get("x-prefill", "")),
                         hint=entry["hint"] or FORMAT_HINTS.get(fmt or ""))
        out.append(entry)
    return out


def labels(schema: dict[str, Any]) -> dict[str, str]:
    """Error path → the field's title, for the error summary's links."""
    return {PREFIX + name: prop["title"] for name, prop in schema["properties"].items()}


def _number(text: str, kind: str) -> Any:
    """The typed number, or the text itself so the domain's check names the problem ("должно быть число")."""
    cleaned = text.replace(" ", "").replace("\u00a0", "").replace(",", ".")
    try:
        return int(cleaned) if kind == "integer" else (int(cleaned) if cleaned.isdigit() else float(cleaned))
    except ValueError:
        return text


def params(schema: dict[str, Any], form: dict[str, str]) -> dict[str, Any]:
    """The posted form as params: trimmed text, numbers as numbers, empty inputs left out (so "required" speaks)."""
    out: dict[str, Any] = {}
    for name, prop in schema["properties"].items():
        raw = form.get(PREFIX + name)
        kind = prop.get("type")
        if kind == "boolean" and "enum" not in prop:
            out[name] = raw is not None and raw != ""
            continue
        text = (raw or "").strip()
        if not text:
            continue
        out[name] = _number(text, kind) if kind in ("integer", "number") and "enum" not in prop else text
    return out


def shown(schema: dict[str, Any], values: dict[str, Any]) -> list[tuple[str, str]]:
    """Submitted values as a person reads them: the field's title and the enum's title, yes/no for booleans."""
    out = []
    for name, prop in schema.get("properties", {}).items():
        if name not in values:
            continue
        value = values[name]
        if "enum" in prop and value in prop["enum"]:
            text = prop["x-enum-titles"][prop["enum"].index(value)]
        elif isinstance(value, bool):
            text = "Да" if value else "Нет"
        elif prop.get("format") == "date" and isinstance(value, str) and len(value) == 10:
            text = f"{value[8:10]}.{value[5:7]}.{value[:4]}"
        else:
            text = _text(value)
        out.append((prop["title"], text))
    return out
