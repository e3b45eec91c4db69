"""What a signed-in person reads about themselves: profile and login history (AU-9)."""

from __future__ import annotations

from typing import Any

from chalicelib.core.errors import not_found
from chalicelib.store import keys, table

_PROFILE_FIELDS = ("user_id", "last_name", "first_name", "middle_name", "phone", "email", "tier", "created_at")
_HISTORY_FIELDS = ("at", "ip", "device_type", "os", "browser", "method", "result")


def profile(user_id: str) -> dict[str, Any]:
    user = table.get(keys.user(user_id), consistent=False)
    if not user:
        raise not_found("Пользователь")
    return {f: user.get(f) for f in _PROFILE_FIELDS}


def login_history(user_id: str, cursor: str | None, limit: int = 20) -> dict[str, Any]:
    page = table.query(f"USER#{user_id}", "LOGIN#", cursor=cursor, limit=limit)
    return {"items": [{f: item.get(f) for f in _HISTORY_FIELDS} for item in page.items], "cursor": page.cursor}
