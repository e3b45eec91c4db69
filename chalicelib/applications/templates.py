"""Templates (SV-4): a service and form values kept to start new drafts from."""

from __future__ import annotations

from typing import Any

from chalicelib.applications.views import load_own
from chalicelib.core import clock
from chalicelib.core.errors import Conflict
from chalicelib.core.ids import new_id
from chalicelib.core.origin import Origin
from chalicelib.core.tokens import Principal
from chalicelib.store import journal, keys, table
from chalicelib.store.table import Tx

MAX_TEMPLATES = 50


def save_template(principal: Principal, request_id: str, name: str, origin: Origin) -> dict[str, Any]:
    req = load_own(principal.user_id, request_id)
    if len(templates(principal.user_id)) >= MAX_TEMPLATES:
        raise Conflict("TOO_MANY_TEMPLATES", f"Можно хранить до {MAX_TEMPLATES} шаблонов")
    template_id = new_id()
    pk, sk = keys.template(principal.user_id, template_id)
    item = {"pk": pk, "sk": sk, "id": template_id, "name": name, "service_id": req["service_id"],
            "service_title": req["service_title"], "params": req.get("params") or {},
            "created_at": clock.iso(clock.now())}
    tx = Tx().put_new(item)
    journal.audit(tx, keys.user_pk(principal.user_id), "request.template_saved", principal.user_id, origin.ip,
                  template_id=template_id, request_id=request_id)
    tx.commit()
    return {k: item[k] for k in ("id", "name", "service_id", "service_title", "created_at")}


def templates(user_id: str) -> list[dict[str, Any]]:
    page = table.query(keys.user_pk(user_id), keys.TEMPLATES, limit=100)
    return [{k: t[k] for k in ("id", "name", "service_id", "service_title", "created_at")} for t in page.items]
