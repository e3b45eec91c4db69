"""Request and response bodies of applications (SV-3..SV-10) and of the agency side (SV-11)."""

from __future__ import annotations

import math
import re
from functools import cache
from typing import Annotated, Any, Literal

from pydantic import AfterValidator, ConfigDict, Field, WithJsonSchema

from chalicelib.core.models import (
    ID_PATTERN,
    MAX_NUMBER,
    Cursor,
    Day,
    Id,
    Moment,
    Out,
    Query,
    Strict,
    absent,
    pattern,
)
from chalicelib.identity.models import DayFilter

_KEY = re.compile(r"[A-Za-z_][A-Za-z0-9_]{0,63}")
KEY_PATTERN = r"^[A-Za-z_][A-Za-z0-9_]{0,63}$"
MAX_DEPTH = 5
MAX_STRING = 5000
MAX_ITEMS = 100
MIN_FRACTION = 1e-130  # DynamoDB's smallest magnitude: anything closer to zero (but not zero) is refused
NUMBER_PATTERN = r"^[0-9]{4}-[0-9]{9}$"
Status = Literal["draft", "submitted", "in_progress", "awaiting_documents", "approved", "rejected", "cancelled"]


def _plain(value: Any, depth: int = 0) -> None:
    """Form data a person can type: named fields, bounded numbers, shallow nesting. Anything else (keys
    DynamoDB refuses, 60-digit numbers, 40 levels of lists) is refused here instead of failing later."""
    if depth > MAX_DEPTH:
        raise ValueError("Слишком глубокая вложенность данных формы")
    if isinstance(value, dict):
        for key, item in value.items():
            if not isinstance(key, str) or not _KEY.fullmatch(key):
                raise ValueError(f"Недопустимое имя поля «{str(key)[:40]}»")
            _plain(item, depth + 1)
    elif isinstance(value, list):
        if len(value) > MAX_ITEMS:
            raise ValueError(f"Не больше {MAX_ITEMS} элементов в списке")
        for item in value:
            _plain(item, depth + 1)
    elif isinstance(value, bool) or value is None:
        return
    elif isinstance(value, int):
        if abs(value) > MAX_NUMBER:
            raise ValueError("Число вне допустимого диапазона")
    elif isinstance(value, float):
        if not math.isfinite(value) or abs(value) > MAX_NUMBER or 0 < abs(value) < MIN_FRACTION:
            raise ValueError("Число вне допустимого диапазона")
    elif isinstance(value, str):
        if len(value) > MAX_STRING:
            raise ValueError(f"Не длиннее {MAX_STRING} символов")
    else:
        raise ValueError("Недопустимое значение")


def _params(value: dict[str, Any]) -> dict[str, Any]:
    _plain(value)
    return value


def form_value_schema(depth: int = 1) -> dict[str, Any]:
    """What `_plain` accepts at `depth`, in JSON Schema: scalars anywhere, containers only while their items stay
    within MAX_DEPTH (a container at the last level must be empty)."""
    number = {"anyOf": [{"type": "number", "minimum": MIN_FRACTION, "maximum": MAX_NUMBER},
                        {"type": "number", "minimum": -MAX_NUMBER, "maximum": -MIN_FRACTION}, {"const": 0}]}
    scalars: list[dict[str, Any]] = [{"type": "null"}, {"type": "boolean"}, number,
                                     {"type": "string", "maxLength": MAX_STRING}]
    if depth >= MAX_DEPTH:
        return {"anyOf": [*scalars, {"type": "array", "maxItems": 0}, {"type": "object", "maxProperties": 0}]}
    inner = form_value_schema(depth + 1)
    return {"anyOf": [*scalars, {"type": "array", "maxItems": MAX_ITEMS, "items": inner},
                      {"type": "object", "propertyNames": {"pattern": KEY_PATTERN}, "additionalProperties": inner}]}


PARAMS_SCHEMA: dict[str, Any] = {
    "type": "object", "propertyNames": {"pattern": KEY_PATTERN}, "additionalProperties": form_value_schema(),
    "description": "Значения полей формы услуги (GET /services/{id} → form); имена полей — латиница, цифры и _, "
                   f"не глубже {MAX_DEPTH} уровней, числа по модулю до 10^15, строки до {MAX_STRING} символов"}
Params = Annotated[dict[str, Any], AfterValidator(_params), WithJsonSchema(PARAMS_SCHEMA)]
# Attachments name documents by id: never typed, so a draft keeps only what can be an id. Whether it is one of
# the person's own available documents is the domain's check (attachments.<i>).
DocumentId = Annotated[str, pattern(ID_PATTERN, "Неверный идентификатор документа")]
Attachments = Annotated[list[DocumentId], Field(max_length=20)]
# Answering "Требуются документы": the application is found first (404 for someone else's), then the documents.
AnyDocumentId = Annotated[str, Field(min_length=1, max_length=32)]
Text = Annotated[str, Field(min_length=1, max_length=2000)]


@cache
def _service_types() -> list[str]:
    from chalicelib.catalog import services

    return [s.id for s in services.all_services()] + ["certificate"]


@cache
def _certificate_kinds() -> list[str]:
    from chalicelib.catalog import services

    return sorted(s.certificate_kind for s in services.all_services() if s.certificate_kind)


