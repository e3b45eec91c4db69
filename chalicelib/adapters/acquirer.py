"""The card acquirer (PY-3): payment sessions by card, SBP, e-wallet and bank transfer, refunds, saved cards, and the
signed webhooks through which the acquirer tells us how a payment ended (docs/acquirer.md).

The acquirer is a registered backend: the local stage registers its simulator (infra/acquirer_simulator.py); a stage
with none registered does not offer payments (`available()`). The backend is in-process callables, like the partner
banks' exchange (adapters/bank.py): `chalice local` serves one request at a time, and an API request calling the
simulator back over HTTP would wait for itself.

Webhooks: `POST WEBHOOK_PATH`, a JSON body `{"event_id", "sent_at", "outcome"}`, and the headers
`X-Acquirer-Timestamp: <unix seconds>` and `X-Acquirer-Signature: v1=<hex HMAC-SHA256 of "<timestamp>." + body>`.
The secret lives in `kabinet-<stage>-acquirer-webhook` as `{"current": hex, "previous": hex | null}`; both verify,
so the secret can be rotated without losing a delivery. Replays of an event id are the payments domain's to refuse.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import secrets as random
import threading
import time
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass
from typing import Any, Protocol

from chalicelib.core.aws import client
from chalicelib.core.config import settings

WEBHOOK_PATH = "/payments/acquirer/webhook"
METHODS = ("card", "sbp", "wallet", "bank_transfer")
STATUSES = ("pending", "success", "failed")
TIMESTAMP_HEADER = "X-Acquirer-Timestamp"
SIGNATURE_HEADER = "X-Acquirer-Signature"
TOLERANCE = 300  # seconds a signed webhook stays acceptable either side of our clock
MAX_BODY = 64 * 1024
SECRETS_TTL = 300  # a container rereads the webhook secret this often (a rotation reaches warm containers)
RELOAD_AFTER = 30  # ...and at most this often when a signature matches neither secret it knows

REASONS: dict[str, str] = {
    "declined": "Банк отклонил платёж. Попробуйте другую карту или другой способ оплаты",
    "insufficient_funds": "Недостаточно средств на карте",
    "3ds_failed": "Платёж не подтверждён кодом из SMS банка",
    "expired": "Время на оплату истекло. Начните оплату заново",
}


@dataclass(frozen=True)
class Started:
    ref: str  # the acquirer's id of this payment session
    redirect_url: str  # where the person goes next: the card page, the SBP page with its QR, the wallet, a transfer


@dataclass(frozen=True)
class Card:
    token: str
    mask: str  # "2200 00•• •••• 0004": never the full number
    expiry: str  # "MM/YY"
    brand: str  # "mir", "visa", "mastercard", "card"


@dataclass(frozen=True)
class Outcome:
    ref: str
    status: str  # "pending" | "success" | "failed"
    reason: str | None  # failed only: a key of REASONS
    amount: int  # kopecks charged (success) or to be charged
    order_id: str  # our payment id, echoed
    card: Card | None  # a card to save: the person asked to save it and paid (or bound it) by card
    finished_at: str | None  # ISO UTC


@dataclass(frozen=True)
class Event:
    """A webhook whose signature and timestamp were verified."""

    event_id: str
    sent_at: str
    outcome: Outcome


class AcquirerUnavailable(Exception):
    """Timeout or 5xx: the caller records the payment's status as unknown and reconciles later with `status()`."""


class WebhookRefused(Exception):
    """A webhook that is not the acquirer's or not now: unsigned, bad signature, stale, malformed. Answer 4xx."""


class Backend(Protocol):
    def start(self, order_id: str, amount: int, method: str, *, description: str, return_url: str,
              card_token: str | None, save_card: bool) -> Started: ...

    def status(self, ref: str) -> Outcome: ...

    def refund(self, ref: str, amount: int, key: str) -> str: ...

    def bind_card(self, order_id: str, return_url: str) -> Started: ...


_BACKEND: list[Backend] = []


