"""Time-ordered ids (ULID layout): sortable in sort keys, unguessable in URLs."""

from __future__ import annotations

import secrets

from chalicelib.core import clock

_ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"


_last = 0


def new_id() -> str:
    """Monotonic within a container: ids minted in the same millisecond still sort in minting order."""
    global _last
    value = (int(clock.now().timestamp() * 1000) << 80) | secrets.randbits(80)
    if value >> 80 == _last >> 80 and value <= _last:
        value = _last + 1
    _last = value
    return _encode(value)


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
