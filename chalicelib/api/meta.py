"""Documents about the API itself: the OpenAPI description built from the registered routes, and the public keys
(access tokens' and single sign-on's)."""

from __future__ import annotations

import re
from typing import Annotated, Any, Literal

from chalice import Blueprint
from pydantic import Field

from chalicelib.api.http import Call, endpoint
from chalicelib.api.openapi import document
from chalicelib.core import tokens
from chalicelib.core.models import Out
from chalicelib.sso import signing

bp = Blueprint(__name__)
_PREFIX = re.compile(r"^(?:/[A-Za-z0-9._~-]+)*$")


class OkpJwk(Out):  # an Ed25519 public key (RFC 8037): access tokens, and single sign-on's EdDSA id_tokens
    kty: Literal["OKP"]
    crv: Literal["Ed25519"]
    alg: Literal["EdDSA"]
    use: Literal["sig"]
    kid: str
    x: str


class RsaJwk(Out):  # an RSA public key (RFC 7518 6.3.1): single sign-on's RS256 id_tokens
    kty: Literal["RSA"]
    alg: Literal["RS256"]
    use: Literal["sig"]
    kid: str
    n: str = Field(description="Модуль, base64url")
    e: str = Field(description="Открытая экспонента, base64url")


class JwksOut(Out):
    keys: list[Annotated[OkpJwk | RsaJwk, Field(discriminator="kty")]]


def served_prefix(context: dict[str, Any]) -> str:
    """Where this API is mounted, from the request itself: the part of the called path before the route —
    `/api` on API Gateway's stage URL, nothing behind a custom domain or on the local cloud."""
    called, route = context.get("path") or "", context.get("resourcePath") or ""
    prefix = called[:-len(route)] if route and called.endswith(route) else ""
    return prefix if _PREFIX.fullmatch(prefix) else ""


@endpoint(bp, "GET", "/openapi.json", summary="This document", auth=False, tag="meta", response=dict[str, Any])
def openapi_json(call: Call) -> dict[str, Any]:
    return document(served_prefix(bp.current_request.context or {}))


@endpoint(bp, "GET", "/.well-known/jwks.json", summary="Public keys that verify access tokens and id_tokens",
          auth=False, tag="meta", response=JwksOut)
def jwks(call: Call) -> dict[str, Any]:
    return {"keys": tokens.public_jwks()["keys"] + signing.public_jwks()}