def register(backend: Backend) -> None:
    _BACKEND[:] = [backend]


def available() -> bool:
    """Whether this stage takes payments at all (a backend is registered)."""
    return bool(_BACKEND)


def _backend() -> Backend:
    if not _BACKEND:
        raise AcquirerUnavailable("no acquirer is registered on this stage")
    return _BACKEND[0]


def start(order_id: str, amount: int, method: str, *, description: str, return_url: str,
          card_token: str | None = None, save_card: bool = False) -> Started:
    """A payment session for `order_id`; the same order started again gets the same session (the acquirer
    de-duplicates by the merchant's order id). A saved card (`card_token`) skips the card page."""
    if method not in METHODS:
        raise ValueError(f"unknown payment method {method!r}")
    if isinstance(amount, bool) or not isinstance(amount, int) or amount <= 0:
        raise ValueError("amount must be a positive number of kopecks")
    if card_token is not None and method != "card":
        raise ValueError("a saved card pays by card")
    return _backend().start(order_id, amount, method, description=description, return_url=return_url,
                            card_token=card_token, save_card=save_card)


def status(ref: str) -> Outcome:
    """The session's outcome as the acquirer knows it now (polling, reconciliation); raises AcquirerUnavailable."""
    return _backend().status(ref)


def refund(ref: str, amount: int, key: str) -> str:
    """Return `amount` kopecks of a successful payment; the refund id. The same `key` again is the same refund
    (money returned once); refunds never exceed the charge. Raises ValueError when they would."""
    if isinstance(amount, bool) or not isinstance(amount, int) or amount <= 0:
        raise ValueError("amount must be a positive number of kopecks")
    return _backend().refund(ref, amount, key)


def bind_card(order_id: str, return_url: str) -> Started:
    """A page to save a card without paying (a zero-amount verification): the outcome's card carries the token."""
    return _backend().bind_card(order_id, return_url)


# -- webhooks ------------------------------------------------------------------------------------------------


def sign_webhook(body: bytes, *, timestamp: int, secret: bytes) -> dict[str, str]:
    """The headers that make `body` the acquirer's webhook sent at `timestamp`."""
    digest = hmac.new(secret, f"{timestamp}.".encode() + body, hashlib.sha256).hexdigest()
    return {TIMESTAMP_HEADER: str(timestamp), SIGNATURE_HEADER: f"v1={digest}"}


def verify_webhook(headers: Mapping[str, str], body: bytes, *, now: float,
                   secrets: Sequence[bytes] | None = None) -> Event:
    """The event, once both headers are there, the timestamp is within TOLERANCE of `now` and a `v1=` signature
    matches a configured secret (current or previous; `secrets` overrides them). Raises WebhookRefused."""
    lower = {k.lower(): v for k, v in headers.items()}
    stamp, signature = lower.get(TIMESTAMP_HEADER.lower()), lower.get(SIGNATURE_HEADER.lower())
    if not stamp or not signature:
        raise WebhookRefused("unsigned")
    if not (stamp.isascii() and stamp.isdigit() and len(stamp) <= 12):
        raise WebhookRefused("malformed timestamp")
    if abs(now - int(stamp)) > TOLERANCE:
        raise WebhookRefused("stale")
    if len(body) > MAX_BODY:
        raise WebhookRefused("too large")
    offered = [part.strip()[3:].encode() for part in signature.split(",")[:8] if part.strip().startswith("v1=")]
    if not offered:
        raise WebhookRefused("unsigned")
    if not _matches(offered, body, stamp, secrets):
        raise WebhookRefused("bad signature")
    return decode_event(body)


def _matches(offered: list[bytes], body: bytes, stamp: str, given: Sequence[bytes] | None) -> bool:
    def check(keys: Sequence[bytes]) -> bool:
        expected = [sign_webhook(body, timestamp=int(stamp), secret=k)[SIGNATURE_HEADER][3:].encode() for k in keys]
        return any(hmac.compare_digest(o, e) for o in offered for e in expected)

    if given is not None:
        return check(given)
    return check(webhook_secrets()) or (_stale_enough() and check(webhook_secrets(reload=True)))


