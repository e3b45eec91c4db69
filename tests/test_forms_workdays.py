"""Deadlines in working days by the Russian production calendar, and application forms checked against the
service's JSON Schema with one Russian message per field."""

from __future__ import annotations

import copy
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest
from jsonschema.exceptions import SchemaError

from chalicelib.applications import forms
from chalicelib.applications.forms import format_checker, validate
from chalicelib.core import clock
from chalicelib.core.workdays import add_working_days, expected_by, is_working_day
from chalicelib.identity.contacts import EMAIL_RULE, PHONE_RULE

# -- workdays --------------------------------------------------------------------------------------------------


def _working_days_in(year: int) -> int:
    first, last = date(year, 1, 1), date(year, 12, 31)
    return sum(is_working_day(first + timedelta(days=i)) for i in range((last - first).days + 1))


@pytest.mark.parametrize("year", [2025, 2026, 2027])
def test_known_years_have_the_official_number_of_working_days(year):
    assert _working_days_in(year) == 247


def test_30_working_days_from_late_november_2026_cross_the_new_year():
    # 27 working days left in 2026 after 23 Nov (31 Dec is off), then 1–10 Jan 2027 off.
    assert add_working_days(date(2026, 11, 23), 30) == date(2027, 1, 13)


def test_friday_plus_one_is_monday():
    assert add_working_days(date(2026, 3, 13), 1) == date(2026, 3, 16)


def test_submission_day_does_not_count_and_zero_days_is_the_same_day():
    assert add_working_days(date(2026, 3, 16), 1) == date(2026, 3, 17)
    assert add_working_days(date(2026, 3, 16), 0) == date(2026, 3, 16)
    with pytest.raises(ValueError, match="negative"):
        add_working_days(date(2026, 3, 16), -1)


def test_new_year_2026_2027():
    assert not is_working_day(date(2026, 12, 31))  # moved from Sunday 4 January 2026
    assert add_working_days(date(2026, 12, 30), 1) == date(2027, 1, 11)
    assert all(not is_working_day(date(2027, 1, day)) for day in range(1, 11))


def test_january_2026_holidays_run_to_the_11th():
    assert all(not is_working_day(date(2026, 1, day)) for day in range(1, 12))
    assert is_working_day(date(2026, 1, 12))
    assert add_working_days(date(2025, 12, 30), 1) == date(2026, 1, 12)  # 31 Dec 2025 is off too


def test_may_holidays_2026():
    assert add_working_days(date(2026, 4, 30), 1) == date(2026, 5, 4)  # Friday 1 May
    assert add_working_days(date(2026, 5, 8), 1) == date(2026, 5, 12)  # Saturday 9 May gives Monday 11 May
    assert add_working_days(date(2026, 4, 30), 5) == date(2026, 5, 8)


def test_other_2026_holidays_and_their_automatic_shifts():
    for day in (date(2026, 2, 23), date(2026, 3, 9), date(2026, 6, 12), date(2026, 11, 4)):
        assert not is_working_day(day), day
    assert is_working_day(date(2026, 3, 10))


def test_transferred_working_saturday_counts():
    assert is_working_day(date(2025, 11, 1))
    assert add_working_days(date(2025, 10, 31), 1) == date(2025, 11, 1)
    assert add_working_days(date(2025, 11, 1), 1) == date(2025, 11, 5)  # 2 Nov Sunday, 3 and 4 Nov off
    assert is_working_day(date(2027, 2, 20))
    assert not is_working_day(date(2027, 2, 22))


def test_2025_transfers():
    for day in (date(2025, 5, 2), date(2025, 5, 8), date(2025, 6, 13), date(2025, 11, 3), date(2025, 12, 31)):
        assert not is_working_day(day), day
    assert is_working_day(date(2025, 2, 24))  # 23 Feb moved to 8 May, not to the Monday


def test_unknown_year_falls_back_to_the_labour_code():
    assert all(not is_working_day(date(2030, 1, day)) for day in range(1, 9))
    assert is_working_day(date(2030, 1, 9))
    assert add_working_days(date(2029, 12, 31), 1) == date(2030, 1, 9)
    for day in (date(2030, 2, 23), date(2030, 3, 8), date(2030, 5, 1), date(2030, 5, 9), date(2030, 6, 12),
                date(2030, 11, 4)):
        assert not is_working_day(day), day
    assert not is_working_day(date(2030, 2, 25))  # 23 Feb 2030 is a Saturday: the Monday is off (art. 112)


