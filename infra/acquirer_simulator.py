"""The local card acquirer (stage `local` only): payment sessions, the acquirer's own pages (card, 3-D Secure, SBP,
e-wallet, bank transfer; chalicelib/api/dev_acquirer.py serves them), refunds, saved cards, and signed webhooks the
local pump delivers to the API (`deliver_webhooks`). docs/acquirer.md describes the outcomes and the test cards.

Its "bank side" state lives in the table under its own keys (store/keys.py, `acquirer_sim_*`), so every process of
the local cloud (chalice local, the pump, tests) sees the same sessions.

Test cards (any expiry not in the past, any 3-digit CVC, a Latin holder name; the 3-D Secure code is 123456):

    2200 0000 0000 0004  success              2200 0000 0000 0046  timeout: no webhook, pending 60 s, then success
    2200 0000 0000 0012  declined             2200 0000 0000 0053  success; status() unavailable for 3 calls
    2200 0000 0000 0020  insufficient funds   2200 0000 0000 0061  success webhook twice + a late "pending" one
    2200 0000 0000 0038  3-DS failed          4111 1111 1111 1111  success (Visa); any other valid number: success
"""

from __future__ import annotations

import hashlib
import logging
import re
import urllib.parse
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from chalicelib.adapters import acquirer
from chalicelib.adapters.acquirer import AcquirerUnavailable, Card, Event, Outcome, Started
from chalicelib.core import clock
from chalicelib.core.config import settings
from chalicelib.core.ids import new_id
from chalicelib.store import keys, table
from chalicelib.store.table import ConditionFailed, Tx

log = logging.getLogger("kabinet.acquirer")

PAGES = "/dev/acquirer"
THREEDS_CODE = "123456"  # shown on the 3-D Secure page: it is a simulator
THREEDS_TRIES = 3  # wrong codes before the payment fails with 3ds_failed
SESSION_TTL = 20 * 60  # an unfinished session then fails with "expired"
TIMEOUT_RELEASE = 60  # the "timeout" card: pending this long (and no webhook), then success
FLAKY_CALLS = 3  # the "flaky" card: status() raises AcquirerUnavailable this many times
TRANSFER_DELAY = 5  # a bank transfer's outcome arrives this long after «Я оплатил»
LATE_PENDING = 2  # the "duplicate" card's stale "pending" webhook arrives this long after the success ones
BACKOFF = (2, 4, 8, 16)  # seconds before the 2nd…5th attempt of a webhook our endpoint did not take
MAX_ATTEMPTS = 1 + len(BACKOFF)
KEEP = 7 * 24 * 3600  # the simulator's items expire (TTL) after a week

TEST_CARDS: dict[str, str] = {
    "2200000000000004": "success",
    "2200000000000012": "declined",
    "2200000000000020": "insufficient_funds",
    "2200000000000038": "3ds_failed",
    "2200000000000046": "timeout",
    "2200000000000053": "flaky",
    "2200000000000061": "duplicate",
    "4111111111111111": "success",
}
FAILURES = ("declined", "insufficient_funds", "3ds_failed")


# -- the card form ---------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class CardInput:
    number: str
    expiry: str
    holder: str
    save: bool


def luhn_valid(digits: str) -> bool:
    total = 0
    for i, ch in enumerate(reversed(digits)):
        d = int(ch) * (2 if i % 2 else 1)
        total += d - 9 if d > 9 else d
    return total % 10 == 0


def brand(digits: str) -> str:
    if digits[:4] in ("2200", "2201", "2202", "2203", "2204"):
        return "mir"
    if digits.startswith("4"):
        return "visa"
    if 51 <= int(digits[:2]) <= 55 or 2221 <= int(digits[:4]) <= 2720:
        return "mastercard"
    return "card"


def mask(digits: str) -> str:
    """"2200 00•• •••• 0004": the first six and the last four digits, as acquirers show a card."""
    shown = digits[:6] + "•" * (len(digits) - 10) + digits[-4:]
    return " ".join(shown[i:i + 4] for i in range(0, len(shown), 4))


_EXPIRY = re.compile(r"(\d{2})\s*/\s*(\d{2})")
_HOLDER = re.compile(r"[A-Za-z][A-Za-z .'-]{1,25}")


