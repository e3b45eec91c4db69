"""Formats (ID-2, ID-3) and the password policy (ID-4) as pure functions."""

from __future__ import annotations

import pytest

from chalicelib.identity.contacts import classify_login, normalize_email, normalize_phone, snils_valid
from chalicelib.identity.password_policy import check_password


@pytest.mark.parametrize("raw", ["89161234567", "79161234567", "9161234567", "+79161234567"])
def test_accepted_phones(raw):
    assert normalize_phone(raw) == "+79161234567"


@pytest.mark.parametrize("raw", ["8916123456", "69161234567", "4951234567", "8 916 123 45 67", "８９１６１２３４５６７",
                                 "+89161234567", "", "89161234567x", "84951234567"])
def test_refused_phones(raw):
    assert normalize_phone(raw) is None


@pytest.mark.parametrize("raw", ["ivan@mail.ru", "Ivan.Petrov+tag@Yandex.RU", "a@b.co"])
def test_accepted_emails(raw):
    assert normalize_email(raw) == raw.lower()


@pytest.mark.parametrize("raw", ["ivan@mail", "ivan@mail.r", "iv an@mail.ru", "ivan.mail.ru", "@mail.ru",
                                 "ivan@mail.ru1", "ivan@@mail.ru", "ivan..p@mail.ru", "ivan@mail.ru\n"])
def test_refused_emails(raw):
    assert normalize_email(raw) is None


def test_snils_checksum():
    assert snils_valid("11223344595")
    assert not snils_valid("11223344596")
    assert not snils_valid("1122334459") and not snils_valid("1122334459x")


def test_classify_login():
    assert classify_login("8 (916) 123-45-67") == ("phone", "+79161234567")
    assert classify_login("Ivan@Mail.ru") == ("email", "ivan@mail.ru")
    assert classify_login("112-233-445 95") == ("snils", "11223344595")
    assert classify_login("112-233-445 96") is None
    assert classify_login("hello") is None


def _reasons(password, **kw):
    return check_password(password, password, **kw)


def test_good_password_passes():
    assert _reasons("Vesna#Dom48!", names=("Кузнецов", "Алексей"), phone="+79161234567") == []


@pytest.mark.parametrize(("password", "fragment"), [
    ("Ab1!", "Не менее 8"),
    ("abcdef1!", "заглавная"),
    ("ABCDEF1!", "строчная"),
    ("Abcdefg!", "цифра"),
    ("Abcdefg1", "специальный"),
    ("Xy!z1234q", "последовательност"),
    ("Xy!z9876q", "последовательност"),
    ("Password#71", "простых"),
    ("Qwerty#719", "простых"),
    ("Пароль#71Zx", "простых"),
    ("Kuznetsov#71", "личных"),
    ("Кузнецов#71Zx", "личных"),
    ("Repytwjd#71", "личных"),  # "Кузнецов" typed on a Latin keyboard
    ("Zx#9161234567", "личных"),
    ("Ab c#5719x", "пробел"),
])
def test_each_rule(password, fragment):
    reasons = _reasons(password, names=("Кузнецов", "Алексей"), phone="+79161234567")
    assert any(fragment in r for r in reasons), reasons


def test_birth_date_is_personal():
    assert any("личных" in r for r in _reasons("Zx!15031985q", birth_date="15.03.1985"))


def test_repeat_must_match():
    assert check_password("Vesna#Dom48!", "Vesna#Dom48?") == ["Пароли не совпадают"]
