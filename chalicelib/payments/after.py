"""After the acquirer's word (PY-4), in the agency worker: the receipt, the debts' state, ГИС ГМП, refunds.

Each step is safe to repeat (the worker retries a failed event, and an event may come twice): the receipt is
recorded on the payment with `attribute_not_exists`, a lock changes only while it is this payment's, ГИС ГМП takes
the payment id as its idempotency key, and a refund goes to the acquirer with its own key.
"""

from __future__ import annotations

import contextlib
from typing import Any

from chalicelib.adapters import acquirer, gisgmp
from chalicelib.core import clock
from chalicelib.documents import issue
from chalicelib.events import catalog as events
from chalicelib.payments import receipt
from chalicelib.store import journal, keys, table
from chalicelib.store.table import ConditionFailed, Tx


def handle(event: dict[str, Any]) -> Any:
    data, kind = event["data"], event["type"]
    payment = table.get(keys.payment(data["user_id"], data["payment_id"]))
    if payment is None:
        return None
    if kind == events.PAYMENT_SUCCEEDED.name:
        return succeeded(payment)
    if kind in (events.PAYMENT_FAILED.name, events.PAYMENT_CANCELLED.name):
        return release(payment)
    if kind == events.PAYMENT_REFUND_DUE.name:
        return refund(payment, data["acquirer_ref"])
    return None


def succeeded(payment: dict[str, Any]) -> dict[str, Any]:
    if payment["status"] != "success":
        return {"skipped": payment["status"]}
    user_id, payment_id = payment["user_id"], payment["id"]
    if not payment.get("receipt_document_id"):
        tx = Tx()
        document = issue.issue(user_id, receipt.layout(payment), filename=f"Квитанция {payment_id}.pdf",
                               category="receipt", tx=tx)
        tx.update(keys.payment(user_id, payment_id), "SET receipt_document_id = :d",
                  cond="attribute_not_exists(receipt_document_id)", values={":d": document["id"]})
        with contextlib.suppress(ConditionFailed):  # lost to a repeat of this event; this copy's file is undone
            tx.commit()
    for item in payment["items"]:
        tx = Tx().update(keys.uin_lock(item["uin"]), "SET #st = :paid", cond="payment_id = :p",
                         names={"#st": "state"}, values={":paid": "paid", ":p": payment_id})
        tx.update(keys.debt_mark(user_id, item["uin"]), "SET #st = :paid, payment_id = :p, uin = :u",
                  names={"#st": "state"}, values={":paid": "paid", ":p": payment_id, ":u": item["uin"]})
        with contextlib.suppress(ConditionFailed):
            tx.commit()
    for item in payment["items"]:  # GisGmpUnavailable fails the event: the queue brings it back later
        gisgmp.report_payment(item["uin"], item["amount"], payment.get("paid_at") or clock.iso(clock.now()),
                              payment_id)
    return {"receipt": True, "reported": len(payment["items"])}


def release(payment: dict[str, Any]) -> dict[str, int]:
    """A payment that took no money frees its debts: each lock and mark, only while they are this payment's."""
    if payment["status"] not in ("failed", "cancelled"):
        return {"released": 0}
    released = 0
    for item in payment["items"]:
        tx = Tx().delete(keys.uin_lock(item["uin"]), cond="payment_id = :p AND #st = :paying",
                         names={"#st": "state"}, values={":p": payment["id"], ":paying": "paying"})
        tx.update(keys.debt_mark(payment["user_id"], item["uin"]), "REMOVE #st, payment_id",
                  cond="payment_id = :p", names={"#st": "state"}, values={":p": payment["id"]})
        try:
            tx.commit()
            released += 1
        except ConditionFailed:
            pass
    return {"released": released}


def refund(payment: dict[str, Any], acquirer_ref: str) -> dict[str, Any]:
    """Return a charge the payment cannot keep; the acquirer takes the refund item's key, so money goes back once."""
    user_id, payment_id = payment["user_id"], payment["id"]
    key = keys.refund(user_id, payment_id, acquirer_ref)
    item = table.get(key)
    if item is None or item["state"] == "done":
        return {"refunded": False}
    refund_id = acquirer.refund(acquirer_ref, item["amount"], f"{payment_id}:{acquirer_ref}")
    tx = Tx().update(key, "SET #st = :done, refund_id = :r", cond="#st = :due", names={"#st": "state"},
                     values={":done": "done", ":r": refund_id, ":due": "due"})
    if payment["status"] in ("failed", "cancelled"):
        tx.update(keys.payment(user_id, payment_id), "SET #st = :refunded, refunded_amount = :a, reason = :r",
                  cond="#st IN (:failed, :cancelled)", names={"#st": "status"},
                  values={":refunded": "refunded", ":a": item["amount"], ":r": "duplicate", ":failed": "failed",
                          ":cancelled": "cancelled"})
    else:
        tx.update(keys.payment(user_id, payment_id), "SET refunded_amount = if_not_exists(refunded_amount, :z) + :a",
                  values={":z": 0, ":a": item["amount"]})
    journal.emit(tx, events.PAYMENT_REFUNDED, keys.user_pk(user_id), {
        "user_id": user_id, "payment_id": payment_id, "amount": item["amount"],
        "title": receipt.what(payment), "status": "refunded", "reason": "duplicate", "acquirer_ref": acquirer_ref})
    journal.audit(tx, keys.user_pk(user_id), events.PAYMENT_REFUNDED.name, "system", None, payment_id=payment_id,
                  acquirer_ref=acquirer_ref, amount=item["amount"], refund_id=refund_id)
    try:
        tx.commit()
    except ConditionFailed:
        return {"refunded": False}
    return {"refunded": True}
