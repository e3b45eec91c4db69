"""Single sign-on (issue 15): Kabinet as the OpenID Connect provider, driven by an independent relying party —
Authlib's own OAuth2Session client (not our server code), its HTTP sent into the app through a requests
transport adapter. Expected behaviour comes from the issue and the specs (OIDC Core, RFC 6749, RFC 7636)."""

from __future__ import annotations

import base64
import re
import time
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit

import pytest
import requests
from authlib.integrations.requests_client import OAuth2Session
from authlib.oauth2.rfc7523 import PrivateKeyJWT
from joserfc import jwt
from joserfc.jwk import KeySet, RSAKey

from chalicelib.sso import clients
from chalicelib.store import keys, table
from tests.sso_support import Browser, IntoApp, hidden

REDIRECT = "https://rp.example.gov/callback"
OTHER_REDIRECT = "https://rp2.example.gov/cb"
SECRET = "s3cret-of-the-relying-party"


@pytest.fixture
def provider(api: Any) -> dict[str, Any]:
    doc = api.get("/.well-known/openid-configuration")
    assert doc.status_code == 200, doc.json
    return doc.json


def rp(api: Any, client_id: str, redirect: str = REDIRECT, **kw: Any) -> OAuth2Session:
    session = OAuth2Session(client_id, redirect_uri=redirect, **{"scope": "openid profile", **kw},
                            code_challenge_method="S256")
    session.mount("http://", IntoApp(api))
    session.mount("https://", IntoApp(api))
    return session


def start(session: OAuth2Session, provider: dict[str, Any], **extra: str) -> tuple[str, str, str]:
    """The relying party's authorization URL (state, nonce, PKCE)."""
    verifier = "v" * 20 + str(time.time_ns()) + "x" * 20
    url, state = session.create_authorization_url(provider["authorization_endpoint"], code_verifier=verifier,
                                                  nonce=extra.pop("nonce", "n-0S6_WzA2Mj"), **extra)
    return url, state, verifier


def authorize(browser: Browser, session: OAuth2Session, provider: dict[str, Any], decision: str = "allow",
              **extra: str) -> tuple[Any, str, str]:
    url, state, verifier = start(session, provider, **extra)
    return browser.authorize(url, decision), state, verifier


def back_to(resp: Any) -> str:
    assert resp.status_code in (302, 303), (resp.status_code, resp.body[:500])
    return resp.headers["Location"]


def redeem(session: OAuth2Session, provider: dict[str, Any], redirect_to: str, verifier: str, state: str
           ) -> dict[str, Any]:
    return session.fetch_token(provider["token_endpoint"], authorization_response=redirect_to,
                               code_verifier=verifier, state=state)


def verify_id_token(api: Any, provider: dict[str, Any], id_token: str) -> dict[str, Any]:
    jwks = api.get(urlsplit(provider["jwks_uri"]).path).json
    return jwt.decode(id_token, KeySet.import_key_set(jwks), algorithms=["EdDSA", "RS256"]).claims


def query(url: str) -> dict[str, str]:
    return {k: v[0] for k, v in parse_qs(urlsplit(url).query).items()}


def register_basic(client_id: str, redirect: str = REDIRECT) -> None:
    clients.register(client_id, name="Тестовая система", redirect_uris=[redirect], scopes=["openid", "profile"],
                     auth_method="client_secret_basic", secret=SECRET)