def encode_event(event: Event) -> bytes:
    """The webhook body, as the acquirer sends it (the signature covers these exact bytes)."""
    return json.dumps({"event_id": event.event_id, "sent_at": event.sent_at, "outcome": outcome_json(event.outcome)},
                      ensure_ascii=False, separators=(",", ":")).encode()


def outcome_json(outcome: Outcome) -> dict[str, Any]:
    return asdict(outcome)


def decode_event(body: bytes) -> Event:
    """The event in a webhook body; WebhookRefused("malformed") when it is not exactly the documented shape."""
    try:
        doc = json.loads(body)
        if not isinstance(doc, dict) or not _text(doc.get("event_id")) or not _text(doc.get("sent_at")):
            raise ValueError("event")
        return Event(doc["event_id"], doc["sent_at"], outcome_from_json(doc.get("outcome")))
    except (ValueError, TypeError, KeyError, RecursionError):
        raise WebhookRefused("malformed") from None


def outcome_from_json(doc: Any) -> Outcome:
    """Raises ValueError for anything but an Outcome as `outcome_json` writes it."""
    fields = ("ref", "status", "reason", "amount", "order_id", "card", "finished_at")
    if not isinstance(doc, dict) or set(doc) != set(fields):
        raise ValueError("outcome fields")
    status_, reason, amount, card = doc["status"], doc["reason"], doc["amount"], doc["card"]
    if (not _text(doc["ref"]) or not _text(doc["order_id"]) or status_ not in STATUSES
            or (reason is not None and reason not in REASONS) or (status_ == "failed") != (reason is not None)
            or isinstance(amount, bool) or not isinstance(amount, int) or amount < 0
            or not (doc["finished_at"] is None or _text(doc["finished_at"]))):
        raise ValueError("outcome values")
    if card is not None:
        if not isinstance(card, dict) or set(card) != {"token", "mask", "expiry", "brand"} \
                or not all(_text(v) for v in card.values()):
            raise ValueError("card")
        card = Card(**card)
    return Outcome(doc["ref"], status_, reason, amount, doc["order_id"], card, doc["finished_at"])


def _text(value: Any) -> bool:
    return isinstance(value, str) and 0 < len(value) <= 200


# -- the webhook secret ------------------------------------------------------------------------------------------

_lock = threading.Lock()
_loaded: list[Any] = []  # [(monotonic time, (current, previous...))]: one per container


def webhook_secrets(reload: bool = False) -> tuple[bytes, ...]:
    """The configured secrets, current first: the acquirer signs with the current one; the previous one still
    verifies during a rotation. Reread every SECRETS_TTL seconds."""
    with _lock:
        if reload or not _loaded or time.monotonic() - _loaded[0][0] > SECRETS_TTL:
            raw = client("secretsmanager").get_secret_value(
                SecretId=settings().acquirer_webhook_secret_id)["SecretString"]
            doc = json.loads(raw)
            found = tuple(bytes.fromhex(doc[k]) for k in ("current", "previous") if doc.get(k))
            _loaded[:] = [(time.monotonic(), found)]
        return _loaded[0][1]


def _stale_enough() -> bool:
    return not _loaded or time.monotonic() - _loaded[0][0] > RELOAD_AFTER


def forget_secrets() -> None:
    """Drop the cached secrets (tests, after a rotation in the same process)."""
    with _lock:
        _loaded.clear()


def new_webhook_secret() -> str:
    """A fresh secret value: 32 random bytes, hex (`make secrets`, the local bootstrap)."""
    return json.dumps({"current": random.token_hex(32), "previous": None})


def rotated_webhook_secret(value: str) -> str:
    """The secret after a rotation: a new current one, the old current kept as previous (docs/acquirer.md)."""
    doc = json.loads(value)
    return json.dumps({"current": random.token_hex(32), "previous": doc["current"]})
