"""Sign-in (AU-1..AU-4, AU-9, AU-10): password, lockout, second factor, IP allowlist, new-device notice.

Step one (password) costs one Query when a second factor follows: the challenge is a signed token,
nothing is written. Step two reads the account and the challenge's state in one BatchGetItem and
writes the outcome in one transaction whose conditions re-check the lock, the challenge and the code.
"""

from __future__ import annotations

import hashlib
import hmac
import ipaddress
from typing import Any

from chalicelib.core import clock, tokens
from chalicelib.core.codes import code_matches
from chalicelib.core.errors import (
    Conflict,
    DomainError,
    Forbidden,
    Gone,
    Invalid,
    Locked,
    TooMany,
    Unauthorized,
    unauthorized,
)
from chalicelib.core.origin import Origin
from chalicelib.core.passwords import verify_password
from chalicelib.events import catalog as events
from chalicelib.identity import blocking, mfa, otp, passwords, ratelimit, sessions
from chalicelib.identity.contacts import classify_login
from chalicelib.identity.users import contacts
from chalicelib.store import journal, keys, table
from chalicelib.store.table import Change, ConditionFailed, Tx

MAX_FAILURES = 3
LOCK_SECONDS = 15 * 60
GHOST_TTL = 24 * 3600
CHALLENGE_TTL = 300
CHALLENGE_ATTEMPTS = 5
CHANGE_TOKEN_TTL = 15 * 60
_INDEX = {"phone": "ByPhone", "email": "ByEmail", "snils": "BySnils"}


def _invalid() -> DomainError:
    return Unauthorized("INVALID_CREDENTIALS", "Неверный логин или пароль")


def _locked(until: int) -> DomainError:
    return Locked("ACCOUNT_LOCKED", "Вход временно заблокирован после трёх неудачных попыток. "
                                           "Повторите позже или восстановите пароль",
                    locked_until=clock.iso(clock.from_epoch(until)))


def find_user(kind: str, value: str) -> dict[str, Any] | None:
    index = _INDEX.get(kind)
    if index is None:
        return None
    page = table.query(value, index=index, limit=1, newest_first=False)
    return next((item for item in page.items if item["sk"] == "PROFILE"), None)


def ip_allowed(user: dict[str, Any], ip: str | None) -> bool:
    cidrs = user.get("ip_allowlist") or []
    if not cidrs:
        return True
    try:
        address = ipaddress.ip_address(ip or "")
    except ValueError:
        return False
    return any(address in ipaddress.ip_network(c) for c in cidrs)


def _ghost_failure(kind: str, value: str, origin: Origin) -> DomainError:
    """Unknown logins count failures and lock too, so 401/423 reveal nothing about who is registered."""
    now = clock.epoch()
    key = keys.login_ghost(kind, value)
    ghost = table.get(key) or {}
    if (ghost.get("locked_until") or 0) > now:
        ratelimit.charge_now(origin.ip)
        return _locked(ghost["locked_until"])
    count = ghost.get("failed_logins", 0) + 1
    lock = count >= MAX_FAILURES
    change = Change().set("failed_logins", 0 if lock else count).set("ttl", now + GHOST_TTL)
    if lock:
        change.set("locked_until", now + LOCK_SECONDS)
    ratelimit.commit(change.apply(Tx(), key), origin.ip)
    return _locked(now + LOCK_SECONDS) if lock else _invalid()


