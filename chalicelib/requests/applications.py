"""Applications (SV-3..SV-10): drafts, submission with validation, statuses moved by conditional writes, the
journal of every transition and comment, templates.

An application lives in its own partition `REQ#<id>`: the `META` item and its journal lines (`J#<id>`), so
the detail view is one Query. Ownership is checked on `META` (another person's application is a 404).
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass, field
from typing import Any

from chalicelib.catalog import services as catalog
from chalicelib.core import clock, workdays
from chalicelib.core.errors import ApiError, invalid, not_found
from chalicelib.core.ids import is_id, new_id
from chalicelib.core.origin import Origin
from chalicelib.core.tokens import Principal
from chalicelib.documents.categories import CATEGORIES
from chalicelib.requests import statuses
from chalicelib.requests.models import DraftIn, RequestIn
from chalicelib.store import journal, keys, table
from chalicelib.store.table import Change, ConditionFailed, Tx

TIERS = ("simplified", "standard", "confirmed")
TIER_TITLES = {"simplified": "упрощённая", "standard": "стандартная", "confirmed": "подтверждённая"}
PAGE = 20
NUMBER_TRIES = 3
MAX_PARAMS = 32 * 1024
MAX_COMMENTS = 100  # per application: the journal is read whole by the detail view
MAX_TEMPLATES = 50


@dataclass(frozen=True)
class Actor:
    """Who moves an application: the applicant, an agency officer, or the system."""

    kind: str  # citizen | officer | system
    user_id: str | None = None
    name: str = ""
    department: str | None = None
    ip: str | None = None
    extra: dict[str, Any] = field(default_factory=dict)

    def public(self) -> dict[str, Any]:
        names = {"citizen": "Заявитель", "system": "Система"}
        return {"kind": self.kind, "name": self.name or names.get(self.kind, ""), "department": self.department}


def citizen(principal: Principal, origin: Origin) -> Actor:
    return Actor("citizen", principal.user_id, ip=origin.ip)


SYSTEM = Actor("system", name="Система")


# -- services and forms --------------------------------------------------------------------------------

def resolve_service(kind: str | None, params: dict[str, Any]) -> tuple[Any, dict[str, Any]]:
    """The service and the params its form checks. `{"type": "certificate", "params": {"kind": ...}}` (SV-10)
    picks the certificate service by kind; the kind itself is not a form field."""
    if not kind:
        raise invalid({"type": "Укажите услугу"})
    if kind == "certificate":
        cert = params.get("kind")
        service = catalog.by_certificate_kind(cert) if isinstance(cert, str) else None
        if service is None:
            raise invalid({"params.kind": "Неизвестный вид справки"})
        return service, {k: v for k, v in params.items() if k != "kind"}
    service = catalog.get(kind)
    if service is None:
        raise invalid({"type": "Неизвестная услуга"})
    return service, params


def check_tier(principal: Principal, service: Any) -> None:
    current = principal.tier if principal.tier in TIERS else "simplified"
    if TIERS.index(current) < TIERS.index(service.tier):
        raise ApiError(403, "TIER_REQUIRED",
                       f"Для услуги нужна {TIER_TITLES[service.tier]} учётная запись, у вас — {TIER_TITLES[current]}",
                       required=service.tier, current=current)


def _attachments_problems(user_id: str, ids: list[str], required: list[str], field_name: str = "attachments"
                          ) -> tuple[dict[str, str], list[dict[str, Any]]]:
    """The person's own `available` documents, covering every required category: problems per path."""
    problems: dict[str, str] = {}
    docs: list[dict[str, Any]] = []
    if len(set(ids)) != len(ids):
        problems[field_name] = "Документ приложен дважды"
    wanted = [keys.document(user_id, d) for d in dict.fromkeys(ids) if is_id(d)]
    found = table.get_many(wanted) if wanted else []
    by_id = {d["id"]: d for d in found if d}
    for i, doc_id in enumerate(ids):
        doc = by_id.get(doc_id)
        if doc is None:
            problems[f"{field_name}.{i}"] = "Документ не найден в «Моих документах»"
        elif doc["status"] != "available":
            problems[f"{field_name}.{i}"] = "Документ ещё проверяется, отклонён или удалён"
        else:
            docs.append(doc)
    missing = [CATEGORIES[c] for c in required if c not in {d["category"] for d in docs}]
    if missing and field_name not in problems:
        problems[field_name] = "Приложите: " + ", ".join(missing)
    return problems, docs


