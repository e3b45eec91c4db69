"""«Платежи» in the browser (PY-1..PY-5): the debts with filters and a search by a typed number, paying the chosen
ones, confirming with a code, the way to the acquirer and back, the outcome, the history, saved cards.

The same domain calls as chalicelib/api/payments.py (GET /payments/debts, POST /payments, /confirm, /start,
/cancel, GET /payments, /me/cards…); the pages live under `/pay…` so they never share a path with the API.

The pay form carries its own Idempotency-Key in a hidden field, made when the form is drawn: a double click or a
browser's retry of the same form sends the same key and the same body, so the domain answers the same payment.
"""

from __future__ import annotations

import re
import time
import urllib.parse
import uuid
from typing import Any

from chalice import Blueprint
from pydantic import ValidationError

from chalicelib.core import clock
from chalicelib.core.errors import Conflict, DomainError, Invalid, not_found
from chalicelib.core.ids import is_id
from chalicelib.documents import library
from chalicelib.payments import cards, debts, disputes, exports, history, money, payments, rules
from chalicelib.payments.models import (
    IDEMPOTENCY_PATTERN,
    UIN_PATTERN,
    ConfirmIn,
    DebtsQuery,
    DisputeIn,
    HistoryQuery,
    PaymentIn,
)
from chalicelib.web.pages import Download, Page, Redirect, Visit, attempt, form_errors, invalid, page

bp = Blueprint(__name__)
KINDS = {"tax": "Налоги", "fine": "Штрафы", "duty": "Госпошлины", "utility": "ЖКУ"}
DEBT_STATUSES = {"active": "К оплате", "partly_paid": "Оплачено частично", "closed": "Оплачено"}
METHODS = {"card": "Банковская карта", "sbp": "СБП (Система быстрых платежей)", "wallet": "Электронный кошелёк",
           "bank_transfer": "Банковский перевод"}
STATUSES = {"created": "Ждёт подтверждения", "confirmed": "Подтверждён", "started": "Ожидает оплаты",
            "success": "Оплачено", "failed": "Не оплачено", "cancelled": "Отменён", "status_unknown": "Уточняется",
            "refunded": "Деньги возвращены"}
GROUPS = {"successful": "Успешные", "rejected": "Отклонённые", "processing": "В обработке"}
FILTERS = ("kind", "from", "to", "status")
SEARCH = debts.TYPED  # driving_licence, vehicle_certificate, utility_account, uin
HISTORY_FILTERS = ("from", "to", "kind", "status")
IN_FLIGHT_WAIT = (0.1, 0.2, 0.3, 0.5, 0.8, 1.0)  # a double submit's second request waits for the first's payment
SAVED = "card:"  # a saved card's radio value: `card:<card id>`
EXPORTS = {"debts": ("csv", "pdf"), "history": ("csv", "xlsx", "pdf")}
TYPES = {"csv": "text/csv; charset=utf-8", "pdf": "application/pdf",
         "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"}


def moment(value: str | None) -> str:
    """A timestamp as a person in Moscow reads it: DD.MM.YYYY HH:MM."""
    return clock.from_iso(value).astimezone(clock.MSK).strftime("%d.%m.%Y %H:%M") if value else ""


def _helpers() -> dict[str, Any]:
    return {"rub": money.rub, "moment": moment, "kinds": KINDS, "methods": METHODS, "statuses": STATUSES,
            "debt_statuses": DEBT_STATUSES, "groups": GROUPS}


def _new_key() -> str:
    return str(uuid.uuid4())


# -- the debts ---------------------------------------------------------------------------------------------------

def _debts_query(visit: Visit) -> dict[str, str]:
    return {k: visit.query.get(k, "").strip() for k in (*FILTERS, *SEARCH)}


def _debts_context(visit: Visit, chosen: dict[str, str]) -> dict[str, Any]:
    plain = {k: v for k, v in chosen.items() if v}
    return {"active": "pay", **_helpers(), "chosen": chosen, "errors": None, "pay_errors": None, "items": [],
            "groups_of": [], "limits": rules.limits(), "unavailable": False, "cards": [], "form": {},
            "key": _new_key(), "action": "/pay" + ("?" + urllib.parse.urlencode(plain) if plain else ""),
            "exports": _export_links("debts", plain), "search_fields": SEARCH}


def _export_links(what: str, plain: dict[str, str]) -> dict[str, str]:
    suffix = "?" + urllib.parse.urlencode(plain) if plain else ""
    return {n: f"/pay/{what}.{n}{suffix}" for n in EXPORTS[what]}


