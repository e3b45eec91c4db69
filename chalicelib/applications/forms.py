"""Validation of application forms that services declare as JSON Schema (draft 2020-12).

A person filling a form must see every problem at once, each next to its field and in Russian, so errors from
jsonschema are mapped to one concrete message per field path instead of being shown as they come.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator, Mapping
from contextvars import ContextVar
from datetime import date
from typing import Any

from jsonschema import Draft202012Validator, FormatChecker, ValidationError, validators
from jsonschema.exceptions import best_match
from jsonschema.protocols import Validator

from chalicelib.core import clock
from chalicelib.core.clock import MSK
from chalicelib.identity.contacts import EMAIL_RULE, PHONE_RULE, normalize_email, normalize_phone, snils_valid

ROOT = "params"
REQUIRED = "Обязательное поле"

_DATE = re.compile(r"\d{4}-\d{2}-\d{2}", re.ASCII)
_DIGITS = re.compile(r"\d+", re.ASCII)
_DIVISION_CODE = re.compile(r"\d{3}-\d{3}", re.ASCII)
_OLDEST_BIRTH = date(1900, 1, 1)
_INN_10 = (2, 4, 10, 3, 5, 9, 4, 6, 8)
_INN_11 = (7, 2, 4, 10, 3, 5, 9, 4, 6, 8)
_INN_12 = (3, 7, 2, 4, 10, 3, 5, 9, 4, 6, 8)

_FORMAT_RULES = {
    "date": "Дата в формате ГГГГ-ММ-ДД",
    "snils": "СНИЛС — 11 цифр без пробелов и дефисов",
    "inn": "ИНН: 12 цифр для физического лица или 10 для организации",
    "passport": "Серия и номер паспорта — 10 цифр без пробелов",
    "division_code": "Код подразделения в формате 000-000",
    "phone": PHONE_RULE,
    "email": EMAIL_RULE,
}
_TYPE_NAMES = {
    "string": "строка", "integer": "целое число", "number": "число", "boolean": "логическое значение",
    "object": "объект", "array": "список", "null": "пустое значение",
}
# Several errors on one path: the lower rank explains the problem better (a wrong type makes the rest noise,
# a format rule says more than a length limit), combinators only say that nothing fitted.
_RANK = {
    "type": 0, "required": 0, "dependentRequired": 0, "additionalProperties": 0, "false": 0,
    "format": 1, "x-date": 1, "const": 2, "enum": 2, "pattern": 3,
    "minLength": 4, "maxLength": 4, "minimum": 4, "maximum": 4, "exclusiveMinimum": 4, "exclusiveMaximum": 4,
    "multipleOf": 4, "minItems": 4, "maxItems": 4, "uniqueItems": 4,
    "anyOf": 8, "oneOf": 8, "not": 8,
}
_CACHE_SIZE = 256

_today: ContextVar[date | None] = ContextVar("forms_today", default=None)


class _FormatProblem(ValueError):
    """Raised by a format check to say precisely what is wrong; jsonschema keeps it as the error's cause."""


# --- formats ---------------------------------------------------------------------------------------------------

_CHECKER = FormatChecker()


@_CHECKER.checks("date", raises=_FormatProblem)
def _check_date(value: object) -> bool:
    if not isinstance(value, str):
        return True
    if not _DATE.fullmatch(value):
        raise _FormatProblem(_FORMAT_RULES["date"])
    try:
        date.fromisoformat(value)
    except ValueError:
        raise _FormatProblem("Такой даты не существует") from None
    return True


@_CHECKER.checks("snils", raises=_FormatProblem)
def _check_snils(value: object) -> bool:
    if not isinstance(value, str):
        return True
    if len(value) != 11 or not _DIGITS.fullmatch(value):
        raise _FormatProblem(_FORMAT_RULES["snils"])
    if not snils_valid(value):
        raise _FormatProblem("Неверная контрольная сумма СНИЛС")
    return True


def _inn_digit(digits: str, weights: tuple[int, ...]) -> int:
    return sum(int(d) * w for d, w in zip(digits, weights, strict=False)) % 11 % 10


@_CHECKER.checks("inn", raises=_FormatProblem)
def _check_inn(value: object) -> bool:
    """FNS checksums: one control digit for an organisation's 10, two for a person's 12."""
    if not isinstance(value, str):
        return True
    if len(value) not in (10, 12) or not _DIGITS.fullmatch(value):
        raise _FormatProblem(_FORMAT_RULES["inn"])
    if len(value) == 10:
        valid = _inn_digit(value, _INN_10) == int(value[9])
    else:
        valid = _inn_digit(value, _INN_11) == int(value[10]) and _inn_digit(value, _INN_12) == int(value[11])
    if not valid:
        raise _FormatProblem("Неверная контрольная сумма ИНН")
    return True


