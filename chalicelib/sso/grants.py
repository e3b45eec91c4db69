"""The systems a person signs into with Kabinet: one grant per system (the consented scopes, the consent's id,
first and last sign-in). Revoking it is revoking the consent (identity.consents), which
ends the grant in the same transaction: the next sign-in asks again, and its refresh tokens stop working."""

from __future__ import annotations

from typing import Any

from chalicelib.core import clock
from chalicelib.core.errors import not_found
from chalicelib.identity import consents
from chalicelib.sso import claims
from chalicelib.store import keys, table
from chalicelib.store.table import Tx


def listing(user_id: str) -> list[dict[str, Any]]:
    """Every system signed into, newest use first, with what it receives."""
    items = table.query(keys.user_pk(user_id), keys.SSO_GRANT_PREFIX, limit=200).items
    out = [{"client_id": g["client_id"], "name": g.get("client_name") or g["client_id"],
            "scopes": [s for s in g["scopes"] if s in claims.SCOPE_TITLES],
            "granted_at": clock.iso(clock.from_epoch(g["granted_at"])),
            "last_used_at": clock.iso(clock.from_epoch(g["last_used_at"])), "uses": int(g.get("uses", 1)),
            "active": not g.get("revoked_at"), "consent_id": g["consent_id"]} for g in items]
    return sorted(out, key=lambda g: g["last_used_at"], reverse=True)


def revoke(user_id: str, client_id: str, ip: str | None) -> None:
    grant = table.get(keys.sso_grant(user_id, client_id))
    if grant is None or grant.get("revoked_at"):
        raise not_found("Система", neuter=True)
    consents.revoke(user_id, grant["consent_id"], ip)


def end(tx: Tx, user_id: str, client_id: str, consent_id: str) -> None:
    """Into the consent's revocation: the grant, if this consent is still its consent (its refresh tokens check
    the grant in their own transaction, so they stop too)."""
    grant = table.get(keys.sso_grant(user_id, client_id))
    if grant is None or grant.get("consent_id") != consent_id or grant.get("revoked_at"):
        return
    tx.update(keys.sso_grant(user_id, client_id), "SET revoked_at = :now", cond="consent_id = :c",
              values={":now": clock.epoch(), ":c": consent_id})
