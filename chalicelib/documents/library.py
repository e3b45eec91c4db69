""""Мои документы" (DC-1..DC-3, DC-6): upload requests, the check of each new file, reading, replacing, deleting,
and the access journal that records every view, download and change.

A document lives in its own partition `DOC#<owner>#<id>`: the metadata item and its journal. Every read
addresses it with the caller's user id, so another person's document id simply does not resolve (404).
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Callable
from datetime import date
from typing import Any

from chalicelib.adapters import storage
from chalicelib.calendar import items as calendar_items
from chalicelib.core import clock
from chalicelib.core.errors import Conflict, Gone, TooLarge, invalid, not_found
from chalicelib.core.ids import is_id, new_id
from chalicelib.core.origin import Origin
from chalicelib.documents.categories import CATEGORIES, max_size, megabytes
from chalicelib.documents.inspect import inspect
from chalicelib.documents.models import FileIn, UploadIn
from chalicelib.events import catalog as events
from chalicelib.identity.users import contacts, load_user
from chalicelib.store import journal, keys, table
from chalicelib.store.table import Change, ConditionFailed, Tx

log = logging.getLogger("kabinet.documents")
UNUSED_TTL = 24 * 3600  # a document whose file never arrived disappears after a day
MAX_VERSIONS = 20  # versions live in the document item (400 KB at most); older files stay in S3's own history
PAGE = 20
JOURNAL_PAGE = 50
STATUSES = {"checking": "Проверяется", "available": "Доступен", "rejected": "Отклонён", "deleted": "Удалён"}
ACTIONS = {
    "created": "Создан, ожидается загрузка файла",
    "accepted": "Файл проверен и сохранён",
    "rejected": "Файл отклонён при проверке",
    "viewed": "Просмотр сведений",
    "downloaded": "Скачивание файла",
    "replacement_requested": "Запрошена замена файла",
    "replaced": "Файл заменён новой версией",
    "deleted": "Документ удалён",
    "issued": "Документ выпущен и подписан системой",
}
ACTORS = {"owner": "Владелец", "system": "Система", "officer": "Сотрудник ведомства"}


def upload_key(user_id: str, document_id: str) -> str:
    """Where a person's uploads live: the presigned policy pins this exact key (never outside `u/<user>/`)."""
    return keys.upload_object(user_id, document_id)


# -- reading ------------------------------------------------------------------------------------------

def _load(user_id: str, document_id: str) -> dict[str, Any]:
    doc = table.get(keys.document(user_id, document_id)) if is_id(document_id) else None
    if doc is None:
        raise not_found("Документ")
    return doc


def _alive(doc: dict[str, Any]) -> dict[str, Any]:
    if doc["status"] == "deleted":
        raise Gone("DOCUMENT_DELETED", "Документ удалён")
    return doc


def _validity(valid_until: str | None) -> dict[str, Any]:
    if not valid_until:
        return {"valid_until": None, "expired": None}
    today = clock.now().astimezone(clock.MSK).date()
    return {"valid_until": valid_until, "expired": date.fromisoformat(valid_until) < today}


def summary(doc: dict[str, Any]) -> dict[str, Any]:
    pending = doc.get("pending")
    return {
        "id": doc["id"], "category": doc["category"], "category_title": CATEGORIES[doc["category"]],
        "title": doc.get("title") or doc["filename"], "filename": doc["filename"],
        "content_type": doc["content_type"], "size": doc["size"], "status": doc["status"],
        "status_title": STATUSES[doc["status"]], "reason": doc.get("reason"), "origin": doc["origin"],
        "version": len(doc.get("versions", [])) or None,
        "replacement": "checking" if pending and doc.get("versions") else None,
        "last_rejection": doc.get("last_rejection"),
        "created_at": doc["created_at"], "updated_at": doc["updated_at"], **_validity(doc.get("valid_until")),
    }


def detail(doc: dict[str, Any]) -> dict[str, Any]:
    current = len(doc.get("versions", []))
    versions = [{"number": v["number"], "filename": v["filename"], "content_type": v["content_type"],
                 "size": v["size"], "sha256": v["sha256"], "uploaded_at": v["at"], "current": v["number"] == current}
                for v in reversed(doc.get("versions", []))]
    return {**summary(doc), "versions": versions}


