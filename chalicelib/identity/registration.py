"""Citizen registration (ID-1, ID-5): contact confirmed by a one-time code, then a password.

Whether the contact already has an account is decided by the notify worker, not here: the API
answers every registration the same way and in the same time, and the message that reaches the
contact's owner says either the code or how to recover access.
"""

from __future__ import annotations

from typing import Any

from chalicelib.core import clock
from chalicelib.core.codes import code_matches, hash_code, new_code, new_salt
from chalicelib.core.errors import ApiError, not_found, too_many
from chalicelib.core.ids import is_id, new_id
from chalicelib.core.origin import Origin
from chalicelib.identity import sessions
from chalicelib.identity.accounts import add_account
from chalicelib.identity.models import CompleteIn, RegistrationIn
from chalicelib.identity.password_policy import check_password
from chalicelib.store import journal, keys, table
from chalicelib.store.table import ConditionFailed, Tx

CODE_TTL = 300
MAX_ATTEMPTS = 5
RESEND_AFTER = 60
MAX_SENDS = 5
COMPLETE_WINDOW = 30 * 60
RECORD_TTL = 24 * 3600


def _subject(registration_id: str) -> str:
    return f"REG#{registration_id}"


def _code_fields(now: int) -> tuple[str, dict[str, Any]]:
    code, salt = new_code(), new_salt()
    return code, {"code_hash": hash_code(code, salt), "code_salt": salt, "expires_at": now + CODE_TTL,
                  "attempts": 0, "sent_at": now}


def _emit_code(tx: Tx, reg: dict[str, Any], code: str) -> None:
    journal.emit(tx, "registration.code_requested", _subject(reg["registration_id"]), {
        "registration_id": reg["registration_id"], "channel": reg["channel"], "to": reg["contact"],
        "login_kind": reg["login_kind"], "login": reg["login"], "code": code,
        "first_name": reg["first_name"], "middle_name": reg.get("middle_name")})


def _answer(reg: dict[str, Any], now: int) -> dict[str, Any]:
    return {"registration_id": reg["registration_id"], "channel": reg["channel"],
            "expires_in": max(0, reg["expires_at"] - now), "resend_after": max(0, reg["sent_at"] + RESEND_AFTER - now)}


def start(data: RegistrationIn, origin: Origin) -> dict[str, Any]:
    """One transaction: the registration record, its audit entry and the code event."""
    now = clock.epoch()
    registration_id = new_id()
    channel, contact = ("sms", data.phone) if data.phone else ("email", data.email)
    login_kind, login = channel.replace("sms", "phone"), contact
    code, code_fields = _code_fields(now)
    pk, sk = keys.registration(registration_id)
    reg = {"pk": pk, "sk": sk, "registration_id": registration_id, "last_name": data.last_name,
           "first_name": data.first_name, "middle_name": data.middle_name, "channel": channel, "contact": contact,
           "login_kind": login_kind,
           "login": login, "sends": 1, "created_at": now, "ttl": now + RECORD_TTL, **code_fields}
    tx = Tx().put_new(reg)
    journal.audit(tx, _subject(registration_id), "registration.started", "anonymous", origin.ip, channel=channel)
    _emit_code(tx, reg, code)
    tx.commit()
    return _answer(reg, now)


def _load(registration_id: str) -> dict[str, Any]:
    reg = table.get(keys.registration(registration_id)) if is_id(registration_id) else None
    if not reg or reg["ttl"] <= clock.epoch():
        raise not_found("Регистрация")
    if reg.get("user_id"):
        raise ApiError(409, "REGISTRATION_COMPLETED", "Регистрация уже завершена, войдите в личный кабинет")
    return reg


