"""Authlib's authorization server adapted to Chalice (docs/sso.md).

Authlib has no Chalice integration: like `authlib.integrations.flask_oauth2`, `Server` builds Authlib's
`OAuth2Request` from the request's method, URI, headers and values, and `handle_response` hands back a plain
`(status, body, headers)` triple, which the API layer turns into a response — so this module knows no HTTP
framework. Authlib costs ~190 ms to import (oidc.core pulls in joserfc): `server()` imports it on first use.
"""

from __future__ import annotations

import contextlib
import functools
import json
import os
import threading
from collections import defaultdict
from typing import Any
from urllib.parse import unquote

from chalicelib.core import clock
from chalicelib.core.config import settings
from chalicelib.sso import claims, clients, codes
from chalicelib.sso.pairwise import subject

ID_TOKEN_TTL = 300
ASSERTION_MAX_TTL = 300
ASSERTION_ALGS = ("RS256", "ES256", "EdDSA")


class _Prefetched(threading.local):
    """What the token endpoint read before Authlib runs (the client and the code, one BatchGetItem) and the
    client assertion that passed (its `jti` goes into the token's transaction). Reset for every request."""

    clients: dict[str, Any]
    code: dict[str, Any] | None
    assertion: Any

    def __init__(self) -> None:  # threading.local runs it in every thread that touches the object
        self.reset()

    def reset(self, found: dict[str, Any] | None = None, code: dict[str, Any] | None = None) -> None:
        self.clients, self.code, self.assertion = found or {}, code, None


_prefetched = _Prefetched()


def known_clients(found: dict[str, Any]) -> None:
    """Clients the caller already read (the authorization page reads the client with the person's items)."""
    _prefetched.reset(found)


def issuer() -> str:
    """The `iss` of every id_token and the discovery document's `issuer`: the public base URL of the API."""
    return settings().public_url.rstrip("/")


def endpoints() -> dict[str, str]:
    base = issuer()
    return {"authorization_endpoint": f"{base}/login/authorize", "token_endpoint": f"{base}/sso/token",
            "userinfo_endpoint": f"{base}/sso/userinfo", "jwks_uri": f"{base}/.well-known/jwks.json"}


def _signing_key(alg: str) -> tuple[str, Any]:
    """(kid, joserfc key) of the active SSO key for `alg` (chalicelib/sso/signing.py, its own secret)."""
    from joserfc.jwk import OKPKey, RSAKey

    from chalicelib.sso import signing

    kid, private = signing.signing_key(alg)
    return kid, (RSAKey if alg == "RS256" else OKPKey).import_key(private, {"kid": kid})


def pairwise_secret() -> bytes:
    from chalicelib.sso import signing

    return signing.pairwise_secret()


def sub_for(client: clients.Client, person_id: str) -> str:
    return person_id if client.public_sub else subject(pairwise_secret(), client.sector_id, person_id)


def sign_jwt(claims_: dict[str, Any], alg: str, typ: str = "JWT") -> str:
    """A JWT signed with the provider's key for `alg` (id_tokens, logout tokens), its kid in the header."""
    from joserfc import jwt

    kid, key = _signing_key(alg)
    return jwt.encode({"alg": alg, "kid": kid, "typ": typ}, claims_, key, algorithms=[alg])


def verification_keys() -> Any:
    """Our public SSO keys as a joserfc KeySet (the id_token hints that come back to the logout endpoint)."""
    from joserfc.jwk import KeySet

    from chalicelib.sso import signing

    return KeySet.import_key_set({"keys": signing.public_jwks()})


