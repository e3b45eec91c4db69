"""Partner banks (ID-7): where a person is sent to sign in, how our authorization code is exchanged, and how the
bank's signed assertion is checked.

A bank is an OAuth2 authorization server (authorization code with PKCE S256). Its answer to the code exchange is
an `id_token`: a JWT signed with the bank's key, carrying the person's full name, INN and birth date. Only the
bank's public keys from configuration are trusted (never a key named in the token itself).

Banks are registered at start-up: the local stage registers its simulators (infra/bank_simulator.py); a stage with
no bank registered does not offer the channel. The exchange is a callable so the local simulator answers
in-process: `chalice local` serves one request at a time, and an API request calling it back over HTTP would wait
for itself.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from chalicelib.core import clock

CLIENT_ID = "kabinet"  # our client id at every partner bank; also the `aud` of their assertions
ALGORITHMS = ["EdDSA", "ES256", "RS256"]  # never "none", never HMAC (a public key is not a shared secret)


class BankUnavailable(Exception):
    """The bank did not answer the exchange (timeout, 5xx): the person may try again later."""


class AssertionInvalid(Exception):
    """The assertion is not the bank's or not for this flow: bad signature, issuer, audience, nonce, expiry."""


class CodeRefused(Exception):
    """The bank refused the authorization code (unknown, used, expired, PKCE verifier wrong): OAuth invalid_grant."""


# code, PKCE verifier, redirect_uri -> the id_token (raises BankUnavailable or CodeRefused)
Exchange = Callable[[str, str, str], str]


@dataclass(frozen=True)
class Bank:
    id: str
    name: str
    issuer: str
    authorize_url: str
    jwks: dict[str, Any]  # the bank's public keys: {"keys": [JWK, ...]}, each with its "kid"
    exchange: Exchange


_BANKS: dict[str, Bank] = {}


def register(bank: Bank) -> None:
    _BANKS[bank.id] = bank


def banks() -> list[Bank]:
    return list(_BANKS.values())


def get(bank_id: str) -> Bank | None:
    return _BANKS.get(bank_id)


def verify_assertion(bank: Bank, token: str, nonce: str) -> dict[str, Any]:
    """The assertion's claims once its signature (a configured key, by kid), issuer, audience, nonce and expiry are
    right. Expiry is checked against our clock, not the machine's."""
    import jwt  # pyjwt[crypto]: already a runtime dependency (access tokens)

    try:
        header = jwt.get_unverified_header(token)
        key = next((k for k in bank.jwks.get("keys", []) if k.get("kid") == header.get("kid")), None)
        if key is None or header.get("alg") not in ALGORITHMS:
            raise AssertionInvalid("unknown key or algorithm")
        claims = jwt.decode(token, jwt.PyJWK(key).key, algorithms=[header["alg"]], audience=CLIENT_ID,
                            issuer=bank.issuer, options={"verify_exp": False, "verify_iat": False,
                                                         "require": ["exp", "iat", "nonce", "sub"]})
    except jwt.PyJWTError as exc:
        raise AssertionInvalid(type(exc).__name__) from None
    if claims.get("nonce") != nonce or not isinstance(claims.get("exp"), int) or claims["exp"] <= clock.epoch():
        raise AssertionInvalid("nonce or expiry")
    return claims
