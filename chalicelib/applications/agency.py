"""The agency side (SV-11): routing submitted applications into an agency's inbox, officers' decisions,
automatic services that the system decides itself.

Officers are accounts with `role = "officer"`, an `agency` and a `department` (created by infra/admin.py or
the seed, never by self-registration). An officer sees only their agency's applications: any other is a 404.
"""

from __future__ import annotations

import logging
from typing import Any

from chalicelib.applications import certificates, transitions, views
from chalicelib.applications.actors import SYSTEM, Actor
from chalicelib.catalog import services as catalog
from chalicelib.core import clock
from chalicelib.core.errors import Conflict, Forbidden, invalid, not_found
from chalicelib.core.ids import is_id
from chalicelib.core.origin import Origin
from chalicelib.core.tokens import Principal
from chalicelib.documents import issue, library, pdf
from chalicelib.identity.users import full_name, load_user
from chalicelib.store import keys, table
from chalicelib.store.table import Change, ConditionFailed, Tx

log = logging.getLogger("kabinet.agency")
PAGE = 20


def officer(principal: Principal, origin: Origin) -> tuple[Actor, str]:
    """The signed-in officer and their agency; citizens get 403 on every /agency route."""
    if principal.role != "officer":
        raise Forbidden("FORBIDDEN", "Раздел доступен только сотрудникам ведомств")
    user = load_user(principal.user_id)
    name = full_name(user)
    return Actor("officer", user["user_id"], name, user.get("department"), origin.ip), user["agency"]


def _own(agency: str, request_id: str) -> dict[str, Any]:
    req = views.load(request_id)
    if req is None or req.get("gsi2pk") != keys.agency_inbox(agency):
        raise not_found("Заявление", neuter=True)
    return req


def inbox(agency: str, query: dict[str, str]) -> dict[str, Any]:
    """Oldest first within a status: the queue an officer works through."""
    status = query.get("status")  # one of the seven: InboxQuery checked it
    page = table.query(keys.agency_inbox(agency), keys.inbox_prefix(status) if status else None, index="GSI2",
                       cursor=query.get("cursor"), limit=PAGE, newest_first=False)
    return {"items": [{**views.summary(r), "department": r.get("department"), "officer": r.get("officer")}
                      for r in page.items], "cursor": page.cursor}


def detail(agency: str, request_id: str) -> dict[str, Any]:
    req, items = views.read(request_id, lambda r: r.get("gsi2pk") == keys.agency_inbox(agency))
    return views.detail_of(items, req)


def attachment(actor: Actor, agency: str, request_id: str, document_id: str, origin: Origin) -> dict[str, Any]:
    req = _own(agency, request_id)
    pin = (req.get("pinned") or {}).get(document_id)
    if pin is None:
        raise not_found("Документ")
    return library.download_for_staff(req["owner"], document_id, pin["version"], officer=actor.name,
                                      department=actor.department, origin=origin)


def take(actor: Actor, agency: str, request_id: str) -> dict[str, Any]:
    req = _own(agency, request_id)
    done = transitions.transition(req, "in_progress", actor, text="Заявление взято в работу",
                           fields={"officer": {"user_id": actor.user_id, "name": actor.name}})
    return views.summary(done)


def request_documents(actor: Actor, agency: str, request_id: str, message: str) -> dict[str, Any]:
    req = _own(agency, request_id)
    return views.summary(transitions.transition(req, "awaiting_documents", actor, text=message))


def approve(actor: Actor, agency: str, request_id: str, comment: str | None,
            result_document_id: str | None = None) -> dict[str, Any]:
    """The result is a signed PDF in the applicant's documents: the officer's own file when given (it must be
    an available PDF in the officer's documents), else a decision notice the system writes and signs."""
    req = _own(agency, request_id)
    transitions.check_move(req, "approved", actor)
    return views.summary(approve_loaded(req, actor, comment, result_document_id))


def approve_loaded(req: dict[str, Any], actor: Actor, comment: str | None, result_document_id: str | None = None
             ) -> dict[str, Any]:
    """The decision and its result document in one transaction: of two officers approving at once, one
    wins; the loser's signed PDF is deleted from S3 when its transaction is cancelled (Tx.on_failure)."""
    tx = Tx()
    doc = _officer_file(actor, req, result_document_id, tx) if result_document_id else _decision(req, actor,
                                                                                                 comment, tx)
    result = {"document_id": doc["id"], "title": doc["title"]}
    return transitions.transition(req, "approved", actor, text=comment, fields={"result": result}, tx=tx,
                           result_document_id=doc["id"])


