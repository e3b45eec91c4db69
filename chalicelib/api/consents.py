"""Consents to personal-data processing of the signed-in person (ID-9): the list, and revoking where allowed."""

from __future__ import annotations

from typing import Any

from chalice import Blueprint

from chalicelib.api.http import Call, endpoint
from chalicelib.api.shapes import CursorQuery
from chalicelib.core.errors import not_found
from chalicelib.core.ids import is_id
from chalicelib.identity import consents
from chalicelib.identity.blocking_models import ConsentRevokedOut, ConsentsOut

bp = Blueprint(__name__)


@endpoint(bp, "GET", "/me/consents", summary="Consents given: purpose, recipient, date, legal basis; newest first",
          query=CursorQuery, response=ConsentsOut, tag="me")
def consent_list(call: Call) -> dict[str, Any]:
    return consents.consents(call.user_id, call.query.get("cursor"))


@endpoint(bp, "POST", "/me/consents/{consent_id}/revoke", summary="Revoke a consent where the law allows it: "
          "future use stops, processing already done stays lawful", response=ConsentRevokedOut, tag="me")
def consent_revoke(call: Call, consent_id: str) -> dict[str, Any]:
    if not is_id(consent_id):
        raise not_found("Согласие", neuter=True)
    return consents.revoke(call.user_id, consent_id, call.origin.ip)
