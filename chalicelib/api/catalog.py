"""Service catalog (SV-1..SV-3): public browsing, search and suggestions; pre-filled forms for a signed-in person.

The catalog itself is public (anyone may look up what a service needs before signing in) and answers from
memory; such answers may be cached by the browser or a CDN for a minute. Only the pre-fill reads the table.
"""

from __future__ import annotations

from typing import Any

from chalice import Blueprint, Response

from chalicelib.api.http import Call, endpoint, json_response
from chalicelib.api.shapes import (
    CategoryCountOut,
    PrefillOut,
    ServiceCardOut,
    ServicesOut,
    ServicesQuery,
    SuggestOut,
    SuggestQuery,
)
from chalicelib.catalog import popularity, prefill, search, services

bp = Blueprint(__name__)
PUBLIC_CACHE = {"Cache-Control": "public, max-age=60"}


def _public(body: Any) -> Response:
    return json_response(body, headers=PUBLIC_CACHE)


@endpoint(bp, "GET", "/services", summary="Public: the catalog, searched, filtered, sorted and paged",
          auth=False, query=ServicesQuery, response=ServicesOut, tag="catalog")
def list_services(call: Call) -> Response:
    return _public(search.search_query(call.query))


@endpoint(bp, "GET", "/services/suggest", summary="Public: up to 10 services for what has been typed so far",
          auth=False, query=SuggestQuery, response=SuggestOut, tag="catalog")
def suggest(call: Call) -> Response:
    return _public({"items": search.suggest(call.query.get("q") or "")})


@endpoint(bp, "GET", "/services/categories", summary="Public: catalog categories with the number of services",
          auth=False, response=list[CategoryCountOut], tag="catalog")
def categories(call: Call) -> Response:
    return _public(services.category_counts())


@endpoint(bp, "GET", "/services/{service_id}", summary="Public: a service with its form, attachments, fee, term",
          auth=False, response=ServiceCardOut, tag="catalog")
def service(call: Call, service_id: str) -> Response:
    found = services.require(service_id)
    return _public(services.detail(found, popularity.of(found.id)))


@endpoint(bp, "GET", "/services/{service_id}/prefill", summary="The service's form values taken from the profile",
          response=PrefillOut, role="citizen", tag="catalog")
def prefilled(call: Call, service_id: str) -> dict[str, Any]:
    return prefill.for_user(call.user_id, service_id)
