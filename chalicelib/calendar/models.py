"""Request and response bodies of `/me/calendar…` (NT-5): what the OpenAPI document shows."""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from chalicelib.core.models import Day, DayFilter, Moment, Out, Query, Strict, absent, whole_number

Category = Literal["application", "payment", "document", "password", "esign", "appointment"]
Channel = Literal["email", "sms"]


class CalendarQuery(Query):
    category: Category | None = None
    day_from: DayFilter | None = Field(default=None, alias="from", description="С этого дня (МСК)")
    day_to: DayFilter | None = Field(default=None, alias="to", description="По этот день включительно (МСК)")


class ReminderOut(Out):
    enabled: bool
    days_before: int = Field(ge=0, le=60)
    channel: Channel
    on: Day | None = absent(description="День, когда придёт напоминание (МСК); нет — не придёт")


class CalendarItemOut(Out):
    id: str = Field(description="Постоянный идентификатор: «<категория>.<источник>», не меняется при переносе даты")
    category: Category
    category_title: str
    title: str
    date: Day
    time: str | None = absent(pattern=r"^[0-2][0-9]:[0-5][0-9]$", description="Время (МСК), если есть")
    at: Moment | None = absent(description="Момент (UTC), если есть время")
    link: str = Field(description="Путь к подробностям на портале")
    reminder: ReminderOut = Field(description="Применённые настройки напоминаний категории")


class CalendarOut(Out):
    items: list[CalendarItemOut]


class ReminderIn(Strict):
    enabled: bool
    days_before: whole_number(ge=0, le=60, description="За сколько дней напомнить (0 — в тот же день)")  # type: ignore[valid-type]  # JSON 3.0 is 3
    channel: Channel


class CalendarSettingsIn(Strict):
    """Only the categories given change."""

    application: ReminderIn | None = None
    payment: ReminderIn | None = None
    document: ReminderIn | None = None
    password: ReminderIn | None = None
    esign: ReminderIn | None = None
    appointment: ReminderIn | None = None


class RemindersOut(Out):
    application: ReminderIn
    payment: ReminderIn
    document: ReminderIn
    password: ReminderIn
    esign: ReminderIn
    appointment: ReminderIn


class CalendarSettingsOut(Out):
    reminders: RemindersOut
    subscribed: bool = Field(description="Есть действующая ссылка подписки")


class CalendarSubscriptionOut(Out):
    url: str = Field(description="Секретная ссылка для приложений-календарей; показывается один раз")
