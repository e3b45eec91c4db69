"""Single sign-on in the browser (issue 15; docs/sso.md): the authorization endpoint `/login/authorize` (sign-in,
a fresh sign-in, a step-up or a higher tier when the system asks for one, consent, then back to the system with a
code), the step-up page, the account's list of systems, and RP-initiated logout `/logout/end-session`.

The request's parameters travel through sign-in in the `next` path, so the person lands back on the same
request; a forced sign-in (`prompt=login`, `max_age`) adds a signed `sso_fresh` stamp, and only a session opened
after it counts, so the page cannot loop and the stamp cannot be forged.
"""

from __future__ import annotations

import hashlib
import urllib.parse
from typing import Any

from chalice import Blueprint

from chalicelib.core import tokens
from chalicelib.core.errors import DomainError
from chalicelib.identity import stepup
from chalicelib.sso import authorize, claims, grants, logout
from chalicelib.web.pages import Page, Redirect, Visit, attempt, form_errors, page, safe_next

bp = Blueprint(__name__)
FRESH = "sso-fresh"
FRESH_TTL = 900
AUTHORIZE = "/login/authorize"
_OWN = ("sso_fresh", "csrf", "decision")


def _params(visit: Visit) -> dict[str, str]:
    source = visit.form if visit.method == "POST" else visit.query
    return {k: v for k, v in source.items() if k not in ("csrf", "decision")}


def _here(params: dict[str, str], **extra: str) -> str:
    return f"{AUTHORIZE}?{urllib.parse.urlencode({**params, **extra})}"


def _digest(params: dict[str, str]) -> str:
    wanted = {k: v for k, v in params.items() if k not in _OWN}
    return hashlib.sha256(urllib.parse.urlencode(sorted(wanted.items())).encode()).hexdigest()[:32]


def _fresh_after(params: dict[str, str]) -> int | None:
    """When the forced sign-in of this very request was asked for (the signed stamp), else None."""
    stamp = params.get("sso_fresh")
    found = tokens.verify_purpose(stamp, FRESH) if stamp else None
    return int(found["iat"]) if found and found.get("h") == _digest(params) else None


def _person(visit: Visit) -> Any:
    from chalicelib.sso.server import Person

    return Person({"user_id": visit.principal.user_id}) if visit.principal else None


@page(bp, AUTHORIZE, methods=("GET", "POST"), auth=False)
def authorize_page(visit: Visit) -> Page | Redirect:
    params = _params(visit)
    try:
        who = visit.principal
        seen = authorize.read(params.get("client_id"), who.user_id if who else None, who.session_id if who else None)
        ask = authorize.check(params, _person(visit))
        step = authorize.next_step(ask, seen, _fresh_after(params))
        if visit.method == "POST" and seen is not None and step in ("consent", "issue"):
            if visit.form.get("decision") != "allow":
                return Redirect(ask.back("access_denied", "the person declined").location)
            return Redirect(authorize.issue(ask, seen, visit.origin.ip, consented=True))
        return _show(visit, ask, seen, step, params)
    except authorize.Untrusted:
        return Page("sso_error.html", {}, 400)
    except authorize.Back as back:
        return Redirect(back.location)


def _show(visit: Visit, ask: authorize.Ask, seen: authorize.Seen | None, step: str,
          params: dict[str, str]) -> Page | Redirect:
    name = ask.client.name or ask.client.client_id
    if step == "login":
        return Redirect("/login?" + urllib.parse.urlencode({"next": _here(params)}))
    if step == "login_again":
        stamp, _ = tokens.issue_purpose("sso", FRESH, FRESH_TTL, h=_digest(params))
        return Redirect("/login?" + urllib.parse.urlencode({"again": "1", "next": _here(params, sso_fresh=stamp)}))
    if step == "step_up":
        return Redirect("/login/step-up?" + urllib.parse.urlencode({"next": _here(params), "system": name}))
    if step == "tier":
        assert seen is not None
        back = ask.back("unmet_authentication_requirements", "the identity tier is below acr_values").location
        return Page("sso_tier.html", {"system": name, "tier": seen.user.get("tier"), "back": back}, 403)
    if step == "consent":
        assert seen is not None
        return Page("sso_consent.html", {"system": name, "client_id": ask.client.client_id, "params": params,
                                         "scopes": [(s, claims.SCOPE_TITLES[s]) for s in ask.scopes
                                                    if s in claims.SCOPE_TITLES],
                                         "before": sorted(seen.grant["scopes"]) if seen.grant else None,
                                         "preview": claims.user_claims(seen.user, ask.scopes)})
    assert seen is not None
    return Redirect(authorize.issue(ask, seen, visit.origin.ip, consented=False))


