"""Shared pieces of request and response models, so the OpenAPI document says exactly what the API does.

Request bodies (`Strict`) refuse unknown fields and are validated in pydantic's strict JSON mode: `"size": true`
is not 1 and `"2"` is not 2. A pattern that pydantic enforces is the same one the document shows; its Russian
message is registered with `pattern()` so the error names what is wrong in words a person understands.
Response bodies (`Out`) list every field they carry (`additionalProperties: false`), so a field that leaks
into an answer without being documented fails the contract tests.
All three bases defer building their validators and schemas to first use (`defer_build`): the ~130 models of the
API cost a cold start only the class definitions, and each route pays for its own models on its first request.
"""

from __future__ import annotations

import re
from datetime import date
from typing import Annotated, Any, Literal

from pydantic import AfterValidator, BaseModel, BeforeValidator, ConfigDict, Field, WithJsonSchema

# Ids minted by core/ids.py: 26 characters of Crockford's base32 (ULID layout).
ID_PATTERN = r"^[0-9A-HJKMNP-TV-Z]{26}$"
PHONE_E164 = r"^\+7[0-9]{10}$"  # phones as stored: +7 and ten digits
MOMENT_PATTERN = r"^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}Z$"
DAY_PATTERN = r"^[0-9]{4}-[0-9]{2}-[0-9]{2}$"
MAX_NUMBER = 10**15  # docs/architecture.md: finite numbers up to 10^15 in anything a person types

DAY_FILTER = r"^(?:20[0-9]{2}|2100)-(?:0[1-9]|1[0-2])-(?:0[1-9]|[12][0-9]|3[01])$"  # a Moscow day, 2000..2100

PATTERN_MESSAGES: dict[str, str] = {ID_PATTERN: "Неверный идентификатор"}


def pattern(regex: str, message: str, **field: Any) -> Any:
    """A `Field` whose pattern pydantic enforces and whose refusal reads `message` (api/http.py looks it up)."""
    PATTERN_MESSAGES[regex] = message
    return Field(pattern=regex, **field)


def _no_default(schema: dict[str, Any]) -> None:
    schema.pop("default", None)


def absent(**field: Any) -> Any:
    """A response field that is left out when it does not apply (not `null`): optional, no default shown."""
    return Field(default=None, json_schema_extra=_no_default, **field)


def _integral(value: Any) -> Any:
    """JSON Schema counts 566.0 as the integer 566; strict pydantic would not. true and "566" stay refused."""
    return int(value) if isinstance(value, float) and value.is_integer() else value


WholeNumber = Annotated[int, BeforeValidator(_integral)]


def whole_number(**field: Any) -> Any:
    """A WholeNumber with bounds that stay in the document inside `| None` too (there pydantic emitted a bare
    `ge`/`le` for the outer Field, which JSON Schema does not know, so the fuzzing gate sent values we refuse)."""
    return Annotated[int, Field(**field), BeforeValidator(_integral)]


class Strict(BaseModel):
    """The base of every request body: unknown fields refused, JSON types taken as they are (docs/api.md)."""

    model_config = ConfigDict(extra="forbid", strict=True, defer_build=True)


class Query(BaseModel):
    """Query-string parameters of a route: every value arrives as text; parameters not declared are ignored."""

    model_config = ConfigDict(extra="ignore", populate_by_name=True, defer_build=True)


class Out(BaseModel):
    """A response body: exactly these fields."""

    model_config = ConfigDict(extra="forbid", defer_build=True)


Id = Annotated[str, Field(pattern=ID_PATTERN, description="Идентификатор: 26 символов (ULID)")]
Moment = Annotated[str, Field(pattern=MOMENT_PATTERN, json_schema_extra={"format": "date-time"},
                              description="UTC, ISO-8601: 2026-11-23T14:12:17Z")]
Day = Annotated[str, Field(pattern=DAY_PATTERN, json_schema_extra={"format": "date"}, description="ГГГГ-ММ-ДД")]
PhoneE164 = Annotated[str, Field(pattern=PHONE_E164, description="+7 и 10 цифр")]
Cursor = Annotated[str | None, Field(description="Непрозрачный курсор следующей страницы; null — страниц больше нет")]
Tier = Literal["simplified", "standard", "confirmed"]  # ID-6, weakest first
Role = Literal["citizen", "officer", "operator", "editor"]


def _day(value: str) -> str:
    """A date filter: a Moscow day of 2000..2100 (what clock.moscow_day takes), or empty for no bound."""
    if value:
        try:
            if not re.fullmatch(DAY_FILTER, value):
                raise ValueError
            date.fromisoformat(value)
        except ValueError:
            raise ValueError("Дата в формате ГГГГ-ММ-ДД, год от 2000 до 2100") from None
    return value


# A date filter: a Moscow day; an empty value means no bound (as if the parameter were absent).
DayFilter = Annotated[str, AfterValidator(_day), WithJsonSchema({"anyOf": [
    {"type": "string", "format": "date", "pattern": DAY_FILTER}, {"const": ""}]})]
