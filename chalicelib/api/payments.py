"""Debts and payments (PY-1..PY-5): `/payments…` for the signed-in person, the acquirer's webhook, saved cards."""

from __future__ import annotations

from typing import Any

from chalice import Blueprint, Response

from chalicelib.adapters.acquirer import WEBHOOK_PATH
from chalicelib.api.http import Call, Content, endpoint, json_response
from chalicelib.payments import cards, debts, disputes, exports, history, outcomes, payments
from chalicelib.payments.models import (
    IDEMPOTENCY_PATTERN,
    UIN_PATTERN,
    CardsOut,
    ConfirmIn,
    DebtsOut,
    DebtsQuery,
    DisputeIn,
    DisputeOut,
    HistoryQuery,
    PaymentIn,
    PaymentOut,
    PaymentsOut,
    StartedOut,
    WebhookOut,
)

bp = Blueprint(__name__)
IDEMPOTENCY_HEADER = {payments.HEADER: {
    "required": True, "schema": {"type": "string", "pattern": IDEMPOTENCY_PATTERN, "minLength": 1, "maxLength": 255},
    "description": "Ключ повтора: тот же ключ и то же тело в течение суток вернут тот же платёж (200)"}}


def _query(call: Call, model: type) -> dict[str, Any]:
    return model.model_validate(call.query).model_dump(exclude_none=True)  # type: ignore[attr-defined]


# Typed identifiers: separators and keyboard layouts are forgiven, checksums are checked (adapters/gisgmp.py).
PERIOD = {"from": "не позже даты «по»"}
TYPED = {k: "формат номера и контрольная цифра УИН проверяются сервером (docs/gisgmp.md)"
         for k in ("driving_licence", "vehicle_certificate", "utility_account", "uin")}


@endpoint(bp, "GET", "/payments/debts", summary="Debts found by the profile's INN and SNILS, or by a typed number",
          query=DebtsQuery, response=DebtsOut, checked=TYPED, tag="payments")
def list_debts(call: Call) -> dict[str, Any]:
    return debts.list_debts(call.user_id, _query(call, DebtsQuery))


@endpoint(bp, "POST", "/payments/debts/{uin}/dispute", summary="Appeal a traffic fine to Госавтоинспекция",
          body=DisputeIn, response=DisputeOut, status=201,
          checked={"attachments": "свои проверенные документы тех категорий, что нужны услуге обжалования"},
          path_schemas={"uin": {"type": "string", "pattern": UIN_PATTERN}}, tag="payments")
def dispute(call: Call, body: DisputeIn, uin: str) -> dict[str, Any]:
    assert call.principal is not None
    return disputes.dispute(call.principal, uin, body.grounds, body.attachments, call.origin)


@endpoint(bp, "POST", "/payments", summary="Pay debts: the amount from ГИС ГМП, a code to confirm, once per key",
          body=PaymentIn, response=PaymentOut, status=201, headers=IDEMPOTENCY_HEADER,
          checked={"uins": "контрольная цифра каждого УИН и само начисление в ГИС ГМП проверяются сервером"},
          also={200: "Тот же платёж: повтор с тем же ключом Idempotency-Key и тем же телом"}, tag="payments")
def create(call: Call, body: PaymentIn) -> Response:
    payment, status = payments.create(call.user_id, body.model_dump(), call.header(payments.HEADER), call.origin)
    return json_response(payment, status)


@endpoint(bp, "GET", "/payments", summary="Payment history, newest first: period, kind, status",
          query=HistoryQuery, response=PaymentsOut, checked=PERIOD, tag="payments")
def list_payments(call: Call) -> dict[str, Any]:
    return history.page(call.user_id, _query(call, HistoryQuery))


def _file(body: str | bytes, media_type: str, name: str) -> Response:
    return Response(body=body, status_code=200, headers={
        "Content-Type": media_type, "Content-Disposition": f'attachment; filename="{name}"'})


_CSV = "text/csv; charset=utf-8"
_XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


@endpoint(bp, "GET", "/payments/debts.csv", summary="The debts as CSV (UTF-8, «;»), with the list's filters",
          query=DebtsQuery, response=Content("text/csv", description="CSV в UTF-8 с BOM, разделитель «;»"),
          checked=TYPED, tag="payments")
