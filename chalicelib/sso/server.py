"""Authlib's authorization server adapted to Chalice (docs/sso.md).

Authlib has no Chalice integration: like `authlib.integrations.flask_oauth2`, `Server` builds Authlib's
`OAuth2Request` from the request's method, URI, headers and values, and `handle_response` hands back a plain
`(status, body, headers)` triple, which the API layer turns into a response — so this module knows no HTTP
framework. Authlib costs ~190 ms to import (oidc.core pulls in joserfc): `server()` imports it on first use.
"""

from __future__ import annotations

import functools
import json
import os
from collections import defaultdict
from typing import Any

from chalicelib.core import clock, tokens
from chalicelib.core.config import settings
from chalicelib.sso import claims, clients, codes
from chalicelib.sso.pairwise import subject

ID_TOKEN_TTL = 300
ASSERTION_MAX_TTL = 300


def issuer() -> str:
    """The `iss` of every id_token and the discovery document's `issuer`: the public base URL of the API."""
    return settings().public_url.rstrip("/")


def endpoints() -> dict[str, str]:
    base = issuer()
    return {"authorization_endpoint": f"{base}/sso/authorize", "token_endpoint": f"{base}/sso/token",
            "userinfo_endpoint": f"{base}/sso/userinfo", "jwks_uri": f"{base}/.well-known/jwks.json"}


def _signing_key() -> tuple[str, str]:
    """(kid, PEM) of the key that signs id_tokens. First cut: the active Ed25519 access-token key (EdDSA, its
    JWKS already published); the RS256 key in its own secret is the next step (docs/sso.md, Progress)."""
    from cryptography.hazmat.primitives import serialization

    keys = tokens._keys()
    pem = keys.private[keys.active_kid].private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()).decode()
    return keys.active_kid, pem


def pairwise_secret() -> bytes:
    """The per-provider secret of pairwise `sub`s. First cut: derived from the oldest token-signing key, so it
    is stable across a rotation that keeps that key; its own secret is the next step (docs/sso.md)."""
    import hashlib

    from cryptography.hazmat.primitives import serialization

    keys = tokens._keys()
    oldest = keys.private[sorted(keys.private)[0]]
    raw = oldest.private_bytes(serialization.Encoding.Raw, serialization.PrivateFormat.Raw,
                               serialization.NoEncryption())
    return hashlib.sha256(b"kabinet-sso-pairwise|" + raw).digest()


def sub_for(client: clients.Client, person_id: str) -> str:
    return person_id if client.public_sub else subject(pairwise_secret(), client.sector_id, person_id)


class Person:
    """The resource owner as Authlib sees it: the account item plus the session's facts."""

    def __init__(self, user: dict[str, Any]) -> None:
        self.user = user

    def get_user_id(self) -> str:
        return self.user["user_id"]


class _Headers(dict):
    """Request headers found whatever case the client wrote them in (Authlib asks for `Authorization`)."""

    def __init__(self, headers: dict[str, str]) -> None:
        super().__init__({k.lower(): v for k, v in headers.items()})

    def get(self, name: str, default: Any = None) -> Any:  # type: ignore[override]
        return super().get(name.lower(), default)

    def __getitem__(self, name: str) -> Any:
        return super().__getitem__(name.lower())

    def __contains__(self, name: object) -> bool:
        return isinstance(name, str) and super().__contains__(name.lower())


class _Payload:
    """Authlib's OAuth2Payload over a plain dict of values (query string or form)."""

    def __init__(self, values: dict[str, list[str]]) -> None:
        self._values = values

    @property
    def data(self) -> dict[str, str]:
        return {k: v[0] for k, v in self._values.items() if v}

    @property
    def datalist(self) -> dict[str, list[str]]:
        return defaultdict(list, self._values)


