"""Request and response bodies of the notification settings, the delivery log and unsubscribing."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import AfterValidator, Field

from chalicelib.core.models import Moment, Out, Strict
from chalicelib.notify.types import Channel, Frequency, NoticeType

ApplicationStatus = Literal["submitted", "in_progress", "awaiting_documents", "approved", "rejected", "cancelled"]
ServiceCategory = Literal["Документы", "Оплата", "Заявления", "Справки"]
Status = Literal["created", "sending", "delivered", "temporary-failure", "permanent-failure", "technical-failure"]
ZONES = ("Europe/Kaliningrad", "Europe/Moscow", "Europe/Samara", "Asia/Yekaterinburg", "Asia/Omsk",
         "Asia/Novosibirsk", "Asia/Krasnoyarsk", "Asia/Irkutsk", "Asia/Yakutsk", "Asia/Vladivostok",
         "Asia/Magadan", "Asia/Kamchatka")
TimeZone = Literal[ZONES]  # type: ignore[valid-type]  # Russia's eleven zones, west to east


def _clock(value: str) -> str:
    hours, minutes = value.split(":")
    if int(hours) > 23 or int(minutes) > 59:
        raise ValueError("Время в формате ЧЧ:ММ, от 00:00 до 23:59")
    return value


ClockTime = Annotated[str, Field(pattern=r"^[0-9]{2}:[0-9]{2}$", description="ЧЧ:ММ, местное время"),
                      AfterValidator(_clock)]


class NoticeChannelsIn(Strict):
    sms: bool
    email: bool
    push: bool
    inbox: bool


class TypeSettingIn(Strict):
    channels: NoticeChannelsIn
    frequency: Frequency = Field(description="immediately — сразу; daily, weekly — сводкой раз в день или в неделю")


class QuietHours(Strict):
    enabled: bool
    start: ClockTime = "22:00"
    end: ClockTime = "08:00"


class FiltersIn(Strict):
    statuses: list[ApplicationStatus] = Field(default_factory=list, max_length=6, description=(
        "Сообщать о заявлениях только при этих статусах; пусто — при любом"))
    categories: list[ServiceCategory] = Field(default_factory=list, max_length=4, description=(
        "Сообщать о заявлениях только на услуги этих видов; пусто — на любые"))


class NotificationSettingsIn(Strict):
    types: dict[NoticeType, TypeSettingIn] = Field(description="Тип уведомления → каналы и частота; "
                                                               "не названные типы не меняются")
    filters: FiltersIn = Field(default_factory=FiltersIn)
    quiet_hours: QuietHours
    time_zone: TimeZone = "Europe/Moscow"


class NoticeChannelsOut(Out):
    sms: bool
    email: bool
    push: bool
    inbox: bool


class TypeSettingOut(Out):
    type: NoticeType
    title: str
    locked: bool = Field(description="Уведомления о безопасности отключить нельзя")
    channels: NoticeChannelsOut
    frequency: Frequency


class FiltersOut(Out):
    statuses: list[ApplicationStatus]
    categories: list[ServiceCategory]


class QuietHoursOut(Out):
    enabled: bool
    start: str
    end: str


class UnreachableOut(Out):
    channel: Literal["sms", "email"]
    contact: str
    since: Moment


class NotificationSettingsOut(Out):
    types: list[TypeSettingOut]
    filters: FiltersOut
    quiet_hours: QuietHoursOut
    time_zone: TimeZone
    unreachable: list[UnreachableOut] = Field(description="Контакты, куда доставка не удалась (сохранение "
                                                          "настроек снова пробует их)")


class TestIn(Strict):
    type: NoticeType = "system"


class TestOut(Out):
    channels: list[Channel] = Field(description="Каналы, куда уйдёт проверочное уведомление")


class DeliveryOut(Out):
    channel: Channel
    to: str = Field(description="Куда: маскированный контакт или устройство")
    status: Status
    status_title: str
    attempts: int = Field(ge=0)
    updated_at: Moment
    next_attempt_at: Moment | None
    template_version: int = Field(ge=1)


class UnsubscribeIn(Strict):
    token: str = Field(min_length=20, max_length=2048)


class UnsubscribeOut(Out):
    type: NoticeType
    title: str
    channel: Literal["email"]


