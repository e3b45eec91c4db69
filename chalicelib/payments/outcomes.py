"""What the acquirer says about a payment, however it arrives: a signed webhook, our poll, or the reconciliation
schedule; in any order, any number of times.

- A state only moves forward: a final state (success, failed, cancelled, refunded) is never left for another one,
  so a late "pending" or a "failed" after "success" changes nothing.
- A webhook is one transaction and no read: the order id addresses the payment, the event id is recorded with
  `attribute_not_exists` (a replay is refused), and the update's condition is the state machine.
- Money that arrives for a payment that can no longer take it (cancelled, failed, or already paid by another
  charge) is refunded: the refund is an item of its own per charge (`REFUND#<payment>#<charge>`), so a second
  success webhook cannot return the money twice; the agency worker asks the acquirer (with the refund item's key).
"""

from __future__ import annotations

import contextlib
from typing import Any

from chalicelib.adapters import acquirer
from chalicelib.core import clock
from chalicelib.core.errors import Conflict
from chalicelib.events import catalog as events
from chalicelib.payments import cards, receipt
from chalicelib.store import journal, keys, table
from chalicelib.store.table import ConditionFailed, TransactionConflict, Tx

EVENT_TTL = 30 * 86400
UNKNOWN_RETRY = 300  # status_unknown: the schedule asks the acquirer again after this


def apply(user_id: str, payment_id: str, outcome: acquirer.Outcome, event_id: str | None = None) -> str:
    """Apply an outcome: "applied" or "ignored" (not newer than what we know). A replayed event id → 409."""
    if outcome.status not in ("success", "failed"):
        return "ignored"
    key = keys.payment(user_id, payment_id)
    tx = Tx()
    if event_id:
        pk, sk = keys.acquirer_event(event_id)
        tx.put({"pk": pk, "sk": sk, "order_id": outcome.order_id, "status": outcome.status,
                "ttl": clock.epoch() + EVENT_TTL}, cond="attribute_not_exists(pk)", tag="replay")
    now = clock.iso(clock.now())
    open_states = {":confirmed": "confirmed", ":started": "started", ":unknown": "status_unknown",
                   ":ref": outcome.ref}
    cond = "#st IN (:confirmed, :started, :unknown) AND (attribute_not_exists(acquirer_ref) OR acquirer_ref = :ref)"
    data = {"user_id": user_id, "payment_id": payment_id, "amount": outcome.amount, "title": "",
            "status": outcome.status, "acquirer_ref": outcome.ref}
    if outcome.status == "success":
        values = {**open_states, ":s": "success", ":t": True, ":at": outcome.finished_at or now,
                  ":charged": outcome.amount}
        expr = "SET #st = :s, finished = :t, paid_at = :at, acquirer_ref = :ref, charged = :charged"
        if outcome.card:
            expr += ", card_mask = :mask"
            values[":mask"] = outcome.card.mask
            cards.save(tx, user_id, outcome.card)
        tx.update(key, expr + " REMOVE gsi1pk, gsi1sk", cond=cond, names={"#st": "status"}, values=values,
                  tag="state")
        journal.emit(tx, events.PAYMENT_SUCCEEDED, keys.user_pk(user_id), data)
    else:
        values = {**open_states, ":s": "failed", ":t": True, ":r": outcome.reason or "declined"}
        tx.update(key, "SET #st = :s, finished = :t, reason = :r, acquirer_ref = :ref REMOVE gsi1pk, gsi1sk",
                  cond=cond, names={"#st": "status"}, values=values, tag="state")
        journal.emit(tx, events.PAYMENT_FAILED, keys.user_pk(user_id), {**data, "reason": outcome.reason})
    action = events.PAYMENT_SUCCEEDED if outcome.status == "success" else events.PAYMENT_FAILED
    journal.audit(tx, keys.user_pk(user_id), action.name, "acquirer", None, payment_id=payment_id,
                  acquirer_ref=outcome.ref, event_id=event_id)
    try:
        tx.commit()
    except ConditionFailed as exc:
        if exc.tag == "replay":
            raise Conflict("WEBHOOK_REPLAYED", "Это уведомление уже получено") from None
        return _late(user_id, payment_id, exc.old, outcome, event_id)
    except TransactionConflict:
        raise Conflict("PAYMENT_BUSY", "Платёж сейчас обновляется, повторите") from None
    return "applied"


