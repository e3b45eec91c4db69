"""Outgoing SMS (SNS) and e-mail (SES). In stage `local` every message is also shown on the
console and kept for `GET /dev/outbox`, so a person trying the system can read the codes."""

from __future__ import annotations

import sys

from chalicelib.core import clock
from chalicelib.core.aws import client
from chalicelib.core.config import settings
from chalicelib.core.ids import new_id
from chalicelib.store import keys, table

DEV_MESSAGE_TTL = 24 * 3600


def send_sms(to: str, text: str) -> None:
    client("sns").publish(PhoneNumber=to, Message=text,
                          MessageAttributes={"AWS.SNS.SMS.SMSType": {"DataType": "String",
                                                                     "StringValue": "Transactional"}})
    _echo("sms", to, None, text)


def send_email(to: str, subject: str, text: str) -> None:
    client("ses").send_email(Source=settings().sender_email, Destination={"ToAddresses": [to]},
                             Message={"Subject": {"Data": subject, "Charset": "UTF-8"},
                                      "Body": {"Text": {"Data": text, "Charset": "UTF-8"}}})
    _echo("email", to, subject, text)


def _echo(channel: str, to: str, subject: str | None, text: str) -> None:
    if not settings().is_local:
        return
    print(f"\n[{channel.upper()} → {to}] {subject or ''}\n{text}\n", file=sys.stderr, flush=True)
    message_id = new_id()
    pk, sk = keys.dev_message(to.lower(), message_id)
    table.put({"pk": pk, "sk": sk, "channel": channel, "to": to, "subject": subject, "text": text,
               "at": clock.iso(clock.now()), "ttl": clock.epoch() + DEV_MESSAGE_TTL})