def test_code_with_pkce_end_to_end_consent_once_state_nonce_and_claims(api: Any, provider: dict[str, Any]) -> None:
    register_basic("rp-one")
    browser = Browser(api, "+79160000001")
    session = rp(api, "rp-one", client_secret=SECRET)
    url, state, verifier = start(session, provider, nonce="nonce-123")
    consent = browser.follow(url)
    assert consent.status_code == 200 and "Тестовая система" in consent.body.decode()  # who asks
    assert "Фамилия, имя, отчество" in consent.body.decode()  # for which data (scope profile)
    back = back_to(browser.follow("/login/authorize", form={**hidden(consent.body.decode()), "decision": "allow"}))
    assert back.startswith(REDIRECT + "?") and query(back)["state"] == state  # state comes back unchanged
    tokens = redeem(session, provider, back, verifier, state)
    claims = verify_id_token(api, provider, tokens["id_token"])
    assert claims["iss"] == provider["issuer"]  # the issuer equals the tokens' iss
    assert claims["aud"] in ("rp-one", ["rp-one"]) and claims["nonce"] == "nonce-123"
    assert claims["acr"] == "urn:kabinet:loa:simplified" and claims["amr"] == ["pwd"]
    assert abs(claims["auth_time"] - time.time()) < 120 and claims["sid"]
    assert claims["family_name"] == "Кузнецов" and "refresh_token" not in tokens
    info = session.get(provider["userinfo_endpoint"]).json()
    assert info["sub"] == claims["sub"] and info["given_name"] == "Алексей"
    # the consent is remembered: the second sign-in goes straight back with a code
    again, state2, _ = authorize(browser, rp(api, "rp-one", client_secret=SECRET), provider, decision="never-asked")
    assert query(back_to(again))["state"] == state2 and "code" in query(back_to(again))


def test_pairwise_sub_differs_per_client_and_is_stable(api: Any, provider: dict[str, Any]) -> None:
    register_basic("rp-a")
    register_basic("rp-b", OTHER_REDIRECT)
    browser = Browser(api, "+79160000002")
    subs = []
    for client_id, redirect in (("rp-a", REDIRECT), ("rp-b", OTHER_REDIRECT), ("rp-a", REDIRECT)):
        session = rp(api, client_id, redirect, client_secret=SECRET)
        resp, state, verifier = authorize(browser, session, provider)
        tokens = redeem(session, provider, back_to(resp), verifier, state)
        subs.append(verify_id_token(api, provider, tokens["id_token"])["sub"])
    assert subs[0] != subs[1]  # two systems cannot correlate the person
    assert subs[0] == subs[2]  # one system always sees the same sub
    user_id = api.get("/me", token=browser.access).json["user_id"]
    assert user_id not in subs  # not the public id either


def test_replayed_code_is_refused_and_its_tokens_revoked(api: Any, provider: dict[str, Any]) -> None:
    register_basic("rp-replay")
    browser = Browser(api, "+79160000003")
    session = rp(api, "rp-replay", client_secret=SECRET)
    resp, state, verifier = authorize(browser, session, provider)
    back = back_to(resp)
    redeem(session, provider, back, verifier, state)
    assert session.get(provider["userinfo_endpoint"]).status_code == 200
    again = requests.Session()
    again.mount("https://", IntoApp(api))
    again.mount("http://", IntoApp(api))
    replay = again.post(provider["token_endpoint"], auth=("rp-replay", SECRET),
                        data={"grant_type": "authorization_code", "code": query(back)["code"], "redirect_uri": REDIRECT,
                              "code_verifier": verifier})
    assert replay.status_code == 400 and replay.json()["error"] == "invalid_grant"
    assert session.get(provider["userinfo_endpoint"]).status_code == 401  # the token from that code is revoked


def test_two_redemptions_at_once_issue_one_token(api: Any, provider: dict[str, Any]) -> None:
    import concurrent.futures

    register_basic("rp-race")
    browser = Browser(api, "+79160000013")
    session = rp(api, "rp-race", client_secret=SECRET)
    resp, _, verifier = authorize(browser, session, provider)
    code = query(back_to(resp))["code"]

    from chalicelib.sso.server import oauth_request, prefetch, server

    basic = "Basic " + base64.b64encode(f"rp-race:{SECRET}".encode()).decode()
    form = {"grant_type": ["authorization_code"], "code": [code], "redirect_uri": [REDIRECT],
            "code_verifier": [verifier]}

    def redeem_once(_: int) -> int:  # the token endpoint's own steps, each thread its own request
        prefetch(form, basic)
        return server().create_token_response(
            oauth_request("POST", "/sso/token", {"Authorization": basic}, {}, form))[0]

    with concurrent.futures.ThreadPoolExecutor(4) as pool:
        answers = sorted(pool.map(redeem_once, range(4)))
    assert answers == [200, 400, 400, 400]


