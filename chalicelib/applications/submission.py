"""Creating applications (SV-3..SV-5, SV-10): the service and its form, tiers, attachments pinned to the
version submitted, drafts with autosave, and the one-transaction submission with a unique number."""

from __future__ import annotations

import secrets
from typing import Any

from chalicelib.applications.actors import Actor, citizen
from chalicelib.applications.models import DraftIn, RequestIn
from chalicelib.applications.transitions import entry, notice, transition
from chalicelib.applications.views import load_own, summary
from chalicelib.calendar import items as calendar_items
from chalicelib.catalog import services as catalog
from chalicelib.core import clock, workdays
from chalicelib.core.errors import Conflict, Forbidden, TooLarge, Unavailable, Unprocessable, invalid, not_found
from chalicelib.core.ids import is_id, new_id
from chalicelib.core.origin import Origin
from chalicelib.core.tokens import Principal
from chalicelib.documents.categories import CATEGORIES
from chalicelib.events import catalog as events
from chalicelib.identity import consents
from chalicelib.store import journal, keys, table
from chalicelib.store.table import Change, ConditionFailed, Tx

NUMBER_TRIES = 3
MAX_PARAMS = 32 * 1024


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
    """The access token's tier may be up to 10 minutes old: before refusing, the account's own tier is read, so
    services open the moment the registries or a confirmation channel raised it (ID-6)."""
    if catalog.tier_allows(principal.tier, service.tier):
        return
    current = (table.get(keys.user(principal.user_id)) or {}).get("tier") or "simplified"
    if not catalog.tier_allows(current, service.tier):
        raise Forbidden("TIER_REQUIRED",
                        f"Для услуги нужна {catalog.TIER_TITLES[service.tier]} учётная запись, "
                        f"у вас — {catalog.TIER_TITLES[current]}",
                       required=service.tier, current=current)


def attachment_problems(user_id: str, ids: list[str], required: list[str], field_name: str = "attachments"
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
        problems[field_name] = f"Приложите: {', '.join(missing)}"
    return problems, docs


def _check_params(params: dict[str, Any]) -> None:
    if len(repr(params)) > MAX_PARAMS:
        raise TooLarge("PAYLOAD_TOO_LARGE", "Слишком много данных в заявлении")


def validate_submission(principal: Principal, service: Any, params: dict[str, Any], attachments: list[str]
                        ) -> list[dict[str, Any]]:
    """Every problem of the form and the attachments in one 400 (SV-3); returns the attached documents."""
    from chalicelib.applications import forms  # jsonschema costs ~80 ms to import: only submissions pay it

    problems = {("params" if path == "params" else f"params.{path}"): message
                for path, message in forms.validate(service.form, params).items()}
    found, docs = attachment_problems(principal.user_id, attachments, list(service.attachments))
    problems.update(found)
    if problems:
        raise invalid(problems, "Заявление заполнено с ошибками")
    return docs


def new_item(principal: Principal, service: Any, params: dict[str, Any], attachments: list[str]
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
    req = new_item(principal, service, params, attachments)
    actor = citizen(principal, origin)
    if draft:
        tx = Tx().put_new(req)
        entry(tx, req["id"], "status", actor, to="draft", text="Черновик создан"
              + (" из шаблона" if body.template_id else ""))
        journal.audit(tx, keys.user_pk(principal.user_id), "request.draft_created", principal.user_id, origin.ip,
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
        raise Conflict("NOT_A_DRAFT", "Изменять можно только черновик")
    now = clock.iso(clock.now())
    change = (Change().set("params", body.params).set("attachments", body.attachments).set("updated_at", now)
              .require("{status} = :draft", draft="draft"))
    try:
        change.apply(Tx(), keys.request(request_id)).commit()
    except ConditionFailed:
        raise Conflict("NOT_A_DRAFT", "Изменять можно только черновик") from None
    return {**summary({**req, "updated_at": now}), "params": body.params, "attachments": body.attachments}


def submit_draft(principal: Principal, request_id: str, origin: Origin) -> dict[str, Any]:
    req = load_own(principal.user_id, request_id)
    if req["status"] != "draft":
        raise Conflict("NOT_A_DRAFT", "Заявление уже подано")
    service = catalog.get(req["service_id"])
    if service is None:
        raise Unprocessable("SERVICE_UNAVAILABLE", "Услуга больше не предоставляется")
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
        journal.audit(tx, keys.user_pk(req['owner']), events.REQUEST_SUBMITTED.name, req["owner"], actor.ip,
                      request_id=req["id"], number=number)
        consents.record(tx, req["owner"], "application", ip=actor.ip, recipient=service.agency.title,
                        subject=number, ref=req["id"])  # ID-9: the data goes to the agency with this submission
        journal.emit(tx, events.REQUEST_SUBMITTED, keys.request_pk(req['id']), {
            "request_id": req["id"], "user_id": req["owner"], "service_id": service.id,
            "agency": service.agency.id, "automatic": service.automatic, "number": number})
        notice(tx, item, "submitted", expected_by=item["expected_by"])
        calendar_items.put(tx, req["owner"], "application", req["id"], item["expected_by"], item["service_title"],
                           f"/applications/{req['id']}")  # NT-5: the deadline, in the submission's transaction
        try:
            tx.commit()
        except ConditionFailed as exc:
            if exc.tag == "number":
                continue
            if exc.tag == "attachment":
                raise invalid({"attachments": "Документ удалён или заменяется: проверьте вложения"}) from None
            raise Conflict("NOT_A_DRAFT", "Заявление уже подано") from None
        return {"id": req["id"], "number": number, "status": "submitted", "expected_by": item["expected_by"]}
    raise Unavailable("TRY_AGAIN", "Не удалось присвоить номер. Повторите попытку")


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


def add_documents(principal: Principal, request_id: str, attachments: list[str], origin: Origin
                  ) -> dict[str, Any]:
    """Answer "Требуются документы": the documents join the application and it goes back to work."""
    req = load_own(principal.user_id, request_id)
    if req["status"] != "awaiting_documents":
        raise Conflict("INVALID_TRANSITION", "Заявление не ожидает документов", current=req["status"])
    problems, docs = attachment_problems(principal.user_id, attachments, [])
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
