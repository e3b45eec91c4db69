"""Authorization codes and the access tokens issued from them (OIDC Core 3.1; RFC 6749 4.1.2, 10.5).

A code is single use, lives 60 s and is bound to the client, the redirect URI and the PKCE challenge. Only its
hash is stored. Redeeming is one conditional update, so two redemptions cannot both win; a redemption that
finds the code used is a replay, and the token issued from it is revoked (RFC 6749 4.1.2).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from chalicelib.core import clock
from chalicelib.core.codes import hash_token
from chalicelib.store import journal, keys, table
from chalicelib.store.table import ConditionFailed, Tx

CODE_TTL = 60
ACCESS_TTL = 300  # userinfo tokens are short-lived
KEEP_USED = 24 * 3600  # a used code stays this long, so that a replay is recognised and its tokens revoked
REFRESH_TTL = 30 * 24 * 3600  # a refresh token lives no longer than the session limit (AU-9)


@dataclass
class AuthorizationCode:
    """A code ready to redeem, in the shape Authlib's AuthorizationCodeMixin (and its OIDC claims) asks for. It
    carries what the id_token says (`sub`, `sid`, the consented claims), taken when the person consented, so the
    token endpoint reads no account."""

    code_hash: str
    client_id: str
    redirect_uri: str
    scope: str
    user_id: str
    session_id: str
    nonce: str | None
    code_challenge: str | None
    code_challenge_method: str | None
    auth_time: int
    acr: str
    amr: list[str]
    sub: str
    sid: str
    claims: dict[str, Any]
    consent_id: str

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


@dataclass
class Assertion:
    """A private_key_jwt client assertion that passed: its `jti` is recorded in the token's transaction."""

    client_id: str
    jti: str
    exp: int


class Replayed(Exception):
    """The transaction found the code used or the assertion's `jti` seen: nothing was issued."""

    def __init__(self, what: str) -> None:
        super().__init__(what)
        self.what = what


def save(code: str, *, client_id: str, redirect_uri: str, scope: str, user_id: str, session_id: str,
         nonce: str | None, code_challenge: str | None, code_challenge_method: str | None, auth_time: int,
         acr: str, amr: list[str], ip: str | None, sub: str, sid: str, claims: dict[str, Any],
         with_tx: Callable[[Tx], str]) -> None:
    """Store a new code in one transaction with what `with_tx` adds (the grant), the session's list of clients
    (for back-channel logout) and the person's audit entry ("signed in to <client>")."""
    now = clock.epoch()
    code_hash = hash_token(code)
    pk, sk = keys.sso_code(code_hash)
    tx = Tx()
    tx.put_new({"pk": pk, "sk": sk, "client_id": client_id, "redirect_uri": redirect_uri, "scope": scope,
                "user_id": user_id, "session_id": session_id, "nonce": nonce, "code_challenge": code_challenge,
                "code_challenge_method": code_challenge_method, "auth_time": auth_time, "acr": acr, "amr": amr,
                "sub": sub, "sid": sid, "claims": claims, "expires_at": now + CODE_TTL, "ttl": now + KEEP_USED,
                "consent_id": with_tx(tx)})
    tx.update(keys.session(user_id, session_id), "ADD sso_clients :c", cond="attribute_exists(pk) AND "
              "attribute_not_exists(revoked_at)", values={":c": {client_id}})
    journal.audit(tx, keys.user_pk(user_id), "sso.authorized", user_id, ip, client_id=client_id, scope=scope)
    tx.commit()


def of_item(code_hash: str, item: dict[str, Any]) -> AuthorizationCode:
    return AuthorizationCode(code_hash=code_hash, client_id=item["client_id"], redirect_uri=item["redirect_uri"],
                             scope=item["scope"], user_id=item["user_id"], session_id=item["session_id"],
                             nonce=item.get("nonce"), code_challenge=item.get("code_challenge"),
                             code_challenge_method=item.get("code_challenge_method"),
                             auth_time=int(item["auth_time"]), acr=item["acr"], amr=list(item["amr"]),
                             sub=item["sub"], sid=item["sid"], claims=dict(item.get("claims") or {}),
                             consent_id=item.get("consent_id", ""))


