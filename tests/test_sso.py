"""Single sign-on (issue 15): Kabinet as the OpenID Connect provider, driven by an independent relying party —
Authlib's own OAuth2Session client (not our server code), its HTTP sent into the app through a requests
transport adapter. Expected behaviour comes from the issue and the specs (OIDC Core, RFC 6749, RFC 7636)."""

from __future__ import annotations

import time
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
import requests
from authlib.integrations.requests_client import OAuth2Session
from authlib.oauth2.rfc7523 import PrivateKeyJWT
from joserfc import jwt
from joserfc.jwk import KeySet, RSAKey

from chalicelib.sso import clients

REDIRECT = "https://rp.example.gov/callback"
OTHER_REDIRECT = "https://rp2.example.gov/cb"
SECRET = "s3cret-of-the-relying-party"


class IntoApp(requests.adapters.BaseAdapter):
    """requests → chalice's test client: the relying party's HTTP calls reach the app in-process."""

    def __init__(self, api: Any) -> None:
        super().__init__()
        self.api = api

    def send(self, request: requests.PreparedRequest, **kw: Any) -> requests.Response:
        parts = urlsplit(request.url)
        path = parts.path + (f"?{parts.query}" if parts.query else "")
        body = request.body.encode() if isinstance(request.body, str) else (request.body or b"")
        got = self.api.client.http.request(request.method, path, headers=dict(request.headers), body=body)
        resp = requests.Response()
        resp.status_code, resp._content, resp.url, resp.request = got.status_code, got.body, request.url, request
        resp.headers.update(got.headers)
        return resp

    def close(self) -> None:
        pass


@pytest.fixture
def provider(api: Any) -> dict[str, Any]:
    doc = api.get("/.well-known/openid-configuration")
    assert doc.status_code == 200, doc.json
    return doc.json


def rp(api: Any, client_id: str, redirect: str = REDIRECT, **kw: Any) -> OAuth2Session:
    session = OAuth2Session(client_id, redirect_uri=redirect, scope="openid profile",
                            code_challenge_method="S256", **kw)
    session.mount("http://", IntoApp(api))
    session.mount("https://", IntoApp(api))
    return session


def person(api: Any, phone: str) -> str:
    api.register(phone=phone)
    return api.login(phone)["access_token"]


def authorize(api: Any, session: OAuth2Session, provider: dict[str, Any], token: str, **extra: str
              ) -> tuple[Any, str, str]:
    """The RP builds its authorization URL (state, nonce, PKCE); the signed-in person's web client follows it."""
    verifier = "v" * 20 + str(time.time_ns()) + "x" * 20
    url, state = session.create_authorization_url(provider["authorization_endpoint"], code_verifier=verifier,
                                                  nonce=extra.pop("nonce", "n-0S6_WzA2Mj"), **extra)
    parts = urlsplit(url)
    resp = api.get(f"{parts.path}?{parts.query}", token=token)
    return resp, state, verifier


def redeem(session: OAuth2Session, provider: dict[str, Any], redirect_to: str, verifier: str, state: str
           ) -> dict[str, Any]:
    return session.fetch_token(provider["token_endpoint"], authorization_response=redirect_to,
                               code_verifier=verifier, state=state)


def verify_id_token(api: Any, provider: dict[str, Any], id_token: str) -> dict[str, Any]:
    jwks = api.get(urlsplit(provider["jwks_uri"]).path).json
    return jwt.decode(id_token, KeySet.import_key_set(jwks), algorithms=["EdDSA", "RS256"]).claims


def register_basic(client_id: str, redirect: str = REDIRECT) -> None:
    clients.register(client_id, name="Тестовая система", redirect_uris=[redirect], scopes=["openid", "profile"],
                     auth_method="client_secret_basic", secret=SECRET)


def test_code_with_pkce_end_to_end_state_nonce_and_claims(api: Any, provider: dict[str, Any]) -> None:
    register_basic("rp-one")
    token = person(api, "+79160000001")
    session = rp(api, "rp-one", client_secret=SECRET)
    resp, state, verifier = authorize(api, session, provider, token, nonce="nonce-123")
    assert resp.status_code == 200, resp.json
    back = resp.json["redirect_to"]
    assert back.startswith(REDIRECT + "?")
    assert parse_qs(urlsplit(back).query)["state"] == [state]  # state comes back unchanged
    tokens = redeem(session, provider, back, verifier, state)
    claims = verify_id_token(api, provider, tokens["id_token"])
    assert claims["iss"] == provider["issuer"]  # the issuer equals the tokens' iss
    assert claims["aud"] in ("rp-one", ["rp-one"])
    assert claims["nonce"] == "nonce-123"
    assert claims["acr"].endswith("simplified") and claims["amr"] and claims["auth_time"]
    assert claims["family_name"] == "Кузнецов"
    info = session.get(provider["userinfo_endpoint"]).json()
    assert info["sub"] == claims["sub"] and info["given_name"] == "Алексей"


