"""Relying parties: registered by an admin (no dynamic registration), read by the authorization server."""

from __future__ import annotations

import hashlib
import hmac
from dataclasses import dataclass, field
from typing import Any

from chalicelib.core import clock
from chalicelib.store import journal, keys, table
from chalicelib.store.table import Tx

AUTH_METHODS = ("private_key_jwt", "client_secret_basic", "none")
ID_TOKEN_ALGS = ("RS256", "EdDSA")


@dataclass
class Client:
    """A registered client, in the shape Authlib's ClientMixin asks for."""

    client_id: str
    redirect_uris: list[str]
    scopes: list[str]
    auth_method: str = "private_key_jwt"
    secret_hash: str | None = None
    jwks: dict[str, Any] | None = None
    sector: str | None = None
    public_sub: bool = False
    name: str = ""
    grant_types: list[str] = field(default_factory=lambda: ["authorization_code"])
    post_logout_redirect_uris: list[str] = field(default_factory=list)
    backchannel_logout_uri: str | None = None
    id_token_alg: str = "RS256"

    # -- Authlib ClientMixin --
    def get_client_id(self) -> str:
        return self.client_id

    def get_default_redirect_uri(self) -> str | None:
        return None  # the redirect_uri is always required and matched exactly: no defaults

    def get_allowed_scope(self, scope: str) -> str:
        asked = (scope or "").split()
        return " ".join(s for s in asked if s in self.scopes)

    def check_redirect_uri(self, redirect_uri: str) -> bool:
        return redirect_uri in self.redirect_uris  # exact match only: no open redirect

    def check_client_secret(self, client_secret: str) -> bool:
        if not self.secret_hash:
            return False
        return hmac.compare_digest(hashlib.sha256(client_secret.encode()).hexdigest(), self.secret_hash)

    def check_endpoint_auth_method(self, method: str, endpoint: str) -> bool:
        return method == self.auth_method if endpoint == "token" else True

    def check_response_type(self, response_type: str) -> bool:
        return response_type == "code"

    def check_grant_type(self, grant_type: str) -> bool:
        return grant_type in self.grant_types

    @property
    def offline(self) -> bool:
        """Allowed refresh tokens: `offline_access` among its scopes (OIDC Core 11)."""
        return "offline_access" in self.scopes

    @property
    def sector_id(self) -> str:
        return self.sector or self.client_id


def of_item(item: dict[str, Any]) -> Client:
    grants = ["authorization_code", "refresh_token"] if "offline_access" in item["scopes"] else ["authorization_code"]
    return Client(client_id=item["client_id"], redirect_uris=list(item["redirect_uris"]), scopes=list(item["scopes"]),
                  auth_method=item["auth_method"], secret_hash=item.get("secret_hash"), jwks=item.get("jwks"),
                  sector=item.get("sector"), public_sub=bool(item.get("public_sub")), name=item.get("name", ""),
                  grant_types=grants, post_logout_redirect_uris=list(item.get("post_logout_redirect_uris") or []),
                  backchannel_logout_uri=item.get("backchannel_logout_uri"),
                  id_token_alg=item.get("id_token_alg") or "RS256")


def get(client_id: str) -> Client | None:
    item = table.get(keys.sso_client(client_id), consistent=False)
    return of_item(item) if item else None


def register(client_id: str, *, name: str, redirect_uris: list[str], scopes: list[str],
             auth_method: str = "private_key_jwt", secret: str | None = None, jwks: dict[str, Any] | None = None,
             sector: str | None = None, public_sub: bool = False, post_logout_redirect_uris: list[str] | None = None,
             backchannel_logout_uri: str | None = None, id_token_alg: str = ID_TOKEN_ALGS[0],
             actor: str = "admin") -> None:
    """The admin command's core: a client is written once (a second registration of the id fails).
    `scopes` may include `offline_access`: the client then gets rotated refresh tokens."""
    if auth_method not in AUTH_METHODS:
        raise ValueError(f"unknown token endpoint auth method {auth_method}")
    if auth_method == "client_secret_basic" and not secret:
        raise ValueError("client_secret_basic needs a secret")
    if auth_method == "private_key_jwt" and not jwks:
        raise ValueError("private_key_jwt needs the client's JWKS")
    if id_token_alg not in ID_TOKEN_ALGS:
        raise ValueError(f"id_token_alg must be one of {', '.join(ID_TOKEN_ALGS)}")
    pk, sk = keys.sso_client(client_id)
    tx = Tx()
    tx.put_new({"pk": pk, "sk": sk, "client_id": client_id, "name": name, "redirect_uris": redirect_uris,
                "scopes": scopes, "auth_method": auth_method,
                "secret_hash": hashlib.sha256(secret.encode()).hexdigest() if secret else None, "jwks": jwks,
                "sector": sector, "public_sub": public_sub,
                "post_logout_redirect_uris": post_logout_redirect_uris or [],
                "backchannel_logout_uri": backchannel_logout_uri, "id_token_alg": id_token_alg,
                "created_at": clock.epoch()})
    journal.audit(tx, pk, "sso.client_registered", actor, None, auth_method=auth_method)
    tx.commit()
