"""Paying debts (PY-3): one payment for one or more УИН, confirmed by a second factor, charged exactly once.

- **Idempotency-Key** (Stripe's rules): the key is claimed with a conditional put *before* any work, so a second
  call with it while the first is in flight sees the claim (409); the creating transaction marks it done with the
  payment id. Same key and same body within 24 h → the original payment (200); another body → 409; after 24 h
  the key is free again (its TTL, checked in the condition: DynamoDB deletes expired items late). A refused
  first call (a closed debt, a limit) releases its claim, so the same key may be sent again once fixed.
- **Once per УИН.** The creating transaction puts `UIN#<uin>/LOCK` with `attribute_not_exists`: of two payments
  of one debt (two tabs, two people), one goes ahead and the other is refused before anything is charged. A
  failed, cancelled or expired payment releases its locks (the agency worker, on its event); a paid one keeps them.
- **The amount** is computed from ГИС ГМП's charges (the fine discount included), never taken from the client,
  and checked against the method's limit per operation.
- **Confirmation** by TOTP when the account has it, else a code by SMS (or e-mail) that names the amount. A code
  is compared only by a request whose write then wins `attempts = :seen`, so parallel guesses reveal one answer per
  counted attempt; the third wrong code cancels the payment.
"""

from __future__ import annotations

import contextlib
import hashlib
import hmac
import json
import re
from typing import Any

from chalicelib.adapters import acquirer, gisgmp
from chalicelib.core import clock
from chalicelib.core.codes import code_matches, hash_code, new_code, new_salt
from chalicelib.core.config import settings
from chalicelib.core.errors import Conflict, Gone, Invalid, NotFound, Unavailable, Unprocessable, not_found
from chalicelib.core.ids import new_id
from chalicelib.core.origin import Origin
from chalicelib.events import catalog as events
from chalicelib.identity import mfa
from chalicelib.payments import debts, money, receipt, rules
from chalicelib.payments.models import IDEMPOTENCY_PATTERN
from chalicelib.store import journal, keys, table
from chalicelib.store.table import Change, ConditionFailed, TransactionConflict, Tx

OPEN = ("created", "confirmed", "started", "status_unknown")
FINISHED = ("success", "failed", "cancelled", "refunded")
CODE_TTL = 300
HEADER = "Idempotency-Key"


