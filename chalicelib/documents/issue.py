"""Documents the system issues (DC-4, SV-9): a layout → PDF → PAdES signature → the person's "Мои документы",
plus the public facts anyone can check by the QR code or by sending the file back.

Later features (certificates, receipts, application journals) call `issue()` with their own layout.
"""

from __future__ import annotations

from typing import Any

from chalicelib.adapters import signer, storage
from chalicelib.core import clock
from chalicelib.core.config import settings
from chalicelib.core.errors import Conflict, Unprocessable, not_found
from chalicelib.core.ids import is_id, new_id
from chalicelib.core.origin import Origin
from chalicelib.documents import pdf
from chalicelib.documents.library import detail, record_access
from chalicelib.events import catalog as events
from chalicelib.identity.numbers import show_date, show_snils
from chalicelib.identity.users import full_name, load_user
from chalicelib.store import journal, keys, table
from chalicelib.store.table import Tx

TIERS = {"simplified": "Упрощённая", "standard": "Стандартная", "confirmed": "Подтверждённая"}


def verify_url(document_id: str) -> str:
    return f"{settings().public_url}/check/{document_id}"  # the public page; /verify/{id} is its JSON


def issue(user_id: str, layout: pdf.Layout, *, filename: str, category: str = "certificate",
          origin: Origin | None = None, actor: str = "system", tx: Tx | None = None) -> dict[str, Any]:
    """Render, sign, store under `g/<user>/`, and record: the document, its journal line and its public facts.
    With `tx` the records join the caller's transaction (committed by the caller), so a decision and its
    result document are written together or not at all."""
    document_id, signed = _signed(layout)
    return _store(user_id, document_id, signed, title=layout.title, filename=filename, category=category,
                  origin=origin, actor=actor, tx=tx)


def _signed(layout: pdf.Layout) -> tuple[str, signer.SignedPdf]:
    document_id = new_id()
    return document_id, signer.sign(pdf.render(layout, document_id=document_id, verify_url=verify_url(document_id),
                                               issued_at=clock.now()), reason=layout.title)


def _facts(document_id: str, title: str, signed: signer.SignedPdf) -> dict[str, Any]:
    """The `VERIFY#` item: what anyone may learn about an issued PDF."""
    pk, sk = keys.verification(document_id)
    return {"pk": pk, "sk": sk, "document_id": document_id, "title": title, "sha256": signed.sha256,
            "signed_by": signed.signed_by, "signed_at": signed.signed_at}


def copy_to(user_id: str, source: dict[str, Any], *, title: str, tx: Tx | None = None) -> dict[str, Any]:
    """An officer's PDF becomes the applicant's result: read, signed by the system, stored like an issued one."""
    version = source["versions"][-1]
    stored = storage.read(source["key"], version["s3_version"], version["size"])
    if stored is None:
        raise Conflict("RESULT_GONE", "Файл результата удалён")
    document_id = new_id()
    try:
        signed = signer.sign(stored.data, reason=title, document_id=document_id, title=title)
    except Exception:  # noqa: BLE001 - pyhanko refuses some PDFs (broken xref, encryption) in many ways
        raise Unprocessable("RESULT_NOT_SIGNABLE", "Этот PDF не удаётся подписать: сохраните его заново") from None
    return _store(user_id, document_id, signed, title=title, filename=version["filename"], category="certificate",
                  origin=None, actor="system", tx=tx)


