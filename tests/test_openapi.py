"""The OpenAPI document is generated from the registered routes and models."""

from __future__ import annotations

from chalicelib.api.http import ROUTES


def test_openapi_lists_every_route_with_schemas(api):
    doc = api.get("/openapi.json").json
    assert doc["openapi"].startswith("3.")
    for route in ROUTES:
        assert route.method.lower() in doc["paths"][route.path], route.path
    login = doc["paths"]["/auth/login"]["post"]
    assert login["requestBody"]["content"]["application/json"]["schema"]["$ref"].endswith("/LoginIn")
    schema = doc["components"]["schemas"]["RegistrationIn"]
    assert {"last_name", "first_name", "phone", "email"} <= set(schema["properties"])
    assert doc["paths"]["/me"]["get"]["security"] == [{"bearer": []}]
    assert "Error" in doc["components"]["schemas"]
