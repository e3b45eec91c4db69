"""Languages of the web client and of the API's refusals (NF-4): Russian by default, and English.

Every text is a gettext message whose msgid is the Russian text, the source language: the domain's refusals
already are Russian, so one catalog translates pages and API errors alike. Catalogs live in
`chalicelib/locale/<lang>/LC_MESSAGES/kabinet.po`; `make messages` extracts, merges and compiles them with Babel
(a dev tool). At run time the standard library reads the compiled `.mo`: nothing extra to import at cold start.
"""

from __future__ import annotations

import gettext
import pathlib
import re
import string
from functools import cache
from typing import Any

LANGUAGES = ("ru", "en")
DEFAULT = "ru"
TITLES = {"ru": "Русский", "en": "English"}
LOCALE_DIR = pathlib.Path(__file__).resolve().parent.parent / "locale"
DOMAIN = "kabinet"


def negotiate(accept_language: str | None, chosen: str | None = None) -> str:
    """The language a person chose (cookie) wins; else the best of Accept-Language we speak; else Russian."""
    if chosen in LANGUAGES:
        return chosen  # type: ignore[return-value]
    best, best_q = DEFAULT, 0.0
    for part in (accept_language or "").split(",")[:20]:
        tag, _, params = part.strip().partition(";")
        q = 1.0
        if params.strip().startswith("q="):
            try:
                q = float(params.strip()[2:])
            except ValueError:
                continue
        lang = tag.strip().lower().split("-")[0]
        if lang in LANGUAGES and q > best_q:
            best, best_q = lang, q
    return best


@cache
def translations(lang: str) -> gettext.NullTranslations:
    if lang == DEFAULT:
        return gettext.NullTranslations()
    return gettext.translation(DOMAIN, LOCALE_DIR, languages=[lang], fallback=True)


def text(lang: str, message: str) -> str:
    """A message in `lang`: its own entry; else the template it was formatted from (`Не менее {0} символов`), with
    the captured values translated too (a status title, a tier, a list of them). Reasons joined by "; " and a
    fragment capitalised to start a sentence are translated piece by piece. Untranslatable text stays as it is."""
    if lang == DEFAULT or not message:
        return message
    found = translations(lang).gettext(message)
    if found != message:
        return found
    if "; " in message:
        parts = message.split("; ")
        done = [text(lang, part) for part in parts]
        if all(d != part for d, part in zip(done, parts, strict=True)):
            return "; ".join(done)
    for pattern, fields, translated in templates(lang):
        if match := pattern.match(message):
            values = [_value(lang, v) for v in match.groups()]
            positional = [v for f, v in zip(fields, values, strict=True) if f.isdigit()]
            named = {f: v for f, v in zip(fields, values, strict=True) if not f.isdigit()}
            try:
                return translated.format(*positional, **named)
            except (IndexError, KeyError, ValueError):
                return message
    if message[:1].isupper() and (lowered := message[:1].lower() + message[1:]) != message:
        found = text(lang, lowered)
        if found != lowered:
            return found[:1].upper() + found[1:]
    return message


def _value(lang: str, value: str) -> str:
    """A captured value: itself a message, or a list of them («паспорт, СНИЛС», «строка или число»)."""
    if (found := text(lang, value)) != value:
        return found
    for glue in (", ", " или "):
        if glue in value:
            return text(lang, glue).join(_value(lang, part) for part in value.split(glue))
    return value


@cache
def templates(lang: str) -> list[tuple[re.Pattern[str], list[str], str]]:
    """The catalog's msgids with fields, as patterns that capture the fields; the most specific first.

    The domain formats its refusals with f-strings (the extractor numbers their fields), so a formatted message
    finds its entry by shape. Read once per language from the compiled catalog."""
    catalog: dict[object, str] = getattr(translations(lang), "_catalog", {})
    out = []
    for msgid, translated in catalog.items():
        if not isinstance(msgid, str) or "{" not in msgid or not translated:
            continue
        try:
            parsed = list(string.Formatter().parse(msgid))
        except ValueError:
            continue
        regex, fields, auto, literal_length = "", [], 0, 0
        for literal, field, _spec, _conversion in parsed:
            regex += re.escape(literal)
            literal_length += len(literal.strip())
            if field is not None:
                fields.append(field or str(auto))
                auto += not field
                regex += "(.*?)"
        if fields and literal_length:
            out.append((re.compile(regex + r"\Z", re.DOTALL), fields, translated, literal_length))
    out.sort(key=lambda entry: -entry[3])
    return [(pattern, fields, translated) for pattern, fields, translated, _ in out]


def error_body(body: dict[str, Any], lang: str) -> dict[str, Any]:
    """The API's error shape in `lang`: the message and each field's reason (lists of reasons too)."""
    if lang == DEFAULT or "error" not in body:
        return body
    error = dict(body["error"])
    error["message"] = text(lang, error.get("message", ""))
    fields = error.get("fields") or {}
    error["fields"] = {k: [text(lang, x) for x in v] if isinstance(v, list) else text(lang, str(v))
                       for k, v in fields.items()}
    return {**body, "error": error}
