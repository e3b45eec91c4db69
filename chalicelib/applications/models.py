"""Request bodies of applications (SV-3..SV-10) and of the agency side (SV-11)."""

from __future__ import annotations

import math
import re
from typing import Annotated, Any

from pydantic import AfterValidator, Field

from chalicelib.core.models import Strict

_KEY = re.compile(r"^[A-Za-z_][A-Za-z0-9_]{0,63}$")
MAX_DEPTH = 5
MAX_NUMBER = 10**15


def _plain(value: Any, depth: int = 0) -> None:
    """Form data a person can type: named fields, bounded numbers, shallow nesting. Anything else (keys
    DynamoDB refuses, 60-digit numbers, 40 levels of lists) is refused here instead of failing later."""
    if depth > MAX_DEPTH:
        raise ValueError("Слишком глубокая вложенность данных формы")
    if isinstance(value, dict):
        for key, item in value.items():
            if not _KEY.match(key):
                raise ValueError(f"Недопустимое имя поля «{key[:40]}»")
            _plain(item, depth + 1)
    elif isinstance(value, list):
        if len(value) > 100:
            raise ValueError("Не больше 100 элементов в списке")
        for item in value:
            _plain(item, depth + 1)
    elif isinstance(value, bool) or value is None:
        return
    elif isinstance(value, (int, float)):
        if not math.isfinite(value) or abs(value) > MAX_NUMBER:
            raise ValueError("Число вне допустимого диапазона")
    elif isinstance(value, str):
        if len(value) > 5000:
            raise ValueError("Не длиннее 5000 символов")
    else:
        raise ValueError("Недопустимое значение")


def _params(value: dict[str, Any]) -> dict[str, Any]:
    _plain(value)
    return value


Params = Annotated[dict[str, Any], AfterValidator(_params)]
DocumentId = Annotated[str, Field(min_length=1, max_length=32)]
Attachments = Annotated[list[DocumentId], Field(max_length=20)]
Text = Annotated[str, Field(min_length=1, max_length=2000)]


class RequestIn(Strict):
    """`{"type": "<service id>" | "certificate", "params": {...}}` as in SV-10; `template_id` starts a draft."""

    type: str | None = Field(default=None, min_length=1, max_length=64)
    params: Params = Field(default_factory=dict)
    attachments: Attachments = Field(default_factory=list)
    draft: bool = False
    template_id: str | None = Field(default=None, max_length=32)


class DraftIn(Strict):
    params: Params = Field(default_factory=dict)
    attachments: Attachments = Field(default_factory=list)


class TemplateIn(Strict):
    name: str = Field(min_length=1, max_length=100)


class CommentIn(Strict):
    text: Text


class AttachIn(Strict):
    attachments: Annotated[list[DocumentId], Field(min_length=1, max_length=20)]


class RequestDocumentsIn(Strict):
    message: Text


class ApproveIn(Strict):
    comment: str | None = Field(default=None, max_length=2000)
    result_document_id: str | None = Field(default=None, max_length=32)


class RejectIn(Strict):
    reason: Text
    fix: Text