def login(login_text: str, password: str, origin: Origin) -> dict[str, Any]:
    now = clock.epoch()
    found = classify_login(login_text)
    user = find_user(*found) if found else None
    if user is None:
        verify_password(None, password)
        if found:
            raise _ghost_failure(found[0], found[1], origin)
        ratelimit.charge_now(origin.ip)
        raise _invalid()
    locked_until = user.get("locked_until") or 0
    if locked_until > now:
        _record_refused(user, origin, "locked", "login.refused_locked")
        raise _locked(locked_until)
    if not verify_password(user.get("password_hash"), password):
        raise _fail(user, origin, user.get("failed_logins", 0), now)
    if not ip_allowed(user, origin.ip):
        _record_refused(user, origin, "ip_not_allowed", events.LOGIN_REFUSED_IP.name, notify=events.LOGIN_REFUSED_IP)
        raise Forbidden("IP_NOT_ALLOWED", "Вход с этого IP-адреса запрещён настройками безопасности")
    if blocking.is_blocked(user):  # only now: the refusal (and its unblock token) is for the password's holder
        _record_refused(user, origin, "blocked", "login.refused_blocked")
        raise blocking.refusal(user)
    methods = mfa.sign_in_methods(user)
    if methods:
        claims = {"methods": methods, "phone": user.get("phone") if "sms" in methods else None}
        challenge, _ = tokens.issue_purpose(user["user_id"], "mfa", CHALLENGE_TTL, **claims)
        return {"mfa_required": True, "challenge_id": challenge, "methods": methods, "expires_in": CHALLENGE_TTL}
    return _finish(Tx(), Change(), user, origin, None)


def _finish(tx: Tx, change: Change, user: dict[str, Any], origin: Origin, mfa_method: str | None,
            method: str = "password") -> dict[str, Any]:
    """The password (and factor) are right: open a session, or hand out a change token if the password
    must be changed first. One transaction; its conditions re-check the lock and the single-use codes.
    `method`: how the person signed in (a passkey alone: identity/passkeys.py)."""
    user_id = user["user_id"]
    now = clock.epoch()
    change.set("failed_logins", 0).set("mfa_failures", 0).remove("locked_until").require(
        "attribute_not_exists({locked_until}) OR {locked_until} <= :now", now=now)
    must_change = user.get("must_change_password") or passwords.is_expired(user)
    if must_change:
        result: dict[str, Any] = _change_token(user)
        journal.audit(tx, keys.user_pk(user_id), "login.password_change_required", user_id, origin.ip,
                      reason=result["reason"])
    else:
        fp = sessions.fingerprint(origin)
        known = user.get("known_devices") or []
        change.set("known_devices", [fp, *known][:sessions.KNOWN_DEVICES])
        result = sessions.open_session(tx, user, origin, method, mfa_method)
        journal.audit(tx, keys.user_pk(user_id), events.LOGIN_SUCCEEDED.name, user_id, origin.ip, mfa=mfa_method)
        journal.emit(tx, events.LOGIN_SUCCEEDED, keys.user_pk(user_id), {"user_id": user_id, "ip": origin.ip})
        if fp not in known:
            journal.emit(tx, events.LOGIN_NEW_DEVICE, keys.user_pk(user_id), {
                **contacts(user), "ip": origin.ip, "device": fp.split("|", 1)[1].replace("|", ", "),
                "at": clock.iso(clock.now())})
    change.apply(tx, keys.user(user_id), tag="user")
    try:
        ratelimit.commit(tx, origin.ip)
    except ConditionFailed as exc:
        old = exc.old or {}
        if exc.tag == "user" and (old.get("locked_until") or 0) > now:
            raise _locked(old["locked_until"]) from None
        if exc.tag == "challenge":
            raise Unauthorized("CHALLENGE_INVALID", "Этот вход уже подтверждён, войдите снова") from None
        if exc.tag == "passkey":  # its challenge already answered, or the sign count moved meanwhile
            raise Unauthorized("PASSKEY_INVALID", "Ключ доступа не подтвердил вход, попробуйте снова") from None
        if exc.tag == "code_used" or mfa_method in ("totp", "backup"):
            raise Invalid("CODE_REUSED", "Код уже использован, введите новый",
                           {"code": "Код уже использован"}) from None
        raise Conflict("CONFLICT", "Данные учётной записи изменились, войдите снова") from None
    return result


