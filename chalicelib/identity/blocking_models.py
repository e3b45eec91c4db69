"""Request and response bodies of consents (ID-9), security questions and blocking/unblocking (AU-12)."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import Field

from chalicelib.core.models import Cursor, Id, Moment, Out, Strict, pattern
from chalicelib.documents.models import FileIn
from chalicelib.identity.consents import KINDS
from chalicelib.identity.questions import COUNT, QUESTIONS

ConsentKind = Literal[tuple(KINDS)]  # type: ignore[valid-type]
QuestionId = Literal[tuple(QUESTIONS)]  # type: ignore[valid-type]
Answer = Annotated[str, pattern(r"\S", "Введите ответ", min_length=1, max_length=100,
                                description="Регистр, «ё»/«е» и лишние пробелы не важны")]
Reason = Annotated[str, pattern(r"\S", "Укажите причину", min_length=1, max_length=500)]
UnblockToken = Annotated[str, Field(min_length=1, max_length=2048, description="unblock_token из ответа входа")]


# -- consents ----------------------------------------------------------------------------------------------

class ConsentOut(Out):
    id: Id
    kind: ConsentKind
    purpose: str
    recipient: str
    legal_basis: str
    given_at: Moment
    subject: str | None = Field(description="К чему относится: номер заявления и т. п.")
    revocable: bool = Field(description="Можно отозвать сейчас")
    revoked_at: Moment | None
    revoke_effect: str | None = Field(description="Что изменит отзыв")


class ConsentsOut(Out):
    items: list[ConsentOut]
    cursor: Cursor
    note: str = Field(description="Отзыв прекращает дальнейшую обработку, но не отменяет уже выполненную")


class ConsentRevokedOut(ConsentOut):
    note: str


# -- security questions --------------------------------------------------------------------------------------

class QuestionOut(Out):
    id: QuestionId
    text: str


class SecurityQuestionsIn(Strict):
    answers: dict[QuestionId, Answer] = Field(min_length=COUNT, max_length=COUNT,
                                              description=f"Ровно {COUNT} вопроса из списка и ответы на них")


class SecurityQuestionsOut(Out):
    questions: list[QuestionOut] = Field(description="Все вопросы, из которых можно выбрать")
    set: list[QuestionOut] = Field(description="Заданные вопросы; ответы никогда не показываются")
    set_at: Moment | None
    can_set: bool = Field(description="Задать вопросы можно со стандартной учётной записи")
    count: int


# -- unblocking ------------------------------------------------------------------------------------------------

class UnblockTokenIn(Strict):
    unblock_token: UnblockToken


class UnblockPassportIn(FileIn):
    unblock_token: UnblockToken


class UnblockAnswersIn(Strict):
    unblock_token: UnblockToken
    passport_number: str = pattern(r"^[0-9]{10}$", "Серия и номер паспорта — 10 цифр без пробелов",
                                   description="Серия и номер как на копии: 10 цифр")
    answers: dict[QuestionId, Answer] = Field(max_length=len(QUESTIONS),
                                              description="Ответы на все заданные вопросы (id → ответ)")


CaseStatus = Literal["collecting", "queued", "approved", "rejected"]


class UnblockCaseOut(Out):
    case_id: Id
    status: CaseStatus
    status_title: str
    questions: list[QuestionOut] = Field(description="Вопросы, на которые нужно ответить")
    document_id: Id | None
    created_at: Moment
    decided_at: Moment | None
    decision_reason: str | None
    operator_days: int = Field(description="Рабочих дней на рассмотрение оператором")


class BlockIn(Strict):
    reason: Reason


class BlockedOut(Out):
    user_id: Id
    blocked: Literal[True]
    sessions_ended: int


QueueReason = Literal["no_security_questions", "answers_mismatch", "passport_mismatch", "no_checked_passport",
                      "tries_exhausted"]


class Checks(Out):
    document: bool
    answers: bool
    passport: bool


class QueuedCaseOut(Out):
    case_id: Id
    user_id: Id
    full_name: str
    queued_at: Moment
    reason: QueueReason
    reason_title: str
    document_id: Id | None
    checks: Checks | None
    blocked_at: Moment | None
    blocked_by: Literal["operator", "owner"] | None
    block_reason: str | None


class UnblockQueueOut(Out):
    items: list[QueuedCaseOut]
    cursor: Cursor


class DecisionIn(Strict):
    decision: Literal["approve", "reject"]
    reason: Reason
