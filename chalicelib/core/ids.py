"""Time-ordered ids (ULID layout): sortable in sort keys, unguessable in URLs."""

from __future__ import annotations

import secrets

from chalicelib.core import clock

_ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"


def new_id() -> str:
    return _encode((int(clock.now().timestamp() * 1000) << 80) | secrets.randbits(80))


def is_id(text: str) -> bool:
    return len(text) == 26 and all(c in _ALPHABET for c in text)


def _encode(value: int) -> str:
    out = []
    for _ in range(26):
        value, rem = divmod(value, 32)
        out.append(_ALPHABET[rem])
    return "".join(reversed(out))


def id_bound(moment_ms: int, upper: bool) -> str:
    """The smallest (or largest) id minted in millisecond `moment_ms`: sort-key bounds for a time range."""
    return _encode((moment_ms << 80) | (((1 << 80) - 1) if upper else 0))
