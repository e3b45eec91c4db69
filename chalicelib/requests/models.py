"""Request bodies of applications (SV-3..SV-10) and of the agency side (SV-11)."""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import Field

from chalicelib.core.models import Strict

DocumentId = Annotated[str, Field(min_length=1, max_length=32)]
Attachments = Annotated[list[DocumentId], Field(max_length=20)]
Text = Annotated[str, Field(min_length=1, max_length=2000)]


class RequestIn(Strict):
    """`{"type": "<service id>" | "certificate", "params": {...}}` as in SV-10; `template_id` starts a draft."""

    type: str | None = Field(default=None, min_length=1, max_length=64)
    params: dict[str, Any] = Field(default_factory=dict)
    attachments: Attachments = Field(default_factory=list)
    draft: bool = False
    template_id: str | None = Field(default=None, max_length=32)


class DraftIn(Strict):
    params: dict[str, Any] = Field(default_factory=dict)
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