def _check_params(params: dict[str, Any]) -> None:
    if len(repr(params)) > MAX_PARAMS:
        raise ApiError(413, "PAYLOAD_TOO_LARGE", "Слишком много данных в заявлении")


def validate_submission(principal: Principal, service: Any, params: dict[str, Any], attachments: list[str]
                        ) -> list[dict[str, Any]]:
    """Every problem of the form and the attachments in one 400 (SV-3); returns the attached documents."""
    from chalicelib.requests import forms  # jsonschema costs ~80 ms to import: only submissions pay it

    problems = {("params" if path == "params" else f"params.{path}"): message
                for path, message in forms.validate(service.form, params).items()}
    attachment_problems, docs = _attachments_problems(principal.user_id, attachments, list(service.attachments))
    problems.update(attachment_problems)
    if problems:
        raise invalid(problems, "Заявление заполнено с ошибками")
    return docs


# -- journal and events --------------------------------------------------------------------------------

def entry(tx: Tx, request_id: str, kind: str, actor: Actor, **data: Any) -> None:
    """A journal line (SV-6, SV-8): a transition, a comment, added documents, routing."""
    entry_id = new_id()
    pk, sk = keys.request_entry(request_id, entry_id)
    tx.put({"pk": pk, "sk": sk, "id": entry_id, "at": clock.iso(clock.now()), "kind": kind,
            "actor": actor.public(), **{k: v for k, v in data.items() if v is not None}})


def notice(tx: Tx, req: dict[str, Any], status: str, **extra: Any) -> None:
    """NT-2: every transition reaches the applicant (inbox, SMS, e-mail) through the outbox."""
    journal.emit(tx, "request.status_changed", f"USER#{req['owner']}", {
        "user_id": req["owner"], "request_id": req["id"], "number": req.get("number"),
        "service_title": req["service_title"], "status": status, "status_title": statuses.TITLES[status],
        **{k: v for k, v in extra.items() if v is not None}})


# -- reading ---------------------------------------------------------------------------------------------

def load(request_id: str) -> dict[str, Any] | None:
    return table.get(keys.request(request_id)) if is_id(request_id) else None


def load_own(user_id: str, request_id: str) -> dict[str, Any]:
    req = load(request_id)
    if req is None or req["owner"] != user_id:
        raise not_found("Заявление")
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
        raise not_found("Заявление")
    items: list[dict[str, Any]] = []
    cursor = None
    while True:
        page = table.query(f"REQ#{request_id}", cursor=cursor, limit=500, newest_first=False, consistent=True)
        items.extend(page.items)
        cursor = page.cursor
        if not cursor:
            break
    req = next((i for i in items if i["sk"] == "META"), None)
    if req is None or not allowed(req):
        raise not_found("Заявление")
    return req, items


def detail(user_id: str, request_id: str) -> dict[str, Any]:
    req, items = read(request_id, lambda r: r["owner"] == user_id)
    return detail_of(items, req)


def list_requests(user_id: str, query: dict[str, str]) -> dict[str, Any]:
    """SV-7: filters by status, submission dates (Moscow days) and a fragment of the number."""
    conds, values, names = [], {}, {}
    status = query.get("status")
    if status is not None:
        statuses.check(status)
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


# -- creating, drafts, submission -----------------------------------------------------------------------

