"""Key builders: the one place that knows how items are addressed (docs/access-patterns.md)."""

from __future__ import annotations

Key = tuple[str, str]


def user(user_id: str) -> Key:
    return f"USER#{user_id}", "PROFILE"


def login_alias(kind: str, value: str) -> Key:
    """Uniqueness guard for a login (phone, email, snils): one account per contact (ID-5)."""
    return f"LOGIN#{kind}#{value}", "LOGIN"


def login_ghost(kind: str, value: str) -> Key:
    """Failure counter for a login with no account, so lockouts look the same for everyone."""
    return f"GHOST#{kind}#{value}", "LOCK"


def registration(registration_id: str) -> Key:
    return f"REG#{registration_id}", "REG"


def session(user_id: str, session_id: str) -> Key:
    return f"USER#{user_id}", f"SESSION#{session_id}"


def login_event(user_id: str, event_id: str) -> Key:
    return f"USER#{user_id}", f"LOGIN#{event_id}"


def audit(subject: str, entry_id: str) -> Key:
    return subject, f"AUDIT#{entry_id}"


def outbox(event_id: str) -> Key:
    return f"OUTBOX#{event_id}", "OUTBOX"


def processed(event_id: str, consumer: str) -> Key:
    return f"EVENT#{event_id}", f"DONE#{consumer}"


def dev_message(to: str, message_id: str) -> Key:
    return f"DEVMSG#{to}", f"MSG#{message_id}"


def rate(ip: str, window: int) -> Key:
    return f"RATE#{ip}", f"W#{window}"


def code(owner: str, purpose: str) -> Key:
    """A one-time code for `purpose`, kept under its owner (USER#…, MFA#…, RECOVERY#…)."""
    return owner, f"CODE#{purpose}"


def recovery(recovery_id: str) -> Key:
    return f"RECOVERY#{recovery_id}", "RECOVERY"


def mfa_challenge(challenge_id: str) -> Key:
    return f"MFA#{challenge_id}", "MFA"
