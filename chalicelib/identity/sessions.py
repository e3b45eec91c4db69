"""Sessions: rotating refresh tokens (30 days absolute, 30 minutes idle) behind short access JWTs."""

from __future__ import annotations

import base64
import contextlib
import hmac
from typing import Any

from chalicelib.core import clock, tokens
from chalicelib.core.codes import hash_token, new_token
from chalicelib.core.errors import Forbidden, not_found, unauthorized
from chalicelib.core.ids import is_id, new_id
from chalicelib.core.origin import Origin
from chalicelib.events import catalog as events
from chalicelib.identity import ratelimit
from chalicelib.identity.useragent import parse_device
from chalicelib.store import journal, keys, table
from chalicelib.store.table import ConditionFailed, Tx

ABSOLUTE_TTL = 30 * 24 * 3600
IDLE_TTL = 30 * 60
KNOWN_DEVICES = 20
GRACE = 20  # seconds in which the secret just rotated away still gets its successor (two tabs)
REMEMBERED = 50  # rotated-away secrets kept per session to recognise reuse (older ones: a plain 401)
MAX_REVOKE = 80  # one transaction holds 100 operations; older sessions still die by idle time-out


def fingerprint(origin: Origin) -> str:
    """An IP + device pair, as AU-10 compares them."""
    d = parse_device(origin.user_agent)
    return f"{origin.ip}|{d.device_type}|{d.os}|{d.browser}"


def record_login(tx: Tx, user_id: str, origin: Origin, method: str, result: str, mfa: str | None = None) -> None:
    """A login-history row (AU-9), newest first by its time-ordered id."""
    device = parse_device(origin.user_agent)
    event_id = new_id()
    pk, sk = keys.login_event(user_id, event_id)
    tx.put({"pk": pk, "sk": sk, "id": event_id, "at": clock.iso(clock.now()), "ip": origin.ip,
            "device_type": device.device_type, "os": device.os, "browser": device.browser, "method": method,
            "result": result, "mfa": mfa})


def open_session(tx: Tx, user: dict[str, Any], origin: Origin, method: str, mfa: str | None = None) -> dict[str, Any]:
    """Add a new session and its login-history row to `tx`; the tokens are valid once tx commits."""
    session_id, secret = new_id(), new_token()
    now = clock.epoch()
    device = parse_device(origin.user_agent)
    pk, sk = keys.session(user["user_id"], session_id)
    tx.put({"pk": pk, "sk": sk, "session_id": session_id, "user_id": user["user_id"],
            "refresh_hash": hash_token(secret), "tier": user["tier"], "role": user.get("role", "citizen"),
            "created_at": now, "last_used_at": now, "expires_at": now + ABSOLUTE_TTL, "ip": origin.ip,
            "device_type": device.device_type, "os": device.os, "browser": device.browser, "method": method,
            "mfa": mfa, "ttl": now + ABSOLUTE_TTL})
    record_login(tx, user["user_id"], origin, method, "success", mfa)
    return {"user_id": user["user_id"], "tier": user["tier"],
            "access_token": tokens.issue_access(user["user_id"], session_id, user["tier"], user.get("role", "citizen")),
            "refresh_token": f"{user['user_id']}.{session_id}.{secret}", "expires_in": tokens.ACCESS_TTL}


def _parse_refresh(token: str) -> tuple[str, str, str]:
    parts = token.split(".")
    if len(parts) != 3 or not is_id(parts[0]) or not is_id(parts[1]) or not parts[2]:
        raise unauthorized("Недействительный токен обновления")
    return parts[0], parts[1], parts[2]


def _revoke(tx: Tx, user_id: str, session_id: str, reason: str) -> Tx:
    return tx.update(keys.session(user_id, session_id), "SET revoked_at = :now, revoked_reason = :why",
                     cond="attribute_exists(pk) AND attribute_not_exists(revoked_at)",
                     values={":now": clock.epoch(), ":why": reason}, tag="session")