def _change_token(user: dict[str, Any]) -> dict[str, Any]:
    reason = "not_me" if user.get("must_change_password") else "expired"
    token, _ = tokens.issue_purpose(user["user_id"], "password_change", CHANGE_TOKEN_TTL,
                                    pwd=_password_tag(user))
    return {"password_expired": True, "reason": reason, "change_token": token, "expires_in": CHANGE_TOKEN_TTL}


def _password_tag(user: dict[str, Any]) -> str:
    """Binds a change token to the password it replaces, so it works once; reveals nothing of the hash."""
    return hashlib.sha256(user["password_hash"].encode()).hexdigest()[:16]


def _challenge(challenge_id: str) -> dict[str, Any]:
    claims = tokens.verify_purpose(challenge_id, "mfa")
    if claims is None:
        raise Unauthorized("CHALLENGE_INVALID", "Время на подтверждение входа истекло, войдите снова")
    return claims


def login_mfa(challenge_id: str, method: str, code: str, origin: Origin) -> dict[str, Any]:
    """Step two. The try is spent before the code is compared — the challenge's own (5), the account's budget
    across challenges (mfa.BUDGET) and the IP's — in one conditional transaction, so no burst of requests,
    parallel or in sequence over new challenges, gets more comparisons than that. A request refused before
    that point is charged to the IP all the same, like the rest of /auth/*."""
    try:
        claims, user, state, sms = _second_step(challenge_id, method, code)
    except DomainError:
        ratelimit.charge_now(origin.ip)
        raise
    budget = _spend_try(claims, user, origin)
    tx = Tx()
    change = Change()
    try:
        if method == "sms":
            _check_sms(sms, code, tx)
        else:
            mfa.check_code(user, method, code, change)
    except DomainError as exc:
        if exc.code in ("CODE_INVALID", "CODE_REUSED"):
            _record_challenge_failure(user, origin, method)
            exc.extra["attempts_left"] = max(0, CHALLENGE_ATTEMPTS - state.get("attempts", 0) - 1)
        raise
    pk, sk = keys.mfa_challenge(claims["jti"])
    tx.update((pk, sk), "SET used = :yes", cond="attribute_not_exists(used)", values={":yes": True},
              tag="challenge")
    mfa.refund_budget(tx, budget)
    return _finish(tx, change, user, origin, method)


def finish(tx: Tx, user: dict[str, Any], origin: Origin, mfa_method: str | None, method: str) -> dict[str, Any]:
    """The passkey flows' way to the same ending as a password (identity/passkeys.py)."""
    return _finish(tx, Change(), user, origin, mfa_method, method)


def passkey_options(challenge_id: str) -> dict[str, Any]:
    """A passkey as the second factor: options for this sign-in challenge (allowCredentials: the account's)."""
    from chalicelib.identity import passkeys

    claims = _challenge(challenge_id)
    user = table.get(keys.user(claims["sub"]))
    if user is None or "passkey" not in mfa.sign_in_methods(user):
        raise Invalid("MFA_METHOD_UNAVAILABLE", "Вход с ключом доступа не подключён", {"method": "Способ не подключён"})
    return passkeys.authentication_options(keys.passkey_challenge(claims["jti"], user["user_id"]), user["user_id"])


