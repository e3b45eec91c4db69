"""The authorization endpoint's decisions (OIDC Core 3.1.2): what a validated request needs before a code is
issued — sign-in, a fresh sign-in (`prompt=login`, `max_age`), a step-up, a higher tier, consent — and the one
transaction that issues the code.

Authlib validates the request (client, exact redirect URI, response type, scopes, PKCE, nonce); the policy is
ours. Two kinds of refusal: `Untrusted` when the client or its redirect URI cannot be trusted (an error page,
never a redirect), `Back` when the answer goes back to the client as `error=` on its redirect URI.

Levels of assurance (docs/sso.md): `acr` is the identity tier capped by the session's strength — the confirmed
level also needs a strong session (two factors, a passkey or the e-signature); a password alone reaches the
standard level at most. So a confirmed person signed in with a password only is asked for a second factor
(step-up); a person whose tier is too low gets a page that says how to raise it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from chalicelib.core import clock
from chalicelib.identity import consents
from chalicelib.sso import claims, clients
from chalicelib.store import journal, keys, table
from chalicelib.store.table import Tx

LEVEL = {value: n for n, value in enumerate(claims.ACR_ORDER, start=1)}
STRONG = {"otp", "sms", "hwk", "esig", "mfa"}


class Untrusted(Exception):
    """The client or its redirect URI is unknown: the person sees an error page, nothing is redirected."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class Back(Exception):
    """An answer for the client: its redirect URI with `error`, `error_description` and `state`."""

    def __init__(self, location: str) -> None:
        super().__init__(location)
        self.location = location


@dataclass
class Ask:
    """A validated authorization request."""

    client: clients.Client
    scopes: list[str]
    params: dict[str, str]
    prompt: set[str] = field(default_factory=set)
    max_age: int | None = None
    acr_wanted: str | None = None

    @property
    def redirect_uri(self) -> str:
        return self.params["redirect_uri"]

    def back(self, error: str, description: str) -> Back:
        """`error=` on the client's (already validated) redirect URI, with its state."""
        from authlib.oauth2.base import OAuth2Error

        err = OAuth2Error(description=description, redirect_uri=self.redirect_uri, state=self.params.get("state"))
        err.error = error
        _, _, headers = err()
        return Back(dict(headers)["Location"])


def session_acr(tier: str, amr: list[str]) -> str:
    """The level this session proves: the tier, capped at standard unless the session is strong."""
    level = LEVEL[claims.acr(tier)]
    if not STRONG.intersection(amr):
        level = min(level, LEVEL[claims.ACR["standard"]])
    return claims.ACR_ORDER[level - 1]


def wanted(acr_values: str | None) -> str | None:
    """The lowest level among the requested `acr_values` that we know (each one satisfies the client)."""
    known = [v for v in (acr_values or "").split() if v in LEVEL]
    return min(known, key=LEVEL.__getitem__) if known else None


def check(params: dict[str, str], person: Any) -> Ask:
    """Validate the request with Authlib; `Untrusted` or `Back` when it is not valid."""
    from authlib.oauth2.base import OAuth2Error

    from chalicelib.sso.server import oauth_request, server

    srv = server()
    request = srv.create_oauth2_request(oauth_request("GET", "/login/authorize", {},
                                                      {k: [v] for k, v in params.items()}))
    try:
        grant = srv.get_consent_grant(request, end_user=person)
    except OAuth2Error as error:
        if not error.redirect_uri:  # Authlib names it only after its own check; ours is the exact match too
            client = srv.query_client(params.get("client_id", ""))
            if client is None or not client.check_redirect_uri(params.get("redirect_uri", "")):
                raise Untrusted(error.description or error.error) from None
            error.redirect_uri, error.state = params["redirect_uri"], params.get("state")
        raise Back(dict(error(None)[2])["Location"]) from None
    client: clients.Client = grant.client
    max_age = params.get("max_age")
    ask = Ask(client=client, scopes=grant.request.scope.split() if grant.request.scope else [], params=params,
              prompt=set((params.get("prompt") or "").split()), acr_wanted=wanted(params.get("acr_values")))
    if max_age is not None:
        if not max_age.isdigit() or len(max_age) > 9:
            raise ask.back("invalid_request", "max_age must be a non-negative number of seconds")
        ask.max_age = int(max_age)
    if "openid" not in ask.scopes:
        raise ask.back("invalid_scope", "the openid scope is required")
    if not params.get("state") or len(params["state"]) > 500:  # required here (issue 15), not only recommended
        raise ask.back("invalid_request", "state is required (at most 500 characters)")
    return ask


@dataclass
class Seen:
    """What one BatchGetItem read for the signed-in person: account, session and their grant to this client."""

    user: dict[str, Any]
    session: dict[str, Any]
    grant: dict[str, Any] | None


