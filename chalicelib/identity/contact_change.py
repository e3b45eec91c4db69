"""Changing the phone or e-mail (AU-11): the new contact proves itself with a code; both hear of it.

A contact that belongs to another account gets the same answer here, and its owner gets a notice
instead of a code (the notify worker checks), so nobody learns whose contact it is.
"""

from __future__ import annotations

from typing import Any

from chalicelib.core.errors import Conflict, Unprocessable
from chalicelib.core.origin import Origin
from chalicelib.events import catalog as events
from chalicelib.identity import otp
from chalicelib.identity.users import contacts, load_user
from chalicelib.store import journal, keys
from chalicelib.store.table import Change, ConditionFailed, Tx

KINDS = {"phone": "sms", "email": "email"}


def mask(kind: str, value: str | None) -> str | None:
    if not value:
        return None
    if kind == "phone":
        return f"{value[:2]} *** ***-{value[-4:-2]}-{value[-2:]}"
    name, domain = value.split("@", 1)
    return f"{name[:1]}***@{domain}"


def request(user_id: str, kind: str, value: str, origin: Origin) -> dict[str, Any]:
    user = load_user(user_id)
    if user.get(kind) == value:
        raise Unprocessable("SAME_CONTACT", "Этот контакт уже привязан к вашей учётной записи")
    tx = Tx()
    answer = otp.issue(tx, keys.user_pk(user_id), f"contact_{kind}", KINDS[kind], value, guard_kind=kind,
                       guard_value=value, value=value, first_name=user["first_name"])
    journal.audit(tx, keys.user_pk(user_id), "contact.change_requested", user_id, origin.ip, kind=kind)
    otp.commit_issue(tx, origin.ip)
    return answer


def confirm(user_id: str, kind: str, code: str, origin: Origin) -> dict[str, Any]:
    user = load_user(user_id)
    tx = Tx()
    item = otp.verify(keys.user_pk(user_id), f"contact_{kind}", code, tx, origin.ip)
    new, old = item["context"]["value"], user.get(kind)
    Change().set(kind, new).require(f"attribute_not_exists({{{kind}}}) OR {{{kind}}} = :old",
                                    old=old).apply(tx, keys.user(user_id))
    if old:
        tx.delete(keys.login_alias(kind, old))
    alias_pk, alias_sk = keys.login_alias(kind, new)
    tx.put_new({"pk": alias_pk, "sk": alias_sk, "user_id": user_id}, tag="login_taken")
    journal.audit(tx, keys.user_pk(user_id), events.CONTACT_CHANGED.name, user_id, origin.ip, kind=kind)
    journal.emit(tx, events.CONTACT_CHANGED, keys.user_pk(user_id), {
        **contacts(user), "kind": kind, "old": old, "new": new, "old_masked": mask(kind, old),
        "new_masked": mask(kind, new)})
    try:
        tx.commit()
    except ConditionFailed as exc:
        if exc.tag == "login_taken":
            raise Conflict("CONTACT_TAKEN", "Этот контакт уже привязан к другой учётной записи") from None
        raise Conflict("CONFLICT", "Контакт изменён в другом запросе, повторите") from None
    return {kind: new}
