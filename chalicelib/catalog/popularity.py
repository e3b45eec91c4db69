"""Popularity = how many applications each service has received (the SVCSTATS partition).

The applications module increments `submitted` in its submit transaction. Reading the counts for every
catalog request would put a Query on the hottest public route, so a container reads the whole partition
at most once per TTL and ranks with those numbers; a few minutes of lag does not change what is popular.
"""

from __future__ import annotations

from collections.abc import Mapping

from chalicelib.core import clock
from chalicelib.store import keys, table

TTL = 300  # seconds
PAGE = 1000

_cache: tuple[int, dict[str, int]] | None = None


def _read() -> dict[str, int]:
    counts: dict[str, int] = {}
    cursor = None
    while True:
        page = table.query(keys.SERVICE_STATS, newest_first=False, limit=PAGE, cursor=cursor)
        for item in page.items:
            submitted = item.get("submitted")
            if isinstance(submitted, int) and not isinstance(submitted, bool):
                counts[item["sk"]] = submitted
        cursor = page.cursor
        if not cursor:
            return counts


def counts() -> Mapping[str, int]:
    """Submissions per service id; read from the table when the cached copy is older than TTL."""
    global _cache
    now = clock.epoch()
    if _cache is None or not 0 <= now - _cache[0] < TTL:
        _cache = (now, _read())
    return _cache[1]


def of(service_id: str) -> int:
    return counts().get(service_id, 0)


def prime(values: Mapping[str, int]) -> None:
    """Fill the cache without a read (benchmarks; a warm-up could use it too)."""
    global _cache
    _cache = (clock.epoch(), dict(values))


def reset() -> None:
    """Forget the cached counts: the next call reads the table (tests)."""
    global _cache
    _cache = None
