"""Blocking and unblocking an account (AU-12).

A block is a map on the account item (`blocked`: id, when, by whom, why); adding it ends every session. A blocked
account is refused at sign-in, refresh and recovery only after the secret is proven, so the refusal tells nothing to
someone without it. After the right password the owner gets a short unblock token (bound to this block) that allows
only the unblock case: a passport copy (the documents upload path, checked by the S3 upload checker), the security
questions and the passport series+number as on the copy.

The automatic decision runs at the moment the last piece arrives (the answers, once the copy is checked): copy
available + every answer right + number equal to the checked profile → unblocked at once; anything else → the
operators' queue with the reason. Each automatic comparison is charged first with a conditional write (MAX_TRIES per
block), and every decision is one conditional write on the case (`attribute_not_exists(decided_at)`), so the
automatic path and an operator racing decide a case once.
"""

from __future__ import annotations

import contextlib
import hmac
from typing import Any

from chalicelib.core import clock, tokens
from chalicelib.core.errors import Conflict, DomainError, Forbidden, Unauthorized, invalid, not_found
from chalicelib.core.ids import is_id, new_id
from chalicelib.core.origin import Origin
from chalicelib.documents import library
from chalicelib.documents.models import FileIn, UploadIn
from chalicelib.events import catalog as events
from chalicelib.identity import questions, sessions
from chalicelib.identity.users import contacts, full_name
from chalicelib.store import journal, keys, table
from chalicelib.store.table import Change, ConditionFailed, Tx

TOKEN_TTL = 15 * 60
MAX_TRIES = 3  # automatic comparisons per block; after that every case goes to an operator
OPERATOR_DAYS = 3  # working days an operator takes, as the notice promises
QUEUE_PAGE = 20
BY = {"operator": "оператором по подозрительной активности", "owner": "по вашему сигналу «Это не я»"}
QUEUE_REASONS = {
    "no_security_questions": "Контрольные вопросы не заданы",
    "answers_mismatch": "Ответы на контрольные вопросы не совпали",
    "passport_mismatch": "Серия и номер паспорта не совпали с проверенными данными",
    "no_checked_passport": "В учётной записи нет проверенных паспортных данных",
    "tries_exhausted": "Исчерпаны попытки автоматической проверки",
}
STATUS_TITLES = {"collecting": "Ожидаются документы и ответы", "queued": "На рассмотрении у оператора",
                 "approved": "Учётная запись разблокирована", "rejected": "В разблокировке отказано"}
HOW = ("Чтобы разблокировать учётную запись, загрузите копию паспорта и ответьте на контрольные вопросы. "
       "Если контрольные вопросы не заданы, заявку рассмотрит оператор")


# -- blocking ---------------------------------------------------------------------------------------------

def add_block(tx: Tx, user: dict[str, Any], *, by: str, actor: str, reason: str, ip: str | None,
              change: Change | None = None) -> str:
    """Add the block to `tx` (the caller ends the sessions in the same transaction); `change` carries what else
    the caller writes to the account item (one operation per item). Tag "user" on a lost condition: no such
    account, or it is blocked already."""
    block_id = new_id()
    user_id = user["user_id"]
    block = {"id": block_id, "at": clock.iso(clock.now()), "by": by, "actor": actor, "reason": reason}
    (change or Change()).set("blocked", block).set("unblock_tries", 0).remove("unblock_case").require(
        "attribute_exists({pk}) AND attribute_not_exists({blocked})").apply(tx, keys.user(user_id), tag="user")
    journal.audit(tx, keys.user_pk(user_id), events.ACCOUNT_BLOCKED.name, actor, ip, by=by, reason=reason,
                  block_id=block_id)
    journal.emit(tx, events.ACCOUNT_BLOCKED, keys.user_pk(user_id), {**contacts(user), "by": by, "reason": reason})
    return block_id


def _already_blocked() -> Conflict:
    return Conflict("ALREADY_BLOCKED", "Учётная запись уже заблокирована")