def _new_item(principal: Principal, service: Any, params: dict[str, Any], attachments: list[str]
              ) -> dict[str, Any]:
    request_id = new_id()
    now = clock.iso(clock.now())
    pk, sk = keys.request(request_id)
    return {"pk": pk, "sk": sk, "id": request_id, "owner": principal.user_id, "service_id": service.id,
            "service_title": service.title, "agency": {"id": service.agency.id, "title": service.agency.title},
            "department": service.department, "fee": service.fee, "days": service.days, "status": "draft",
            "params": params, "attachments": attachments, "created_at": now, "updated_at": now,
            "gsi1pk": keys.requests_of(principal.user_id), "gsi1sk": request_id}


def create(principal: Principal, body: RequestIn, origin: Origin) -> dict[str, Any]:
    params, attachments, draft = body.params, body.attachments, body.draft
    kind = body.type
    if body.template_id:
        tpl = table.get(keys.template(principal.user_id, body.template_id)) if is_id(body.template_id) else None
        if tpl is None:
            raise not_found("Шаблон")
        kind, params, draft = tpl["service_id"], {**tpl["params"], **params}, True
    _check_params(params)
    service, params = resolve_service(kind, params)
    check_tier(principal, service)
    req = _new_item(principal, service, params, attachments)
    actor = citizen(principal, origin)
    if draft:
        tx = Tx().put_new(req)
        entry(tx, req["id"], "status", actor, to="draft", text="Черновик создан"
              + (" из шаблона" if body.template_id else ""))
        journal.audit(tx, f"USER#{principal.user_id}", "request.draft_created", principal.user_id, origin.ip,
                      request_id=req["id"], service_id=service.id)
        tx.commit()
        return {"id": req["id"], "number": None, "status": "draft", "expected_by": None}
    docs = validate_submission(principal, service, params, attachments)
    return _submit(req, service, docs, actor, existing=False)


def update_draft(principal: Principal, request_id: str, body: DraftIn, origin: Origin) -> dict[str, Any]:
    """Autosave (SV-4): a draft takes whatever the form holds; checks come at submission."""
    _check_params(body.params)
    req = load_own(principal.user_id, request_id)
    if req["status"] != "draft":
        raise ApiError(409, "NOT_A_DRAFT", "Изменять можно только черновик")
    now = clock.iso(clock.now())
    change = (Change().set("params", body.params).set("attachments", body.attachments).set("updated_at", now)
              .require("{status} = :draft", draft="draft"))
    try:
        change.apply(Tx(), keys.request(request_id)).commit()
    except ConditionFailed:
        raise ApiError(409, "NOT_A_DRAFT", "Изменять можно только черновик") from None
    return {**summary({**req, "updated_at": now}), "params": body.params, "attachments": body.attachments}


def submit_draft(principal: Principal, request_id: str, origin: Origin) -> dict[str, Any]:
    req = load_own(principal.user_id, request_id)
    if req["status"] != "draft":
        raise ApiError(409, "NOT_A_DRAFT", "Заявление уже подано")
    service = catalog.get(req["service_id"])
    if service is None:
        raise ApiError(422, "SERVICE_UNAVAILABLE", "Услуга больше не предоставляется")
    check_tier(principal, service)
    docs = validate_submission(principal, service, req.get("params") or {}, req.get("attachments") or [])
    return _submit(req, service, docs, citizen(principal, origin), existing=True)


def _number() -> str:
    """Human-readable and unique (a guard item in the same transaction); random, so it reveals no volume."""
    return f"{clock.now().astimezone(clock.MSK).year}-{secrets.randbelow(10 ** 9):09d}"


