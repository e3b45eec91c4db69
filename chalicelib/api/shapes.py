"""Shapes of the catalog, in-app messages and local-only routes, for the OpenAPI document: these domains hand
plain dicts to the API and keep no pydantic models of their own."""

from __future__ import annotations

import re
from typing import Annotated, Any, Literal

from pydantic import AfterValidator, Field, WithJsonSchema

from chalicelib.applications.models import Number
from chalicelib.core.models import Cursor, Day, Id, Moment, Out, Query, Tier
from chalicelib.documents.models import CategoryId
from chalicelib.notify.models import DeliveryOut

CatalogCategory = Literal["Документы", "Оплата", "Заявления", "Справки"]
# The catalog reads an empty parameter as no filter, so "" is a documented value of each filter.
CategoryFilter = Literal["Документы", "Оплата", "Заявления", "Справки", ""]
Sort = Literal["relevance", "popularity", "updated", "title", "tier", ""]


def _days(value: str) -> str:
    if value and not (re.fullmatch(r"[0-9]{1,3}", value) and 1 <= int(value) <= 365):
        raise ValueError("Целое число от 1 до 365")
    return value


class ServicesQuery(Query):
    q: str | None = Field(default=None, max_length=200, description="Что ищем: слова, опечатки допустимы")
    category: CategoryFilter | None = None
    region: str | None = Field(default=None, pattern=r"^(?:[0-9]{2})?$", description="Код региона, например 77")
    max_days: Annotated[str, AfterValidator(_days), WithJsonSchema({"anyOf": [
        {"type": "integer", "minimum": 1, "maximum": 365}, {"const": ""}]})] | None = Field(
        default=None, description="Срок оказания не дольше, рабочих дней")
    sort: Sort | None = Field(default=None, description="По умолчанию relevance с q, иначе popularity")
    cursor: str | None = Field(default=None, max_length=2048)


class SuggestQuery(Query):
    q: str | None = Field(default=None, max_length=200)


class AgencyOut(Out):
    id: str
    title: str


class ServiceRowOut(Out):
    id: str
    title: str
    description: str
    category: CatalogCategory
    agency: AgencyOut
    department: str
    tier: Tier
    fee: int
    days: int
    result: Literal["document", "decision"]
    automatic: bool
    updated: Day
    popularity: int


class ServicesOut(Out):
    items: list[ServiceRowOut]
    cursor: Cursor
    total: int


class SuggestionOut(Out):
    id: str
    title: str


class SuggestOut(Out):
    items: list[SuggestionOut]


class CategoryCountOut(Out):
    title: CatalogCategory
    count: int


class AttachmentNeedOut(Out):
    category: CategoryId
    title: str


class ServiceCardOut(ServiceRowOut):
    tier_title: str
    result_title: str
    regions: list[str]
    certificate_kind: str | None
    keywords: list[str]
    attachments: list[AttachmentNeedOut]
    form: dict[str, Any] = Field(description="JSON Schema 2020-12 формы услуги")


class TierCheckOut(Out):
    required: Tier
    current: Tier
    enough: bool


class PrefillOut(Out):
    service_id: str
    values: dict[str, str]
    missing: list[str]
    tier: TierCheckOut


class MessageOut(Out):
    id: Id
    at: Moment
    type: str = Field(description="Событие, например request.status_changed")
    title: str
    text: str
    request_id: Id | None
    number: Number | None
    link: str | None
    read: bool
    deliveries: list[DeliveryOut] = Field(description="Доставка по каналам: SMS, e-mail, push")


class MessagesOut(Out):
    unread: int = Field(ge=0)
    items: list[MessageOut]
    cursor: Cursor


class CursorQuery(Query):
    cursor: str | None = Field(default=None, max_length=2048)


class OutboxQuery(Query):
    to: str = Field(min_length=1, max_length=254, description="Телефон или адрес электронной почты")


class SentMessageOut(Out):
    channel: Literal["sms", "email"]
    to: str
    subject: str | None
    text: str
    at: Moment
    headers: dict[str, str] | None = Field(default=None, description="Заголовки письма (List-Unsubscribe и др.)")


class ScheduleRunOut(Out):
    name: str
    result: Any
