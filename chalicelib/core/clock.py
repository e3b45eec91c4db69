"""Time source; tests swap it to walk through TTLs and lockouts without sleeping."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, date, datetime, time, timedelta, timezone

from chalicelib.core.errors import invalid

MSK = timezone(timedelta(hours=3), "MSK")

_source: Callable[[], datetime] = lambda: datetime.now(UTC)  # noqa: E731


def now() -> datetime:
    return _source()


def epoch() -> int:
    return int(_source().timestamp())


def use(source: Callable[[], datetime]) -> None:
    global _source
    _source = source


def reset() -> None:
    use(lambda: datetime.now(UTC))


def iso(moment: datetime) -> str:
    """UTC ISO-8601 with a Z, second precision: what the API returns."""
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def from_iso(text: str) -> datetime:
    return datetime.strptime(text, "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=UTC)


def ru(moment: datetime) -> str:
    """Moscow time as Russian users read it: dd.mm.yyyy hh:mm:ss."""
    return moment.astimezone(MSK).strftime("%d.%m.%Y %H:%M:%S")


def day_bound_ms(text: str, field: str, end: bool) -> int:
    """The first (or last) millisecond of a Moscow day: time-ordered sort-key bounds for a period filter."""
    start, after = moscow_day(text, field)
    return int((after if end else start).timestamp() * 1000) - (1 if end else 0)


def moscow_today() -> date:
    """Today's calendar date in Moscow: due dates, discounts and expiry are Moscow days."""
    return now().astimezone(MSK).date()


def from_epoch(seconds: int) -> datetime:
    return datetime.fromtimestamp(seconds, UTC)


def moscow_day(text: str, field: str) -> tuple[datetime, datetime]:
    """[start, end) of a Moscow calendar day typed as YYYY-MM-DD: what date filters in the API mean."""
    try:
        day = date.fromisoformat(text)
    except ValueError:
        raise invalid({field: "Дата в формате ГГГГ-ММ-ДД"}) from None
    if not 2000 <= day.year <= 2100:
        raise invalid({field: "Год от 2000 до 2100"})
    start = datetime.combine(day, time(), MSK)
    return start, start + timedelta(days=1)
