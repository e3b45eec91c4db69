"""Sessions: rotating refresh tokens (30 days absolute, 30 minutes idle) behind short access JWTs."""

from __future__ import annotations

import contextlib
import hmac
from typing import Any

from chalicelib.core import clock, tokens
from chalicelib.core.codes import hash_token, new_token
from chalicelib.core.errors import unauthorized
from chalicelib.core.ids import is_id, new_id
from chalicelib.core.origin import Origin
from chalicelib.identity.useragent import parse_device
from chalicelib.store import journal, keys, table
from chalicelib.store.table import ConditionFailed, Tx

ABSOLUTE_TTL = 30 * 24 * 3600
IDLE_TTL = 30 * 60


def _refresh_token(user_id: str, session_id: str, secret: str) -> str:
    return f"{user_id}.{session_id}.{secret}"


def record_login(tx: Tx, user_id: str, origin: Origin, method: str, result: str, **extra: Any) -> None:
    """A login-history row (AU-9), newest first by its time-ordered id."""
    device = parse_device(origin.user_agent)
    pk, sk = keys.login_event(user_id, new_id())
    tx.put({"pk": pk, "sk": sk, "at": clock.iso(clock.now()), "ip": origin.ip, "device_type": device.device_type,
            "os": device.os, "browser": device.browser, "method": method, "result": result, **extra})


def open_session(tx: Tx, user: dict[str, Any], origin: Origin, method: str) -> dict[str, Any]:
    """Add a new session and its login-history row to `tx`; the tokens are valid once tx commits."""
    session_id, secret = new_id(), new_token()
    now = clock.epoch()
    device = parse_device(origin.user_agent)
    pk, sk = keys.session(user["user_id"], session_id)
    tx.put({"pk": pk, "sk": sk, "session_id": session_id, "user_id": user["user_id"],
            "refresh_hash": hash_token(secret), "tier": user["tier"], "role": user.get("role", "citizen"),
            "created_at": now, "last_used_at": now,
            "expires_at": now + ABSOLUTE_TTL, "ip": origin.ip, "device_type": device.device_type,
            "os": device.os, "browser": device.browser, "method": method, "ttl": now + ABSOLUTE_TTL})
    record_login(tx, user["user_id"], origin, method, "success")
    return {"user_id": user["user_id"], "tier": user["tier"],
            "access_token": tokens.issue_access(user["user_id"], session_id, user["tier"], user.get("role", "citizen")),
            "refresh_token": _refresh_token(user["user_id"], session_id, secret),
            "expires_in": tokens.ACCESS_TTL}


def _parse_refresh(token: str) -> tuple[str, str, str]:
    parts = token.split(".")
    if len(parts) != 3 or not is_id(parts[0]) or not is_id(parts[1]) or not parts[2]:
        raise unauthorized("Недействительный токен обновления")
    return parts[0], parts[1], parts[2]


def refresh(token: str, origin: Origin) -> dict[str, Any]:
    """Rotate the refresh token; a token already rotated away means theft, so the session dies."""
    user_id, session_id, secret = _parse_refresh(token)
    key = keys.session(user_id, session_id)
    session = table.get(key)
    now = clock.epoch()
    if not session or session.get("revoked_at"):
        raise unauthorized("Сеанс завершён, войдите снова")
    if not hmac.compare_digest(session["refresh_hash"], hash_token(secret)):
        table.update(key, "SET revoked_at = :now, revoked_reason = :why",
                     values={":now": now, ":why": "refresh_reuse"})
        raise unauthorized("Токен обновления уже использован; сеанс завершён, войдите снова")
    if now >= session["expires_at"] or now - session["last_used_at"] > IDLE_TTL:
        table.update(key, "SET revoked_at = :now, revoked_reason = :why",
                     values={":now": now, ":why": "timeout"})
        raise unauthorized("Сеанс истёк, войдите снова")
    new_secret = new_token()
    try:
        table.update(key, "SET refresh_hash = :new, last_used_at = :now, ip = :ip",
                     cond="refresh_hash = :old AND attribute_not_exists(revoked_at)",
                     values={":new": hash_token(new_secret), ":old": session["refresh_hash"], ":now": now,
                             ":ip": origin.ip})
    except ConditionFailed:  # a parallel refresh won the rotation
        raise unauthorized("Токен обновления уже использован") from None
    return {"user_id": user_id, "tier": session["tier"],
            "access_token": tokens.issue_access(user_id, session_id, session["tier"], session["role"]),
            "refresh_token": _refresh_token(user_id, session_id, new_secret), "expires_in": tokens.ACCESS_TTL}


def logout(user_id: str, session_id: str, origin: Origin) -> None:
    tx = Tx().update(keys.session(user_id, session_id), "SET revoked_at = :now, revoked_reason = :why",
                     cond="attribute_exists(pk)", values={":now": clock.epoch(), ":why": "logout"})
    journal.audit(tx, f"USER#{user_id}", "session.logout", user_id, origin.ip, session_id=session_id)
    with contextlib.suppress(ConditionFailed):  # session already gone: logging out is idempotent
        tx.commit()