def block_by_operator(operator_id: str, user_id: str, reason: str, origin: Origin) -> dict[str, Any]:
    user = table.get(keys.user(user_id)) if is_id(user_id) else None
    if not user or user.get("role", "citizen") != "citizen":
        raise not_found("Пользователь")
    if user.get("blocked"):
        raise _already_blocked()
    tx = Tx()
    ended = sessions.revoke_others(tx, user_id, None, "blocked")
    block_id = add_block(tx, user, by="operator", actor=operator_id, reason=reason, ip=origin.ip)
    journal.audit(tx, keys.user_pk(operator_id), "operator.account_blocked", operator_id, origin.ip,
                  user_id=user_id, reason=reason, block_id=block_id)
    try:
        tx.commit()
    except ConditionFailed as exc:
        if exc.tag == "user":
            raise _already_blocked() from None
        raise Conflict("CONFLICT", "Сеансы пользователя изменились, повторите действие") from None
    return {"user_id": user_id, "blocked": True, "sessions_ended": ended}


def is_blocked(user: dict[str, Any]) -> bool:
    return bool(user.get("blocked"))


def refusal(user: dict[str, Any]) -> DomainError:
    """For the holder of the right password only: the block, and the token that opens the unblock case."""
    token, _ = tokens.issue_purpose(user["user_id"], "unblock", TOKEN_TTL, blk=user["blocked"]["id"])
    return Forbidden("ACCOUNT_BLOCKED", f"Учётная запись заблокирована из-за подозрительной активности. {HOW}",
                     unblock_token=token, expires_in=TOKEN_TTL)


def blocked_elsewhere() -> DomainError:
    """Where no password was typed (recovery): no unblock token, the way there instead."""
    return Forbidden("ACCOUNT_BLOCKED", "Учётная запись заблокирована из-за подозрительной активности. Войдите с "
                                        "паролем, чтобы подать заявку на разблокировку, или обратитесь в центр "
                                        "обслуживания (МФЦ)")


# -- the unblock case -------------------------------------------------------------------------------------

def _holder(token: str) -> dict[str, Any]:
    """The blocked account the token was issued for, while that block lasts."""
    claims = tokens.verify_purpose(token, "unblock")
    user = table.get(keys.user(claims["sub"])) if claims and is_id(claims.get("sub", "")) else None
    block = (user or {}).get("blocked") or {}
    if not claims or not block or not hmac.compare_digest(block.get("id", ""), str(claims.get("blk", ""))):
        raise Unauthorized("UNBLOCK_TOKEN_INVALID", "Разрешение на разблокировку недействительно или истекло, "
                                                    "войдите снова")
    return user  # type: ignore[return-value]


def _case_of(user: dict[str, Any]) -> dict[str, Any] | None:
    case_id = user.get("unblock_case")
    case = table.get(keys.unblock_case(case_id)) if case_id else None
    return case if case and case["block_id"] == user["blocked"]["id"] else None


def _view(case: dict[str, Any], user: dict[str, Any]) -> dict[str, Any]:
    return {"case_id": case["id"], "status": case["status"], "status_title": STATUS_TITLES[case["status"]],
            "questions": questions.asked(user) if case["status"] == "collecting" else [],
            "document_id": case.get("document_id"), "created_at": case["created_at"],
            "decided_at": case.get("decided_at"), "decision_reason": case.get("decision_reason"),
            "operator_days": OPERATOR_DAYS}


def _queue_fields(reason: str) -> dict[str, Any]:
    now = clock.iso(clock.now())
    return {"status": "queued", "queue_reason": reason, "queued_at": now}