def session_sid(client: clients.Client, session_id: str) -> str:
    """The id_token's `sid` (Front/Back-Channel Logout): the session, not linkable across clients."""
    return subject(pairwise_secret(), f"sid|{client.sector_id}", session_id)


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
    from authlib.oauth2.rfc6749.errors import InvalidClientError, InvalidGrantError, InvalidRequestError
    from authlib.oauth2.rfc6749.grants import AuthorizationCodeGrant, RefreshTokenGrant
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
            user = person.user
            amr = claims.amr(session.get("method"), session.get("mfa"))
            client: clients.Client = request.client
            from chalicelib.sso import authorize

            codes.save(code, client_id=client.client_id, redirect_uri=request.payload.redirect_uri,
                       scope=request.scope, user_id=person.get_user_id(), session_id=session["session_id"],
                       nonce=data.get("nonce"), code_challenge=data.get("code_challenge"),
                       code_challenge_method=data.get("code_challenge_method"),
                       auth_time=int(session["created_at"]), acr=authorize.session_acr(user.get("tier", ""), amr),
                       amr=amr, ip=user.get("_ip"), sub=sub_for(client, person.get_user_id()),
                       sid=session_sid(client, session["session_id"]),
                       claims=claims.user_claims(user, request.scope.split()),
                       with_tx=lambda tx: authorize.add_grant(tx, user, client, request.scope.split(),
                                                              user.get("_grant"), user.get("_consented", False),
                                                              user.get("_ip")))

        def query_authorization_code(self, code: str, client: Any) -> Any:
            return codes.redeemable(code, client.client_id, _prefetched.code)

        def delete_authorization_code(self, authorization_code: Any) -> None:
            """Nothing to delete: save_token marked the code used; it stays until its TTL (replays)."""

        def authenticate_user(self, authorization_code: Any) -> Person | None:
            return Person({"user_id": authorization_code.user_id, "_code": authorization_code})

    class OpenID(OpenIDCode):
        def exists_nonce(self, nonce: str, request: Any) -> bool:
            return False  # a nonce is bound to its single-use code, which cannot be redeemed twice

        def get_client_algorithm(self, client: clients.Client) -> str:
            return client.id_token_alg

        def resolve_client_private_key(self, client: clients.Client) -> Any:
            return _signing_key(client.id_token_alg)[1]

        def get_encode_header(self, client: clients.Client) -> dict[str, str]:
            return {"alg": client.id_token_alg, "kid": _signing_key(client.id_token_alg)[0], "typ": "JWT"}

        def get_client_claims(self, client: clients.Client) -> dict[str, Any]:
            now = clock.epoch()
            return {"iss": issuer(), "aud": [client.client_id], "iat": now, "exp": now + ID_TOKEN_TTL}

        def generate_user_info(self, user: Person, scope: str) -> Any:
            code = user.user["_code"]
            return UserInfo(sub=code.sub, sid=code.sid, **code.claims)

    class RefreshGrant(RefreshTokenGrant):
        """offline_access (OIDC Core 11): rotated on every use; the old one is spent in the same transaction."""

        TOKEN_ENDPOINT_AUTH_METHODS = ("client_secret_basic", "private_key_jwt", "none")
        INCLUDE_NEW_REFRESH_TOKEN = True

        def authenticate_refresh_token(self, refresh_token: str) -> codes.Refresh | None:
            return codes.refreshable(refresh_token, _prefetched.code)

        def authenticate_user(self, refresh: codes.Refresh) -> Person:
            return Person({"user_id": refresh.item["user_id"]})

        def revoke_old_credential(self, refresh: codes.Refresh) -> None:
            """Nothing more: save_token spent it in the new tokens' transaction."""

    class Server(AuthorizationServer):
        def query_client(self, client_id: str) -> clients.Client | None:
            if not client_id:
                return None
            known = _prefetched.clients
            return known[client_id] if client_id in known else clients.get(client_id)

        def save_token(self, token: dict[str, Any], request: Any) -> None:
            code, old = request.authorization_code, getattr(request, "refresh_token", None)
            scope = (code.scope if code else old.get_scope()).split()
            if "offline_access" not in scope:
                token.pop("refresh_token", None)  # the client may refresh; this grant did not ask for it
            try:
                if code:
                    codes.save_token(token["access_token"], code=code, client_id=request.client.client_id,
                                     refresh_token=token.get("refresh_token"), assertion=_prefetched.assertion)
                else:
                    codes.rotate(token["access_token"], old=old, refresh_token=token["refresh_token"],
                                 assertion=_prefetched.assertion)
            except codes.Replayed as exc:
                if exc.what == "assertion":
                    raise InvalidClientError(description="client_assertion 'jti' was used before") from None
                raise InvalidGrantError(description="the grant was used or revoked meanwhile") from None

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

    class Pkce(CodeChallenge):
        """S256 only (no `plain`), and required of public clients already at the authorization endpoint."""

        SUPPORTED_CODE_CHALLENGE_METHOD = ("S256",)

        def validate_code_challenge(self, grant: Any, redirect_uri: str) -> None:
            data = grant.request.payload.data
            if data.get("code_challenge") and data.get("code_challenge_method") != "S256":
                raise InvalidRequestError("code_challenge_method must be S256", redirect_uri=redirect_uri)
            if not data.get("code_challenge") and grant.client.auth_method == "none":
                raise InvalidRequestError("a public client must use PKCE (S256)", redirect_uri=redirect_uri)
            super().validate_code_challenge(grant, redirect_uri)

    class PrivateKeyJWT(JWTBearerClientAssertion):
        """private_key_jwt: `aud` the token endpoint, `exp` at most 5 minutes ahead, a single-use `jti`; the
        client's key signs with RS256, ES256 or EdDSA (the issue's three)."""

        CLIENT_AUTH_METHOD = "private_key_jwt"

        def process_assertion_claims(self, assertion: str, resolve_key: Any) -> Any:
            from joserfc import jwt
            from joserfc.errors import JoseError

            try:
                token = jwt.decode(assertion, resolve_key, algorithms=list(ASSERTION_ALGS))
            except JoseError as exc:
                raise InvalidClientError(description=exc.description) from exc
            self.verify_claims(token.claims)
            return token.claims

        def get_audiences(self) -> list[str]:
            return [endpoints()["token_endpoint"]]

        def verify_claims(self, claims_: dict[str, Any]) -> None:
            super().verify_claims(claims_)
            if int(claims_["exp"]) - clock.epoch() > ASSERTION_MAX_TTL:
                raise InvalidClientError(description="client_assertion 'exp' is more than 5 minutes ahead")

        def validate_jti(self, claims_: dict[str, Any], jti: str) -> bool:
            """Recorded by the token's transaction, which fails if the `jti` was seen (codes.Replayed)."""
            _prefetched.assertion = codes.Assertion(claims_["sub"], jti, int(claims_["exp"]))
            return True

        def resolve_client_public_key(self, client: clients.Client) -> Any:
            return KeySet.import_key_set(client.jwks or {"keys": []})

    srv = Server(scopes_supported=list(claims.SCOPES))
    srv.register_client_auth_method(PrivateKeyJWT.CLIENT_AUTH_METHOD, PrivateKeyJWT())
    srv.register_token_generator("default", _bearer())
    srv.register_grant(CodeGrant, [Pkce(required=True), OpenID(require_nonce=True)])
    srv.register_grant(RefreshGrant)
    return srv


