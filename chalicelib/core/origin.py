"""Where a request came from: recorded in audit entries, login history and sessions."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Origin:
    ip: str | None
    user_agent: str | None
