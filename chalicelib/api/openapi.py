"""The OpenAPI 3.1 description, built from `ROUTES` and their pydantic models: what each route takes (body, query
and path parameters with their real schemas), what it answers (a model, a file, or nothing), who may call it.

The document is the contract the fuzzing gate (tests/test_fuzz.py) holds the running API to, both ways: every
request valid by it is accepted unless a documented refusal applies, and every answer matches it.
"""

from __future__ import annotations

import re
from functools import cache
from typing import Any

from pydantic import BaseModel, TypeAdapter

from chalicelib.api.http import ROLES, ROUTES, Content, RouteDoc
from chalicelib.core.models import ID_PATTERN

REF = "#/components/schemas/{model}"
_PATH_PARAM = re.compile(r"{(\w+)}")

ERROR_SCHEMA: dict[str, Any] = {
    "type": "object", "required": ["error"], "additionalProperties": False,
    "properties": {"error": {
        "type": "object", "required": ["code", "message", "fields"], "additionalProperties": True,
        "properties": {
            "code": {"type": "string", "pattern": "^[A-Z][A-Z0-9_]*$"},
            "message": {"type": "string", "minLength": 1},
            "fields": {"type": "object", "description": "Путь поля → причина (для PASSWORD_POLICY — список причин)"},
            "retry_after": {"type": "integer", "minimum": 1, "description": "Секунд до повтора (429)"},
            "attempts_left": {"type": "integer", "minimum": 0},
            "locked_until": {"type": "string", "format": "date-time"},
            "request_id": {"type": "string", "pattern": "^[0-9A-Za-z-]{1,64}$",
                           "description": "Идентификатор запроса: тот же, что в журналах и в x-amzn-RequestId"}}}},
}
_ERRORS = {
    "400": "Неверный запрос: VALIDATION_ERROR (fields — путь поля → причина), INVALID_JSON и другие коды docs/api.md",
    "401": "Нет входа или токен недействителен (UNAUTHORIZED)",
    "403": "Нет прав (FORBIDDEN — не та роль; TIER_REQUIRED, IP_NOT_ALLOWED)",
    "404": "Не найдено (NOT_FOUND; чужие объекты тоже)",
    "413": "Слишком большой запрос или файл",
    "415": "Неподдерживаемый Content-Type",
    "429": "Слишком много запросов: retry_after секунд (и заголовок Retry-After)",
}
ROLE_TITLES = {"citizen": "заявитель (гражданин)", "officer": "сотрудник ведомства",
               "operator": "оператор центра обслуживания (МФЦ)", "editor": "редактор новостей портала"}


def path_schema(name: str) -> dict[str, Any]:
    """Path parameters named `*_id` are our ids, except a service's, which is a catalog slug."""
    if name == "service_id":
        return {"type": "string", "pattern": r"^[a-z0-9]+(?:-[a-z0-9]+)*$", "maxLength": 60}
    if name == "kind":
        return {"type": "string", "enum": ["phone", "email"]}
    if name.endswith("_id"):
        return {"type": "string", "pattern": ID_PATTERN}
    return {"type": "string", "minLength": 1}


class _Schemas:
    """Component schemas collected while the paths are built (nested models hoisted from `$defs`)."""

    def __init__(self) -> None:
        self.items: dict[str, Any] = {"Error": ERROR_SCHEMA}

    def _add(self, name: str, schema: dict[str, Any]) -> None:
        """Components are named by model: two different models of one name would silently share a schema
        (a client and the fuzzing gate would see the wrong fields), so that fails here."""
        if self.items.get(name, schema) != schema:
            raise ValueError(f"two models are named {name}: rename one")
        self.items[name] = schema

    def of(self, kind: Any) -> dict[str, Any]:
        if isinstance(kind, type) and issubclass(kind, BaseModel):
            schema = kind.model_json_schema(ref_template=REF)
            for name, nested in schema.pop("$defs", {}).items():
                self._add(name, nested)
            self._add(kind.__name__, schema)
            return {"$ref": REF.format(model=kind.__name__)}
        schema = TypeAdapter(kind).json_schema(ref_template=REF)
        for name, nested in schema.pop("$defs", {}).items():
            self._add(name, nested)
        return schema


def _parameters(route: RouteDoc) -> list[dict[str, Any]]:
    params = [{"name": n, "in": "path", "required": True, "schema": route.path_schemas.get(n) or path_schema(n)}
              for n in _PATH_PARAM.findall(route.path)]
    params += [{"name": name, "in": "header", **spec} for name, spec in route.headers.items()]
    if route.query is not None:
        schema = route.query.model_json_schema()
        required = set(schema.get("required", []))
        for name, prop in schema.get("properties", {}).items():
            prop = _query_schema(prop)
            param: dict[str, Any] = {"name": name, "in": "query", "required": name in required, "schema": prop}
            if "description" in prop:
                param["description"] = prop.pop("description")
            params.append(param)
    return params


