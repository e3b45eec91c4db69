"""Security settings (AU-3, AU-4, AU-9, AU-10): the summary, the IP allowlist, "not me"."""

from __future__ import annotations

import ipaddress
from typing import Any

from chalicelib.core import clock
from chalicelib.core.errors import Conflict, Invalid, not_found
from chalicelib.core.ids import is_id
from chalicelib.core.origin import Origin
from chalicelib.events import catalog as events
from chalicelib.identity import blocking, mfa, otp, passwords, sessions
from chalicelib.identity.users import code_channel, contacts, load_user
from chalicelib.store import journal, keys, table
from chalicelib.store.table import Change, ConditionFailed, Tx

MAX_CIDRS = 20


def summary(user_id: str) -> dict[str, Any]:
    user = load_user(user_id)
    methods = mfa.methods(user)
    return {"factors": {"totp": "totp" in methods, "sms": "sms" in methods},
            "backup_codes_left": len(user.get("backup_hashes") or ()),
            "password_changed_at": clock.iso(clock.from_epoch(user["password_changed_at"])),
            "password_expires_at": clock.iso(clock.from_epoch(passwords.expires_at(user))),
            "ip_allowlist": user.get("ip_allowlist") or []}


def normalize_cidrs(cidrs: list[str]) -> list[str]:
    if len(cidrs) > MAX_CIDRS:
        raise Invalid("VALIDATION_ERROR", f"Не более {MAX_CIDRS} адресов", {"cidrs": "Слишком много адресов"})
    out, bad = [], {}
    for i, text in enumerate(cidrs):
        try:
            out.append(str(ipaddress.ip_network(text.strip(), strict=False)))
        except ValueError:
            bad[f"cidrs.{i}"] = "Укажите IP-адрес или сеть, например 203.0.113.7 или 203.0.113.0/24"
    if bad:
        raise Invalid("VALIDATION_ERROR", "Проверьте адреса", bad)
    return sorted(set(out))


def send_allowlist_code(user_id: str, origin: Origin) -> dict[str, Any]:
    user = load_user(user_id)
    channel, to = code_channel(user)
    tx = Tx()
    answer = otp.issue(tx, keys.user_pk(user_id), "ip_allowlist", channel, to)
    otp.commit_issue(tx, origin.ip)
    return answer


def set_allowlist(user_id: str, cidrs: list[str], code: str, origin: Origin) -> dict[str, Any]:
    networks = normalize_cidrs(cidrs)
    user = load_user(user_id)
    tx = Tx()
    otp.verify(keys.user_pk(user_id), "ip_allowlist", code, tx, origin.ip)
    Change().set("ip_allowlist", networks or None).apply(tx, keys.user(user_id))
    journal.audit(tx, keys.user_pk(user_id), events.SECURITY_IP_ALLOWLIST.name, user_id, origin.ip, cidrs=networks)
    journal.emit(tx, events.SECURITY_IP_ALLOWLIST, keys.user_pk(user_id), {**contacts(user), "cidrs": networks})
    tx.commit()
    return {"ip_allowlist": networks}


def not_me(user_id: str, login_event_id: str, origin: Origin, block: bool = False) -> dict[str, Any]:
    """AU-9: a sign-in the owner does not recognise ends every session and forces a new password; AU-12: with
    `block` the owner also blocks the account (unblocking then needs the passport copy and the questions)."""
    user = load_user(user_id)
    if block and blocking.is_blocked(user):
        raise Conflict("ALREADY_BLOCKED", "Учётная запись уже заблокирована")
    event = table.get(keys.login_event(user_id, login_event_id)) if is_id(login_event_id) else None
    if not event:
        raise not_found("Запись истории входов", feminine=True)
    tx = Tx()
    ended = sessions.revoke_others(tx, user_id, None, "not_me")
    change = Change().set("must_change_password", True)
    tx.update(keys.login_event(user_id, login_event_id), "SET flagged_not_me = :t", values={":t": True})
    journal.audit(tx, keys.user_pk(user_id), events.SECURITY_NOT_ME.name, user_id, origin.ip,
                  login_event=login_event_id,
                  sessions_ended=ended)
    journal.emit(tx, events.SECURITY_NOT_ME, keys.user_pk(user_id), {**contacts(user), "ip": event.get("ip")})
    if block:
        blocking.add_block(tx, user, by="owner", actor=user_id, reason="Владелец отметил вход как чужой",
                           ip=origin.ip, change=change)
    else:
        change.apply(tx, keys.user(user_id))
    try:
        tx.commit()
    except ConditionFailed as exc:
        if exc.tag == "user":
            raise Conflict("ALREADY_BLOCKED", "Учётная запись уже заблокирована") from None
        raise Conflict("CONFLICT", "Сеансы изменились во время запроса, повторите действие") from None
    return {"sessions_ended": ended, "password_change_required": True, "blocked": block}