def redeemable(code: str, client_id: str, item: dict[str, Any] | None) -> AuthorizationCode | None:
    """The code when it can be redeemed by this client now (`item`: the code's item, read with the client);
    None when it is unknown, expired, another client's, or used — and a used one revokes what it issued."""
    code_hash = hash_token(code)
    if item is None or item["client_id"] != client_id:
        return None
    if item.get("used_at") is not None:
        revoke_issued(item, code_hash)
        return None
    if int(item["expires_at"]) <= clock.epoch():
        return None
    return of_item(code_hash, item)


def revoke_issued(code_item: dict[str, Any], code_hash: str) -> None:
    """A replayed code: the tokens issued from it stop working (audited for the person)."""
    tx = Tx()
    for name in ("token_hash", "refresh_hash"):
        if code_item.get(name):
            key = keys.sso_token(code_item[name]) if name == "token_hash" else keys.sso_refresh(code_item[name])
            # a token already gone (its TTL) leaves a stub that expires too, rather than failing the audit
            tx.update(key, "SET revoked_at = :now, #ttl = if_not_exists(#ttl, :ttl)", names={"#ttl": "ttl"},
                      values={":now": clock.epoch(), ":ttl": clock.epoch() + KEEP_USED})
    journal.audit(tx, keys.user_pk(code_item["user_id"]), "sso.code_replayed", code_item["client_id"], None,
                  client_id=code_item["client_id"])
    tx.commit()


def save_token(access_token: str, *, code: AuthorizationCode, client_id: str, refresh_token: str | None,
               assertion: Assertion | None) -> None:
    """Issue in one transaction: the code marked used (only if it was not), the access token (with what userinfo
    answers, so userinfo reads one item), the refresh token, the assertion's `jti`. `Replayed` if any was."""
    now = clock.epoch()
    token_hash = hash_token(access_token)
    tx = Tx()
    values: dict[str, Any] = {":now": now, ":t": token_hash}
    update = "SET used_at = :now, token_hash = :t"
    if refresh_token:
        values[":r"] = hash_token(refresh_token)
        update += ", refresh_hash = :r"
    tx.update(keys.sso_code(code.code_hash), update, cond="attribute_exists(pk) AND attribute_not_exists(used_at)",
              values=values, tag="code")
    tx.put_new({**_token_item(keys.sso_token(token_hash), code, client_id), "expires_at": now + ACCESS_TTL,
                "ttl": now + ACCESS_TTL})
    if refresh_token:
        pk, sk = keys.sso_refresh(values[":r"])
        tx.put_new({"pk": pk, "sk": sk, "client_id": client_id, "user_id": code.user_id, "family": code.code_hash,
                    "consent_id": code.consent_id, "session_id": code.session_id, "scope": code.scope,
                    "sub": code.sub, "sid": code.sid,
                    "claims": code.claims, "acr": code.acr, "amr": code.amr, "auth_time": code.auth_time,
                    "issued_at": now, "ttl": now + REFRESH_TTL})
        grant_live(tx, code.user_id, client_id, code.consent_id)
    if assertion:
        pk, sk = keys.sso_assertion(assertion.client_id, assertion.jti)
        tx.put({"pk": pk, "sk": sk, "ttl": assertion.exp + 60}, cond="attribute_not_exists(pk)", tag="assertion")
    journal.audit(tx, keys.user_pk(code.user_id), "sso.token_issued", client_id, None, client_id=client_id)
    try:
        tx.commit()
    except ConditionFailed as exc:
        raise Replayed(exc.tag or "code") from None


def _token_item(key: tuple[str, str], code: AuthorizationCode, client_id: str) -> dict[str, Any]:
    pk, sk = key
    return {"pk": pk, "sk": sk, "client_id": client_id, "user_id": code.user_id, "scope": code.scope,
            "sub": code.sub, "claims": code.claims, "code_hash": code.code_hash}


def token(access_token: str) -> dict[str, Any] | None:
    """A live access token's item (one read), or None when unknown, expired or revoked."""
    item = table.get(keys.sso_token(hash_token(access_token)), consistent=False)
    if item is None or item.get("revoked_at") is not None or int(item["expires_at"]) <= clock.epoch():
        return None
    return item


