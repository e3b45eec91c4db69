"""argon2id password hashing; the hasher is built on first use (it is the cost of a login)."""

from __future__ import annotations

import os
from functools import cache
from typing import Any


@cache
def _hasher() -> Any:
    from argon2 import PasswordHasher, Type

    # RFC 9106 "second recommended" profile; KABINET_ARGON2="t,m_kib,p" lowers it for the test suite only.
    t, m, p = (int(x) for x in os.environ.get("KABINET_ARGON2", "3,65536,4").split(","))
    return PasswordHasher(time_cost=t, memory_cost=m, parallelism=p, type=Type.ID)


def hash_password(password: str) -> str:
    return _hasher().hash(password)


@cache
def _dummy_hash() -> str:
    return _hasher().hash("dummy-password-for-equal-timing")


def verify_password(stored: str | None, password: str) -> bool:
    """Same work whether or not the account exists, so timing reveals nothing."""
    from argon2.exceptions import InvalidHashError, VerificationError

    try:
        return _hasher().verify(stored or _dummy_hash(), password) and stored is not None
    except (VerificationError, InvalidHashError):
        return False


def needs_rehash(stored: str) -> bool:
    return _hasher().check_needs_rehash(stored)
