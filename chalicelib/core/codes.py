"""One-time codes and opaque tokens: generated with `secrets`, stored only as salted hashes."""

from __future__ import annotations

import hashlib
import hmac
import secrets


def new_code(digits: int = 6) -> str:
    return f"{secrets.randbelow(10 ** digits):0{digits}d}"


def new_salt() -> str:
    return secrets.token_hex(8)


def hash_code(code: str, salt: str) -> str:
    return hashlib.sha256(f"{salt}:{code}".encode()).hexdigest()


def code_matches(code: str, salt: str, stored_hash: str) -> bool:
    return hmac.compare_digest(hash_code(code, salt), stored_hash)


def new_token() -> str:
    return secrets.token_urlsafe(32)


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()
