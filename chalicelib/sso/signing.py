"""The single sign-on keys: what signs id_tokens (and back-channel logout tokens) and the pairwise-`sub` secret.

They live in a Secrets Manager secret of their own (`SsoSigningSecret`, KABINET_SSO_SECRET), not with the API's
access-token keys: other state systems verify with them, so they rotate on their own schedule, and the issue
asks for RS256 (interoperability) beside EdDSA. The value, as `new_sso_secret` makes it:

    {"active": {"RS256": kid, "EdDSA": kid},   # the one key per algorithm that signs
     "keys": {kid: PKCS#8 PEM, ...},           # every key here is published in the JWKS
     "pairwise_secret": base64(32 bytes)}      # HMAC key of pairwise `sub`s: NEVER changes

(and `"next": {alg: kid}` between the `add` and `activate` steps of a rotation, infra/secrets.py). A key's
algorithm follows from its type (RSA-2048 → RS256, Ed25519 → EdDSA); its kid is its RFC 7638 thumbprint.

The pairwise secret must survive every rotation untouched: each client's `sub` for a person is derived from it
(chalicelib/sso/pairwise.py), so a new value would hand every relying party a new, unknown identifier for every
person. Rotation replaces keys only; nothing ever regenerates this secret once it has a value.

Like core/tokens.py's keys, a container rereads the secret every KEYS_TTL seconds, so a rotation reaches every
warm container without a redeploy; private keys are parsed once per PEM (RSA's consistency check costs ~80 ms).
"""

from __future__ import annotations

import base64
import functools
import json
import time
from dataclasses import dataclass
from typing import Any

from chalicelib.core.aws import client
from chalicelib.core.config import settings

ALGORITHMS = ("RS256", "EdDSA")
RSA_BITS = 2048
PAIRWISE_BYTES = 32
KEYS_TTL = 300  # how stale a container's copy may get; as core/tokens.py's (docs/runbook.md waits on it)


@dataclass(frozen=True)
class _Keys:
    active: dict[str, str]  # algorithm → kid
    private: dict[str, Any]  # kid → cryptography private key, in the secret's order
    pairwise: bytes


def algorithm_of(key: Any) -> str:
    """RS256 for an RSA key, EdDSA for an Ed25519 one: the secret stores no algorithm beside the key."""
    from cryptography.hazmat.primitives.asymmetric import ed25519, rsa

    if isinstance(key, rsa.RSAPrivateKey | rsa.RSAPublicKey):
        return "RS256"
    if isinstance(key, ed25519.Ed25519PrivateKey | ed25519.Ed25519PublicKey):
        return "EdDSA"
    raise ValueError(f"an SSO key of an unsupported type: {type(key).__name__}")


@functools.lru_cache(maxsize=16)
def _private(pem: str) -> Any:
    from cryptography.hazmat.primitives.serialization import load_pem_private_key

    return load_pem_private_key(pem.encode(), password=None)


def parse(value: str) -> _Keys:
    """The secret's value, checked: an active key for every algorithm, and a 32-byte pairwise secret."""
    doc = json.loads(value)
    private = {kid: _private(pem) for kid, pem in doc["keys"].items()}
    for alg in ALGORITHMS:
        kid = doc["active"].get(alg)
        if kid not in private or algorithm_of(private[kid]) != alg:
            raise ValueError(f"the SSO secret has no active {alg} key")
    pairwise = base64.b64decode(doc["pairwise_secret"], validate=True)
    if len(pairwise) != PAIRWISE_BYTES:
        raise ValueError("the SSO pairwise secret is not 32 bytes")
    return _Keys(dict(doc["active"]), private, pairwise)


@functools.lru_cache(maxsize=1)
def _loaded(period: int) -> _Keys:
    """One read of the secret per KEYS_TTL period (the argument); tests/conftest.py clears it per test."""
    return parse(client("secretsmanager").get_secret_value(SecretId=settings().sso_secret_id)["SecretString"])