def _successor(secret: str, nonce: str) -> str:
    """The secret that replaces `secret` at one rotation. Derived, so that a second tab presenting the same
    secret within the grace window gets the same successor back; keyed by a random per-rotation nonce kept
    in the session, so nobody holding an old secret can compute later ones."""
    return base64.urlsafe_b64encode(hmac.digest(nonce.encode(), secret.encode(), "sha256")).rstrip(b"=").decode()


def _answer(user_id: str, session_id: str, session: dict[str, Any], secret: str) -> dict[str, Any]:
    return {"user_id": user_id, "tier": session["tier"],
            "access_token": tokens.issue_access(user_id, session_id, session["tier"], session["role"]),
            "refresh_token": f"{user_id}.{session_id}.{secret}", "expires_in": tokens.ACCESS_TTL}


def _known(digest: str, hashes: list[str]) -> bool:
    return any(hmac.compare_digest(digest, h) for h in hashes)


def refresh(token: str, origin: Origin) -> dict[str, Any]:
    """Rotate the refresh token.

    Only a secret really issued for this session and already rotated away (past the grace window) is reuse:
    it means theft, so the session dies. The secret rotated away in the last GRACE seconds gets the same
    successor back (two tabs refreshing at once). Any other wrong secret is a plain 401 and changes nothing:
    both ids are readable from any access token, so a forged token must not be able to end a session.
    """
    user_id, session_id, secret = _parse_refresh(token)
    key = keys.session(user_id, session_id)
    session = table.get(key)
    for _ in range(2):  # a lost rotation race re-reads once: the winner's rotation puts us in the grace window
        now = clock.epoch()
        if not session or session.get("revoked_at"):
            ratelimit.charge_now(origin.ip)
            raise unauthorized("Сеанс завершён, войдите снова")
        digest = hash_token(secret)
        if not hmac.compare_digest(session["refresh_hash"], digest):
            if (session.get("prev_hash") and hmac.compare_digest(session["prev_hash"], digest)
                    and now - session.get("rotated_at", 0) <= GRACE):
                successor = _successor(secret, session["prev_nonce"])
                ratelimit.charge_now(origin.ip)
                if hmac.compare_digest(session["refresh_hash"], hash_token(successor)):
                    return _answer(user_id, session_id, session, successor)
                raise unauthorized("Токен обновления уже заменён, обновите страницу")
            if _known(digest, session.get("rotated") or []):
                with contextlib.suppress(ConditionFailed):
                    ratelimit.commit(_revoke(Tx(), user_id, session_id, "refresh_reuse"), origin.ip)
                raise unauthorized("Токен обновления уже использован; сеанс завершён, войдите снова")
            ratelimit.charge_now(origin.ip)
            raise unauthorized("Недействительный токен обновления")
        if now >= session["expires_at"] or now - session["last_used_at"] > IDLE_TTL:
            tx = _revoke(Tx(), user_id, session_id, "timeout")
            record_login(tx, user_id, origin, session["method"], "timeout")
            with contextlib.suppress(ConditionFailed):
                ratelimit.commit(tx, origin.ip)
            raise unauthorized("Сеанс истёк, войдите снова")
        account = table.get(keys.user(user_id)) or {}
        if account.get("blocked"):  # the secret is proven: say why, end it
            with contextlib.suppress(ConditionFailed):
                ratelimit.commit(_revoke(Tx(), user_id, session_id, "blocked"), origin.ip)
            raise Forbidden("ACCOUNT_BLOCKED", "Учётная запись заблокирована из-за подозрительной активности. "
                                               "Войдите с паролем, чтобы подать заявку на разблокировку")
        nonce = new_token()
        successor = _successor(secret, nonce)
        rotated = [*(session.get("rotated") or []), digest][-REMEMBERED:]
        tx = Tx().update(key, "SET refresh_hash = :new, prev_hash = :old, prev_nonce = :nonce, rotated_at = :now, "
                              "rotated = :rotated, last_used_at = :now, ip = :ip",
                         cond="refresh_hash = :old AND attribute_not_exists(revoked_at)",
                         values={":new": hash_token(successor), ":old": digest, ":nonce": nonce, ":now": now,
                                 ":rotated": rotated, ":ip": origin.ip}, tag="session")
        try:
            ratelimit.commit(tx, origin.ip)
        except ConditionFailed as exc:
            if exc.tag != "session":
                raise
            session = table.get(key, consistent=True)  # a parallel refresh won the rotation
            continue
        # The tier is the account's, not the one the session started with: a tier raised meanwhile (ID-6, ID-7)
        # reaches the next access token.
        return _answer(user_id, session_id, {**session, "tier": account.get("tier", session["tier"])}, successor)
    raise unauthorized("Токен обновления уже использован")


