"""Creating an account: the user item plus the login alias that keeps each contact to one account."""

from __future__ import annotations

from typing import Any

from chalicelib.core import clock
from chalicelib.core.ids import new_id
from chalicelib.identity.passwords import calendar_expiry, password_fields
from chalicelib.store import keys
from chalicelib.store.table import Tx


def add_account(tx: Tx, *, last_name: str, first_name: str, middle_name: str | None, logins: dict[str, str],
                password: str, tier: str = "simplified", role: str = "citizen", **extra: Any) -> dict[str, Any]:
    """Add the account to `tx`; the alias puts fail the transaction if a login is already taken.

    A lost alias condition raises ConditionFailed with tag "login_taken".
    """
    user_id = new_id()
    pk, sk = keys.user(user_id)
    user = {"pk": pk, "sk": sk, "user_id": user_id, "last_name": last_name, "first_name": first_name,
            "middle_name": middle_name, "tier": tier, "role": role, "failed_logins": 0,
            "created_at": clock.iso(clock.now()), **password_fields(user_id, password), **logins, **extra}
    tx.put_new(user)
    if role == "citizen":  # NT-5: the first password's expiry
        calendar_expiry(tx, user_id, user["password_changed_at"])
    for kind, value in logins.items():
        alias_pk, alias_sk = keys.login_alias(kind, value)
        tx.put_new({"pk": alias_pk, "sk": alias_sk, "user_id": user_id}, tag="login_taken")
    return user
