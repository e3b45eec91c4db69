"""The signed-in person's own data (AU-9)."""

from __future__ import annotations

from typing import Any

from chalice import Blueprint

from chalicelib.api.http import Call, endpoint
from chalicelib.identity import profile
from chalicelib.identity.models import ProfileOut

bp = Blueprint(__name__)


@endpoint(bp, "GET", "/me", summary="Profile of the signed-in person", response=ProfileOut, tag="me")
def me(call: Call) -> dict[str, Any]:
    return profile.profile(call.user_id)


@endpoint(bp, "GET", "/me/login-history", summary="Sign-ins, newest first",
          query=("cursor", "from", "to", "device_type", "result"), tag="me")
def login_history(call: Call) -> dict[str, Any]:
    return profile.login_history(call.user_id, call.query)
