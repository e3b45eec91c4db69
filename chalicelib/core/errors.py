"""The one error shape every route answers with (see docs/api.md)."""

from __future__ import annotations

from typing import Any


class ApiError(Exception):
    """A refusal the client can act on: status, stable code, Russian message, per-field reasons."""

    def __init__(self, status: int, code: str, message: str,
                 fields: dict[str, Any] | None = None, **extra: Any) -> None:
        super().__init__(code)
        self.status = status
        self.code = code
        self.message = message
        self.fields = fields or {}
        self.extra = extra

    def body(self) -> dict[str, Any]:
        err: dict[str, Any] = {"code": self.code, "message": self.message, "fields": self.fields}
        err.update(self.extra)
        return {"error": err}


def invalid(fields: dict[str, Any], message: str = "Проверьте введённые данные") -> ApiError:
    return ApiError(400, "VALIDATION_ERROR", message, fields)


def not_found(what: str = "Объект") -> ApiError:
    return ApiError(404, "NOT_FOUND", f"{what} не найден")


def unauthorized(message: str = "Требуется вход в систему") -> ApiError:
    return ApiError(401, "UNAUTHORIZED", message)


def too_many(code: str, message: str, retry_after: int) -> ApiError:
    return ApiError(429, code, message, retry_after=max(1, int(retry_after)))
