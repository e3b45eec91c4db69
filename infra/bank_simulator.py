"""Local partner-bank simulators (stage `local` only, registered by app.py): an OAuth2 authorization server that
signs in a person with a demo bank login, hands back an authorization code and exchanges it (PKCE S256) for an
Ed25519-signed assertion with the customer's full name, INN and birth date.

The bank's "customer database" mirrors the state registries: the bank login is a SNILS (11 digits, dashes and
spaces allowed), and the customer is the account holding that SNILS. A suffix after `+` picks what the bank says
(docs/confirmation.md), so a person or a test can choose an outcome:

    +fio +name +middle +inn +birth +all   that field (or all of them) differs from the registry data
    +yo                                   the surname in capitals with «ё» (still a match: case and ё are ignored)
    +badsig                               the assertion is signed with a key that is not the bank's
    +down                                 the token endpoint is unavailable (503)
    +slow                                 the token endpoint answers after 2 seconds
    +expired                              the assertion has already expired

Codes live 60 seconds and work once; an unknown SNILS is a login the bank does not know.
"""

from __future__ import annotations

import base64
import hashlib
import re
import time
from dataclasses import dataclass
from functools import cache
from typing import Any

from chalicelib.adapters import bank as bank_adapter
from chalicelib.core import clock
from chalicelib.core.codes import hash_token, new_token
from chalicelib.core.config import settings
from chalicelib.store import keys, table
from chalicelib.store.table import ConditionFailed, Tx

DEMO_BANK_PASSWORD = "bank-demo"
CODE_TTL = 60
ASSERTION_TTL = 300
SLOW_SECONDS = 2.0
BANKS = {"severny": "Банк «Северный» (демо)", "volga": "Банк «Волга» (демо)"}
PATTERNS = ("fio", "name", "middle", "inn", "birth", "all", "yo", "badsig", "down", "slow", "expired")
_LOGIN = re.compile(r"(\d{11})(?:\+([a-z]+))?")


@dataclass(frozen=True)
class Customer:
    login: str
    pattern: str
    record: dict[str, Any]


def _seed(bank_id: str, purpose: str) -> bytes:
    return hashlib.sha256(f"kabinet-local-bank:{bank_id}:{purpose}".encode()).digest()


@cache
def _private_key(bank_id: str, purpose: str = "signing") -> Any:
    """Deterministic per bank, so every process of the local cloud (API, pump, tests) agrees on it."""
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

    return Ed25519PrivateKey.from_private_bytes(_seed(bank_id, purpose))


def public_jwks(bank_id: str) -> dict[str, Any]:
    import json

    from jwt.algorithms import OKPAlgorithm

    jwk = json.loads(OKPAlgorithm.to_jwk(_private_key(bank_id).public_key()))
    return {"keys": [{**jwk, "kid": f"{bank_id}-1", "use": "sig", "alg": "EdDSA"}]}


def issuer(bank_id: str) -> str:
    return f"{settings().public_url}/dev/bank/{bank_id}"


def redirect_uri() -> str:
    """The one redirect URI registered for our client at the simulated banks."""
    return f"{settings().public_url}/identity/bank/callback"


def register() -> None:
    for bank_id, name in BANKS.items():
        bank_adapter.register(bank_adapter.Bank(
            id=bank_id, name=name, issuer=issuer(bank_id), authorize_url=f"{issuer(bank_id)}/authorize",
            jwks=public_jwks(bank_id),
            exchange=lambda code, verifier, uri, b=bank_id: exchange(b, code, verifier, uri)))


def customer(login: str) -> Customer | None:
    """The bank's customer for a demo login, or None (the bank knows no such login)."""
    match = _LOGIN.fullmatch(re.sub(r"[\s-]", "", login.strip().lower()))
    if not match or (match.group(2) and match.group(2) not in PATTERNS):
        return None
    alias = table.get(keys.login_alias("snils", match.group(1)))
    person = table.get(keys.user(alias["user_id"])) if alias else None
    if not person or not person.get("birth_date") or not person.get("inn"):
        return None
    record = {"family_name": person["last_name"], "given_name": person["first_name"],
              "middle_name": person.get("middle_name") or "", "inn": person["inn"], "birthdate": person["birth_date"]}
    return Customer(match.group(1), match.group(2) or "", _apply(match.group(2) or "", record))


def _apply(pattern: str, record: dict[str, Any]) -> dict[str, Any]:
    out = dict(record)
    if pattern in ("fio", "all"):
        out["family_name"] = "Банков"
    if pattern in ("name", "all"):
        out["given_name"] = "Вклад"
    if pattern in ("middle", "all"):
        out["middle_name"] = "Кредитович"
    if pattern in ("inn", "all"):
        out["inn"] = out["inn"][:-1] + str((int(out["inn"][-1]) + 1) % 10)
    if pattern in ("birth", "all"):
        year, rest = out["birthdate"][:4], out["birthdate"][4:]
        out["birthdate"] = f"{int(year) - 1}{rest}"
    if pattern == "yo":
        out["family_name"] = out["family_name"].upper().replace("Е", "Ё")
    return out


def authorize(bank_id: str, login: str, password: str, *, challenge: str, nonce: str, uri: str) -> str | None:
    """The bank's sign-in: a new authorization code, or None for a wrong login or password."""
    person = customer(login)
    if person is None or password != DEMO_BANK_PASSWORD:
        return None
    code = new_token()
    pk, sk = keys.bank_sim_code(hash_token(code))
    now = clock.epoch()
    table.put({"pk": pk, "sk": sk, "bank": bank_id, "login": login, "challenge": challenge, "nonce": nonce,
               "redirect_uri": uri, "expires_at": now + CODE_TTL, "ttl": now + 3600})
    return code


def exchange(bank_id: str, code: str, verifier: str, uri: str) -> str:
    """The token endpoint: the code works once, for this bank, this redirect URI and this PKCE verifier."""
    key = keys.bank_sim_code(hash_token(code))
    item = table.get(key)
    person = customer(item["login"]) if item else None
    if person and person.pattern == "down":
        raise bank_adapter.BankUnavailable("simulated outage")
    if person and person.pattern == "slow":
        time.sleep(SLOW_SECONDS)
    try:
        Tx().delete(key, cond="attribute_exists(pk)").commit()
    except ConditionFailed:
        raise bank_adapter.CodeRefused("used") from None
    challenge = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).rstrip(b"=").decode()
    if (not item or not person or item["bank"] != bank_id or item["redirect_uri"] != uri
            or item["challenge"] != challenge or item["expires_at"] <= clock.epoch()):
        raise bank_adapter.CodeRefused("invalid_grant")
    return _assertion(bank_id, person, item["nonce"])


def _assertion(bank_id: str, person: Customer, nonce: str) -> str:
    import jwt

    now = clock.epoch()
    exp = now - 1 if person.pattern == "expired" else now + ASSERTION_TTL
    claims = {"iss": issuer(bank_id), "aud": bank_adapter.CLIENT_ID,
              "sub": hashlib.sha256(f"{bank_id}:{person.login}".encode()).hexdigest()[:24], "iat": now, "exp": exp,
              "nonce": nonce, **person.record}
    key = _private_key(bank_id, "rogue" if person.pattern == "badsig" else "signing")
    return jwt.encode(claims, key, algorithm="EdDSA", headers={"kid": f"{bank_id}-1"})
