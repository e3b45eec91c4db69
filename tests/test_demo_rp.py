"""«Демо-госсистема» (infra/demo_rp.py) signing a person in with Kabinet, in-process: the RP's HTTP calls go into
the app through a requests adapter, its pages are driven by werkzeug's test client (a browser with cookies).

The person's side is Kabinet's own pages (tests/sso_support.py `Browser`): the RP's redirect is followed there and
the consent page answered. Expected
behaviour comes from the issue and the specs (OIDC Core 3.1, RP-Initiated Logout 1.0, Back-Channel Logout 1.0)."""

from __future__ import annotations

import secrets
import time
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
from joserfc import jwt
from joserfc.jwk import RSAKey
from werkzeug.test import Client

from infra.demo_rp import BACKCHANNEL_EVENT, DemoRP
from infra.local import register_demo_rp
from tests.sso_support import Browser, IntoApp

BASE = "http://127.0.0.1:8001"
PHONE = "+79160000201"


@pytest.fixture
def rp(api: Any) -> DemoRP:
    issuer = api.get("/.well-known/openid-configuration").json["issuer"]
    demo = DemoRP(issuer, BASE, RSAKey.generate_key(2048, parameters={"kid": "demo-test"}), adapter=IntoApp(api))
    register_demo_rp(demo)  # what `make run` does
    return demo


def text(resp: Any) -> str:
    return resp.get_data(as_text=True)


def sign_in(api: Any, rp: DemoRP, browser: Client) -> dict[str, Any]:
    """«Войти через Кабинет» → the provider (its JSON route for now) → the RP's callback."""
    person = Browser(api, PHONE)
    start = browser.get("/login")
    assert start.status_code == 303
    to_provider = urlsplit(start.headers["Location"])
    assert start.headers["Location"].startswith(rp.metadata()["authorization_endpoint"] + "?")
    asked = parse_qs(to_provider.query)
    assert asked["client_id"] == ["demo-rp"] and asked["redirect_uri"] == [f"{BASE}/callback"]
    assert asked["code_challenge_method"] == ["S256"] and asked["state"] and asked["nonce"]
    assert "code_verifier" not in asked
    answered = person.authorize(start.headers["Location"])  # Kabinet's consent page, answered
    assert answered.status_code == 303, answered.body[:300]
    back = urlsplit(answered.headers["Location"])
    assert f"{back.scheme}://{back.netloc}{back.path}" == f"{BASE}/callback"
    return {"callback": f"{back.path}?{back.query}", "state": asked["state"][0]}


def the_session(rp: DemoRP) -> dict[str, Any]:
    signed_in = [s.claims for s in rp.sessions.values() if s.claims]
    assert len(signed_in) == 1
    return signed_in[0]


def provider_signed(claims: dict[str, Any], **header: str) -> str:
    """A token signed as the provider signs id_tokens now (chalicelib.sso.server._signing_key)."""
    from chalicelib.sso.server import _signing_key

    kid, key = _signing_key("RS256")
    alg = "RS256"
    return jwt.encode({"alg": alg, "kid": kid, "typ": "logout+jwt", **header}, claims, key, algorithms=[alg])


def logout_claims(rp: DemoRP, **claims: Any) -> dict[str, Any]:
    return {"iss": rp.issuer, "aud": "demo-rp", "iat": int(time.time()), "jti": secrets.token_urlsafe(16),
            "events": {BACKCHANNEL_EVENT: {}}, **claims}


def test_sign_in_exchanges_the_code_with_private_key_jwt_and_shows_the_claims(api: Any, rp: DemoRP) -> None:
    browser = Client(rp)
    home = browser.get("/")
    assert home.status_code == 200 and 'lang="ru"' in text(home) and "Войти через Кабинет" in text(home)
    flow = sign_in(api, rp, browser)
    shown = browser.get(flow["callback"])
    assert shown.status_code == 200, text(shown)
    page = text(shown)
    claims = the_session(rp)
    # The registered client may only authenticate with private_key_jwt: a token came, so the RP's key signed.
    assert claims["iss"] == rp.issuer and claims["aud"] in ("demo-rp", ["demo-rp"])
    assert claims["acr"].startswith("urn:kabinet:loa:") and claims["amr"] and claims["auth_time"]
    for value in (claims["sub"], claims["acr"], "Кузнецов", "Алексей", "Время входа", "Выйти"):
        assert value in page
    assert "Войти через Кабинет" not in text(browser.get("/"))  # signed in here now
    again = browser.get(flow["callback"])  # the same callback twice: its state was used up
    assert again.status_code == 400


def test_a_callback_with_another_state_is_refused_without_redeeming(api: Any, rp: DemoRP) -> None:
    browser = Client(rp)
    flow = sign_in(api, rp, browser)
    forged = flow["callback"].replace(f"state={flow['state']}", "state=forged")
    assert browser.get(forged).status_code == 400
    assert not any(s.claims for s in rp.sessions.values())


def test_back_channel_logout_refuses_a_forged_token_and_honours_the_providers(api: Any, rp: DemoRP) -> None:
    browser = Client(rp)
    assert browser.get(sign_in(api, rp, browser)["callback"]).status_code == 200
    claims = the_session(rp)
    ends = {"sid": claims["sid"]}  # the id_token names the session (Back-Channel Logout 1.0, sid)

    def post(token: str) -> Any:
        return browser.post("/backchannel-logout", data={"logout_token": token})

    from chalicelib.sso.server import _signing_key

    provider_kid = _signing_key("RS256")[0]
    forger = RSAKey.generate_key(2048)
    forged = jwt.encode({"alg": "RS256", "kid": provider_kid}, logout_claims(rp, **ends), forger)
    assert post(forged).status_code == 400  # the provider's kid, someone else's key
    assert post(provider_signed(logout_claims(rp, **ends), kid="not-in-the-jwks")).status_code == 400
    assert post(provider_signed(logout_claims(rp, aud="other-rp", **ends))).status_code == 400
    assert post(provider_signed(logout_claims(rp, events={}, **ends))).status_code == 400
    assert post(provider_signed(logout_claims(rp, nonce="n", **ends))).status_code == 400
    assert post(provider_signed({k: v for k, v in logout_claims(rp, **ends).items() if k != "jti"})).status_code == 400
    assert post(provider_signed(logout_claims(rp))).status_code == 400  # neither sid nor sub
    assert post("").status_code == 400
    assert "Войти через Кабинет" not in text(browser.get("/"))  # none of those ended the session

    valid = provider_signed(logout_claims(rp, **ends))
    done = post(valid)
    assert done.status_code == 200 and done.headers["Cache-Control"] == "no-store"
    assert "Войти через Кабинет" in text(browser.get("/"))  # signed out here
    assert post(valid).status_code == 400  # the same jti again


def test_sign_out_goes_to_the_providers_end_session_endpoint(api: Any, rp: DemoRP) -> None:
    browser = Client(rp)
    assert browser.get(sign_in(api, rp, browser)["callback"]).status_code == 200
    id_token = next(s.id_token for s in rp.sessions.values() if s.id_token)
    out = browser.post("/logout")
    assert out.status_code == 303
    to = urlsplit(out.headers["Location"])
    assert out.headers["Location"].startswith(rp.metadata()["end_session_endpoint"] + "?")
    asked = parse_qs(to.query)
    assert asked["id_token_hint"] == [id_token] and asked["post_logout_redirect_uri"] == [f"{BASE}/"]
    home = browser.get(f"/?state={asked['state'][0]}")  # the provider sends the browser back
    assert "Вы вышли" in text(home) and "Войти через Кабинет" in text(home)
