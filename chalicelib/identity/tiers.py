"""Account tiers (ID-6): simplified → standard (data checked by the registries) → confirmed (identity confirmed
in person or by a trusted channel, ID-7). Every raise is conditional on the tier that was read, audited and
announced; a tier never goes down by itself."""

from __future__ import annotations

from typing import Any

from chalicelib.catalog.services import TIER_TITLES as TITLES
from chalicelib.catalog.services import tier_allows as at_least
from chalicelib.core import clock
from chalicelib.core.errors import Conflict, Forbidden
from chalicelib.events import catalog
from chalicelib.store import journal, keys
from chalicelib.store.table import Change, Tx

# How the identity was confirmed (ID-7); video verification is not offered (docs/identity.md).
CHANNELS = {"registries": "проверка данных в государственных реестрах", "bank": "банк-партнёр",
            "mfc": "центр обслуживания (МФЦ)", "letter": "код из заказного письма",
            "esign": "квалифицированная электронная подпись"}


def require_standard(user: dict[str, Any]) -> None:
    """Confirmation channels confirm checked data: a simplified account must pass the registry checks first."""
    if not at_least(user.get("tier"), "standard"):
        raise Forbidden("TIER_REQUIRED", "Сначала заполните личные данные и дождитесь их проверки: "
                                         "подтвердить можно только проверенные данные",
                        required="standard", current=user.get("tier") or "simplified")


def raise_tier(tx: Tx, user: dict[str, Any], tier: str, *, channel: str, actor: str, ip: str | None,
               also: dict[str, Any] | None = None, **details: Any) -> bool:
    """Add the raise to `tx` when it is a raise (False otherwise, nothing added).

    The update is conditional on the tier read, so two channels finishing at once raise it once; the loser's
    transaction is cancelled (tag "tier_changed") and it re-reads. `also` sets more attributes of the account in
    the same update (the checked data that earned the standard tier): one item, one update per transaction.
    """
    current = user.get("tier") or "simplified"
    if at_least(current, tier):
        return False
    user_id = user["user_id"]
    change = Change().set("tier", tier).set("tier_channel", channel).set("tier_at", clock.iso(clock.now()))
    for attr, value in (also or {}).items():
        change.set(attr, value)
    change.require("{tier} = :read", read=current)
    change.apply(tx, keys.user(user_id), tag="tier_changed")
    journal.audit(tx, keys.user(user_id)[0], catalog.TIER_RAISED.name, actor, ip, tier=tier, previous=current,
                  channel=channel, **details)
    journal.emit(tx, catalog.TIER_RAISED, keys.user(user_id)[0],
                 {"user_id": user_id, "tier": tier, "tier_title": TITLES[tier], "channel": channel,
                  "channel_title": CHANNELS[channel]})
    return True


def tier_changed() -> Conflict:
    return Conflict("TIER_CHANGED", "Уровень учётной записи только что изменился, повторите действие")