def open_case(token: str, origin: Origin) -> dict[str, Any]:
    """The open case of this block, or a new one; without security questions it goes to operators at once."""
    user = _holder(token)
    case = _case_of(user)
    if case and not case.get("decided_at"):
        return _view(case, user)
    user_id, case_id = user["user_id"], new_id()
    now = clock.iso(clock.now())
    pk, sk = keys.unblock_case(case_id)
    case = {"pk": pk, "sk": sk, "id": case_id, "user_id": user_id, "block_id": user["blocked"]["id"],
            "status": "collecting", "created_at": now}
    if not questions.has_questions(user):
        case.update(_queue_fields("no_security_questions"), gsi2pk=keys.UNBLOCK_QUEUE,
                    gsi2sk=keys.unblock_queue_sort(now, case_id))
    tx = Tx().put_new(case)
    tx.update(keys.user(user_id), "SET unblock_case = :c",
              cond="blocked.id = :b AND (attribute_not_exists(unblock_case) OR unblock_case = :old)",
              values={":c": case_id, ":b": case["block_id"], ":old": user.get("unblock_case") or "-"}, tag="user")
    journal.audit(tx, keys.user_pk(user_id), "unblock.case_opened", "owner", origin.ip, case_id=case_id)
    if case["status"] == "queued":
        _queued_notice(tx, user, case_id, "no_security_questions", origin)
    try:
        tx.commit()
    except ConditionFailed:
        raise Conflict("CONFLICT", "Заявка на разблокировку уже создана в другом запросе, обновите страницу") from None
    return _view(case, user)


def _queued_notice(tx: Tx, user: dict[str, Any], case_id: str, reason: str, origin: Origin) -> None:
    journal.audit(tx, keys.user_pk(user["user_id"]), events.UNBLOCK_QUEUED.name, "system", origin.ip,
                  case_id=case_id, reason=reason)
    journal.emit(tx, events.UNBLOCK_QUEUED, keys.user_pk(user["user_id"]),
                 {**contacts(user), "case_id": case_id, "reason": None})


def _collecting(token: str) -> tuple[dict[str, Any], dict[str, Any]]:
    user = _holder(token)
    case = _case_of(user)
    if not case or case.get("decided_at"):
        raise Conflict("UNBLOCK_CASE_REQUIRED", "Сначала откройте заявку на разблокировку")
    if case["status"] != "collecting":
        raise Conflict("UNBLOCK_CASE_QUEUED", "Заявка уже передана оператору, дождитесь решения")
    return user, case


def passport_upload(token: str, file: FileIn, origin: Origin) -> dict[str, Any]:
    """A presigned POST for the passport copy, as "Мои документы" uploads it (category passport)."""
    user, case = _collecting(token)
    upload = UploadIn(category="passport", **file.model_dump(exclude={"unblock_token"}))
    form = library.request_upload(user["user_id"], upload, origin)
    tx = Tx().update(keys.unblock_case(case["id"]), "SET document_id = :d",
                     cond="#status = :collecting AND attribute_not_exists(decided_at)", names={"#status": "status"},
                     values={":d": form["document_id"], ":collecting": "collecting"})
    journal.audit(tx, keys.user_pk(user["user_id"]), "unblock.passport_requested", "owner", origin.ip,
                  case_id=case["id"], document_id=form["document_id"])
    try:
        tx.commit()
    except ConditionFailed:
        raise Conflict("UNBLOCK_CASE_QUEUED", "Заявка уже передана оператору, дождитесь решения") from None
    return form


def _passport_digits(user: dict[str, Any]) -> str | None:
    passport = user.get("passport") or {}
    if not passport.get("series") or not passport.get("number"):
        return None
    return "".join(ch for ch in f"{passport['series']}{passport['number']}" if ch.isdigit())


