"""Request and response bodies of "Мои документы": what a client declares before it uploads (DC-1, DC-2), and
what documents, versions, links and the access journal look like (DC-3)."""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any, Literal

from pydantic import AfterValidator, ConfigDict, Field

from chalicelib.core.models import Cursor, Day, Id, Moment, Out, Query, Strict, WholeNumber, absent, pattern
from chalicelib.documents.categories import CATEGORIES, CONTENT_TYPES

CategoryId = Literal[tuple(CATEGORIES)]  # type: ignore[valid-type]
ContentType = Literal[tuple(CONTENT_TYPES)]  # type: ignore[valid-type]
Status = Literal["checking", "available", "rejected", "deleted"]
Action = Literal["created", "accepted", "rejected", "viewed", "downloaded", "replacement_requested", "replaced",
                 "deleted", "issued"]
SHA256 = Annotated[str, Field(pattern=r"^[0-9a-f]{64}$")]
# No path, no control characters; spaces around the name are dropped.
FILENAME_PATTERN = r"^[^\x00-\x1f\x7f/\\]+$"


def _ending(endings: tuple[str, ...]) -> str:
    """`(?:\\.[Pp][Dd][Ff])`: the endings of a type in either letter case, as `str.lower().endswith` reads them."""
    spelled = ["".join(f"[{c.upper()}{c}]" if c.isalpha() else "\\" + c for c in e) for e in endings]
    return f"(?:{'|'.join(spelled)}) *$"


def _file_matches_type(schema: dict[str, Any]) -> None:
    """The name must end as its declared type does (`extension_problem`), said in JSON Schema for the document."""
    schema["anyOf"] = [{"properties": {"content_type": {"const": ct}, "filename": {"pattern": _ending(endings)}}}
                       for ct, (endings, _) in CONTENT_TYPES.items()]


def _filename(value: str) -> str:
    value = value.strip(" ")
    if not value or value in (".", ".."):
        raise ValueError("Имя файла без пути и служебных символов")
    return value


Filename = Annotated[str, pattern(FILENAME_PATTERN, "Имя файла без пути и служебных символов", min_length=1,
                                  max_length=200), AfterValidator(_filename)]


class FileIn(Strict):
    """A file about to be uploaded: its name, declared type and size, and how long the document is valid."""

    model_config = ConfigDict(json_schema_extra=_file_matches_type)

    filename: Filename
    content_type: ContentType
    size: WholeNumber = Field(ge=1, le=10**15, description="Байт; больше лимита категории — 413 FILE_TOO_LARGE")
    valid_until: date | None = Field(default=None, description="ГГГГ-ММ-ДД: срок действия самого документа")

    def extension_problem(self) -> str | None:
        """A name that promises another type than declared (scan.exe as application/pdf)."""
        endings, label = CONTENT_TYPES[self.content_type]
        if self.filename.lower().endswith(endings):
            return None
        return f"Имя файла {label} должно оканчиваться на {' или '.join(endings)}"


class UploadIn(FileIn):
    category: CategoryId


class DocumentsQuery(Query):
    category: CategoryId | None = None
    status: Status | None = Field(default=None, description="Без фильтра — все, кроме удалённых")
    cursor: str | None = Field(default=None, max_length=2048)


class DownloadQuery(Query):
    version: int | None = Field(default=None, ge=1, description="Номер версии; без него — текущая")


class JournalQuery(Query):
    cursor: str | None = Field(default=None, max_length=2048)


# -- responses -----------------------------------------------------------------------------------------------

class CategoryOut(Out):
    id: CategoryId
    title: str
    max_size: int
    content_types: list[ContentType]


class UploadForm(Out):
    url: str = Field(json_schema_extra={"format": "uri"})
    fields: dict[str, str] = Field(description="Поля формы: отправьте их и файл (`file`) как multipart на url")


class UploadOut(Out):
    document_id: Id
    upload: UploadForm
    expires_in: int


class LastRejection(Out):
    reason: str
    filename: str
    at: Moment


class DocumentOut(Out):
    id: Id
    category: CategoryId
    category_title: str
    title: str
    filename: str
    content_type: ContentType
    size: int
    status: Status
    status_title: str
    reason: str | None
    origin: Literal["upload", "generated"]
    version: int | None = Field(description="Номер текущей версии; null — файл ещё не принят")
    replacement: Literal["checking"] | None
    last_rejection: LastRejection | None
    created_at: Moment
    updated_at: Moment
    valid_until: Day | None
    expired: bool | None


class VersionOut(Out):
    number: int
    filename: str
    content_type: ContentType
    size: int
    sha256: SHA256
    uploaded_at: Moment
    current: bool


class DocumentDetailOut(DocumentOut):
    versions: list[VersionOut]


class DocumentsOut(Out):
    items: list[DocumentOut]
    cursor: Cursor


class DownloadOut(Out):
    url: str = Field(json_schema_extra={"format": "uri"})
    expires_in: int
    filename: str
    content_type: ContentType
    size: int
    version: int


class StaffDownloadOut(DownloadOut):
    sha256: SHA256


class JournalActor(Out):
    kind: Literal["owner", "system", "officer"]
    name: str
    department: str = absent()


class JournalLineOut(Out):
    at: Moment
    action: Action
    action_title: str
    actor: JournalActor
    ip: str | None
    version: int = absent()
    filename: str = absent()
    reason: str = absent()


class JournalOut(Out):
    items: list[JournalLineOut]
    cursor: Cursor


class PublicFactsOut(Out):
    valid: Literal[True]
    document_id: Id
    title: str
    signed_by: str
    signed_at: Moment
    sha256: SHA256


class VerificationOut(Out):
    """What the file says about itself is untrusted, so its fields are plain text here."""

    valid: bool
    ours: bool
    intact: bool
    registered: bool
    document_id: str | None
    title: str | None
    signed_by: str | None
    signed_at: str | None
    sha256: SHA256
    reason: str | None
