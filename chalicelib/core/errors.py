"""Domain refusals: a stable code, a Russian message, per-field reasons — and no HTTP.

Domain, store and worker code raise these; only `chalicelib/api/errors.py` knows which HTTP status each kind
answers with, so the web client, the OpenID provider and workers can present or handle the same refusal
their own way (a worker catches `Conflict` to mean "someone else already did it").
"""

from __future__ import annotations

from typing import Any


class DomainError(Exception):
    """A refusal the caller can act on. Subclasses say what kind of refusal it is."""

    def __init__(self, code: str, message: str, fields: dict[str, Any] | None = None, **extra: Any) -> None:
        super().__init__(code)
        self.code = code
        self.message = message
        self.fields = fields or {}
        self.extra = extra

    def body(self) -> dict[str, Any]:
        err: dict[str, Any] = {"code": self.code, "message": self.message, "fields": self.fields}
        err.update(self.extra)
        return {"error": err}


class Invalid(DomainError):
    """The input is wrong; `fields` says where."""


class Unauthorized(DomainError):
    """Not signed in, or the credentials or token are not good."""


class Forbidden(DomainError):
    """Signed in, but this person may not do this (role, tier, network)."""


class NotFound(DomainError):
    """No such object for this caller (another person's object is not found either)."""


class Conflict(DomainError):
    """The object is not in a state that allows this (already done, raced, taken)."""


class Gone(DomainError):
    """The thing existed but is no longer usable (expired code, deleted document)."""


class TooLarge(DomainError):
    """The request or file is over its limit."""


class Unprocessable(DomainError):
    """Well-formed, but the account or object lacks what this needs (no phone, unsigned file)."""


class Locked(DomainError):
    """The account or factor is blocked for a while."""


class TooMany(DomainError):
    """A rate or attempt limit; `retry_after` seconds say when to come back."""

    def __init__(self, code: str, message: str, retry_after: float, fields: dict[str, Any] | None = None,
                 **extra: Any) -> None:
        super().__init__(code, message, fields, retry_after=max(1, int(retry_after)), **extra)


class Unavailable(DomainError):
    """A passing condition on our side; the same request may succeed later."""


def invalid(fields: dict[str, Any], message: str = "Проверьте введённые данные") -> Invalid:
    return Invalid("VALIDATION_ERROR", message, fields)


def not_found(what: str = "Объект", *, feminine: bool = False, neuter: bool = False) -> NotFound:
    """«Заявление не найдено», «Заявка не найдена»: the participle agrees with the noun's gender."""
    ending = "а" if feminine else "о" if neuter else ""
    return NotFound("NOT_FOUND", f"{what} не найден{ending}")


def unauthorized(message: str = "Требуется вход в систему") -> Unauthorized:
    return Unauthorized("UNAUTHORIZED", message)


def too_many(code: str, message: str, retry_after: float) -> TooMany:
    return TooMany(code, message, retry_after)