@_CHECKER.checks("passport", raises=_FormatProblem)
def _check_passport(value: object) -> bool:
    if isinstance(value, str) and not (len(value) == 10 and _DIGITS.fullmatch(value)):
        raise _FormatProblem(_FORMAT_RULES["passport"])
    return True


@_CHECKER.checks("division_code", raises=_FormatProblem)
def _check_division_code(value: object) -> bool:
    if isinstance(value, str) and not _DIVISION_CODE.fullmatch(value):
        raise _FormatProblem(_FORMAT_RULES["division_code"])
    return True


@_CHECKER.checks("phone", raises=_FormatProblem)
def _check_phone(value: object) -> bool:
    if isinstance(value, str) and normalize_phone(value) is None:
        raise _FormatProblem(PHONE_RULE)
    return True


@_CHECKER.checks("email", raises=_FormatProblem)
def _check_email(value: object) -> bool:
    if isinstance(value, str) and normalize_email(value) is None:
        raise _FormatProblem(EMAIL_RULE)
    return True


def format_checker() -> FormatChecker:
    """The checker with the portal's formats, for code that validates against the same rules elsewhere."""
    return _CHECKER


# --- dates that must make sense, not only parse ----------------------------------------------------------------

def _date_problem(name: str, value: object) -> str | None:
    if not isinstance(value, str) or not _DATE.fullmatch(value):
        return None
    try:
        when = date.fromisoformat(value)
    except ValueError:
        return None  # the format check reports it
    today = _today.get() or clock.now().astimezone(MSK).date()
    if name.endswith("birth_date"):
        if when < _OLDEST_BIRTH:
            return "Дата рождения не ранее 01.01.1900"
        if when >= today:
            return "Дата рождения должна быть в прошлом"
    elif "issue" in name and when > today:
        return "Дата выдачи не может быть в будущем"
    return None


_base_properties = Draft202012Validator.VALIDATORS["properties"]


def _properties(
    validator: Validator, properties: Mapping[str, Any], instance: object, schema: Mapping[str, Any],
) -> Iterator[ValidationError]:
    """The standard keyword plus the date checks: only here is the property's name known."""
    yield from _base_properties(validator, properties, instance, schema)
    if not isinstance(instance, dict):
        return
    for name, subschema in properties.items():
        if name in instance and isinstance(subschema, dict) and subschema.get("format") == "date":
            problem = _date_problem(name, instance[name])
            if problem:
                yield ValidationError(problem, validator="x-date", path=[name], instance=instance[name])


_FormValidator = validators.extend(Draft202012Validator, {"properties": _properties})
_compiled: dict[int, tuple[Mapping[str, Any], Validator]] = {}


def _validator(schema: Mapping[str, Any]) -> Validator:
    """Compiled once per schema object: schemas are loaded once per container and never mutated after.

    The cache keeps the schema itself, so its id cannot be reused by another object while the entry lives.
    """
    hit = _compiled.get(id(schema))
    if hit is not None and hit[0] is schema:
        return hit[1]
    _FormValidator.check_schema(schema)
    compiled = _FormValidator(schema, format_checker=_CHECKER)
    if len(_compiled) >= _CACHE_SIZE:
        _compiled.pop(next(iter(_compiled)))
    _compiled[id(schema)] = (schema, compiled)
    return compiled


# --- messages --------------------------------------------------------------------------------------------------

def _number(value: object) -> str:
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    return str(value).replace(".", ",")


def _genitive(count: int, one: str, many: str) -> str:
    """"не длиннее 1 символа / 21 символа / 5 символов": genitive singular after 1, plural otherwise."""
    return one if count % 10 == 1 and count % 100 != 11 else many


def _shown(value: object) -> str:
    if value is None:
        return "пусто"
    if isinstance(value, bool):
        return "да" if value else "нет"
    return _number(value) if isinstance(value, int | float) else str(value)


def _enum_titles(schema: Mapping[str, Any], values: Iterable[object]) -> list[str]:
    titles = schema.get("x-enum-titles")
    values = list(values)
    if isinstance(titles, list) and len(titles) == len(values):
        return [str(title) for title in titles]
    if isinstance(titles, dict):
        return [str(titles.get(value, _shown(value))) if isinstance(value, str) else _shown(value)
                for value in values]
    return [_shown(value) for value in values]


def _path(parts: Iterable[str | int]) -> str:
    return ".".join(str(part) for part in parts) or ROOT


def _schema_of(error: ValidationError) -> Mapping[str, Any]:
    return error.schema if isinstance(error.schema, dict) else {}