def test_wrong_redirect_uri_or_client_gets_an_error_page_and_no_redirect(api: Any, provider: dict[str, Any]) -> None:
    register_basic("rp-strict")
    browser = Browser(api, "+79160000004")
    for client_id, redirect in (("rp-strict", "https://evil.example/cb"), ("rp-strict", REDIRECT + "/more"),
                                ("rp-strict", REDIRECT + "?x=1"), ("nobody", REDIRECT)):
        resp, _, _ = authorize(browser, rp(api, client_id, redirect, client_secret=SECRET), provider)
        assert resp.status_code == 400 and "Location" not in resp.headers
        assert "Вход в систему не выполнен" in resp.body.decode()


def test_errors_go_back_to_a_trusted_redirect_uri(api: Any, provider: dict[str, Any]) -> None:
    register_basic("rp-errors")
    browser = Browser(api, "+79160000014")
    session = rp(api, "rp-errors", client_secret=SECRET)
    url, state, _ = start(session, provider)
    no_nonce = url.replace("nonce=", "x_nonce=")
    back = back_to(browser.follow(no_nonce))
    assert back.startswith(REDIRECT) and query(back)["error"] == "invalid_request" and query(back)["state"] == state
    declined, state, _ = authorize(browser, session, provider, decision="deny")
    assert query(back_to(declined)) == {"error": "access_denied", "state": state,
                                        "error_description": query(back_to(declined))["error_description"]}


def test_pkce_verifier_must_match(api: Any, provider: dict[str, Any]) -> None:
    register_basic("rp-pkce")
    browser = Browser(api, "+79160000005")
    session = rp(api, "rp-pkce", client_secret=SECRET)
    resp, state, _ = authorize(browser, session, provider)
    with pytest.raises(Exception, match=r"invalid_grant|code_verifier"):
        redeem(session, provider, back_to(resp), "w" * 50, state)


def test_private_key_jwt_and_expired_or_replayed_assertions(api: Any, provider: dict[str, Any]) -> None:
    key = RSAKey.generate_key(2048, parameters={"kid": "rp-key"})
    clients.register("rp-jwt", name="Система с ключом", redirect_uris=[REDIRECT], scopes=["openid", "profile"],
                     auth_method="private_key_jwt", jwks={"keys": [key.as_dict(private=False)]})
    browser = Browser(api, "+79160000006")
    pem = key.as_pem(private=True).decode()

    def session_with(exp_in: int, jti: str | None = None) -> OAuth2Session:
        claims = {"exp": int(time.time()) + exp_in, **({"jti": jti} if jti else {})}
        return rp(api, "rp-jwt", client_secret=pem,
                  token_endpoint_auth_method=PrivateKeyJWT(provider["token_endpoint"], claims=claims, alg="RS256"))

    session = session_with(120, jti="assertion-1")
    resp, state, verifier = authorize(browser, session, provider)
    tokens = redeem(session, provider, back_to(resp), verifier, state)
    assert verify_id_token(api, provider, tokens["id_token"])["aud"] in ("rp-jwt", ["rp-jwt"])

    replayed = session_with(120, jti="assertion-1")  # the same jti again: single use
    resp, state, verifier = authorize(browser, replayed, provider)
    with pytest.raises(Exception, match="invalid_client"):
        redeem(replayed, provider, back_to(resp), verifier, state)
    fresh = session_with(120, jti="assertion-2")  # the code was not spent by the refused attempt
    assert redeem(fresh, provider, back_to(resp), verifier, state)["id_token"]

    for exp_in in (3600, -120):  # exp more than 5 minutes ahead; expired
        late = session_with(exp_in)
        resp, state, verifier = authorize(browser, late, provider)
        with pytest.raises(Exception, match="invalid_client"):
            redeem(late, provider, back_to(resp), verifier, state)


def test_prompt_none_answers_without_pages(api: Any, provider: dict[str, Any]) -> None:
    register_basic("rp-silent")
    session = rp(api, "rp-silent", client_secret=SECRET)
    browser = Browser(api, "+79160000007")
    stranger = Browser(api, "+79160000007", register=False)
    stranger.cookies = {}
    resp, state, _ = authorize(stranger, session, provider, prompt="none")
    assert query(back_to(resp))["error"] == "login_required" and query(back_to(resp))["state"] == state
    resp, _, _ = authorize(browser, session, provider, prompt="none")
    assert query(back_to(resp))["error"] == "consent_required"  # no consent yet, and no page may be shown
    authorize(browser, session, provider)  # consents
    resp, _, _ = authorize(browser, session, provider, prompt="none")
    assert "code" in query(back_to(resp))