def _query_schema(prop: dict[str, Any]) -> dict[str, Any]:
    """A query model's field as a parameter schema: no title or default, and no `null` (absent is absent)."""
    prop = {k: v for k, v in prop.items() if k not in ("title", "default")}
    options = [o for o in prop.get("anyOf", []) if o != {"type": "null"}]
    if "anyOf" in prop:
        if len(options) == 1:
            rest = {k: v for k, v in prop.items() if k != "anyOf"}
            return {**options[0], **rest}
        prop["anyOf"] = options
    return prop


def _success(route: RouteDoc, schemas: _Schemas) -> dict[str, Any]:
    if route.status == 204:
        return {"description": "Готово, без содержимого"}
    if isinstance(route.response, Content):
        schema = {"type": "string", **({"format": "binary"} if route.response.binary else {})}
        return {"description": route.response.description or "Файл",
                "content": {route.response.media_type: {"schema": schema}}}
    return {"description": "Успешно", "content": {"application/json": {"schema": schemas.of(route.response)}}}


def _errors(route: RouteDoc) -> dict[str, Any]:
    codes = ["400"]
    if route.auth:
        codes.append("401")
    if route.roles or route.auth:
        codes.append("403")
    if _PATH_PARAM.search(route.path):
        codes.append("404")
    if route.body is not None or route.raw:
        codes += ["413", "415"]
    if route.limited:
        codes.append("429")
    out: dict[str, Any] = {}
    for code in codes:
        out[code] = {"description": _ERRORS[code], "content": {"application/json": {"schema": {"$ref": REF.format(
            model="Error")}}}}
    if "429" in out:
        out["429"]["headers"] = {"Retry-After": {"schema": {"type": "integer", "minimum": 1}}}
    out["default"] = {"description": "Ошибка в общем виде (docs/api.md)",
                      "content": {"application/json": {"schema": {"$ref": REF.format(model="Error")}}}}
    return out


def operation(route: RouteDoc, schemas: _Schemas) -> dict[str, Any]:
    op: dict[str, Any] = {"summary": route.summary, "tags": [route.tag],
                          "operationId": f"{route.method.lower()}{re.sub(r'[^A-Za-z0-9]+', '_', route.path)}"}
    description = []
    params = _parameters(route)
    if params:
        op["parameters"] = params
    if route.body is not None:
        op["requestBody"] = {"required": True, "content": {"application/json": {"schema": schemas.of(route.body)}}}
    elif route.raw:
        op["requestBody"] = {"required": True, "content": {
            ct: {"schema": {"type": "string", "format": "binary"}} for ct in route.raw}}
    if route.checked:
        op["x-checked-on-server"] = dict(route.checked)
        description.append("Проверяется сервером (ошибки — 400 VALIDATION_ERROR под этими путями): " + "; ".join(
            f"`{path}` — {why}" for path, why in route.checked.items()))
    op["responses"] = {str(route.status): _success(route, schemas),
                       **{str(code): {**_success(route, schemas), "description": why}
                          for code, why in route.also.items()},
                       **_errors(route)}
    if route.auth:
        op["security"] = [{"bearer": []}]
    if route.roles:
        op["x-roles"] = list(route.roles)
        description.insert(0, "Только для ролей: " + ", ".join(f"{r} ({ROLE_TITLES[r]})" for r in route.roles)
                           + f". Остальным — 403 FORBIDDEN: «{ROLES[route.roles[0]]}».")
    if route.limited:
        description.append("Учитывается в ограничении 30 запросов в минуту с одного IP-адреса (429).")
    if description:
        op["description"] = "\n\n".join(description)
    return op


@cache
def document(prefix: str = "") -> dict[str, Any]:
    """The description as served under `prefix` (`/api` on API Gateway's stage URL, `` on the local cloud)."""
    schemas = _Schemas()
    paths: dict[str, Any] = {}
    for route in ROUTES:
        paths.setdefault(route.path, {})[route.method.lower()] = operation(route, schemas)
    return {
        "openapi": "3.1.0",
        "info": {"title": "Kabinet API", "version": "1.0.0",
                 "description": "Личный кабинет портала государственных услуг. Адреса — относительно `servers`: "
                                "на API Gateway это стадия `/api`, в локальном облаке (`make run`) — корень `/`."},
        "servers": [{"url": prefix or "/"}],
        "paths": paths,
        "components": {"schemas": schemas.items, "securitySchemes": {
            "bearer": {"type": "http", "scheme": "bearer", "bearerFormat": "JWT"}}},
    }