def _active(session: dict[str, Any], now: int) -> bool:
    return (not session.get("revoked_at") and now < session["expires_at"]
            and now - session["last_used_at"] <= IDLE_TTL)


def list_sessions(user_id: str, current: str) -> list[dict[str, Any]]:
    now = clock.epoch()
    items = table.query(keys.user_pk(user_id), keys.SESSIONS, limit=200).items
    return [{"id": s["session_id"], "device_type": s["device_type"], "os": s["os"], "browser": s["browser"],
             "ip": s.get("ip"), "created_at": clock.iso(clock.from_epoch(s["created_at"])),
             "last_used_at": clock.iso(clock.from_epoch(s["last_used_at"])), "current": s["session_id"] == current}
            for s in items if _active(s, now)]


def revoke_others(tx: Tx, user_id: str, keep: str | None, reason: str) -> int:
    """Add the revocation of every active session but `keep` to `tx` (one Query to find them), and the
    back-channel logout of the systems they signed into."""
    now = clock.epoch()
    count, signed_in = 0, []
    for s in table.query(keys.user_pk(user_id), keys.SESSIONS, limit=200, consistent=True).items:
        if s["session_id"] != keep and _active(s, now) and count < MAX_REVOKE:
            _revoke(tx, user_id, s["session_id"], reason)
            count += 1
            if s.get("sso_clients"):
                signed_in.append(s["session_id"])
    if signed_in:
        _ended(tx, user_id, signed_in)
    return count


def _ended(tx: Tx, user_id: str, session_ids: list[str]) -> None:
    """Sessions that signed into other systems end there too (OIDC Back-Channel Logout; the agency worker)."""
    journal.emit(tx, events.SESSIONS_ENDED, user_id, {"user_id": user_id, "session_ids": session_ids})


def end_session(user_id: str, session_id: str, origin: Origin) -> None:
    if not is_id(session_id):
        raise not_found("Сеанс")
    tx = _revoke(Tx(), user_id, session_id, "ended_by_user")
    _ended(tx, user_id, [session_id])
    journal.audit(tx, keys.user_pk(user_id), "session.ended", user_id, origin.ip, session_id=session_id)
    try:
        tx.commit()
    except ConditionFailed:
        raise not_found("Сеанс") from None


def end_other_sessions(user_id: str, current: str, origin: Origin) -> int:
    tx = Tx()
    count = revoke_others(tx, user_id, current, "ended_by_user")
    journal.audit(tx, keys.user_pk(user_id), "session.ended_others", user_id, origin.ip, count=count)
    tx.commit()
    return count


def logout(user_id: str, session_id: str, origin: Origin) -> None:
    tx = _revoke(Tx(), user_id, session_id, "logout")
    _ended(tx, user_id, [session_id])
    journal.audit(tx, keys.user_pk(user_id), "session.logout", user_id, origin.ip, session_id=session_id)
    with contextlib.suppress(ConditionFailed):  # session already gone: logging out is idempotent
        ratelimit.commit(tx, origin.ip)
