"""The service catalog (SV-1, SV-2): a JSON file shipped with the code, loaded once per container.

The catalog changes with releases, not at run time, so it lives next to the code and costs no AWS call;
only submission counts (popularity.py) come from the table. Loading validates every record, so a bad
edit of services.json fails the first request loudly instead of serving a half-broken catalog.
"""

from __future__ import annotations

import json
import re
from datetime import date
from functools import cache
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, TypeAdapter, field_validator, model_validator

from chalicelib.core.errors import NotFound
from chalicelib.documents.categories import CATEGORIES as DOCUMENT_CATEGORIES

DATA = Path(__file__).resolve().parent.parent / "data" / "services.json"

CATEGORIES: tuple[str, ...] = ("Документы", "Оплата", "Заявления", "Справки")
TIERS: tuple[str, ...] = ("simplified", "standard", "confirmed")  # ID-6, weakest first
TIER_TITLES = {"simplified": "Упрощённая", "standard": "Стандартная", "confirmed": "Подтверждённая"}
RESULT_TITLES = {"document": "Документ", "decision": "Решение"}
PREFILL_SOURCES: frozenset[str] = frozenset({
    "profile.last_name", "profile.first_name", "profile.middle_name", "profile.birth_date", "profile.phone",
    "profile.email", "profile.snils", "profile.inn", "profile.passport", "profile.address"})
FORMATS: frozenset[str] = frozenset({"date", "snils", "inn", "passport", "division_code", "phone", "email"})
FEDERAL = "federal"
# Path segments of /services/... that are routes of their own, so no service may take them as its id.
RESERVED_IDS = frozenset({"suggest", "categories"})
_ID = re.compile(r"^[a-z0-9]+(-[a-z0-9]+)*$")
_REGION = re.compile(r"^[0-9]{2}$")

Category = Literal["Документы", "Оплата", "Заявления", "Справки"]
Tier = Literal["simplified", "standard", "confirmed"]


