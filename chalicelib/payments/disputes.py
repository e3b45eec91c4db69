"""Disputing a traffic fine (PY-2): an application to Госавтоинспекция with the person's documents, built from the
fine itself; the debt then shows as disputed. The application is an ordinary one (the catalog's
`traffic-fine-appeal`): the same form, tier, checks and journal as when it is filed from the catalog.

The mark is set by the agency worker on `request.submitted`, whichever way the appeal was filed (here, the
catalog's form, the API), so a fine is shown disputed exactly when an appeal naming its УИН was submitted.
"""

from __future__ import annotations

import re
from typing import Any

from chalicelib.adapters import gisgmp
from chalicelib.applications import submission, views
from chalicelib.applications.models import RequestIn
from chalicelib.core.errors import Unavailable, not_found
from chalicelib.core.origin import Origin
from chalicelib.core.tokens import Principal
from chalicelib.payments.models import UIN_PATTERN
from chalicelib.store import keys, table

SERVICE = "traffic-fine-appeal"


def dispute(principal: Principal, uin: str, grounds: str, attachments: list[str], origin: Origin) -> dict[str, Any]:
    if not re.fullmatch(UIN_PATTERN, uin):
        raise not_found("Штраф")
    try:
        charge = gisgmp.charge(uin)
    except gisgmp.InvalidIdentifier:
        raise not_found("Штраф") from None
    except gisgmp.GisGmpUnavailable:
        raise Unavailable("GISGMP_UNAVAILABLE", "Государственная платёжная система не отвечает, повторите позже") \
            from None
    if charge is None or charge.kind != "fine":
        raise not_found("Штраф")
    user = table.get(keys.user(principal.user_id)) or {}
    params = {"last_name": user.get("last_name", ""), "first_name": user.get("first_name", ""),
              "resolution_number": uin, "resolution_date": charge.details.get("decision_date") or charge.issued_on,
              "grounds": grounds}
    if user.get("middle_name"):
        params["middle_name"] = user["middle_name"]
    created = submission.create(principal, RequestIn(type=SERVICE, params=params, attachments=attachments), origin)
    return {"request_id": created["id"], "number": created["number"]}


def on_submitted(event: dict[str, Any]) -> None:
    """`request.submitted` of an appeal: the fine it names is marked disputed for its author."""
    data = event["data"]
    if data.get("service_id") != SERVICE:
        return
    req = views.load(data["request_id"])
    uin = ((req or {}).get("params") or {}).get("resolution_number")
    if not uin:
        return
    table.update(keys.debt_mark(data["user_id"], uin), "SET request_id = :r, uin = :u",
                 values={":r": data["request_id"], ":u": uin})