def login_passkey(challenge_id: str, credential: dict[str, Any], origin: Origin) -> dict[str, Any]:
    """Step two with a passkey: the same tries as a code (the challenge's, the account's budget, the IP's), then
    the assertion; the challenge is marked used in the transaction that opens the session."""
    from chalicelib.identity import passkeys

    try:
        claims = _challenge(challenge_id)
        user, state = table.get_many([keys.user(claims["sub"]), keys.mfa_challenge(claims["jti"])])
        if user is None:
            raise unauthorized()
        if (state or {}).get("used"):
            raise Unauthorized("CHALLENGE_INVALID", "Этот вход уже подтверждён, войдите снова")
        if "passkey" not in mfa.sign_in_methods(user):
            raise Invalid("MFA_METHOD_UNAVAILABLE", "Вход с ключом доступа не подключён",
                          {"method": "Способ не подключён"})
        mfa.guard(user)
    except DomainError:
        ratelimit.charge_now(origin.ip)
        raise
    budget = _spend_try(claims, user, origin)
    try:
        tx, _ = passkeys.check_assertion(keys.passkey_challenge(claims["jti"], user["user_id"]), credential,
                                         user["user_id"], False, origin)
    except DomainError:
        _record_challenge_failure(user, origin, "passkey")
        raise
    pk, sk = keys.mfa_challenge(claims["jti"])
    tx.update((pk, sk), "SET used = :yes", cond="attribute_not_exists(used)", values={":yes": True},
              tag="challenge")
    mfa.refund_budget(tx, budget)
    return _finish(tx, Change(), user, origin, "passkey")


def _second_step(challenge_id: str, method: str, code: str) -> tuple[Any, ...]:
    """What step two checks before it may spend a try."""
    claims = _challenge(challenge_id)
    owner = keys.mfa_pk(claims["jti"])
    user, state, sms = table.get_many([keys.user(claims["sub"]), keys.mfa_challenge(claims["jti"]),
                                       keys.code(owner, "mfa_login")])
    if user is None:
        raise unauthorized()
    state = state or {}
    if state.get("used"):
        raise Unauthorized("CHALLENGE_INVALID", "Этот вход уже подтверждён, войдите снова")
    if method not in mfa.methods(user):
        raise Invalid("MFA_METHOD_UNAVAILABLE", "Этот способ подтверждения не подключён",
                      {"method": "Способ не подключён"})
    if not code:
        raise Invalid("CODE_REQUIRED", "Введите код подтверждения", {"code": "Обязательное поле"})
    mfa.guard(user)
    return claims, user, state, sms


def _spend_try(claims: dict[str, Any], user: dict[str, Any], origin: Origin) -> tuple[str, str]:
    pk, sk = keys.mfa_challenge(claims["jti"])
    tx = Tx().update((pk, sk), "SET attempts = if_not_exists(attempts, :z) + :one, #ttl = :ttl",
                     cond="attribute_not_exists(used) AND (attribute_not_exists(attempts) OR attempts < :max)",
                     names={"#ttl": "ttl"}, values={":z": 0, ":one": 1, ":ttl": claims["exp"] + 60,
                                                    ":max": CHALLENGE_ATTEMPTS}, tag="challenge")
    try:
        return mfa.spend_try(user, origin, tx)
    except ConditionFailed as exc:
        if (exc.old or {}).get("used"):
            raise Unauthorized("CHALLENGE_INVALID", "Этот вход уже подтверждён, войдите снова") from None
        raise TooMany("CODE_ATTEMPTS_EXCEEDED", "Превышено число попыток, войдите снова", retry_after=1) from None


def _check_sms(item: dict[str, Any] | None, code: str, tx: Tx) -> None:
    """The challenge's SMS code: its tries are the challenge's, already spent; consumed by the sign-in."""
    if not item or not code_matches(code, item["code_salt"], item["code_hash"]):
        raise Invalid("CODE_INVALID", "Неверный код", {"code": "Неверный код"})
    if clock.epoch() >= item["expires_at"]:
        raise Gone("CODE_EXPIRED", "Срок действия кода истёк, запросите новый код")
    tx.delete(keys.code(item["pk"], "mfa_login"), cond="code_hash = :h", values={":h": item["code_hash"]},
              tag="code_used")


def _record_challenge_failure(user: dict[str, Any], origin: Origin, method: str) -> None:
    tx = Tx()
    sessions.record_login(tx, user["user_id"], origin, "password", "failure", method)
    journal.audit(tx, keys.user_pk(user["user_id"]), "login.mfa_failed", "anonymous", origin.ip, method=method)
    tx.commit()


