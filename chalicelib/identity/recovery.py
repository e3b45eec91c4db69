"""Access recovery (AU-7, AU-2): a code to the account's phone or e-mail, then a new password.

Every request answers the same whether or not the login exists; for an unknown one the code goes
nowhere and the typed contact is told no account uses it. A reset lifts a lock, ends every session
and, with a second factor on, also needs that factor (or an SMS code when recovery went by e-mail).
"""

from __future__ import annotations

import hmac
from typing import Any

from chalicelib.core import clock
from chalicelib.core.codes import hash_token, new_token
from chalicelib.core.errors import Conflict, Invalid, Unauthorized, not_found
from chalicelib.core.ids import is_id, new_id
from chalicelib.core.origin import Origin
from chalicelib.events import catalog as events
from chalicelib.identity import blocking, mfa, otp, passwords, ratelimit, sessions
from chalicelib.identity.auth import find_user
from chalicelib.identity.contacts import classify_login
from chalicelib.identity.users import contacts
from chalicelib.store import journal, keys, table
from chalicelib.store.table import Change, ConditionFailed, Tx

PURPOSE = "recovery"
SMS_PURPOSE = "recovery_sms"
RESET_TTL = 15 * 60
RECORD_TTL = 3600


def _owner(recovery_id: str) -> str:
    return keys.recovery_pk(recovery_id)


def start(login_text: str, origin: Origin) -> dict[str, Any]:
    found = classify_login(login_text)
    if not found:
        raise Invalid("VALIDATION_ERROR", "Укажите телефон, электронную почту или СНИЛС",
                       {"login": "Неверный формат"})
    kind, value = found
    user = find_user(kind, value)
    if user is not None:
        channel, to = ("email", user["email"]) if kind == "email" or not user.get("phone") else ("sms", user["phone"])
    else:  # an unknown login: the same answer, and its owner (if any) hears that no account uses it
        channel, to = ("email", value) if kind == "email" else ("sms", value)
    recovery_id = new_id()
    now = clock.epoch()
    pk, sk = keys.recovery(recovery_id)
    tx = Tx().put_new({"pk": pk, "sk": sk, "recovery_id": recovery_id, "user_id": user and user["user_id"],
                       "channel": channel, "created_at": now, "ttl": now + RECORD_TTL})
    otp.issue(tx, _owner(recovery_id), PURPOSE, channel, to, deliver=user is not None or kind != "snils",
              notice=None if user else "recovery_unknown", first_name=user and user["first_name"])
    journal.audit(tx, keys.user_pk(user['user_id']) if user else _owner(recovery_id), "recovery.started",
                  "anonymous", origin.ip, channel=channel)
    otp.commit_issue(tx, origin.ip)
    return {"recovery_id": recovery_id, "channel": channel, "expires_in": otp.TTL}


def _load(recovery_id: str) -> dict[str, Any]:
    item = table.get(keys.recovery(recovery_id)) if is_id(recovery_id) else None
    if not item or item["ttl"] <= clock.epoch() or item.get("used_at"):
        raise not_found("Запрос на восстановление")
    return item


def confirm(recovery_id: str, code: str, origin: Origin) -> dict[str, Any]:
    item = _load(recovery_id)
    tx = Tx()
    otp.verify(_owner(recovery_id), PURPOSE, code, tx, origin.ip)
    user = table.get(keys.user(item["user_id"])) if item.get("user_id") else None
    if user is None:  # unreachable in practice: an unknown login's code was never sent
        raise Invalid("CODE_INVALID", "Неверный код", {"code": "Неверный код"}, attempts_left=0)
    if blocking.is_blocked(user):  # the code proved the contact: only now may the answer say so
        raise blocking.blocked_elsewhere()
    token = new_token()
    tx.update(keys.recovery(recovery_id), "SET reset_hash = :h, reset_expires = :e",
              values={":h": hash_token(token), ":e": clock.epoch() + RESET_TTL})
    journal.audit(tx, keys.user_pk(user['user_id']), "recovery.confirmed", "anonymous", origin.ip)
    ratelimit.commit(tx, origin.ip)
    return {"reset_token": token, "expires_in": RESET_TTL, "second_factor": _factor_options(user, item)}


