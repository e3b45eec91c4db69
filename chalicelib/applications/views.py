"""Reading applications: one Query per detail view (META and the journal share `REQ#<id>`), the person's list.

Ownership is checked on `META`: another person's application is a 404, like one that does not exist.
"""

from __future__ import annotations

from typing import Any

from chalicelib.applications import statuses
from chalicelib.core import clock
from chalicelib.core.errors import invalid, not_found
from chalicelib.core.ids import is_id
from chalicelib.store import keys, table

PAGE = 20


def load(request_id: str) -> dict[str, Any] | None:
    return table.get(keys.request(request_id)) if is_id(request_id) else None


def load_own(user_id: str, request_id: str) -> dict[str, Any]:
    req = load(request_id)
    if req is None or req["owner"] != user_id:
        raise not_found("Заявление", neuter=True)
    return req


def summary(req: dict[str, Any]) -> dict[str, Any]:
    return {"id": req["id"], "number": req.get("number"), "service_id": req["service_id"],
            "service_title": req["service_title"], "status": req["status"],
            "status_title": statuses.TITLES[req["status"]], "submitted_at": req.get("submitted_at"),
            "expected_by": req.get("expected_by"), "created_at": req["created_at"], "updated_at": req["updated_at"]}


def _journal_line(item: dict[str, Any]) -> dict[str, Any]:
    line = {k: v for k, v in item.items() if k not in ("pk", "sk")}
    if "to" in line:
        line["to_title"] = statuses.TITLES[line["to"]]
    return line


def detail_of(items: list[dict[str, Any]], req: dict[str, Any]) -> dict[str, Any]:
    lines = [_journal_line(i) for i in items if i["sk"].startswith("J#")]
    return {**summary(req), "agency": req["agency"], "department": req.get("department"),
            "params": req.get("params") or {}, "attachments": req.get("attachments") or [],
            "attachment_versions": req.get("pinned") or {},
            "result": req.get("result"), "rejection": req.get("rejection"),
            "officer": {"name": req["officer"]["name"]} if req.get("officer") else None,
            "fee": req.get("fee"), "journal": lines}


def read(request_id: str, allowed: Any) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """META and the journal in one Query; `allowed(meta)` decides who may see it (else 404)."""
    if not is_id(request_id):
        raise not_found("Заявление", neuter=True)
    items: list[dict[str, Any]] = []
    cursor = None
    while True:
        page = table.query(keys.request_pk(request_id), cursor=cursor, limit=500, newest_first=False, consistent=True)
        items.extend(page.items)
        cursor = page.cursor
        if not cursor:
            break
    req = next((i for i in items if i["sk"] == "META"), None)
    if req is None or not allowed(req):
        raise not_found("Заявление", neuter=True)
    return req, items


def detail(user_id: str, request_id: str) -> dict[str, Any]:
    req, items = read(request_id, lambda r: r["owner"] == user_id)
    return detail_of(items, req)


def list_requests(user_id: str, query: dict[str, str]) -> dict[str, Any]:
    """SV-7: filters by status, submission dates (Moscow days) and a fragment of the number."""
    conds, values, names = [], {}, {}
    status = query.get("status")
    if status is not None:  # one of the seven: RequestsQuery checked it
        conds.append("#status = :status")
        values[":status"], names["#status"] = status, "status"
    for bound, op in (("from", ">="), ("to", "<=")):
        if query.get(bound):
            conds.append(f"#submitted_at {op} :{bound}")
            values[f":{bound}"], names["#submitted_at"] = _day_bound(query[bound], bound), "submitted_at"
    if query.get("number"):
        fragment = query["number"].strip()
        if not fragment or len(fragment) > 20:
            raise invalid({"number": "Часть номера: от 1 до 20 символов"})
        conds.append("contains(#number, :number)")
        values[":number"], names["#number"] = fragment, "number"
    filters: dict[str, Any] = {}
    if conds:
        filters = {"filter_expr": " AND ".join(conds), "filter_values": values, "filter_names": names}
    page = table.query(keys.requests_of(user_id), index="GSI1", cursor=query.get("cursor"), limit=PAGE, **filters)
    return {"items": [summary(r) for r in page.items], "cursor": page.cursor}


def _day_bound(text: str, bound: str) -> str:
    from datetime import timedelta

    start, after = clock.moscow_day(text, bound)
    return clock.iso(after - timedelta(seconds=1) if bound == "to" else start)