def test_prompt_login_and_max_age_ask_for_a_new_sign_in(api: Any, provider: dict[str, Any],
                                                        fake_clock: Any) -> None:
    register_basic("rp-fresh")
    session = rp(api, "rp-fresh", client_secret=SECRET)
    browser = Browser(api, "+79160000008")
    resp, state, verifier = authorize(browser, session, provider)
    first = verify_id_token(api, provider, redeem(session, provider, back_to(resp), verifier, state)["id_token"])
    fake_clock.advance(120)
    for extra in ({"prompt": "login"}, {"max_age": "60"}):
        url, state, verifier = start(session, provider, **extra)
        login = browser.request("GET", urlsplit(url).path + "?" + urlsplit(url).query)
        target = back_to(login)
        assert target.startswith("/login?") and query(target)["again"] == "1"
        assert browser.follow(target).status_code == 200  # the sign-in form, although signed in
        browser.sign_in()  # the person signs in again
        fake_clock.advance(1)
        back = back_to(browser.follow(query(target)["next"]))
        later = verify_id_token(api, provider, redeem(session, provider, back, verifier, state)["id_token"])
        assert later["auth_time"] > first["auth_time"]
        fake_clock.advance(120)


def confirmed(api: Any, browser: Browser, tier: str) -> None:
    user_id = api.get("/me", token=browser.access).json["user_id"]
    table.update(keys.user(user_id), "SET tier = :t", values={":t": tier})


def test_acr_step_up_with_a_second_factor_then_the_confirmed_level(api: Any, provider: dict[str, Any]) -> None:
    register_basic("rp-acr")
    session = rp(api, "rp-acr", client_secret=SECRET)
    browser = Browser(api, "+79160000009")
    confirmed(api, browser, "confirmed")
    url, state, verifier = start(session, provider, acr_values="urn:kabinet:loa:confirmed")
    step = browser.follow(url)
    assert step.status_code == 200 and "Подтвердите вход" in step.body.decode()  # a password alone is not enough
    form = {k: v for k, v in hidden(step.body.decode()).items() if k != "action"}  # the fields both forms carry
    assert browser.follow("/login/step-up", form={**form, "action": "send"}).status_code == 200
    code = api.code_about("+79160000009")
    wrong = browser.follow("/login/step-up", form={**form, "method": "sms", "code": "000000"})
    assert wrong.status_code == 400
    consent = browser.follow("/login/step-up", form={**form, "method": "sms", "code": code})
    assert consent.status_code == 200  # the consent page: the step-up took
    back = back_to(browser.follow("/login/authorize", form={**hidden(consent.body.decode()), "decision": "allow"}))
    claims = verify_id_token(api, provider, redeem(session, provider, back, verifier, state)["id_token"])
    assert claims["acr"] == "urn:kabinet:loa:confirmed" and claims["amr"] == ["pwd", "sms", "mfa"]


def test_acr_above_the_tier_gets_a_clear_page_and_prompt_none_an_error(api: Any, provider: dict[str, Any]) -> None:
    register_basic("rp-tier")
    session = rp(api, "rp-tier", client_secret=SECRET)
    browser = Browser(api, "+79160000010")
    confirmed(api, browser, "standard")
    page = browser.follow(start(session, provider, acr_values="urn:kabinet:loa:confirmed")[0])
    assert page.status_code == 403 and "Нужна подтверждённая учётная запись" in page.body.decode()
    resp, _, _ = authorize(browser, session, provider, acr_values="urn:kabinet:loa:confirmed", prompt="none")
    assert query(back_to(resp))["error"] == "unmet_authentication_requirements"
    resp, state, verifier = authorize(browser, session, provider, acr_values="urn:kabinet:loa:standard")
    claims = verify_id_token(api, provider, redeem(session, provider, back_to(resp), verifier, state)["id_token"])
    assert claims["acr"] == "urn:kabinet:loa:standard"


