"""The numbers of paying (PY-3), in one place: limits per operation, the fine discount, how long a payment waits.

Limits per operation, in kopecks, by method; `KABINET_PAYMENT_LIMITS` overrides them as `card=15000000,sbp=…`.
The defaults follow what Russian banks commonly allow in one operation: a card payment to the state up to
150 000 ₽, SBP up to 1 000 000 ₽ (the Bank of Russia's cap per SBP transfer), an e-wallet 15 000 ₽ (the cap of a
simplified-identification wallet), a bank transfer 10 000 000 ₽.
"""

from __future__ import annotations

import os
from datetime import date, timedelta
from functools import cache

METHODS = ("card", "sbp", "wallet", "bank_transfer")
DEFAULT_LIMITS = {"card": 15_000_000, "sbp": 100_000_000, "wallet": 1_500_000, "bank_transfer": 1_000_000_000}
DISCOUNT_DAYS = 20  # КоАП РФ ст. 32.2 ч. 1.3: half the fine when paid within 20 days of the decision
MAX_UINS = 20  # debts in one payment
CONFIRM_SECONDS = 15 * 60  # created or confirmed, not yet at the acquirer: cancelled after this
ACQUIRER_SECONDS = 30 * 60  # at the acquirer with no outcome: status_unknown, then reconciled by polling
CODE_ATTEMPTS = 3  # wrong confirmation codes before the payment is cancelled
IDEMPOTENCY_SECONDS = 24 * 3600  # an Idempotency-Key answers the same payment for a day
IDEMPOTENCY_LEASE = 60  # a first call still in flight this long holds its key (409 for a second call)
DEBTS_CACHE_SECONDS = 300  # ГИС ГМП answers reused per container: a debt list costs no call for 5 minutes


@cache
def limits() -> dict[str, int]:
    out = dict(DEFAULT_LIMITS)
    for part in filter(None, os.environ.get("KABINET_PAYMENT_LIMITS", "").split(",")):
        method, _, value = part.partition("=")
        if method.strip() in out and value.strip().isdigit():
            out[method.strip()] = int(value)
    return out


def discount_until(decision_date: str) -> date:
    """The last day the discount applies: 20 days counted from the day after the decision."""
    return date.fromisoformat(decision_date) + timedelta(days=DISCOUNT_DAYS)
