"""Documents about the API itself: OpenAPI built from the registered routes, and the token keys."""

from __future__ import annotations

import re
from functools import cache
from typing import Any

from chalice import Blueprint

from chalicelib.api.http import ROUTES, Call, endpoint
from chalicelib.core.tokens import public_jwks

bp = Blueprint(__name__)

_ERROR_SCHEMA = {
    "type": "object", "required": ["error"],
    "properties": {"error": {"type": "object", "required": ["code", "message", "fields"], "properties": {
        "code": {"type": "string"}, "message": {"type": "string"},
        "fields": {"type": "object", "additionalProperties": True},
        "retry_after": {"type": "integer"}, "request_id": {"type": "string"}}}},
}


@cache
def openapi() -> dict[str, Any]:
    paths: dict[str, Any] = {}
    schemas: dict[str, Any] = {"Error": _ERROR_SCHEMA}

    def ref(model: Any) -> dict[str, str]:
        schema = model.model_json_schema(ref_template="#/components/schemas/{model}")
        schemas.update(schema.pop("$defs", {}))
        schemas[model.__name__] = schema
        return {"$ref": f"#/components/schemas/{model.__name__}"}

    for r in ROUTES:
        op: dict[str, Any] = {"summary": r.summary, "tags": [r.tag], "operationId": f"{r.method.lower()}_{r.path}",
                              "responses": {"default": {"description": "Ошибка", "content": {
                                  "application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}}}}
        params = [{"name": n, "in": "path", "required": True, "schema": {"type": "string"}}
                  for n in re.findall(r"{(\w+)}", r.path)]
        params += [{"name": n, "in": "query", "required": False, "schema": {"type": "string"}} for n in r.query]
        if params:
            op["parameters"] = params
        if r.body is not None:
            op["requestBody"] = {"required": True, "content": {"application/json": {"schema": ref(r.body)}}}
        elif r.raw:
            op["requestBody"] = {"required": True, "content": {
                ct: {"schema": {"type": "string", "format": "binary"}} for ct in r.raw}}
        ok: dict[str, Any] = {"description": "OK"}
        if r.response is not None:
            ok["content"] = {"application/json": {"schema": ref(r.response)}}
        op["responses"][str(r.status)] = ok
        if r.auth:
            op["security"] = [{"bearer": []}]
        paths.setdefault(r.path, {})[r.method.lower()] = op
    return {"openapi": "3.1.0", "info": {"title": "Kabinet API", "version": "1.0.0",
                                         "description": "Личный кабинет портала государственных услуг"},
            "servers": [{"url": "/api"}], "paths": paths,
            "components": {"schemas": schemas, "securitySchemes": {
                "bearer": {"type": "http", "scheme": "bearer", "bearerFormat": "JWT"}}}}


@endpoint(bp, "GET", "/openapi.json", summary="This document", auth=False, tag="meta")
def openapi_json(call: Call) -> dict[str, Any]:
    return openapi()


@endpoint(bp, "GET", "/.well-known/jwks.json", summary="Public keys that verify access tokens", auth=False, tag="meta")
def jwks(call: Call) -> dict[str, Any]:
    return public_jwks()