def _keys() -> _Keys:
    return _loaded(int(time.monotonic() // KEYS_TTL))  # monotonic: the injected clock may stand still


def signing_key(alg: str) -> tuple[str, Any]:
    """(kid, private key) of the active key for `alg` ("RS256" or "EdDSA"); put the kid in the JWT header."""
    if alg not in ALGORITHMS:
        raise ValueError(f"no SSO signing key for {alg!r}: {', '.join(ALGORITHMS)}")
    keys = _keys()
    kid = keys.active[alg]
    return kid, keys.private[kid]


def public_jwks() -> list[dict[str, Any]]:
    """Every SSO key's public JWK (`kid`, `alg`, `use`="sig"; RSA: n, e; OKP: crv, x), for the JWKS route."""
    return [_public_jwk(kid, key) for kid, key in _keys().private.items()]


def _public_jwk(kid: str, key: Any) -> dict[str, Any]:
    from joserfc.jwk import OKPKey, RSAKey

    alg = algorithm_of(key)
    kind = RSAKey if alg == "RS256" else OKPKey
    return kind.import_key(key.public_key(), {"kid": kid, "alg": alg, "use": "sig"}).as_dict(private=False)


def pairwise_secret() -> bytes:
    """The HMAC key of pairwise `sub`s (32 bytes); the same before and after every key rotation."""
    return _keys().pairwise


def new_key(alg: str) -> tuple[str, str]:
    """A fresh private key for `alg`: (kid = RFC 7638 thumbprint of its public key, PKCS#8 PEM)."""
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import ed25519, rsa
    from joserfc.jwk import OKPKey, RSAKey

    if alg == "RS256":
        key: Any = rsa.generate_private_key(public_exponent=65537, key_size=RSA_BITS)
        kid = RSAKey.import_key(key.public_key()).thumbprint()
    elif alg == "EdDSA":
        key = ed25519.Ed25519PrivateKey.generate()
        kid = OKPKey.import_key(key.public_key()).thumbprint()
    else:
        raise ValueError(f"no SSO signing key for {alg!r}: {', '.join(ALGORITHMS)}")
    pem = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                            serialization.NoEncryption()).decode()
    return kid, pem


def new_sso_secret() -> str:
    """A fresh secret value in the shape `parse` reads: one key per algorithm, active, and a new pairwise
    secret. Only for an empty secret (bootstrap, `make secrets`): a rotation adds keys with `rotated` instead."""
    import secrets

    fresh = {alg: new_key(alg) for alg in ALGORITHMS}
    return json.dumps({"active": {alg: kid for alg, (kid, _) in fresh.items()},
                       "keys": {kid: pem for kid, pem in fresh.values()},
                       "pairwise_secret": base64.b64encode(secrets.token_bytes(PAIRWISE_BYTES)).decode()})


def rotated(value: str, step: str) -> str:
    """The secret's value after one step of a key rotation (docs/runbook.md), the pairwise secret untouched:

    add:      a new key per algorithm joins `keys` (the JWKS serves it; nothing signs with it yet);
    activate: the added keys sign from now on (wait KEYS_TTL after `add`, and as long as relying parties cache
              the JWKS);
    retire:   every key but the active ones goes (wait until no id_token signed with them is still in use).
    """
    doc = json.loads(value)
    if step == "add":
        fresh = {alg: new_key(alg) for alg in ALGORITHMS}
        doc["next"] = {alg: kid for alg, (kid, _) in fresh.items()}
        doc["keys"].update(dict(fresh.values()))
    elif step == "activate":
        if "next" not in doc:
            raise ValueError("nothing to activate: run the `add` step first")
        doc["active"] = doc.pop("next")
    elif step == "retire":  # an added key not yet active stays
        keep = {*doc["active"].values(), *doc.get("next", {}).values()}
        doc["keys"] = {kid: pem for kid, pem in doc["keys"].items() if kid in keep}
    else:
        raise ValueError(f"unknown rotation step {step!r}: add, activate or retire")
    out = json.dumps(doc)
    if parse(out).pairwise != parse(value).pairwise:  # the one thing a rotation must never change
        raise AssertionError("a key rotation changed the pairwise secret")
    return out