def test_pairwise_sub_differs_per_client_and_is_stable(api: Any, provider: dict[str, Any]) -> None:
    register_basic("rp-a")
    register_basic("rp-b", OTHER_REDIRECT)
    token = person(api, "+79160000002")
    subs = []
    for client_id, redirect in (("rp-a", REDIRECT), ("rp-b", OTHER_REDIRECT), ("rp-a", REDIRECT)):
        session = rp(api, client_id, redirect, client_secret=SECRET)
        resp, state, verifier = authorize(api, session, provider, token)
        tokens = redeem(session, provider, resp.json["redirect_to"], verifier, state)
        subs.append(verify_id_token(api, provider, tokens["id_token"])["sub"])
    assert subs[0] != subs[1]  # two systems cannot correlate the person
    assert subs[0] == subs[2]  # one system always sees the same sub


def test_replayed_code_is_refused_and_its_tokens_revoked(api: Any, provider: dict[str, Any]) -> None:
    register_basic("rp-replay")
    token = person(api, "+79160000003")
    session = rp(api, "rp-replay", client_secret=SECRET)
    resp, state, verifier = authorize(api, session, provider, token)
    back = resp.json["redirect_to"]
    redeem(session, provider, back, verifier, state)
    assert session.get(provider["userinfo_endpoint"]).status_code == 200
    code = parse_qs(urlsplit(back).query)["code"][0]
    again = requests.Session()
    again.mount("https://", IntoApp(api))
    again.mount("http://", IntoApp(api))
    replay = again.post(provider["token_endpoint"], auth=("rp-replay", SECRET),
                        data={"grant_type": "authorization_code", "code": code, "redirect_uri": REDIRECT,
                              "code_verifier": verifier})
    assert replay.status_code == 400 and replay.json()["error"] == "invalid_grant"
    assert session.get(provider["userinfo_endpoint"]).status_code == 401  # the token from that code is revoked


def test_wrong_redirect_uri_is_refused_without_redirecting(api: Any, provider: dict[str, Any]) -> None:
    register_basic("rp-strict")
    token = person(api, "+79160000004")
    for redirect in ("https://evil.example/cb", REDIRECT + "/more", REDIRECT + "?x=1"):
        session = rp(api, "rp-strict", redirect, client_secret=SECRET)
        resp, _, _ = authorize(api, session, provider, token)
        assert resp.status_code == 400, resp.json
        assert "redirect_to" not in resp.json and "error" in resp.json  # our error page's shape, no redirect


def test_pkce_verifier_must_match(api: Any, provider: dict[str, Any]) -> None:
    register_basic("rp-pkce")
    token = person(api, "+79160000005")
    session = rp(api, "rp-pkce", client_secret=SECRET)
    resp, state, _ = authorize(api, session, provider, token)
    with pytest.raises(Exception, match=r"invalid_grant|code_verifier"):
        redeem(session, provider, resp.json["redirect_to"], "w" * 50, state)


def test_private_key_jwt_and_expired_or_replayed_assertions(api: Any, provider: dict[str, Any]) -> None:
    key = RSAKey.generate_key(2048, parameters={"kid": "rp-key"})
    clients.register("rp-jwt", name="Система с ключом", redirect_uris=[REDIRECT], scopes=["openid", "profile"],
                     auth_method="private_key_jwt", jwks={"keys": [key.as_dict(private=False)]})
    token = person(api, "+79160000006")
    pem = key.as_pem(private=True).decode()

    def session_with(exp_in: int, jti: str | None = None) -> OAuth2Session:
        claims = {"exp": int(time.time()) + exp_in, **({"jti": jti} if jti else {})}
        return rp(api, "rp-jwt", client_secret=pem,
                  token_endpoint_auth_method=PrivateKeyJWT(provider["token_endpoint"], claims=claims, alg="RS256"))

    session = session_with(120, jti="assertion-1")
    resp, state, verifier = authorize(api, session, provider, token)
    tokens = redeem(session, provider, resp.json["redirect_to"], verifier, state)
    assert verify_id_token(api, provider, tokens["id_token"])["aud"] in ("rp-jwt", ["rp-jwt"])

    replayed = session_with(120, jti="assertion-1")  # the same jti again: single use
    resp, state, verifier = authorize(api, replayed, provider, token)
    with pytest.raises(Exception, match="invalid_client"):
        redeem(replayed, provider, resp.json["redirect_to"], verifier, state)

    too_long = session_with(3600)  # exp more than 5 minutes ahead
    resp, state, verifier = authorize(api, too_long, provider, token)
    with pytest.raises(Exception, match="invalid_client"):
        redeem(too_long, provider, resp.json["redirect_to"], verifier, state)

    expired = session_with(-120)
    resp, state, verifier = authorize(api, expired, provider, token)
    with pytest.raises(Exception, match="invalid_client"):
        redeem(expired, provider, resp.json["redirect_to"], verifier, state)