def _list(visit: Visit, context: dict[str, Any]) -> bool:
    chosen = context["chosen"]
    query = {k: v for k, v in chosen.items() if v}

    def listing() -> dict[str, Any]:
        return debts.list_debts(visit.user_id, DebtsQuery.model_validate(query).model_dump(exclude_none=True))

    found = attempt(visit, context, listing)
    if found is None:
        return False
    context.update(items=found["items"], limits=found["limits"], unavailable=found["unavailable"],
                   groups_of=[(kind, [d for d in found["items"] if d["kind"] == kind]) for kind in KINDS
                              if any(d["kind"] == kind for d in found["items"])])
    return True


@page(bp, "/pay", methods=("GET", "POST"), role="citizen")
def debts_page(visit: Visit) -> Page | Redirect:
    context = _debts_context(visit, _debts_query(visit))
    context["cards"] = cards.listed(visit.user_id)
    if visit.method == "POST":
        context["form"] = {"uins": visit.lists.get("uins", []), "method": visit.form.get("method", ""),
                           "save_card": visit.form.get("save_card") == "1"}
        done = _pay(visit, context)
        if done is not None:
            return done
        _list(visit, context)
        return Page("pay.html", context, 400)
    ok = _list(visit, context)
    return Page("pay.html", context, 200 if ok else 400)


def _pay(visit: Visit, context: dict[str, Any]) -> Redirect | None:
    """"Оплатить выбранные": the body as the API's, the form's own key; a refusal lands in `pay_errors`."""
    key = visit.form.get("key", "")
    context["key"] = key if key and len(key) <= 255 and _key_ok(key) else _new_key()
    uins = [u.strip() for u in visit.lists.get("uins", []) if u.strip()]
    chosen = visit.form.get("method", "")
    fields: dict[str, str] = {}
    if not uins:
        fields["uins"] = visit._("Выберите хотя бы одно начисление")
    if not chosen:
        fields["method"] = visit._("Выберите способ оплаты")
    if fields:
        context["pay_errors"] = {"message": visit._("Проверьте введённые данные"), "fields": fields}
        return None
    method, card_id = ("card", chosen[len(SAVED):]) if chosen.startswith(SAVED) else (chosen, None)
    body: dict[str, Any] = {"uins": uins, "method": method, "save_card": visit.form.get("save_card") == "1"
                            and card_id is None}
    if card_id:
        body["card_id"] = card_id
    try:
        checked = PaymentIn.model_validate(body).model_dump()
        created, _ = _create(visit, checked, context["key"])
    except ValidationError as exc:
        context["pay_errors"] = _pay_fields(invalid(exc, visit.lang))
        return None
    except DomainError as exc:
        context["pay_errors"] = _pay_fields(form_errors(exc, visit.lang))
        if exc.code == "IDEMPOTENCY_KEY_REUSED":
            context["key"] = _new_key()
        if exc.code == "DEBT_BEING_PAID" and exc.extra.get("payment_id"):
            context["pay_errors"]["payment_id"] = exc.extra["payment_id"]
        return None
    return Redirect(f"/pay/{created['id']}")


def _key_ok(key: str) -> bool:
    return re.fullmatch(IDEMPOTENCY_PATTERN, key) is not None


def _create(visit: Visit, body: dict[str, Any], key: str) -> tuple[dict[str, Any], int]:
    """The domain's create; the second request of a double submit waits for the first one's payment."""
    for pause in (*IN_FLIGHT_WAIT, None):
        try:
            return payments.create(visit.user_id, body, key, visit.origin)
        except Conflict as exc:
            if exc.code != "IDEMPOTENCY_IN_FLIGHT" or pause is None:
                raise
            time.sleep(pause)
    raise AssertionError("unreachable")


def _pay_fields(errors: dict[str, Any]) -> dict[str, Any]:
    """The domain names `uins.0`, `card_id`, `Idempotency-Key`; the form has the checkboxes and the method."""
    renamed: dict[str, str] = {}
    for name, reason in (errors.get("fields") or {}).items():
        target = "uins" if name.startswith("uins") else "method" if name in ("card_id", "save_card") else name
        renamed.setdefault(target, reason)
    return {**errors, "fields": renamed}


# -- one payment -------------------------------------------------------------------------------------------------

def _payment(visit: Visit, payment_id: str) -> dict[str, Any]:
    if not is_id(payment_id):
        raise not_found("Платёж")
    return payments.view(payments.current(visit.user_id, payment_id))


