"""Push devices (NF-3): the mobile apps register their push token after signing in and remove it on signing out;
the person sees and removes them on /security/devices (chalicelib/web/devices_pages.py, the same calls)."""

from __future__ import annotations

from typing import Any

from chalice import Blueprint, Response

from chalicelib.api.http import Call, endpoint, json_response
from chalicelib.core.models import ID_PATTERN
from chalicelib.notify import devices
from chalicelib.notify.device_models import DeviceIn, DeviceOut, DevicesOut

bp = Blueprint(__name__)


@endpoint(bp, "POST", "/me/devices", summary="Register this device's push token (APNs or FCM); the owner is told",
          body=DeviceIn, response=DeviceOut, status=201,
          checked={"token": "токен APNs — шестнадцатеричная строка от 64 символов (проверяется сервером)"},
          also={200: "Это устройство (тот же токен) уже подключено к этой учётной записи: ничего не изменилось"},
          tag="me")
def register(call: Call, body: DeviceIn) -> Response:
    device, created = devices.register(call.user_id, body.platform, body.token, body.name, call.origin)
    return json_response(device, 201 if created else 200)


@endpoint(bp, "GET", "/me/devices", summary="Devices that receive push notifications", response=DevicesOut,
          tag="me")
def listing(call: Call) -> dict[str, Any]:
    return {"items": devices.listing(call.user_id), "limit": devices.MAX_DEVICES}


@endpoint(bp, "DELETE", "/me/devices/{device_id}", summary="Remove a device: it gets no more push notifications",
          status=204, path_schemas={"device_id": {"type": "string", "pattern": ID_PATTERN}}, tag="me")
def remove(call: Call, device_id: str) -> None:
    devices.remove(call.user_id, device_id, call.origin)
