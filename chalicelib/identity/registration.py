"""Citizen registration (ID-1, ID-5): contact confirmed by a one-time code, then a password.

Whether the contact already has an account is decided by the notify worker, not here: the API
answers every registration the same way and in the same time, and the message that reaches the
contact's owner says either the code or how to recover access.
"""

from __future__ import annotations

from typing import Any

from chalicelib.core import clock
from chalicelib.core.errors import Conflict, Gone, Invalid, Unprocessable, not_found, too_many
from chalicelib.core.ids import is_id, new_id
from chalicelib.core.origin import Origin
from chalicelib.events import catalog as events
from chalicelib.identity import consents, otp, ratelimit, sessions
from chalicelib.identity.accounts import add_account
from chalicelib.identity.models import CompleteIn, RegistrationIn
from chalicelib.identity.password_policy import check_password
from chalicelib.store import journal, keys, table
from chalicelib.store.table import ConditionFailed, Tx

PURPOSE = "registration"
MAX_SENDS = 5
COMPLETE_WINDOW = 30 * 60
RECORD_TTL = 24 * 3600


def _owner(registration_id: str) -> str:
    return keys.registration_pk(registration_id)


def _issue(tx: Tx, reg: dict[str, Any]) -> dict[str, Any]:
    answer = otp.issue(tx, _owner(reg["registration_id"]), PURPOSE, reg["channel"], reg["contact"],
                       guard_kind=reg["login_kind"], guard_value=reg["login"], first_name=reg["first_name"],
                       middle_name=reg.get("middle_name"))
    return {"registration_id": reg["registration_id"], **answer}


def start(data: RegistrationIn, origin: Origin) -> dict[str, Any]:
    """One transaction: the registration record, its code, its audit entry and the code event."""
    now = clock.epoch()
    registration_id = new_id()
    channel, contact = ("sms", data.phone) if data.phone else ("email", data.email)
    pk, sk = keys.registration(registration_id)
    reg = {"pk": pk, "sk": sk, "registration_id": registration_id, "last_name": data.last_name,
           "first_name": data.first_name, "middle_name": data.middle_name, "channel": channel, "contact": contact,
           "login_kind": "phone" if channel == "sms" else "email", "login": contact, "sends": 1,
           "created_at": now, "ttl": now + RECORD_TTL}
    tx = Tx().put_new(reg)
    answer = _issue(tx, reg)
    journal.audit(tx, _owner(registration_id), "registration.started", "anonymous", origin.ip, channel=channel)
    otp.commit_issue(tx, origin.ip)
    return answer


def _load(registration_id: str, with_code: bool = False) -> tuple[dict[str, Any], dict[str, Any] | None]:
    if not is_id(registration_id):
        raise not_found("Регистрация", feminine=True)
    if with_code:
        reg, code = table.get_many([keys.registration(registration_id), keys.code(_owner(registration_id), PURPOSE)])
    else:
        reg, code = table.get(keys.registration(registration_id)), None
    if not reg or reg["ttl"] <= clock.epoch():
        raise not_found("Регистрация", feminine=True)
    if reg.get("user_id"):
        raise Conflict("REGISTRATION_COMPLETED", "Регистрация уже завершена, войдите в личный кабинет")
    return reg, code


def resend(registration_id: str, origin: Origin) -> dict[str, Any]:
    reg, _ = _load(registration_id)
    if reg["sends"] >= MAX_SENDS:
        raise too_many("RESEND_LIMIT", "Превышено число отправок кода, начните регистрацию заново",
                       reg["ttl"] - clock.epoch())
    tx = Tx().update(keys.registration(registration_id), "SET sends = sends + :one REMOVE confirmed_at",
                     cond="sends = :seen", values={":one": 1, ":seen": reg["sends"]})
    answer = _issue(tx, reg)
    journal.audit(tx, _owner(registration_id), "registration.code_resent", "anonymous", origin.ip)
    otp.commit_issue(tx, origin.ip)
    return answer


def confirm(registration_id: str, code: str, origin: Origin) -> dict[str, Any]:
    reg, code_item = _load(registration_id, with_code=True)
    if reg.get("confirmed_at"):
        return {"registration_id": registration_id, "confirmed": True}
    tx = Tx()
    otp.verify(_owner(registration_id), PURPOSE, code, tx, origin.ip, item=code_item)
    tx.update(keys.registration(registration_id), "SET confirmed_at = :now", values={":now": clock.epoch()})
    journal.audit(tx, _owner(registration_id), "registration.confirmed", "anonymous", origin.ip)
    try:
        ratelimit.commit(tx, origin.ip)
    except ConditionFailed:
        raise Conflict("CONFLICT", "Код уже использован в другом запросе") from None
    return {"registration_id": registration_id, "confirmed": True}


def _policy(reg: dict[str, Any], password: str, repeat: str) -> list[str]:
    return check_password(password, repeat, names=(reg["last_name"], reg["first_name"], reg.get("middle_name")),
                          phone=reg["contact"] if reg["channel"] == "sms" else None)


def password_reasons(registration_id: str, password: str) -> list[str]:
    """The policy's reasons for a password being typed (ID-4), with this registration's names and phone: the
    page shows them as the person types, from the one rule `complete` applies."""
    reg, _ = _load(registration_id)
    return _policy(reg, password, password)


def complete(registration_id: str, data: CompleteIn, origin: Origin) -> dict[str, Any]:
    """Create the account with the confirmed contact; sign the person in (one transaction)."""
    reg, _ = _load(registration_id)
    now = clock.epoch()
    if not reg.get("confirmed_at"):
        raise Unprocessable("CONTACT_NOT_CONFIRMED", "Сначала подтвердите контакт кодом")
    if now - reg["confirmed_at"] > COMPLETE_WINDOW:
        raise Gone("REGISTRATION_EXPIRED", "Время на завершение регистрации истекло, начните заново")
    reasons = _policy(reg, data.password, data.password_repeat)
    if reasons:
        raise Invalid("PASSWORD_POLICY", "Пароль не соответствует требованиям", {"password": reasons})
    tx = Tx()
    user = add_account(tx, last_name=reg["last_name"], first_name=reg["first_name"],
                       middle_name=reg.get("middle_name"), logins={reg["login_kind"]: reg["login"]},
                       password=data.password, known_devices=[sessions.fingerprint(origin)])
    user_id = user["user_id"]
    tx.update(keys.registration(registration_id), "SET user_id = :u", cond="attribute_not_exists(user_id)",
              values={":u": user_id})
    journal.audit(tx, keys.user_pk(user_id), events.ACCOUNT_CREATED.name, user_id, origin.ip,
                  registration_id=registration_id)
    journal.emit(tx, events.ACCOUNT_CREATED, keys.user_pk(user_id), {
        "user_id": user_id, "channel": reg["channel"], "to": reg["contact"], "first_name": reg["first_name"],
        "middle_name": reg.get("middle_name")})
    consents.record(tx, user_id, "registration", ip=origin.ip)  # ID-9: with the account, never without
    result = sessions.open_session(tx, user, origin, "password")
    try:
        ratelimit.commit(tx, origin.ip)
    except ConditionFailed as exc:
        if exc.tag == "login_taken":
            raise Conflict("CONTACT_TAKEN", "Этот контакт уже привязан к учётной записи. "
                                                 "Воспользуйтесь восстановлением доступа") from None
        raise Conflict("REGISTRATION_COMPLETED", "Регистрация уже завершена") from None
    return result
