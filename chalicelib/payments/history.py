"""Payment history (PY-5): newest first, filtered by period, kind and status, in one Query per page.

Payment ids are time-ordered, so a period is a sort-key range; kind and status filter the page. The statuses a
person sees are three (PY-5): successful, rejected (failed, cancelled, refunded) and processing (the rest).
"""

from __future__ import annotations

from typing import Any

from chalicelib.core import clock
from chalicelib.core.errors import Invalid
from chalicelib.core.ids import id_bound
from chalicelib.payments import payments
from chalicelib.store import keys, table

GROUPS = {"successful": ("success",), "rejected": ("failed", "cancelled", "refunded"),
          "processing": ("created", "confirmed", "started", "status_unknown")}
EXPORT_LIMIT = 1000


def _filters(query: dict[str, Any]) -> dict[str, Any]:
    lo = clock.day_bound_ms(query["day_from"], "from", end=False) if query.get("day_from") else 0
    hi = clock.day_bound_ms(query["day_to"], "to", end=True) if query.get("day_to") else (1 << 48) - 1
    if lo > hi:
        raise Invalid("VALIDATION_ERROR", "Начало периода позже конца", {"from": "Позже даты «по»"})
    args: dict[str, Any] = {"sk_between": (f"{keys.PAYMENTS_PREFIX}{id_bound(lo, False)}",
                                           f"{keys.PAYMENTS_PREFIX}{id_bound(hi, True)}")}
    conds, values, names = [], {}, {}
    if query.get("kind"):
        conds.append("contains(kinds, :kind)")
        values[":kind"] = query["kind"]
    if query.get("status"):
        states = GROUPS[query["status"]]
        conds.append("#st IN (" + ", ".join(f":s{i}" for i in range(len(states))) + ")")
        values.update({f":s{i}": s for i, s in enumerate(states)})
        names["#st"] = "status"
    if conds:
        args.update(filter_expr=" AND ".join(conds), filter_values=values, filter_names=names or None)
    return args


def page(user_id: str, query: dict[str, Any], limit: int = 20) -> dict[str, Any]:
    found = table.query(keys.user_pk(user_id), cursor=query.get("cursor"), limit=limit, **_filters(query))
    return {"items": [payments.view(p) for p in found.items], "cursor": found.cursor}


def everything(user_id: str, query: dict[str, Any]) -> list[dict[str, Any]]:
    """Up to EXPORT_LIMIT payments for an export, newest first, with the page's filters."""
    rows: list[dict[str, Any]] = []
    cursor = None
    while len(rows) < EXPORT_LIMIT:
        found = table.query(keys.user_pk(user_id), cursor=cursor, limit=200, **_filters(query))
        rows.extend(found.items)
        cursor = found.cursor
        if not cursor:
            break
    return rows[:EXPORT_LIMIT]