@functools.cache
def server() -> Any:
    """The one authorization server of the container, built on first use (Authlib imported lazily)."""
    from authlib.oauth2 import AuthorizationServer
    from authlib.oauth2.rfc6749 import OAuth2Request
    from authlib.oauth2.rfc6749.errors import InvalidClientError
    from authlib.oauth2.rfc6749.grants import AuthorizationCodeGrant
    from authlib.oauth2.rfc6749.requests import OAuth2Payload
    from authlib.oauth2.rfc7523 import JWTBearerClientAssertion
    from authlib.oauth2.rfc7636 import CodeChallenge
    from authlib.oidc.core import OpenIDCode, UserInfo
    from joserfc.jwk import KeySet

    if issuer().startswith("http://") and settings().is_local:
        os.environ["AUTHLIB_INSECURE_TRANSPORT"] = "1"  # the local cloud serves plain HTTP; deployments HTTPS

    class Payload(_Payload, OAuth2Payload):
        pass

    class Request(OAuth2Request):
        def __init__(self, method: str, uri: str, headers: dict[str, str], query: dict[str, list[str]],
                     form: dict[str, list[str]]) -> None:
            super().__init__(method=method, uri=uri, headers=headers)
            self._query, self._form = query, form
            self.payload = Payload({**query, **form})

        @property
        def args(self) -> dict[str, str]:
            return {k: v[0] for k, v in self._query.items() if v}

        @property
        def form(self) -> dict[str, str]:
            return {k: v[0] for k, v in self._form.items() if v}

    class CodeGrant(AuthorizationCodeGrant):
        TOKEN_ENDPOINT_AUTH_METHODS = ("client_secret_basic", "private_key_jwt", "none")

        def save_authorization_code(self, code: str, request: Any) -> None:
            person: Person = request.user
            session = person.user["_session"]
            data = request.payload.data
            codes.save(code, client_id=request.client.client_id, redirect_uri=request.payload.redirect_uri,
                       scope=request.scope, user_id=person.get_user_id(), session_id=session["session_id"],
                       nonce=data.get("nonce"), code_challenge=data.get("code_challenge"),
                       code_challenge_method=data.get("code_challenge_method"),
                       auth_time=int(session["created_at"]), acr=claims.acr(person.user.get("tier", "")),
                       amr=claims.amr(session.get("method"), session.get("mfa")), ip=person.user.get("_ip"))

        def query_authorization_code(self, code: str, client: Any) -> Any:
            return codes.redeem(code, client.client_id)

        def delete_authorization_code(self, authorization_code: Any) -> None:
            """Nothing to delete: the code was marked used when redeemed and stays until its TTL (replays)."""

        def authenticate_user(self, authorization_code: Any) -> Person | None:
            from chalicelib.store import keys, table

            user = table.get(keys.user(authorization_code.user_id), consistent=False)
            return Person(user) if user else None

    class OpenID(OpenIDCode):
        def exists_nonce(self, nonce: str, request: Any) -> bool:
            return False  # a nonce is bound to its single-use code, which cannot be redeemed twice

        def get_jwt_config(self, grant: Any = None, client: Any = None) -> dict[str, Any]:
            kid, pem = _signing_key()
            return {"key": pem, "alg": "EdDSA", "iss": issuer(), "exp": ID_TOKEN_TTL, "kid": kid}

        def generate_user_info(self, user: Person, scope: str) -> Any:
            client = self.request_client  # set in encode_id_token below
            return UserInfo(sub=sub_for(client, user.get_user_id()),
                            **claims.user_claims(user.user, scope.split()))

        def encode_id_token(self, token: dict[str, Any], request: Any) -> str:
            self.request_client = request.client
            return super().encode_id_token(token, request)

    class Server(AuthorizationServer):
        def query_client(self, client_id: str) -> clients.Client | None:
            return clients.get(client_id) if client_id else None

        def save_token(self, token: dict[str, Any], request: Any) -> None:
            codes.save_token(token["access_token"], code_hash=request.authorization_code.code_hash,
                             client_id=request.client.client_id, user_id=request.user.get_user_id(),
                             scope=token.get("scope", ""))

        def create_oauth2_request(self, request: Any) -> Any:
            if isinstance(request, OAuth2Request):
                return request
            return Request(**request)

        def create_json_request(self, request: Any) -> Any:
            raise NotImplementedError("no JSON endpoints")

        def handle_response(self, status: int, body: Any, headers: Any) -> tuple[int, Any, dict[str, str]]:
            return status, body, dict(headers or [])

        def send_signal(self, name: str, *args: Any, **kwargs: Any) -> None:
            return None

    class PrivateKeyJWT(JWTBearerClientAssertion):
        """private_key_jwt: `aud` the token endpoint, `exp` at most 5 minutes ahead, a single-use `jti`."""

        CLIENT_AUTH_METHOD = "private_key_jwt"

        def get_audiences(self) -> list[str]:
            return [endpoints()["token_endpoint"]]

        def verify_claims(self, claims_: dict[str, Any]) -> None:
            super().verify_claims(claims_)
            if int(claims_["exp"]) - clock.epoch() > ASSERTION_MAX_TTL:
                raise InvalidClientError(description="client_assertion 'exp' is more than 5 minutes ahead")

        def validate_jti(self, claims_: dict[str, Any], jti: str) -> bool:
            return codes.first_use_of_assertion(claims_["sub"], jti, int(claims_["exp"]))

        def resolve_client_public_key(self, client: clients.Client) -> Any:
            return KeySet.import_key_set(client.jwks or {"keys": []})

    srv = Server(scopes_supported=list(claims.SCOPES))
    srv.register_client_auth_method(PrivateKeyJWT.CLIENT_AUTH_METHOD, PrivateKeyJWT())
    srv.register_token_generator("default", _bearer())
    srv.register_grant(CodeGrant, [CodeChallenge(required=True), OpenID(require_nonce=True)])
    return srv


def _bearer() -> Any:
    from authlib.common.security import generate_token
    from authlib.oauth2.rfc6750 import BearerTokenGenerator

    return BearerTokenGenerator(lambda *a, **k: generate_token(43), expires_generator=lambda c, g: codes.ACCESS_TTL)


def oauth_request(method: str, path: str, headers: dict[str, str], query: dict[str, list[str]],
                  form: dict[str, list[str]] | None = None) -> dict[str, Any]:
    """The values `Server.create_oauth2_request` takes: the framework's request, already taken apart."""
    from urllib.parse import urlencode

    qs = urlencode([(k, v) for k, vs in query.items() for v in vs])
    return {"method": method, "uri": f"{issuer()}{path}{'?' + qs if qs else ''}", "headers": _Headers(headers),
            "query": query, "form": form or {}}


def body_json(body: Any) -> str:
    return body if isinstance(body, str) else json.dumps(body)
