"""Authorization codes and the access tokens issued from them (OIDC Core 3.1; RFC 6749 4.1.2, 10.5).

A code is single use, lives 60 s and is bound to the client, the redirect URI and the PKCE challenge. Only its
hash is stored. Redeeming is one conditional update, so two redemptions cannot both win; a redemption that
finds the code used is a replay, and the token issued from it is revoked (RFC 6749 4.1.2).
"""

from __future__ import annotations

import contextlib
from dataclasses import dataclass
from typing import Any

from chalicelib.core import clock
from chalicelib.core.codes import hash_token
from chalicelib.store import journal, keys, table
from chalicelib.store.table import ConditionFailed, Tx

CODE_TTL = 60
ACCESS_TTL = 300  # userinfo tokens are short-lived
KEEP_USED = 24 * 3600  # a used code stays this long, so that a replay is recognised and its tokens revoked


@dataclass
class AuthorizationCode:
    """A redeemed code, in the shape Authlib's AuthorizationCodeMixin (and its OIDC claims) asks for."""

    code_hash: str
    client_id: str
    redirect_uri: str
    scope: str
    user_id: str
    nonce: str | None
    code_challenge: str | None
    code_challenge_method: str | None
    auth_time: int
    acr: str
    amr: list[str]

    def get_redirect_uri(self) -> str:
        return self.redirect_uri

    def get_scope(self) -> str:
        return self.scope

    def get_nonce(self) -> str | None:
        return self.nonce

    def get_auth_time(self) -> int:
        return self.auth_time

    def get_acr(self) -> str:
        return self.acr

    def get_amr(self) -> list[str]:
        return self.amr

    # PKCE (rfc7636.CodeChallenge reads these attributes)
    def get_code_challenge(self) -> str | None:
        return self.code_challenge

    def get_code_challenge_method(self) -> str | None:
        return self.code_challenge_method


def save(code: str, *, client_id: str, redirect_uri: str, scope: str, user_id: str, session_id: str,
         nonce: str | None, code_challenge: str | None, code_challenge_method: str | None, auth_time: int,
         acr: str, amr: list[str], ip: str | None) -> None:
    """Store a new code and the person's audit entry ("signed in to <client>") in one transaction."""
    now = clock.epoch()
    code_hash = hash_token(code)
    pk, sk = keys.sso_code(code_hash)
    tx = Tx()
    tx.put_new({"pk": pk, "sk": sk, "client_id": client_id, "redirect_uri": redirect_uri, "scope": scope,
                "user_id": user_id, "session_id": session_id, "nonce": nonce, "code_challenge": code_challenge,
                "code_challenge_method": code_challenge_method, "auth_time": auth_time, "acr": acr, "amr": amr,
                "expires_at": now + CODE_TTL, "ttl": now + KEEP_USED})
    journal.audit(tx, keys.user_pk(user_id), "sso.authorized", user_id, ip, client_id=client_id, scope=scope)
    tx.commit()


def redeem(code: str, client_id: str) -> AuthorizationCode | None:
    """Mark the code used and return it; None when it is unknown, expired, another client's, or used — and a
    used one revokes the token issued from it."""
    code_hash = hash_token(code)
    now = clock.epoch()
    try:
        item = table.update(keys.sso_code(code_hash), "SET used_at = :now",
                            cond="attribute_exists(pk) AND attribute_not_exists(used_at) AND client_id = :client "
                                 "AND expires_at > :now",
                            values={":now": now, ":client": client_id})
    except ConditionFailed as exc:
        if exc.old and exc.old.get("used_at") is not None and exc.old.get("client_id") == client_id:
            revoke_issued(exc.old, code_hash)
        return None
    return AuthorizationCode(code_hash=code_hash, client_id=item["client_id"], redirect_uri=item["redirect_uri"],
                             scope=item["scope"], user_id=item["user_id"], nonce=item.get("nonce"),
                             code_challenge=item.get("code_challenge"),
                             code_challenge_method=item.get("code_challenge_method"),
                             auth_time=int(item["auth_time"]), acr=item["acr"], amr=list(item["amr"]))


def revoke_issued(code_item: dict[str, Any], code_hash: str) -> None:
    """A replayed code: the access token issued from it stops working (audited for the person)."""
    tx = Tx()
    token_hash = code_item.get("token_hash")
    if token_hash:
        tx.update(keys.sso_token(token_hash), "SET revoked_at = :now", cond="attribute_exists(pk)",
                  values={":now": clock.epoch()})
    journal.audit(tx, keys.user_pk(code_item["user_id"]), "sso.code_replayed", code_item["client_id"], None,
                  client_id=code_item["client_id"])
    with contextlib.suppress(ConditionFailed):  # the token is gone already (its TTL): nothing to revoke
        tx.commit()


def save_token(access_token: str, *, code_hash: str, client_id: str, user_id: str, scope: str) -> None:
    """The issued token and, on its code, which token it was (so that a replay can revoke it): one transaction."""
    now = clock.epoch()
    token_hash = hash_token(access_token)
    pk, sk = keys.sso_token(token_hash)
    tx = Tx()
    tx.put_new({"pk": pk, "sk": sk, "client_id": client_id, "user_id": user_id, "scope": scope,
                "code_hash": code_hash, "expires_at": now + ACCESS_TTL, "ttl": now + ACCESS_TTL})
    tx.update(keys.sso_code(code_hash), "SET token_hash = :t", values={":t": token_hash})
    tx.commit()


def token(access_token: str) -> dict[str, Any] | None:
    """A live access token's item (one read), or None when unknown, expired or revoked."""
    item = table.get(keys.sso_token(hash_token(access_token)), consistent=False)
    if item is None or item.get("revoked_at") is not None or int(item["expires_at"]) <= clock.epoch():
        return None
    return item


def first_use_of_assertion(client_id: str, jti: str, exp: int) -> bool:
    """Record a client assertion's `jti`; False when it was seen before (a replayed assertion)."""
    pk, sk = keys.sso_assertion(client_id, jti)
    try:
        table.put({"pk": pk, "sk": sk, "ttl": exp + 60}, cond="attribute_not_exists(pk)")
    except ConditionFailed:
        return False
    return True
