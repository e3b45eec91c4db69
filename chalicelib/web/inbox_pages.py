"""Уведомления (NT-1): the in-app messages with the unread count, each marked read with a button (a POST, so a
link preview or a prefetch never marks anything), and a link to the application it is about."""

from __future__ import annotations

import urllib.parse

from chalice import Blueprint

from chalicelib.notify import inbox
from chalicelib.notify.types import CHANNEL_TITLES
from chalicelib.web.documents_pages import moment
from chalicelib.web.pages import Page, Redirect, Visit, page, safe_next

bp = Blueprint(__name__)


@page(bp, "/inbox")
def messages(visit: Visit) -> Page:
    cursor = visit.query.get("cursor") or None
    found = inbox.messages(visit.user_id, cursor)
    more = "/inbox?" + urllib.parse.urlencode({"cursor": found["cursor"]}) if found["cursor"] else None
    return Page("inbox.html", {"active": "inbox", "items": found["items"], "unread": found["unread"], "more": more,
                               "moment": moment,
                               "channels": CHANNEL_TITLES,
                               "here": visit.path + (f"?cursor={cursor}" if cursor else "")})


@page(bp, "/inbox/{message_id}/read", methods=("POST",))
def mark_read(visit: Visit, message_id: str) -> Redirect:
    inbox.mark_read(visit.user_id, message_id)
    return Redirect(safe_next(visit.form.get("next"), "/inbox"))
