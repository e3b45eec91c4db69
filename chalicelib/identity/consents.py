"""Consents to personal-data processing (ID-9, 152-ФЗ art. 9): what was agreed to, for which purpose, to whom the
data goes, on which legal basis and when. A consent is written in the same transaction as the processing it
allows, so there is no processing without its record. Revoking stops future use, not processing already done."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from chalicelib.core import clock
from chalicelib.core.errors import Conflict, not_found
from chalicelib.core.ids import new_id
from chalicelib.store import journal, keys, table
from chalicelib.store.table import ConditionFailed, Tx


@dataclass(frozen=True)
class Kind:
    purpose: str
    recipient: str
    legal_basis: str
    revocable: bool
    revoke_effect: str = ""  # what revoking changes, shown next to the button


KINDS: dict[str, Kind] = {
    "registration": Kind(
        "Ведение личного кабинета на портале государственных услуг: учётная запись, вход, уведомления",
        "Оператор портала государственных услуг",
        "п. 1 ч. 1 ст. 6 Федерального закона № 152-ФЗ «О персональных данных»; согласие при регистрации",
        revocable=False),
    "registry_check": Kind(
        "Проверка личных данных в государственных реестрах для стандартной учётной записи",
        "МВД России, Социальный фонд России, ФНС России",
        "ст. 9 Федерального закона № 152-ФЗ; постановление Правительства РФ № 977 (ЕСИА)",
        revocable=False),
    "application": Kind(
        "Рассмотрение заявления на государственную услугу",
        "Ведомство, оказывающее услугу",
        "п. 4 ч. 1 ст. 6 Федерального закона № 152-ФЗ; Федеральный закон № 210-ФЗ",
        revocable=False),
    "bank_confirmation": Kind(
        "Подтверждение личности через банк-партнёр: банк передаёт ФИО, ИНН и дату рождения",
        "Банк-партнёр",
        "ст. 9 Федерального закона № 152-ФЗ; согласие на странице банка",
        revocable=True,
        revoke_effect="Банк больше не будет получать и передавать ваши данные; подтверждённая учётная запись "
                      "остаётся подтверждённой"),
    # -- single sign-on (issue 15): the recipient is the system's name, the subject the scopes given --
    "sso": Kind(
        "Вход в государственную информационную систему через личный кабинет и передача ей ваших данных",
        "Государственная информационная система",
        "ст. 9 Федерального закона № 152-ФЗ; согласие на странице входа",
        revocable=True,
        revoke_effect="Система больше не получит ваши данные, а её доступ к ним без входа прекращается; при "
                      "следующем входе она снова попросит согласие"),
}
REVOKE_NOTE = ("Отзыв согласия прекращает дальнейшую обработку данных с этой целью. Обработка, выполненная до "
               "отзыва, остаётся законной")


def record(tx: Tx, user_id: str, kind: str, *, ip: str | None, recipient: str | None = None,
           subject: str | None = None, ref: str | None = None) -> str:
    """Add a consent of `kind` to `tx`. `recipient` names the agency or bank when the kind says only which
    sort of body it is; `subject` and `ref` say what it was for (an application's number and id)."""
    spec = KINDS[kind]
    consent_id = new_id()
    pk, sk = keys.consent(user_id, consent_id)
    tx.put({"pk": pk, "sk": sk, "id": consent_id, "kind": kind, "purpose": spec.purpose,
            "recipient": recipient or spec.recipient, "legal_basis": spec.legal_basis,
            "given_at": clock.iso(clock.now()), "ip": ip, "subject": subject, "ref": ref})
    return consent_id


def _view(item: dict[str, Any]) -> dict[str, Any]:
    spec = KINDS[item["kind"]]
    return {"id": item["id"], "kind": item["kind"], "purpose": item["purpose"], "recipient": item["recipient"],
            "legal_basis": item["legal_basis"], "given_at": item["given_at"], "subject": item.get("subject"),
            "revocable": spec.revocable and not item.get("revoked_at"), "revoked_at": item.get("revoked_at"),
            "revoke_effect": spec.revoke_effect or None}


def consents(user_id: str, cursor: str | None) -> dict[str, Any]:
    page = table.query(keys.user_pk(user_id), keys.CONSENT_PREFIX, cursor=cursor, limit=50)
    return {"items": [_view(i) for i in page.items], "cursor": page.cursor, "note": REVOKE_NOTE}


def revoke(user_id: str, consent_id: str, ip: str | None) -> dict[str, Any]:
    """One conditional transaction: a consent is revoked once, and only a revocable kind. A system's sign-in
    consent also ends that system's grant (its refresh tokens stop working) in the same transaction."""
    key = keys.consent(user_id, consent_id)
    current = table.get(key)
    now = clock.iso(clock.now())
    revocable = [k for k, spec in KINDS.items() if spec.revocable]
    tx = Tx().update(key, "SET revoked_at = :now", cond="attribute_exists(pk) AND attribute_not_exists(revoked_at)"
                     " AND #kind IN (" + ", ".join(f":k{i}" for i in range(len(revocable))) + ")",
                     names={"#kind": "kind"}, values={":now": now, **{f":k{i}": k for i, k in enumerate(revocable)}})
    if current and current.get("kind") == "sso" and current.get("ref"):
        from chalicelib.sso import grants

        grants.end(tx, user_id, current["ref"], consent_id)
    journal.audit(tx, keys.user_pk(user_id), "consent.revoked", user_id, ip, consent_id=consent_id)
    try:
        tx.commit()
    except ConditionFailed as exc:
        if exc.old is None:
            raise not_found("Согласие", neuter=True) from None
        if exc.old.get("revoked_at"):
            raise Conflict("ALREADY_REVOKED", "Согласие уже отозвано") from None
        raise Conflict("NOT_REVOCABLE", "Это согласие нельзя отозвать: обработка нужна по закону для оказания "
                                        "услуги или работы учётной записи") from None
    item = table.get(key)
    assert item is not None
    return {**_view(item), "note": REVOKE_NOTE}


def active(user_id: str, kind: str) -> bool:
    """Whether a consent of `kind` is given and not revoked (future use checks this)."""
    cursor = None
    while True:  # Limit counts items before the filter: a bank consent behind 200 applications' must still count
        page = table.query(keys.user_pk(user_id), keys.CONSENT_PREFIX, limit=200, cursor=cursor,
                           filter_expr="#kind = :kind AND attribute_not_exists(revoked_at)",
                           filter_names={"#kind": "kind"}, filter_values={":kind": kind}, consistent=True)
        if page.items:
            return True
        if not page.cursor:
            return False
        cursor = page.cursor
