"""Pairwise subject identifiers (OIDC Core 8.1): each sector sees its own `sub`, so systems cannot correlate
people; the same sector always sees the same one."""

from __future__ import annotations

import base64
import hashlib
import hmac


def subject(secret: bytes, sector: str, person_id: str) -> str:
    """HMAC-SHA256 of sector and person under the provider's pairwise secret, base64url without padding."""
    mac = hmac.new(secret, f"{sector}|{person_id}".encode(), hashlib.sha256).digest()
    return base64.urlsafe_b64encode(mac).rstrip(b"=").decode()
