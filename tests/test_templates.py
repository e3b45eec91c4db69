"""Every code purpose renders on both channels, with or without a name to greet."""

from __future__ import annotations

import re

import pytest

from chalicelib.notify.messages import Message
from chalicelib.notify.render import render

PURPOSES = ["registration", "password_change", "recovery", "recovery_sms", "mfa_sms", "mfa_login", "ip_allowlist",
            "contact_phone", "contact_email", "esign_bind"]


@pytest.mark.parametrize("purpose", PURPOSES)
@pytest.mark.parametrize("channel", ["sms", "email"])
def test_code_messages_render(purpose, channel):
    ctx = {"purpose": purpose, "code": "123456", "event_at": "23.11.2026 10:00:00"}
    subject, text = render(Message(channel, "x", "code", ctx))
    assert re.search(r"\b123456\b", text) and "{{" not in text
    assert (subject is None) == (channel == "sms")