def _factor_options(user: dict[str, Any], item: dict[str, Any]) -> list[str]:
    """What else the reset needs: nothing without a factor, or when the SMS factor was just proven."""
    methods = [m for m in mfa.methods(user) if m != "sms"]
    if not methods and (not user.get("mfa_sms") or item["channel"] == "sms"):
        return []
    if item["channel"] == "email" and user.get("phone"):
        methods.append("sms")
    return methods


def _reset_ready(recovery_id: str, token: str) -> tuple[dict[str, Any], dict[str, Any]]:
    item = _load(recovery_id)
    if (not item.get("reset_hash") or item["reset_expires"] <= clock.epoch()
            or not hmac.compare_digest(item["reset_hash"], hash_token(token))):
        raise Unauthorized("RESET_TOKEN_INVALID", "Срок действия разрешения на смену пароля истёк, начните заново")
    user = table.get(keys.user(item["user_id"]))
    if not user:
        raise not_found("Запрос на восстановление")
    return item, user


def send_sms(recovery_id: str, token: str, origin: Origin) -> dict[str, Any]:
    item, user = _reset_ready(recovery_id, token)
    if "sms" not in _factor_options(user, item):
        raise Invalid("MFA_METHOD_UNAVAILABLE", "Подтверждение по SMS здесь не требуется")
    tx = Tx()
    answer = otp.issue(tx, _owner(recovery_id), SMS_PURPOSE, "sms", user["phone"])
    otp.commit_issue(tx, origin.ip)
    return answer


def reset(recovery_id: str, token: str, new: str, repeat: str, mfa_method: str | None, mfa_code: str | None,
          origin: Origin) -> dict[str, Any]:
    item, user = _reset_ready(recovery_id, token)
    if blocking.is_blocked(user):  # blocked after the code was confirmed
        raise blocking.blocked_elsewhere()
    options = _factor_options(user, item)
    passwords.check_new(user, new, repeat)  # a refused password must not cost a try of the second factor
    tx = Tx()
    change = Change()
    if options:
        if mfa_method not in options or not mfa_code:
            raise Invalid("MFA_REQUIRED", "Подтвердите смену пароля вторым фактором",
                           {"mfa_code": "Обязательное поле"}, methods=options)
        budget = mfa.spend_try(user, origin)  # the account's budget of wrong codes holds here too
        if mfa_method == "sms":
            otp.verify(_owner(recovery_id), SMS_PURPOSE, mfa_code, tx, origin.ip, field="mfa_code")
        else:
            mfa.check_code(user, mfa_method, mfa_code, change)
        mfa.refund_budget(tx, budget)
    passwords.set_password(change, user, new, tx=tx).set("failed_logins", 0).remove("locked_until")
    change.apply(tx, keys.user(user["user_id"]), tag="user")
    tx.update(keys.recovery(recovery_id), "SET used_at = :now", cond="attribute_not_exists(used_at)",
              values={":now": clock.epoch()}, tag="recovery")
    ended = sessions.revoke_others(tx, user["user_id"], None, "password_reset")
    journal.audit(tx, keys.user_pk(user['user_id']), events.PASSWORD_RESET.name, "anonymous", origin.ip,
                  sessions_ended=ended)
    journal.emit(tx, events.PASSWORD_RESET, keys.user_pk(user['user_id']), {**contacts(user), "ip": origin.ip})
    try:
        ratelimit.commit(tx, origin.ip)
    except ConditionFailed:
        raise Conflict("CONFLICT", "Пароль уже изменён по этому запросу") from None
    return {"reset": True, "sessions_ended": ended}
