"""Application statuses and who may move an application from one to another (SV-6)."""

from __future__ import annotations

TITLES = {
    "draft": "Черновик",
    "submitted": "Принято",
    "in_progress": "В работе",
    "awaiting_documents": "Требуются документы",
    "approved": "Одобрено",
    "rejected": "Отклонено",
    "cancelled": "Отменено",
}
FINAL = frozenset({"approved", "rejected", "cancelled"})

# (from, to) → the kinds of actor allowed to make that move.
MOVES: dict[tuple[str, str], frozenset[str]] = {
    ("draft", "submitted"): frozenset({"citizen"}),
    ("submitted", "in_progress"): frozenset({"officer", "system"}),
    ("submitted", "approved"): frozenset({"system"}),  # automatic services decide at once
    ("submitted", "rejected"): frozenset({"system"}),
    ("in_progress", "awaiting_documents"): frozenset({"officer"}),
    ("awaiting_documents", "in_progress"): frozenset({"citizen"}),
    ("in_progress", "approved"): frozenset({"officer", "system"}),
    ("in_progress", "rejected"): frozenset({"officer", "system"}),
    ("draft", "cancelled"): frozenset({"citizen"}),
    ("submitted", "cancelled"): frozenset({"citizen"}),
    ("in_progress", "cancelled"): frozenset({"citizen"}),
    ("awaiting_documents", "cancelled"): frozenset({"citizen"}),
}


def allowed_from(to: str, actor: str) -> list[str]:
    """Statuses from which `actor` may move an application to `to` (the condition of the write)."""
    return sorted(frm for (frm, dst), actors in MOVES.items() if dst == to and actor in actors)