def _bearer() -> Any:
    from authlib.common.security import generate_token
    from authlib.oauth2.rfc6750 import BearerTokenGenerator

    return BearerTokenGenerator(lambda *a, **k: generate_token(43), lambda *a, **k: generate_token(48),
                                expires_generator=lambda c, g: codes.ACCESS_TTL)


def prefetch(form: dict[str, list[str]], authorization: str | None) -> None:
    """Read the client and the code (or refresh token) of a token request in one BatchGetItem before Authlib
    asks for them one by one. The client id comes from the form, Basic auth, or the (not yet verified) client
    assertion's `sub`; Authlib verifies all of it afterwards."""
    import base64
    import binascii

    from chalicelib.core.codes import hash_token
    from chalicelib.store import keys, table

    first = {k: v[0] for k, v in form.items() if v}
    client_id = first.get("client_id")
    scheme, _, value = (authorization or "").partition(" ")
    if not client_id and scheme.lower() == "basic":
        with contextlib.suppress(binascii.Error, UnicodeDecodeError, ValueError):
            client_id = unquote(base64.b64decode(value.strip(), validate=True).decode().partition(":")[0])
    if not client_id and first.get("client_assertion"):
        with contextlib.suppress(binascii.Error, UnicodeDecodeError, ValueError, IndexError, AttributeError):
            part = first["client_assertion"].split(".")[1]
            client_id = str(json.loads(base64.urlsafe_b64decode(part + "=" * (-len(part) % 4)))["sub"])
    grant_key = None
    if first.get("grant_type") == "authorization_code" and first.get("code"):
        grant_key = keys.sso_code(hash_token(first["code"]))
    elif first.get("grant_type") == "refresh_token" and first.get("refresh_token"):
        grant_key = keys.sso_refresh(hash_token(first["refresh_token"]))
    wanted = [k for k in (keys.sso_client(client_id) if client_id else None, grant_key) if k]
    found = table.get_many(wanted) if wanted else []
    client_item = found[0] if client_id else None
    _prefetched.reset({client_id: clients.of_item(client_item) if client_item else None} if client_id else {},
                      found[-1] if grant_key else None)


def oauth_request(method: str, path: str, headers: dict[str, str], query: dict[str, list[str]],
                  form: dict[str, list[str]] | None = None) -> dict[str, Any]:
    """The values `Server.create_oauth2_request` takes: the framework's request, already taken apart."""
    from urllib.parse import urlencode

    qs = urlencode([(k, v) for k, vs in query.items() for v in vs])
    return {"method": method, "uri": f"{issuer()}{path}{'?' + qs if qs else ''}", "headers": _Headers(headers),
            "query": query, "form": form or {}}