@page(bp, "/login/step-up", methods=("GET", "POST"))
def step_up(visit: Visit) -> Page | Redirect:
    """A second factor for this session, when a system asks for the confirmed level."""
    from chalicelib.store import keys, table

    next_path = safe_next(visit.query.get("next") or visit.form.get("next"), AUTHORIZE)
    user = table.get(keys.user(visit.user_id)) or {}
    methods = stepup.methods(user)
    method = visit.form.get("method") or visit.query.get("method") or (methods[0] if methods else "")
    context: dict[str, Any] = {"next": next_path, "methods": methods, "method": method if method in methods else "",
                               "system": (visit.query.get("system") or visit.form.get("system") or "")[:200],
                               "errors": None, "sent": False}
    if visit.method == "GET" or not methods:
        return Page("sso_step_up.html", context, 200 if methods else 409)
    session_id = visit.principal.session_id if visit.principal else ""
    if visit.form.get("action") == "send":
        context["sent"] = attempt(visit, context, lambda: stepup.send(visit.user_id, session_id, visit.origin)) \
            is not None
        return Page("sso_step_up.html", context, 200 if context["sent"] else 400)
    done = attempt(visit, context, lambda: stepup.confirm(visit.user_id, session_id, method,
                                                         visit.form.get("code", "").strip(), visit.origin))
    return Redirect(next_path) if done else Page("sso_step_up.html", context, 400)


@page(bp, "/security/systems")
def systems(visit: Visit) -> Page:
    return Page("security_systems.html", {"active": "security", "systems": grants.listing(visit.user_id),
                                          "titles": claims.SCOPE_TITLES, "errors": None,
                                          "revoked": visit.query.get("done") == "revoked"})


@page(bp, "/security/systems/{client_id}/revoke", methods=("POST",))
def system_revoke(visit: Visit, client_id: str) -> Page | Redirect:
    try:
        grants.revoke(visit.user_id, client_id, visit.origin.ip)
    except DomainError as exc:
        return Page("security_systems.html", {"active": "security", "systems": grants.listing(visit.user_id),
                                              "titles": claims.SCOPE_TITLES, "errors": form_errors(exc, visit.lang),
                                              "revoked": False}, 404)
    return Redirect("/security/systems?done=revoked")


@page(bp, "/logout/end-session", methods=("GET", "POST"), auth=False)
def end_session(visit: Visit) -> Page | Redirect:
    """RP-initiated logout 1.0: with a valid `id_token_hint` of this session, sign out at once; otherwise ask
    first. Back to the system only to a `post_logout_redirect_uri` registered for the hint's client."""
    params = visit.form if visit.method == "POST" else visit.query
    asked = logout.Asked.of(params)
    current = visit.principal
    matches = current is not None and asked.matches(current.user_id, current.session_id)
    if current is not None and (matches or (visit.method == "POST" and visit.form.get("decision") == "logout")):
        logout.sign_out(current.user_id, current.session_id, visit.origin)
        visit.sign_out()
        current = None
    if current is None:
        if asked.redirect:
            return Redirect(asked.redirect)
        return Page("sso_logged_out.html", {"system": asked.client_name})
    return Page("sso_logout.html", {"system": asked.client_name, "params": {k: v for k, v in params.items()
                                                                         if k not in ("csrf", "decision")}})