def resend(registration_id: str, origin: Origin) -> dict[str, Any]:
    reg = _load(registration_id)
    now = clock.epoch()
    wait = reg["sent_at"] + RESEND_AFTER - now
    if wait > 0:
        raise too_many("RESEND_TOO_SOON", "Повторно запросить код можно чуть позже", wait)
    if reg["sends"] >= MAX_SENDS:
        raise too_many("RESEND_LIMIT", "Превышено число отправок кода, начните регистрацию заново",
                       reg["ttl"] - now)
    code, fields = _code_fields(now)
    tx = Tx().update(keys.registration(registration_id),
                     "SET code_hash = :h, code_salt = :s, expires_at = :e, attempts = :z, sent_at = :now, "
                     "sends = sends + :one, confirmed_at = :none",
                     cond="sent_at = :old", values={":h": fields["code_hash"], ":s": fields["code_salt"],
                                                    ":e": fields["expires_at"], ":z": 0, ":now": now, ":one": 1,
                                                    ":old": reg["sent_at"], ":none": None})
    journal.audit(tx, _subject(registration_id), "registration.code_resent", "anonymous", origin.ip)
    _emit_code(tx, reg, code)
    try:
        tx.commit()
    except ConditionFailed:
        raise too_many("RESEND_TOO_SOON", "Код уже отправлен", RESEND_AFTER) from None
    return _answer({**reg, **fields}, now)


def confirm(registration_id: str, code: str, origin: Origin) -> dict[str, Any]:
    reg = _load(registration_id)
    now = clock.epoch()
    if reg.get("confirmed_at"):
        return {"registration_id": registration_id, "confirmed": True}
    if reg["attempts"] >= MAX_ATTEMPTS:
        raise too_many("CODE_ATTEMPTS_EXCEEDED", "Превышено число попыток ввода кода, запросите новый код",
                       reg["sent_at"] + RESEND_AFTER - now)
    if now >= reg["expires_at"]:
        raise ApiError(410, "CODE_EXPIRED", "Срок действия кода истёк, запросите новый код")
    key = keys.registration(registration_id)
    try:
        if code_matches(code, reg["code_salt"], reg["code_hash"]):
            table.update(key, "SET confirmed_at = :now", cond="attempts = :seen AND code_hash = :h",
                         values={":now": now, ":seen": reg["attempts"], ":h": reg["code_hash"]})
            return {"registration_id": registration_id, "confirmed": True}
        new = table.update(key, "SET attempts = attempts + :one", cond="attempts < :max",
                           values={":one": 1, ":max": MAX_ATTEMPTS})
    except ConditionFailed:
        raise ApiError(409, "CONFLICT", "Код проверяется в другом запросе, повторите попытку") from None
    left = MAX_ATTEMPTS - new["attempts"]
    raise ApiError(400, "CODE_INVALID", "Неверный код", {"code": "Неверный код"}, attempts_left=left)


def complete(registration_id: str, data: CompleteIn, origin: Origin) -> dict[str, Any]:
    """Create the account with the confirmed contact; sign the person in (one transaction)."""
    reg = _load(registration_id)
    now = clock.epoch()
    if not reg.get("confirmed_at"):
        raise ApiError(422, "CONTACT_NOT_CONFIRMED", "Сначала подтвердите контакт кодом")
    if now - reg["confirmed_at"] > COMPLETE_WINDOW:
        raise ApiError(410, "REGISTRATION_EXPIRED", "Время на завершение регистрации истекло, начните заново")
    reasons = check_password(data.password, data.password_repeat,
                             names=(reg["last_name"], reg["first_name"], reg.get("middle_name")),
                             phone=reg["contact"] if reg["channel"] == "sms" else None)
    if reasons:
        raise ApiError(400, "PASSWORD_POLICY", "Пароль не соответствует требованиям", {"password": reasons})
    tx = Tx()
    user = add_account(tx, last_name=reg["last_name"], first_name=reg["first_name"],
                       middle_name=reg.get("middle_name"), logins={reg["login_kind"]: reg["login"]},
                       password=data.password)
    user_id = user["user_id"]
    tx.update(keys.registration(registration_id), "SET user_id = :u", cond="attribute_not_exists(user_id)",
              values={":u": user_id})
    journal.audit(tx, f"USER#{user_id}", "account.created", user_id, origin.ip, registration_id=registration_id)
    journal.emit(tx, "account.created", f"USER#{user_id}", {
        "user_id": user_id, "channel": reg["channel"], "to": reg["contact"], "first_name": reg["first_name"],
        "middle_name": reg.get("middle_name")})
    result = sessions.open_session(tx, user, origin, "password")
    try:
        tx.commit()
    except ConditionFailed as exc:
        if exc.tag == "login_taken":
            raise ApiError(409, "CONTACT_TAKEN", "Этот контакт уже привязан к учётной записи. "
                                                 "Воспользуйтесь восстановлением доступа") from None
        raise ApiError(409, "REGISTRATION_COMPLETED", "Регистрация уже завершена") from None
    return result