# defer_build: the validators are built on first use, not when the app is imported (cold start).
class Agency(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid", defer_build=True)

    id: str = Field(pattern=r"^[a-z]+$")
    title: str = Field(min_length=2, max_length=120)


class Service(BaseModel):
    """One service as the catalog shows it and as the applications module submits it."""

    model_config = ConfigDict(frozen=True, extra="forbid", defer_build=True)

    id: str = Field(min_length=2, max_length=60)
    title: str = Field(min_length=5, max_length=200)
    description: str = Field(min_length=10, max_length=400)
    category: Category
    agency: Agency
    department: str = Field(min_length=3, max_length=200)
    regions: tuple[str, ...] = Field(min_length=1)
    tier: Tier
    form: dict[str, Any]
    attachments: tuple[str, ...] = ()
    fee: int = Field(ge=0, le=1_000_000)
    days: int = Field(ge=1, le=365)
    result: Literal["document", "decision"]
    updated: date
    automatic: bool = False
    certificate_kind: str | None = Field(default=None, pattern=r"^[a-z0-9_]+$")
    keywords: tuple[str, ...] = ()

    @property
    def federal(self) -> bool:
        return self.regions == (FEDERAL,)

    def available_in(self, region: str) -> bool:
        return self.federal or region in self.regions

    @field_validator("id")
    @classmethod
    def _id(cls, value: str) -> str:
        if not _ID.fullmatch(value) or value in RESERVED_IDS:
            raise ValueError("id: lower-case latin words joined by '-', not a reserved route name")
        return value

    @field_validator("regions")
    @classmethod
    def _regions(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        if value != (FEDERAL,) and not all(_REGION.fullmatch(r) for r in value):
            raise ValueError('regions: ["federal"] or two-digit region codes')
        return value

    @field_validator("attachments")
    @classmethod
    def _attachments(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        unknown = [a for a in value if a not in DOCUMENT_CATEGORIES]
        if unknown:
            raise ValueError(f"attachments: unknown document categories {unknown}")
        return value

    @model_validator(mode="after")
    def _consistent(self) -> Service:
        if self.automatic and (not self.certificate_kind or self.result != "document"):
            raise ValueError("an automatic service issues a certificate: certificate_kind and result 'document'")
        problems = form_problems(self.form)
        if problems:
            raise ValueError("form: " + "; ".join(problems))
        return self


def _property_problems(name: str, prop: Any) -> list[str]:
    if not isinstance(prop, dict):
        return [f"{name}: not an object"]
    out = []
    if not isinstance(prop.get("title"), str) or not prop["title"]:
        out.append(f"{name}: no title")
    kind = prop.get("type")
    if prop.get("format") is not None and prop["format"] not in FORMATS:
        out.append(f"{name}: unknown format {prop['format']!r}")
    if prop.get("x-prefill") is not None and prop["x-prefill"] not in PREFILL_SOURCES:
        out.append(f"{name}: unknown prefill source {prop['x-prefill']!r}")
    if "enum" in prop:
        titles = prop.get("x-enum-titles")
        if not isinstance(titles, list) or len(titles) != len(prop["enum"]) or not all(titles):
            out.append(f"{name}: x-enum-titles must label every enum value")
    elif kind == "string" and not isinstance(prop.get("maxLength"), int):
        out.append(f"{name}: a string needs maxLength")
    if kind in ("integer", "number") and ("minimum" not in prop or "maximum" not in prop):
        out.append(f"{name}: a number needs minimum and maximum")
    if kind not in ("string", "integer", "number", "boolean"):
        out.append(f"{name}: unsupported type {kind!r}")
    return out


def form_problems(form: dict[str, Any]) -> list[str]:
    """House rules for a form schema beyond JSON Schema itself (check() also checks the meta-schema)."""
    props = form.get("properties")
    if form.get("type") != "object" or form.get("additionalProperties") is not False or not isinstance(props, dict):
        return ["an object schema with properties and additionalProperties: false"]
    out = []
    if not 1 <= len(props) <= 9:
        out.append("1 to 9 fields")
    required = form.get("required", [])
    out += [f"required {r!r} is not a property" for r in required if r not in props]
    for name, prop in props.items():
        out += _property_problems(name, prop)
    return out


@cache
def _adapter() -> TypeAdapter[list[Service]]:
    return TypeAdapter(list[Service])


def parse(raw: str | bytes) -> list[Service]:
    """Services from JSON text, with the checks that concern more than one record."""
    services = _adapter().validate_json(raw)
    ids = [s.id for s in services]
    kinds = [s.certificate_kind for s in services if s.certificate_kind]
    if len(set(ids)) != len(ids):
        raise ValueError(f"duplicate service ids: {sorted({i for i in ids if ids.count(i) > 1})}")
    if len(set(kinds)) != len(kinds):
        raise ValueError("a certificate_kind names one service")
    return services


def check(services: list[Service]) -> list[str]:
    """Everything parse() checks plus each form against the JSON Schema 2020-12 meta-schema.

    jsonschema costs ~100 ms to import, so this runs in tests, not on a cold container.
    """
    from jsonschema import Draft202012Validator
    from jsonschema.exceptions import SchemaError

    out = []
    for service in services:
        try:
            Draft202012Validator.check_schema(service.form)
        except SchemaError as exc:
            out.append(f"{service.id}: {exc.message}")
    return out


@cache
def all_services() -> tuple[Service, ...]:
    """The catalog, read and validated once per container."""
    return tuple(parse(DATA.read_bytes()))


@cache
def _by_id() -> dict[str, Service]:
    return {s.id: s for s in all_services()}


@cache
def _by_kind() -> dict[str, Service]:
    return {s.certificate_kind: s for s in all_services() if s.certificate_kind}


def get(service_id: str) -> Service | None:
    return _by_id().get(service_id)


def require(service_id: str) -> Service:
    """The service, or the 404 every route answers for an unknown id."""
    found = get(service_id)
    if found is None:
        raise NotFound("NOT_FOUND", "Услуга не найдена")
    return found


def by_certificate_kind(kind: str) -> Service | None:
    """The certificate service behind `{"type": "certificate", "params": {"kind": ...}}` (SV-10)."""
    return _by_kind().get(kind)


def tier_allows(user_tier: str | None, needed: str) -> bool:
    """ID-6: a confirmed account can use everything a standard one can, and so on."""
    return user_tier in TIERS and TIERS.index(user_tier) >= TIERS.index(needed)


def summary(service: Service, popularity: int) -> dict[str, Any]:
    """A catalog row: what a list shows, no form."""
    return {"id": service.id, "title": service.title, "description": service.description,
            "category": service.category, "agency": service.agency.model_dump(), "department": service.department,
            "tier": service.tier, "fee": service.fee, "days": service.days, "result": service.result,
            "automatic": service.automatic, "updated": service.updated.isoformat(), "popularity": popularity}


def detail(service: Service, popularity: int) -> dict[str, Any]:
    """The full card: the row plus the form, attachments with their Russian names, regions and labels."""
    return {**summary(service, popularity), "tier_title": TIER_TITLES[service.tier],
            "result_title": RESULT_TITLES[service.result], "regions": list(service.regions),
            "certificate_kind": service.certificate_kind, "keywords": list(service.keywords),
            "attachments": [{"category": a, "title": DOCUMENT_CATEGORIES[a]} for a in service.attachments],
            "form": json.loads(json.dumps(service.form))}  # a copy: callers must not edit the cached schema


def category_counts() -> list[dict[str, Any]]:
    """SV-1 categories in their fixed order, with how many services each holds."""
    counts = dict.fromkeys(CATEGORIES, 0)
    for service in all_services():
        counts[service.category] += 1
    return [{"title": title, "count": count} for title, count in counts.items()]
