"""Reminder settings per category (NT-5) and the private subscription URL, both on the settings item.

Defaults are for someone who never opens the settings: deadlines, documents and appointments are reminded of by
e-mail; payments, passwords and certificates are off here because their own reminders already reach the person
(PY-6 at 7 and 1 days, AU-3 at 7, DC-5 at 30). Changing the settings places the person's future items in the
reminder index again at once (calendar/reminders.py `place`), so the next daily run uses them.
"""

from __future__ import annotations

from typing import Any

from chalicelib.calendar import items
from chalicelib.core import clock
from chalicelib.core.codes import hash_token, new_token
from chalicelib.core.config import settings as config
from chalicelib.core.errors import not_found
from chalicelib.core.origin import Origin
from chalicelib.store import journal, keys, table
from chalicelib.store.table import Tx

DEFAULTS: dict[str, dict[str, Any]] = {
    "application": {"enabled": True, "days_before": 3, "channel": "email"},
    "payment": {"enabled": False, "days_before": 3, "channel": "sms"},
    "document": {"enabled": True, "days_before": 30, "channel": "email"},
    "password": {"enabled": False, "days_before": 7, "channel": "email"},
    "esign": {"enabled": False, "days_before": 30, "channel": "email"},
    "appointment": {"enabled": True, "days_before": 1, "channel": "sms"},
}
CHANNELS = {"email": "Электронная почта", "sms": "SMS"}
MAX_DAYS_BEFORE = 60



def reminders(stored: dict[str, Any] | None) -> dict[str, dict[str, Any]]:
    """The settings in force: the stored ones over the defaults, for every category."""
    saved = (stored or {}).get("reminders") or {}
    return {c: {**DEFAULTS[c], **(saved.get(c) or {})} for c in items.CATEGORIES}


def load(user_id: str) -> dict[str, Any] | None:
    return table.get(keys.calendar_settings(user_id))


def view(user_id: str) -> dict[str, Any]:
    stored = load(user_id)
    return {"reminders": reminders(stored), "subscribed": bool((stored or {}).get("subscription"))}


def update(user_id: str, changes: dict[str, dict[str, Any]], origin: Origin) -> dict[str, Any]:
    """Save the categories given (the others keep theirs) and place the future items' reminders again."""
    from chalicelib.calendar import reminders as due

    stored = load(user_id)
    merged = reminders(stored)
    for category, values in changes.items():
        merged[category] = {**merged[category], **values}
    pk, sk = keys.calendar_settings(user_id)
    tx = Tx().put({**(stored or {}), "pk": pk, "sk": sk, "user_id": user_id, "reminders": merged,
                   "updated_at": clock.iso(clock.now())})
    journal.audit(tx, keys.user_pk(user_id), "calendar.settings_changed", user_id, origin.ip,
                  categories=sorted(changes))
    tx.commit()
    due.place_person(user_id, merged)
    return {"reminders": merged, "subscribed": bool((stored or {}).get("subscription"))}


def subscription_url(token: str) -> str:
    return f"{config().public_url}/ical/{token}.ics"


def subscribe(user_id: str, origin: Origin) -> dict[str, Any]:
    """A new private URL (a new one replaces the old, which stops working): only the token's hash is kept."""
    token = new_token()
    digest = hash_token(token)
    stored = load(user_id)
    pk, sk = keys.calendar_settings(user_id)
    tx = Tx()
    old = (stored or {}).get("subscription")
    if old:
        tx.delete(keys.calendar_subscription(old))
    sub_pk, sub_sk = keys.calendar_subscription(digest)
    tx.put_new({"pk": sub_pk, "sk": sub_sk, "user_id": user_id, "created_at": clock.iso(clock.now())})
    tx.put({**(stored or {}), "pk": pk, "sk": sk, "user_id": user_id, "reminders": reminders(stored),
            "subscription": digest})
    journal.audit(tx, keys.user_pk(user_id), "calendar.subscribed", user_id, origin.ip, replaced=bool(old))
    tx.commit()
    return {"url": subscription_url(token)}


def unsubscribe(user_id: str, origin: Origin) -> None:
    """Revoke the URL: a calendar app polling it gets 404 from now on. 404 when there is none."""
    stored = load(user_id)
    old = (stored or {}).get("subscription")
    if not stored or not old:
        raise not_found("Подписка на календарь", feminine=True)
    tx = Tx().delete(keys.calendar_subscription(old))
    tx.update(keys.calendar_settings(user_id), "REMOVE subscription", cond="subscription = :old",
              values={":old": old})
    journal.audit(tx, keys.user_pk(user_id), "calendar.unsubscribed", user_id, origin.ip)
    tx.commit()


def subscriber(token: str) -> str:
    """Whose calendar a subscription token serves; 404 for an unknown or revoked one."""
    found = table.get(keys.calendar_subscription(hash_token(token)), consistent=False) if token else None
    if not found:
        raise not_found("Подписка на календарь", feminine=True)
    return str(found["user_id"])
