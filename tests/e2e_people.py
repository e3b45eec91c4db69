"""Helpers for the end-to-end tests of identity and unblocking on the local cloud (`python -m infra.local`), over
HTTP: a cloud shared by a test module, registration with the SMS code from /dev/outbox, personal data that
passes every registry (docs/identity.md: no failing pattern), waiting on /me/identity.

Not a test module: tests/test_e2e_identity.py and tests/test_e2e_blocking.py import it.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import requests

from tests.test_e2e_local import (
    CODE,
    HTTP_TIMEOUT,
    PASSWORD,
    _Cloud,
    _get,
    _local_cloud,
    _outbox,
    _two_ports,
    _wait_ready,
)
from tests.test_identity import snils_with

RATE_LIMIT_WAITS = 3  # /auth/* and PUT /me/personal-data: 30 a minute per IP, and chalice local gives every
# client the same source IP (127.0.0.1), so a module's people share one allowance: wait as a client must
CHECK_SECONDS = 30  # the simulator answers in 0.3 s per registry (3 s when slow); the pump polls every 0.2 s
REGION = "eu-central-1"
TABLE = "kabinet-local-main"  # kabinet-<stage>-main, stage local (chalicelib/core/config.py)


@contextmanager
def shared_cloud() -> Iterator[_Cloud]:
    """One local cloud for a whole test module (it takes seconds to start); killed at the end."""
    with _local_cloud(*_two_ports()) as cloud:
        _wait_ready(cloud)
        yield cloud


def ok(resp: requests.Response, status: int = 200) -> Any:
    assert resp.status_code == status, (resp.status_code, resp.text)
    return resp.json()


def send(http: requests.Session, cloud: _Cloud, method: str, path: str, body: Any, token: str | None = None
         ) -> requests.Response:
    """One JSON request; a 429 TOO_MANY_REQUESTS is waited out (its `retry_after`) and sent again."""
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    for _ in range(RATE_LIMIT_WAITS):
        resp = http.request(method, f"{cloud.base}{path}", json=body, headers=headers, timeout=HTTP_TIMEOUT)
        if resp.status_code != 429 or resp.json()["error"]["code"] != "TOO_MANY_REQUESTS":
            return resp
        time.sleep(int(resp.json()["error"].get("retry_after", 60)) + 1)
    return resp


def post(http: requests.Session, cloud: _Cloud, path: str, body: Any, token: str | None = None
         ) -> requests.Response:
    return send(http, cloud, "POST", path, body, token)


def put(http: requests.Session, cloud: _Cloud, path: str, body: Any, token: str) -> requests.Response:
    return send(http, cloud, "PUT", path, body, token)


def until(what: str, cloud: _Cloud, probe: Callable[[], Any], seconds: float = CHECK_SECONDS,
          last: Callable[[], Any] = lambda: None) -> Any:
    """Poll `probe` until it returns something truthy, within `seconds`."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        found = probe()
        if found:
            return found
        time.sleep(0.2)
    raise AssertionError(f"{what}: not within {seconds} s (last seen: {last()})\n{cloud.console()}")


def register(http: requests.Session, cloud: _Cloud, phone: str, last_name: str = "Кузнецов",
             first_name: str = "Алексей") -> dict[str, Any]:
    """Registration as a person does it: the SMS code is read from the local outbox (the pump delivers it); then
    quiet hours go off."""
    reg = ok(post(http, cloud, "/auth/registrations",
                   {"last_name": last_name, "first_name": first_name, "phone": phone}), 201)
    sms = _outbox(http, cloud, phone, lambda ms: any(CODE.search(m["text"]) for m in ms))
    code = CODE.search(next(m["text"] for m in sms if CODE.search(m["text"])))
    assert code, sms
    ok(post(http, cloud, f"/auth/registrations/{reg['registration_id']}/confirm", {"code": code.group()}))
    tokens = ok(post(http, cloud, f"/auth/registrations/{reg['registration_id']}/complete",
                     {"password": PASSWORD, "password_repeat": PASSWORD}), 201)
    quiet_hours_off(http, cloud, tokens["access_token"])
    return tokens


def quiet_hours_off(http: requests.Session, cloud: _Cloud, token: str) -> None:
    """SMS and push wait for the morning in quiet hours (22:00–08:00 Moscow by default): a test that expects one
    at once turns them off for its person, so it passes at night too."""
    ok(put(http, cloud, "/me/notifications/settings", {"types": {}, "quiet_hours": {"enabled": False}}, token))


def person_data(series: str, number: str, snils_first_nine: str, **over: Any) -> dict[str, Any]:
    """Well-formed data. `series` makes the INN FNS finds ("77" + series + 4 digits) differ between people;
    the passport number's last 4 digits and SNILS digits 7-9 pick the simulator's outcome (docs/identity.md)."""
    data = {"last_name": "Кузнецов", "first_name": "Алексей", "middle_name": "Петрович", "birth_date": "1985-04-12",
            "sex": "male", "birth_place": "г. Москва",
            "passport": {"series": series, "number": number, "issued_at": "2005-06-01",
                         "issued_by": "ОВД района Арбат г. Москвы", "division_code": "770-001"},
            "snils": snils_with(snils_first_nine), "address": "г. Москва, ул. Тверская, д. 1, кв. 1"}
    data.update(over)
    return data


def identity(http: requests.Session, cloud: _Cloud, token: str) -> dict[str, Any]:
    return ok(_get(http, cloud, "/me/identity", token))


def statuses(view: dict[str, Any]) -> dict[str, str]:
    return {c["registry"]: c["status"] for c in view["checks"]}


def wait_standard(http: requests.Session, cloud: _Cloud, token: str, seconds: float = CHECK_SECONDS
                  ) -> dict[str, Any]:
    seen: list[dict[str, Any]] = []

    def probe() -> dict[str, Any] | None:
        """Standard, and the checks' item says so too: a Query is only read-committed against a transaction
        (DynamoDB's isolation for Query), so one read may see the account promoted before the answers' item."""
        seen[:] = [identity(http, cloud, token)]
        settled = all(c["status"] == "passed" for c in seen[0]["checks"])
        return seen[0] if seen[0]["tier"] == "standard" and settled else None

    return until("tier standard after the registry checks", cloud, probe, seconds, lambda: seen)


def make_standard(http: requests.Session, cloud: _Cloud, phone: str, series: str, snils_first_nine: str,
                  number: str = "123456") -> tuple[dict[str, Any], dict[str, Any]]:
    """Register, submit data that passes every registry, wait for the standard tier: (tokens, identity view)."""
    tokens = register(http, cloud, phone)
    body = person_data(series, number, snils_first_nine)
    started = ok(put(http, cloud, "/me/personal-data", body, tokens["access_token"]), 202)
    assert started["status"] == "checking", started
    return tokens, wait_standard(http, cloud, tokens["access_token"])


def table_client(cloud: _Cloud) -> Any:
    """The local cloud's DynamoDB (moto), for what HTTP cannot do: move a stored time (no clock override)."""
    import boto3

    return boto3.client("dynamodb", region_name=REGION, endpoint_url=f"http://127.0.0.1:{cloud.moto_port}",
                        aws_access_key_id="local", aws_secret_access_key="local")