def _closest_branch(context: Iterable[ValidationError]) -> list[ValidationError]:
    """Errors of the variant the person most likely meant: one whose type fits the value, if there is one."""
    branches: dict[object, list[ValidationError]] = {}
    for error in context:
        branches.setdefault(error.relative_schema_path[0], []).append(error)
    fitting = [errors for errors in branches.values()
               if not any(e.validator == "type" and not e.relative_path for e in errors)]
    pool = fitting or list(branches.values())
    chosen = best_match(error for errors in pool for error in errors)
    return next(errors for errors in pool if any(error is chosen for error in errors))


def _problems(error: ValidationError) -> Iterator[tuple[str, str, int]]:
    """(path, message, rank) for one jsonschema error; some errors name several fields."""
    keyword = str(error.validator) if error.validator is not None else "false"
    value = error.validator_value
    here = list(error.absolute_path)
    rank = _RANK.get(keyword, 6)
    instance = error.instance
    schema = _schema_of(error)

    if keyword == "required" and isinstance(instance, dict):
        for name in value:
            if name not in instance:
                yield _path([*here, name]), REQUIRED, rank
        return
    if keyword == "dependentRequired" and isinstance(instance, dict):
        for trigger, needed in value.items():
            for name in needed if trigger in instance else ():
                if name not in instance:
                    yield _path([*here, name]), REQUIRED, rank
        return
    if keyword == "additionalProperties" and isinstance(instance, dict):
        known = schema.get("properties", {})
        patterns = schema.get("patternProperties", {})
        for name in instance:
            if name not in known and not any(re.search(pattern, name) for pattern in patterns):
                yield _path([*here, name]), f"Неизвестное поле «{name}»", rank
        return
    if keyword in ("anyOf", "oneOf") and error.context:
        wanted = [e.validator_value for e in error.context if e.validator == "type" and not e.relative_path]
        if len(wanted) == len(error.context):  # the value's type fits no variant: name all the types
            names = [name for value in wanted for name in (value if isinstance(value, list) else [value])]
            yield _path(here), _message("type", list(dict.fromkeys(names)), error, schema), _RANK["type"]
            return
        for branch_error in _closest_branch(error.context):
            yield from ((path, message, _RANK[keyword]) for path, message, _ in _problems(branch_error))
        return
    yield _path(here), _message(keyword, value, error, schema), rank


def _message(keyword: str, value: Any, error: ValidationError, schema: Mapping[str, Any]) -> str:
    if keyword == "type":
        names = value if isinstance(value, list) else [value]
        return f"Ожидается {' или '.join(_TYPE_NAMES.get(name, name) for name in names)}"
    if keyword == "format":
        if isinstance(error.cause, _FormatProblem):
            return str(error.cause)
        return _FORMAT_RULES.get(value, "Неверный формат")
    if keyword == "enum":
        return f"Допустимые значения: {', '.join(_enum_titles(schema, value))}"
    if keyword == "const":
        return f"Допустимое значение: {_enum_titles(schema, [value])[0]}"
    if keyword == "maxLength":
        return f"Не длиннее {value} {_genitive(value, 'символа', 'символов')}"
    if keyword == "minLength":
        if value == 1:
            return "Поле не может быть пустым"
        return f"Не короче {value} {_genitive(value, 'символа', 'символов')}"
    if keyword == "minItems":
        return f"Не меньше {value} {_genitive(value, 'элемента', 'элементов')}"
    if keyword == "maxItems":
        return f"Не больше {value} {_genitive(value, 'элемента', 'элементов')}"
    numeric = {
        "minimum": "Не меньше", "maximum": "Не больше", "exclusiveMinimum": "Больше", "exclusiveMaximum": "Меньше",
        "multipleOf": "Должно быть кратно",
    }
    if keyword in numeric:
        return f"{numeric[keyword]} {_number(value)}"
    simple = {
        "x-date": error.message,
        "pattern": "Неверный формат",
        "uniqueItems": "Значения не должны повторяться",
        "oneOf": "Значение подходит сразу под несколько вариантов",
        "unevaluatedProperties": "Есть неизвестные поля",
        "false": "Поле не допускается",
    }
    return simple.get(keyword, "Недопустимое значение")


def validate(schema: dict, params: object, *, today: date | None = None) -> dict[str, str]:
    """Every problem of `params` against the form `schema`, as {field path: Russian message}; {} when valid.

    `today` (Moscow date by default) is what birth and issue dates are compared with.
    """
    compiled = _validator(schema)
    token = _today.set(today)
    try:
        errors = list(compiled.iter_errors(params))
    finally:
        _today.reset(token)
    found: dict[str, tuple[int, str]] = {}
    for error in errors:
        for path, message, rank in _problems(error):
            if path not in found or rank < found[path][0]:
                found[path] = (rank, message)
    return {path: message for path, (_, message) in found.items()}