def debts_csv(call: Call) -> Response:
    return _file(exports.debts_csv(call.user_id, _query(call, DebtsQuery)), _CSV, "debts.csv")


@endpoint(bp, "GET", "/payments/debts.pdf", summary="The debts as a signed PDF", query=DebtsQuery, checked=TYPED,
          response=Content("application/pdf", binary=True, description="PDF, подписанный системой"), tag="payments")
def debts_pdf(call: Call) -> Response:
    return _file(exports.debts_pdf(call.user_id, _query(call, DebtsQuery)), "application/pdf", "debts.pdf")


@endpoint(bp, "GET", "/payments/history.csv", summary="Payment history as CSV, with the history's filters",
          query=HistoryQuery, response=Content("text/csv", description="CSV в UTF-8 с BOM, до 1000 платежей"),
          checked=PERIOD, tag="payments")
def history_csv(call: Call) -> Response:
    return _file(exports.history_csv(call.user_id, _query(call, HistoryQuery)), _CSV, "payments.csv")


@endpoint(bp, "GET", "/payments/history.xlsx", summary="Payment history as XLSX", query=HistoryQuery, checked=PERIOD,
          response=Content(_XLSX, binary=True, description="Книга Excel: одна строка на начисление"), tag="payments")
def history_xlsx(call: Call) -> Response:
    return _file(exports.history_xlsx(call.user_id, _query(call, HistoryQuery)), _XLSX, "payments.xlsx")


@endpoint(bp, "GET", "/payments/history.pdf", summary="Payment history as a signed PDF", query=HistoryQuery,
          checked=PERIOD,
          response=Content("application/pdf", binary=True, description="PDF, подписанный системой"), tag="payments")
def history_pdf(call: Call) -> Response:
    return _file(exports.history_pdf(call.user_id, _query(call, HistoryQuery)), "application/pdf", "payments.pdf")


@endpoint(bp, "GET", "/payments/{payment_id}", summary="A payment; a started one is asked about at the acquirer",
          response=PaymentOut, tag="payments")
def get_payment(call: Call, payment_id: str) -> dict[str, Any]:
    return payments.view(payments.current(call.user_id, payment_id))


@endpoint(bp, "POST", "/payments/{payment_id}/confirm", summary="Confirm with the SMS or authenticator code",
          body=ConfirmIn, response=PaymentOut, limited=True, tag="payments")
def confirm(call: Call, body: ConfirmIn, payment_id: str) -> dict[str, Any]:
    return payments.confirm(call.user_id, payment_id, body.code, call.origin)


@endpoint(bp, "POST", "/payments/{payment_id}/start", summary="Go to the acquirer again (it did not answer)",
          response=StartedOut, tag="payments")
def start(call: Call, payment_id: str) -> dict[str, Any]:
    return payments.start(call.user_id, payment_id, call.origin)


@endpoint(bp, "POST", "/payments/{payment_id}/cancel", summary="Give up before paying: the debts are free again",
          response=PaymentOut, tag="payments")
def cancel(call: Call, payment_id: str) -> dict[str, Any]:
    return payments.cancel(call.user_id, payment_id, call.origin)


@endpoint(bp, "POST", WEBHOOK_PATH, summary="The acquirer's signed outcome (HMAC over the timestamp and body)",
          auth=False, raw=("application/json",), response=WebhookOut, tag="payments")
def webhook(call: Call, body: bytes) -> dict[str, Any]:
    return outcomes.webhook(call.headers, body)


@endpoint(bp, "GET", "/me/cards", summary="Saved cards: the acquirer's token stays with us, you see the mask",
          response=CardsOut, tag="payments")
def list_cards(call: Call) -> dict[str, Any]:
    return {"items": cards.listed(call.user_id)}


@endpoint(bp, "POST", "/me/cards", summary="Save a card at the acquirer's page (no payment)",
          response=StartedOut, status=201, tag="payments")
def add_card(call: Call) -> dict[str, Any]:
    return cards.add(call.user_id, call.origin)


@endpoint(bp, "DELETE", "/me/cards/{card_id}", summary="Forget a saved card", status=204, tag="payments")
def remove_card(call: Call, card_id: str) -> None:
    cards.remove(call.user_id, card_id, call.origin)