def _charge(user: dict[str, Any], case: dict[str, Any], origin: Origin) -> bool:
    """Spend the case's one comparison and one of the block's MAX_TRIES before anything is compared, in one
    conditional transaction: however many requests arrive at once, a case is compared once. False when the
    block has no try left (the case then goes to an operator uncompared)."""
    tx = Tx().update(keys.unblock_case(case["id"]), "SET tried_at = :now",
                     cond="#status = :collecting AND attribute_not_exists(decided_at) "
                          "AND attribute_not_exists(tried_at)",
                     names={"#status": "status"}, values={":now": clock.iso(clock.now()), ":collecting": "collecting"},
                     tag="case")
    tx.update(keys.user(user["user_id"]), "SET unblock_tries = if_not_exists(unblock_tries, :z) + :one",
              cond="blocked.id = :b AND unblock_case = :c AND "
                   "(attribute_not_exists(unblock_tries) OR unblock_tries < :max)",
              values={":z": 0, ":one": 1, ":b": case["block_id"], ":c": case["id"], ":max": MAX_TRIES}, tag="user")
    journal.audit(tx, keys.user_pk(user["user_id"]), "unblock.try_charged", "owner", origin.ip, case_id=case["id"])
    try:
        tx.commit()
    except ConditionFailed as exc:
        old = exc.old or {}
        if exc.tag == "case":
            raise Conflict("UNBLOCK_CASE_QUEUED", "Ответы по этой заявке уже проверяются, обновите страницу") from None
        if (old.get("blocked") or {}).get("id") != case["block_id"] or old.get("unblock_case") != case["id"]:
            raise Conflict("UNBLOCK_CASE_CHANGED", "Заявка на разблокировку изменилась, обновите страницу") from None
        return False
    return True


def submit(token: str, passport_number: str, answers: dict[str, str], origin: Origin) -> dict[str, Any]:
    """The last piece: decide now (unblocked) or hand the case to the operators with the reason."""
    user, case = _collecting(token)
    asked = {q["id"] for q in user.get("security_questions") or []}
    if set(answers) != asked:
        raise invalid({"answers": "Ответьте на все заданные контрольные вопросы и только на них"})
    doc = table.get(keys.document(user["user_id"], case["document_id"])) if case.get("document_id") else None
    if not doc or doc["status"] == "deleted":
        raise Conflict("PASSPORT_COPY_REQUIRED", "Сначала загрузите копию паспорта")
    if doc["status"] == "checking":
        raise Conflict("DOCUMENT_CHECKING", "Копия паспорта ещё проверяется. Попробуйте через несколько секунд")
    if doc["status"] == "rejected":
        raise Conflict("PASSPORT_COPY_REJECTED", "Копия паспорта не прошла проверку: загрузите её заново",
                       reason=doc.get("reason"))
    if not _charge(user, case, origin):
        return _queue(user, case, "tries_exhausted", origin)
    answers_ok = questions.all_right(user, answers)  # every answer is hashed, whatever the number says
    expected = _passport_digits(user)
    number_ok = expected is not None and hmac.compare_digest(expected.encode(), passport_number.encode())
    checks = {"document": True, "answers": answers_ok, "passport": number_ok}
    if answers_ok and number_ok:
        try:
            return decide(case["id"], "approve", actor="system", reason="Автоматическая проверка пройдена",
                          origin=origin, checks=checks)
        except Conflict:
            return _view(table.get(keys.unblock_case(case["id"])) or case, user)
    reason = "answers_mismatch" if not answers_ok else (
        "no_checked_passport" if expected is None else "passport_mismatch")
    return _queue(user, case, reason, origin, checks)


def _queue(user: dict[str, Any], case: dict[str, Any], reason: str, origin: Origin,
           checks: dict[str, bool] | None = None) -> dict[str, Any]:
    fields = _queue_fields(reason)
    tx = Tx().update(keys.unblock_case(case["id"]), "SET #status = :s, queue_reason = :r, queued_at = :at, "
                     "checks = :checks, gsi2pk = :q, gsi2sk = :qs",
                     cond="#status = :collecting AND attribute_not_exists(decided_at)", names={"#status": "status"},
                     values={":s": "queued", ":r": reason, ":at": fields["queued_at"], ":checks": checks,
                             ":q": keys.UNBLOCK_QUEUE, ":qs": keys.unblock_queue_sort(fields["queued_at"], case["id"]),
                             ":collecting": "collecting"})
    _queued_notice(tx, user, case["id"], reason, origin)
    with contextlib.suppress(ConditionFailed):  # an operator decided meanwhile: their decision stands
        tx.commit()
    return _view(table.get(keys.unblock_case(case["id"])) or case, user)


def status(token: str) -> dict[str, Any]:
    user = _holder(token)
    case = _case_of(user)
    if not case:
        raise not_found("Заявка на разблокировку", feminine=True)
    return _view(case, user)


