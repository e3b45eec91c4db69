"""Password rules of ID-4, each broken rule reported separately so the form can show them all."""

from __future__ import annotations

import re
from collections.abc import Iterable

MIN_LENGTH = 8

_COMMON = {
    "password", "passw0rd", "qwerty", "qwertyui", "asdfgh", "zxcvbn", "letmein", "welcome", "admin",
    "administrator", "iloveyou", "monkey", "dragon", "master", "sunshine", "princess", "football",
    "baseball", "superman", "starwars", "trustno1", "secret", "login", "abc123", "qazwsx", "1q2w3e",
    "пароль", "йцукен", "фывапр", "любовь", "привет", "солнышко", "россия", "москва", "gosuslugi",
    "госуслуги", "user", "test", "changeme", "default", "hello", "freedom", "shadow", "michael",
}

_RU_TO_LAT = dict(zip("абвгдеёжзийклмнопрстуфхцчшщъыьэюя",
                      ["a", "b", "v", "g", "d", "e", "e", "zh", "z", "i", "y", "k", "l", "m", "n", "o", "p",
                       "r", "s", "t", "u", "f", "kh", "ts", "ch", "sh", "shch", "", "y", "", "e", "yu", "ya"],
                      strict=True))
# The same keys on a Russian (ЙЦУКЕН) and a Latin (QWERTY) keyboard: "Иванов" typed blind is "Bdfyjd".
_RU_KEYS = "йцукенгшщзхъфывапролджэячсмитьбю"
_LAT_KEYS = "qwertyuiop[]asdfghjkl;'zxcvbnm,."
_RU_TO_KEYS = dict(zip(_RU_KEYS, _LAT_KEYS, strict=True))


def _translit(word: str) -> str:
    return "".join(_RU_TO_LAT.get(c, c) for c in word)


def _keyboard(word: str) -> str:
    return "".join(_RU_TO_KEYS.get(c, c) for c in word)


def _has_sequence(password: str) -> bool:
    digits = [int(c) if c.isdigit() else None for c in password]
    for i in range(len(digits) - 2):
        a, b, c = digits[i:i + 3]
        if a is not None and b is not None and c is not None and (b - a == c - b) and abs(b - a) == 1:
            return True
    return False


def _personal_fragments(names: Iterable[str | None], phone: str | None, birth_date: str | None) -> set[str]:
    out: set[str] = set()
    for name in names:
        if not name:
            continue
        for part in re.split(r"[\s\-]+", name.lower()):
            if len(part) >= 3:
                out.update({part, _translit(part), _keyboard(part)})
    if phone:
        digits = phone.lstrip("+")
        out.update({digits[1:], digits[-7:]})
    if birth_date:  # DD.MM.YYYY
        d, m, y = birth_date.split(".")
        out.update({d + m + y, y + m + d, d + m + y[2:], y, d + m})
    return {f for f in out if len(f) >= 4}


def check_password(password: str, repeat: str, *, names: Iterable[str | None] = (), phone: str | None = None,
                   birth_date: str | None = None) -> list[str]:
    """Every rule the password breaks, as Russian reasons; an empty list means it is acceptable."""
    reasons: list[str] = []
    if len(password) < MIN_LENGTH:
        reasons.append(f"Не менее {MIN_LENGTH} символов")
    if not any(c.isupper() for c in password):
        reasons.append("Хотя бы одна заглавная буква")
    if not any(c.islower() for c in password):
        reasons.append("Хотя бы одна строчная буква")
    if not any(c.isdigit() for c in password):
        reasons.append("Хотя бы одна цифра")
    if all(c.isalnum() for c in password):
        reasons.append("Хотя бы один специальный символ, например ! @ # $ %")
    if any(c.isspace() for c in password):
        reasons.append("Без пробелов")
    if _has_sequence(password):
        reasons.append("Без последовательностей цифр, например 123 или 987")
    lowered = password.lower()
    letters = re.sub(r"[^a-zа-яё]", "", lowered)
    if any(word in lowered or word in letters for word in _COMMON):
        reasons.append("Без простых и распространённых слов, например password или qwerty")
    if any(f in lowered for f in _personal_fragments(names, phone, birth_date)):
        reasons.append("Без личных данных: имени, фамилии, телефона, даты рождения")
    if password != repeat:
        reasons.append("Пароли не совпадают")
    return reasons