def check_card(form: Mapping[str, str]) -> tuple[CardInput | None, dict[str, str]]:
    """The card as typed, or each field's problem in Russian (number, expiry, cvc, holder)."""
    errors: dict[str, str] = {}
    digits = re.sub(r"[\s-]", "", form.get("number", ""))
    if not digits:
        errors["number"] = "Введите номер карты"
    elif not (digits.isascii() and digits.isdigit() and 16 <= len(digits) <= 19):
        errors["number"] = "Номер карты — от 16 до 19 цифр"
    elif not luhn_valid(digits):
        errors["number"] = "Номер карты введён с ошибкой: проверьте цифры"
    expiry = form.get("expiry", "").strip()
    match = _EXPIRY.fullmatch(expiry)
    now = clock.now()
    if not expiry:
        errors["expiry"] = "Введите срок действия карты"
    elif not match or not 1 <= int(match.group(1)) <= 12:
        errors["expiry"] = "Срок действия — месяц и год в формате ММ/ГГ, например 08/29"
    elif (2000 + int(match.group(2)), int(match.group(1))) < (now.year, now.month):
        errors["expiry"] = "Срок действия карты истёк"
    cvc = form.get("cvc", "").strip()
    if not cvc:
        errors["cvc"] = "Введите код CVC"
    elif not (cvc.isascii() and cvc.isdigit() and len(cvc) == 3):
        errors["cvc"] = "Код CVC — три цифры на обратной стороне карты"
    holder = " ".join(form.get("holder", "").split())
    if not holder:
        errors["holder"] = "Введите имя владельца, как на карте"
    elif not _HOLDER.fullmatch(holder):
        errors["holder"] = "Имя владельца — латинскими буквами, как на карте, например IVAN IVANOV"
    if errors or match is None:
        return None, errors
    return CardInput(digits, f"{match.group(1)}/{match.group(2)}", holder.upper(), form.get("save") == "on"), {}


# -- sessions --------------------------------------------------------------------------------------------------

def page_url(ref: str) -> str:
    return f"{settings().public_url}{PAGES}/pay/{ref}"


def back_url(session: dict[str, Any]) -> str:
    """Where the person returns: the `return_url` given at start with `ref=<ref>` added to its query."""
    parts = urllib.parse.urlsplit(session["return_url"])
    query = [*urllib.parse.parse_qsl(parts.query, keep_blank_values=True), ("ref", session["ref"])]
    return urllib.parse.urlunsplit(parts._replace(query=urllib.parse.urlencode(query)))


def get(ref: str) -> dict[str, Any] | None:
    """The session, with an unfinished one past SESSION_TTL failed as "expired" first."""
    session = table.get(keys.acquirer_sim_session(ref))
    if session and session.get("final_outcome") is None and clock.epoch() >= session["expires_at"]:
        session = _finish(session, "failed", "expired")
    return session


def _open(order_id: str, session: dict[str, Any]) -> Started:
    """Create the session for `order_id`, or return the one the order already has (the same amount and method)."""
    now = clock.epoch()
    ref = new_id()
    pk, sk = keys.acquirer_sim_session(ref)
    item = {"pk": pk, "sk": sk, "ref": ref, "order_id": order_id, "created_at": now, "expires_at": now + SESSION_TTL,
            "effective_at": None, "saved_card": None, "refunded_total": 0, "flaky_left": 0,
            "threeds_left": THREEDS_TRIES, "ttl": now + KEEP, **session}
    opk, osk = keys.acquirer_sim_order(order_id)
    try:
        Tx().put({"pk": opk, "sk": osk, "ref": ref, "ttl": now + KEEP}, cond="attribute_not_exists(pk)",
                 tag="order").put(item, cond="attribute_not_exists(pk)").commit()
    except ConditionFailed as exc:
        if exc.tag != "order":
            raise
        existing = table.get((opk, osk))
        first = table.get(keys.acquirer_sim_session(existing["ref"])) if existing else None
        if not first:
            raise AcquirerUnavailable("the order's session is not readable yet") from None
        if (first["kind"], first["amount"], first["method"]) != (item["kind"], item["amount"], item["method"]):
            raise ValueError(f"order {order_id} was started with another amount or method") from None
        return Started(first["ref"], page_url(first["ref"]))
    return Started(ref, page_url(ref))


