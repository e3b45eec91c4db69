"""The admin command that registers relying parties (issue 15: "registered by an admin, no dynamic registration"):
`python -m infra.admin sso-client …` and `sso-clients`, on the local cloud. What a registered client can do is
checked through the provider's own endpoints, not by reading the item back."""

from __future__ import annotations

import base64
import json
import secrets
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit

import pytest
from authlib.oauth2.rfc7636 import create_s256_code_challenge
from joserfc.jwk import RSAKey

from infra import admin
from tests.sso_support import Browser

REDIRECT = "https://lk.sfr.example/callback"


def listed(capsys: pytest.CaptureFixture[str]) -> dict[str, dict[str, Any]]:
    capsys.readouterr()
    assert admin.main(["sso-clients", "--json"]) == 0
    return {c["client_id"]: c for c in map(json.loads, capsys.readouterr().out.splitlines())}


def code_for(api: Any, client_id: str, verifier: str) -> str:
    """A signed-in person lets the client sign them in (Kabinet's authorization page, consent answered)."""
    person = Browser(api, "+79160000101")
    query = urlencode({"response_type": "code", "client_id": client_id, "redirect_uri": REDIRECT,
                       "scope": "openid profile", "state": "st-1", "nonce": "n-1",
                       "code_challenge": create_s256_code_challenge(verifier), "code_challenge_method": "S256"})
    resp = person.authorize(f"/login/authorize?{query}")
    assert resp.status_code == 303, resp.body[:300]
    return parse_qs(urlsplit(resp.headers["Location"]).query)["code"][0]


def test_client_secret_is_printed_once_and_authenticates_at_the_token_endpoint(
        api: Any, capsys: pytest.CaptureFixture[str]) -> None:
    assert admin.main(["sso-client", "--client-id", "sfr-lk", "--name", "Личный кабинет СФР", "--redirect-uri",
                       REDIRECT, "--scope", "openid", "--scope", "profile", "--auth-method",
                       "client_secret_basic"]) == 0
    out = capsys.readouterr().out
    secret = out.split("client_secret: ")[1].split()[0]
    assert len(secret) >= 32
    verifier = secrets.token_urlsafe(48)
    code = code_for(api, "sfr-lk", verifier)
    form = urlencode({"grant_type": "authorization_code", "code": code, "redirect_uri": REDIRECT,
                      "code_verifier": verifier}).encode()

    def token_with(password: str) -> Any:
        basic = base64.b64encode(f"sfr-lk:{password}".encode()).decode()
        return api.call("POST", "/sso/token", raw=form, headers={
            "content-type": "application/x-www-form-urlencoded", "authorization": f"Basic {basic}"})

    assert token_with("not-" + secret).status_code == 401  # RFC 6749 5.2: invalid_client
    done = token_with(secret)
    assert done.status_code == 200 and done.json["id_token"], done.json
    shown = listed(capsys)["sfr-lk"]
    assert shown["name"] == "Личный кабинет СФР" and shown["auth_method"] == "client_secret_basic"
    assert secret not in json.dumps(shown)  # listed without the secret (nor its hash)
    assert admin.main(["sso-client", "--client-id", "sfr-lk", "--name", "Другая", "--redirect-uri", REDIRECT,
                       "--scope", "openid", "--auth-method", "client_secret_basic"]) == 1  # registered once


