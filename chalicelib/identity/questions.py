"""Security questions (AU-12): set at the standard tier, asked when a blocked account is unblocked.

Answers are secrets like passwords: only an argon2id hash of the normalized answer is kept, never shown, and
compared in constant time (argon2 verify) — every answer is checked, so timing does not say which one was wrong.
"""

from __future__ import annotations

from typing import Any

from chalicelib.core import clock
from chalicelib.core.errors import Conflict, invalid
from chalicelib.core.origin import Origin
from chalicelib.core.passwords import hash_password, verify_password
from chalicelib.events import catalog as events
from chalicelib.identity import tiers
from chalicelib.identity.users import contacts, load_user
from chalicelib.store import journal, keys
from chalicelib.store.table import ConditionFailed, Tx

COUNT = 3
QUESTIONS: dict[str, str] = {
    "mother_maiden_name": "Девичья фамилия матери",
    "first_pet": "Кличка первого домашнего животного",
    "first_school": "Номер или название первой школы",
    "childhood_city": "Город, в котором прошло ваше детство",
    "first_teacher": "Имя и отчество первого учителя",
    "childhood_book": "Любимая книга в детстве",
    "first_car": "Марка первого автомобиля",
    "childhood_friend": "Имя лучшего друга детства",
}


def normalize(answer: str) -> str:
    """The form an answer is hashed and checked in: trimmed, lower case, ё as е, single spaces."""
    return " ".join(answer.lower().replace("ё", "е").split())


def listing() -> list[dict[str, str]]:
    return [{"id": qid, "text": text} for qid, text in QUESTIONS.items()]


def view(user_id: str) -> dict[str, Any]:
    """Which questions are set (never the answers), and whether the tier allows setting them."""
    user = load_user(user_id)
    chosen = [q["id"] for q in user.get("security_questions") or []]
    return {"questions": listing(), "set": [{"id": q, "text": QUESTIONS[q]} for q in chosen],
            "set_at": user.get("security_questions_at"), "can_set": tiers.at_least(user.get("tier"), "standard"),
            "count": COUNT}


def check_choice(answers: dict[str, str]) -> None:
    """What the document cannot spell: exactly COUNT different questions of the list, each with an answer."""
    if len(answers) != COUNT:
        raise invalid({"answers": f"Выберите ровно {COUNT} разных вопроса из списка"})
    bad = {f"answers.{qid}": "Вопроса нет в списке" for qid in answers if qid not in QUESTIONS}
    bad.update({f"answers.{qid}": "Введите ответ" for qid, a in answers.items()
                if qid in QUESTIONS and not normalize(a)})
    if bad:
        raise invalid(bad)


def set_questions(user_id: str, answers: dict[str, str], origin: Origin) -> dict[str, Any]:
    """Replace the questions; refused below the standard tier and while the account is blocked (a session
    that outlived the block must not rewrite what unblocking asks)."""
    check_choice(answers)
    user = load_user(user_id)
    tiers.require_standard(user)
    if user.get("blocked"):
        raise Conflict("ACCOUNT_BLOCKED", "Учётная запись заблокирована: контрольные вопросы сейчас изменить нельзя")
    stored = [{"id": qid, "hash": hash_password(normalize(a))} for qid, a in sorted(answers.items())]
    now = clock.iso(clock.now())
    tx = Tx().update(keys.user(user_id), "SET security_questions = :q, security_questions_at = :at",
                     cond="attribute_exists(pk) AND attribute_not_exists(blocked)",
                     values={":q": stored, ":at": now})
    journal.audit(tx, keys.user_pk(user_id), events.SECURITY_QUESTIONS_SET.name, user_id, origin.ip,
                  questions=sorted(answers))
    journal.emit(tx, events.SECURITY_QUESTIONS_SET, keys.user_pk(user_id), contacts(user))
    try:
        tx.commit()
    except ConditionFailed:
        raise Conflict("ACCOUNT_BLOCKED", "Учётная запись заблокирована: контрольные вопросы сейчас изменить "
                                          "нельзя") from None
    return view(user_id)


def has_questions(user: dict[str, Any]) -> bool:
    return bool(user.get("security_questions"))


def asked(user: dict[str, Any]) -> list[dict[str, str]]:
    return [{"id": q["id"], "text": QUESTIONS[q["id"]]} for q in user.get("security_questions") or []]


def all_right(user: dict[str, Any], answers: dict[str, str]) -> bool:
    """Every stored answer checked (no early exit); a missing one counts as wrong after the same work."""
    results = [verify_password(q["hash"], normalize(answers.get(q["id"], ""))) for q in
               user.get("security_questions") or []]
    return bool(results) and all(results)
