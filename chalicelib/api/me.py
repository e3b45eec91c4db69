"""The signed-in person's own data (AU-9) and in-app messages (NT-1)."""

from __future__ import annotations

from typing import Any

from chalice import Blueprint

from chalicelib.api.http import Call, endpoint
from chalicelib.api.shapes import CursorQuery, MessagesOut
from chalicelib.identity import profile
from chalicelib.identity.models import LoginHistoryOut, LoginHistoryQuery, ProfileOut
from chalicelib.notify import inbox

bp = Blueprint(__name__)


@endpoint(bp, "GET", "/me", summary="Profile of the signed-in person", response=ProfileOut, tag="me")
def me(call: Call) -> dict[str, Any]:
    return profile.profile(call.user_id)


@endpoint(bp, "GET", "/me/login-history", summary="Sign-ins, newest first", query=LoginHistoryQuery,
          response=LoginHistoryOut, checked={"from": "не позже даты «по»"}, tag="me")
def login_history(call: Call) -> dict[str, Any]:
    return profile.login_history(call.user_id, call.query)


@endpoint(bp, "GET", "/me/messages", summary="In-app messages, newest first, with the unread count",
          query=CursorQuery, response=MessagesOut, tag="me")
def my_messages(call: Call) -> dict[str, Any]:
    return inbox.messages(call.user_id, call.query.get("cursor"))


@endpoint(bp, "POST", "/me/messages/{message_id}/read", summary="Mark a message read", status=204, tag="me")
def read_message(call: Call, message_id: str) -> None:
    inbox.mark_read(call.user_id, message_id)
