"""The "Устройства" page (NF-3): the devices that receive push notices, each with "remove". The mobile apps
register themselves (POST /me/devices); the page only shows and removes, with the same domain calls."""

from __future__ import annotations

from typing import Any

from chalice import Blueprint

from chalicelib.core.errors import DomainError
from chalicelib.notify import devices
from chalicelib.web.pages import Page, Redirect, Visit, form_errors, page

bp = Blueprint(__name__)


@page(bp, "/security/devices")
def device_list(visit: Visit) -> Page:
    return Page("security_devices.html", {"active": "security", "devices": devices.listing(visit.user_id),
                                          "limit": devices.MAX_DEVICES, "errors": None,
                                          "removed": visit.query.get("done") == "removed"})


@page(bp, "/security/devices/{device_id}/remove", methods=("POST",))
def device_remove(visit: Visit, device_id: str) -> Page | Redirect:
    try:
        devices.remove(visit.user_id, device_id, visit.origin)
    except DomainError as exc:  # someone else's or already removed: the same 404 as the API's
        context: dict[str, Any] = {"active": "security", "devices": devices.listing(visit.user_id),
                                   "limit": devices.MAX_DEVICES, "errors": form_errors(exc, visit.lang),
                                   "removed": False}
        return Page("security_devices.html", context, 404)
    return Redirect("/security/devices?done=removed")
