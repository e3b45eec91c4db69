"""Route plumbing shared by every blueprint: the input boundary, auth and roles, the one error shape, the one
JSON writer, and the facts the OpenAPI document is built from.

A view is declared with `endpoint(...)`; it receives a `Call` (who, from where, query) and, when it takes a
body, the validated pydantic model. Before it runs: path and query values are checked (api/boundary.py, then
the route's query model), the token and its role, the body. Whatever the view raises becomes the error shape;
nothing unexpected leaks out (500 carries only a request id).

Each request is a logging scope (core/observability.py): its lines carry API Gateway's request id — the one a 500
answer shows — the route, and the signed-in person's hash; the middleware writes one line per request (method,
route template, status, duration) and flushes the request's metrics.
"""

from __future__ import annotations

import functools
import json
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from chalice import Blueprint, Response
from pydantic import BaseModel, ValidationError

from chalicelib.api import boundary
from chalicelib.api.errors import status_of
from chalicelib.core import i18n, observability
from chalicelib.core.errors import DomainError, Forbidden, Invalid, TooLarge, unauthorized
from chalicelib.core.ids import new_id
from chalicelib.core.models import PATTERN_MESSAGES, Query
from chalicelib.core.origin import Origin
from chalicelib.core.tokens import Principal, verify_access

log = logging.getLogger("kabinet.api")
MAX_BODY = 64 * 1024
JSON_HEADERS = {"Content-Type": "application/json; charset=utf-8", "Cache-Control": "no-store"}

# Who may call a route with `role=...`, and what the others are told (403 FORBIDDEN).
ROLES: dict[str, str] = {
    "citizen": "Действие доступно только заявителям: сотрудники ведомств работают с заявлениями в разделе ведомства",
    "officer": "Раздел доступен только сотрудникам ведомств",
    "operator": "Раздел доступен только операторам центров обслуживания (МФЦ)",
    # news (NT-4): editors publish
    "editor": "Раздел доступен только редакторам новостей портала",
}


@dataclass(frozen=True)
class Content:
    """A response that is not JSON: its media type, and whether the body is bytes (a PDF) or text (CSV)."""

    media_type: str
    binary: bool = False
    description: str = ""


@dataclass(frozen=True)
class RouteDoc:
    method: str
    path: str
    summary: str
    body: type[BaseModel] | None
    response: Any  # a pydantic model or type (JSON), a Content, or None (204: no body)
    status: int
    auth: bool
    query: type[Query] | None
    tag: str
    raw: tuple[str, ...] = ()
    roles: tuple[str, ...] = ()
    checked: dict[str, str] = field(default_factory=dict)
    limited: bool = False
    path_schemas: dict[str, dict[str, Any]] = field(default_factory=dict)
    headers: dict[str, dict[str, Any]] = field(default_factory=dict)  # request headers: name → OpenAPI parameter
    also: dict[int, str] = field(default_factory=dict)  # other success statuses with the same body: why


ROUTES: list[RouteDoc] = []


@dataclass
class Call:
    origin: Origin
    query: dict[str, str] = field(default_factory=dict)
    principal: Principal | None = None
    headers: dict[str, str] = field(default_factory=dict)

    def header(self, name: str) -> str | None:
        """A request header by name, whatever case the client wrote it in."""
        wanted = name.lower()
        return next((v for k, v in self.headers.items() if k.lower() == wanted), None)

    @property
    def user_id(self) -> str:
        assert self.principal is not None
        return self.principal.user_id


