"""How each kind of domain refusal answers over HTTP: the only place that maps refusals to statuses."""

from __future__ import annotations

from chalicelib.core import errors

STATUS: dict[type[errors.DomainError], int] = {
    errors.Invalid: 400,
    errors.Unauthorized: 401,
    errors.Forbidden: 403,
    errors.NotFound: 404,
    errors.Conflict: 409,
    errors.Gone: 410,
    errors.TooLarge: 413,
    errors.Unprocessable: 422,
    errors.Locked: 423,
    errors.TooMany: 429,
    errors.Unavailable: 503,
}


def status_of(exc: errors.DomainError) -> int:
    for kind in type(exc).__mro__:
        if kind in STATUS:
            return STATUS[kind]
    return 400