def test_systems_page_lists_consents_and_revoking_asks_again(api: Any, provider: dict[str, Any]) -> None:
    register_basic("rp-list")
    session = rp(api, "rp-list", client_secret=SECRET)
    browser = Browser(api, "+79160000011")
    authorize(browser, session, provider)
    listing = browser.follow("/security/systems").body.decode()
    assert "Тестовая система" in listing and "Фамилия, имя, отчество" in listing
    consents = api.get("/me/consents", token=browser.access).json["items"]
    sso = [c for c in consents if c["kind"] == "sso"]
    assert len(sso) == 1 and sso[0]["recipient"] == "Тестовая система" and sso[0]["revocable"]
    other = Browser(api, "+79160000012")  # a second person cannot revoke the first one's
    assert "Тестовая система" not in other.follow("/security/systems").body.decode()
    assert other.follow("/security/systems/rp-list/revoke", form={}).status_code == 404
    assert back_to(browser.request("POST", "/security/systems/rp-list/revoke", {})) == "/security/systems?done=revoked"
    after = api.get("/me/consents", token=browser.access).json["items"]
    assert [c["revoked_at"] is not None for c in after if c["kind"] == "sso"] == [True]
    resp, _, _ = authorize(browser, session, provider, prompt="none")
    assert query(back_to(resp))["error"] == "consent_required"  # the next sign-in asks again


def register_offline(client_id: str) -> None:
    clients.register(client_id, name="Система офлайн", redirect_uris=[REDIRECT],
                     scopes=["openid", "profile", "offline_access"], auth_method="client_secret_basic", secret=SECRET)


def test_refresh_tokens_rotate_and_a_reused_one_ends_the_chain(api: Any, provider: dict[str, Any]) -> None:
    register_offline("rp-offline")
    browser = Browser(api, "+79160000015")
    session = rp(api, "rp-offline", client_secret=SECRET, scope="openid profile offline_access")
    resp, state, verifier = authorize(browser, session, provider)
    first = redeem(session, provider, back_to(resp), verifier, state)
    assert first["refresh_token"]
    second = session.refresh_token(provider["token_endpoint"], refresh_token=first["refresh_token"])
    assert second["refresh_token"] != first["refresh_token"] and second["access_token"] != first["access_token"]
    assert session.get(provider["userinfo_endpoint"]).json()["family_name"] == "Кузнецов"
    with pytest.raises(Exception, match="invalid_grant"):  # the spent one again: stolen or lost — the chain ends
        session.refresh_token(provider["token_endpoint"], refresh_token=first["refresh_token"])
    with pytest.raises(Exception, match="invalid_grant"):
        session.refresh_token(provider["token_endpoint"], refresh_token=second["refresh_token"])
    # without offline_access in the request, no refresh token
    resp, state, verifier = authorize(browser, rp(api, "rp-offline", client_secret=SECRET), provider)
    assert "refresh_token" not in redeem(rp(api, "rp-offline", client_secret=SECRET), provider, back_to(resp),
                                         verifier, state)


def test_revoking_the_consent_stops_the_refresh_tokens(api: Any, provider: dict[str, Any]) -> None:
    register_offline("rp-offline2")
    browser = Browser(api, "+79160000016")
    session = rp(api, "rp-offline2", client_secret=SECRET, scope="openid profile offline_access")
    resp, state, verifier = authorize(browser, session, provider)
    token = redeem(session, provider, back_to(resp), verifier, state)["refresh_token"]
    browser.request("POST", "/security/systems/rp-offline2/revoke", {})
    with pytest.raises(Exception, match="invalid_grant"):
        session.refresh_token(provider["token_endpoint"], refresh_token=token)


def test_a_client_without_offline_access_gets_no_refresh_token(api: Any, provider: dict[str, Any]) -> None:
    register_basic("rp-online")
    browser = Browser(api, "+79160000017")
    session = rp(api, "rp-online", client_secret=SECRET, scope="openid profile offline_access")
    resp, state, verifier = authorize(browser, session, provider)
    assert "refresh_token" not in redeem(session, provider, back_to(resp), verifier, state)