def test_expected_by_counts_from_the_moscow_date():
    late_thursday_utc = datetime(2026, 11, 26, 21, 30, tzinfo=UTC)  # already Friday 27 Nov in Moscow
    assert expected_by(late_thursday_utc, 1) == date(2026, 11, 30)
    assert expected_by(datetime(2026, 11, 26, 20, 59, tzinfo=UTC), 1) == date(2026, 11, 27)
    with pytest.raises(ValueError, match="timezone"):
        expected_by(datetime(2026, 11, 26, 12, 0), 1)


# -- forms -----------------------------------------------------------------------------------------------------

TODAY = date(2026, 6, 15)

SCHEMA: dict[str, Any] = {
    "$schema": "https://json-schema.org/draft/2020-12/schema",
    "type": "object",
    "additionalProperties": False,
    "required": ["last_name", "birth_date", "snils", "reason"],
    "properties": {
        "last_name": {"type": "string", "title": "Фамилия", "minLength": 1, "maxLength": 100,
                      "x-prefill": "profile.last_name"},
        "birth_date": {"type": "string", "format": "date", "title": "Дата рождения", "x-prefill": "profile.birth_date"},
        "snils": {"type": "string", "format": "snils", "maxLength": 11, "title": "СНИЛС"},
        "inn": {"type": "string", "format": "inn", "title": "ИНН"},
        "passport": {"type": "string", "format": "passport", "title": "Серия и номер паспорта"},
        "passport_issued_at": {"type": "string", "format": "date", "title": "Дата выдачи паспорта"},
        "division_code": {"type": "string", "format": "division_code", "title": "Код подразделения"},
        "phone": {"type": "string", "format": "phone", "title": "Телефон"},
        "email": {"type": "string", "format": "email", "title": "Электронная почта"},
        "reason": {"type": "string", "title": "Причина", "enum": ["replace", "lost"],
                   "x-enum-titles": ["Замена паспорта", "Утеря"]},
        "copies": {"type": "integer", "title": "Количество экземпляров", "minimum": 1, "maximum": 5},
        "fee": {"type": "number", "title": "Сумма пошлины", "minimum": 0.5},
        "urgent": {"type": "boolean", "title": "Срочно"},
        "comment": {"type": ["string", "null"], "title": "Комментарий", "maxLength": 21},
        "employer_inn": {"title": "ИНН работодателя", "anyOf": [{"type": "null"}, {"type": "string", "format": "inn"}]},
        "address": {
            "type": "object", "title": "Адрес", "additionalProperties": False, "required": ["city"],
            "properties": {"city": {"type": "string", "title": "Город", "minLength": 1},
                           "zip": {"type": "string", "title": "Индекс", "pattern": "^[0-9]{6}$"}},
        },
        "children": {
            "type": "array", "title": "Дети", "maxItems": 3,
            "items": {
                "type": "object", "additionalProperties": False, "required": ["name", "birth_date"],
                "properties": {"name": {"type": "string", "title": "Имя"},
                               "birth_date": {"type": "string", "format": "date", "title": "Дата рождения"}},
            },
        },
    },
}

VALID: dict[str, Any] = {
    "last_name": "Кузнецов",
    "birth_date": "1985-04-12",
    "snils": "11223344595",
    "inn": "500100732259",
    "passport": "4510123456",
    "passport_issued_at": "2026-06-15",
    "division_code": "770-001",
    "phone": "+79161234567",
    "email": "a.kuznetsov@mail.ru",
    "reason": "lost",
    "copies": 2,
    "fee": 1500.0,
    "urgent": False,
    "comment": None,
    "employer_inn": "7707083893",
    "address": {"city": "Москва", "zip": "101000"},
    "children": [{"name": "Мария", "birth_date": "2015-09-01"}],
}


def _check(**changes: Any) -> dict[str, str]:
    params = copy.deepcopy(VALID)
    params.update(changes)
    return validate(SCHEMA, params, today=TODAY)


def test_valid_params_have_no_problems():
    assert validate(SCHEMA, VALID, today=TODAY) == {}
    minimal = {k: VALID[k] for k in ("last_name", "birth_date", "snils", "reason")}
    assert validate(SCHEMA, minimal, today=TODAY) == {}


def test_missing_required_fields_are_reported_on_their_own_paths():
    assert validate(SCHEMA, {"reason": "lost"}, today=TODAY) == {
        "last_name": "Обязательное поле", "birth_date": "Обязательное поле", "snils": "Обязательное поле"}