class Simulator:
    """The acquirer backend of the local stage (acquirer.Backend)."""

    def start(self, order_id: str, amount: int, method: str, *, description: str, return_url: str,
              card_token: str | None, save_card: bool) -> Started:
        saved = table.get(keys.acquirer_sim_card(card_token)) if card_token else None
        started = _open(order_id, {
            "kind": "payment", "amount": amount, "method": method, "description": description,
            "return_url": return_url, "save_card": save_card and not card_token, "card_token": card_token,
            "page_step": "3ds" if card_token else ("card" if method == "card" else method),
            "card_pattern": saved["card_pattern"] if saved else None})
        if card_token and not saved:  # a token the acquirer does not know (never issued, or removed)
            session = table.get(keys.acquirer_sim_session(started.ref))
            if session and session.get("final_outcome") is None:
                _finish(session, "failed", "declined")
        return started

    def status(self, ref: str) -> Outcome:
        session = get(ref)
        if session is None:
            raise ValueError(f"unknown acquirer session {ref}")
        if session["flaky_left"] > 0:
            try:
                table.update(keys.acquirer_sim_session(ref), "SET flaky_left = flaky_left - :one",
                             cond="flaky_left > :zero", values={":one": 1, ":zero": 0})
                raise AcquirerUnavailable("simulated outage (the flaky test card)")
            except ConditionFailed:
                pass
        return outcome(session)

    def refund(self, ref: str, amount: int, key: str) -> str:
        session = get(ref)
        if session is None:
            raise ValueError(f"unknown acquirer session {ref}")
        key_hash = hashlib.sha256(key.encode()).hexdigest()
        rkey = keys.acquirer_sim_refund(ref, key_hash)
        done = table.get(rkey)
        if done:
            return _same_refund(done, amount)
        charged = outcome(session)
        if charged.status != "success" or session["kind"] != "payment":
            raise ValueError("only a successful payment can be refunded")
        refund_id = new_id()
        now = clock.epoch()
        try:
            record = {"pk": rkey[0], "sk": rkey[1], "refund_id": refund_id, "amount": amount,
                      "at": clock.iso(clock.now()), "ttl": now + KEEP}
            Tx().put(record, cond="attribute_not_exists(pk)", tag="key").update(
                keys.acquirer_sim_session(ref), "SET refunded_total = refunded_total + :amount",
                cond="refunded_total <= :most", values={":amount": amount, ":most": charged.amount - amount},
                tag="cap").commit()
        except ConditionFailed as exc:
            if exc.tag == "key":  # the same key, concurrently
                return _same_refund(table.get(rkey) or {}, amount)
            raise ValueError("refunds would exceed the amount charged") from None
        return refund_id

    def bind_card(self, order_id: str, return_url: str) -> Started:
        return _open(order_id, {"kind": "binding", "amount": 0, "method": "card", "description": "Привязка карты",
                                "return_url": return_url, "save_card": True, "card_token": None, "page_step": "card",
                                "card_pattern": None})


def _same_refund(done: dict[str, Any], amount: int) -> str:
    if done.get("amount") != amount:
        raise ValueError("this refund key was used for another amount")
    return done["refund_id"]


def register() -> None:
    acquirer.register(Simulator())


def outcome(session: dict[str, Any]) -> Outcome:
    """The session as the acquirer reports it now: pending until its final outcome takes effect."""
    final = session.get("final_outcome")
    effective = final is not None and (session["effective_at"] is None or clock.epoch() >= session["effective_at"])
    if not effective:
        return Outcome(session["ref"], "pending", None, session["amount"], session["order_id"], None, None)
    card = Card(**session["saved_card"]) if session.get("saved_card") and final["status"] == "success" else None
    return Outcome(session["ref"], final["status"], final["reason"], session["amount"], session["order_id"], card,
                   final["finished_at"])


# -- the person's steps on the acquirer's pages ---------------------------------------------------------------