class Receiver:
    """A relying party's back-channel logout endpoint: a real HTTP server that keeps what it is sent."""

    def __init__(self) -> None:
        import http.server
        import threading

        got = self.tokens = []

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers["Content-Length"])).decode()
                got.append(parse_qs(body)["logout_token"][0])
                self.send_response(200)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args: Any) -> None:
                pass

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/backchannel-logout"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self) -> None:
        self.server.shutdown()


@pytest.fixture
def receivers() -> Any:
    made: list[Receiver] = []

    def make() -> Receiver:
        made.append(Receiver())
        return made[-1]

    yield make
    for r in made:
        r.close()


BYE = "https://rp.example.gov/bye"


def register_logout(client_id: str, redirect: str = REDIRECT, backchannel: str | None = None) -> None:
    clients.register(client_id, name=f"Система {client_id}", redirect_uris=[redirect], scopes=["openid", "profile"],
                     auth_method="client_secret_basic", secret=SECRET, post_logout_redirect_uris=[BYE],
                     backchannel_logout_uri=backchannel)


def signed_in(api: Any, browser: Browser, provider: dict[str, Any], client_id: str, redirect: str = REDIRECT
              ) -> dict[str, Any]:
    session = rp(api, client_id, redirect, client_secret=SECRET)
    resp, state, verifier = authorize(browser, session, provider)
    return verify_id_token(api, provider, redeem(session, provider, back_to(resp), verifier, state)["id_token"]) | {
        "_raw": session.token["id_token"]}


def live_sessions(api: Any, phone: str) -> list[dict[str, Any]]:
    return api.get("/me/sessions", token=api.login(phone)["access_token"]).json["items"]


def end_session_url(provider: dict[str, Any], **params: str) -> str:
    parts = urlsplit(provider["end_session_endpoint"])
    return f"{parts.path}?{urlencode(params)}"


def test_rp_initiated_logout_signs_out_and_returns_only_to_a_registered_uri(api: Any, provider: dict[str, Any]
                                                                           ) -> None:
    register_logout("rp-out")
    browser = Browser(api, "+79160000018")
    hint = signed_in(api, browser, provider, "rp-out")["_raw"]
    ids = {s["id"] for s in live_sessions(api, "+79160000018")}
    resp = browser.request("GET", end_session_url(provider, id_token_hint=hint, post_logout_redirect_uri=BYE,
                                                  state="st-1"))
    assert back_to(resp) == f"{BYE}?state=st-1"  # the hint names this session: signed out at once
    after = {s["id"] for s in live_sessions(api, "+79160000018")}
    assert len(ids - after) == 1 and "kabinet-session" not in browser.cookies  # exactly the browser's session
    # an unregistered return address is never followed: the person sees our page instead
    browser.sign_in()
    hint = signed_in(api, browser, provider, "rp-out")["_raw"]
    page = browser.request("GET", end_session_url(provider, id_token_hint=hint,
                                                  post_logout_redirect_uri="https://evil.example/"))
    assert page.status_code == 200 and "Вы вышли из личного кабинета" in page.body.decode()
    # without a hint, a link cannot sign anyone out: the page asks first
    browser.sign_in()
    ask = browser.request("GET", end_session_url(provider, client_id="rp-out", post_logout_redirect_uri=BYE))
    assert ask.status_code == 200 and "Выйти из личного кабинета?" in ask.body.decode()
    before = {s["id"] for s in live_sessions(api, "+79160000018")}
    done = browser.request("POST", "/logout/end-session", {**hidden(ask.body.decode()), "decision": "logout"})
    assert back_to(done) == BYE and len(before - {s["id"] for s in live_sessions(api, "+79160000018")}) == 1