def record_access(tx_or_none: Tx | None, doc: dict[str, Any], action: str, actor: str, origin: Origin | None,
            **details: Any) -> dict[str, Any]:
    """A journal line (DC-3); written in `tx` when the action changes state, on its own otherwise."""
    entry_id = new_id()
    pk, sk = keys.document_access(doc["owner"], doc["id"], entry_id)
    item = {"pk": pk, "sk": sk, "id": entry_id, "at": clock.iso(clock.now()), "action": action, "actor": actor,
            "ip": origin.ip if origin else None, "details": details or None}
    if tx_or_none is None:
        table.put(item)
    else:
        tx_or_none.put(item)
    return item


def list_documents(user_id: str, query: dict[str, str]) -> dict[str, Any]:
    names, values, conds = {"#status": "status"}, {}, []
    status = query.get("status")
    if status is None:
        conds.append("#status <> :deleted")
        values[":deleted"] = "deleted"
    elif status in STATUSES:
        conds.append("#status = :status")
        values[":status"] = status
    else:
        raise invalid({"status": f"Допустимо: {', '.join(STATUSES)}"})
    category = query.get("category")
    if category is not None:
        if category not in CATEGORIES:
            raise invalid({"category": f"Допустимо: {', '.join(CATEGORIES)}"})
        conds.append("#category = :category")
        names["#category"] = "category"
        values[":category"] = category
    page = table.query(keys.documents_of(user_id), index="GSI1", cursor=query.get("cursor"), limit=PAGE,
                       filter_expr=" AND ".join(conds), filter_names=names, filter_values=values)
    return {"items": [summary(d) for d in page.items], "cursor": page.cursor}


def view(user_id: str, document_id: str, origin: Origin) -> dict[str, Any]:
    doc = _load(user_id, document_id)
    record_access(None, doc, "viewed", "owner", origin)
    return detail(doc)


def download(user_id: str, document_id: str, origin: Origin, version: str | None = None) -> dict[str, Any]:
    """A link that lives DOWNLOAD_TTL seconds to the current (or a numbered earlier) version."""
    doc = _alive(_load(user_id, document_id))
    versions = doc.get("versions", [])
    if not versions:
        if doc["status"] == "rejected":
            raise Conflict("DOCUMENT_REJECTED", "Файл не прошёл проверку: загрузите его заново",
                           reason=doc.get("reason"))
        raise Conflict("DOCUMENT_CHECKING", "Файл ещё проверяется. Попробуйте через несколько секунд")
    chosen = versions[-1]
    if version is not None:
        chosen = next((v for v in versions if str(v["number"]) == version), None)
        if chosen is None:
            raise not_found("Версия документа", feminine=True)
    record_access(None, doc, "downloaded", "owner", origin, version=chosen["number"])
    url = storage.download_url(doc["key"], chosen["s3_version"], filename=chosen["filename"],
                               content_type=chosen["content_type"])
    return {"url": url, "expires_in": storage.DOWNLOAD_TTL, "filename": chosen["filename"],
            "content_type": chosen["content_type"], "size": chosen["size"], "version": chosen["number"]}


def download_for_staff(owner: str, document_id: str, version: int, *, officer: str, department: str | None,
                       origin: Origin) -> dict[str, Any]:
    """DC-6: an officer reads a document attached to an application of their agency — the very version it
    was submitted with — and the owner's journal says who did."""
    doc = _alive(_load(owner, document_id))
    chosen = next((v for v in doc["versions"] if v["number"] == version), None)
    if chosen is None:
        raise not_found("Версия документа", feminine=True)
    record_access(None, doc, "downloaded", "officer", origin, version=version, officer=officer, department=department)
    url = storage.download_url(doc["key"], chosen["s3_version"], filename=chosen["filename"],
                               content_type=chosen["content_type"])
    return {"url": url, "expires_in": storage.DOWNLOAD_TTL, "filename": chosen["filename"],
            "content_type": chosen["content_type"], "size": chosen["size"], "version": version,
            "sha256": chosen["sha256"]}