def _submit(req: dict[str, Any], service: Any, docs: list[dict[str, Any]], actor: Actor, *, existing: bool
            ) -> dict[str, Any]:
    """One transaction (SV-5): the application, its number's guard, the journal line, the popularity counter,
    the audit entry and the events that route it to the agency and tell the applicant."""
    now = clock.now()
    submitted = {"status": "submitted", "submitted_at": clock.iso(now), "updated_at": clock.iso(now),
                 "expected_by": workdays.expected_by(now, service.days).isoformat()}
    for _ in range(NUMBER_TRIES):
        number = _number()
        item = {**req, **submitted, "number": number}
        tx = Tx()
        item["pinned"] = pinned(docs)
        if existing:  # a draft becomes the application, as long as it still is a draft
            change = Change()
            for attr in ("status", "submitted_at", "updated_at", "expected_by", "number", "pinned"):
                change.set(attr, item[attr])
            change.require("{status} = :draft", draft="draft").apply(tx, keys.request(req["id"]), tag="state")
        else:
            tx.put_new(item)
        guard_pk, guard_sk = keys.request_number(number)
        tx.put_new({"pk": guard_pk, "sk": guard_sk, "request_id": req["id"]}, tag="number")
        pin(tx, req, docs)
        stats_pk, stats_sk = keys.service_stats(service.id)
        tx.update((stats_pk, stats_sk), "ADD submitted :one", values={":one": 1})
        entry(tx, req["id"], "status", actor, **{"from": "draft"}, to="submitted",
              attachments=[d["id"] for d in docs] or None)
        journal.audit(tx, f"USER#{req['owner']}", "request.submitted", req["owner"], actor.ip,
                      request_id=req["id"], number=number)
        journal.emit(tx, "request.submitted", f"REQ#{req['id']}", {
            "request_id": req["id"], "user_id": req["owner"], "service_id": service.id,
            "agency": service.agency.id, "automatic": service.automatic, "number": number})
        notice(tx, item, "submitted", expected_by=item["expected_by"])
        try:
            tx.commit()
        except ConditionFailed as exc:
            if exc.tag == "number":
                continue
            if exc.tag == "attachment":
                raise invalid({"attachments": "Документ удалён или заменяется: проверьте вложения"}) from None
            raise ApiError(409, "NOT_A_DRAFT", "Заявление уже подано") from None
        return {"id": req["id"], "number": number, "status": "submitted", "expected_by": item["expected_by"]}
    raise ApiError(503, "TRY_AGAIN", "Не удалось присвоить номер. Повторите попытку")


def pinned(docs: list[dict[str, Any]]) -> dict[str, Any]:
    """Which version of each attached document the application was submitted with: what the officer reads,
    even if the person uploads a newer version later."""
    return {d["id"]: {"version": len(d["versions"]), "sha256": d["versions"][-1]["sha256"],
                      "category": d["category"], "filename": d["versions"][-1]["filename"]} for d in docs}


def pin(tx: Tx, req: dict[str, Any], docs: list[dict[str, Any]]) -> None:
    """Mark the documents as attached (they cannot be deleted any more) and re-check they are still available,
    in the transaction that attaches them."""
    for doc in docs:
        tx.update(keys.document(req["owner"], doc["id"]), "ADD attached_to :request",
                  cond="#status = :available", names={"#status": "status"},
                  values={":request": {req["id"]}, ":available": "available"}, tag="attachment")


# -- transitions ---------------------------------------------------------------------------------------