@dataclass
class Refresh:
    """A refresh token presented to the token endpoint, in the shape Authlib's RefreshTokenGrant asks for."""

    token_hash: str
    item: dict[str, Any]

    def check_client(self, client: Any) -> bool:
        return self.item["client_id"] == client.client_id

    def get_scope(self) -> str:
        return self.item["scope"]

    def get_expires_in(self) -> int:
        return int(self.item["ttl"]) - clock.epoch()

    def is_expired(self) -> bool:
        return self.get_expires_in() <= 0

    def is_revoked(self) -> bool:
        return bool(self.item.get("revoked_at") or self.item.get("rotated_at"))


def refreshable(refresh_token: str, item: dict[str, Any] | None) -> Refresh | None:
    """The refresh token when it can be used now; a rotated one presented again revokes its successors (the
    token was stolen, or the client lost track: either way the chain ends)."""
    if item is None or item.get("revoked_at") or int(item["ttl"]) <= clock.epoch():
        return None
    if item.get("rotated_at"):
        _revoke_chain(item)
        return None
    return Refresh(hash_token(refresh_token), item)


def _revoke_chain(item: dict[str, Any]) -> None:
    tx = Tx()
    now = clock.epoch()
    successor = item.get("next_hash")
    for _ in range(50):
        if not successor:
            break
        tx.update(keys.sso_refresh(successor), "SET revoked_at = :now", values={":now": now})
        found = table.get(keys.sso_refresh(successor))
        successor = found.get("next_hash") if found else None
    journal.audit(tx, keys.user_pk(item["user_id"]), "sso.refresh_replayed", item["client_id"], None,
                  client_id=item["client_id"])
    tx.commit()


def rotate(access_token: str, *, old: Refresh, refresh_token: str, assertion: Assertion | None) -> None:
    """One transaction: the old refresh token marked rotated (only if it was not), its successor, the new access
    token, the grant's list of live refresh tokens, the assertion's `jti`. `Replayed` if any condition fails."""
    now = clock.epoch()
    item = old.item
    new_hash, token_hash = hash_token(refresh_token), hash_token(access_token)
    tx = Tx()
    tx.update(keys.sso_refresh(old.token_hash), "SET rotated_at = :now, next_hash = :n",
              cond="attribute_exists(pk) AND attribute_not_exists(rotated_at) AND attribute_not_exists(revoked_at)",
              values={":now": now, ":n": new_hash}, tag="refresh")
    pk, sk = keys.sso_refresh(new_hash)
    kept = {k: item[k] for k in ("client_id", "user_id", "family", "consent_id", "session_id", "scope", "sub", "sid",
                                 "claims", "acr", "amr", "auth_time") if k in item}
    tx.put_new({"pk": pk, "sk": sk, **kept, "issued_at": now, "ttl": now + REFRESH_TTL})
    pk, sk = keys.sso_token(token_hash)
    tx.put_new({"pk": pk, "sk": sk, "client_id": item["client_id"], "user_id": item["user_id"],
                "scope": item["scope"], "sub": item["sub"], "claims": item.get("claims") or {},
                "refresh_hash": new_hash, "expires_at": now + ACCESS_TTL, "ttl": now + ACCESS_TTL})
    grant_live(tx, item["user_id"], item["client_id"], item["consent_id"])
    if assertion:
        pk, sk = keys.sso_assertion(assertion.client_id, assertion.jti)
        tx.put({"pk": pk, "sk": sk, "ttl": assertion.exp + 60}, cond="attribute_not_exists(pk)", tag="assertion")
    journal.audit(tx, keys.user_pk(item["user_id"]), "sso.token_refreshed", item["client_id"], None,
                  client_id=item["client_id"])
    try:
        tx.commit()
    except ConditionFailed as exc:
        raise Replayed(exc.tag or "refresh") from None


def grant_live(tx: Tx, user_id: str, client_id: str, consent_id: str) -> None:
    """A refresh token works only while the consent it was issued under stands: revoking it (or a new consent
    replacing it) ends every refresh token of the grant, with no list to keep. A check, not a read."""
    tx.check(keys.sso_grant(user_id, client_id), "attribute_not_exists(revoked_at) AND consent_id = :c",
             values={":c": consent_id}, tag="grant")