def send_login_sms(challenge_id: str, origin: Origin) -> dict[str, Any]:
    claims = _challenge(challenge_id)
    if "sms" not in claims.get("methods", []) or not claims.get("phone"):
        raise Invalid("MFA_METHOD_UNAVAILABLE", "Вход по SMS не подключён")
    tx = Tx()
    answer = otp.issue(tx, keys.mfa_pk(claims['jti']), "mfa_login", "sms", claims["phone"])
    otp.commit_issue(tx, origin.ip)
    return answer


def change_expired(change_token: str, new: str, repeat: str, origin: Origin) -> dict[str, Any]:
    """AU-3: the only thing a change token allows; the new password signs the person in."""
    claims = tokens.verify_purpose(change_token, "password_change")
    user = table.get(keys.user(claims["sub"])) if claims else None
    if not claims or not user or not hmac.compare_digest(_password_tag(user), claims.get("pwd", "")):
        raise Unauthorized("CHANGE_TOKEN_INVALID", "Ссылка для смены пароля недействительна, войдите снова")
    passwords.check_new(user, new, repeat)
    tx = Tx()
    change = passwords.set_password(Change(), user, new, tx=tx)
    journal.audit(tx, keys.user_pk(user['user_id']), events.PASSWORD_CHANGED.name, user["user_id"], origin.ip,
                  reason="expired")
    journal.emit(tx, events.PASSWORD_CHANGED, keys.user_pk(user['user_id']), {**contacts(user), "ip": origin.ip})
    fresh = {**user, "must_change_password": False, "password_changed_at": clock.epoch()}
    return _finish(tx, change, fresh, origin, None)


def _record_refused(user: dict[str, Any], origin: Origin, result: str, action: str,
                    notify: events.EventType | None = None) -> None:
    tx = Tx()
    sessions.record_login(tx, user["user_id"], origin, "password", result)
    journal.audit(tx, keys.user_pk(user['user_id']), action, "anonymous", origin.ip)
    if notify:
        journal.emit(tx, notify, keys.user_pk(user['user_id']), {**contacts(user), "ip": origin.ip,
                                                               "at": clock.iso(clock.now())})
    ratelimit.commit(tx, origin.ip)


def _fail(user: dict[str, Any], origin: Origin, seen: int, now: int) -> DomainError:
    """Count the failure with a condition on the count we read; a lost race re-reads the account.

    Locking resets the counter, so once a lock has passed the person again has three tries.
    """
    user_id = user["user_id"]
    for _ in range(3):
        count = seen + 1
        lock = count >= MAX_FAILURES
        change = Change().set("failed_logins", 0 if lock else count).require("{failed_logins} = :seen", seen=seen)
        if lock:
            change.set("locked_until", now + LOCK_SECONDS)
        tx = change.apply(Tx(), keys.user(user_id), tag="user")
        sessions.record_login(tx, user_id, origin, "password", "failure")
        journal.audit(tx, keys.user_pk(user_id), events.LOGIN_FAILED.name, "anonymous", origin.ip, consecutive=count)
        journal.emit(tx, events.LOGIN_FAILED, keys.user_pk(user_id),
                     {"user_id": user_id, "ip": origin.ip, "count": count})
        if lock:
            journal.audit(tx, keys.user_pk(user_id), events.ACCOUNT_LOCKED.name, "system", origin.ip,
                          minutes=LOCK_SECONDS // 60)
            journal.emit(tx, events.ACCOUNT_LOCKED, keys.user_pk(user_id),
                         {**contacts(user), "until": now + LOCK_SECONDS, "ip": origin.ip})
        try:
            ratelimit.commit(tx, origin.ip)
        except ConditionFailed:
            fresh = table.get(keys.user(user_id)) or {}
            if (fresh.get("locked_until") or 0) > now:
                return _locked(fresh["locked_until"])
            seen = fresh.get("failed_logins", 0)
            continue
        return _locked(now + LOCK_SECONDS) if lock else _invalid()
    return _invalid()
