"""Shared fixtures: moto in server mode with the real resource template, the real app, a pump, a clock."""

from __future__ import annotations

import functools
import json
import logging
import os
import re
import urllib.request
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

os.environ.update({
    "AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing", "AWS_DEFAULT_REGION": "eu-central-1",
    "KABINET_STAGE": "local", "KABINET_ARGON2": "1,1024,1", "KABINET_REGISTRY_DELAY": "0.01",
    "KABINET_DELIVERY_FEEDBACK_DELAY": "0",
    "KABINET_EVENTS_TOPIC_ARN": "arn:aws:sns:eu-central-1:123456789012:kabinet-local-events",
})
os.environ.pop("AWS_ENDPOINT_URL", None)

import pytest
import requests
from chalice.test import Client
from moto.server import ThreadedMotoServer

from app import app
from chalicelib.adapters import acquirer, signer
from chalicelib.catalog import popularity
from chalicelib.core import aws, clock, observability, tokens
from chalicelib.core.config import settings
from chalicelib.sso import signing
from infra import bootstrap, moto_fixes
from infra.pump import Pump

logging.getLogger("werkzeug").setLevel(logging.WARNING)
PASSWORD = "Vesna#Dom48!"
UA_DESKTOP = ("Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) "
              "Chrome/120.0.0.0 Safari/537.36")


class Clock:
    """A clock the test moves by hand."""

    def __init__(self) -> None:
        self.now = datetime.now(UTC).replace(microsecond=0)

    def __call__(self) -> datetime:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += timedelta(seconds=seconds)


@pytest.fixture(scope="session")
def moto_server() -> Iterator[str]:
    """moto in server mode, as the local cloud runs it (its in-process mode lacks DynamoDB Streams)."""
    moto_fixes.apply()
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    url = f"http://{host}:{port}"
    os.environ["AWS_ENDPOINT_URL"] = url
    yield url
    server.stop()


@functools.cache
def _sso_secret() -> str:
    """One SSO secret value for the whole session: generating an RSA-2048 key takes 0.03–0.4 s (median ~0.2 s on
    this machine), which every fresh account would pay. Tests of the keys call signing.new_sso_secret itself."""
    return _new_sso_secret()


_new_sso_secret = signing.new_sso_secret


@pytest.fixture
def cloud(moto_server: str) -> Iterator[dict[str, str]]:
    """A fresh account: moto reset, the resource template provisioned, per-container caches dropped."""
    urllib.request.urlopen(urllib.request.Request(f"{moto_server}/moto-api/reset", method="POST")).read()
    aws.client.cache_clear()
    tokens._keys.cache_clear()
    signer.identity.cache_clear()
    signing._loaded.cache_clear()  # single sign-on (issue 15)
    popularity.reset()
    acquirer.forget_secrets()  # each cloud has a new random webhook secret: a cached one fails a later signature
    observability.metrics.clear_metrics()  # what a test counted outside a worker's scope is not the next one's
    with pytest.MonkeyPatch.context() as patch:  # single sign-on (issue 15): see _sso_secret
        patch.setattr(signing, "new_sso_secret", _sso_secret)
        outputs = bootstrap.provision("local", settings().region, settings().sender_email)
    assert outputs["EventsTopicArn"] == settings().events_topic_arn
    yield outputs


@pytest.fixture
def fake_clock() -> Iterator[Clock]:
    c = Clock()
    clock.use(c)
    yield c
    clock.reset()


