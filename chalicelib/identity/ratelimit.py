"""Per-IP limit on /auth/* (AU-10): 30 requests a minute.

The counter is charged inside the transaction the request writes anyway (or with one update where it
writes nothing else), so the limit costs no extra round trip on the hot paths, and a refused request
changes nothing.
"""

from __future__ import annotations

from chalicelib.core import clock
from chalicelib.core.errors import DomainError, too_many
from chalicelib.store import keys
from chalicelib.store.table import ConditionFailed, Tx

LIMIT = 30
WINDOW = 60
TAG = "rate_limit"


def _window(now: int) -> int:
    return now - now % WINDOW


def charge(tx: Tx, ip: str | None) -> Tx:
    now = clock.epoch()
    tx.update(keys.rate(ip or "unknown", _window(now)), "SET n = if_not_exists(n, :z) + :one, #ttl = :ttl",
              cond="attribute_not_exists(n) OR n < :limit", names={"#ttl": "ttl"},
              values={":z": 0, ":one": 1, ":ttl": _window(now) + 2 * WINDOW, ":limit": LIMIT}, tag=TAG)
    return tx


def refusal() -> DomainError:
    now = clock.epoch()
    return too_many("TOO_MANY_REQUESTS", "Слишком много запросов с вашего адреса. Повторите через минуту",
                    _window(now) + WINDOW - now)


def commit(tx: Tx, ip: str | None) -> None:
    """Commit `tx` with the caller's IP charged; over the limit nothing is written and 429 is raised."""
    charge(tx, ip)
    try:
        tx.commit()
    except ConditionFailed as exc:
        if exc.tag == TAG:
            raise refusal() from None
        raise


def charge_now(ip: str | None) -> None:
    """For a request that writes nothing else."""
    commit(Tx(), ip)
