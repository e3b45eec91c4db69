"""Second factor (AU-4): authenticator app (TOTP), SMS codes, single-use backup codes.

The TOTP secret is kept on the user item (the table is encrypted at rest); a code is accepted once:
the step it matched is stored and a later login must match a newer step.
"""

from __future__ import annotations

import contextlib
import hashlib
import hmac
import secrets
from typing import Any

from chalicelib.core import clock
from chalicelib.core.errors import Conflict, DomainError, Gone, Invalid, Unprocessable, too_many
from chalicelib.core.origin import Origin
from chalicelib.core.passwords import verify_password
from chalicelib.events import catalog as events
from chalicelib.identity import otp, ratelimit
from chalicelib.identity.users import contacts, load_user
from chalicelib.store import journal, keys
from chalicelib.store.table import Change, ConditionFailed, Tx

ISSUER = "Госуслуги"
BACKUP_COUNT = 10
PENDING_TTL = 600
MAX_FAILURES = 5
BLOCK_SECONDS = 15 * 60
BUDGET = 10  # wrong codes per account per BUDGET_WINDOW, across sign-in challenges and recovery
BUDGET_WINDOW = 15 * 60
BUDGET_TAG = "mfa_budget"
_BACKUP_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"


def methods(user: dict[str, Any]) -> list[str]:
    out = []
    if user.get("totp_secret"):
        out.append("totp")
    if user.get("mfa_sms") and user.get("phone"):
        out.append("sms")
    if out and user.get("backup_hashes"):
        out.append("backup")
    return out


def sign_in_methods(user: dict[str, Any]) -> list[str]:
    """What a sign-in challenge offers: the code factors, and a passkey when the account enrolled one (AU-4).
    Kept apart from `methods`: a passkey is no code, so recovery and the code check never take it."""
    return [*methods(user), "passkey"] if user.get("passkey_ids") else methods(user)


def totp_step(secret: str, code: str) -> int | None:
    """The time step `code` belongs to (current one, or one either side for clock drift), else None."""
    import pyotp

    totp = pyotp.TOTP(secret)
    now = clock.now()
    for offset in (0, -1, 1):
        if hmac.compare_digest(totp.at(now, counter_offset=offset), code):
            return totp.timecode(now) + offset
    return None


def backup_hash(code: str) -> str:
    return hashlib.sha256(code.replace("-", "").replace(" ", "").upper().encode()).hexdigest()


def _new_backup_codes() -> tuple[list[str], set[str]]:
    codes = []
    for _ in range(BACKUP_COUNT):
        raw = "".join(secrets.choice(_BACKUP_ALPHABET) for _ in range(10))
        codes.append(f"{raw[:5]}-{raw[5:]}")
    return codes, {backup_hash(c) for c in codes}


def check_code(user: dict[str, Any], method: str, code: str, change: Change) -> None:
    """Verify a TOTP or backup code; add to `change` what makes it single-use. Wrong → CODE_INVALID.

    SMS codes are one-time codes (identity.otp) and are checked by the caller.
    """
    if method == "totp" and user.get("totp_secret"):
        step = totp_step(user["totp_secret"], code)
        if step is None:
            raise _invalid()
        if step <= user.get("totp_last_step", -1):
            raise Invalid("CODE_REUSED", "Этот код уже использован, дождитесь следующего",
                           {"code": "Код уже использован"})
        change.set("totp_last_step", step).require(
            "attribute_not_exists({totp_last_step}) OR {totp_last_step} < :s", s=step)
    elif method == "backup" and user.get("backup_hashes"):
        digest = backup_hash(code)
        if not any(hmac.compare_digest(digest, h) for h in user["backup_hashes"]):
            raise _invalid()
        change.delete_from("backup_hashes", {digest}).require("contains({backup_hashes}, :h)", h=digest)
    else:
        raise Invalid("MFA_METHOD_UNAVAILABLE", "Этот способ подтверждения не подключён",
                       {"method": "Способ не подключён"})


def _invalid() -> DomainError:
    return Invalid("CODE_INVALID", "Неверный код", {"code": "Неверный код"})


def guard(user: dict[str, Any]) -> None:
    blocked = user.get("mfa_blocked_until") or 0
    if blocked > clock.epoch():
        raise too_many("MFA_BLOCKED", "Слишком много неверных кодов, повторите позже", blocked - clock.epoch())