def access_journal(user_id: str, document_id: str, cursor: str | None) -> dict[str, Any]:
    """Newest first. The metadata item sorts after every `J#` line, so the first page shows it exists;
    a cursor can only continue this owner's own partition (its key carries the user id)."""
    pk = keys.document(user_id, document_id)[0]
    if not is_id(document_id):
        raise not_found("Документ")
    page = table.query(pk, cursor=cursor, limit=JOURNAL_PAGE + (0 if cursor else 1))
    if not cursor and not any(i["sk"] == "META" for i in page.items):
        raise not_found("Документ")
    items = [_line(i) for i in page.items if i["sk"].startswith("J#")]
    return {"items": items, "cursor": page.cursor}


def _line(item: dict[str, Any]) -> dict[str, Any]:
    details = dict(item.get("details") or {})
    officer, department = details.pop("officer", None), details.pop("department", None)
    actor = {"kind": item["actor"], "name": officer or ACTORS.get(item["actor"], item["actor"])}
    if department:
        actor["department"] = department
    return {"at": item["at"], "action": item["action"], "action_title": ACTIONS[item["action"]], "actor": actor,
            "ip": item.get("ip"), **details}


# -- uploads ------------------------------------------------------------------------------------------

def _check_file(body: FileIn, category: str) -> int:
    problem = body.extension_problem()
    if problem:
        raise invalid({"filename": problem})
    limit = max_size(category)
    if body.size > limit:
        raise TooLarge("FILE_TOO_LARGE", f"Файл слишком большой: не более {megabytes(limit)}",
                       {"size": f"Не более {megabytes(limit)} ({limit} байт)"})
    return limit


def _pending(body: FileIn) -> dict[str, Any]:
    return {"upload_id": new_id(), "filename": body.filename, "content_type": body.content_type, "size": body.size,
            "valid_until": body.valid_until.isoformat() if body.valid_until else None,
            "at": clock.iso(clock.now())}


def _form(doc_key: str, pending: dict[str, Any], limit: int, document_id: str,
          redirect: Callable[[str], str] | None) -> dict[str, Any]:
    form = storage.upload_form(doc_key, content_type=pending["content_type"], max_size=limit,
                               upload_id=pending["upload_id"], redirect=redirect(document_id) if redirect else None)
    return {"document_id": document_id, "upload": form, "expires_in": storage.UPLOAD_TTL}


def request_upload(user_id: str, body: UploadIn, origin: Origin,
                   redirect: Callable[[str], str] | None = None) -> dict[str, Any]:
    """A new document in status `checking` and a presigned POST for its file (1 transaction). `redirect`: the
    web page S3 sends the browser back to after a plain form post, from the new document's id."""
    limit = _check_file(body, body.category)
    document_id = new_id()
    pending = _pending(body)
    now = clock.iso(clock.now())
    pk, sk = keys.document(user_id, document_id)
    doc = {"pk": pk, "sk": sk, "id": document_id, "owner": user_id, "category": body.category,
           "filename": body.filename, "content_type": body.content_type, "size": body.size,
           "valid_until": pending["valid_until"], "status": "checking", "origin": "upload",
           "key": upload_key(user_id, document_id), "versions": [], "pending": pending,
           "created_at": now, "updated_at": now, "gsi1pk": keys.documents_of(user_id), "gsi1sk": document_id,
           "ttl": clock.epoch() + UNUSED_TTL}
    tx = Tx().put_new(doc)
    record_access(tx, doc, "created", "owner", origin, filename=body.filename)
    journal.audit(tx, keys.user_pk(user_id), "document.upload_requested", user_id, origin.ip, document_id=document_id,
                  category=body.category)
    tx.commit()
    return _form(doc["key"], pending, limit, document_id, redirect)