def check_move(req: dict[str, Any], to: str, actor: Actor) -> str:
    frm = req["status"]
    if frm not in statuses.allowed_from(to, actor.kind):
        raise ApiError(409, "INVALID_TRANSITION",
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
    change.set("gsi2sk", f"{to}#{req['id']}")  # the inbox order, whether or not routing has happened yet
    change.require("{status} = :frm", frm=frm)
    tx = change.apply(tx or Tx(), keys.request(req["id"]), tag="state")
    entry(tx, req["id"], "status", actor, **{"from": frm}, to=to, text=text)
    journal.audit(tx, f"USER#{req['owner']}", f"request.{to}", actor.user_id or actor.kind, actor.ip,
                  request_id=req["id"])
    notice(tx, req, to, text=text, **event)
    try:
        tx.commit()
    except ConditionFailed as exc:
        if exc.tag == "state":
            raise ApiError(409, "CONFLICT", "Заявление уже изменено: обновите страницу", current=(
                exc.old or {}).get("status")) from None
        raise
    return {**req, **(fields or {}), "status": to, "updated_at": now}


def cancel(principal: Principal, request_id: str, origin: Origin) -> dict[str, Any]:
    req = load_own(principal.user_id, request_id)
    return summary(transition(req, "cancelled", citizen(principal, origin), text="Отменено заявителем"))


def comment(req: dict[str, Any], actor: Actor, text: str) -> None:
    """SV-8: a comment stays in the application's history; the other side is told."""
    if req["status"] == "draft":
        raise ApiError(409, "NOT_SUBMITTED", "Сначала подайте заявление")
    tx = Tx().update(keys.request(req["id"]), "ADD comments :one", values={":one": 1, ":max": MAX_COMMENTS},
                     cond="attribute_exists(pk) AND (attribute_not_exists(comments) OR comments < :max)",
                     tag="comments")
    entry(tx, req["id"], "comment", actor, text=text)
    journal.audit(tx, f"USER#{req['owner']}", "request.comment", actor.user_id or actor.kind, actor.ip,
                  request_id=req["id"])
    if actor.kind != "citizen":
        journal.emit(tx, "request.comment", f"USER#{req['owner']}", {
            "user_id": req["owner"], "request_id": req["id"], "number": req.get("number"),
            "service_title": req["service_title"], "text": text, "author": actor.public()["name"]})
    try:
        tx.commit()
    except ConditionFailed:
        raise ApiError(422, "TOO_MANY_COMMENTS", f"В заявлении уже {MAX_COMMENTS} комментариев") from None


def add_documents(principal: Principal, request_id: str, attachments: list[str], origin: Origin
                  ) -> dict[str, Any]:
    """Answer "Требуются документы": the documents join the application and it goes back to work."""
    req = load_own(principal.user_id, request_id)
    if req["status"] != "awaiting_documents":
        raise ApiError(409, "INVALID_TRANSITION", "Заявление не ожидает документов", current=req["status"])
    problems, docs = _attachments_problems(principal.user_id, attachments, [])
    if problems:
        raise invalid(problems)
    merged = list(dict.fromkeys([*(req.get("attachments") or []), *attachments]))
    tx = Tx()
    pin(tx, req, docs)
    try:
        done = transition(req, "in_progress", citizen(principal, origin), text="Заявитель приложил документы",
                          fields={"attachments": merged, "pinned": {**(req.get("pinned") or {}), **pinned(docs)}},
                          tx=tx)
    except ConditionFailed:
        raise invalid({"attachments": "Документ удалён или заменяется: проверьте вложения"}) from None
    return summary(done)


# -- templates (SV-4) ----------------------------------------------------------------------------------

def save_template(principal: Principal, request_id: str, name: str, origin: Origin) -> dict[str, Any]:
    req = load_own(principal.user_id, request_id)
    if len(templates(principal.user_id)) >= MAX_TEMPLATES:
        raise ApiError(409, "TOO_MANY_TEMPLATES", f"Можно хранить до {MAX_TEMPLATES} шаблонов")
    template_id = new_id()
    pk, sk = keys.template(principal.user_id, template_id)
    item = {"pk": pk, "sk": sk, "id": template_id, "name": name, "service_id": req["service_id"],
            "service_title": req["service_title"], "params": req.get("params") or {},
            "created_at": clock.iso(clock.now())}
    tx = Tx().put_new(item)
    journal.audit(tx, f"USER#{principal.user_id}", "request.template_saved", principal.user_id, origin.ip,
                  template_id=template_id, request_id=request_id)
    tx.commit()
    return {k: item[k] for k in ("id", "name", "service_id", "service_title", "created_at")}


def templates(user_id: str) -> list[dict[str, Any]]:
    page = table.query(f"USER#{user_id}", "TEMPLATE#", limit=100)
    return [{k: t[k] for k in ("id", "name", "service_id", "service_title", "created_at")} for t in page.items]
