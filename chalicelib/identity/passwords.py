"""Password lifecycle (AU-3, AU-7, AU-8): policy, no reuse of the last 5, 90-day expiry, change, notices."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from chalicelib.calendar import items as calendar_items
from chalicelib.core import clock
from chalicelib.core.errors import Invalid
from chalicelib.core.origin import Origin
from chalicelib.core.passwords import hash_password, verify_password
from chalicelib.events import catalog as events
from chalicelib.identity import otp, sessions
from chalicelib.identity.password_policy import check_password
from chalicelib.identity.users import code_channel, contacts, load_user
from chalicelib.store import journal, keys, table
from chalicelib.store.table import Change, ConditionFailed, Tx

MAX_AGE_DAYS = 90
REMIND_DAYS_BEFORE = 7
REMEMBERED = 5  # the current password and the four before it


def expires_at(user: dict[str, Any]) -> int:
    return user["password_changed_at"] + MAX_AGE_DAYS * 86400


def is_expired(user: dict[str, Any]) -> bool:
    return clock.epoch() >= expires_at(user)


def reminder_day(changed_at: int) -> str:
    """The day the 'expires in 7 days' notice is due: the sparse GSI1 key the daily schedule reads."""
    day = clock.from_epoch(changed_at) + timedelta(days=MAX_AGE_DAYS - REMIND_DAYS_BEFORE)
    return day.strftime("%Y-%m-%d")


def password_fields(user_id: str, password: str) -> dict[str, Any]:
    """Attributes a newly set password puts on the user item (account creation uses them too)."""
    now = clock.epoch()
    return {"password_hash": hash_password(password), "password_changed_at": now,
            "gsi1pk": keys.password_reminders(reminder_day(now)), "gsi1sk": user_id}


def personal_numbers(user: dict[str, Any]) -> list[str | None]:
    """The personal numbers a password must not contain (ID-4): SNILS and passport series and number."""
    passport = user.get("passport") or {}
    return [user.get("snils"), (passport.get("series") or "") + (passport.get("number") or "")]


def check_new(user: dict[str, Any], password: str, repeat: str) -> None:
    """Policy (ID-4) plus no reuse of the last five passwords; every reason reported."""
    reasons = check_password(password, repeat, names=(user["last_name"], user["first_name"], user.get("middle_name")),
                             phone=user.get("phone"), birth_date=user.get("birth_date"),
                             numbers=personal_numbers(user))
    previous = [user.get("password_hash"), *user.get("password_history", [])][:REMEMBERED]
    if any(h and verify_password(h, password) for h in previous):
        reasons.append("Пароль совпадает с одним из пяти последних")
    if reasons:
        raise Invalid("PASSWORD_POLICY", "Пароль не соответствует требованиям", {"password": reasons})


def calendar_expiry(tx: Tx, user_id: str, changed_at: int, previous: int | None = None) -> None:
    """NT-5: the password's expiry (a moment) in the calendar; a new password moves it."""
    moment = clock.iso(clock.from_epoch(changed_at + MAX_AGE_DAYS * 86400))
    old = calendar_items.moscow_day(clock.iso(clock.from_epoch(previous + MAX_AGE_DAYS * 86400))) \
        if previous else None
    calendar_items.move(tx, user_id, "password", "password", old, calendar_items.moscow_day(moment),
                        "Пароль учётной записи", "/security", at=moment)


def set_password(change: Change, user: dict[str, Any], password: str, *, tx: Tx) -> Change:
    """Add the new password (and the shifted history) to `change`; the old hash must still be current. The
    calendar's expiry item moves in `tx`, the transaction `change` will be applied to."""
    fields = password_fields(user["user_id"], password)
    for attr, value in fields.items():
        change.set(attr, value)
    if user.get("role", "citizen") == "citizen":
        calendar_expiry(tx, user["user_id"], fields["password_changed_at"], user.get("password_changed_at"))
    history = [user["password_hash"], *user.get("password_history", [])][:REMEMBERED - 1]
    return (change.set("password_history", history).remove("must_change_password").remove("pw_reminded")
            .require("{password_hash} = :old", old=user["password_hash"]))


def send_change_code(user_id: str, origin: Origin) -> dict[str, Any]:
    user = load_user(user_id)
    channel, to = code_channel(user)
    tx = Tx()
    answer = otp.issue(tx, keys.user_pk(user_id), "password_change", channel, to)
    journal.audit(tx, keys.user_pk(user_id), "password.code_sent", user_id, origin.ip)
    otp.commit_issue(tx, origin.ip)
    return answer


def change(user_id: str, session_id: str, current: str, new: str, repeat: str, code: str,
           origin: Origin) -> dict[str, Any]:
    """AU-8: current password, new one twice, a code; then every other session ends."""
    user = load_user(user_id)
    if not verify_password(user["password_hash"], current):
        raise Invalid("PASSWORD_INVALID", "Текущий пароль введён неверно",
                       {"current_password": "Неверный пароль"})
    check_new(user, new, repeat)
    tx = Tx()
    otp.verify(keys.user_pk(user_id), "password_change", code, tx, origin.ip)
    set_password(Change(), user, new, tx=tx).apply(tx, keys.user(user_id))
    ended = sessions.revoke_others(tx, user_id, session_id, "password_changed")
    journal.audit(tx, keys.user_pk(user_id), events.PASSWORD_CHANGED.name, user_id, origin.ip, sessions_ended=ended)
    journal.emit(tx, events.PASSWORD_CHANGED, keys.user_pk(user_id), {**contacts(user), "ip": origin.ip})
    tx.commit()
    return {"changed": True, "sessions_ended": ended}


def remind_expiring() -> int:
    """Daily: tell everyone whose password expires in 7 days (yesterday's run is re-read in case it
    was missed); a condition on the user item makes each reminder go out once."""
    return sum(_remind(user, key) for key, user in table.due_by_day(keys.password_reminders, clock.now()))


def _remind(user: dict[str, Any], key: str) -> int:
    tx = (Change().set("pw_reminded", key).require("{gsi1pk} = :k", k=key)
          .require("attribute_not_exists({pw_reminded}) OR {pw_reminded} <> :k2", k2=key)
          .apply(Tx(), keys.user(user["user_id"])))
    journal.emit(tx, events.PASSWORD_EXPIRING, keys.user_pk(user['user_id']),
                 {**contacts(user), "expires_at": expires_at(user)})
    try:
        tx.commit()
    except ConditionFailed:
        return 0
    return 1
