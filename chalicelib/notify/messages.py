"""Which messages a domain event sends, to whom and through which channel (NT-2)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Protocol

from chalicelib.core import clock
from chalicelib.events import catalog as events


@dataclass(frozen=True)
class Message:
    channel: str  # sms | email | post (a registered letter to the address in `to`) | inbox (user id in `to`)
    to: str
    template: str
    context: dict[str, Any]


class Lookups(Protocol):
    """What a rule may ask the table while deciding where a notice goes."""

    def login_taken(self, kind: str, value: str) -> bool: ...

    def contacts(self, user_id: str) -> dict[str, Any] | None: ...


Rule = Callable[[dict[str, Any], Lookups], list[Message]]

# A code that would bind a login someone already has goes nowhere; its owner gets this notice instead.
_TAKEN_NOTICE = {"registration": "registration_existing", "contact_phone": "contact_taken",
                 "contact_email": "contact_taken"}


def _contacts(data: dict[str, Any]) -> list[tuple[str, str]]:
    out = []
    if data.get("phone"):
        out.append(("sms", data["phone"]))
    if data.get("email"):
        out.append(("email", data["email"]))
    return out


def _code(data: dict[str, Any], lookups: Lookups) -> list[Message]:
    purpose = data["purpose"]
    template = data.get("notice") or "code"
    if data.get("guard_kind") and lookups.login_taken(data["guard_kind"], data["guard_value"]):
        template = _TAKEN_NOTICE[purpose]
    return [Message(data["channel"], data["to"], template, data)]


def _to_contact(template: str) -> Rule:
    """A notice to the one contact named in the event (`channel`, `to`)."""
    return lambda data, _: [Message(data["channel"], data["to"], template, data)]


def _to_owner(template: str, **extra: Callable[[dict[str, Any]], Any]) -> Rule:
    """A notice to every confirmed contact of the account (phone by SMS, e-mail by e-mail)."""
    def rule(data: dict[str, Any], _: Lookups) -> list[Message]:
        ctx = {**data, **{k: f(data) for k, f in extra.items()}}
        return [Message(channel, to, template, ctx) for channel, to in _contacts(data)]
    return rule


def _moscow(field: str) -> Callable[[dict[str, Any]], str]:
    def fmt(data: dict[str, Any]) -> str:
        value = data[field]
        moment = clock.from_epoch(value) if isinstance(value, int) else clock.from_iso(value)
        return clock.ru(moment)
    return fmt


def _to_user(template: str, **extra: Callable[[dict[str, Any]], Any]) -> Rule:
    """NT-1, NT-2: the in-app inbox plus every confirmed contact, looked up by the worker (the API request
    that caused the event need not read the account)."""
    def rule(data: dict[str, Any], lookups: Lookups) -> list[Message]:
        user = lookups.contacts(data["user_id"])
        if user is None:
            return []
        ctx = {**data, "first_name": user["first_name"], **{k: f(data) for k, f in extra.items()}}
        return [Message("inbox", data["user_id"], template, ctx),
                *(Message(channel, to, template, ctx) for channel, to in _contacts(user))]
    return rule


def _rub(data: dict[str, Any]) -> str:
    from chalicelib.payments.money import rub

    return rub(data["amount"])


def _contact_changed(data: dict[str, Any], _: Lookups) -> list[Message]:
    """AU-11: both the old and the new contact hear about the change."""
    channel = "sms" if data["kind"] == "phone" else "email"
    out = [Message(channel, data["new"], "contact_changed", data)]
    if data.get("old"):
        out.append(Message(channel, data["old"], "contact_changed", data))
    return out


def _inbox_only(template: str) -> Rule:
    """A notice for the account's inbox alone (a contact that cannot be reached cannot be told there)."""
    def rule(data: dict[str, Any], _: Lookups) -> list[Message]:
        return [Message("inbox", data["user_id"], template, data)]
    return rule


def _type_title(data: dict[str, Any]) -> str:
    from chalicelib.notify.types import TITLES

    return TITLES.get(data["notice_type"], data["notice_type"])


def _digest(data: dict[str, Any], lookups: Lookups) -> list[Message]:
    """One digest through the channels its held notices would have used."""
    user = lookups.contacts(data["user_id"])
    if user is None:
        return []
    ctx = {**data, "first_name": user["first_name"]}
    out = [Message(channel, to, "digest", ctx) for channel, to in _contacts(user) if channel in data["channels"]]
    if "push" in data["channels"]:
        out.append(Message("push", data["user_id"], "digest", ctx))
    return out
