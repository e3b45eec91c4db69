"""Money is integer kopecks end to end (PY-*): never a float, shown the Russian way, «1 234,56 ₽»."""

from __future__ import annotations

NBSP = "\u00a0"  # between digit groups and before the sign, so an amount never breaks across lines


def rub(kopecks: int) -> str:
    sign = "−" if kopecks < 0 else ""
    rubles, rest = divmod(abs(kopecks), 100)
    groups = f"{rubles:,}".replace(",", NBSP)
    return f"{sign}{groups},{rest:02d}{NBSP}₽"


def half(kopecks: int) -> int:
    """The 50 % fine discount (КоАП РФ ст. 32.2 ч. 1.3), rounded up to the kopeck in the state's favour."""
    return (kopecks + 1) // 2
