"""The kinds of notice a person can tune (NT-3) and which events belong to each.

A notice's type comes from its event: `notice_type` in the payload when the producer says it (news, calendar),
otherwise the table below, otherwise "system". Security notices cannot be switched off: codes, sign-in alerts,
password and contact changes are how a person learns that someone else is in their account.
"""

from __future__ import annotations

from typing import Any, Literal

from chalicelib.events import catalog as events

NoticeType = Literal["security", "applications", "payments", "documents", "identity", "calendar", "news", "system"]
Channel = Literal["sms", "email", "push", "inbox"]
Frequency = Literal["immediately", "daily", "weekly"]

TITLES: dict[str, str] = {
    "security": "Безопасность и вход",
    "applications": "Заявления",
    "payments": "Платежи, штрафы и налоги",
    "documents": "Документы",
    "identity": "Учётная запись и проверка данных",
    "calendar": "Календарь и напоминания",
    "news": "Новости по подпискам",
    "system": "Системные сообщения",
}
CHANNEL_TITLES: dict[str, str] = {"sms": "SMS", "email": "Электронная почта", "push": "Push-уведомления",
                                  "inbox": "Сообщения в личном кабинете"}
CHANNELS: tuple[str, ...] = ("sms", "email", "push", "inbox")
OUTSIDE: tuple[str, ...] = ("sms", "email", "push")  # what frequency, filters and quiet hours act on
LOCKED = frozenset({"security"})
NIGHT_CHANNELS = frozenset({"sms", "push"})  # quiet hours hold these; e-mail and the inbox wait quietly anyway

_BY_EVENT: dict[str, str] = {
    **dict.fromkeys((e.name for e in (
        events.CODE_REQUESTED, events.ACCOUNT_CREATED, events.ACCOUNT_LOCKED, events.MFA_BLOCKED,
        events.LOGIN_NEW_DEVICE, events.LOGIN_REFUSED_IP, events.PASSWORD_CHANGED, events.PASSWORD_RESET,
        events.PASSWORD_EXPIRING, events.MFA_CHANGED, events.PASSKEY_CHANGED, events.SECURITY_NOT_ME,
        events.SECURITY_IP_ALLOWLIST, events.CONTACT_CHANGED, events.ACCOUNT_BLOCKED, events.ACCOUNT_UNBLOCKED,
        events.UNBLOCK_QUEUED, events.UNBLOCK_REJECTED, events.SECURITY_QUESTIONS_SET, events.ESIGN_BOUND,
        events.ESIGN_UNBOUND, events.IDENTITY_TRIED, events.CONTACT_UNREACHABLE)), "security"),
    **dict.fromkeys((e.name for e in (events.REQUEST_STATUS_CHANGED, events.REQUEST_COMMENT)), "applications"),
    **dict.fromkeys((e.name for e in (events.PAYMENT_SUCCEEDED, events.PAYMENT_FAILED, events.PAYMENT_REFUNDED,
                                      events.PAYMENT_DUE)), "payments"),
    **dict.fromkeys((e.name for e in (events.DOCUMENT_REJECTED, events.ESIGN_EXPIRING)), "documents"),
    **dict.fromkeys((e.name for e in (events.TIER_RAISED, events.CHECK_DELAYED, events.CHECK_FAILED,
                                      events.DATA_UPDATED)), "identity"),
}


def of(event: dict[str, Any]) -> str:
    data = event.get("data") or {}
    return data.get("notice_type") or _BY_EVENT.get(event["type"], "system")