def test_back_channel_logout_tells_every_system_of_the_session(api: Any, provider: dict[str, Any],
                                                               receivers: Any) -> None:
    first, second = receivers(), receivers()
    register_logout("rp-bc1", backchannel=first.url)
    register_logout("rp-bc2", OTHER_REDIRECT, backchannel=second.url)
    browser = Browser(api, "+79160000019")
    one = signed_in(api, browser, provider, "rp-bc1")
    two = signed_in(api, browser, provider, "rp-bc2", OTHER_REDIRECT)
    assert one["sid"] != two["sid"]  # a session id per system too: they cannot correlate by it
    assert back_to(browser.request("POST", "/logout", {})) == "/login"
    api.pump.drain()
    jwks = KeySet.import_key_set(api.get(urlsplit(provider["jwks_uri"]).path).json)
    for receiver, id_token, client_id in ((first, one, "rp-bc1"), (second, two, "rp-bc2")):
        assert len(receiver.tokens) == 1
        token = jwt.decode(receiver.tokens[0], jwks, algorithms=["RS256", "EdDSA"])
        assert token.header["typ"] == "logout+jwt"
        claims = token.claims
        assert claims["iss"] == provider["issuer"] and claims["aud"] in (client_id, [client_id])
        assert claims["sub"] == id_token["sub"] and claims["sid"] == id_token["sid"]
        assert claims["events"] == {"http://schemas.openid.net/event/backchannel-logout": {}}
        assert "nonce" not in claims and claims["jti"] and claims["exp"] > claims["iat"]


def test_signing_out_everywhere_reaches_the_other_sessions_systems_only(api: Any, provider: dict[str, Any],
                                                                        receivers: Any) -> None:
    receiver = receivers()
    register_logout("rp-bc3", backchannel=receiver.url)
    phone = "+79160000020"
    laptop = Browser(api, phone)
    signed = signed_in(api, laptop, provider, "rp-bc3")
    phone_browser = Browser(api, phone, register=False)  # a second session, never signed into the system
    assert api.call("DELETE", "/me/sessions", token=phone_browser.access).status_code in (200, 204)
    api.pump.drain()
    assert len(receiver.tokens) == 1
    claims = jwt.decode(receiver.tokens[0], KeySet.import_key_set(api.get("/.well-known/jwks.json").json),
                        algorithms=["RS256"]).claims
    assert claims["sid"] == signed["sid"]
    phone_browser.request("POST", "/logout", {})  # a session that signed into nothing: nobody to tell
    api.pump.drain()
    assert len(receiver.tokens) == 1


def test_a_public_client_uses_pkce_and_no_secret_and_may_ask_eddsa(api: Any, provider: dict[str, Any]) -> None:
    clients.register("mobile-app", name="Мобильное приложение", redirect_uris=["ru.gov.app:/callback"],
                     scopes=["openid", "profile"], auth_method="none", id_token_alg="EdDSA")
    browser = Browser(api, "+79160000021")
    session = rp(api, "mobile-app", "ru.gov.app:/callback", token_endpoint_auth_method="none")
    resp, state, verifier = authorize(browser, session, provider)
    id_token = redeem(session, provider, back_to(resp), verifier, state)["id_token"]
    assert jwt.decode(id_token, KeySet.import_key_set(api.get("/.well-known/jwks.json").json),
                      algorithms=["EdDSA"]).header["alg"] == "EdDSA"
    url, _, _ = start(session, provider)
    no_pkce = re.sub(r"&code_challenge(_method)?=[^&]*", "", url)  # a public client without PKCE: refused
    assert query(back_to(browser.follow(no_pkce)))["error"] == "invalid_request"


def test_private_key_jwt_with_an_eddsa_client_key(api: Any, provider: dict[str, Any]) -> None:
    from joserfc.jwk import OKPKey

    key = OKPKey.generate_key("Ed25519", parameters={"kid": "rp-ed"})
    clients.register("rp-ed", name="Система EdDSA", redirect_uris=[REDIRECT], scopes=["openid", "profile"],
                     auth_method="private_key_jwt", jwks={"keys": [key.as_dict(private=False)]})
    browser = Browser(api, "+79160000022")
    session = rp(api, "rp-ed", client_secret=key,
                 token_endpoint_auth_method=PrivateKeyJWT(provider["token_endpoint"], alg="EdDSA",
                                                          claims={"exp": int(time.time()) + 120}))
    resp, state, verifier = authorize(browser, session, provider)
    assert redeem(session, provider, back_to(resp), verifier, state)["id_token"]


