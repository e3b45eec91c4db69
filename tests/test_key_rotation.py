"""Token-key rotation as docs/runbook.md runs it (infra/secrets.py rotate): add, activate, retire.

Nobody is signed out at any step: during the overlap the JWKS serves the old and the new kid and both verify;
a warm container that has not reread the secret yet accepts a token signed with the new key (it rereads on an
unknown kid); after `retire`, a token of the old key is refused.
"""

from __future__ import annotations

import json

import jwt
import pytest

from chalicelib.core import tokens
from chalicelib.core.aws import client
from chalicelib.core.config import settings
from infra.secrets import rotate

PHONE = "+79161234567"


def _kids(api) -> set[str]:
    """The published access-token kids: the JWKS also serves single sign-on's keys (their own secret)."""
    resp = api.get("/.well-known/jwks.json")
    assert resp.status_code == 200
    sso = json.loads(client("secretsmanager").get_secret_value(SecretId=settings().sso_secret_id)["SecretString"])
    return {key["kid"] for key in resp.json["keys"]} - set(sso["keys"])


def _kid(token: str) -> str:
    return jwt.get_unverified_header(token)["kid"]


def _works(api, token: str) -> bool:
    return api.get("/me", token=token).status_code == 200


def test_rotation_keeps_everyone_signed_in_and_retires_the_old_key(api, monkeypatch):
    monkeypatch.setattr(tokens, "KEYS_TTL", 0)  # every container rereads the secret at once
    sm, secret = client("secretsmanager"), settings().signing_secret_id
    old = api.register(phone=PHONE)["access_token"]
    old_kid = _kid(old)
    assert _kids(api) == {old_kid}

    added = rotate(sm, secret, "add")
    new_kid = added["next_kid"]
    assert _kids(api) == {old_kid, new_kid}
    assert _kid(api.login(PHONE)["access_token"]) == old_kid, "an added key does not sign yet"

    rotate(sm, secret, "activate")
    fresh = api.login(PHONE)["access_token"]
    assert _kid(fresh) == new_kid
    assert _works(api, old) and _works(api, fresh)
    assert _kids(api) == {old_kid, new_kid}

    rotate(sm, secret, "retire")
    assert _kids(api) == {new_kid}
    assert not _works(api, old)
    assert _works(api, fresh)


def test_a_warm_container_accepts_a_token_of_a_key_it_has_not_seen(api, monkeypatch):
    sm, secret = client("secretsmanager"), settings().signing_secret_id
    old = api.register(phone=PHONE)["access_token"]
    assert _works(api, old)  # this container now holds the keys, fresh for KEYS_TTL
    rotate(sm, secret, "add")
    doc = rotate(sm, secret, "activate")  # done by the operator; other containers sign with the new key
    from cryptography.hazmat.primitives.serialization import load_pem_private_key

    claims = jwt.decode(old, options={"verify_signature": False})
    key = load_pem_private_key(doc["keys"][doc["active_kid"]].encode(), password=None)
    other = jwt.encode(claims, key, algorithm="EdDSA", headers={"kid": doc["active_kid"]})

    monkeypatch.setattr(tokens, "UNKNOWN_KID_RELOAD", 3600)  # as if it had just reread the secret
    assert not _works(api, other)
    monkeypatch.setattr(tokens, "UNKNOWN_KID_RELOAD", 0)
    assert _works(api, other)


def test_activate_without_add_is_refused(api):
    sm, secret = client("secretsmanager"), settings().signing_secret_id
    before = sm.get_secret_value(SecretId=secret)["SecretString"]
    with pytest.raises(SystemExit):
        rotate(sm, secret, "activate")
    assert json.loads(sm.get_secret_value(SecretId=secret)["SecretString"]) == json.loads(before)
