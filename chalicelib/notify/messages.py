"""Which messages a domain event sends, to whom and through which channel (NT-2)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from chalicelib.core import clock


@dataclass(frozen=True)
class Message:
    channel: str  # sms | email
    to: str
    template: str
    context: dict[str, Any]


Rule = Callable[[dict[str, Any], Callable[[str, str], bool]], list[Message]]


def _contacts(data: dict[str, Any]) -> list[tuple[str, str]]:
    out = []
    if data.get("phone"):
        out.append(("sms", data["phone"]))
    if data.get("email"):
        out.append(("email", data["email"]))
    return out


def _registration_code(data: dict[str, Any], login_taken: Callable[[str, str], bool]) -> list[Message]:
    """ID-5: the owner of a registered contact learns about the attempt instead of getting a code."""
    template = "registration_existing" if login_taken(data["login_kind"], data["login"]) else "registration_code"
    return [Message(data["channel"], data["to"], template, data)]


def _account_created(data: dict[str, Any], _: Callable[[str, str], bool]) -> list[Message]:
    return [Message(data["channel"], data["to"], "account_created", data)]


def _account_locked(data: dict[str, Any], _: Callable[[str, str], bool]) -> list[Message]:
    ctx = {**data, "until": clock.ru(clock.from_epoch(data["until"]))}
    return [Message(channel, to, "account_locked", ctx) for channel, to in _contacts(data)]


RULES: dict[str, Rule] = {
    "registration.code_requested": _registration_code,
    "account.created": _account_created,
    "account.locked": _account_locked,
}


def messages_for(event: dict[str, Any], login_taken: Callable[[str, str], bool]) -> list[Message]:
    rule = RULES.get(event["type"])
    if rule is None:
        return []
    ctx_event = {"event_type": event["type"], "event_at": clock.ru(clock.from_iso(event["at"]))}
    return [Message(m.channel, m.to, m.template, {**ctx_event, **m.context})
            for m in rule(event["data"], login_taken)]