def submit_card(ref: str, form: Mapping[str, str]) -> dict[str, str]:
    """The card page: the field errors, or {} and the session moves on to 3-D Secure."""
    session = get(ref)
    if session is None or session["page_step"] != "card" or session.get("final_outcome") is not None:
        return {"form": "Эта страница оплаты больше не действует"}
    card, errors = check_card(form)
    if card is None:
        return errors
    pattern = TEST_CARDS.get(card.number, "success")
    saved = None
    if session["kind"] == "binding" or (session["save_card"] and card.save):
        saved = {"token": new_id(), "mask": mask(card.number), "expiry": card.expiry, "brand": brand(card.number)}
    table.update(keys.acquirer_sim_session(ref), "SET page_step = :next, card_pattern = :p, card_offer = :c",
                 cond="page_step = :card", values={":next": "3ds", ":p": pattern, ":c": saved, ":card": "card"})
    return {}


def confirm_3ds(ref: str, code: str) -> str | None:
    """The 3-D Secure page: None when the session finished (go back), else the Russian reason to show."""
    session = get(ref)
    if session is None or session["page_step"] != "3ds" or session.get("final_outcome") is not None:
        return None
    pattern = session["card_pattern"] or "success"
    if pattern == "3ds_failed":  # the issuer refuses the authentication whatever was typed
        _finish(session, "failed", "3ds_failed")
        return None
    if code.strip() != THREEDS_CODE:
        left = session["threeds_left"] - 1
        if left <= 0:
            _finish(session, "failed", "3ds_failed")
            return None
        table.update(keys.acquirer_sim_session(ref), "SET threeds_left = :left", values={":left": left})
        return f"Неверный код. Осталось попыток: {left}"
    _authorize(session, pattern)
    return None


def _authorize(session: dict[str, Any], pattern: str) -> None:
    if pattern in FAILURES:
        _finish(session, "failed", pattern)
    elif pattern == "timeout":
        _finish(session, "success", None, delay=TIMEOUT_RELEASE, webhook=False)
    elif pattern == "flaky":
        _finish(session, "success", None, flaky=FLAKY_CALLS)
    else:
        _finish(session, "success", None, duplicate=pattern == "duplicate")


def decide(ref: str, accept: bool) -> None:
    """The SBP and e-wallet pages: paid in the bank's (wallet's) app, or refused."""
    session = get(ref)
    if session is not None and session.get("final_outcome") is None and session["page_step"] in ("sbp", "wallet"):
        _finish(session, "success" if accept else "failed", None if accept else "declined")


def transfer_sent(ref: str) -> None:
    """«Я оплатил в своём банке»: the money arrives TRANSFER_DELAY seconds later, as a transfer's would."""
    session = get(ref)
    if session is not None and session.get("final_outcome") is None and session["page_step"] == "bank_transfer":
        _finish(session, "success", None, delay=TRANSFER_DELAY)


def _finish(session: dict[str, Any], status: str, reason: str | None, *, delay: int = 0, webhook: bool = True,
            flaky: int = 0, duplicate: bool = False) -> dict[str, Any]:
    """The session's final outcome, taking effect `delay` seconds from now, and its webhooks, in one transaction.
    Of two finishes of one session the first wins; the loser gets the session as the winner left it."""
    now = clock.epoch()
    effective = now + delay
    card = session.get("card_offer") if status == "success" else None
    final = {"status": status, "reason": reason, "finished_at": clock.iso(clock.from_epoch(effective))}
    tx = Tx().update(keys.acquirer_sim_session(session["ref"]),
                     "SET final_outcome = :final, effective_at = :at, page_step = :done, saved_card = :card, "
                     "flaky_left = :flaky", cond="attribute_not_exists(final_outcome)",
                     values={":final": final, ":at": effective, ":done": "done", ":card": card, ":flaky": flaky})
    if card:
        ck = keys.acquirer_sim_card(card["token"])
        tx.put({"pk": ck[0], "sk": ck[1], **card, "card_pattern": session["card_pattern"], "ttl": now + KEEP})
    done = {**session, "final_outcome": final, "effective_at": effective, "page_step": "done", "saved_card": card,
            "flaky_left": flaky}
    if webhook:
        result = outcome({**done, "effective_at": None})
        _queue(tx, result, due=effective)
        if duplicate:
            _queue(tx, result, due=effective)  # the same success again, under another event id
            stale = Outcome(result.ref, "pending", None, result.amount, result.order_id, None, None)
            _queue(tx, stale, due=effective + LATE_PENDING, sent_at=session["created_at"])
    try:
        tx.commit()
    except ConditionFailed:
        return table.get(keys.acquirer_sim_session(session["ref"])) or done
    return done


