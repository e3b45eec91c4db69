"""End to end on the local cloud (`python -m infra.local`), over HTTP: the heart of the product.

A demo citizen finds a service by a misspelt query, fills the form from the profile, uploads the passport
straight to S3 and submits; the agency router puts the application in the MVD officer's inbox; the officer
takes it and asks for documents; the citizen adds one; the officer approves. The citizen sees every step in
the journal and in /me/messages. Then an automatic certificate arrives signed within seconds.
"""

from __future__ import annotations

import signal
import time
from collections.abc import Callable
from typing import Any

import requests

from tests import files
from tests.test_e2e_documents import DEMO_PASSWORD, DEMO_PHONE, _checked, _fetch, _upload
from tests.test_e2e_local import (
    HTTP_TIMEOUT,
    STOP_SECONDS,
    _Cloud,
    _get,
    _http,
    _local_cloud,
    _post,
    _two_ports,
    _wait_ready,
)

MVD_OFFICER = "+79991000000"
WAIT_SECONDS = 20


def _until(what: str, cloud: _Cloud, probe: Callable[[], Any], last: Callable[[], Any] = lambda: None) -> Any:
    deadline = time.monotonic() + WAIT_SECONDS
    while time.monotonic() < deadline:
        found = probe()
        if found:
            return found
        time.sleep(0.2)
    raise AssertionError(f"{what}: not within {WAIT_SECONDS} s (last seen: {last()})\n{cloud.console()}")


def _ok(resp: requests.Response, status: int = 200) -> Any:
    assert resp.status_code == status, (resp.status_code, resp.text)
    return resp.json()


def test_a_citizen_and_an_officer_end_to_end() -> None:
    with _local_cloud(*_two_ports()) as cloud:
        _wait_ready(cloud)
        http = _http()

        # Find the service by a misspelt query, without signing in.
        suggested = _ok(http.get(f"{cloud.base}/services/suggest", params={"q": "спровка о судимасти"},
                                 timeout=HTTP_TIMEOUT))["items"]
        assert "no-criminal-record" in [s["id"] for s in suggested], suggested
        service = _ok(http.get(f"{cloud.base}/services/no-criminal-record", timeout=HTTP_TIMEOUT))
        assert service["agency"]["id"] == "mvd" and service["form"]["required"], service

        signed_in = _ok(_post(http, cloud, "/auth/login", {"login": DEMO_PHONE, "password": DEMO_PASSWORD}))
        citizen = signed_in["access_token"]
        prefill = _ok(_get(http, cloud, "/services/no-criminal-record/prefill", citizen))
        params = {**prefill["values"], "birth_place": "г. Москва", "purpose": "employment"}
        assert params["last_name"] == "Иванов" and params["snils"] == "11223344595", prefill
        passport = _upload(http, cloud, citizen, files.pdf("Passport"), "Паспорт.pdf", "passport")
        assert _checked(http, cloud, citizen, passport)["status"] == "available"
        submitted = _ok(_post(http, cloud, "/requests", {"type": "no-criminal-record", "params": params,
                                                         "attachments": [passport]}, citizen), 201)
        rid = submitted["id"]

        # The officer of the MVD finds it in the agency inbox, takes it and asks for a document.
        officer = _ok(_post(http, cloud, "/auth/login", {"login": MVD_OFFICER, "password": DEMO_PASSWORD}))
        token = officer["access_token"]
        _until("routed to the MVD inbox", cloud, lambda: any(
            r["id"] == rid for r in _ok(_get(http, cloud, "/agency/requests?status=submitted", token))["items"]))
        _ok(_post(http, cloud, f"/agency/requests/{rid}/take", {}, token))
        _ok(_post(http, cloud, f"/agency/requests/{rid}/request-documents", {"message": "Приложите СНИЛС"}, token))

        # The citizen adds the document; the officer approves.
        snils = _upload(http, cloud, citizen, files.pdf("SNILS"), "СНИЛС.pdf", "snils")
        assert _checked(http, cloud, citizen, snils)["status"] == "available"
        assert _ok(_post(http, cloud, f"/requests/{rid}/documents", {"attachments": [snils]}, citizen))[
            "status"] == "in_progress"
        assert _ok(_post(http, cloud, f"/agency/requests/{rid}/approve", {"comment": "Сведений нет"}, token))[
            "status"] == "approved"

        # Every step is in the journal and in the inbox.
        detail = _ok(_get(http, cloud, f"/requests/{rid}", citizen))
        steps = [line.get("to") for line in detail["journal"] if line["kind"] == "status"]
        assert steps == ["submitted", "in_progress", "awaiting_documents", "in_progress", "approved"], detail
        assert detail["result"]["document_id"], detail

        seen: list[str] = []

        def notices() -> list[str] | None:
            items = _ok(_get(http, cloud, "/me/messages", citizen))["items"]
            seen[:] = [m["title"] for m in items if submitted["number"] in m["title"]]
            return list(seen) if len(seen) >= 5 else None

        titles = _until("five notices in the inbox", cloud, notices, lambda: seen)
        for label in ("Принято", "В работе", "Требуются документы", "Одобрено"):
            assert any(label in t for t in titles), titles

        # An automatic certificate: approved and signed within seconds.
        auto = _ok(_post(http, cloud, "/requests", {"type": "certificate", "params": {
            "kind": "tax_debt", "last_name": "Иванов", "first_name": "Иван", "inn": "500100732259",
            "as_of": "2026-11-01", "variant": "balance"}}, citizen), 201)
        done = _until("the automatic decision", cloud, lambda: (
            d if (d := _ok(_get(http, cloud, f"/requests/{auto['id']}", citizen)))["status"] == "approved" else None))
        pdf = _fetch(http, cloud, citizen, done["result"]["document_id"])
        verdict = _ok(http.post(f"{cloud.base}/verify", data=pdf, headers={"Content-Type": "application/pdf"},
                                timeout=HTTP_TIMEOUT))
        assert verdict["valid"] is True, verdict

        cloud.proc.send_signal(signal.SIGINT)
        assert cloud.proc.wait(STOP_SECONDS) == 0, cloud.console()