def request_replacement(user_id: str, document_id: str, body: FileIn, origin: Origin,
                        redirect: Callable[[str], str] | None = None) -> dict[str, Any]:
    """A presigned POST for a new version of the same key: S3 versioning keeps the old file. A newer
    request supersedes an older one whose file has not arrived yet."""
    doc = _alive(_load(user_id, document_id))
    if doc["origin"] != "upload":
        raise Conflict("DOCUMENT_ISSUED", "Документ выпущен системой и не может быть заменён")
    if len(doc["versions"]) >= MAX_VERSIONS:
        raise Conflict("TOO_MANY_VERSIONS", f"У документа уже {MAX_VERSIONS} версий: загрузите его как новый")
    limit = _check_file(body, doc["category"])
    pending = _pending(body)
    change = Change().set("pending", pending).set("updated_at", pending["at"])
    if not doc["versions"]:  # nothing accepted yet: as with a first upload, it goes if no file ever comes
        change.set("status", "checking").remove("reason").set("ttl", clock.epoch() + UNUSED_TTL)
    change.require("{status} <> :deleted", deleted="deleted")
    tx = change.apply(Tx(), keys.document(user_id, document_id))
    record_access(tx, doc, "replacement_requested", "owner", origin, filename=body.filename)
    journal.audit(tx, keys.user_pk(user_id), "document.replacement_requested", user_id, origin.ip,
                  document_id=document_id)
    try:
        tx.commit()
    except ConditionFailed:
        raise Gone("DOCUMENT_DELETED", "Документ удалён") from None
    return _form(doc["key"], pending, limit, document_id, redirect)


def delete(user_id: str, document_id: str, origin: Origin) -> None:
    """Metadata and journal stay; every stored version of the file is removed for good. The write requires
    the versions it read to be all there are, so a version the checker accepts meanwhile is not left behind."""
    for _ in range(3):
        doc = _alive(_load(user_id, document_id))
        if doc.get("attached_to"):
            raise Conflict("DOCUMENT_ATTACHED", "Документ приложен к заявлению и хранится вместе с ним")
        now = clock.iso(clock.now())
        change = (Change().set("status", "deleted").set("deleted_at", now).set("updated_at", now).remove("pending")
                  .remove("ttl").require("{status} <> :deleted AND size({versions}) = :n AND "
                                         "attribute_not_exists({attached_to})", deleted="deleted",
                                         n=len(doc["versions"])))
        tx = change.apply(Tx(), keys.document(user_id, document_id))
        record_access(tx, doc, "deleted", "owner", origin)
        calendar_items.remove(tx, user_id, "document", document_id, doc.get("valid_until"))  # NT-5
        journal.audit(tx, keys.user_pk(user_id), events.DOCUMENT_DELETED.name, user_id, origin.ip,
                      document_id=document_id)
        journal.emit(tx, events.DOCUMENT_DELETED, keys.user_pk(user_id),
                     {"user_id": user_id, "document_id": document_id})
        try:
            tx.commit()
        except ConditionFailed:
            continue  # deleted or given a new version meanwhile: read again
        storage.delete_versions(doc["key"], [v["s3_version"] for v in doc["versions"]])
        return
    raise Conflict("CONFLICT", "Документ изменился во время удаления. Повторите попытку")


# -- the check of each uploaded file (S3 ObjectCreated) -------------------------------------------------

def _parse_key(key: str) -> tuple[str, str] | None:
    parts = key.split("/")
    if len(parts) == 3 and parts[0] == "u" and is_id(parts[2]) and parts[1]:
        return parts[1], parts[2]
    return None