# -- the decision -------------------------------------------------------------------------------------------

def decide(case_id: str, decision: str, *, actor: str, reason: str, origin: Origin,
           checks: dict[str, bool] | None = None) -> dict[str, Any]:
    """Approve (unblock) or reject, once: the case's condition makes a second decision, automatic or an
    operator's, a Conflict; an approval also requires the very block the case was opened for."""
    case = table.get(keys.unblock_case(case_id)) if is_id(case_id) else None
    if not case:
        raise not_found("Заявка на разблокировку", feminine=True)
    if case.get("decided_at"):
        raise _decided()
    user = table.get(keys.user(case["user_id"]))
    if not user:
        raise not_found("Заявка на разблокировку", feminine=True)
    outcome = "approved" if decision == "approve" else "rejected"
    now = clock.iso(clock.now())
    tx = Tx().update(keys.unblock_case(case_id), "SET #status = :s, decided_at = :at, decided_by = :by, "
                     "decision_reason = :r, automatic = :auto REMOVE gsi2pk, gsi2sk",
                     cond="attribute_exists(pk) AND attribute_not_exists(decided_at)", names={"#status": "status"},
                     values={":s": outcome, ":at": now, ":by": actor, ":r": reason, ":auto": actor == "system"},
                     tag="case")
    subject = keys.user_pk(case["user_id"])
    payload = {**contacts(user), "case_id": case_id, "reason": None if outcome == "approved" else reason}
    if outcome == "approved":
        tx.update(keys.user(case["user_id"]), "REMOVE blocked, unblock_case, unblock_tries", cond="blocked.id = :b",
                  values={":b": case["block_id"]}, tag="user")
        journal.audit(tx, subject, events.ACCOUNT_UNBLOCKED.name, actor, origin.ip, case_id=case_id, reason=reason,
                      checks=checks)
        journal.emit(tx, events.ACCOUNT_UNBLOCKED, subject, payload)
    else:
        journal.audit(tx, subject, events.UNBLOCK_REJECTED.name, actor, origin.ip, case_id=case_id, reason=reason)
        journal.emit(tx, events.UNBLOCK_REJECTED, subject, payload)
    journal.audit(tx, keys.unblock_case_pk(case_id), f"unblock.{outcome}", actor, origin.ip, reason=reason)
    if actor != "system":
        journal.audit(tx, keys.user_pk(actor), "operator.unblock_decided", actor, origin.ip, case_id=case_id,
                      user_id=case["user_id"], decision=outcome, reason=reason)
    try:
        tx.commit()
    except ConditionFailed as exc:
        if exc.tag == "case":
            raise _decided() from None
        raise Conflict("UNBLOCK_CASE_CHANGED", "Учётная запись уже разблокирована или заблокирована заново") from None
    fresh = table.get(keys.unblock_case(case_id))
    assert fresh is not None
    return _view(fresh, user)


def _decided() -> Conflict:
    return Conflict("UNBLOCK_CASE_DECIDED", "По этой заявке уже принято решение")


def operator_queue(cursor: str | None) -> dict[str, Any]:
    """The queued cases, the longest-waiting first, with what the operator needs to decide."""
    page = table.query(keys.UNBLOCK_QUEUE, index="GSI2", cursor=cursor, limit=QUEUE_PAGE, newest_first=False)
    people = table.get_many([keys.user(c["user_id"]) for c in page.items]) if page.items else []
    items = []
    for case, person in zip(page.items, people, strict=True):
        block = (person or {}).get("blocked") or {}
        items.append({"case_id": case["id"], "user_id": case["user_id"],
                      "full_name": full_name(person) if person else "", "queued_at": case["queued_at"],
                      "reason": case["queue_reason"], "reason_title": QUEUE_REASONS[case["queue_reason"]],
                      "document_id": case.get("document_id"), "checks": case.get("checks"),
                      "blocked_at": block.get("at"), "blocked_by": block.get("by"),
                      "block_reason": block.get("reason")})
    return {"items": items, "cursor": page.cursor}