def _store(user_id: str, document_id: str, signed: signer.SignedPdf, *, title: str, filename: str, category: str,
           origin: Origin | None, actor: str, tx: Tx | None) -> dict[str, Any]:
    key = keys.issued_object(user_id, document_id)
    s3_version = storage.put(key, signed.data, content_type="application/pdf")
    own = tx is None
    tx = tx or Tx()
    # A decision that loses its race (two officers, an officer and the citizen's cancel, a redelivered event)
    # must not leave a signed PDF with the applicant's personal data behind, unreferenced and never deleted.
    tx.on_failure(lambda: storage.delete_versions(key, [s3_version]))
    at = signed.signed_at
    pk, sk = keys.document(user_id, document_id)
    version = {"number": 1, "s3_version": s3_version, "filename": filename, "content_type": "application/pdf",
               "size": len(signed.data), "sha256": signed.sha256, "at": at}
    doc = {"pk": pk, "sk": sk, "id": document_id, "owner": user_id, "category": category, "title": title,
           "filename": filename, "content_type": "application/pdf", "size": len(signed.data), "valid_until": None,
           "status": "available", "origin": "generated", "key": key, "versions": [version], "created_at": at,
           "updated_at": at, "gsi1pk": keys.documents_of(user_id), "gsi1sk": document_id}
    tx.put_new(doc).put_new(_facts(document_id, title, signed))
    record_access(tx, doc, "issued", "owner" if actor == user_id else "system", origin, version=1)
    journal.audit(tx, keys.user_pk(user_id), events.DOCUMENT_ISSUED.name, actor, origin.ip if origin else None,
                  document_id=document_id, title=title)
    journal.emit(tx, events.DOCUMENT_ISSUED, keys.user_pk(user_id), {"user_id": user_id, "document_id": document_id,
                                                           "title": title})
    if own:
        tx.commit()
    return detail(doc)


def profile_extract(user_id: str, origin: Origin) -> dict[str, Any]:
    """"Выписка из профиля": who the person is to the portal, signed so a third party can rely on it."""
    user = load_user(user_id)
    name = full_name(user)
    rows = [("Фамилия, имя, отчество", name)]
    if user.get("birth_date"):
        rows.append(("Дата рождения", show_date(user["birth_date"])))
    if user.get("snils"):
        rows.append(("СНИЛС", show_snils(user["snils"])))
    rows += [("Мобильный телефон", user.get("phone") or "не указан"),
             ("Электронная почта", user.get("email") or "не указана"),
             ("Уровень учётной записи", TIERS.get(user.get("tier", "simplified"), user.get("tier", ""))),
             ("Учётная запись создана", clock.ru(clock.from_iso(user["created_at"])) if user.get("created_at")
              else "—")]
    layout = pdf.Layout(title="Выписка из профиля", subtitle="Сведения учётной записи портала госуслуг",
                        sections=[pdf.Section(heading="Сведения о пользователе", rows=rows),
                                  pdf.Section(heading=None, paragraphs=[
                                      "Выписка сформирована автоматически и подписана электронной подписью "
                                      "системы. Подлинность можно проверить по QR-коду или ссылке внизу страницы."])])
    day = clock.now().astimezone(clock.MSK).strftime("%Y-%m-%d")
    return issue(user_id, layout, filename=f"Выписка из профиля {day}.pdf", origin=origin, actor=user_id)


def public_facts(document_id: str) -> dict[str, Any]:
    """What the QR code leads to: enough to compare with the paper in hand, nothing personal."""
    facts = table.get(keys.verification(document_id), consistent=False) if is_id(document_id) else None
    if facts is None:
        raise not_found("Документ")
    return {"valid": True, "document_id": document_id, "title": facts["title"], "signed_by": facts["signed_by"],
            "signed_at": facts["signed_at"], "sha256": facts["sha256"]}


def check_file(data: bytes) -> dict[str, Any]:
    """Is this PDF one we issued, signed by our key, and unchanged byte for byte since?"""
    found = signer.verify(data)
    facts = None
    if found.document_id and is_id(found.document_id):
        facts = table.get(keys.verification(found.document_id), consistent=False)
    registered = facts is not None and facts["sha256"] == found.sha256
    valid = found.valid and registered
    reason = found.reason
    if found.valid and not registered:
        reason = "Документ с таким номером системой не выдавался или отличается от выданного"
    return {"valid": valid, "ours": found.ours, "intact": found.intact, "registered": registered,
            "document_id": found.document_id, "title": found.title, "signed_by": found.signed_by,
            "signed_at": found.signed_at, "sha256": found.sha256, "reason": None if valid else reason}


def export(layout: pdf.Layout) -> bytes:
    """A signed PDF handed straight to the reader (an application's journal): not kept in "Мои документы",
    but its public facts are recorded, so the QR code and `POST /verify` confirm it like any issued one."""
    document_id, signed = _signed(layout)
    table.put(_facts(document_id, layout.title, signed))
    return signed.data
