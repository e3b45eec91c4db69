"""Request and response models of the push-device routes (NF-3); the web page validates what it posts with them."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import AfterValidator, Field

from chalicelib.core.models import Id, Moment, Out, Strict, pattern

Platform = Literal["apns", "fcm"]
# APNs device tokens are hex (32 bytes today; Apple says not to rely on the length), FCM registration tokens are
# URL-safe text of ~150–200 characters; SNS takes tokens up to 4 KB. The APNs hex rule is checked by the server.
TOKEN_PATTERN = r"^[A-Za-z0-9_:-]{32,4096}$"
APNS_TOKEN = r"^[0-9a-fA-F]{64,200}$"
NAME_PATTERN = r"^[^\x00-\x1f\x7f]*[^\s\x00-\x1f\x7f][^\x00-\x1f\x7f]*$"  # printable, not only blanks


def _name(value: str) -> str:
    return " ".join(value.split())


Token = Annotated[str, pattern(TOKEN_PATTERN, "Токен устройства: от 32 латинских букв, цифр и знаков _ : -",
                               description="Токен APNs (шестнадцатеричный) или регистрационный токен FCM")]
DeviceName = Annotated[str, pattern(NAME_PATTERN, "Укажите название устройства без управляющих символов",
                                    min_length=1, max_length=64, description="Как устройство названо в списке"),
                       AfterValidator(_name)]


class DeviceIn(Strict):
    platform: Platform = Field(description="apns — iPhone и iPad, fcm — Android")
    token: Token
    name: DeviceName | None = None


class DeviceOut(Out):
    id: Id
    platform: Platform
    name: str
    added_at: Moment


class DevicesOut(Out):
    items: list[DeviceOut]
    limit: int = Field(description="Сколько устройств можно подключить")
