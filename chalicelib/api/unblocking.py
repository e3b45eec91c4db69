"""Security questions, blocking and unblocking (AU-12): the owner's unblock case (behind the unblock token a
correct password on a blocked account yields), and the operators' block action, queue and decisions."""

from __future__ import annotations

from typing import Any

from chalice import Blueprint

from chalicelib.api.http import Call, endpoint
from chalicelib.api.shapes import CursorQuery
from chalicelib.documents.models import UploadOut
from chalicelib.identity import blocking, questions
from chalicelib.identity.blocking_models import (
    BlockedOut,
    BlockIn,
    DecisionIn,
    SecurityQuestionsIn,
    SecurityQuestionsOut,
    UnblockAnswersIn,
    UnblockCaseOut,
    UnblockPassportIn,
    UnblockQueueOut,
    UnblockTokenIn,
)

bp = Blueprint(__name__)
_ANSWERS = {"answers": f"ровно {questions.COUNT} разных вопроса из списка, ответ не из одних пробелов"}


@endpoint(bp, "GET", "/me/security-questions", summary="The question list and which ones are set (never the answers)",
          response=SecurityQuestionsOut, tag="security")
def questions_view(call: Call) -> dict[str, Any]:
    return questions.view(call.user_id)


@endpoint(bp, "PUT", "/me/security-questions", summary="Set the security questions (standard tier or above)",
          body=SecurityQuestionsIn, response=SecurityQuestionsOut, checked=_ANSWERS, tag="security")
def questions_set(call: Call, body: SecurityQuestionsIn) -> dict[str, Any]:
    return questions.set_questions(call.user_id, dict(body.answers), call.origin)


@endpoint(bp, "POST", "/auth/unblock", summary="Open (or show) the unblock case of a blocked account",
          body=UnblockTokenIn, response=UnblockCaseOut, auth=False, tag="unblock")
def unblock_open(call: Call, body: UnblockTokenIn) -> dict[str, Any]:
    return blocking.open_case(body.unblock_token, call.origin)


@endpoint(bp, "POST", "/auth/unblock/status", summary="The unblock case as it stands", body=UnblockTokenIn,
          response=UnblockCaseOut, auth=False, tag="unblock")
def unblock_status(call: Call, body: UnblockTokenIn) -> dict[str, Any]:
    return blocking.status(body.unblock_token)


@endpoint(bp, "POST", "/auth/unblock/passport", summary="A presigned POST for the passport copy of the case",
          body=UnblockPassportIn, response=UploadOut, status=201, auth=False, tag="unblock")
def unblock_passport(call: Call, body: UnblockPassportIn) -> dict[str, Any]:
    return blocking.passport_upload(body.unblock_token, body, call.origin)


@endpoint(bp, "POST", "/auth/unblock/answers", summary="Answers and passport number: unblocked at once when all "
          "matches, else the operators' queue", body=UnblockAnswersIn, response=UnblockCaseOut, auth=False,
          checked={"answers": "ответы на все заданные вопросы и только на них"}, tag="unblock")
def unblock_answers(call: Call, body: UnblockAnswersIn) -> dict[str, Any]:
    return blocking.submit(body.unblock_token, body.passport_number, dict(body.answers), call.origin)


@endpoint(bp, "POST", "/operator/accounts/{user_id}/block", summary="Block an account for suspicious activity",
          body=BlockIn, response=BlockedOut, role="operator", tag="operator")
def operator_block(call: Call, body: BlockIn, user_id: str) -> dict[str, Any]:
    return blocking.block_by_operator(call.user_id, user_id, body.reason, call.origin)


@endpoint(bp, "GET", "/operator/unblock-cases", summary="Unblock cases waiting for an operator, oldest first",
          query=CursorQuery, response=UnblockQueueOut, role="operator", tag="operator")
def operator_queue(call: Call) -> dict[str, Any]:
    return blocking.operator_queue(call.query.get("cursor"))


@endpoint(bp, "POST", "/operator/unblock-cases/{case_id}/decision", summary="Approve (unblock) or reject, once",
          body=DecisionIn, response=UnblockCaseOut, role="operator", tag="operator")
def operator_decide(call: Call, body: DecisionIn, case_id: str) -> dict[str, Any]:
    return blocking.decide(case_id, body.decision, actor=call.user_id, reason=body.reason, origin=call.origin)
