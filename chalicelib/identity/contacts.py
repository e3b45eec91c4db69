"""Phone and e-mail formats from ID-2, and telling which kind of login a person typed (AU-1)."""

from __future__ import annotations

import re

_EMAIL = re.compile(r"^[A-Za-z0-9._%+\-]+@(?:[A-Za-z0-9\-]+\.)+[A-Za-z]{2,}$")
_SNILS_SEPARATED = re.compile(r"^\d{3}-\d{3}-\d{3}[ -]\d{2}$")

PHONE_RULE = "Мобильный номер: 11 цифр, начиная с 7 или 8, или 10 цифр, начиная с 9, без пробелов"
EMAIL_RULE = "Адрес электронной почты в формате имя@домен.ru, без пробелов"


def normalize_phone(text: str) -> str | None:
    """+7XXXXXXXXXX for an accepted Russian mobile number, else None. A leading + is tolerated."""
    if text.startswith("+") and not text.startswith("+7"):
        return None
    digits = text.lstrip("+")
    if not digits.isascii() or not digits.isdigit():
        return None
    if len(digits) == 11 and digits[0] in "78" and digits[1] == "9":
        return "+7" + digits[1:]
    if len(digits) == 10 and digits[0] == "9":
        return "+7" + digits
    return None


def normalize_email(text: str) -> str | None:
    if len(text) > 254 or not _EMAIL.fullmatch(text) or ".." in text:
        return None
    return text.lower()  # one account per address whatever the letter case


def snils_valid(digits: str) -> bool:
    """SNILS checksum (ПФР rules): weights 9..1, sum mod 101, 100 counts as 00."""
    if len(digits) != 11 or not digits.isdigit():
        return False
    total = sum(int(d) * w for d, w in zip(digits[:9], range(9, 0, -1), strict=True))
    check = total if total < 100 else (0 if total in (100, 101) else total % 101)
    return (check if check < 100 else 0) == int(digits[9:])


def classify_login(text: str) -> tuple[str, str] | None:
    """(kind, normalized value) for a phone, an e-mail or a SNILS; None when it is none of them.

    SNILS written with its usual separators (123-456-789 01) is a SNILS; bare digits that form a
    mobile number are a phone, otherwise a SNILS when the checksum holds.
    """
    text = text.strip()
    if "@" in text:
        email = normalize_email(text)
        return ("email", email) if email else None
    if _SNILS_SEPARATED.fullmatch(text):
        digits = re.sub(r"\D", "", text)
        return ("snils", digits) if snils_valid(digits) else None
    phone = normalize_phone(re.sub(r"[\s()\-]", "", text))
    if phone:
        return "phone", phone
    return ("snils", text) if snils_valid(text) else None