# -- webhook deliveries ---------------------------------------------------------------------------------------

def _queue(tx: Tx, result: Outcome, *, due: int, sent_at: int | None = None) -> None:
    event_id = new_id()
    event = Event(event_id, clock.iso(clock.from_epoch(sent_at if sent_at is not None else due)), result)
    pk, sk = keys.acquirer_sim_delivery(result.ref, event_id)
    tx.put({"pk": pk, "sk": sk, "ref": result.ref, "event_id": event_id, "body": acquirer.encode_event(event).decode(),
            "delivery_state": "pending", "attempt_count": 0, "answer_log": [], "due_at": due, "gsi1pk": keys.ACQSIM_DUE,
            "gsi1sk": keys.acquirer_sim_due_sort(clock.iso(clock.from_epoch(due)), event_id),
            "ttl": clock.epoch() + KEEP})


def deliveries(ref: str) -> list[dict[str, Any]]:
    """The webhooks of a session, in the order they were queued (tests, the dev pages)."""
    page = table.query(keys.acquirer_sim_session(ref)[0], keys.acquirer_sim_delivery(ref, "")[1], limit=50,
                       newest_first=False, consistent=True)
    return page.items


Post = Callable[[bytes, dict[str, str]], int]


def deliver_webhooks(post: Post, limit: int = 20) -> int:
    """Send every delivery now due (`post(body, headers)` answers the HTTP status; raising counts as no answer)
    and record the answer: 2xx delivers it for good, anything else is retried after BACKOFF, up to MAX_ATTEMPTS.
    Returns how many were sent."""
    now = clock.epoch()
    due = table.query(keys.ACQSIM_DUE, index="GSI1", newest_first=False, limit=limit,
                      sk_between=("0", keys.acquirer_sim_due_sort(clock.iso(clock.from_epoch(now)), "~")))
    sent = 0
    for item in due.items:
        key = (item["pk"], item["sk"])
        try:  # claim this attempt: two pumps never send it twice
            table.update(key, "SET attempt_count = attempt_count + :one",
                         cond="attempt_count = :seen AND delivery_state = :pending",
                         values={":one": 1, ":seen": item["attempt_count"],
                                                            ":pending": "pending"})
        except ConditionFailed:
            continue
        body = item["body"].encode()
        headers = acquirer.sign_webhook(body, timestamp=clock.epoch(), secret=acquirer.webhook_secrets()[0])
        try:
            answer = int(post(body, {"Content-Type": "application/json", **headers}))
        except Exception:
            log.warning("acquirer webhook %s: no answer", item["event_id"], exc_info=True)
            answer = 0
        sent += 1
        _record(item, answer)
    return sent


def _record(item: dict[str, Any], answer: int) -> None:
    attempt = item["attempt_count"] + 1
    answers = [*item["answer_log"], {"at": clock.iso(clock.now()), "status": answer}]
    log.info("acquirer webhook %s: attempt %d answered %s", item["event_id"], attempt, answer or "nothing")
    key = (item["pk"], item["sk"])
    if 200 <= answer < 300 or attempt >= MAX_ATTEMPTS:
        state = "delivered" if 200 <= answer < 300 else "failed"
        if state == "failed":
            log.error("acquirer webhook %s given up after %d attempts", item["event_id"], attempt)
        table.update(key, "SET delivery_state = :state, answer_log = :answers REMOVE gsi1pk, gsi1sk",
                     values={":state": state, ":answers": answers})
        return
    due = clock.epoch() + BACKOFF[attempt - 1]
    table.update(key, "SET answer_log = :answers, due_at = :due, gsi1sk = :sort", values={
        ":answers": answers, ":due": due,
        ":sort": keys.acquirer_sim_due_sort(clock.iso(clock.from_epoch(due)), item["event_id"])})
