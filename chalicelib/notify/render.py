"""Russian message texts from jinja2 templates: one file per template with a macro per channel."""

from __future__ import annotations

import os
import re
from functools import cache
from typing import Any

from chalicelib.core.config import settings
from chalicelib.notify.messages import Message

_DIR = os.path.join(os.path.dirname(os.path.dirname(__file__)), "templates", "notify")


@cache
def _env() -> Any:
    import jinja2

    return jinja2.Environment(loader=jinja2.FileSystemLoader(_DIR), autoescape=False,  # noqa: S701 - plain-text SMS and e-mail, no HTML
                              undefined=jinja2.StrictUndefined, trim_blocks=True, lstrip_blocks=True)


def render(message: Message) -> tuple[str | None, str]:
    """(subject, text): subject for e-mail, letters and the in-app inbox (its title), none for SMS."""
    module = _env().get_template(f"{message.template}.j2").make_module(
        {**message.context, "portal_url": settings().public_url})
    if message.channel == "sms":
        return None, str(module.sms()).strip()
    if message.channel == "push":  # a title and the short text
        return str(module.subject()).strip(), str(module.sms()).strip()
    if message.channel == "post":  # a registered letter: the subject is its title
        return str(module.subject()).strip(), str(module.letter()).strip()
    if message.channel == "inbox":
        return str(module.subject()).strip(), str(module.inbox()).strip()
    return str(module.subject()).strip(), str(module.email()).strip()


@cache
def version(template: str) -> int:
    """The template's `{% set version = N %}` (0 when it has none; a test requires one): the delivery log records
    which text a person got."""
    source, _, _ = _env().loader.get_source(_env(), f"{template}.j2")
    found = re.search(r"{%\s*set\s+version\s*=\s*(\d+)\s*%}", source)
    return int(found.group(1)) if found else 0
