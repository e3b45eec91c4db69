"""The confirmed tier's channels (ID-7): which exist, and the checks every channel shares.

Each channel is its own module — `bank` (partner bank, signed assertion), `mfc` (a service-centre operator checks
the passport), `letter` (a code by registered letter); the qualified e-signature is `chalicelib/esign/binding.py`.
All of them raise the tier through `tiers.raise_tier`, whose update is conditional on the tier read: when two
channels or two requests finish at once, exactly one confirmation happens and the others answer ALREADY_CONFIRMED.
"""

from __future__ import annotations

from typing import Any

from chalicelib.adapters import bank as banks
from chalicelib.adapters import post
from chalicelib.core.errors import Conflict, Forbidden
from chalicelib.identity import tiers
from chalicelib.identity.users import load_user

VIDEO_NOTE = "Подтверждение личности по видеосвязи не предлагается: выберите один из способов выше"
ESIGN_AVAILABLE = True  # binding a qualified certificate (chalicelib/esign/binding.py, docs/esign.md)


def channels(user: dict[str, Any]) -> list[dict[str, Any]]:
    """What the identity page shows: every way to confirm, whether it can be used now and why not.

    `available` is false while the account is below the standard tier (confirmation confirms checked data) or
    already confirmed, or when the stage has no such service (no partner bank, no postal contract).
    """
    standard = tiers.at_least(user.get("tier"), "standard")
    confirmed = tiers.at_least(user.get("tier"), "confirmed")
    blocked = ("Учётная запись уже подтверждена" if confirmed else None if standard else
               "Сначала заполните личные данные и дождитесь их проверки")

    def entry(channel: str, how: str, offered: bool, unavailable: str, **extra: Any) -> dict[str, Any]:
        note = blocked or (None if offered else unavailable)
        return {"channel": channel, "title": tiers.CHANNELS[channel], "how": how,
                "available": note is None, "note": note, **extra}

    bank_list = [{"id": b.id, "name": b.name} for b in banks.banks()]
    return [
        entry("bank", "Войдите в интернет-банк банка-партнёра: банк передаст ФИО, ИНН и дату рождения, мы сверим их "
                      "с вашими данными", bool(bank_list), "Банки-партнёры сейчас недоступны", banks=bank_list),
        entry("mfc", "Придите с паспортом в любой центр «Мои документы» (МФЦ): оператор найдёт вас по СНИЛС и "
                     "подтвердит личность", True, ""),
        entry("letter", "Закажите письмо с кодом на адрес регистрации; код действует 30 дней, не более 5 попыток",
              post.available() and bool(user.get("address")),
              "Отправка заказных писем сейчас недоступна" if not post.available()
              else "В личных данных нет адреса регистрации"),
        entry("esign", "Привяжите сертификат квалифицированной электронной подписи (аккредитованного удостоверяющего "
                       "центра, с вашими СНИЛС и ИНН) и подтвердите привязку кодом", ESIGN_AVAILABLE,
              "Подтверждение электронной подписью сейчас недоступно"),
        {"channel": "video", "title": "видеоверификация", "how": "", "available": False, "note": VIDEO_NOTE},
    ]


def confirmable(user_id: str) -> dict[str, Any]:
    """The person's account, if a channel may confirm it: a citizen's, checked (standard), not yet confirmed."""
    user = load_user(user_id)
    check_confirmable(user)
    return user


def check_confirmable(user: dict[str, Any]) -> None:
    if user.get("role", "citizen") != "citizen":
        raise Forbidden("FORBIDDEN", "Подтверждение личности доступно только заявителям")
    if tiers.at_least(user.get("tier"), "confirmed"):
        raise already_confirmed()
    tiers.require_standard(user)


def already_confirmed() -> Conflict:
    return Conflict("ALREADY_CONFIRMED", "Учётная запись уже подтверждена")