def _late(user_id: str, payment_id: str, old: dict[str, Any] | None, outcome: acquirer.Outcome,
          event_id: str | None) -> str:
    """The outcome lost the state machine's condition. Money taken where it cannot stay is refunded."""
    if old is None or outcome.status != "success":
        return "ignored"
    if old["status"] == "success" and old.get("acquirer_ref") == outcome.ref:
        return "ignored"  # the same charge told twice
    if old["status"] in ("created", "confirmed", "started", "status_unknown"):
        return "ignored"  # another charge than the one this payment started (an attacker's replay at best)
    refund_pk, refund_sk = keys.refund(user_id, payment_id, outcome.ref)
    tx = Tx().put({"pk": refund_pk, "sk": refund_sk, "payment_id": payment_id, "acquirer_ref": outcome.ref,
                   "amount": outcome.amount, "state": "due", "at": clock.iso(clock.now())},
                  cond="attribute_not_exists(pk)", tag="refund")
    if event_id:
        pk, sk = keys.acquirer_event(event_id)
        tx.put({"pk": pk, "sk": sk, "order_id": outcome.order_id, "status": "refund_due",
                "ttl": clock.epoch() + EVENT_TTL}, cond="attribute_not_exists(pk)", tag="replay")
    journal.emit(tx, events.PAYMENT_REFUND_DUE, keys.user_pk(user_id), {
        "user_id": user_id, "payment_id": payment_id, "amount": outcome.amount, "title": receipt.what(old),
        "status": old["status"], "reason": "duplicate", "acquirer_ref": outcome.ref})
    journal.audit(tx, keys.user_pk(user_id), events.PAYMENT_REFUND_DUE.name, "system", None, payment_id=payment_id,
                  acquirer_ref=outcome.ref, amount=outcome.amount)
    try:
        tx.commit()
    except ConditionFailed as exc:
        if exc.tag == "replay":
            raise Conflict("WEBHOOK_REPLAYED", "Это уведомление уже получено") from None
        return "ignored"  # this charge's refund is already due
    return "applied"


def webhook(headers: dict[str, str], body: bytes) -> dict[str, str]:
    """`POST /payments/acquirer/webhook`: signed by the acquirer, fresh, not seen before."""
    try:
        event = acquirer.verify_webhook(headers, body, now=clock.now().timestamp())
    except acquirer.WebhookRefused as exc:
        from chalicelib.core.errors import Unauthorized

        raise Unauthorized("WEBHOOK_REFUSED", "Подпись уведомления не прошла проверку",
                           reason=str(exc)[:200]) from None
    order = keys.payment_from_order(event.outcome.order_id)
    if order is None:
        return {"status": "ignored"}
    if order[1].startswith(cards.BIND_PREFIX):
        return {"status": cards.bound(order[0], event.outcome)}
    return {"status": apply(order[0], order[1], event.outcome, event.event_id)}


def poll(payment: dict[str, Any]) -> dict[str, Any]:
    """Ask the acquirer about a started payment (its page, the schedule). Unavailable → status_unknown."""
    if payment["status"] not in ("started", "status_unknown") or not payment.get("acquirer_ref"):
        return payment
    user_id, payment_id = payment["user_id"], payment["id"]
    try:
        outcome = acquirer.status(payment["acquirer_ref"])
    except acquirer.AcquirerUnavailable:
        _unknown(payment)
        return table.get(keys.payment(user_id, payment_id)) or payment
    if outcome.status == "pending":
        if clock.now() >= clock.from_iso(payment["expires_at"]):
            _unknown(payment)
        return table.get(keys.payment(user_id, payment_id)) or payment
    with contextlib.suppress(Conflict):
        apply(user_id, payment_id, outcome)
    return table.get(keys.payment(user_id, payment_id)) or payment


def _unknown(payment: dict[str, Any]) -> None:
    """No answer, or none in time: the outcome is not known; the schedule asks again every five minutes."""
    retry = clock.iso(clock.from_epoch(clock.epoch() + UNKNOWN_RETRY))
    with contextlib.suppress(ConditionFailed, TransactionConflict):
        Tx().update(keys.payment(payment["user_id"], payment["id"]),
                    "SET #st = :unknown, gsi1pk = :open, gsi1sk = :sort", cond="#st IN (:started, :unknown)",
                    names={"#st": "status"},
                    values={":unknown": "status_unknown", ":started": "started", ":open": keys.PAYMENTS_OPEN,
                            ":sort": keys.payment_open_sort(retry, payment["user_id"], payment["id"])}).commit()


def expire(payment: dict[str, Any]) -> bool:
    """A payment never confirmed (or never started) in time is cancelled; its debts are free again."""
    if payment["status"] not in ("created", "confirmed"):
        return False
    tx = Tx().update(keys.payment(payment["user_id"], payment["id"]),
                     "SET #st = :cancelled, finished = :t, reason = :r REMOVE gsi1pk, gsi1sk, code_hash",
                     cond="#st = :was", names={"#st": "status"},
                     values={":cancelled": "cancelled", ":t": True, ":r": "expired", ":was": payment["status"]})
    journal.emit(tx, events.PAYMENT_CANCELLED, keys.user_pk(payment["user_id"]), {
        "user_id": payment["user_id"], "payment_id": payment["id"], "amount": payment["amount"],
        "title": receipt.what(payment), "status": "cancelled", "reason": "expired"})
    journal.audit(tx, keys.user_pk(payment["user_id"]), events.PAYMENT_CANCELLED.name, "system", None,
                  payment_id=payment["id"], reason="expired")
    try:
        tx.commit()
    except (ConditionFailed, TransactionConflict):
        return False
    return True


def sweep(limit: int = 200) -> dict[str, int]:
    """The schedule (every 5 minutes): unfinished payments past their deadline are expired or asked about."""
    now = clock.iso(clock.now())
    page = table.query(keys.PAYMENTS_OPEN, index="GSI1", sk_between=("0", f"{now}~"), limit=limit,
                       newest_first=False)
    expired = polled = 0
    for payment in page.items:
        if payment["status"] in ("created", "confirmed"):
            expired += expire(payment)
        else:
            poll(payment)
            polled += 1
    return {"payments_expired": expired, "payments_polled": polled}
