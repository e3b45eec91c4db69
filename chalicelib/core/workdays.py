"""Russian production calendar: statutory deadlines are counted in working days, not calendar days.

Known years are hard-coded from the government decrees on moving days off (Постановления Правительства РФ
о переносе выходных дней), because those transfers cannot be derived from any rule. Other years fall back to
the Labour Code, art. 112: Mon–Fri minus the fixed holidays, a non-January holiday that falls on a weekend
giving the next working day off (part 2). The January transfers a decree would add are unknowable in advance,
so deadlines in those years can come out a day or two early — never later than the real one.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta
from functools import lru_cache

from chalicelib.core.clock import MSK


def _span(year: int, month: int, first: int, last: int) -> set[date]:
    return {date(year, month, day) for day in range(first, last + 1)}


# Labour Code art. 112 part 1: 1–6 and 8 Jan (New Year holidays), 7 Jan (Christmas), 23 Feb, 8 Mar, 1 May,
# 9 May, 12 Jun, 4 Nov. The January ones are not shifted automatically when they fall on a weekend (part 2).
_JANUARY = ((1, 1), (1, 2), (1, 3), (1, 4), (1, 5), (1, 6), (1, 7), (1, 8))
_SHIFTED = ((2, 23), (3, 8), (5, 1), (5, 9), (6, 12), (11, 4))

# Non-working days per known year (weekend dates inside a holiday period are listed too, for readability)
# and the weekend days that a decree turned into working days.
_DAYS_OFF: dict[int, frozenset[date]] = {
    # Постановление Правительства РФ от 04.10.2024 № 1335 (consultant.ru LAW_481586): Sat 4 Jan → Fri 2 May,
    # Sun 5 Jan → Wed 31 Dec, Sun 23 Feb → Thu 8 May, Sat 8 Mar → Fri 13 Jun, Sat 1 Nov → Mon 3 Nov.
    # 247 working days.
    2025: frozenset(
        _span(2025, 1, 1, 8) | {date(2025, 2, 23), date(2025, 3, 8)} | _span(2025, 5, 1, 4)
        | _span(2025, 5, 8, 11) | _span(2025, 6, 12, 15) | _span(2025, 11, 2, 4) | {date(2025, 12, 31)}
    ),
    # The decree on moving days off in 2026 (consultant.ru LAW_515170): Sat 3 Jan → Fri 9 Jan,
    # Sun 4 Jan → Thu 31 Dec. Automatic art. 112 shifts: Sun 8 Mar → Mon 9 Mar, Sat 9 May → Mon 11 May.
    # 247 working days.
    2026: frozenset(
        _span(2026, 1, 1, 11) | _span(2026, 2, 21, 23) | _span(2026, 3, 7, 9) | _span(2026, 5, 1, 3)
        | _span(2026, 5, 9, 11) | _span(2026, 6, 12, 14) | {date(2026, 11, 4), date(2026, 12, 31)}
    ),
    # UNVERIFIED: taken from python-holidays 0.108, which cites a 2026 decree (consultant.ru LAW_544706) that
    # could not be checked against the official text here: Sat 2 Jan → Fri 5 Nov, Sun 3 Jan → Fri 31 Dec,
    # Sat 20 Feb → Mon 22 Feb (20 Feb a working Saturday) — the same layout as 2021, which had the same
    # weekdays. A December 2025 press report of an earlier draft mentioned a working Saturday 13 Nov instead.
    # Automatic art. 112 shifts (certain): Sat 1 May → Mon 3 May, Sun 9 May → Mon 10 May, Sat 12 Jun →
    # Mon 14 Jun. Re-check against the published decree before relying on 2027 deadlines.
    2027: frozenset(
        _span(2027, 1, 1, 10) | _span(2027, 2, 21, 23) | {date(2027, 3, 8)} | _span(2027, 5, 1, 3)
        | _span(2027, 5, 8, 10) | _span(2027, 6, 12, 14) | _span(2027, 11, 4, 7) | {date(2027, 12, 31)}
    ),
}
_WORKING_WEEKENDS: dict[int, frozenset[date]] = {
    2025: frozenset({date(2025, 11, 1)}),
    2026: frozenset(),
    2027: frozenset({date(2027, 2, 20)}),  # UNVERIFIED, see above
}


@lru_cache(maxsize=64)
def _statutory_days_off(year: int) -> frozenset[date]:
    """Art. 112 alone: fixed holidays plus the next working day for a non-January one falling on a weekend."""
    days = {date(year, month, day) for month, day in _JANUARY + _SHIFTED}
    for month, day in _SHIFTED:
        holiday = date(year, month, day)
        if holiday.weekday() >= 5:
            moved = holiday + timedelta(days=1)
            while moved.weekday() >= 5 or moved in days:
                moved += timedelta(days=1)
            days.add(moved)
    return frozenset(days)


def is_working_day(d: date) -> bool:
    if d in _WORKING_WEEKENDS.get(d.year, ()):
        return True
    days_off = _DAYS_OFF.get(d.year) or _statutory_days_off(d.year)
    return d.weekday() < 5 and d not in days_off


def add_working_days(start: date, days: int) -> date:
    """The day on which `days` working days after `start` have passed; `start` itself never counts."""
    if days < 0:
        raise ValueError("days must not be negative")
    current = start
    while days:
        current += timedelta(days=1)
        if is_working_day(current):
            days -= 1
    return current


def expected_by(submitted_at: datetime, days: int) -> date:
    """Deadline for an application: counted from the Moscow calendar date of submission, as the law reads."""
    if submitted_at.tzinfo is None:
        raise ValueError("submitted_at must be timezone-aware")
    return add_working_days(submitted_at.astimezone(MSK).date(), days)
