"""Back-channel logout (OIDC Back-Channel Logout 1.0): when sessions end, every system each of them signed into
gets a logout token naming the session (`sid`) and the person (`sub`, pairwise), so it ends its own session.

The event (`sessions.ended`) comes from every way a session ends on purpose: sign-out, ending it from the sessions
page, signing out everywhere, a password change or reset, blocking. A system that does not answer 200/204 fails
the event, which SQS then redelivers (with the others again: a relying party must take a repeated logout as done).
"""

from __future__ import annotations

import logging
import uuid
from typing import Any

from chalicelib.adapters import backchannel
from chalicelib.core import clock
from chalicelib.sso import clients
from chalicelib.store import keys, table

log = logging.getLogger("kabinet.sso")
EVENT = "http://schemas.openid.net/event/backchannel-logout"
TOKEN_TTL = 120


class NotDelivered(Exception):
    """Some systems did not take the logout token; the event is retried."""


def logout_token(client: clients.Client, user_id: str, session_id: str) -> str:
    from chalicelib.sso.server import issuer, session_sid, sign_jwt, sub_for

    now = clock.epoch()
    return sign_jwt({"iss": issuer(), "aud": client.client_id, "iat": now, "exp": now + TOKEN_TTL,
                     "jti": str(uuid.uuid4()), "sub": sub_for(client, user_id),
                     "sid": session_sid(client, session_id), "events": {EVENT: {}}},
                    client.id_token_alg, typ="logout+jwt")


def handle(event: dict[str, Any]) -> int:
    """Send the logout tokens of one `sessions.ended` event; returns how many systems took theirs."""
    data = event["data"]
    user_id = data["user_id"]
    found = table.get_many([keys.session(user_id, sid) for sid in data["session_ids"]])
    known: dict[str, clients.Client | None] = {}
    sent, failed = 0, []
    for session in found:
        for client_id in sorted((session or {}).get("sso_clients") or []):
            if client_id not in known:
                known[client_id] = clients.get(client_id)
            client = known[client_id]
            if client is None or not client.backchannel_logout_uri:
                continue
            status = backchannel.post(client.backchannel_logout_uri,
                                      logout_token(client, user_id, session["session_id"]))
            if status in (200, 204):
                sent += 1
            else:
                failed.append(f"{client_id}: {status}")
    if failed:
        raise NotDelivered("back-channel logout not taken by " + ", ".join(failed))
    return sent