def reject(actor: Actor, agency: str, request_id: str, reason: str, fix: str) -> dict[str, Any]:
    req = _own(agency, request_id)
    return views.summary(transitions.transition(req, "rejected", actor, text=reason,
                                        fields={"rejection": {"reason": reason, "fix": fix}}, reason=reason, fix=fix))


def comment(actor: Actor, agency: str, request_id: str, text: str) -> None:
    transitions.comment(_own(agency, request_id), actor, text)


def _officer_file(actor: Actor, req: dict[str, Any], document_id: str, tx: Tx) -> dict[str, Any]:
    doc = table.get(keys.document(actor.user_id or "", document_id)) if is_id(document_id) else None
    if doc is None or doc["status"] != "available" or doc["content_type"] != "application/pdf":
        raise invalid({"result_document_id": "PDF не найден среди ваших проверенных документов"})
    return issue.copy_to(req["owner"], doc, title=f"Результат по заявлению № {req['number']}", tx=tx)


def _decision(req: dict[str, Any], actor: Actor, comment: str | None, tx: Tx) -> dict[str, Any]:
    title = f"Решение по заявлению № {req['number']}"
    rows = [("Услуга", req["service_title"]), ("Номер заявления", req["number"]),
            ("Дата подачи", clock.ru(clock.from_iso(req["submitted_at"]))), ("Решение", "Одобрено"),
            ("Ведомство", req["agency"]["title"]), ("Подразделение", req.get("department") or "—"),
            ("Ответственный сотрудник", actor.public()["name"])]
    sections = [pdf.Section(heading="Сведения о решении", rows=rows)]
    if comment:
        sections.append(pdf.Section(heading="Комментарий", paragraphs=[comment]))
    return issue.issue(req["owner"], pdf.Layout(title=title, subtitle=req["service_title"], sections=sections),
                       filename=f"Решение {req['number']}.pdf", tx=tx)


# -- routing (SQS `agency`) and automatic services ----------------------------------------------------------

def route(event: dict[str, Any]) -> str:
    """`request.submitted` → an automatic service is decided now; any other lands in its agency's inbox.
    Idempotent: a second delivery finds the work done."""
    data = event["data"]
    req = views.load(data["request_id"])
    if req is None or req["status"] != "submitted":
        return "done"
    service = catalog.get(req["service_id"])
    if service is not None and service.automatic:
        return _decide_automatically(req, service)
    change = (Change().set("gsi2pk", keys.agency_inbox(req["agency"]["id"]))
              .set("gsi2sk", keys.inbox_sort("submitted", req["id"]))
              .set("routed_at", clock.iso(clock.now()))
              .require("attribute_not_exists({gsi2pk}) AND {status} = :submitted", submitted="submitted"))
    tx = change.apply(Tx(), keys.request(req["id"]))
    transitions.entry(tx, req["id"], "routed", SYSTEM, text=f"Направлено в {req['agency']['title']}"
               + (f", {req['department']}" if req.get("department") else ""))
    try:
        tx.commit()
    except ConditionFailed:
        return "done"
    return "routed"


def _decide_automatically(req: dict[str, Any], service: Any) -> str:
    """SV-9: the certificate is built from the person's data, signed and attached within seconds; data the
    certificate needs but the profile lacks is reported as such (a rejection saying what to fill in)."""
    user = load_user(req["owner"])
    refusal = None
    if missing := certificates.missing(service, user):
        refusal = (f"В профиле не хватает данных: {', '.join(missing)}",
                   "Заполните профиль и подайте заявление снова")
    elif foreign := certificates.foreign(user, req):
        refusal = (f"Справка выдаётся только о себе: в заявлении не совпадает с профилем — {', '.join(foreign)}",
                   "Укажите свои данные так, как они записаны в профиле")
    if refusal:
        reason, fix = refusal
        try:
            transitions.transition(req, "rejected", SYSTEM, text=reason, reason=reason, fix=fix,
                            fields={"rejection": {"reason": reason, "fix": fix}})
        except Conflict:
            return "done"
        return "rejected"
    tx = Tx()
    doc = issue.issue(req["owner"], certificates.layout(service, user, req),
                      filename=f"{service.title[:80]} {req['number']}.pdf", tx=tx)
    result = {"document_id": doc["id"], "title": doc["title"]}
    try:
        transitions.transition(req, "approved", SYSTEM, text="Документ сформирован и подписан автоматически",
                        fields={"result": result}, tx=tx, result_document_id=doc["id"])
    except Conflict:
        return "done"  # another delivery of the same event decided it first
    return "approved"