def _count_failure(user: dict[str, Any]) -> None:
    """Consecutive wrong codes in settings flows block them for 15 minutes (no brute force of 10^6 codes)."""
    count = user.get("mfa_failures", 0) + 1
    change = Change().set("mfa_failures", 0 if count >= MAX_FAILURES else count)
    if count >= MAX_FAILURES:
        change.set("mfa_blocked_until", clock.epoch() + BLOCK_SECONDS)
    change.apply(Tx(), keys.user(user["user_id"])).commit()


def start_totp(user_id: str, origin: Origin) -> dict[str, Any]:
    import pyotp
    import segno

    user = load_user(user_id)
    if user.get("totp_secret"):
        raise Conflict("TOTP_ALREADY_ENABLED", "Вход через приложение уже подключён")
    secret = pyotp.random_base32()
    uri = pyotp.TOTP(secret).provisioning_uri(name=user.get("phone") or user.get("email") or user_id,
                                               issuer_name=ISSUER)
    tx = Change().set("totp_pending", secret).set("totp_pending_at", clock.epoch()).set(
        "totp_pending_attempts", 0).apply(Tx(), keys.user(user_id))
    journal.audit(tx, keys.user_pk(user_id), "mfa.totp_started", user_id, origin.ip)
    tx.commit()
    return {"secret": secret, "otpauth_uri": uri, "qr_svg": segno.make_qr(uri, error="m").svg_inline(scale=4)}


def _with_backup_codes(user: dict[str, Any], change: Change) -> list[str] | None:
    """Backup codes are issued with the first factor and shown once."""
    if user.get("backup_hashes"):
        return None
    codes, hashes = _new_backup_codes()
    change.set("backup_hashes", hashes)
    return codes


def confirm_totp(user_id: str, code: str, origin: Origin) -> dict[str, Any]:
    user = load_user(user_id)
    pending = user.get("totp_pending")
    if not pending or user["totp_pending_at"] + PENDING_TTL < clock.epoch():
        raise Gone("TOTP_NOT_STARTED", "Начните подключение заново: отсканируйте новый QR-код")
    step = totp_step(pending, code)
    if step is None:
        attempts = user.get("totp_pending_attempts", 0) + 1
        change = Change().set("totp_pending_attempts", attempts)
        if attempts >= MAX_FAILURES:
            change.remove("totp_pending")
        change.apply(Tx(), keys.user(user_id)).commit()
        raise _invalid()
    change = (Change().set("totp_secret", pending).set("totp_last_step", step).remove("totp_pending")
              .remove("totp_pending_at").remove("totp_pending_attempts")
              .require("{totp_pending} = :p", p=pending))
    codes = _with_backup_codes(user, change)
    tx = change.apply(Tx(), keys.user(user_id))
    journal.audit(tx, keys.user_pk(user_id), "mfa.enabled", user_id, origin.ip, method="totp")
    journal.emit(tx, events.MFA_CHANGED, keys.user_pk(user_id), _notice(user, "totp", True))
    try:
        tx.commit()
    except ConditionFailed:
        raise Conflict("CONFLICT", "Подключение уже завершено в другом запросе") from None
    return {"enabled": True, "backup_codes": codes}


def disable_totp(user_id: str, password: str, code: str, origin: Origin) -> None:
    user = load_user(user_id)
    guard(user)
    if not user.get("totp_secret"):
        raise Conflict("TOTP_NOT_ENABLED", "Вход через приложение не подключён")
    if not verify_password(user.get("password_hash"), password):
        _count_failure(user)
        raise Invalid("PASSWORD_INVALID", "Неверный пароль", {"password": "Неверный пароль"})
    change = Change()
    try:
        check_code(user, "totp", code, change)
    except DomainError:
        _count_failure(user)
        raise
    change.remove("totp_secret").set("mfa_failures", 0)
    if not user.get("mfa_sms"):
        change.remove("backup_hashes")
    tx = change.apply(Tx(), keys.user(user_id))
    journal.audit(tx, keys.user_pk(user_id), "mfa.disabled", user_id, origin.ip, method="totp")
    journal.emit(tx, events.MFA_CHANGED, keys.user_pk(user_id), _notice(user, "totp", False))
    tx.commit()


def send_sms_code(user_id: str, origin: Origin) -> dict[str, Any]:
    user = load_user(user_id)
    if not user.get("phone"):
        raise Unprocessable("PHONE_REQUIRED", "Сначала привяжите и подтвердите мобильный телефон")
    tx = Tx()
    answer = otp.issue(tx, keys.user_pk(user_id), "mfa_sms", "sms", user["phone"])
    journal.audit(tx, keys.user_pk(user_id), "mfa.sms_code_sent", user_id, origin.ip)
    otp.commit_issue(tx, origin.ip)
    return answer


