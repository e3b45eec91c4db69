"""The main page: open applications with their deadlines, the latest finished ones, the latest messages and
quick access to frequent services (the state portal's familiar first screen)."""

from __future__ import annotations

from chalice import Blueprint

from chalicelib.applications import statuses, views
from chalicelib.catalog import search
from chalicelib.notify import inbox
from chalicelib.web.pages import Page, Redirect, Visit, page

bp = Blueprint(__name__)
FREQUENT = 6
LATEST = 5


@page(bp, "/")
def home(visit: Visit) -> Page | Redirect:
    if visit.principal and visit.principal.role != "citizen":  # staff work at their desks
        return Redirect({"operator": "/mfc", "editor": "/newsroom"}.get(visit.principal.role, "/officer"))
    requests = views.list_requests(visit.user_id, {})["items"]
    messages = inbox.messages(visit.user_id, None)
    frequent = search.search(page_size=FREQUENT)["items"]
    return Page("home.html", {
        "active": "home",
        "open": [r for r in requests if r["status"] not in statuses.FINAL],
        "finished": [r for r in requests if r["status"] in statuses.FINAL][:LATEST],
        "messages": messages["items"][:LATEST], "unread": messages["unread"], "frequent": frequent})
