"""What no value from outside may carry into the domain: the checks every JSON body, query string and path
parameter passes before any model or view sees it.

- Numbers beyond ±10^15 (docs/architecture.md: "finite numbers up to 10^15"): bigger integers overflow float
  arithmetic (`math.isfinite(1<400 zeros>)` raises) and DynamoDB's 38 digits; floats between 0 and ±1e-130
  underflow DynamoDB's number range; both used to surface as 500s deep in a transaction.
- Text that is not UTF-8: JSON may spell lone surrogates (`"a\\ud800"`), which Python decodes into strings that
  cannot be encoded again — the store fails late, after checks passed. Strings and keys are tested with a strict
  `encode("utf-8")`.
- NUL in query strings and path parameters: never part of a real id, filter or search, and a classic
  injection carrier; JSON bodies may hold it (a form field is text, DynamoDB stores it).

Each problem is reported under the path of the value (`params.amount`, `params.a.0`), like model errors.
"""

from __future__ import annotations

import math
from typing import Any

from chalicelib.core.models import MAX_NUMBER

MIN_FRACTION = 1e-130  # DynamoDB's smallest magnitude
NOT_TEXT = "Недопустимые символы в тексте"
KEY_NOT_TEXT = "Недопустимые символы в имени поля"
NUMBER_RANGE = "Число вне допустимого диапазона: по модулю не больше 10^15"


def bad_text(value: str, *, nul: bool = False) -> bool:
    """True when `value` cannot be stored as UTF-8 text (or holds NUL, when `nul` forbids it)."""
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        return True
    return nul and "\x00" in value


def _number_problem(value: int | float) -> str | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return NUMBER_RANGE if abs(value) > MAX_NUMBER else None
    if not math.isfinite(value) or abs(value) > MAX_NUMBER or 0 < abs(value) < MIN_FRACTION:
        return NUMBER_RANGE
    return None


def json_problems(data: Any) -> dict[str, str]:
    """Path → reason for every value of a parsed JSON document the domain must never see.

    Iterative: json.loads already bounds the depth, but a recursive walk would add its own frames on top.
    """
    problems: dict[str, str] = {}
    stack: list[tuple[str, Any]] = [("", data)]
    while stack:
        path, value = stack.pop()
        if isinstance(value, dict):
            for key, item in value.items():
                child = f"{path}.{key}" if path else str(key)
                if bad_text(key):
                    problems.setdefault(path or "body", KEY_NOT_TEXT)  # the key itself cannot be shown
                    continue
                stack.append((child, item))
        elif isinstance(value, list):
            stack.extend((f"{path}.{i}" if path else str(i), item) for i, item in enumerate(value))
        elif isinstance(value, str):
            if bad_text(value):
                problems.setdefault(path or "body", NOT_TEXT)
        elif isinstance(value, (int, float)):
            reason = _number_problem(value)
            if reason:
                problems.setdefault(path or "body", reason)
    return problems


def text_problems(values: dict[str, str]) -> dict[str, str]:
    """Name → reason for query or path values with NUL or text that is not UTF-8."""
    return {printable(name): NOT_TEXT for name, value in values.items()
            if bad_text(name, nul=True) or bad_text(value, nul=True)}


def printable(text: str) -> str:
    """`text` as it can appear in an answer: unencodable characters spelled as escapes."""
    return text.encode("utf-8", "backslashreplace").decode("utf-8")
