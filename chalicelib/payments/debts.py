"""A person's debts (PY-1, PY-2): charges from ГИС ГМП, with what Kabinet knows that ГИС ГМП may not show yet.

ГИС ГМП is asked for the profile's own checked identifiers (INN, SNILS) and any the person typed (a driving licence,
a vehicle certificate, a utility account, a УИН). Its answers are reused per container for DEBTS_CACHE_SECONDS:
a debt list costs one Query (the account item and the debt marks beside it) and, at most every five minutes, one
adapter call. A mark says a debt is being paid, was paid (until ГИС ГМП shows it closed) or is disputed.
"""

from __future__ import annotations

import time
from dataclasses import asdict
from datetime import date
from typing import Any

from chalicelib.adapters import gisgmp
from chalicelib.core import clock
from chalicelib.core.errors import Invalid
from chalicelib.payments import money, rules
from chalicelib.store import keys, table

_CACHE: dict[tuple[tuple[str, str], ...], tuple[float, list[gisgmp.Charge]]] = {}
TYPED = ("driving_licence", "vehicle_certificate", "utility_account", "uin")


def identifiers(user: dict[str, Any], typed: dict[str, str | None] | None = None) -> dict[str, str]:
    """The profile's checked INN and SNILS, and what the person typed (refused with the field's message)."""
    out = {kind: user[kind] for kind in ("inn", "snils") if user.get(kind)}
    errors = {}
    for kind, value in (typed or {}).items():
        if value:
            try:
                out[kind] = gisgmp.normalise(kind, value)
            except gisgmp.InvalidIdentifier as exc:
                errors[kind] = str(exc.args[0])
    if errors:
        raise Invalid("VALIDATION_ERROR", "Проверьте введённые данные", errors)
    return out


def charges(found_by: dict[str, str]) -> tuple[list[gisgmp.Charge], bool]:
    """ГИС ГМП's charges for these identifiers, and whether it failed to answer (then the last answer, if any)."""
    if not found_by:
        return [], False
    key = tuple(sorted(found_by.items()))
    cached = _CACHE.get(key)
    if cached and time.monotonic() - cached[0] < rules.DEBTS_CACHE_SECONDS:
        return cached[1], False
    try:
        answer = gisgmp.search(found_by)
    except gisgmp.GisGmpUnavailable:
        return (cached[1] if cached else []), True
    _CACHE[key] = (time.monotonic(), answer)
    return answer, False


def to_pay(charge: gisgmp.Charge, today: date) -> int:
    """What paying now costs: the remaining amount; half of an unpaid fine within its discount days."""
    if charge.status == "closed":
        return 0
    if charge.kind == "fine" and charge.remaining == charge.amount and today <= _discount_day(charge):
        return money.half(charge.amount)
    return charge.remaining


def _discount_day(charge: gisgmp.Charge) -> date:
    return rules.discount_until(charge.details.get("decision_date") or charge.issued_on)


def view(charge: gisgmp.Charge, mark: dict[str, Any] | None, today: date) -> dict[str, Any]:
    mark = mark or {}
    paid = mark.get("state") == "paid"
    out: dict[str, Any] = {
        "uin": charge.uin, "kind": charge.kind, "title": charge.title, "amount": charge.amount,
        "remaining": 0 if paid else charge.remaining, "to_pay": 0 if paid else to_pay(charge, today),
        "due_date": charge.due_date, "issued_on": charge.issued_on,
        "status": "closed" if paid else charge.status, "paying": mark.get("state") == "paying",
        "disputed": bool(mark.get("request_id")), "recipient": asdict(charge.recipient), "found_by": charge.found_by,
    }
    if mark.get("payment_id"):
        out["payment_id"] = mark["payment_id"]
    if mark.get("request_id"):
        out["request_id"] = mark["request_id"]
    details = dict(charge.details)
    if charge.kind == "fine":
        fine = {k: details[k] for k in ("decision_number", "decision_date", "article", "offence", "place",
                                        "camera_url") if k in details}
        if details.get("vehicle"):
            fine["vehicle"] = details["vehicle"]
        if out["status"] != "closed" and charge.remaining == charge.amount and today <= _discount_day(charge):
            fine["discount_until"] = _discount_day(charge).isoformat()
            fine["discounted_amount"] = money.half(charge.amount)
        out["fine"] = fine
    elif charge.kind == "tax":
        out["tax"] = {k: details[k] for k in ("tax", "period", "object") if details.get(k)}
    elif charge.kind == "utility":
        out["utility"] = {k: details[k] for k in ("account", "period", "provider", "lines")}
    elif charge.kind == "duty":
        out["duty"] = {"purpose": details.get("purpose", charge.title)}
    return out


def account_and_marks(user_id: str) -> tuple[dict[str, Any] | None, dict[str, dict[str, Any]]]:
    """One Query: the account item (`PROFILE`) and the debt marks sorted beside it (`PROFILE#DEBT#<uin>`)."""
    page = table.query(keys.user_pk(user_id), keys.PROFILE_PREFIX, limit=1000, newest_first=False,
                       consistent=True)
    user = next((i for i in page.items if i["sk"] == keys.PROFILE_PREFIX), None)
    marks = {i["uin"]: i for i in page.items if i["sk"].startswith(keys.DEBT_MARKS_PREFIX)}
    return user, marks


def list_debts(user_id: str, query: dict[str, Any]) -> dict[str, Any]:
    user, marks = account_and_marks(user_id)
    found_by = identifiers(user or {}, {kind: query.get(kind) for kind in TYPED})
    found, unavailable = charges(found_by)
    today = clock.moscow_today()
    items = [view(c, marks.get(c.uin), today) for c in found]
    items = [i for i in items if _matches(i, query)]
    return {"items": items, "limits": rules.limits(), "unavailable": unavailable}


def _matches(item: dict[str, Any], query: dict[str, Any]) -> bool:
    due = item["due_date"] or ""
    return ((not query.get("kind") or item["kind"] == query["kind"])
            and (not query.get("status") or item["status"] == query["status"])
            and (not query.get("due_from") or (due and due >= query["due_from"]))
            and (not query.get("due_to") or (due and due <= query["due_to"])))
