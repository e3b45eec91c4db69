"""What a person may keep in "Мои документы" (DC-1, DC-2): categories, file types and size limits."""

from __future__ import annotations

MIB = 1024 * 1024
MAX_SIZE = 10 * MIB
IDENTITY_MAX_SIZE = 5 * MIB  # DC-2 quotes 5 MB for identity documents; the stricter number applies to them

CATEGORIES: dict[str, str] = {
    "passport": "Паспорт",
    "snils": "СНИЛС",
    "inn": "ИНН",
    "tax_registration": "Свидетельство о постановке на учёт в налоговом органе",
    "consent": "Согласие на обработку персональных данных",
    "diploma": "Документ об образовании",
    "marriage": "Свидетельство о браке",
    "contract": "Договор",
    "certificate": "Справка или выписка",
    "receipt": "Квитанция",
    "other": "Другое",
}
IDENTITY = frozenset({"passport", "snils", "inn"})

# Declared content type → the file name endings it may carry and how people call it.
CONTENT_TYPES: dict[str, tuple[tuple[str, ...], str]] = {
    "application/pdf": ((".pdf",), "PDF"),
    "image/jpeg": ((".jpg", ".jpeg"), "JPG"),
    "image/png": ((".png",), "PNG"),
}


def max_size(category: str) -> int:
    return IDENTITY_MAX_SIZE if category in IDENTITY else MAX_SIZE


def megabytes(size: int) -> str:
    return f"{size // MIB} МБ"


def listing() -> list[dict[str, object]]:
    return [{"id": cid, "title": title, "max_size": max_size(cid), "content_types": list(CONTENT_TYPES)}
            for cid, title in CATEGORIES.items()]
