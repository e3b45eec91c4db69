"""The fuzzing gate: schemathesis runs over the whole OpenAPI document against the real local cloud
(`python -m infra.local`), once as the demo citizen and once as the MVD officer, aimed at real objects.

It fails on any 5xx, any answer that does not match its documented status, content type or schema, any JSON
written with \\u escapes, and any request valid by the document that is refused as invalid input (our check in
tests/fuzz_checks.py; built-in `positive_data_acceptance` also refuses 405/415-like answers to valid data). It
also sends invalid data, which must be refused (`negative_data_rejection`). Refusals a valid request can meet
for reasons of state — 401, 403, 404, 409, 410, 422, 423, 429, and the 400s of codes and policies (CODE_INVALID,
PASSWORD_POLICY...) — are documented answers, not failures.

The per-IP limit on /auth/* (30 a minute) holds here too: once spent, those routes answer 429 (documented) until
the minute turns. Bounded: a fixed seed, EXAMPLES cases per operation and phase.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest
import requests

from tests.fuzz_world import World, seed, sign_in
from tests.test_e2e_documents import DEMO_PHONE
from tests.test_e2e_local import ROOT, _Cloud, _get, _http, _local_cloud, _two_ports, _wait_ready
from tests.test_e2e_requests import MVD_OFFICER

SCHEMATHESIS_VERSION = "4.32.5"
SEED = 20261202
EXAMPLES = int(os.environ.get("KABINET_FUZZ_EXAMPLES", "2"))  # per operation and phase; the suite's time budget
RUN_SECONDS = 420  # one side's run; an access token lives 600 s
HOOKS = Path(__file__).with_name("fuzz_checks.py")
# Answers a valid request may get for reasons of state or policy (each is documented in the OpenAPI document).
ACCEPTED = ["2xx", "400", "401", "403", "404", "409", "410", "413", "422", "423", "429"]
# Invalid data must be refused; 413 is a refusal too (a generated body over the 64 KB limit).
REFUSED = ["400", "401", "403", "404", "405", "406", "409", "413", "415", "422", "428", "429", "5xx"]
# Each side leaves out the other side's routes, which answer it 403 whatever it sends (tests/test_input_boundary.py
# holds every one of them to that): fuzzing them would spend minutes on one answer.
FORM_ROUTES = r"^/requests(?:/\{request_id\})?$"  # the routes whose body carries form data (params)
OTHER_SIDE = {"officer": "^/(?:requests|me/templates|services/[^/]+/prefill)", "citizen": "^/agency/"}

# Operations whose check is switched off until the domain is fixed (see the comment on each).
SKIPS: list[tuple[str, str, str]] = [
    # (method, path, check)
]


def _toml(value: object) -> str:
    return json.dumps(value, ensure_ascii=False)  # a JSON string, list or number is TOML too


def config(cloud: _Cloud, side: str, token: str, ids: dict[str, list[str]]) -> str:
    lines = [
        f"base-url = {_toml(cloud.base)}",
        f"seed = {SEED}",
        "workers = 1",
        f"hooks = {_toml(str(HOOKS))}",
        "request-timeout = 30",
        'suppress-health-check = ["too_slow", "filter_too_much", "data_too_large"]',
        f"headers = {{ Authorization = {_toml('Bearer ' + token)} }}",
        "",
        "[generation]",
        f"max-examples = {EXAMPLES}",
        'database = "none"',
        "",
        "[phases.stateful]",
        "enabled = false",
        "",
        # Methods no route declares must answer 405. TRACE is left out: the local cloud's HTTP server (chalice
        # local, BaseHTTPServer) answers it 501 itself before the app sees it; API Gateway refuses it on its own.
        "[phases.coverage]",
        # Only the writing methods: an undeclared GET or OPTIONS cannot change anything, and the suite has 15 minutes.
        'unexpected-methods = ["PUT", "POST", "DELETE", "PATCH"]',
        "",
        "[checks.positive_data_acceptance]",
        f"expected-statuses = {_toml(ACCEPTED)}",
        "",
        "[checks.negative_data_rejection]",
        f"expected-statuses = {_toml(REFUSED)}",
        "",
        # Deleting a document keeps its metadata and journal (docs/architecture.md, DC-3): a GET after DELETE
        # answering 200 with status "deleted" is the design, not a use after free.
        "[checks.use_after_free]",
        "enabled = false",
        "",
        "[parameters]",
    ]
    lines += [f'"path.{name}" = {{ dictionary = "{name}", probability = 0.8 }}' for name, values in ids.items()
              if values]
    for name, values in ids.items():
        if values:
            lines += ["", f"[dictionaries.{name}]", f"values = {_toml(values)}"]
    lines += ["", "[[operations]]", f"include-path-regex = {_toml(OTHER_SIDE[side])}", "enabled = false"]
    # Form data (params) nests up to five levels of six kinds of value: the coverage phase's boundary cases of that
    # schema alone took 50 of the citizen's 150 seconds. The fuzzing phase still sends generated forms.
    lines += ["", "[[operations]]", f"include-path-regex = {_toml(FORM_ROUTES)}",
              'include-method = ["POST", "PUT"]', "phases.coverage.enabled = false"]
    for method, path, check in SKIPS:
        lines += ["", "[[operations]]", f"include-method = {_toml(method)}", f"include-path = {_toml(path)}",
                  f"checks.{check}.enabled = false"]
    return "\n".join(lines) + "\n"


def fuzz(cloud: _Cloud, tmp: Path, side: str, token: str, ids: dict[str, list[str]]) -> tuple[int, str, float]:
    path = tmp / f"{side}.toml"
    path.write_text(config(cloud, side, token, ids), encoding="utf-8")
    started = time.monotonic()
    log = tmp / f"{side}.log"
    proc = subprocess.run(
        [sys.executable, "-m", "schemathesis.cli", "--config-file", str(path), "run", f"{cloud.base}/openapi.json",
         "--no-color", "--report", "junit", "--report-dir", str(tmp / side)],
        cwd=tmp, capture_output=True, text=True, timeout=RUN_SECONDS,  # its cache stays out of the tree
        env={**os.environ, "PYTHONPATH": str(ROOT), "SCHEMATHESIS_TELEMETRY": "false"})
    log.write_text(proc.stdout + proc.stderr, encoding="utf-8")
    return proc.returncode, proc.stdout + proc.stderr, time.monotonic() - started


def test_schemathesis_is_the_pinned_version() -> None:
    from importlib.metadata import version

    assert version("schemathesis") == SCHEMATHESIS_VERSION
    pins = (ROOT / "requirements-dev.txt").read_text()
    assert f"schemathesis=={SCHEMATHESIS_VERSION}" in pins


SIDES = {"officer": (MVD_OFFICER, "officer"), "citizen": (DEMO_PHONE, "owner")}


@pytest.mark.parametrize("side", list(SIDES))
def test_the_api_keeps_to_its_openapi_document(tmp_path: Path, side: str) -> None:
    """One side per test, each on its own local cloud and world: the two sides run on two workers at once."""
    login, reader = SIDES[side]
    with _local_cloud(*_two_ports()) as cloud:
        _wait_ready(cloud)
        http = _http()
        world: World = seed(http, cloud)
        ids = world.officer if side == "officer" else world.citizen
        owner = sign_in(http, cloud, DEMO_PHONE)  # before the run: it may block the account ("not me")
        token = owner if side == "citizen" else sign_in(http, cloud, login)
        code, output, seconds = fuzz(cloud, tmp_path, side, token, ids)
        print(f"--- schemathesis as the {side}: exit {code} in {seconds:.0f} s (log: {tmp_path / side}.log) ---\n"
              f"{output[-3000:]}")
        assert code == 0, f"=== as the {side} ===\n{output}"
        # The run reached the real objects, not only the 404 branch: the documents' journals (DC-3) say who read
        # them (the officer the applicant's passport, the owner a spare document).
        document = world.officer["document_id"][0] if side == "officer" else world.citizen["document_id"][0]
        readers = {(line["action"], line["actor"]["kind"]) for line in _journal(http, cloud, owner, document)}
        assert ("downloaded", reader) in readers, readers


def _journal(http: requests.Session, cloud: _Cloud, token: str, document_id: str) -> list[dict[str, Any]]:
    lines, cursor = [], None
    for _ in range(20):
        query = f"?cursor={cursor}" if cursor else ""
        page = _get(http, cloud, f"/documents/{document_id}/journal{query}", token).json()
        lines += page["items"]
        cursor = page["cursor"]
        if not cursor:
            break
    return lines