_MESSAGES = {
    "missing": "Обязательное поле",
    "extra_forbidden": "Неизвестное поле",
    "string_type": "Ожидается строка",
    "string_too_long": "Слишком длинное значение",
    "string_too_short": "Слишком короткое значение",
    "string_pattern_mismatch": "Неверный формат",
    "int_type": "Ожидается целое число",
    "int_parsing": "Ожидается целое число",
    "int_from_float": "Ожидается целое число",
    "bool_type": "Ожидается true или false",
    "bool_parsing": "Ожидается true или false",
    "list_type": "Ожидается список",
    "too_long": "Слишком много элементов",
    "too_short": "Слишком мало элементов",
    "model_type": "Ожидается объект",
    "model_attributes_type": "Ожидается объект",
    "dict_type": "Ожидается объект",
    "literal_error": "Недопустимое значение",
    "enum": "Недопустимое значение",
    "date_type": "Дата в формате ГГГГ-ММ-ДД",
    "date_parsing": "Дата в формате ГГГГ-ММ-ДД",
    "date_from_datetime_parsing": "Дата в формате ГГГГ-ММ-ДД",
    "date_from_datetime_inexact": "Дата в формате ГГГГ-ММ-ДД",
    "greater_than_equal": "Слишком маленькое значение",
    "less_than_equal": "Слишком большое значение",
}


def validation_fields(exc: ValidationError) -> dict[str, str]:
    fields: dict[str, str] = {}
    for err in exc.errors(include_url=False):
        path = ".".join(str(p) for p in err["loc"]) or "body"
        ctx = err.get("ctx") or {}
        if err["type"] == "value_error":
            message = str(ctx.get("error", err["msg"]))
        elif err["type"] == "string_pattern_mismatch" and ctx.get("pattern") in PATTERN_MESSAGES:
            message = PATTERN_MESSAGES[ctx["pattern"]]
        elif err["type"] == "string_too_short" and "min_length" in ctx:
            message = f"Слишком короткое значение: не менее {ctx['min_length']} символов"
        elif err["type"] == "string_too_long" and "max_length" in ctx:
            message = f"Слишком длинное значение: не более {ctx['max_length']} символов"
        elif err["type"] == "literal_error" and ctx.get("expected"):
            message = "Допустимо: {}".format(str(ctx["expected"]).replace("'", "").replace(" or ", ", "))
        else:
            message = _MESSAGES.get(err["type"], "Недопустимое значение")
        fields.setdefault(boundary.printable(path), message)
    return fields


def _no_constant(name: str) -> None:
    raise ValueError(f"{name} is not JSON")  # NaN and Infinity: Python accepts them, JSON and DynamoDB do not


def parse_body(raw: bytes | None, model: type[BaseModel]) -> BaseModel:
    """The one door of every JSON body: size, UTF-8, JSON, the boundary's checks, then the model (strict)."""
    if raw is not None and len(raw) > MAX_BODY:
        raise TooLarge("PAYLOAD_TOO_LARGE", "Слишком большой запрос: не более 64 КБ")
    try:
        text = (raw or b"").decode("utf-8")
        data = json.loads(text, parse_constant=_no_constant)
    except (ValueError, RecursionError):  # UnicodeDecodeError is a ValueError
        raise Invalid("INVALID_JSON", "Тело запроса должно быть корректным JSON") from None
    if not isinstance(data, dict):
        raise Invalid("INVALID_JSON", "Тело запроса должно быть JSON-объектом")
    problems = boundary.json_problems(data)
    if problems:
        raise Invalid("VALIDATION_ERROR", "Проверьте введённые данные", problems)
    try:
        return model.model_validate_json(text)
    except ValidationError as exc:
        raise Invalid("VALIDATION_ERROR", "Проверьте введённые данные", validation_fields(exc)) from None


def check_values(values: dict[str, str], model: type[Query] | None = None) -> None:
    """Path or query values: the boundary's text checks, then the route's query model, if any."""
    problems = boundary.text_problems(values)
    if problems:
        raise Invalid("VALIDATION_ERROR", "Недопустимые символы в адресе запроса", problems)
    if model is not None:
        try:
            model.model_validate(values)
        except ValidationError as exc:
            raise Invalid("VALIDATION_ERROR", "Проверьте параметры запроса", validation_fields(exc)) from None


