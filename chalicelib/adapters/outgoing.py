"""Outgoing SMS (SNS) and e-mail (SES). In stage `local` every message is also shown on the console and kept for
`GET /dev/outbox`, so a person trying the system can read the codes, and the delivery simulator
(infra/delivery_simulator.py) is told, so that feedback comes back as SES and SNS would send it."""

from __future__ import annotations

import sys
from email.message import EmailMessage
from email.utils import formataddr, make_msgid

from chalicelib.core import clock
from chalicelib.core.aws import client
from chalicelib.core.config import settings
from chalicelib.core.ids import new_id
from chalicelib.store import keys, table

DEV_MESSAGE_TTL = 24 * 3600
SENDER_NAME = "Госуслуги — личный кабинет"  # i18n: data

# How the providers' refusals are classed: what retrying may fix, what it cannot, and what is ours to fix.
_PERMANENT = frozenset({"InvalidParameter", "InvalidParameterValue", "OptedOut", "InvalidRecipient"})
_TECHNICAL = frozenset({"MessageRejected", "MailFromDomainNotVerified", "MailFromDomainNotVerifiedException",
                        "ConfigurationSetDoesNotExist", "AccessDenied", "AccessDeniedException",
                        "AuthorizationError", "KMSAccessDenied", "ValidationError"})


class Temporary(Exception):
    """The provider may accept it later (throttling, an outage)."""


class Permanent(Exception):
    """The address is wrong or gone: retrying cannot help."""


class Technical(Exception):
    """Our side: a configuration problem; a person must look."""


def _classified(exc: Exception) -> Exception:
    code = getattr(exc, "response", {}).get("Error", {}).get("Code", "")
    if code in _PERMANENT:
        return Permanent(code)
    if code in _TECHNICAL:
        return Technical(code)
    return Temporary(code or type(exc).__name__)


def send_sms(to: str, text: str) -> str:
    """The provider's message id (feedback names it)."""
    try:
        resp = client("sns").publish(PhoneNumber=to, Message=text, MessageAttributes={
            "AWS.SNS.SMS.SMSType": {"DataType": "String", "StringValue": "Transactional"}})
    except Exception as exc:
        raise _classified(exc) from exc
    _echo("sms", to, None, text, resp["MessageId"])
    return resp["MessageId"]


def send_email(to: str, subject: str, text: str, unsubscribe: tuple[str, str] | list[str] | None = None) -> str:
    """A plain-text e-mail; `unsubscribe` = (one-click URL, page URL) adds RFC 8058's List-Unsubscribe headers."""
    message = EmailMessage()
    message["From"] = formataddr((SENDER_NAME, settings().sender_email))
    message["To"] = to
    message["Subject"] = subject
    message["Message-ID"] = make_msgid(domain=settings().sender_email.split("@")[-1])
    if unsubscribe:
        one_click, page = unsubscribe
        message["List-Unsubscribe"] = f"<{one_click}>"
        message["List-Unsubscribe-Post"] = "List-Unsubscribe=One-Click"
        text = f"{text}\n\nОтписаться от таких писем: {page}"  # i18n: data (the e-mail is in Russian)
    message.set_content(text, charset="utf-8")
    extra = {"ConfigurationSetName": settings().ses_configuration_set} if settings().ses_configuration_set else {}
    try:
        resp = client("ses").send_raw_email(Source=settings().sender_email,  # the recipient: the To header
                                            RawMessage={"Data": message.as_bytes()}, **extra)
    except Exception as exc:
        raise _classified(exc) from exc
    _echo("email", to, subject, text, resp["MessageId"], headers=dict(message.items()))
    return resp["MessageId"]


def _echo(channel: str, to: str, subject: str | None, text: str, provider_id: str,
          headers: dict[str, str] | None = None) -> None:
    if not settings().is_local:
        return
    print(f"\n[{channel.upper()} → {to}] {subject or ''}\n{text}\n", file=sys.stderr, flush=True)
    message_id = new_id()
    pk, sk = keys.dev_message(to.lower(), message_id)
    table.put({"pk": pk, "sk": sk, "channel": channel, "to": to, "subject": subject, "text": text,
               "headers": headers, "provider_id": provider_id, "at": clock.iso(clock.now()),
               "ttl": clock.epoch() + DEV_MESSAGE_TTL})
    try:
        from infra import delivery_simulator
    except ImportError:  # pragma: no cover - the simulator lives beside the local cloud only
        return
    delivery_simulator.sent(channel, provider_id, to, clock.iso(clock.now()))
