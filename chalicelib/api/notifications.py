"""Notification settings (NT-1, NT-3), a test notice, and unsubscribing from e-mail by a signed link (RFC 8058)."""

from __future__ import annotations

from typing import Any

from chalice import Blueprint
from pydantic import Field

from chalicelib.api.http import Call, endpoint
from chalicelib.core.models import Query
from chalicelib.notify import preferences, unsubscribe
from chalicelib.notify.models import NotificationSettingsIn, NotificationSettingsOut, TestIn, TestOut, UnsubscribeOut

bp = Blueprint(__name__)
FORM = "application/x-www-form-urlencoded"


class UnsubscribeQuery(Query):
    token: str = Field(min_length=20, max_length=2048, description="Подписанный токен из письма")


@endpoint(bp, "GET", "/me/notifications/settings", summary="Notification settings: type × channel, frequency, "
          "filters, quiet hours", response=NotificationSettingsOut, tag="notifications")
def get_settings(call: Call) -> dict[str, Any]:
    return preferences.read(call.user_id)


@endpoint(bp, "PUT", "/me/notifications/settings", summary="Replace the notification settings (security notices "
          "stay on)", body=NotificationSettingsIn, response=NotificationSettingsOut, tag="notifications")
def put_settings(call: Call, body: NotificationSettingsIn) -> dict[str, Any]:
    preferences.update(call.user_id, body.model_dump(), call.origin.ip)
    return preferences.read(call.user_id)


@endpoint(bp, "POST", "/me/notifications/test", summary="Send a test notification through a type's channels",
          body=TestIn, response=TestOut, status=202, tag="notifications")
def send_test(call: Call, body: TestIn) -> dict[str, Any]:
    return {"channels": preferences.send_test(call.user_id, body.type, call.origin.ip)}


@endpoint(bp, "POST", "/mail/unsubscribe", summary="One-click unsubscribe (RFC 8058) by the signed link "
          "of an e-mail; no sign-in", auth=False, query=UnsubscribeQuery, raw=(FORM,), max_raw=1024,
          response=UnsubscribeOut, tag="notifications")
def one_click(call: Call, _body: bytes) -> dict[str, Any]:
    return unsubscribe.apply(call.query["token"], call.origin.ip)