def test_unknown_field():
    assert _check(nickname="Ваня") == {"nickname": "Неизвестное поле «nickname»"}


@pytest.mark.parametrize(("field", "value", "message"), [
    ("last_name", 5, "Ожидается строка"),
    ("copies", "2", "Ожидается целое число"),
    ("copies", 1.5, "Ожидается целое число"),
    ("fee", "1500", "Ожидается число"),
    ("urgent", "да", "Ожидается логическое значение"),
    ("comment", 7, "Ожидается строка или пустое значение"),
    ("address", "Москва", "Ожидается объект"),
    ("children", {"name": "Мария"}, "Ожидается список"),
    ("snils", 11223344595, "Ожидается строка"),
])
def test_wrong_types(field, value, message):
    assert _check(**{field: value}) == {field: message}


def test_root_must_be_an_object():
    assert validate(SCHEMA, [], today=TODAY) == {"params": "Ожидается объект"}
    assert validate(SCHEMA, None, today=TODAY) == {"params": "Ожидается объект"}


@pytest.mark.parametrize(("field", "value", "message"), [
    ("last_name", "К" * 101, "Не длиннее 100 символов"),
    ("comment", "слово " * 5, "Не длиннее 21 символа"),
    ("last_name", "", "Поле не может быть пустым"),
    ("reason", "stolen", "Допустимые значения: Замена паспорта, Утеря"),
    ("copies", 0, "Не меньше 1"),
    ("copies", 6, "Не больше 5"),
    ("fee", 0.25, "Не меньше 0,5"),
    ("birth_date", "12.04.1985", "Дата в формате ГГГГ-ММ-ДД"),
    ("birth_date", "19850412", "Дата в формате ГГГГ-ММ-ДД"),
    ("birth_date", "1985-02-30", "Такой даты не существует"),
    ("passport", "4510 123456", "Серия и номер паспорта — 10 цифр без пробелов"),
    ("passport", "451012345", "Серия и номер паспорта — 10 цифр без пробелов"),
    ("division_code", "770001", "Код подразделения в формате 000-000"),
    ("phone", "+7 916 123-45-67", PHONE_RULE),
    ("phone", "+74951234567", PHONE_RULE),
    ("email", "kuznetsov@", EMAIL_RULE),
])
def test_each_broken_rule_has_its_message(field, value, message):
    assert _check(**{field: value}) == {field: message}


def test_enum_without_titles_lists_the_values():
    schema = {"type": "object", "properties": {"kind": {"enum": ["a", "b", None]}}}
    assert validate(schema, {"kind": "c"}) == {"kind": "Допустимые значения: a, b, пусто"}


@pytest.mark.parametrize(("snils", "message"), [
    ("112-233-445 95", "СНИЛС — 11 цифр без пробелов и дефисов"),  # maxLength broken too: the format explains
    ("112 233 445 95", "СНИЛС — 11 цифр без пробелов и дефисов"),
    ("1122334459", "СНИЛС — 11 цифр без пробелов и дефисов"),
    ("11223344596", "Неверная контрольная сумма СНИЛС"),
])
def test_snils_digits_only_with_checksum(snils, message):
    assert _check(snils=snils) == {"snils": message}


@pytest.mark.parametrize("inn", ["500100732259", "7707083893", "7736207543"])
def test_valid_inn(inn):
    assert _check(inn=inn) == {}


@pytest.mark.parametrize(("inn", "message"), [
    ("500100732258", "Неверная контрольная сумма ИНН"),
    ("500100732249", "Неверная контрольная сумма ИНН"),  # first control digit wrong
    ("7707083894", "Неверная контрольная сумма ИНН"),
    ("77070838931", "ИНН: 12 цифр для физического лица или 10 для организации"),
    ("770708389", "ИНН: 12 цифр для физического лица или 10 для организации"),
    ("7707-083893", "ИНН: 12 цифр для физического лица или 10 для организации"),
])
def test_invalid_inn(inn, message):
    assert _check(inn=inn) == {"inn": message}


def test_variant_field_reports_the_specific_problem():
    assert _check(employer_inn=None) == {}
    assert _check(employer_inn="7707083894") == {"employer_inn": "Неверная контрольная сумма ИНН"}
    assert _check(employer_inn=7707083893) == {"employer_inn": "Ожидается пустое значение или строка"}