def enable_sms(user_id: str, code: str, origin: Origin) -> dict[str, Any]:
    user = load_user(user_id)
    if not user.get("phone"):
        raise Unprocessable("PHONE_REQUIRED", "Сначала привяжите и подтвердите мобильный телефон")
    tx = Tx()
    otp.verify(keys.user_pk(user_id), "mfa_sms", code, tx, origin.ip)
    change = Change().set("mfa_sms", True)
    codes = _with_backup_codes(user, change)
    change.apply(tx, keys.user(user_id))
    journal.audit(tx, keys.user_pk(user_id), "mfa.enabled", user_id, origin.ip, method="sms")
    journal.emit(tx, events.MFA_CHANGED, keys.user_pk(user_id), _notice(user, "sms", True))
    tx.commit()
    return {"enabled": True, "backup_codes": codes}


def _notice(user: dict[str, Any], method: str, enabled: bool) -> dict[str, Any]:
    return {**contacts(user), "method": method, "enabled": enabled}


# -- the per-account budget of wrong codes -----------------------------------------------------------------
# A new sign-in challenge costs only the password, so each challenge's own 5 tries do not bound guessing. Every
# second-factor check at sign-in and recovery first spends one unit of the account's budget in the same
# conditional transaction that spends the challenge's try and charges the IP; a right code gives it back in
# its own transaction. So at most BUDGET codes are compared per window, whatever the concurrency; the next
# attempt blocks the second factor for BLOCK_SECONDS and tells the owner.

def charge_budget(tx: Tx, user_id: str) -> tuple[str, str]:
    now = clock.epoch()
    window = now - now % BUDGET_WINDOW
    key = keys.mfa_budget(user_id, window)
    tx.update(key, "SET n = if_not_exists(n, :z) + :one, #ttl = :ttl", cond="attribute_not_exists(n) OR n < :max",
              names={"#ttl": "ttl"}, values={":z": 0, ":one": 1, ":max": BUDGET, ":ttl": window + 2 * BUDGET_WINDOW},
              tag=BUDGET_TAG)
    return key


def spend_try(user: dict[str, Any], origin: Origin, tx: Tx | None = None) -> tuple[str, str]:
    """Spend one unit of the budget (with whatever else `tx` spends, and the IP) before a code is compared.
    Over the budget: blocked. Another condition of `tx` that fails is raised to the caller as it is."""
    guard(user)
    tx = tx or Tx()
    key = charge_budget(tx, user["user_id"])
    try:
        ratelimit.commit(tx, origin.ip)
    except ConditionFailed as exc:
        if exc.tag == BUDGET_TAG:
            raise block(user, origin) from None
        raise
    return key


def refund_budget(tx: Tx, key: tuple[str, str]) -> None:
    tx.update(key, "SET n = if_not_exists(n, :one) - :one, #ttl = if_not_exists(#ttl, :ttl)", names={"#ttl": "ttl"},
              values={":one": 1, ":ttl": clock.epoch() + 2 * BUDGET_WINDOW})


def block(user: dict[str, Any], origin: Origin) -> DomainError:
    """Block the second factor (sign-in and settings) and tell the owner, once per block."""
    now = clock.epoch()
    until = now + BLOCK_SECONDS
    tx = Change().set("mfa_blocked_until", until).require(
        "attribute_not_exists({mfa_blocked_until}) OR {mfa_blocked_until} <= :now", now=now
    ).apply(Tx(), keys.user(user["user_id"]))
    journal.audit(tx, keys.user_pk(user["user_id"]), events.MFA_BLOCKED.name, "system", origin.ip,
                  minutes=BLOCK_SECONDS // 60)
    journal.emit(tx, events.MFA_BLOCKED, keys.user_pk(user["user_id"]), {**contacts(user), "until": until,
                                                                          "ip": origin.ip})
    with contextlib.suppress(ConditionFailed):  # already blocked by a parallel attempt: one notice is enough
        tx.commit()
    return too_many("MFA_BLOCKED", "Слишком много неверных кодов подтверждения. Второй фактор заблокирован на "
                    f"{BLOCK_SECONDS // 60} минут, владельцу отправлено уведомление", BLOCK_SECONDS)