def test_a_code_lives_60_seconds(api: Any, provider: dict[str, Any], fake_clock: Any) -> None:
    register_basic("rp-slow")
    browser = Browser(api, "+79160000023")
    session = rp(api, "rp-slow", client_secret=SECRET)
    resp, state, verifier = authorize(browser, session, provider)
    fake_clock.advance(61)
    with pytest.raises(Exception, match="invalid_grant"):
        redeem(session, provider, back_to(resp), verifier, state)
    resp, state, verifier = authorize(browser, session, provider)
    fake_clock.advance(59)
    assert redeem(session, provider, back_to(resp), verifier, state)["id_token"]


def test_state_is_required_and_prompt_consent_asks_again(api: Any, provider: dict[str, Any]) -> None:
    register_basic("rp-rules")
    browser = Browser(api, "+79160000024")
    session = rp(api, "rp-rules", client_secret=SECRET)
    url, _, _ = start(session, provider)
    stateless = re.sub(r"&state=[^&]*", "", url)
    assert query(back_to(browser.follow(stateless)))["error"] == "invalid_request"
    authorize(browser, session, provider)  # consented once
    again = browser.follow(start(session, provider, prompt="consent")[0])
    assert again.status_code == 200 and "Разрешить и войти" in again.body.decode()  # asked although remembered


def test_a_code_is_bound_to_its_redirect_uri_at_the_token_endpoint(api: Any, provider: dict[str, Any]) -> None:
    clients.register("rp-two-uris", name="Два адреса", redirect_uris=[REDIRECT, OTHER_REDIRECT],
                     scopes=["openid", "profile"], auth_method="client_secret_basic", secret=SECRET)
    browser = Browser(api, "+79160000025")
    session = rp(api, "rp-two-uris", client_secret=SECRET)
    resp, _, verifier = authorize(browser, session, provider)
    other = requests.Session()
    other.mount("http://", IntoApp(api))
    swapped = other.post(provider["token_endpoint"], auth=("rp-two-uris", SECRET), data={
        "grant_type": "authorization_code", "code": query(back_to(resp))["code"], "redirect_uri": OTHER_REDIRECT,
        "code_verifier": verifier})
    assert swapped.status_code == 400 and swapped.json()["error"] == "invalid_grant"


def test_a_sector_shares_one_sub_and_a_public_sub_only_when_allowed(api: Any, provider: dict[str, Any]) -> None:
    for client_id, redirect, extra in (("sfr-web", REDIRECT, {"sector": "sfr.gov.ru"}),
                                       ("sfr-app", OTHER_REDIRECT, {"sector": "sfr.gov.ru"}),
                                       ("registry", "https://registry.example.gov/cb", {"public_sub": True})):
        clients.register(client_id, name=client_id, redirect_uris=[redirect], scopes=["openid", "profile"],
                         auth_method="client_secret_basic", secret=SECRET, **extra)
    browser = Browser(api, "+79160000026")
    subs = [signed_in(api, browser, provider, c, r)["sub"] for c, r in (
        ("sfr-web", REDIRECT), ("sfr-app", OTHER_REDIRECT), ("registry", "https://registry.example.gov/cb"))]
    user_id = api.get("/me", token=browser.access).json["user_id"]
    assert subs[0] == subs[1] != user_id  # one sector, one pairwise sub
    assert subs[2] == user_id  # the public sub, for a client explicitly allowed it


def test_one_refresh_token_used_at_once_rotates_once(api: Any, provider: dict[str, Any]) -> None:
    import concurrent.futures

    from chalicelib.sso.server import oauth_request, prefetch, server

    register_offline("rp-offline-race")
    browser = Browser(api, "+79160000027")
    session = rp(api, "rp-offline-race", client_secret=SECRET, scope="openid profile offline_access")
    resp, state, verifier = authorize(browser, session, provider)
    refresh = redeem(session, provider, back_to(resp), verifier, state)["refresh_token"]
    basic = "Basic " + base64.b64encode(f"rp-offline-race:{SECRET}".encode()).decode()
    form = {"grant_type": ["refresh_token"], "refresh_token": [refresh]}

    def refresh_once(_: int) -> int:
        prefetch(form, basic)
        return server().create_token_response(
            oauth_request("POST", "/sso/token", {"Authorization": basic}, {}, form))[0]

    with concurrent.futures.ThreadPoolExecutor(4) as pool:
        answers = sorted(pool.map(refresh_once, range(4)))
    assert answers == [200, 400, 400, 400]