def raw_body(raw: bytes | None, limit: int) -> bytes:
    if not raw:
        raise Invalid("EMPTY_BODY", "Приложите файл в теле запроса")
    if len(raw) > limit:
        raise TooLarge("PAYLOAD_TOO_LARGE", f"Слишком большой файл: не более {limit // (1024 * 1024)} МБ")
    return raw


def authenticate(headers: dict[str, str]) -> Principal:
    value = headers.get("authorization", "")
    scheme, _, token = value.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise unauthorized()
    return verify_access(token.strip())


def require_role(principal: Principal, roles: tuple[str, ...]) -> None:
    if roles and principal.role not in roles:
        raise Forbidden("FORBIDDEN", ROLES[roles[0]] if len(roles) == 1 else "Недостаточно прав для этого действия")


def dumps(body: Any) -> str:
    """The one JSON writer of the API: UTF-8 text as it is (no \\u escapes), compact."""
    return json.dumps(body, ensure_ascii=False, separators=(",", ":"))


def json_response(body: Any, status: int = 200, headers: dict[str, str] | None = None) -> Response:
    return Response(body=dumps(body) if body is not None else "", status_code=status,
                    headers={**JSON_HEADERS, **(headers or {})})


def error_response(exc: DomainError, accept_language: str | None = None) -> Response:
    """The one error shape, its texts in the caller's language (NF-4: the web client's catalogs)."""
    headers = {"Retry-After": str(exc.extra["retry_after"])} if "retry_after" in exc.extra else None
    body = exc.body()
    if accept_language:
        body = i18n.error_body(body, i18n.negotiate(accept_language))
    return json_response(body, status_of(exc), headers)


def internal_error() -> Response:
    """The answer to what nobody expected: the request id its log line carries (API Gateway's), nothing else."""
    request_id = observability.current("request_id") or new_id()
    log.exception("unhandled error")
    return json_response({"error": {"code": "INTERNAL", "message": "Внутренняя ошибка. Повторите попытку позже",
                                    "fields": {}, "request_id": request_id}}, 500)


def _origin(request: Any) -> Origin:
    identity = (request.context or {}).get("identity") or {}
    return Origin(ip=identity.get("sourceIp"), user_agent=request.headers.get("user-agent"))


def endpoint(bp: Blueprint, method: str, path: str, *, summary: str, body: type[BaseModel] | None = None,
             response: Any = None, status: int = 200, auth: bool = True, query: type[Query] | None = None,
             role: str | tuple[str, ...] | None = None, tag: str = "", raw: tuple[str, ...] = (),
             max_raw: int = MAX_BODY, checked: dict[str, str] | None = None,
             limited: bool | None = None, path_schemas: dict[str, dict[str, Any]] | None = None,
             headers: dict[str, dict[str, Any]] | None = None, also: dict[int, str] | None = None
             ) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """Register `fn(call, [body], **path_params)` as a route that always answers in our shapes.

    `response` is what a success carries (a model or type for JSON, `Content` for a file or text, None with
    status 204); `query` the route's query parameters; `role` who may call it (403 for the others).
    `raw` names the content types of a route that takes a file instead of JSON: it gets the bytes (at most
    `max_raw`, else 413). `checked` names body fields whose rules the document cannot spell (a service's form,
    documents that must be one's own, checksums): the server checks them and answers VALIDATION_ERROR under
    their path. `limited`: the route is charged to the per-IP limit (429); by default the `/auth/*` ones.
    `path_schemas` overrides the documented schema of path parameters (api/openapi.py `path_schema`).
    `headers` documents the request headers the route reads (`{"required", "schema", "description"}` each); the
    route checks them itself (`Call.header`). `also` documents other success statuses the route answers with the
    same body (the function returns `json_response(body, status)` for those).
    """
    roles = (role,) if isinstance(role, str) else tuple(role or ())
    unknown = [r for r in roles if r not in ROLES]
    if unknown or (roles and not auth):
        raise ValueError(f"{method} {path}: roles {unknown or roles} need known roles and auth")
    if response is None and status != 204:
        raise ValueError(f"{method} {path}: declare the response (or status=204)")

    def decorate(fn: Callable[..., Any]) -> Callable[..., Any]:
        @functools.wraps(fn)
        def view(**path_params: str) -> Response:
            request = bp.current_request
            try:
                headers = dict(request.headers)
                call = Call(origin=_origin(request), query=dict(request.query_params or {}), headers=headers)
                if auth:
                    call.principal = authenticate(headers)
                    observability.set_user(call.principal.user_id)
                    require_role(call.principal, roles)
                check_values(path_params)
                check_values(call.query, query)
                args: list[Any] = [call]
                if body is not None:
                    args.append(parse_body(request.raw_body, body))
                elif raw:
                    args.append(raw_body(request.raw_body, max_raw))
                result = fn(*args, **path_params)
                if isinstance(result, dict) and "access_token" in result:  # signed in (TokensOut): whose it is
                    observability.set_user(result["user_id"])
                if isinstance(result, Response):
                    return result
                return json_response(result, status if result is not None else 204)
            except DomainError as exc:
                return error_response(exc, request.headers.get("accept-language"))
            except Exception:  # noqa: BLE001 - the last line of defence: log it, answer without internals
                return internal_error()

        bp.route(path, methods=[method], **({"content_types": list(raw)} if raw else {}))(view)
        ROUTES.append(RouteDoc(method, path, summary, body, response, status, auth, query, tag or bp.import_name,
                               raw, roles, dict(checked or {}),
                               path.startswith("/auth/") if limited is None else limited, dict(path_schemas or {}),
                               dict(headers or {}), dict(also or {})))
        return view

    return decorate


