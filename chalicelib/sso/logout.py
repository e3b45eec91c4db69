"""RP-initiated logout (OpenID Connect RP-Initiated Logout 1.0): a system sends the person to
`/logout/end-session` with the id_token it holds (`id_token_hint`), where to come back
(`post_logout_redirect_uri`, only one registered for that client) and its `state`.

The hint is checked with our own keys (its expiry does not matter: it only says which client and session ask). A
hint naming the person's current session signs out at once; anything else asks first, so a link on another site
cannot sign anyone out. Signing out ends the session like the sign-out button: every other system of that
session is then told by back-channel logout.
"""

from __future__ import annotations

import urllib.parse
from dataclasses import dataclass
from typing import Any

from chalicelib.core.origin import Origin
from chalicelib.identity import sessions
from chalicelib.sso import clients


@dataclass
class Asked:
    client: clients.Client | None
    hint: dict[str, Any] | None
    redirect: str | None

    @property
    def client_name(self) -> str | None:
        return (self.client.name or self.client.client_id) if self.client else None

    @classmethod
    def of(cls, params: dict[str, str]) -> Asked:
        hint = _hint(params.get("id_token_hint"))
        client_id = params.get("client_id") or (hint or {}).get("aud")
        if isinstance(client_id, list):
            client_id = client_id[0] if len(client_id) == 1 else None
        if hint is not None and params.get("client_id") and params["client_id"] != _aud(hint):
            hint = None  # a hint of another client than the one named: trust neither for the redirect
        client = clients.get(str(client_id)) if client_id and len(str(client_id)) <= 100 else None
        target = params.get("post_logout_redirect_uri")
        redirect = None
        if client and target and target in client.post_logout_redirect_uris:
            state = params.get("state")
            redirect = target + ("&" if "?" in target else "?") + urllib.parse.urlencode({"state": state}) \
                if state else target
        return cls(client, hint if client else None, redirect)

    def matches(self, user_id: str, session_id: str) -> bool:
        from chalicelib.sso.server import session_sid, sub_for

        if not self.hint or not self.client:
            return False
        return (self.hint.get("sid") == session_sid(self.client, session_id)
                and self.hint.get("sub") == sub_for(self.client, user_id))


def _aud(hint: dict[str, Any]) -> str | None:
    aud = hint.get("aud")
    return aud[0] if isinstance(aud, list) and len(aud) == 1 else aud if isinstance(aud, str) else None


def _hint(token: str | None) -> dict[str, Any] | None:
    """The claims of an id_token we signed (expired or not), or None."""
    if not token or len(token) > 8192:
        return None
    from joserfc import jwt
    from joserfc.errors import JoseError

    from chalicelib.sso.server import issuer, verification_keys

    try:
        claims = dict(jwt.decode(token, verification_keys(), algorithms=["RS256", "EdDSA"]).claims)
    except (JoseError, ValueError, TypeError):
        return None
    return claims if claims.get("iss") == issuer() else None


def sign_out(user_id: str, session_id: str, origin: Origin) -> None:
    sessions.logout(user_id, session_id, origin)
