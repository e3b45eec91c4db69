"""Single sign-on's signing keys (issue 15: "the id_token is signed RS256 for interoperability; EdDSA is offered
too"; pairwise `sub`s so that systems cannot correlate people): their own secret, the JWKS, rotation.

The relying party's side is joserfc verifying against the JWKS fetched over the app, not our code; which keys are
SSO's is read from the secret in Secrets Manager itself.
"""

from __future__ import annotations

import json

import pytest
from joserfc import jwt
from joserfc.errors import BadSignatureError
from joserfc.jwk import KeySet, OKPKey, RSAKey

from chalicelib.core.aws import client
from chalicelib.core.config import settings
from chalicelib.sso import signing
from infra.secrets import rotate_sso

PRIVATE_MEMBERS = {"d", "p", "q", "dp", "dq", "qi", "oth", "k"}  # RFC 7518 6.3.2, 6.4; RFC 8037 2


def _secret() -> dict:
    return json.loads(client("secretsmanager").get_secret_value(SecretId=settings().sso_secret_id)["SecretString"])


def _jwks(api) -> dict:
    resp = api.get("/.well-known/jwks.json")
    assert resp.status_code == 200
    return resp.json


def _sso_keys(api) -> dict[str, dict]:
    """The published JWKs of the SSO secret's keys, by kid."""
    kids = set(_secret()["keys"])
    return {k["kid"]: k for k in _jwks(api)["keys"] if k["kid"] in kids}


def _reread() -> None:
    """As if KEYS_TTL had passed: the container reads the secret again."""
    signing._loaded.cache_clear()


def _sign(alg: str, claims: dict) -> str:
    kid, key = signing.signing_key(alg)
    kind = RSAKey if alg == "RS256" else OKPKey
    return jwt.encode({"alg": alg, "kid": kid}, claims, kind.import_key(key), algorithms=[alg])


def _verify(api, token: str, alg: str) -> dict:
    """What a relying party does: the JWKS over HTTP, the key the header's kid names."""
    keys = KeySet.import_key_set(_jwks(api))
    return jwt.decode(token, keys, algorithms=[alg]).claims


def test_the_jwks_has_an_rsa_and_an_okp_key_for_sso_each_with_a_kid_and_no_private_parts(api):
    published = _sso_keys(api)
    assert set(published) == set(_secret()["keys"]), "every SSO key is published"
    rsa = [k for k in published.values() if k["kty"] == "RSA"]
    okp = [k for k in published.values() if k["kty"] == "OKP"]
    assert len(rsa) == 1 and len(okp) == 1
    assert rsa[0]["alg"] == "RS256" and rsa[0]["e"] == "AQAB" and rsa[0]["n"]
    assert RSAKey.import_key(rsa[0]).raw_value.key_size == 2048
    assert okp[0]["alg"] == "EdDSA" and okp[0]["crv"] == "Ed25519" and okp[0]["x"]
    for key in _jwks(api)["keys"]:  # the access-token keys as well
        assert key["kid"] and key["use"] == "sig"
        assert not PRIVATE_MEMBERS & set(key), key


@pytest.mark.parametrize("alg", ["RS256", "EdDSA"])
def test_a_jwt_signed_with_the_active_key_verifies_against_the_jwks_fetched_over_the_app(api, alg):
    token = _sign(alg, {"iss": "kabinet", "sub": "someone", "nonce": "n-1"})
    assert _verify(api, token, alg) == {"iss": "kabinet", "sub": "someone", "nonce": "n-1"}
    head, body, sig = token.split(".")
    with pytest.raises(BadSignatureError):  # and it is the signature that is checked
        _verify(api, f"{head}.{body}.{sig[::-1]}", alg)


def test_the_pairwise_secret_is_32_bytes_and_stable_across_loads(cloud):
    first = signing.pairwise_secret()
    _reread()
    assert len(first) == 32 and signing.pairwise_secret() == first


def test_the_keys_are_read_once_per_container_not_per_signature(cloud):
    calls = []
    sm = client("secretsmanager")
    sm.meta.events.register("before-call.secrets-manager.GetSecretValue", lambda **kw: calls.append(1))
    _reread()
    for alg in ("RS256", "EdDSA", "RS256"):
        signing.signing_key(alg)
    signing.public_jwks()
    signing.pairwise_secret()
    assert len(calls) == 1


def test_a_rotation_keeps_the_old_kids_published_and_the_pairwise_secret_unchanged(api):
    sm, secret_id = client("secretsmanager"), settings().sso_secret_id
    old = {alg: signing.signing_key(alg)[0] for alg in ("RS256", "EdDSA")}
    pairwise = signing.pairwise_secret()
    old_token = _sign("RS256", {"sub": "before"})

    added = rotate_sso(sm, secret_id, "add")
    _reread()
    new = added["next"]
    assert set(new.values()).isdisjoint(old.values())
    assert set(_sso_keys(api)) == {*old.values(), *new.values()}, "the new keys are published before they sign"
    assert {alg: signing.signing_key(alg)[0] for alg in old} == old, "an added key does not sign yet"

    rotate_sso(sm, secret_id, "activate")
    _reread()
    assert {alg: signing.signing_key(alg)[0] for alg in old} == new
    assert set(_sso_keys(api)) >= set(old.values()), "the old kids are still published"
    assert _verify(api, old_token, "RS256") == {"sub": "before"}
    assert _verify(api, _sign("RS256", {"sub": "after"}), "RS256") == {"sub": "after"}
    assert signing.pairwise_secret() == pairwise

    rotate_sso(sm, secret_id, "retire")
    _reread()
    assert set(_sso_keys(api)) == set(new.values())
    assert signing.pairwise_secret() == pairwise


def test_activate_without_add_is_refused_and_changes_nothing(cloud):
    sm, secret_id = client("secretsmanager"), settings().sso_secret_id
    before = _secret()
    with pytest.raises(SystemExit):
        rotate_sso(sm, secret_id, "activate")
    assert _secret() == before


def test_a_fresh_secret_has_its_own_keys_and_pairwise_secret():
    one, two = json.loads(signing.new_sso_secret()), json.loads(signing.new_sso_secret())
    assert set(one["active"]) == {"RS256", "EdDSA"} and set(one["keys"]) == set(one["active"].values())
    assert one["pairwise_secret"] != two["pairwise_secret"] and set(one["keys"]).isdisjoint(two["keys"])


def test_an_unknown_algorithm_has_no_key(cloud):
    with pytest.raises(ValueError):
        signing.signing_key("HS256")
