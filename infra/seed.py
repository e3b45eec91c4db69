"""Demo data for the local cloud: people a newcomer can sign in as right away."""

from __future__ import annotations

import contextlib

from chalicelib.identity.accounts import add_account
from chalicelib.store.table import ConditionFailed, Tx

DEMO_PASSWORD = "Zima#Leto57!"
DEMO_USERS = [
    {"last_name": "Иванов", "first_name": "Иван", "middle_name": "Петрович",
     "logins": {"phone": "+79990000001", "email": "ivanov@example.ru"}},
    {"last_name": "Смирнова", "first_name": "Анна", "middle_name": "Сергеевна",
     "logins": {"phone": "+79990000002"}},
]


def seed() -> list[str]:
    """Create the demo accounts (skipping any that exist); returns their logins."""
    created = []
    for person in DEMO_USERS:
        tx = Tx()
        add_account(tx, password=DEMO_PASSWORD, **person)
        with contextlib.suppress(ConditionFailed):
            tx.commit()
        created.append(person["logins"]["phone"])
    return created
