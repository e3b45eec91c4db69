"""Time-ordered ids (ULID layout): sortable in sort keys, unguessable in URLs."""

from __future__ import annotations

import secrets

from chalicelib.core import clock

_ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"


def new_id() -> str:
    value = (int(clock.now().timestamp() * 1000) << 80) | secrets.randbits(80)
    out = []
    for _ in range(26):
        value, rem = divmod(value, 32)
        out.append(_ALPHABET[rem])
    return "".join(reversed(out))


def is_id(text: str) -> bool:
    return len(text) == 26 and all(c in _ALPHABET for c in text)
