"""Status moves (SV-6, SV-11): each one a transaction conditional on the status it was read in, with its
journal line, audit entry and the applicant's notice; comments (SV-8)."""

from __future__ import annotations

from typing import Any

from chalicelib.applications import statuses
from chalicelib.applications.actors import Actor, citizen
from chalicelib.applications.views import load_own, summary
from chalicelib.calendar import items as calendar_items
from chalicelib.core import clock
from chalicelib.core.errors import Conflict, Unprocessable
from chalicelib.core.ids import new_id
from chalicelib.core.origin import Origin
from chalicelib.core.tokens import Principal
from chalicelib.events import catalog as events
from chalicelib.store import journal, keys
from chalicelib.store.table import Change, ConditionFailed, Tx

MAX_COMMENTS = 100  # per application: the journal is read whole by the detail view


def entry(tx: Tx, request_id: str, kind: str, actor: Actor, **data: Any) -> None:
    """A journal line (SV-6, SV-8): a transition, a comment, added documents, routing."""
    entry_id = new_id()
    pk, sk = keys.request_entry(request_id, entry_id)
    tx.put({"pk": pk, "sk": sk, "id": entry_id, "at": clock.iso(clock.now()), "kind": kind,
            "actor": actor.public(), **{k: v for k, v in data.items() if v is not None}})


def notice(tx: Tx, req: dict[str, Any], status: str, **extra: Any) -> None:
    """NT-2: every transition reaches the applicant (inbox, SMS, e-mail) through the outbox."""
    journal.emit(tx, events.REQUEST_STATUS_CHANGED, keys.user_pk(req['owner']), {
        "user_id": req["owner"], "request_id": req["id"], "number": req.get("number"),
        "service_title": req["service_title"], "service_id": req.get("service_id"), "status": status,
        "status_title": statuses.TITLES[status],
        **{k: v for k, v in extra.items() if v is not None}})


def check_move(req: dict[str, Any], to: str, actor: Actor) -> str:
    frm = req["status"]
    if frm not in statuses.allowed_from(to, actor.kind):
        raise Conflict("INVALID_TRANSITION",
                       f"Нельзя перевести заявление из статуса «{statuses.TITLES[frm]}» "
                       f"в «{statuses.TITLES[to]}»", current=frm)
    return frm


def transition(req: dict[str, Any], to: str, actor: Actor, *, text: str | None = None,
               fields: dict[str, Any] | None = None, tx: Tx | None = None, **event: Any) -> dict[str, Any]:
    """Move an application under a condition on its current status: of two officers acting at once one
    wins and the other gets 409 (SV-6, SV-11)."""
    frm = check_move(req, to, actor)
    now = clock.iso(clock.now())
    change = Change().set("status", to).set("updated_at", now)
    for attr, value in (fields or {}).items():
        change.set(attr, value)
    change.set("gsi2sk", keys.inbox_sort(to, req["id"]))  # the inbox order, whether or not routing has happened yet
    change.require("{status} = :frm", frm=frm)
    tx = change.apply(tx or Tx(), keys.request(req["id"]), tag="state")
    entry(tx, req["id"], "status", actor, **{"from": frm}, to=to, text=text)
    journal.audit(tx, keys.user_pk(req['owner']), f"request.{to}", actor.user_id or actor.kind, actor.ip,
                  request_id=req["id"])
    notice(tx, req, to, text=text, **event)
    if to in statuses.FINAL:  # NT-5: a decided or cancelled application has no deadline any more
        calendar_items.remove(tx, req["owner"], "application", req["id"], req.get("expected_by"))
    try:
        tx.commit()
    except ConditionFailed as exc:
        if exc.tag == "state":
            raise Conflict("CONFLICT", "Заявление уже изменено: обновите страницу", current=(
                exc.old or {}).get("status")) from None
        raise
    return {**req, **(fields or {}), "status": to, "updated_at": now}


def cancel(principal: Principal, request_id: str, origin: Origin) -> dict[str, Any]:
    req = load_own(principal.user_id, request_id)
    return summary(transition(req, "cancelled", citizen(principal, origin), text="Отменено заявителем"))


def comment(req: dict[str, Any], actor: Actor, text: str) -> None:
    """SV-8: a comment stays in the application's history; the other side is told."""
    if req["status"] == "draft":
        raise Conflict("NOT_SUBMITTED", "Сначала подайте заявление")
    tx = Tx().update(keys.request(req["id"]), "ADD comments :one", values={":one": 1, ":max": MAX_COMMENTS},
                     cond="attribute_exists(pk) AND (attribute_not_exists(comments) OR comments < :max)",
                     tag="comments")
    entry(tx, req["id"], "comment", actor, text=text)
    journal.audit(tx, keys.user_pk(req['owner']), events.REQUEST_COMMENT.name, actor.user_id or actor.kind, actor.ip,
                  request_id=req["id"])
    if actor.kind != "citizen":
        journal.emit(tx, events.REQUEST_COMMENT, keys.user_pk(req['owner']), {
            "user_id": req["owner"], "request_id": req["id"], "number": req.get("number"),
            "service_title": req["service_title"], "text": text, "author": actor.public()["name"]})
    try:
        tx.commit()
    except ConditionFailed:
        raise Unprocessable("TOO_MANY_COMMENTS", f"В заявлении уже {MAX_COMMENTS} комментариев") from None
