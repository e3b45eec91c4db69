"""Sessions and login history pages (AU-9): the active sessions with "end", the sign-ins with filters, their CSV
and "not me". The same domain calls as chalicelib/api/security.py and chalicelib/api/me.py."""

from __future__ import annotations

import urllib.parse
from typing import Any

from chalice import Blueprint
from pydantic import ValidationError

from chalicelib.core import clock
from chalicelib.core.errors import DomainError
from chalicelib.identity import profile, security, sessions
from chalicelib.identity.models import LoginHistoryQuery
from chalicelib.web.pages import Download, Page, Redirect, Visit, attempt, form_errors, invalid, page

bp = Blueprint(__name__)
FILTERS = ("from", "to", "device_type", "result")


def _moscow(moment: str) -> str:
    return clock.ru(clock.from_iso(moment))[:16]


@page(bp, "/security/sessions")
def session_list(visit: Visit) -> Page:
    assert visit.principal is not None
    items = sessions.list_sessions(visit.user_id, visit.principal.session_id)
    for s in items:
        s["created"], s["last_used"] = _moscow(s["created_at"]), _moscow(s["last_used_at"])
    ended, count = visit.query.get("ended"), visit.query.get("count", "")
    return Page("security_sessions.html", {"active": "security", "sessions": items,
                                           "ended": ended if ended in ("one", "others") else None,
                                           "count": count if count.isdigit() else ""})


@page(bp, "/security/sessions/{session_id}/end", methods=("POST",))
def session_end(visit: Visit, session_id: str) -> Redirect:
    assert visit.principal is not None
    if session_id == visit.principal.session_id:  # this very browser: that is signing out
        sessions.logout(visit.user_id, session_id, visit.origin)
        visit.sign_out()
        return Redirect("/login")
    sessions.end_session(visit.user_id, session_id, visit.origin)
    return Redirect("/security/sessions?ended=one")


@page(bp, "/security/sessions/end-others", methods=("POST",))
def sessions_end_others(visit: Visit) -> Redirect:
    assert visit.principal is not None
    count = sessions.end_other_sessions(visit.user_id, visit.principal.session_id, visit.origin)
    return Redirect(f"/security/sessions?ended=others&count={count}")


def _filters(visit: Visit, with_cursor: bool) -> dict[str, str]:
    """The filter form's values as the API takes them: empty fields are no filter; the model checks the rest."""
    names = (*FILTERS, "cursor") if with_cursor else FILTERS
    query = {k: visit.query[k].strip() for k in names if visit.query.get(k, "").strip()}
    LoginHistoryQuery.model_validate(query)
    return query


@page(bp, "/security/login-history")
def history(visit: Visit) -> Page:
    shown = {k: visit.query.get(k, "") for k in FILTERS}
    context: dict[str, Any] = {"active": "security", "filters": shown, "errors": None, "items": [], "next": None,
                               "csv": "/security/login-history.csv"}
    query = attempt(visit, context, lambda: _filters(visit, with_cursor=True))
    found = None if query is None else attempt(visit, context, lambda: profile.login_history(visit.user_id, query))
    if query is None or found is None:
        return Page("security_history.html", context, 400)
    plain = {k: v for k, v in query.items() if k != "cursor"}
    for item in found["items"]:
        item["when"] = _moscow(item["at"])
    context.update(items=found["items"], csv="/security/login-history.csv" + (
        "?" + urllib.parse.urlencode(plain) if plain else ""))
    if found["cursor"]:
        context["next"] = "/security/login-history?" + urllib.parse.urlencode({**plain, "cursor": found["cursor"]})
    return Page("security_history.html", context)


@page(bp, "/security/login-history.csv")
def history_csv(visit: Visit) -> Page | Download:
    """The same CSV as GET /me/login-history.csv, as an attachment; bad filters show the history page's errors."""
    try:
        return Download(profile.login_history_csv(visit.user_id, _filters(visit, with_cursor=False)),
                        "text/csv; charset=utf-8", "login-history.csv")
    except (ValidationError, DomainError) as exc:
        errors = invalid(exc, visit.lang) if isinstance(exc, ValidationError) else form_errors(exc, visit.lang)
        return Page("security_history.html", {"active": "security", "errors": errors, "items": [], "next": None,
                                              "filters": {k: visit.query.get(k, "") for k in FILTERS},
                                              "csv": "/security/login-history.csv"}, 400)


@page(bp, "/security/login-history/{event_id}/not-me", methods=("GET", "POST"))
def not_me(visit: Visit, event_id: str) -> Page:
    """"Это был не я": every session ends (this one too) and a new password is required; optionally the owner
    also blocks the account (AU-12), as the API's two routes offer."""
    context: dict[str, Any] = {"active": "security", "event_id": event_id, "errors": None}
    if visit.method == "POST":
        choice = visit.form.get("block")
        if choice not in ("no", "yes"):
            context["errors"] = {"message": visit._("Проверьте введённые данные"),
                                 "fields": {"block": visit._("Выберите, блокировать ли учётную запись")}}
            return Page("security_not_me.html", context, 400)
        try:
            result = security.not_me(visit.user_id, event_id, visit.origin, block=choice == "yes")
        except DomainError as exc:
            context["errors"] = form_errors(exc, visit.lang)
            return Page("security_not_me.html", context, 400)
        visit.sign_out()
        return Page("security_not_me_done.html", {"active": "login", "result": result})
    return Page("security_not_me.html", context)