def test_variant_objects_report_every_problem_of_the_closest_variant():
    schema = {"type": "object", "properties": {"payer": {"oneOf": [
        {"type": "object", "required": ["snils"], "properties": {"snils": {"type": "string", "format": "snils"}}},
        {"type": "string", "format": "inn"},
    ]}}}
    assert validate(schema, {"payer": {"snils": "11223344596"}}) == {"payer.snils": "Неверная контрольная сумма СНИЛС"}
    assert validate(schema, {"payer": {}}) == {"payer.snils": "Обязательное поле"}
    assert validate(schema, {"payer": "7707083893"}) == {}


def test_nested_object_and_array_paths():
    problems = _check(
        address={"zip": "1010", "flat": "5"},
        children=[{"name": "Мария", "birth_date": "2015-9-1"}, {"name": 3, "age": 5}],
    )
    assert problems == {
        "address.city": "Обязательное поле",
        "address.zip": "Неверный формат",
        "address.flat": "Неизвестное поле «flat»",
        "children.0.birth_date": "Дата в формате ГГГГ-ММ-ДД",
        "children.1.name": "Ожидается строка",
        "children.1.birth_date": "Обязательное поле",
        "children.1.age": "Неизвестное поле «age»",
    }


def test_array_length():
    child = {"name": "Мария", "birth_date": "2015-09-01"}
    assert _check(children=[child] * 4) == {"children": "Не больше 3 элементов"}


def test_several_problems_at_once():
    params = {"last_name": "", "birth_date": "1985-04-12", "snils": "11223344596", "reason": "stolen",
              "inn": "123", "phone": "8 916 123 45 67", "x": 1}
    assert validate(SCHEMA, params, today=TODAY) == {
        "last_name": "Поле не может быть пустым",
        "snils": "Неверная контрольная сумма СНИЛС",
        "reason": "Допустимые значения: Замена паспорта, Утеря",
        "inn": "ИНН: 12 цифр для физического лица или 10 для организации",
        "phone": PHONE_RULE,
        "x": "Неизвестное поле «x»",
    }


@pytest.mark.parametrize(("changes", "expected"), [
    ({"birth_date": "2026-06-15"}, {"birth_date": "Дата рождения должна быть в прошлом"}),
    ({"birth_date": "2030-01-01"}, {"birth_date": "Дата рождения должна быть в прошлом"}),
    ({"birth_date": "1899-12-31"}, {"birth_date": "Дата рождения не ранее 01.01.1900"}),
    ({"birth_date": "1900-01-01"}, {}),
    ({"birth_date": "2026-06-14"}, {}),
    ({"passport_issued_at": "2026-06-16"}, {"passport_issued_at": "Дата выдачи не может быть в будущем"}),
    ({"passport_issued_at": "2026-06-15"}, {}),
    ({"children": [{"name": "Мария", "birth_date": "2027-01-01"}]},
     {"children.0.birth_date": "Дата рождения должна быть в прошлом"}),
])
def test_dates_must_make_sense(changes, expected):
    assert _check(**changes) == expected


@pytest.fixture
def moscow_just_past_midnight() -> Iterator[None]:
    clock.use(lambda: datetime(2026, 6, 14, 21, 30, tzinfo=UTC))  # 15 June 00:30 in Moscow
    yield
    clock.reset()


@pytest.mark.usefixtures("moscow_just_past_midnight")
def test_today_defaults_to_the_moscow_date():
    params = {**VALID, "passport_issued_at": "2026-06-15", "birth_date": "2026-06-15"}
    assert validate(SCHEMA, params) == {"birth_date": "Дата рождения должна быть в прошлом"}


def test_validator_is_compiled_once_per_schema():
    first = forms._validator(SCHEMA)
    assert forms._validator(SCHEMA) is first
    twin = copy.deepcopy(SCHEMA)
    assert forms._validator(twin) is not first
    assert validate(twin, VALID, today=TODAY) == {}


def test_broken_schema_is_refused():
    with pytest.raises(SchemaError):
        validate({"type": "text"}, {})


def test_format_checker_is_shared():
    checker = format_checker()
    assert checker.conforms("7707083893", "inn")
    assert not checker.conforms("7707083894", "inn")
    assert checker.conforms("11223344595", "snils")
    assert not checker.conforms("112-233-445 95", "snils")
    assert checker.conforms(12, "passport")  # formats only judge strings; the type keyword judges the rest
