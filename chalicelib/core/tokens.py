"""Access tokens: Ed25519-signed JWTs with a `kid`, verified in-process with no table read.

The signing keys come from Secrets Manager: `{"active_kid": .., "keys": {kid: pem}}`, read again every
KEYS_TTL seconds (and sooner when a token names a kid this container has not seen), so that a rotation reaches
every warm container, provisioned ones included, without a redeploy. Every key in the secret verifies and is in
the JWKS, only the active one signs, so keys rotate without logging anyone out (docs/runbook.md).
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass
from typing import Any

from chalicelib.core import clock
from chalicelib.core.aws import client
from chalicelib.core.config import settings
from chalicelib.core.errors import unauthorized

ACCESS_TTL = 600
KEYS_TTL = 300  # how stale a container's copy of the signing keys may get
UNKNOWN_KID_RELOAD = 30  # a token with an unknown kid rereads the secret, at most this often
ISSUER = "kabinet"
AUDIENCE = "kabinet-api"


@dataclass(frozen=True)
class Principal:
    user_id: str
    session_id: str
    tier: str
    role: str


@dataclass(frozen=True)
class _Keys:
    active_kid: str
    private: dict[str, Any]
    public: dict[str, Any]


def _load() -> _Keys:
    from cryptography.hazmat.primitives.serialization import load_pem_private_key

    raw = client("secretsmanager").get_secret_value(SecretId=settings().signing_secret_id)["SecretString"]
    doc = json.loads(raw)
    private = {kid: load_pem_private_key(pem.encode(), password=None) for kid, pem in doc["keys"].items()}
    return _Keys(doc["active_kid"], private, {kid: key.public_key() for kid, key in private.items()})


class _KeyCache:
    """The container's copy of the keys, with its age (monotonic time: the injected clock may stand still)."""

    def __init__(self) -> None:
        self._loaded: tuple[float, _Keys] | None = None

    def __call__(self, max_age: float | None = None) -> _Keys:
        now = time.monotonic()
        if self._loaded is None or now - self._loaded[0] >= (KEYS_TTL if max_age is None else max_age):
            self._loaded = (now, _load())
        return self._loaded[1]

    def cache_clear(self) -> None:
        self._loaded = None


_keys = _KeyCache()


def new_signing_secret() -> str:
    """A fresh secret value in the shape `_keys` reads; used by bootstrap and key rotation."""
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

    from chalicelib.core.ids import new_id

    pem = Ed25519PrivateKey.generate().private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    ).decode()
    kid = new_id().lower()
    return json.dumps({"active_kid": kid, "keys": {kid: pem}})


def issue_access(user_id: str, session_id: str, tier: str, role: str = "citizen") -> str:
    import jwt

    keys = _keys()
    now = clock.epoch()
    claims = {"iss": ISSUER, "aud": AUDIENCE, "sub": user_id, "sid": session_id, "tier": tier,
              "role": role, "iat": now, "exp": now + ACCESS_TTL}
    return jwt.encode(claims, keys.private[keys.active_kid], algorithm="EdDSA",
                      headers={"kid": keys.active_kid})


def verify_access(token: str) -> Principal:
    import jwt

    keys = _keys()
    try:
        kid = jwt.get_unverified_header(token).get("kid")
        key = keys.public.get(kid) or _keys(UNKNOWN_KID_RELOAD).public.get(kid)
        if key is None:
            raise unauthorized("Недействительный токен доступа")
        claims = jwt.decode(token, key, algorithms=["EdDSA"], audience=AUDIENCE, issuer=ISSUER,
                            options={"verify_exp": False, "verify_iat": False, "require": ["exp", "sub", "sid"]})
    except jwt.PyJWTError:
        raise unauthorized("Недействительный токен доступа") from None
    if claims["exp"] <= clock.epoch():  # checked against our clock, not the wall clock
        raise unauthorized("Срок действия токена истёк")
    return Principal(claims["sub"], claims["sid"], claims.get("tier", "simplified"),
                     claims.get("role", "citizen"))


def public_jwks() -> dict[str, Any]:
    """JWKS for other state systems that verify our tokens (single sign-on)."""
    import base64

    from cryptography.hazmat.primitives import serialization

    out = []
    for kid, key in _keys().public.items():
        raw = key.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
        x = base64.urlsafe_b64encode(raw).rstrip(b"=").decode()
        out.append({"kty": "OKP", "crv": "Ed25519", "alg": "EdDSA", "use": "sig", "kid": kid, "x": x})
    return {"keys": out}


def issue_purpose(subject: str, purpose: str, ttl: int, **claims: Any) -> tuple[str, str]:
    """A short signed token good for one step only (MFA challenge, forced password change): (token, jti)."""
    import jwt

    from chalicelib.core.ids import new_id

    keys = _keys()
    now = clock.epoch()
    jti = new_id()
    body = {"iss": ISSUER, "aud": f"kabinet-{purpose}", "sub": subject, "jti": jti, "iat": now, "exp": now + ttl,
            **claims}
    return jwt.encode(body, keys.private[keys.active_kid], algorithm="EdDSA",
                      headers={"kid": keys.active_kid}), jti


def verify_purpose(token: str, purpose: str) -> dict[str, Any] | None:
    """Claims of a valid, unexpired token for `purpose`; None otherwise (the caller words the refusal)."""
    import jwt

    keys = _keys()
    try:
        key = keys.public.get(jwt.get_unverified_header(token).get("kid"))
        if key is None:
            return None
        claims = jwt.decode(token, key, algorithms=["EdDSA"], audience=f"kabinet-{purpose}", issuer=ISSUER,
                            options={"verify_exp": False, "verify_iat": False, "require": ["exp", "sub", "jti"]})
    except jwt.PyJWTError:
        return None
    return claims if claims["exp"] > clock.epoch() else None
