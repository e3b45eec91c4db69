"""Single sign-on (issue 15; docs/sso.md): Kabinet as the OpenID Connect provider of other state systems.

The protocol is Authlib's (chalicelib/sso/server.py); these routes hand it the request taken apart and turn its
`(status, body, headers)` into a response. The token and userinfo endpoints answer in the OAuth/OIDC error
shape (`{"error", "error_description"}`, RFC 6749 5.2, RFC 6750 3), which relying parties' libraries expect.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import parse_qs

from chalice import Blueprint, Response

from chalicelib.api.http import Call, endpoint, json_response
from chalicelib.core.models import Out

bp = Blueprint(__name__)
FORM = "application/x-www-form-urlencoded"


class DiscoveryOut(Out):
    issuer: str
    authorization_endpoint: str
    token_endpoint: str
    userinfo_endpoint: str
    jwks_uri: str
    response_types_supported: list[str]
    grant_types_supported: list[str]
    subject_types_supported: list[str]
    id_token_signing_alg_values_supported: list[str]
    token_endpoint_auth_methods_supported: list[str]
    token_endpoint_auth_signing_alg_values_supported: list[str]
    code_challenge_methods_supported: list[str]
    scopes_supported: list[str]
    claims_supported: list[str]
    acr_values_supported: list[str]
    claims_parameter_supported: bool
    prompt_values_supported: list[str]
    end_session_endpoint: str
    backchannel_logout_supported: bool
    backchannel_logout_session_supported: bool


class TokenOut(Out):
    access_token: str | None = None
    token_type: str | None = None
    expires_in: int | None = None
    scope: str | None = None
    id_token: str | None = None
    refresh_token: str | None = None
    error: str | None = None
    error_description: str | None = None


class SsoPassportClaim(Out):
    series: str | None = None
    number: str | None = None
    issued_at: str | None = None
    issued_by: str | None = None
    division_code: str | None = None


class SsoAddressClaim(Out):
    formatted: str


class UserInfoOut(Out):
    sub: str | None = None
    family_name: str | None = None
    given_name: str | None = None
    middle_name: str | None = None
    birthdate: str | None = None
    snils: str | None = None
    inn: str | None = None
    email: str | None = None
    phone_number: str | None = None
    email_verified: bool | None = None
    phone_number_verified: bool | None = None
    passport: SsoPassportClaim | None = None
    address: SsoAddressClaim | None = None
    error: str | None = None
    error_description: str | None = None


@endpoint(bp, "GET", "/.well-known/openid-configuration", summary="OpenID Provider metadata (OIDC Discovery 1.0)",
          auth=False, tag="sso", response=DiscoveryOut)
def discovery(call: Call) -> dict[str, Any]:
    from chalicelib.sso import claims
    from chalicelib.sso.server import endpoints, issuer

    return {"issuer": issuer(), **endpoints(), "response_types_supported": ["code"],
            "grant_types_supported": ["authorization_code", "refresh_token"],
            "subject_types_supported": ["pairwise", "public"],
            "id_token_signing_alg_values_supported": ["RS256", "EdDSA"],
            "token_endpoint_auth_methods_supported": ["private_key_jwt", "client_secret_basic", "none"],
            "token_endpoint_auth_signing_alg_values_supported": ["RS256", "ES256", "EdDSA"],
            "code_challenge_methods_supported": ["S256"], "scopes_supported": list(claims.SCOPES),
            "claims_supported": ["sub", "iss", "aud", "exp", "iat", "auth_time", "nonce", "acr", "amr",
                                 "family_name", "given_name", "middle_name", "birthdate", "snils", "inn", "email",
                                 "phone_number"],
            "acr_values_supported": list(claims.ACR_ORDER), "claims_parameter_supported": False,
            "prompt_values_supported": ["none", "login", "consent"],
            "end_session_endpoint": f"{issuer()}/logout/end-session", "backchannel_logout_supported": True,
            "backchannel_logout_session_supported": True}


@endpoint(bp, "POST", "/sso/token", summary="Token endpoint: a code (with its PKCE verifier) for the id_token "
          "and an access token", auth=False, raw=(FORM,), response=TokenOut, also={400: "OAuth error",
                                                                                      401: "client auth failed"},
          limited=True, tag="sso")
def token(call: Call, raw: bytes) -> Response:
    from chalicelib.sso.server import oauth_request, prefetch, server

    form = parse_qs(raw.decode("utf-8", "replace"), keep_blank_values=True)
    prefetch(form, call.header("authorization"))
    status, body, headers = server().create_token_response(
        oauth_request("POST", "/sso/token", call.headers, {}, form))
    return json_response(body, status, {k: v for k, v in headers.items() if k.lower() != "content-type"})


@endpoint(bp, "GET", "/sso/userinfo", summary="UserInfo endpoint: the claims of the granted scopes, for an SSO "
          "access token", auth=False, response=UserInfoOut, also={401: "invalid token"}, tag="sso")
def userinfo(call: Call) -> Response:
    from chalicelib.sso import codes

    scheme, _, value = (call.header("authorization") or "").partition(" ")
    item = codes.token(value.strip()) if scheme.lower() == "bearer" and value.strip() else None
    if item is None:
        return json_response({"error": "invalid_token", "error_description": "unknown, expired or revoked"}, 401,
                             {"WWW-Authenticate": 'Bearer error="invalid_token"'})
    return {"sub": item["sub"], **item.get("claims", {})}
