"""Request bodies of "Мои документы": what a client declares before it uploads (DC-1, DC-2)."""

from __future__ import annotations

import re
from datetime import date
from typing import Annotated

from pydantic import AfterValidator, Field

from chalicelib.core.models import Strict
from chalicelib.documents.categories import CATEGORIES, CONTENT_TYPES

_BAD_NAME = re.compile(r"[\x00-\x1f\x7f/\\]")


def _category(value: str) -> str:
    if value not in CATEGORIES:
        raise ValueError("Допустимо: " + ", ".join(CATEGORIES))
    return value


def _content_type(value: str) -> str:
    if value not in CONTENT_TYPES:
        raise ValueError("Допустимы файлы PDF, JPG и PNG")
    return value


def _filename(value: str) -> str:
    value = value.strip()
    if not value or _BAD_NAME.search(value) or value in (".", ".."):
        raise ValueError("Имя файла без пути и служебных символов")
    return value


Category = Annotated[str, Field(max_length=32), AfterValidator(_category)]
ContentType = Annotated[str, Field(max_length=64), AfterValidator(_content_type)]
Filename = Annotated[str, Field(min_length=1, max_length=200), AfterValidator(_filename)]


class FileIn(Strict):
    """A file about to be uploaded: its name, declared type and size, and how long the document is valid."""

    filename: Filename
    content_type: ContentType
    size: int = Field(ge=1, description="bytes")
    valid_until: date | None = Field(default=None, description="YYYY-MM-DD: the document's own expiry date")

    def extension_problem(self) -> str | None:
        """A name that promises another type than declared (scan.exe as application/pdf)."""
        endings, label = CONTENT_TYPES[self.content_type]
        if self.filename.lower().endswith(endings):
            return None
        return f"Имя файла {label} должно оканчиваться на {' или '.join(endings)}"


class UploadIn(FileIn):
    category: Category
