"""One-time codes for confirmations (password change, contacts, second factor, recovery, IP allowlist).

Each code is an item under its owner: salted hash, 5-minute life, 5 tries, a new one after 60 s. A purpose may
ask for another life and resend pause (the registered letter's code: 30 days, a new letter after a day); the
item remembers its pause, so refusals tell the right wait.
Sending goes through the outbox (event `code.requested`), so the code reaches the notify worker in
the same transaction that stores its hash.
"""

from __future__ import annotations

from typing import Any

from chalicelib.core import clock
from chalicelib.core.codes import code_matches, hash_code, new_code, new_salt
from chalicelib.core.errors import DomainError, Gone, Invalid, too_many
from chalicelib.events import catalog as events
from chalicelib.identity import ratelimit
from chalicelib.store import journal, keys, table
from chalicelib.store.table import ConditionFailed, Tx

TTL = 300
MAX_ATTEMPTS = 5
RESEND_AFTER = 60
TAG = "code_cooldown"


def issue(tx: Tx, owner: str, purpose: str, channel: str, to: str, deliver: bool = True, *, ttl: int = TTL,
          resend_after: int = RESEND_AFTER, **context: Any) -> dict[str, Any]:
    """Add a fresh code for (owner, purpose) to `tx`; refused with 429 inside RESEND_AFTER of the last.

    `guard_kind`/`guard_value` in the context name a login the code would bind: when it already
    belongs to an account, the notify worker tells that owner instead of sending the code (ID-5, AU-11).
    """
    now = clock.epoch()
    code, salt = new_code(), new_salt()
    pk, sk = keys.code(owner, purpose)
    item = {"pk": pk, "sk": sk, "purpose": purpose, "code_hash": hash_code(code, salt), "code_salt": salt,
            "channel": channel, "to": to, "attempts": 0, "sent_at": now, "expires_at": now + ttl,
            "ttl": now + 24 * 3600 + (ttl if ttl > 24 * 3600 else 0), "context": context or None}
    if resend_after != RESEND_AFTER:
        item["resend_after"] = resend_after
    tx.put(item, cond="attribute_not_exists(pk) OR sent_at <= :edge", values={":edge": now - resend_after}, tag=TAG)
    if deliver:
        journal.emit(tx, events.CODE_REQUESTED, owner, {"purpose": purpose, "channel": channel, "to": to, "code": code,
                                                   **context})
    return {"channel": channel, "expires_in": ttl, "resend_after": resend_after}


def cooldown_refusal(exc: ConditionFailed) -> DomainError:
    old = exc.old or {}
    wait = (old.get("sent_at", 0) + old.get("resend_after", RESEND_AFTER)) - clock.epoch()
    return too_many("RESEND_TOO_SOON", "Новый код можно запросить чуть позже", wait)


def commit_issue(tx: Tx, ip: str | None) -> None:
    """Commit a transaction that issued a code, charging the sender's IP (no SMS bombing)."""
    try:
        ratelimit.commit(tx, ip)
    except ConditionFailed as exc:
        if exc.tag == TAG:
            raise cooldown_refusal(exc) from None
        raise


_UNREAD = object()


def verify(owner: str, purpose: str, code: str | None, tx: Tx, ip: str | None, field: str = "code",
           item: Any = _UNREAD) -> dict[str, Any]:
    """Check `code`; on success add its consumption to `tx` (so it works once) and return the item.

    The attempt is charged (a conditional write, together with the sender's IP) *before* the code is
    compared, so at most MAX_ATTEMPTS comparisons ever happen, however many requests arrive at once.
    A wrong code answers 400 with attempts_left. Pass `item` when the caller already read it (None: none).
    """
    key = keys.code(owner, purpose)
    if item is _UNREAD:
        item = table.get(key)
    now = clock.epoch()
    if not code:
        raise Invalid("CODE_REQUIRED", "Введите код подтверждения", {field: "Обязательное поле"})
    if not item:
        ratelimit.charge_now(ip)
        raise Invalid("CODE_INVALID", "Неверный код или код не запрашивался", {field: "Неверный код"},
                      attempts_left=0)
    if now >= item["expires_at"]:
        raise Gone("CODE_EXPIRED", "Срок действия кода истёк, запросите новый код")
    charge_attempt(key, item, ip)
    if not code_matches(code, item["code_salt"], item["code_hash"]):
        raise Invalid("CODE_INVALID", "Неверный код", {field: "Неверный код"},
                      attempts_left=max(0, MAX_ATTEMPTS - item["attempts"] - 1))
    tx.delete(key, cond="code_hash = :h", values={":h": item["code_hash"]}, tag="code_used")
    return item


def charge_attempt(key: tuple[str, str], item: dict[str, Any], ip: str | None) -> None:
    """Spend one of the code's tries, or refuse: over the limit, or the code was replaced or used meanwhile."""
    tx = Tx().update(key, "SET attempts = attempts + :one", cond="attempts < :max AND code_hash = :h",
                     values={":one": 1, ":max": MAX_ATTEMPTS, ":h": item["code_hash"]}, tag="attempt")
    try:
        ratelimit.commit(tx, ip)
    except ConditionFailed as exc:
        old = exc.old or {}
        if old and old.get("code_hash") == item["code_hash"]:
            raise exceeded(old) from None
        raise Invalid("CODE_INVALID", "Код уже использован или заменён новым", {"code": "Неверный код"},
                      attempts_left=0) from None


def exceeded(item: dict[str, Any]) -> DomainError:
    return too_many("CODE_ATTEMPTS_EXCEEDED", "Превышено число попыток, запросите новый код",
                    item["sent_at"] + item.get("resend_after", RESEND_AFTER) - clock.epoch())