def check_upload(key: str, version_id: str | None) -> str:
    """Accept or reject one uploaded object; idempotent (S3 delivers events at least once). Returns what happened."""
    owner_doc = _parse_key(key)
    if owner_doc is None:
        log.warning("object outside the upload layout (%d path segments under %r)", key.count("/") + 1,
                    key.split("/", 1)[0][:8])  # not the key itself: it may hold a person's id
        return "ignored"
    user_id, document_id = owner_doc
    doc = table.get(keys.document(user_id, document_id))
    stored = storage.read(key, version_id, max_size(doc["category"]) if doc else 0)
    if stored is None:
        return "gone"  # deleted since (rejected, superseded, or the document was deleted)
    if doc is None or doc["status"] == "deleted":
        storage.delete_versions(key, [stored.version_id])  # nobody will ever read it
        return "orphan"
    if any(v["s3_version"] == stored.version_id for v in doc["versions"]):
        return "duplicate"
    pending = doc.get("pending")
    if not pending or pending["upload_id"] != stored.upload_id:
        storage.delete_versions(key, [stored.version_id])  # superseded by a newer upload request
        return "stale"
    verdict = inspect(stored.data, declared=pending["content_type"], limit=max_size(doc["category"]))
    try:
        if verdict.ok:
            _accept(doc, pending, stored)
            return "accepted"
        _reject(doc, pending, verdict.reason or "Файл не прошёл проверку")
    except ConditionFailed:  # another delivery, or a newer upload request, got there first
        now = table.get(keys.document(user_id, document_id))
        if now is None or all(v["s3_version"] != stored.version_id for v in now.get("versions", [])):
            storage.delete_versions(key, [stored.version_id])
        return "duplicate"
    storage.delete_versions(key, [stored.version_id])
    return "rejected"


def _accept(doc: dict[str, Any], pending: dict[str, Any], stored: storage.Stored) -> None:
    now = clock.iso(clock.now())
    number = len(doc["versions"]) + 1
    version = {"number": number, "s3_version": stored.version_id, "filename": pending["filename"],
               "content_type": pending["content_type"], "size": stored.size,
               "sha256": hashlib.sha256(stored.data).hexdigest(), "at": now}
    change = (Change().set("versions", [*doc["versions"], version]).set("status", "available")
              .set("filename", pending["filename"]).set("content_type", pending["content_type"])
              .set("size", stored.size).set("updated_at", now).remove("pending").remove("ttl").remove("reason")
              .require("{pending}.{upload_id} = :u", u=pending["upload_id"]))
    if pending.get("valid_until"):
        change.set("valid_until", pending["valid_until"])
    tx = change.apply(Tx(), keys.document(doc["owner"], doc["id"]))
    action = "replaced" if number > 1 else "accepted"
    record_access(tx, doc, action, "system", None, version=number)
    _calendar(tx, doc, pending)
    journal.audit(tx, keys.user_pk(doc['owner']), f"document.{action}", "system", None, document_id=doc["id"],
                  version=number)
    journal.emit(tx, events.DOCUMENT_AVAILABLE, keys.user_pk(doc['owner']),
                 {"user_id": doc["owner"], "document_id": doc["id"], "version": number})
    tx.commit()


def _calendar(tx: Tx, doc: dict[str, Any], pending: dict[str, Any]) -> None:
    """NT-5: the expiry of an available document is in the calendar; a new `valid_until` moves it."""
    day = pending.get("valid_until") or doc.get("valid_until")
    title = doc.get("title") or CATEGORIES[doc["category"]]
    calendar_items.move(tx, doc["owner"], "document", doc["id"], doc.get("valid_until"), day, title,
                        f"/my-documents/{doc['id']}")


def _reject(doc: dict[str, Any], pending: dict[str, Any], reason: str) -> None:
    now = clock.iso(clock.now())
    change = (Change().set("last_rejection", {"reason": reason, "filename": pending["filename"], "at": now})
              .set("updated_at", now).remove("pending").remove("ttl")
              .require("{pending}.{upload_id} = :u", u=pending["upload_id"]))
    if not doc["versions"]:
        change.set("status", "rejected").set("reason", reason)
    tx = change.apply(Tx(), keys.document(doc["owner"], doc["id"]))
    record_access(tx, doc, "rejected", "system", None, reason=reason, filename=pending["filename"])
    journal.audit(tx, keys.user_pk(doc['owner']), events.DOCUMENT_REJECTED.name, "system", None, document_id=doc["id"],
                  reason=reason)
    user = load_user(doc["owner"])
    journal.emit(tx, events.DOCUMENT_REJECTED, keys.user_pk(doc['owner']), {
        **contacts(user), "document_id": doc["id"], "filename": pending["filename"], "reason": reason,
        "category_title": CATEGORIES[doc["category"]], "kept_previous": bool(doc["versions"])})
    tx.commit()
