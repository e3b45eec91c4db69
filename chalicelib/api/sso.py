"""Single sign-on (issue 15; docs/sso.md): Kabinet as the OpenID Connect provider of other state systems.

The protocol is Authlib's (chalicelib/sso/server.py); these routes hand it the request taken apart and turn its
`(status, body, headers)` into a response. The token and userinfo endpoints answer in the OAuth/OIDC error
shape (`{"error", "error_description"}`, RFC 6749 5.2, RFC 6750 3), which relying parties' libraries expect.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import parse_qs

from chalice import Blueprint, Response
from pydantic import Field

from chalicelib.api.http import Call, endpoint, json_response
from chalicelib.core.errors import Invalid
from chalicelib.core.models import Out, Query
from chalicelib.store import keys, table

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


class AuthorizeQuery(Query):
    response_type: str = Field(max_length=20)
    client_id: str = Field(max_length=100)
    redirect_uri: str = Field(max_length=2000)
    scope: str = Field(max_length=500)
    state: str = Field(max_length=500)
    nonce: str = Field(max_length=500)
    code_challenge: str | None = Field(None, max_length=128)
    code_challenge_method: str | None = Field(None, max_length=10)


class AuthorizeOut(Out):
    redirect_to: str = Field(description="Where the web client sends the person: the client's redirect URI "
                                         "with `code` and `state`, or with `error` and `state`")


class TokenOut(Out):
    access_token: str | None = None
    token_type: str | None = None
    expires_in: int | None = None
    scope: str | None = None
    id_token: str | None = None
    error: str | None = None
    error_description: str | None = None


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
    error: str | None = None
    error_description: str | None = None


@endpoint(bp, "GET", "/.well-known/openid-configuration", summary="OpenID Provider metadata (OIDC Discovery 1.0)",
          auth=False, tag="sso", response=DiscoveryOut)
def discovery(call: Call) -> dict[str, Any]:
    from chalicelib.sso import claims
    from chalicelib.sso.server import endpoints, issuer

    return {"issuer": issuer(), **endpoints(), "response_types_supported": ["code"],
            "grant_types_supported": ["authorization_code"], "subject_types_supported": ["pairwise", "public"],
            "id_token_signing_alg_values_supported": ["EdDSA"],
            "token_endpoint_auth_methods_supported": ["private_key_jwt", "client_secret_basic", "none"],
            "token_endpoint_auth_signing_alg_values_supported": ["RS256", "ES256", "EdDSA"],
            "code_challenge_methods_supported": ["S256"], "scopes_supported": list(claims.SCOPES),
            "claims_supported": ["sub", "iss", "aud", "exp", "iat", "auth_time", "nonce", "acr", "amr",
                                 "family_name", "given_name", "middle_name", "birthdate", "snils", "inn", "email",
                                 "phone_number"],
            "acr_values_supported": list(claims.ACR_ORDER)}


def _values(query: dict[str, str]) -> dict[str, list[str]]:
    return {k: [v] for k, v in query.items()}


@endpoint(bp, "GET", "/sso/authorize", summary="Authorization endpoint: the signed-in person lets a system "
          "sign them in; answers where to send the browser", query=AuthorizeQuery, response=AuthorizeOut,
          tag="sso")
def authorize(call: Call) -> dict[str, Any]:
    from chalicelib.sso.server import Person, oauth_request, server

    user, session = table.get_many([keys.user(call.user_id), keys.session(call.user_id,
                                                                          call.principal.session_id)])
    if user is None or session is None:
        raise Invalid("SSO_SESSION", "Войдите заново, чтобы продолжить")
    person = Person({**user, "_session": session, "_ip": call.origin.ip})
    srv = server()
    request = srv.create_oauth2_request(oauth_request("GET", "/sso/authorize", call.headers,
                                                      _values(call.query)))
    grant = srv.get_authorization_grant(request)
    request.user = person
    status, body, headers = srv.create_authorization_response(request, grant_user=person, grant=grant)
    location = headers.get("Location")
    if status == 302 and location:
        return {"redirect_to": location}
    # The redirect URI is not trusted (unknown client, unregistered URI): never redirect there.
    description = (body or {}).get("error_description") if isinstance(body, dict) else None
    raise Invalid("SSO_INVALID_REQUEST", "Система, из которой вы пришли, передала неверный запрос на вход",
                  {"request": description or "Неверный запрос"})


@endpoint(bp, "POST", "/sso/token", summary="Token endpoint: a code (with its PKCE verifier) for the id_token "
          "and an access token", auth=False, raw=(FORM,), response=TokenOut, also={400: "OAuth error",
                                                                                      401: "client auth failed"},
          limited=True, tag="sso")
def token(call: Call, raw: bytes) -> Response:
    from chalicelib.sso.server import oauth_request, server

    form = parse_qs(raw.decode("utf-8", "replace"), keep_blank_values=True)
    status, body, headers = server().create_token_response(
        oauth_request("POST", "/sso/token", call.headers, {}, form))
    return json_response(body, status, {k: v for k, v in headers.items() if k.lower() != "content-type"})


@endpoint(bp, "GET", "/sso/userinfo", summary="UserInfo endpoint: the claims of the granted scopes, for an SSO "
          "access token", auth=False, response=UserInfoOut, also={401: "invalid token"}, tag="sso")
def userinfo(call: Call) -> Response:
    from chalicelib.sso import claims, clients, codes
    from chalicelib.sso.server import sub_for

    scheme, _, value = (call.header("authorization") or "").partition(" ")
    item = codes.token(value.strip()) if scheme.lower() == "bearer" and value.strip() else None
    client = clients.get(item["client_id"]) if item else None
    user = table.get(keys.user(item["user_id"]), consistent=False) if item and client else None
    if item is None or client is None or user is None:
        return json_response({"error": "invalid_token", "error_description": "unknown, expired or revoked"}, 401,
                             {"WWW-Authenticate": 'Bearer error="invalid_token"'})
    return {"sub": sub_for(client, user["user_id"]), **claims.user_claims(user, item["scope"].split())}