def test_every_field_is_registered_and_listed(cloud: dict[str, str], capsys: pytest.CaptureFixture[str],
                                              tmp_path: Any) -> None:
    key = RSAKey.generate_key(2048, parameters={"kid": "fns-2025"})
    jwks_file = tmp_path / "fns.jwks.json"
    jwks_file.write_text(json.dumps({"keys": [key.as_dict(private=False)]}))
    assert admin.main([
        "sso-client", "--client-id", "fns-lk", "--name", "Личный кабинет налогоплательщика",
        "--redirect-uri", "https://lkfl.fns.example/cb", "--redirect-uri", "http://127.0.0.1:9000/cb",
        *[a for s in ("openid", "profile", "birthdate", "snils", "inn", "passport", "contacts", "address",
                      "offline_access") for a in ("--scope", s)],
        "--auth-method", "private_key_jwt", "--jwks", str(jwks_file), "--sector", "fns.example",
        "--post-logout-redirect-uri", "https://lkfl.fns.example/", "--backchannel-logout-uri",
        "https://lkfl.fns.example/bcl", "--id-token-alg", "EdDSA"]) == 0
    inline = json.dumps({"keys": [RSAKey.generate_key(2048, parameters={"kid": "k2"}).as_dict(private=False)]})
    assert admin.main(["sso-client", "--client-id", "mobile", "--name", "Мобильное приложение", "--redirect-uri",
                       "http://127.0.0.1:7000/cb", "--scope", "openid", "--auth-method", "none",
                       "--public-sub"]) == 0
    assert admin.main(["sso-client", "--client-id", "inline", "--name", "Ключ строкой", "--redirect-uri", REDIRECT,
                       "--scope", "openid", "--jwks", inline]) == 0  # private_key_jwt is the default
    clients = listed(capsys)
    assert sorted(clients) == ["fns-lk", "inline", "mobile"]
    fns = clients["fns-lk"]
    assert fns["redirect_uris"] == ["https://lkfl.fns.example/cb", "http://127.0.0.1:9000/cb"]
    assert fns["scopes"][-1] == "offline_access" and len(fns["scopes"]) == 9
    assert (fns["sector"], fns["public_sub"], fns["id_token_alg"]) == ("fns.example", False, "EdDSA")
    assert fns["post_logout_redirect_uris"] == ["https://lkfl.fns.example/"]
    assert fns["backchannel_logout_uri"] == "https://lkfl.fns.example/bcl"
    assert (clients["mobile"]["auth_method"], clients["mobile"]["public_sub"]) == ("none", True)
    assert clients["inline"]["auth_method"] == "private_key_jwt"


@pytest.mark.parametrize("extra", [
    ["--redirect-uri", "http://rp.example/cb", "--scope", "openid", "--auth-method", "none"],  # http off loopback
    ["--redirect-uri", REDIRECT + "#top", "--scope", "openid", "--auth-method", "none"],  # a fragment
    ["--redirect-uri", "/callback", "--scope", "openid", "--auth-method", "none"],  # not absolute
    ["--redirect-uri", REDIRECT, "--scope", "profile", "--auth-method", "none"],  # no openid
    ["--redirect-uri", REDIRECT, "--scope", "openid"],  # private_key_jwt without keys
    ["--redirect-uri", REDIRECT, "--scope", "openid", "--jwks", "https://rp.example/jwks.json"],  # a URL
    ["--redirect-uri", REDIRECT, "--scope", "openid", "--jwks", "{\"keys\": []}"],
    ["--redirect-uri", REDIRECT, "--scope", "openid", "--jwks", "not json"],
    ["--redirect-uri", REDIRECT, "--scope", "openid", "--jwks", "PRIVATE"],  # a private key given by mistake
    ["--redirect-uri", REDIRECT, "--scope", "openid", "--auth-method", "none", "--jwks", "PUBLIC"],
    ["--redirect-uri", REDIRECT, "--scope", "openid", "--auth-method", "none",
     "--backchannel-logout-uri", "http://rp.example/bcl"],
])
def test_bad_registrations_are_refused_and_nothing_is_written(cloud: dict[str, str], extra: list[str],
                                                              capsys: pytest.CaptureFixture[str]) -> None:
    key = RSAKey.generate_key(2048, parameters={"kid": "k"})
    values = {"PRIVATE": json.dumps({"keys": [key.as_dict(private=True)]}),
              "PUBLIC": json.dumps({"keys": [key.as_dict(private=False)]})}
    assert admin.main(["sso-client", "--client-id", "bad", "--name", "Система",
                       *[values.get(a, a) for a in extra]]) == 2
    assert "bad" not in listed(capsys)