def _request_schema(schema: dict[str, Any]) -> None:
    """A service (or a template to start from); certificates name their kind in params (SV-10)."""
    schema["properties"]["type"] = {"anyOf": [{"type": "string", "enum": _service_types()}, {"type": "null"}],
                                    "description": "Id услуги из каталога или certificate"}
    schema["anyOf"] = [{"required": ["type"], "properties": {"type": {"type": "string"}}},
                       {"required": ["template_id"], "properties": {"template_id": {"type": "string"}}}]
    schema["if"] = {"required": ["type"], "properties": {"type": {"const": "certificate"}}}
    schema["then"] = {"properties": {"params": {"required": ["kind"], "properties": {
        "kind": {"type": "string", "enum": _certificate_kinds()}}}}}


FORM_CHECKED = {"params": "поля формы выбранной услуги (её form в GET /services/{id}): обязательность, форматы, "
                          "контрольные суммы СНИЛС и ИНН, даты",
                "attachments": "свои проверенные документы из «Моих документов», покрывающие нужные услуге категории"}


class RequestIn(Strict):
    """`{"type": "<service id>" | "certificate", "params": {...}}` as in SV-10; `template_id` starts a draft."""

    model_config = ConfigDict(json_schema_extra=_request_schema)

    type: str | None = Field(default=None, min_length=1, max_length=64)
    params: Params = Field(default_factory=dict)
    attachments: Attachments = Field(default_factory=list)
    draft: bool = False
    template_id: str | None = Field(default=None, max_length=32, json_schema_extra={"pattern": ID_PATTERN})


class DraftIn(Strict):
    params: Params = Field(default_factory=dict)
    attachments: Attachments = Field(default_factory=list)


class TemplateIn(Strict):
    name: str = Field(min_length=1, max_length=100)


class CommentIn(Strict):
    text: Text


class AttachIn(Strict):
    attachments: Annotated[list[AnyDocumentId], Field(min_length=1, max_length=20)]


class RequestDocumentsIn(Strict):
    message: Text


class ApproveIn(Strict):
    comment: str | None = Field(default=None, max_length=2000)
    result_document_id: str | None = Field(default=None, max_length=32, json_schema_extra={"pattern": ID_PATTERN},
                                           description="Свой проверенный PDF; без него система пишет уведомление")


class RejectIn(Strict):
    reason: Text
    fix: Text


# Number fragments as people type them from a notice: digits and the dash, up to 20 characters; empty = no filter.
NumberFilter = Annotated[str, Field(pattern=r"^[0-9-]{0,20}$", description="Часть номера заявления")]


class RequestsQuery(Query):
    status: Status | None = None
    from_: DayFilter | None = Field(default=None, alias="from", description="Подано с этого дня (МСК)")
    to: DayFilter | None = Field(default=None, description="Подано по этот день включительно (МСК)")
    number: NumberFilter | None = None
    cursor: str | None = Field(default=None, max_length=2048)


class InboxQuery(Query):
    status: Status | None = None
    cursor: str | None = Field(default=None, max_length=2048)


# -- responses -----------------------------------------------------------------------------------------------

Number = Annotated[str, Field(pattern=NUMBER_PATTERN, description="ГГГГ-NNNNNNNNN")]


class CreatedOut(Out):
    id: Id
    number: Number | None
    status: Literal["draft", "submitted"]
    expected_by: Day | None


class RequestOut(Out):
    id: Id
    number: Number | None
    service_id: str
    service_title: str
    status: Status
    status_title: str
    submitted_at: Moment | None
    expected_by: Day | None
    created_at: Moment
    updated_at: Moment


class OfficerRef(Out):
    user_id: Id
    name: str


class AgencyRequestOut(RequestOut):
    department: str | None
    officer: OfficerRef | None


class RequestsOut(Out):
    items: list[RequestOut]
    cursor: Cursor


class InboxOut(Out):
    items: list[AgencyRequestOut]
    cursor: Cursor


class DraftOut(RequestOut):
    params: dict[str, Any]
    attachments: list[str]


class AgencyRef(Out):
    id: str
    title: str


class Pinned(Out):
    version: int
    sha256: str
    category: str
    filename: str


class ResultRef(Out):
    document_id: Id
    title: str


class Rejection(Out):
    reason: str
    fix: str


class OfficerName(Out):
    name: str


class Actor(Out):
    kind: Literal["citizen", "officer", "system"]
    name: str
    department: str | None


class JournalSignatureOut(Out):
    """A qualified e-signature over the application's canonical content (DC-5): the certificate and the CMS."""

    certificate_id: Id
    serial: str
    owner: str
    issuer: str
    not_after: Moment
    certificate_sha256: str
    content_sha256: str
    cms: str = Field(description="Отсоединённая подпись CMS (DER в base64), как её прислал заявитель")


class JournalEntryOut(Out):
    model_config = ConfigDict(populate_by_name=True)

    id: Id
    at: Moment
    kind: Literal["status", "comment", "routed", "signature"]
    actor: Actor
    from_: Status = absent(alias="from")
    to: Status = absent()
    to_title: str = absent()
    text: str = absent()
    attachments: list[str] = absent()
    signature: JournalSignatureOut = absent()


class RequestDetailOut(RequestOut):
    agency: AgencyRef
    department: str | None
    params: dict[str, Any]
    attachments: list[str]
    attachment_versions: dict[str, Pinned]
    result: ResultRef | None
    rejection: Rejection | None
    officer: OfficerName | None
    fee: int | None
    journal: list[JournalEntryOut]


class TemplateOut(Out):
    id: Id
    name: str
    service_id: str
    service_title: str
    created_at: Moment
