"""Personal data (ID-3) and the identity page (ID-6): what a person submits for the registry checks and what they
see of them.

The account item keeps only checked data; a submission waits beside it (`PROFILE#CHECK`) until MVD, SFR and FNS
have answered (`identity/checks.py`). So until new data passes, the account keeps its last checked data and its
tier (ID-8), and the identity page reads both in one Query.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from chalicelib.adapters.registries import REGISTRIES, TITLES
from chalicelib.catalog.services import TIER_TITLES
from chalicelib.core import clock
from chalicelib.core.errors import Conflict, Forbidden, Invalid, not_found
from chalicelib.core.ids import new_id
from chalicelib.events import catalog
from chalicelib.identity import confirmation, consents, ratelimit
from chalicelib.identity.personal_models import PersonalDataIn
from chalicelib.store import journal, keys, table
from chalicelib.store.table import ConditionFailed, Tx

FIELDS = ("last_name", "first_name", "middle_name", "birth_date", "sex", "birth_place", "passport", "snils", "inn",
          "address")
# ID-8: changing these after they were checked needs the new passport uploaded.
IDENTITY_FIELDS = ("last_name", "first_name", "middle_name", "birth_date", "sex", "passport")
NUMBERS = ("snils", "inn")  # each one account per person (ID-5): alias items `LOGIN#<kind>#<digits>`
TAKEN = {"snils": ("SNILS_TAKEN", "Этот СНИЛС уже указан в другой учётной записи"),
         "inn": ("INN_TAKEN", "Этот ИНН уже указан в другой учётной записи")}
RECOVERY_HINT = ("Если это ваша учётная запись, восстановите доступ к ней: «Восстановить доступ» на странице входа. "
                 "Владельцу учётной записи отправлено уведомление")
NEEDS = {
    "standard": ["Заполните личные данные: ФИО, дату рождения, пол, место рождения, паспорт, СНИЛС и адрес "
                 "регистрации", "Дождитесь проверки данных в МВД России, Социальном фонде России и ФНС России"],
    "confirmed": ["Подтвердите личность одним из способов: банк-партнёр, центр «Мои документы» (МФЦ), код из "
                  "заказного письма или квалифицированная электронная подпись"],
}
NEXT = {"simplified": "standard", "standard": "confirmed"}


def checked_data(user: dict[str, Any]) -> dict[str, Any] | None:
    """The data the registries checked (or the seed brought): None while the account has none."""
    if not user.get("snils") or not user.get("passport"):
        return None
    return {f: user.get(f) for f in FIELDS}


def read(user_id: str) -> tuple[dict[str, Any], dict[str, Any] | None]:
    """The account and its pending check: one Query (`begins_with PROFILE`), strongly consistent."""
    items = table.query(keys.user_pk(user_id), keys.PROFILE_PREFIX, limit=5, newest_first=False,
                        consistent=True).items
    by_sk = {i["sk"]: i for i in items}
    user = by_sk.get(keys.user(user_id)[1])
    if user is None:
        raise not_found("Пользователь")
    return user, by_sk.get(keys.identity_check(user_id)[1])


def _day(text: str, where: str, problems: dict[str, str]) -> date | None:
    try:
        return date.fromisoformat(text)
    except ValueError:
        problems[where] = "Такой даты нет в календаре"
        return None


def _date_problems(data: dict[str, Any]) -> dict[str, str]:
    """ID-3: no dates in the future, and a passport issued no earlier than the 14th birthday."""
    problems: dict[str, str] = {}
    today = clock.now().astimezone(clock.MSK).date()
    born = _day(data["birth_date"], "birth_date", problems)
    issued = _day(data["passport"]["issued_at"], "passport.issued_at", problems)
    if born and born > today:
        problems["birth_date"] = "Дата рождения не может быть в будущем"
    elif born and born.year < 1900:
        problems["birth_date"] = "Дата рождения — не раньше 1900 года"
    if issued and issued > today:
        problems["passport.issued_at"] = "Дата выдачи паспорта не может быть в будущем"
    elif issued and born and born <= today:
        fourteen = _birthday(born, 14)
        if issued < fourteen:
            problems["passport.issued_at"] = ("Паспорт выдаётся не раньше 14 лет: дата выдачи не может быть раньше "
                                              f"{fourteen.strftime('%d.%m.%Y')}")
    return problems


def _birthday(born: date, years: int) -> date:
    try:
        return born.replace(year=born.year + years)
    except ValueError:  # 29 February
        return date(born.year + years, 3, 1)


def _passport_upload(user_id: str, document_id: str | None) -> dict[str, str]:
    """ID-8: a name or passport change after the checks needs a checked upload of the new passport."""
    if document_id is None:
        return {"passport_document_id": "Приложите скан нового паспорта: без него изменить ФИО или паспортные "
                                        "данные нельзя"}
    doc = table.get(keys.document(user_id, document_id))
    if not doc or doc.get("category") != "passport" or doc.get("status") != "available":
        return {"passport_document_id": "Нужен загруженный и проверенный документ категории «Паспорт» из раздела "
                                        "«Мои документы»"}
    return {}


def submit(user_id: str, body: PersonalDataIn, ip: str | None) -> dict[str, Any]:
    """Store the data for checking and ask the three registries: one read, one transaction."""
    user, check = read(user_id)
    if user.get("role", "citizen") != "citizen":
        raise Forbidden("FORBIDDEN", "Личные данные заполняют только заявители")
    data = body.model_dump(exclude={"passport_document_id"})
    problems = _date_problems(data)
    checked = checked_data(user)
    if checked and not data.get("inn"):  # the INN FNS found stays: leaving the optional field empty keeps it
        data["inn"] = checked.get("inn")
    if checked == data:
        raise Conflict("NOTHING_TO_CHECK", "Эти данные уже проверены: изменений нет")
    if checked and any(checked.get(f) != data.get(f) for f in IDENTITY_FIELDS):
        problems.update(_passport_upload(user_id, body.passport_document_id))
    if problems:
        raise Invalid("VALIDATION_ERROR", "Проверьте личные данные", problems)
    submission_id = new_id()
    now = clock.iso(clock.now())
    tx = Tx()
    item = {"pk": keys.user_pk(user_id), "sk": keys.identity_check(user_id)[1], "user_id": user_id,
            "submission_id": submission_id, "submitted_at": now, "data": data,
            "passport_document_id": body.passport_document_id,
            "checks": {r: {"status": "pending", "attempts": 0} for r in REGISTRIES},
            "claimed": {k: v for k in NUMBERS if (v := data.get(k)) and v != user.get(k)},
            "version": (check or {}).get("version", 0) + 1}
    if check:
        tx.put(item, cond="version = :v", values={":v": check["version"]}, tag="check_changed")
    else:
        tx.put_new(item, tag="check_changed")
    for kind in NUMBERS:
        _bind_number(tx, user_id, kind, data.get(kind), user.get(kind), ((check or {}).get("claimed") or {}).get(kind))
    consents.record(tx, user_id, "registry_check", ip=ip)
    journal.audit(tx, keys.user_pk(user_id), "identity.data_submitted", user_id, ip, submission_id=submission_id,
                  changed=sorted(f for f in FIELDS if (checked or {}).get(f) != data.get(f)))
    for registry in REGISTRIES:
        journal.emit(tx, catalog.CHECK_REQUESTED, keys.user_pk(user_id),
                     {"user_id": user_id, "submission_id": submission_id, "registry": registry})
    try:
        ratelimit.commit(tx, ip)
    except ConditionFailed as exc:
        if exc.tag in TAKEN:
            tell_owner((exc.old or {}).get("user_id"), exc.tag)
            code, message = TAKEN[exc.tag]
            raise Conflict(code, f"{message}. {RECOVERY_HINT}", fields={exc.tag: message},
                           recovery="/auth/recovery") from None
        raise Conflict("CONFLICT", "Данные только что изменились в другом окне, обновите страницу") from None
    return {"status": "checking", "checks": checks_view(item)}


def _bind_number(tx: Tx, user_id: str, kind: str, new: str | None, checked: str | None, pending: str | None) -> None:
    """Claim the new SNILS/INN for this account (ID-5) and let go of one a previous submission claimed."""
    if new and new != checked:
        pk, sk = keys.login_alias(kind, new)
        tx.put({"pk": pk, "sk": sk, "user_id": user_id}, cond="attribute_not_exists(pk) OR user_id = :me",
               values={":me": user_id}, tag=kind)
    if pending and pending not in (new, checked):
        tx.delete(keys.login_alias(kind, pending), cond="user_id = :me", values={":me": user_id})


def tell_owner(owner_id: str | None, kind: str) -> None:
    """ID-5: the owner hears that someone tried to use their SNILS/INN (nothing about who)."""
    if not owner_id:
        return
    tx = Tx()
    journal.emit(tx, catalog.IDENTITY_TRIED, keys.user_pk(owner_id), {"user_id": owner_id, "kind": kind})
    journal.audit(tx, keys.user_pk(owner_id), catalog.IDENTITY_TRIED.name, "system", None, kind=kind)
    tx.commit()


def checks_view(check: dict[str, Any] | None) -> list[dict[str, Any]]:
    if not check:
        return []
    out = []
    for registry in REGISTRIES:
        state = check["checks"][registry]
        out.append({"registry": registry, "title": TITLES[registry], "status": state["status"],
                    "reason": state.get("reason"), "fields": state.get("fields") or None,
                    "checked_at": state.get("checked_at"), "retry_at": state.get("retry_at")})
    return out


def settled(check: dict[str, Any]) -> bool:
    return all(c["status"] == "passed" for c in check["checks"].values())


def _shown(data: dict[str, Any] | None) -> dict[str, Any] | None:
    return {f: data.get(f) for f in FIELDS} if data else None


def identity(user_id: str) -> dict[str, Any]:
    """GET /me/identity: the tier, the checked data, the data being checked, each registry's answer, what the
    next tier needs, and the confirmation channels."""
    user, check = read(user_id)
    tier = user.get("tier") or "simplified"
    pending = None
    if check and not settled(check):
        pending = {"submitted_at": check["submitted_at"], "data": _shown(check["data"])}
    nxt = NEXT.get(tier)
    return {"tier": tier, "tier_title": TIER_TITLES[tier], "data": _shown(checked_data(user)), "pending": pending,
            "checks": checks_view(check),
            "next_tier": {"tier": nxt, "title": TIER_TITLES[nxt], "needs": NEEDS[nxt]} if nxt else None,
            "channels": confirmation.channels(user)}
