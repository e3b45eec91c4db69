"""Real objects for the fuzzing gate to aim at: the seeded demo citizen and MVD officer of a running local cloud,
and one of each kind of thing their routes name in the path (an application in the officer's inbox, a draft,
documents, a template, a session, a message, a login-history row, a registration, a recovery).

Without them almost every generated path would name nothing and the run would test only the 404 branch.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any

import requests

from tests import files
from tests.test_e2e_documents import DEMO_PASSWORD, DEMO_PHONE, _checked, _upload
from tests.test_e2e_local import _Cloud, _get, _post
from tests.test_e2e_requests import MVD_OFFICER, _ok, _until

RATE_WINDOW = 61  # the per-IP limit on /auth/* counts per minute


@dataclass
class World:
    """Ids of real objects, by path parameter name, for each side that will be fuzzed."""

    citizen: dict[str, list[str]] = field(default_factory=dict)
    officer: dict[str, list[str]] = field(default_factory=dict)


def sign_in(http: requests.Session, cloud: _Cloud, login: str) -> str:
    """A fresh access token (they live 10 minutes); waits out the per-IP limit a fuzz run leaves behind."""
    deadline = time.monotonic() + 2 * RATE_WINDOW
    while True:
        resp = _post(http, cloud, "/auth/login", {"login": login, "password": DEMO_PASSWORD})
        if resp.status_code != 429 or time.monotonic() > deadline:
            return _ok(resp)["access_token"]
        time.sleep(min(RATE_WINDOW, int(resp.headers.get("Retry-After", "5"))))


def _first(items: list[dict[str, Any]], key: str = "id") -> list[str]:
    return [items[0][key]] if items else []


def seed(http: requests.Session, cloud: _Cloud) -> World:
    citizen = sign_in(http, cloud, DEMO_PHONE)
    officer = sign_in(http, cloud, MVD_OFFICER)

    passport = _upload(http, cloud, citizen, files.pdf("Passport"), "Паспорт.pdf", "passport")
    spare = _upload(http, cloud, citizen, files.pdf("Spare"), "Договор.pdf", "contract")
    for doc in (passport, spare):
        assert _checked(http, cloud, citizen, doc)["status"] == "available"
    extract = _ok(_post(http, cloud, "/documents/generate/profile-extract", {}, citizen), 201)["id"]
    result_pdf = _upload(http, cloud, officer, files.pdf("Decision"), "Решение.pdf", "certificate")
    assert _checked(http, cloud, officer, result_pdf)["status"] == "available"

    prefill = _ok(_get(http, cloud, "/services/no-criminal-record/prefill", citizen))
    params = {**prefill["values"], "birth_place": "г. Москва", "purpose": "employment"}
    submitted = _ok(_post(http, cloud, "/requests", {"type": "no-criminal-record", "params": params,
                                                     "attachments": [passport]}, citizen), 201)["id"]
    _until("routed to the MVD inbox", cloud, lambda: any(
        r["id"] == submitted for r in _ok(_get(http, cloud, "/agency/requests", officer))["items"]))
    _ok(_post(http, cloud, f"/agency/requests/{submitted}/take", {}, officer))  # the demo officer leaves it alone
    draft = _ok(_post(http, cloud, "/requests", {"type": "no-criminal-record", "params": params, "draft": True,
                                                 "attachments": [spare]}, citizen), 201)["id"]
    template = _ok(_post(http, cloud, f"/requests/{submitted}/template", {"name": "Справка"}, citizen), 201)["id"]
    messages = _until("a notice in the inbox", cloud,
                      lambda: _ok(_get(http, cloud, "/me/messages", citizen))["items"])

    def own(token: str) -> dict[str, list[str]]:
        return {"session_id": _first(_ok(_get(http, cloud, "/me/sessions", token))["items"]),
                "event_id": _first(_ok(_get(http, cloud, "/me/login-history", token))["items"])}

    registration = _ok(_post(http, cloud, "/auth/registrations", {
        "last_name": "Фаззер", "first_name": "Тест", "email": "fuzz@example.ru"}), 201)["registration_id"]
    recovery = _ok(_post(http, cloud, "/auth/recovery", {"login": "+79990000002"}), 202)["recovery_id"]
    common = {"registration_id": [registration], "recovery_id": [recovery],
              "service_id": ["no-criminal-record", "tax-debt", "osago"]}
    return World(
        citizen={**common, **own(citizen), "request_id": [submitted, draft], "template_id": [template],
                 "document_id": [spare, passport, extract], "message_id": _first(messages)},
        officer={**common, **own(officer), "request_id": [submitted], "document_id": [passport, result_pdf]})