def _hash(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


def body_digest(body: dict[str, Any]) -> str:
    """What makes two calls "the same": the debts (as a set), the method, the card and the save flag."""
    canon = {"uins": sorted(body["uins"]), "method": body["method"], "card_id": body.get("card_id"),
             "save_card": bool(body.get("save_card"))}
    return _hash(json.dumps(canon, sort_keys=True))


def create(user_id: str, body: dict[str, Any], key: str | None, origin: Origin) -> tuple[dict[str, Any], int]:
    """`POST /payments`: the new payment (201), or the one this key already made (200)."""
    if not key:
        raise Invalid("IDEMPOTENCY_KEY_REQUIRED", "Нужен заголовок Idempotency-Key",
                      {HEADER: "Обязательный заголовок: от 1 до 255 латинских букв, цифр или дефисов"})
    if not re.fullmatch(IDEMPOTENCY_PATTERN, key):
        raise Invalid("VALIDATION_ERROR", "Проверьте заголовок Idempotency-Key",
                      {HEADER: "От 1 до 255 латинских букв, цифр или дефисов"})
    now = clock.epoch()
    ikey = keys.idempotency(user_id, _hash(key))
    digest = body_digest(body)
    claim = {"pk": ikey[0], "sk": ikey[1], "state": "in_flight", "body_hash": digest,
             "lease_until": now + rules.IDEMPOTENCY_LEASE, "ttl": now + rules.IDEMPOTENCY_SECONDS}
    try:
        table.put(claim, cond="attribute_not_exists(pk) OR #ttl < :now OR (#st = :flight AND lease_until < :now)",
                  names={"#st": "state", "#ttl": "ttl"}, values={":flight": "in_flight", ":now": now})
    except ConditionFailed as exc:
        return _replayed(user_id, exc.old, digest), 200
    try:
        payment = _create(user_id, body, ikey, digest, origin)
    except BaseException:
        _release_claim(ikey, digest)
        raise
    return view(payment), 201


def _replayed(user_id: str, old: dict[str, Any] | None, digest: str) -> dict[str, Any]:
    if old and not hmac.compare_digest(old["body_hash"], digest):
        raise Conflict("IDEMPOTENCY_KEY_REUSED", "Этот ключ Idempotency-Key уже использован для другого платежа")
    if not old or old["state"] != "done":
        raise Conflict("IDEMPOTENCY_IN_FLIGHT", "Платёж с этим ключом ещё создаётся, повторите запрос чуть позже")
    payment = table.get(keys.payment(user_id, old["payment_id"]))
    if payment is None:
        raise not_found("Платёж")
    return view(payment)


def _release_claim(ikey: keys.Key, digest: str) -> None:
    with contextlib.suppress(ConditionFailed, TransactionConflict):
        Tx().delete(ikey, cond="#st = :flight AND body_hash = :h", names={"#st": "state"},
                    values={":flight": "in_flight", ":h": digest}).commit()


def _charges(uins: list[str]) -> list[gisgmp.Charge]:
    if len(set(uins)) != len(uins):
        raise Invalid("VALIDATION_ERROR", "Проверьте список начислений", {"uins": "УИН указан дважды"})
    out, missing = [], {}
    try:
        for i, uin in enumerate(uins):
            try:
                charge = gisgmp.charge(uin)
            except gisgmp.InvalidIdentifier as exc:
                missing[f"uins.{i}"] = str(exc.args[0])
                continue
            if charge is None:
                missing[f"uins.{i}"] = "Начисление с таким УИН не найдено"
            else:
                out.append(charge)
    except gisgmp.GisGmpUnavailable:
        raise Unavailable("GISGMP_UNAVAILABLE", "Государственная платёжная система не отвечает, повторите позже") \
            from None
    if missing:
        raise Invalid("VALIDATION_ERROR", "Проверьте список начислений", missing)
    closed = [c.uin for c in out if c.status == "closed"]
    if closed:
        raise Conflict("DEBT_CLOSED", "Начисление уже оплачено", uins=closed)
    return out


def _factor(user: dict[str, Any]) -> tuple[str, str | None]:
    if user.get("totp_secret"):
        return "totp", None
    if user.get("phone"):
        return "sms", user["phone"]
    return "email", user["email"]


def _masked(channel: str, to: str | None) -> str | None:
    if not to:
        return None
    if channel == "sms":
        return f"{to[:2]} ••• •••-••-{to[-2:]}"
    name, _, domain = to.partition("@")
    return f"{name[:1]}•••@{domain}"


def _create(user_id: str, body: dict[str, Any], ikey: keys.Key, digest: str, origin: Origin) -> dict[str, Any]:
    method, card_id = body["method"], body.get("card_id")
    if card_id and method != "card":
        raise Invalid("VALIDATION_ERROR", "Проверьте способ оплаты",
                      {"card_id": "Сохранённой картой можно оплатить только способом «card»"})
    wanted = [keys.user(user_id)] + ([keys.card(user_id, card_id)] if card_id else [])
    user, *card = table.get_many(wanted)
    if user is None:
        raise not_found("Пользователь")
    if card_id and not card[0]:
        raise NotFound("NOT_FOUND", "Сохранённая карта не найдена")
    charges = _charges(list(body["uins"]))
    today = clock.moscow_today()
    items = [{"uin": c.uin, "kind": c.kind, "title": c.title, "amount": debts.to_pay(c, today),
              "recipient": _recipient(c)} for c in charges]
    total = sum(i["amount"] for i in items)
    limit = rules.limits()[method]
    if total > limit:
        raise Unprocessable("LIMIT_EXCEEDED", f"Сумма {money.rub(total)} больше предела одной операции этим "
                            f"способом: {money.rub(limit)}", limit=limit, amount=total)
    now = clock.epoch()
    payment_id = new_id()
    factor, to = _factor(user)
    deadline = clock.iso(clock.from_epoch(now + rules.CONFIRM_SECONDS))
    pk, sk = keys.payment(user_id, payment_id)
    payment: dict[str, Any] = {
        "pk": pk, "sk": sk, "id": payment_id, "user_id": user_id, "status": "created", "amount": total,
        "method": method, "items": items, "uins": [i["uin"] for i in items],
        "kinds": sorted({i["kind"] for i in items}),
        "created_at": clock.iso(clock.now()), "expires_at": deadline, "factor": factor, "to": to, "attempts": 0,
        "save_card": bool(body.get("save_card")), "gsi1pk": keys.PAYMENTS_OPEN,
        "gsi1sk": keys.payment_open_sort(deadline, user_id, payment_id)}
    if card_id:
        payment["card_id"] = card_id
    tx = Tx()
    if factor != "totp":
        code, salt = new_code(), new_salt()
        payment.update(code_hash=hash_code(code, salt), code_salt=salt, code_expires=now + CODE_TTL)
        journal.emit(tx, events.CODE_REQUESTED, keys.user_pk(user_id), {
            "purpose": "payment", "channel": factor, "to": to, "code": code, "notice": "payment_code",
            "value": money.rub(total), "first_name": user.get("first_name")})
    tx.put_new(payment)
    for item in items:
        lock_pk, lock_sk = keys.uin_lock(item["uin"])
        tx.put({"pk": lock_pk, "sk": lock_sk, "uin": item["uin"], "payment_id": payment_id, "user_id": user_id,
                "state": "paying", "at": payment["created_at"]}, cond="attribute_not_exists(pk)",
               tag=f"uin:{item['uin']}")
        _mark(tx, user_id, item["uin"], "paying", payment_id)
    tx.update(ikey, "SET #st = :done, payment_id = :p", cond="#st = :flight AND body_hash = :h",
              names={"#st": "state"}, values={":done": "done", ":p": payment_id, ":flight": "in_flight", ":h": digest},
              tag="idempotency")
    journal.audit(tx, keys.user_pk(user_id), "payment.created", "user", origin.ip, payment_id=payment_id,
                  amount=total, uins=payment["uins"], method=method)
    try:
        tx.commit()
    except ConditionFailed as exc:
        raise _lost(exc) from None
    except TransactionConflict:
        raise Conflict("DEBT_BEING_PAID", "Это начисление сейчас оплачивается в другом окне") from None
    return payment


def _lost(exc: ConditionFailed) -> Conflict:
    if exc.tag and exc.tag.startswith("uin:"):
        uin = exc.tag[4:]
        if (exc.old or {}).get("state") == "paid":
            return Conflict("DEBT_CLOSED", "Начисление уже оплачено", uins=[uin])
        return Conflict("DEBT_BEING_PAID", "Это начисление уже оплачивается: дождитесь результата первого платежа",
                        uins=[uin], payment_id=(exc.old or {}).get("payment_id") or "")
    return Conflict("IDEMPOTENCY_IN_FLIGHT", "Платёж с этим ключом ещё создаётся, повторите запрос чуть позже")


def _mark(tx: Tx, user_id: str, uin: str, state: str, payment_id: str) -> None:
    """The debt mark beside the account: an update, so a dispute recorded on the same mark stays."""
    tx.update(keys.debt_mark(user_id, uin), "SET #st = :s, payment_id = :p, uin = :u", names={"#st": "state"},
              values={":s": state, ":p": payment_id, ":u": uin})


def _recipient(charge: gisgmp.Charge) -> dict[str, str]:
    r = charge.recipient
    return {"name": r.name, "inn": r.inn, "kpp": r.kpp, "account": r.account, "bic": r.bic, "bank": r.bank,
            "kbk": r.kbk, "oktmo": r.oktmo}


def confirm(user_id: str, payment_id: str, code: str, origin: Origin) -> dict[str, Any]:
    """`POST /payments/{id}/confirm`: one BatchGetItem (the payment, the account) and one transaction."""
    payment, user = table.get_many([keys.payment(user_id, payment_id), keys.user(user_id)])
    if payment is None or user is None:
        raise not_found("Платёж")
    if payment["status"] in ("confirmed", "started", "success"):
        return view(payment)
    if payment["status"] != "created":
        raise Conflict("PAYMENT_NOT_PENDING", "Платёж уже не ждёт подтверждения", status=payment["status"])
    now = clock.epoch()
    if now >= clock.from_iso(payment["expires_at"]).timestamp():
        raise Gone("PAYMENT_EXPIRED", "Время на подтверждение истекло: создайте платёж снова")
    seen = payment["attempts"]
    tx = Tx()
    if payment["factor"] == "totp":
        step = mfa.totp_step(user.get("totp_secret") or "", code) if user.get("totp_secret") else None
        right = step is not None and step > user.get("totp_last_step", -1)
        if right:
            Change().set("totp_last_step", step).require(
                "attribute_not_exists({totp_last_step}) OR {totp_last_step} < :s", s=step).apply(tx, keys.user(user_id))
    else:
        right = now < payment.get("code_expires", 0) and code_matches(code, payment["code_salt"], payment["code_hash"])
    if not right:
        return _wrong_code(user_id, payment, seen, origin)
    started: acquirer.Started | None = None
    try:
        started = _start_at_acquirer(user_id, payment)
    except acquirer.AcquirerUnavailable:
        started = None
    after = _confirmed(tx, user_id, payment, started, seen)
    journal.audit(tx, keys.user_pk(user_id), "payment.confirmed", "user", origin.ip, payment_id=payment_id,
                  factor=payment["factor"])
    try:
        tx.commit()
    except (ConditionFailed, TransactionConflict):
        raise Conflict("PAYMENT_BUSY", "Платёж подтверждается в другом окне: обновите страницу") from None
    return view(after)


def _wrong_code(user_id: str, payment: dict[str, Any], seen: int, origin: Origin) -> dict[str, Any]:
    attempts = seen + 1
    key = keys.payment(user_id, payment["id"])
    tx = Tx()
    cond = "#st = :created AND attempts = :seen"
    values = {":created": "created", ":seen": seen, ":n": attempts}
    if attempts >= rules.CODE_ATTEMPTS:
        tx.update(key, "SET attempts = :n, #st = :cancelled, finished = :t, reason = :r REMOVE gsi1pk, gsi1sk, "
                  "code_hash", cond=cond, names={"#st": "status"},
                  values={**values, ":cancelled": "cancelled", ":t": True, ":r": "too_many_codes"})
        journal.emit(tx, events.PAYMENT_CANCELLED, keys.user_pk(user_id), _event(payment, "cancelled",
                                                                                  "too_many_codes"))
        journal.audit(tx, keys.user_pk(user_id), events.PAYMENT_CANCELLED.name, "user", origin.ip,
                      payment_id=payment["id"], reason="too_many_codes")
    else:
        tx.update(key, "SET attempts = :n", cond=cond, names={"#st": "status"}, values=values)
    try:
        tx.commit()
    except (ConditionFailed, TransactionConflict):
        raise Conflict("PAYMENT_BUSY", "Платёж подтверждается в другом окне: обновите страницу") from None
    if attempts >= rules.CODE_ATTEMPTS:
        raise Conflict("PAYMENT_CANCELLED", "Три неверных кода: платёж отменён, создайте новый")
    raise Invalid("CODE_INVALID", "Неверный код", {"code": "Неверный код"},
                  attempts_left=rules.CODE_ATTEMPTS - attempts)


def _event(payment: dict[str, Any], status: str, reason: str | None = None, **extra: Any) -> dict[str, Any]:
    return {"user_id": payment["user_id"], "payment_id": payment["id"], "amount": payment["amount"],
            "title": receipt.what(payment),
            "status": status, "reason": reason, **extra}


def return_url(payment_id: str) -> str:
    """Where the acquirer sends the person back: the payment's page, which asks the acquirer for the outcome."""
    return f"{settings().public_url}/pay/{payment_id}"


def _start_at_acquirer(user_id: str, payment: dict[str, Any]) -> acquirer.Started:
    card_token = None
    if payment.get("card_id"):
        card = table.get(keys.card(user_id, payment["card_id"]))
        if card is None:
            raise NotFound("NOT_FOUND", "Сохранённая карта не найдена")
        card_token = card["token"]
    titles = "; ".join(i["title"] for i in payment["items"])
    return acquirer.start(keys.payment_order(user_id, payment["id"]), payment["amount"], payment["method"],
                          description=titles[:200], return_url=return_url(payment["id"]), card_token=card_token,
                          save_card=payment.get("save_card", False))


def _confirmed(tx: Tx, user_id: str, payment: dict[str, Any], started: acquirer.Started | None,
               seen: int) -> dict[str, Any]:
    """Confirmed and, when the acquirer answered, started: its page is where the person goes next. Returns the
    payment as the transaction leaves it (no read after the write)."""
    now = clock.epoch()
    key = keys.payment(user_id, payment["id"])
    at = clock.iso(clock.now())
    if started is None:
        tx.update(key, "SET #st = :confirmed, confirmed_at = :at REMOVE code_hash, code_salt",
                  cond="#st = :created AND attempts = :seen", names={"#st": "status"},
                  values={":confirmed": "confirmed", ":at": at, ":created": "created", ":seen": seen})
        return {**payment, "status": "confirmed", "confirmed_at": at}
    deadline = clock.iso(clock.from_epoch(now + rules.ACQUIRER_SECONDS))
    tx.update(key, "SET #st = :started, confirmed_at = :at, acquirer_ref = :ref, redirect_url = :url, "
              "expires_at = :deadline, gsi1sk = :sort REMOVE code_hash, code_salt",
              cond="#st IN (:created, :confirmed) AND attempts = :seen", names={"#st": "status"},
              values={":started": "started", ":at": clock.iso(clock.now()), ":ref": started.ref,
                      ":url": started.redirect_url, ":deadline": deadline, ":created": "created",
                      ":confirmed": "confirmed", ":seen": seen,
                      ":sort": keys.payment_open_sort(deadline, user_id, payment["id"])})
    return {**payment, "status": "started", "confirmed_at": at, "acquirer_ref": started.ref,
            "redirect_url": started.redirect_url, "expires_at": deadline}


def start(user_id: str, payment_id: str, origin: Origin) -> dict[str, Any]:
    """`POST /payments/{id}/start`: a confirmed payment whose acquirer did not answer at confirmation, again."""
    payment = table.get(keys.payment(user_id, payment_id))
    if payment is None:
        raise not_found("Платёж")
    if payment["status"] == "started":
        return {"redirect_url": payment["redirect_url"]}
    if payment["status"] != "confirmed":
        raise Conflict("PAYMENT_NOT_CONFIRMED", "Сначала подтвердите платёж кодом", status=payment["status"])
    try:
        started = _start_at_acquirer(user_id, payment)
    except acquirer.AcquirerUnavailable:
        raise Unavailable("ACQUIRER_UNAVAILABLE", "Платёжный сервис банка не отвечает, повторите чуть позже") \
            from None
    tx = Tx()
    _confirmed(tx, user_id, payment, started, payment["attempts"])
    journal.audit(tx, keys.user_pk(user_id), "payment.started", "user", origin.ip, payment_id=payment_id)
    with contextlib.suppress(ConditionFailed, TransactionConflict):
        tx.commit()  # lost: another tab started it, the same session (the acquirer de-duplicates by order id)
    return {"redirect_url": started.redirect_url}


def current(user_id: str, payment_id: str) -> dict[str, Any]:
    """The payment as it stands; one at the acquirer is asked about first (we poll as well as listen)."""
    payment = table.get(keys.payment(user_id, payment_id))
    if payment is None:
        raise not_found("Платёж")
    if payment["status"] in ("started", "status_unknown"):
        from chalicelib.payments import outcomes

        payment = outcomes.poll(payment)
    return payment


def cancel(user_id: str, payment_id: str, origin: Origin) -> dict[str, Any]:
    """The person gives up before the acquirer's page: the debts are free to pay again."""
    key = keys.payment(user_id, payment_id)
    payment = table.get(key)
    if payment is None:
        raise not_found("Платёж")
    if payment["status"] == "cancelled":
        return view(payment)
    tx = Tx().update(key, "SET #st = :cancelled, finished = :t, reason = :r REMOVE gsi1pk, gsi1sk, code_hash",
                     cond="#st IN (:created, :confirmed)", names={"#st": "status"},
                     values={":cancelled": "cancelled", ":t": True, ":r": "by_user", ":created": "created",
                             ":confirmed": "confirmed"})
    journal.emit(tx, events.PAYMENT_CANCELLED, keys.user_pk(user_id), _event(payment, "cancelled", "by_user"))
    journal.audit(tx, keys.user_pk(user_id), events.PAYMENT_CANCELLED.name, "user", origin.ip, payment_id=payment_id,
                  reason="by_user")
    try:
        tx.commit()
    except (ConditionFailed, TransactionConflict):
        raise Conflict("PAYMENT_NOT_CANCELLABLE", "Платёж уже у банка: отменить его можно только там") from None
    return view(table.get(key) or payment)


REASONS = {
    "too_many_codes": "Три неверных кода подтверждения",
    "by_user": "Отменён вами",
    "expired": "Истекло время на оплату",
    "duplicate": "Начисление уже оплачено другим платежом: деньги возвращены",
}


def view(payment: dict[str, Any]) -> dict[str, Any]:
    """The payment as the API shows it: never the code, the card token or the acquirer's raw answer."""
    out: dict[str, Any] = {
        "id": payment["id"], "status": payment["status"], "finished": payment["status"] in FINISHED,
        "amount": payment["amount"], "method": payment["method"],
        "items": [{k: i[k] for k in ("uin", "kind", "title", "amount", "recipient")} for i in payment["items"]],
        "created_at": payment["created_at"]}
    if payment["status"] in OPEN:
        out["expires_at"] = payment["expires_at"]
    if payment["status"] == "created":
        sent = payment.get("code_expires")
        out["confirmation"] = {
            "method": payment["factor"], "attempts_left": rules.CODE_ATTEMPTS - payment["attempts"],
            "expires_at": clock.iso(clock.from_epoch(sent)) if sent else payment["expires_at"]}
        if masked := _masked(payment["factor"], payment.get("to")):
            out["confirmation"]["to"] = masked
    for field in ("redirect_url", "acquirer_ref", "paid_at", "receipt_document_id", "refunded_amount"):
        if payment.get(field) is not None and not (field == "redirect_url" and payment["status"] != "started"):
            out[field] = payment[field]
    if payment.get("card_mask"):
        out["card"] = payment["card_mask"]
    if payment.get("reason"):
        out["reason"] = payment["reason"]
        out["reason_text"] = REASONS.get(payment["reason"]) or acquirer.REASONS.get(payment["reason"], "")
    return out
