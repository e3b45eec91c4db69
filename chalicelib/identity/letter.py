"""Confirmation by registered letter (ID-7): a code posted to the checked registration address.

The code is the one code mechanism (`otp`) with its own life: 30 days, 5 tries, a new letter at most once a day
(each one is paper and postage). The letter travels like every code, as a `code.requested` event in the
transaction that stores the hash; the notify worker posts it through the Russian Post adapter.
"""

from __future__ import annotations

from typing import Any

from chalicelib.adapters import post
from chalicelib.core.errors import Invalid, Unavailable, Unprocessable
from chalicelib.identity import confirmation, otp, tiers
from chalicelib.store import journal, keys
from chalicelib.store.table import ConditionFailed, Tx

PURPOSE = "identity_letter"
TTL = 30 * 24 * 3600
RESEND_AFTER = 24 * 3600


def send(user_id: str, ip: str | None) -> dict[str, Any]:
    user = confirmation.confirmable(user_id)
    if not post.available():
        raise Unavailable("LETTER_UNAVAILABLE", "Отправка заказных писем сейчас недоступна")
    address = user.get("address")
    if not address:
        raise Unprocessable("NO_ADDRESS", "В личных данных нет адреса регистрации: письмо некуда отправить")
    tx = Tx()
    answer = otp.issue(tx, keys.user_pk(user_id), PURPOSE, "post", address, ttl=TTL, resend_after=RESEND_AFTER,
                       notice="identity_letter", last_name=user["last_name"], first_name=user["first_name"],
                       middle_name=user.get("middle_name"))
    journal.audit(tx, keys.user_pk(user_id), "identity.letter_requested", user_id, ip)
    otp.commit_issue(tx, ip)
    return {"address": address, "expires_in": answer["expires_in"], "resend_after": answer["resend_after"],
            "attempts": otp.MAX_ATTEMPTS}


def confirm(user_id: str, code: str, ip: str | None) -> dict[str, Any]:
    user = confirmation.confirmable(user_id)
    tx = Tx()
    otp.verify(keys.user_pk(user_id), PURPOSE, code, tx, ip)
    tiers.raise_tier(tx, user, "confirmed", channel="letter", actor=user_id, ip=ip)
    try:
        tx.commit()
    except ConditionFailed as exc:
        if exc.tag == "tier_changed":
            raise confirmation.already_confirmed() from None
        raise Invalid("CODE_INVALID", "Код уже использован или заменён новым", {"code": "Неверный код"},
                      attempts_left=0) from None
    return {"tier": "confirmed", "channel": "letter"}