def _payment_page(visit: Visit, payment_id: str, errors: dict[str, Any] | None = None, status: int = 200,
                  p: dict[str, Any] | None = None) -> Page:
    p = p or _payment(visit, payment_id)
    return Page("pay_payment.html", {"active": "pay", **_helpers(), "p": p, "errors": errors,
                                     "returned": bool(visit.query.get("ref")),
                                     "notice": visit.query.get("done", "")}, status)


@page(bp, "/pay/{payment_id}", role="citizen")
def payment(visit: Visit, payment_id: str) -> Page:
    return _payment_page(visit, payment_id)


@page(bp, "/pay/{payment_id}/confirm", methods=("POST",), role="citizen")
def confirm(visit: Visit, payment_id: str) -> Page | Redirect:
    code = visit.form.get("code", "").strip().replace(" ", "")
    try:
        ConfirmIn.model_validate({"code": code})
        payments.confirm(visit.user_id, payment_id, code, visit.origin)
    except ValidationError as exc:
        return _payment_page(visit, payment_id, invalid(exc, visit.lang), 400)
    except Invalid as exc:
        return _payment_page(visit, payment_id, form_errors(exc, visit.lang), 400)
    except Conflict as exc:
        if exc.code == "PAYMENT_CANCELLED":
            return Redirect(f"/pay/{payment_id}")
        return _payment_page(visit, payment_id, form_errors(exc, visit.lang), 409)
    except DomainError as exc:
        if exc.code == "NOT_FOUND":
            raise
        return _payment_page(visit, payment_id, form_errors(exc, visit.lang), 409)
    return Redirect(f"/pay/{payment_id}?done=confirmed")


@page(bp, "/pay/{payment_id}/start", methods=("POST",), role="citizen")
def start(visit: Visit, payment_id: str) -> Page | Redirect:
    """A confirmed payment whose acquirer did not answer at confirmation: off to the acquirer's page now."""
    context: dict[str, Any] = {}
    started = attempt(visit, context, lambda: payments.start(visit.user_id, payment_id, visit.origin))
    if started is None:
        return _payment_page(visit, payment_id, context["errors"], 503)
    return Redirect(started["redirect_url"])


@page(bp, "/pay/{payment_id}/cancel", methods=("POST",), role="citizen")
def cancel(visit: Visit, payment_id: str) -> Page | Redirect:
    context: dict[str, Any] = {}
    if attempt(visit, context, lambda: payments.cancel(visit.user_id, payment_id, visit.origin)) is None:
        return _payment_page(visit, payment_id, context["errors"], 409)
    return Redirect(f"/pay/{payment_id}?done=cancelled")


# -- disputing a fine --------------------------------------------------------------------------------------------

def _fine(visit: Visit, uin: str) -> dict[str, Any]:
    """One of the person's fines as the debts list shows it (found by the profile's SNILS or a typed licence)."""
    if not re.fullmatch(UIN_PATTERN, uin):
        raise not_found("Штраф")
    try:
        found = debts.list_debts(visit.user_id, {"uin": uin})["items"]
    except Invalid:  # a УИН whose control digit does not fit names no fine
        raise not_found("Штраф") from None
    fine = next((d for d in found if d["uin"] == uin and d["kind"] == "fine"), None)
    if fine is None:
        raise not_found("Штраф")
    return fine


def _dispute_page(visit: Visit, uin: str, errors: dict[str, Any] | None = None, status: int = 200) -> Page:
    return Page("pay_dispute.html", {
        "active": "pay", **_helpers(), "fine": _fine(visit, uin), "errors": errors,
        "documents": library.list_documents(visit.user_id, {"status": "available"})["items"],
        "grounds": visit.form.get("grounds", ""), "attached": visit.lists.get("attachments", [])}, status)


@page(bp, "/pay/fines/{uin}/dispute", methods=("GET", "POST"), role="citizen")
def dispute(visit: Visit, uin: str) -> Page | Redirect:
    """The appeal against a fine: the grounds and one's own documents; it becomes an application (PY-2)."""
    if visit.method != "POST":
        return _dispute_page(visit, uin)
    principal = visit.principal
    assert principal is not None
    body = {"grounds": visit.form.get("grounds", "").strip(),
            "attachments": [a for a in visit.lists.get("attachments", []) if a]}

    def file() -> dict[str, Any]:
        checked = DisputeIn.model_validate(body)
        return disputes.dispute(principal, uin, checked.grounds, checked.attachments, visit.origin)

    context: dict[str, Any] = {}
    filed = attempt(visit, context, file)
    if filed is None:
        return _dispute_page(visit, uin, context["errors"], 400)
    return Redirect(f"/applications/{filed['request_id']}?done=submitted")


# -- the history -------------------------------------------------------------------------------------------------

