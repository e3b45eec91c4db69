"""Who moves an application: the applicant, an agency officer, or the system (their names go in the journal)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from chalicelib.core.origin import Origin
from chalicelib.core.tokens import Principal


@dataclass(frozen=True)
class Actor:
    """Who moves an application: the applicant, an agency officer, or the system."""

    kind: str  # citizen | officer | system
    user_id: str | None = None
    name: str = ""
    department: str | None = None
    ip: str | None = None
    extra: dict[str, Any] = field(default_factory=dict)

    def public(self) -> dict[str, Any]:
        names = {"citizen": "Заявитель", "system": "Система"}
        return {"kind": self.kind, "name": self.name or names.get(self.kind, ""), "department": self.department}


def citizen(principal: Principal, origin: Origin) -> Actor:
    return Actor("citizen", principal.user_id, ip=origin.ip)


SYSTEM = Actor("system", name="Система")
