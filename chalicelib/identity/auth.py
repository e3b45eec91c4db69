"""Password sign-in (AU-1, AU-2): lockout after 3 failures for 15 minutes, same answer for unknown logins.

Two AWS calls per attempt: the account is found through its login index (one Query), and the outcome
(session, history row, counters, audit, events) is one transaction whose condition re-checks the lock.
"""

from __future__ import annotations

from typing import Any

from chalicelib.core import clock
from chalicelib.core.errors import ApiError
from chalicelib.core.origin import Origin
from chalicelib.core.passwords import verify_password
from chalicelib.identity import sessions
from chalicelib.identity.contacts import classify_login
from chalicelib.store import journal, keys, table
from chalicelib.store.table import ConditionFailed, Tx

MAX_FAILURES = 3
LOCK_SECONDS = 15 * 60
GHOST_TTL = 24 * 3600
_INDEX = {"phone": "ByPhone", "email": "ByEmail"}


def _invalid() -> ApiError:
    return ApiError(401, "INVALID_CREDENTIALS", "Неверный логин или пароль")


def _locked(until: int) -> ApiError:
    return ApiError(423, "ACCOUNT_LOCKED", "Вход временно заблокирован после трёх неудачных попыток. "
                                           "Повторите позже или восстановите пароль",
                    locked_until=clock.iso(clock.from_epoch(until)))


def find_user(kind: str, value: str) -> dict[str, Any] | None:
    index = _INDEX.get(kind)
    if index is None:
        return None
    page = table.query(value, index=index, limit=1, newest_first=False)
    return next((item for item in page.items if item["sk"] == "PROFILE"), None)


def _ghost_failure(kind: str, value: str, now: int) -> ApiError:
    """Unknown logins count failures and lock too, so 401/423 reveal nothing about who is registered."""
    key = keys.login_ghost(kind, value)
    try:
        item = table.update(key, "SET failed_logins = if_not_exists(failed_logins, :z) + :one, #ttl = :ttl",
                            cond="attribute_not_exists(locked_until) OR locked_until <= :now",
                            names={"#ttl": "ttl"}, values={":z": 0, ":one": 1, ":ttl": now + GHOST_TTL, ":now": now})
    except ConditionFailed as exc:
        return _locked((exc.old or {}).get("locked_until", now + LOCK_SECONDS))
    if item["failed_logins"] >= MAX_FAILURES:
        table.update(key, "SET locked_until = :until, failed_logins = :z",
                     values={":until": now + LOCK_SECONDS, ":z": 0})
        return _locked(now + LOCK_SECONDS)
    return _invalid()


def login(login_text: str, password: str, origin: Origin) -> dict[str, Any]:
    now = clock.epoch()
    found = classify_login(login_text)
    user = find_user(*found) if found else None
    if user is None:
        verify_password(None, password)
        if found:
            raise _ghost_failure(found[0], found[1], now)
        raise _invalid()
    locked_until = user.get("locked_until") or 0
    if locked_until > now:
        _record_refused(user, origin, "locked")
        raise _locked(locked_until)
    if not verify_password(user.get("password_hash"), password):
        raise _fail(user, origin, user.get("failed_logins", 0), now)
    tx = Tx().update(keys.user(user["user_id"]), "SET failed_logins = :z REMOVE locked_until",
                     cond="attribute_not_exists(locked_until) OR locked_until <= :now", values={":z": 0, ":now": now})
    result = sessions.open_session(tx, user, origin, "password")
    journal.audit(tx, f"USER#{user['user_id']}", "login.succeeded", user["user_id"], origin.ip)
    journal.emit(tx, "login.succeeded", f"USER#{user['user_id']}", {"user_id": user["user_id"], "ip": origin.ip})
    try:
        tx.commit()
    except ConditionFailed as exc:  # locked between our read and write
        raise _locked((exc.old or {}).get("locked_until", now + LOCK_SECONDS)) from None
    return result


def _record_refused(user: dict[str, Any], origin: Origin, result: str) -> None:
    tx = Tx()
    sessions.record_login(tx, user["user_id"], origin, "password", result)
    journal.audit(tx, f"USER#{user['user_id']}", "login.refused_locked", "anonymous", origin.ip)
    tx.commit()


def _fail(user: dict[str, Any], origin: Origin, seen: int, now: int) -> ApiError:
    """Count the failure with a condition on the count we read; a lost race re-reads the account.

    Locking resets the counter, so once a lock has passed the person again has three tries.
    """
    user_id = user["user_id"]
    for _ in range(3):
        count = seen + 1
        lock = count >= MAX_FAILURES
        tx = Tx()
        if lock:
            tx.update(keys.user(user_id), "SET failed_logins = :z, locked_until = :until",
                      cond="failed_logins = :seen", values={":z": 0, ":until": now + LOCK_SECONDS, ":seen": seen})
        else:
            tx.update(keys.user(user_id), "SET failed_logins = :n REMOVE locked_until",
                      cond="failed_logins = :seen", values={":n": count, ":seen": seen})
        sessions.record_login(tx, user_id, origin, "password", "failure")
        journal.audit(tx, f"USER#{user_id}", "login.failed", "anonymous", origin.ip, consecutive=count)
        journal.emit(tx, "login.failed", f"USER#{user_id}", {"user_id": user_id, "ip": origin.ip, "count": count})
        if lock:
            journal.audit(tx, f"USER#{user_id}", "account.locked", "system", origin.ip, minutes=LOCK_SECONDS // 60)
            journal.emit(tx, "account.locked", f"USER#{user_id}", {
                "user_id": user_id, "until": now + LOCK_SECONDS, "phone": user.get("phone"),
                "email": user.get("email"), "first_name": user["first_name"], "ip": origin.ip})
        try:
            tx.commit()
        except ConditionFailed:
            fresh = table.get(keys.user(user_id)) or {}
            if (fresh.get("locked_until") or 0) > now:
                return _locked(fresh["locked_until"])
            seen = fresh.get("failed_logins", 0)
        return _locked(now + LOCK_SECONDS) if lock else _invalid()
    return _invalid()