def _history_query(visit: Visit, with_cursor: bool) -> dict[str, Any]:
    query = {k: visit.query.get(k, "").strip() for k in HISTORY_FILTERS}
    query = {k: v for k, v in query.items() if v}
    if with_cursor and visit.query.get("cursor"):
        query["cursor"] = visit.query["cursor"]
    return HistoryQuery.model_validate(query).model_dump(exclude_none=True)


def _history_context(visit: Visit) -> dict[str, Any]:
    shown = {k: visit.query.get(k, "").strip() for k in HISTORY_FILTERS}
    plain = {k: v for k, v in shown.items() if v}
    return {"active": "pay", **_helpers(), "chosen": shown, "errors": None, "items": [], "more": None,
            "exports": _export_links("history", plain)}


@page(bp, "/pay/history", role="citizen")
def history_page(visit: Visit) -> Page:
    context = _history_context(visit)
    query = attempt(visit, context, lambda: _history_query(visit, with_cursor=True))
    found = None if query is None else attempt(visit, context, lambda: history.page(visit.user_id, query))
    if query is None or found is None:
        return Page("pay_history.html", context, 400)
    context["items"] = found["items"]
    if found["cursor"]:
        plain = {k: v for k, v in context["chosen"].items() if v}
        context["more"] = "/pay/history?" + urllib.parse.urlencode({**plain, "cursor": found["cursor"]})
    return Page("pay_history.html", context)


def _export(visit: Visit, what: str, fmt: str) -> Page | Download:
    """A file of the history or the debts (chalicelib/payments/exports.py) with the page's filters, as the API's
    GET /payments/history.csv… serve it; bad filters show the page with its errors."""
    try:
        if what == "history":
            query = _history_query(visit, with_cursor=False)
        else:
            raw = {k: v for k, v in _debts_query(visit).items() if v}
            query = DebtsQuery.model_validate(raw).model_dump(exclude_none=True)
        body = getattr(exports, f"{what}_{fmt}")(visit.user_id, query)
    except (ValidationError, DomainError) as exc:
        errors = invalid(exc, visit.lang) if isinstance(exc, ValidationError) else form_errors(exc, visit.lang)
        if what == "history":
            return Page("pay_history.html", {**_history_context(visit), "errors": errors}, 400)
        return Page("pay.html", {**_debts_context(visit, _debts_query(visit)), "errors": errors}, 400)
    return Download(body, TYPES[fmt], f"{'payments' if what == 'history' else 'debts'}.{fmt}")


@page(bp, "/pay/history.csv", role="citizen")
def history_csv(visit: Visit) -> Page | Download:
    return _export(visit, "history", "csv")


@page(bp, "/pay/history.xlsx", role="citizen")
def history_xlsx(visit: Visit) -> Page | Download:
    return _export(visit, "history", "xlsx")


@page(bp, "/pay/history.pdf", role="citizen")
def history_pdf(visit: Visit) -> Page | Download:
    return _export(visit, "history", "pdf")


@page(bp, "/pay/debts.csv", role="citizen")
def debts_csv(visit: Visit) -> Page | Download:
    return _export(visit, "debts", "csv")


@page(bp, "/pay/debts.pdf", role="citizen")
def debts_pdf(visit: Visit) -> Page | Download:
    return _export(visit, "debts", "pdf")


# -- saved cards -------------------------------------------------------------------------------------------------

def _cards_page(visit: Visit, errors: dict[str, Any] | None = None, status: int = 200) -> Page:
    return Page("pay_cards.html", {"active": "pay", "cards": cards.listed(visit.user_id), "errors": errors,
                                   "returned": bool(visit.query.get("ref")),
                                   "removed": visit.query.get("removed") == "1"}, status)


@page(bp, "/pay/cards", role="citizen")
def cards_page(visit: Visit) -> Page:
    return _cards_page(visit)


@page(bp, "/pay/cards/add", methods=("POST",), role="citizen")
def add_card(visit: Visit) -> Page | Redirect:
    context: dict[str, Any] = {}
    started = attempt(visit, context, lambda: cards.add(visit.user_id, visit.origin))
    if started is None:
        return _cards_page(visit, context["errors"], 503)
    return Redirect(started["redirect_url"])


@page(bp, "/pay/cards/{card_id}/remove", methods=("POST",), role="citizen")
def remove_card(visit: Visit, card_id: str) -> Page | Redirect:
    context: dict[str, Any] = {}
    attempt(visit, context, lambda: cards.remove(visit.user_id, card_id, visit.origin))  # None either way
    if context.get("errors"):
        return _cards_page(visit, context["errors"], 404)
    return Redirect("/pay/cards?removed=1")