# -- push devices (NF-3): how a notice names a device's platform --
PLATFORM_NAMES = {"apns": "iPhone или iPad", "fcm": "Android"}


def _platform(data: dict[str, Any]) -> str:
    return PLATFORM_NAMES.get(data["platform"], "")


RULES: dict[str, Rule] = {
    events.CODE_REQUESTED.name: _code,
    events.ACCOUNT_CREATED.name: _to_contact("account_created"),
    events.ACCOUNT_LOCKED.name: _to_owner("account_locked", until=_moscow("until")),
    events.MFA_BLOCKED.name: _to_owner("mfa_blocked", until=_moscow("until")),
    events.LOGIN_NEW_DEVICE.name: _to_owner("login_new_device", when=_moscow("at")),
    events.LOGIN_REFUSED_IP.name: _to_owner("login_refused_ip", when=_moscow("at")),
    events.PASSWORD_CHANGED.name: _to_owner("password_changed"),
    events.PASSWORD_RESET.name: _to_owner("password_changed"),
    events.PASSWORD_EXPIRING.name: _to_owner("password_expiring", until=_moscow("expires_at")),
    events.MFA_CHANGED.name: _to_owner("mfa_changed"),
    events.PASSKEY_CHANGED.name: _to_user("passkey_changed"),
    events.SECURITY_NOT_ME.name: _to_owner("not_me"),
    events.SECURITY_IP_ALLOWLIST.name: _to_owner("ip_allowlist_changed"),
    events.CONTACT_CHANGED.name: _contact_changed,
    events.DOCUMENT_REJECTED.name: _to_owner("document_rejected"),
    events.REQUEST_STATUS_CHANGED.name: _to_user("request_status"),
    events.REQUEST_COMMENT.name: _to_user("request_comment"),
    events.TIER_RAISED.name: _to_user("tier_raised"),
    events.ACCOUNT_BLOCKED.name: _to_owner("account_blocked"),
    events.ACCOUNT_UNBLOCKED.name: _to_owner("account_unblocked"),
    events.UNBLOCK_QUEUED.name: _to_owner("unblock_queued"),
    events.UNBLOCK_REJECTED.name: _to_owner("unblock_rejected"),
    events.SECURITY_QUESTIONS_SET.name: _to_owner("security_questions_set"),
    events.CHECK_DELAYED.name: _to_user("identity_check_delayed"),
    events.CHECK_FAILED.name: _to_user("identity_check_failed"),
    events.DATA_UPDATED.name: _to_user("identity_data_updated"),
    events.IDENTITY_TRIED.name: _to_user("identity_number_tried"),
    events.ESIGN_BOUND.name: _to_user("esign_bound"),
    events.ESIGN_UNBOUND.name: _to_user("esign_unbound"),
    events.ESIGN_EXPIRING.name: _to_user("esign_expiring"),
    events.PAYMENT_SUCCEEDED.name: _to_user("payment_status", amount_text=_rub),
    events.PAYMENT_FAILED.name: _to_user("payment_status", amount_text=_rub),
    events.PAYMENT_REFUNDED.name: _to_user("payment_status", amount_text=_rub),
    events.PAYMENT_DUE.name: _to_user("payment_due", amount_text=_rub),
    # notifications (issue 14)
    events.CONTACT_UNREACHABLE.name: _inbox_only("contact_unreachable"),
    events.NOTIFICATION_TEST.name: _to_user("notification_test", type_title=_type_title),
    events.NOTIFICATION_DIGEST.name: _digest,
    # news (NT-4; docs/news.md)
    events.NEWS_NOTICE.name: _to_user("news_publication"),
    # -- calendar (NT-5): the reminder goes to the one contact the person chose for the category --
    events.CALENDAR_REMINDER.name: _to_owner("calendar_reminder"),
    # -- push devices (NF-3; docs/push.md) --
    events.DEVICE_ADDED.name: _to_user("device_added", platform_text=_platform),
}


def messages_for(event: dict[str, Any], lookups: Lookups) -> list[Message]:
    rule = RULES.get(event["type"])
    if rule is None:
        return []
    ctx_event = {"event_type": event["type"], "event_at": clock.ru(clock.from_iso(event["at"]))}
    return [Message(m.channel, m.to, m.template, {**ctx_event, **m.context}) for m in rule(event["data"], lookups)]