def read(client_id: str | None, user_id: str | None, session_id: str | None) -> Seen | None:
    """One BatchGetItem before anything else: the client (handed to Authlib, which would read it twice) and, for a
    signed-in person, the account, the session and their grant to this client."""
    from chalicelib.sso.server import known_clients

    known_clients({})  # nothing from an earlier request of this container counts
    if not client_id or len(client_id) > 100:
        return None
    wanted = [keys.sso_client(client_id)]
    if user_id and session_id:
        wanted += [keys.user(user_id), keys.session(user_id, session_id), keys.sso_grant(user_id, client_id)]
    found = table.get_many(wanted)
    known_clients({client_id: clients.of_item(found[0]) if found[0] else None})
    if len(found) == 1:
        return None
    _, user, session, grant = found
    if user is None or session is None or session.get("revoked_at"):
        return None
    return Seen(user, session, grant if grant and not grant.get("revoked_at") else None)


def session_amr(session: dict[str, Any]) -> list[str]:
    return claims.amr(session.get("method"), session.get("mfa"))


def next_step(ask: Ask, seen: Seen | None, fresh_after: int | None) -> str:
    """"login", "login_again", "tier", "step_up", "consent" or "issue"; `Back` when `prompt=none` forbids the
    page the person would need. `fresh_after`: the time a forced sign-in was asked for (the session must be
    newer for it to count)."""
    silent = "none" in ask.prompt
    if seen is None:
        if silent:
            raise ask.back("login_required", "the person is not signed in")
        return "login"
    auth_time = int(seen.session["created_at"])
    fresh = fresh_after is not None and auth_time >= fresh_after
    too_old = ask.max_age is not None and clock.epoch() - auth_time > ask.max_age
    if ("login" in ask.prompt or too_old) and not fresh:
        if silent:
            raise ask.back("login_required", "a new sign-in is required (max_age)")
        return "login_again"
    if ask.acr_wanted:
        tier_level = LEVEL[claims.acr(seen.user.get("tier", ""))]
        if tier_level < LEVEL[ask.acr_wanted]:
            if silent:
                raise ask.back("unmet_authentication_requirements", "the identity tier is below acr_values")
            return "tier"
        if LEVEL[session_acr(seen.user.get("tier", ""), session_amr(seen.session))] < LEVEL[ask.acr_wanted]:
            if silent:
                raise ask.back("interaction_required", "a second factor is required for acr_values")
            return "step_up"
    granted = set(seen.grant["scopes"]) if seen.grant else set()
    if "consent" in ask.prompt or not set(ask.scopes) <= granted:
        if silent:
            raise ask.back("consent_required", "the person has not consented to these scopes")
        return "consent"
    return "issue"


def issue(ask: Ask, seen: Seen, ip: str | None, consented: bool) -> str:
    """Issue the code (Authlib) and answer the client's redirect URI with it. One transaction: the code, the
    grant (new consent or last use), the session's list of clients (back-channel logout), the audit entry."""
    from chalicelib.sso.server import Person, oauth_request, server

    srv = server()
    person = Person({**seen.user, "_session": seen.session, "_ip": ip, "_consented": consented, "_grant": seen.grant})
    request = srv.create_oauth2_request(oauth_request("GET", "/login/authorize", {},
                                                      {k: [v] for k, v in ask.params.items()}))
    grant = srv.get_authorization_grant(request)
    request.user = person
    _, _, out = srv.create_authorization_response(request, grant_user=person, grant=grant)
    location = dict(out).get("Location")
    if not location:
        raise Untrusted("the authorization server gave no redirect")
    return location


def add_grant(tx: Tx, user: dict[str, Any], client: clients.Client, scopes: list[str], grant: dict[str, Any] | None,
              consented: bool, ip: str | None) -> str:
    """Into the code's transaction: a new consent (recorded with the other consents, ID-9) or the grant's use.
    Returns the consent the code is issued under."""
    now = clock.epoch()
    pk, sk = keys.sso_grant(user["user_id"], client.client_id)
    if consented or grant is None:
        wanted_scopes = sorted(set(scopes) | set(grant["scopes"] if grant else []))
        consent_id = consents.record(tx, user["user_id"], "sso", ip=ip, recipient=client.name or client.client_id,
                                     subject=" ".join(wanted_scopes), ref=client.client_id)
        tx.put({"pk": pk, "sk": sk, "client_id": client.client_id, "client_name": client.name,
                "scopes": wanted_scopes, "consent_id": consent_id, "granted_at": now, "last_used_at": now,
                "uses": int(grant.get("uses", 0)) + 1 if grant else 1})
        if grant:  # the new consent covers what the old one did: the old record says it was replaced
            tx.update(keys.consent(user["user_id"], grant["consent_id"]), "SET revoked_at = :at, replaced_by = :c",
                      cond="attribute_exists(pk)", values={":at": clock.iso(clock.now()), ":c": consent_id})
        journal.audit(tx, keys.user_pk(user["user_id"]), "sso.consented", user["user_id"], ip,
                      client_id=client.client_id, scopes=" ".join(wanted_scopes))
        return consent_id
    tx.update((pk, sk), "SET last_used_at = :now ADD uses :one", cond="consent_id = :c AND attribute_not_exists("
              "revoked_at)", values={":now": now, ":one": 1, ":c": grant["consent_id"]})
    return str(grant["consent_id"])