class Api:
    """The app through chalice's test gateway, plus the pump that runs its event handlers."""

    def __init__(self, pump: Pump) -> None:
        self.client = Client(app, stage_name="local")
        self.pump = pump

    def call(self, method: str, path: str, body: Any = None, token: str | None = None,
             headers: dict[str, str] | None = None, raw: bytes | None = None) -> Any:
        h = {"content-type": "application/json", "user-agent": UA_DESKTOP, **(headers or {})}
        if token:
            h["authorization"] = f"Bearer {token}"
        data = raw if raw is not None else (json.dumps(body).encode() if body is not None else b"")
        resp = self.client.http.request(method, path, headers=h, body=data)
        is_json = resp.headers.get("Content-Type", "").startswith("application/json")
        resp.json = json.loads(resp.body) if resp.body and is_json else None
        return resp

    def post(self, path: str, body: Any = None, **kw: Any) -> Any:
        return self.call("POST", path, body if body is not None else {}, **kw)

    def get(self, path: str, **kw: Any) -> Any:
        return self.call("GET", path, **kw)

    def outbox(self, to: str) -> list[dict[str, Any]]:
        self.pump.drain()
        return self.get(f"/dev/outbox?to={to}").json

    def code_about(self, to: str, marker: str = "") -> str:
        """The 6-digit code of the newest message to `to` that mentions `marker` (other notices may
        share its second, so the newest message is not always the code)."""
        for message in self.outbox(to):
            found = re.search(r"\b\d{6}\b", message["text"])
            if marker in message["text"] and found:
                return found.group()
        raise AssertionError(f"no code about {marker!r} sent to {to}")

    def last_code(self, to: str) -> str:
        return self.code_about(to)

    def upload(self, token: str, data: bytes, *, filename: str = "scan.pdf", content_type: str = "application/pdf",
               category: str = "other", declared_size: int | None = None, document_id: str | None = None,
               **extra: Any) -> str:
        """Ask for an upload (or a new version of `document_id`), post the file to S3 exactly as a browser
        would (multipart form, over HTTP to the moto server), and let the checker run."""
        body = {"filename": filename, "content_type": content_type, "size": declared_size or len(data), **extra}
        if document_id:
            resp = self.post(f"/documents/{document_id}/versions", body, token=token)
        else:
            resp = self.post("/documents/uploads", {**body, "category": category}, token=token)
        assert resp.status_code == 201, resp.json
        form = resp.json["upload"]
        posted = requests.post(form["url"], data=form["fields"], files={"file": (filename, data, content_type)},
                               timeout=10)
        assert posted.status_code in (200, 201, 204), posted.text
        self.pump.drain()
        return resp.json["document_id"]

    def login(self, login: str, password: str = PASSWORD) -> dict[str, Any]:
        resp = self.post("/auth/login", {"login": login, "password": password})
        assert resp.status_code == 200, resp.json
        return resp.json

    def no_quiet_hours(self, token: str) -> None:
        """SMS and push wait for the morning in the person's quiet hours (22:00–08:00 Moscow by default), so a test
        that expects one at once would fail at night: it turns them off for its person."""
        resp = self.call("PUT", "/me/notifications/settings", {"types": {}, "quiet_hours": {"enabled": False}},
                         token=token)
        assert resp.status_code == 200, resp.json

    def register(self, phone: str = "+79161234567", password: str = PASSWORD, email: str | None = None,
                 **names: str) -> dict[str, Any]:
        """Register by phone, or by e-mail when `email` is given."""
        contact = {"email": email} if email else {"phone": phone}
        reg = self.post("/auth/registrations", {"last_name": "Кузнецов", "first_name": "Алексей", **contact, **names})
        assert reg.status_code == 201, reg.json
        rid = reg.json["registration_id"]
        code = self.last_code(email or phone)
        assert self.post(f"/auth/registrations/{rid}/confirm", {"code": code}).status_code == 200
        done = self.post(f"/auth/registrations/{rid}/complete", {"password": password, "password_repeat": password})
        assert done.status_code == 201, done.json
        return done.json


@pytest.fixture
def api(cloud: dict[str, str]) -> Api:
    return Api(Pump(app, settings().region, cloud["TableName"]))


# The longest tests start first, so none of them is the last thing a worker runs while the others sit idle:
# the fuzzing gate's two sides, the deployment gate, the browser journeys, the end-to-end groups, and the 30-day
# session kept alive by 1,441 refreshes (about a minute on moto).
SLOW_FIRST = ("tests/test_fuzz.py::test_the_api", "tests/test_deploy.py", "tests/test_browser_", "tests/test_e2e_",
              "tests/test_tokens.py::test_a_session_kept_active_ends_at_the_30_day_absolute_limit")


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    def rank(item: pytest.Item) -> int:
        return next((n for n, prefix in enumerate(SLOW_FIRST) if item.nodeid.startswith(prefix)), len(SLOW_FIRST))

    items.sort(key=rank)
