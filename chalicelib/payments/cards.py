"""Saved cards (PY-3): only the acquirer's token, the masked number and the expiry are kept; the number never
reaches Kabinet. A card is saved by paying with "save the card" ticked, or on the acquirer's binding page."""

from __future__ import annotations

import hashlib
from typing import Any

from chalicelib.adapters import acquirer
from chalicelib.core import clock
from chalicelib.core.config import settings
from chalicelib.core.errors import NotFound, Unavailable
from chalicelib.core.ids import new_id
from chalicelib.core.origin import Origin
from chalicelib.store import journal, keys, table
from chalicelib.store.table import ConditionFailed, Tx

BIND_PREFIX = "bind-"  # the order id of a binding: `<user>.bind-<id>`, no payment behind it
SHOWN = ("id", "mask", "expiry", "brand", "added_at")


def listed(user_id: str) -> list[dict[str, Any]]:
    page = table.query(keys.user_pk(user_id), keys.CARDS_PREFIX, limit=50, newest_first=False, consistent=True)
    return [{k: c[k] for k in SHOWN} for c in page.items]


def add(user_id: str, origin: Origin) -> dict[str, Any]:
    order = keys.payment_order(user_id, f"{BIND_PREFIX}{new_id()}")
    try:
        started = acquirer.bind_card(order, f"{settings().public_url}/pay/cards")
    except acquirer.AcquirerUnavailable:
        raise Unavailable("ACQUIRER_UNAVAILABLE", "Платёжный сервис банка не отвечает, повторите чуть позже") \
            from None
    return {"redirect_url": started.redirect_url}


def card_id_of(token: str) -> str:
    """The same card saved twice is one card: its id comes from the acquirer's token (hex is Crockford base32)."""
    return hashlib.sha256(token.encode()).hexdigest()[:26].upper()


def save(tx: Tx, user_id: str, card: acquirer.Card) -> None:
    """Add a card to `tx`; the same card (the same token) saved again stays one card."""
    card_id = card_id_of(card.token)
    pk, sk = keys.card(user_id, card_id)
    tx.put({"pk": pk, "sk": sk, "id": card_id, "token": card.token, "mask": card.mask, "expiry": card.expiry,
            "brand": card.brand, "added_at": clock.iso(clock.now())}, cond="attribute_not_exists(pk)", tag="card")


def bound(user_id: str, outcome: acquirer.Outcome) -> str:
    if outcome.status != "success" or outcome.card is None:
        return "ignored"
    tx = Tx()
    save(tx, user_id, outcome.card)
    journal.audit(tx, keys.user_pk(user_id), "card.added", "user", None, mask=outcome.card.mask)
    try:
        tx.commit()
    except ConditionFailed:
        return "ignored"
    return "applied"


def remove(user_id: str, card_id: str, origin: Origin) -> None:
    tx = Tx().delete(keys.card(user_id, card_id), cond="attribute_exists(pk)")
    journal.audit(tx, keys.user_pk(user_id), "card.removed", "user", origin.ip, card_id=card_id)
    try:
        tx.commit()
    except ConditionFailed:
        raise NotFound("NOT_FOUND", "Сохранённая карта не найдена") from None