_CHALICE_ERRORS = {
    415: ("UNSUPPORTED_MEDIA_TYPE", "Неподдерживаемый Content-Type: для данных ожидается application/json"),
    405: ("METHOD_NOT_ALLOWED", "Метод не поддерживается"),
    400: ("BAD_REQUEST", "Некорректный запрос"),
    404: ("NOT_FOUND", "Не найдено"),
    500: ("INTERNAL", "Внутренняя ошибка. Повторите попытку позже"),
}


def request_id(request: Any) -> str:
    """API Gateway's id of the request (also its `x-amzn-RequestId` header); Lambda's, or a new one, locally."""
    gateway = getattr(request, "context", None) or {}
    return gateway.get("requestId") or getattr(getattr(request, "lambda_context", None), "aws_request_id", None) \
        or new_id()


def error_shape_middleware(event: Any, get_response: Callable[[Any], Response]) -> Response:
    """Every request: its logging scope and its line in the log, and the one error shape."""
    started = time.perf_counter()
    method, route = getattr(event, "method", None), (getattr(event, "context", None) or {}).get("resourcePath")
    with observability.invocation(getattr(event, "lambda_context", None), request_id=request_id(event),
                                  method=method, route=route):
        response = _shaped(event, get_response)
        log.info("%s %s → %s", method, route, response.status_code,
                 extra={"status": response.status_code, "duration_ms": round((time.perf_counter() - started) * 1000)})
        return response


def _shaped(event: Any, get_response: Callable[[Any], Response]) -> Response:
    """Chalice answers some requests itself (415, 405): give those our error shape too, and let every JSON body
    leave through the one writer (chalice would serialise a dict body with \\u escapes)."""
    try:
        response = get_response(event)
    except Exception:  # noqa: BLE001
        return internal_error()
    body = response.body
    if isinstance(body, dict) and "Code" in body and response.status_code in _CHALICE_ERRORS:
        code, message = _CHALICE_ERRORS[response.status_code]
        error = {"code": code, "message": message, "fields": {}}
        if response.status_code == 500:
            error["request_id"] = observability.current("request_id")
        return json_response({"error": error}, response.status_code,
                             {k: v for k, v in response.headers.items() if k == "Allow"})
    if isinstance(body, (dict, list)):
        return json_response(body, response.status_code, dict(response.headers))
    return response
