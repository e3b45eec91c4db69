"""State identifiers of a person (ID-3): checksums and the forms people read them in."""

from __future__ import annotations

from chalicelib.identity.contacts import snils_valid

_INN_WEIGHTS_11 = (7, 2, 4, 10, 3, 5, 9, 4, 6, 8)
_INN_WEIGHTS_12 = (3, 7, 2, 4, 10, 3, 5, 9, 4, 6, 8)

__all__ = ["inn_check_digits", "inn_valid", "show_date", "show_snils", "snils_valid"]


def inn_check_digits(first_ten: str) -> str:
    """The two check digits of a person's INN (ФНС order № ММВ-7-6/435@): weighted sums mod 11, then mod 10."""
    d11 = sum(int(c) * w for c, w in zip(first_ten, _INN_WEIGHTS_11, strict=True)) % 11 % 10
    d12 = sum(int(c) * w for c, w in zip(first_ten + str(d11), _INN_WEIGHTS_12, strict=True)) % 11 % 10
    return f"{d11}{d12}"


def inn_valid(digits: str) -> bool:
    """A person's INN: 12 digits whose last two are the check digits."""
    return len(digits) == 12 and digits.isascii() and digits.isdigit() and inn_check_digits(digits[:10]) == digits[10:]


def show_snils(digits: str | None) -> str:
    """NNN-NNN-NNN NN, as printed on the SNILS card."""
    if not digits or len(digits) != 11:
        return digits or ""
    return f"{digits[:3]}-{digits[3:6]}-{digits[6:9]} {digits[9:]}"


def show_date(iso: str | None) -> str:
    """DD.MM.YYYY for a stored ISO day (ID-3: how a person reads a date)."""
    if not iso:
        return ""
    y, m, d = iso[:10].split("-")
    return f"{d}.{m}.{y}"
