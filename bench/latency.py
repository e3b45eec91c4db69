"""Latency on the local cloud: `python -m infra.local` as `make run` starts it, driven over HTTP.

GET /me and POST /auth/login p50/p95 for one registered user; login runs argon2id at the production
cost here (KABINET_ARGON2 unset), so the bare argon2id cost is measured in-process alongside.
"""

from __future__ import annotations

import collections
import os
import signal
import statistics
import subprocess
import sys
import threading
import time
from typing import Any

import requests

from bench._common import PASSWORD, ROOT, UA_DESKTOP, free_port, ms, percentile, report, six_digit_code

PHONE = "+79161230001"
ME_REQUESTS = 200
KEEPALIVE_REQUESTS = 50
LOGIN_REQUESTS = 25  # /auth/* allows 30 requests a minute per IP; registration takes 3
WARMUP = 5
ROUTE_REQUESTS = 100
SUBMITS = 30
SUGGEST_QUERIES = ["спр", "справка о суд", "спровка", "загранпспорт", "паспорт", "выписка егрн", "налоговый вычет",
                   "запись ко врачу", "осаго", "регистрация ип", "пенсия", "субсидия жкх"]
ARGON2_RUNS = 10
START_SECONDS = 120
STOP_SECONDS = 30


class LocalCloud:
    """The local cloud in a child process; its output is read continuously so the pipe never fills."""

    def __init__(self) -> None:
        self.api_port, moto_port = free_port(), free_port()
        env = {k: v for k, v in os.environ.items() if k not in ("KABINET_ARGON2", "AWS_ENDPOINT_URL")}
        env.update(KABINET_PORT=str(self.api_port), KABINET_MOTO_PORT=str(moto_port), PYTHONUNBUFFERED="1")
        self.proc = subprocess.Popen([sys.executable, "-m", "infra.local"], cwd=ROOT, env=env, text=True,
                                     stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
        self.tail: collections.deque[str] = collections.deque(maxlen=30)
        self.ready = threading.Event()
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self) -> None:
        assert self.proc.stdout is not None
        for line in self.proc.stdout:
            self.tail.append(line.rstrip())
            if "Ready." in line:
                self.ready.set()

    def wait_ready(self) -> None:
        deadline = time.monotonic() + START_SECONDS
        while not self.ready.wait(0.2):
            if self.proc.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError("local cloud did not start:\n" + "\n".join(self.tail))

    def stop(self) -> float:
        """SIGINT, as Ctrl-C in `make run`; returns how long it took to exit."""
        start = time.perf_counter()
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGINT)
            try:
                self.proc.wait(STOP_SECONDS)
            except subprocess.TimeoutExpired:
                print(f"  ! infra.local still running {STOP_SECONDS} s after SIGINT; killing it")
                self.proc.kill()
                self.proc.wait()
        return time.perf_counter() - start


def _timed(n: int, fn: Any) -> list[float]:
    out = []
    for _ in range(n):
        start = time.perf_counter()
        resp = fn()
        out.append(time.perf_counter() - start)
        if resp.status_code not in (200, 201):
            raise RuntimeError(f"{resp.request.method} {resp.request.url}: {resp.status_code} {resp.text[:300]}")
    return out


class Fresh:
    """requests with a new connection per request (requests.request opens and closes its own session)."""

    def __init__(self, base: str) -> None:
        self.base = base

    def __call__(self, method: str, path: str, **kw: Any) -> requests.Response:
        headers = {"User-Agent": UA_DESKTOP, **kw.pop("headers", {})}
        return requests.request(method, self.base + path, headers=headers, timeout=30, **kw)


def _register(http: Fresh) -> dict[str, Any]:
    reg = http("POST", "/auth/registrations", json={"last_name": "Кузнецов", "first_name": "Алексей",
                                                     "phone": PHONE})
    reg.raise_for_status()
    rid = reg.json()["registration_id"]
    code = None
    deadline = time.monotonic() + 30
    while code is None and time.monotonic() < deadline:
        messages = http("GET", "/dev/outbox", params={"to": PHONE}).json()
        code = next((c for m in messages if (c := six_digit_code(m["text"]))), None)
        if code is None:
            time.sleep(0.1)
    if code is None:
        raise RuntimeError("no registration code in /dev/outbox after 30 s")
    http("POST", f"/auth/registrations/{rid}/confirm", json={"code": code}).raise_for_status()
    done = http("POST", f"/auth/registrations/{rid}/complete", json={"password": PASSWORD, "password_repeat": PASSWORD})
    done.raise_for_status()
    return dict(done.json())


def _argon2() -> tuple[float, float]:
    """Median seconds of one hash and one verify at the cost login uses here (the production cost)."""
    os.environ.pop("KABINET_ARGON2", None)
    from chalicelib.core import passwords

    passwords._hasher.cache_clear()
    hashes = []
    for _ in range(ARGON2_RUNS):
        start = time.perf_counter()
        stored = passwords.hash_password(PASSWORD)
        hashes.append(time.perf_counter() - start)
    verifies = []
    for _ in range(ARGON2_RUNS):
        start = time.perf_counter()
        assert passwords.verify_password(stored, PASSWORD)
        verifies.append(time.perf_counter() - start)
    return statistics.median(hashes), statistics.median(verifies)


def _line(what: str, samples: list[float]) -> str:
    return (f"{what}: p50 {ms(percentile(samples, 50))}, p95 {ms(percentile(samples, 95))} "
            f"(n={len(samples)}, min {ms(min(samples))}, max {ms(max(samples))})")


def run() -> dict[str, str]:
    cloud = LocalCloud()
    started = time.perf_counter()
    try:
        cloud.wait_ready()
        boot = time.perf_counter() - started
        base = f"http://127.0.0.1:{cloud.api_port}"
        # A new connection per request: over a kept-alive connection chalice local answers ~40 ms late
        # (measured separately below), which would hide the app's own time.
        http = Fresh(base)
        tokens = _register(http)
        auth = {"Authorization": f"Bearer {tokens['access_token']}"}
        _timed(WARMUP, lambda: http("GET", "/me", headers=auth))
        me = _timed(ME_REQUESTS, lambda: http("GET", "/me", headers=auth))
        with requests.Session() as alive:
            alive.headers["User-Agent"] = UA_DESKTOP
            me_alive = _timed(KEEPALIVE_REQUESTS, lambda: alive.get(f"{base}/me", headers=auth))
        queries = iter(SUGGEST_QUERIES * (ROUTE_REQUESTS // len(SUGGEST_QUERIES) + 1))
        suggest = _timed(ROUTE_REQUESTS, lambda: http("GET", "/services/suggest", params={"q": next(queries)}))
        form = {"type": "doctor-appointment", "params": {
            "last_name": "Кузнецов", "first_name": "Алексей", "birth_date": "1985-04-12",
            "oms_policy": "1234567890123456", "specialty": "therapist", "phone": PHONE}}
        submitted: list[str] = []

        def submit_one() -> requests.Response:
            resp = http("POST", "/requests", json=form, headers=auth)
            submitted.extend([resp.json()["id"]] if resp.status_code == 201 else [])
            return resp

        submit = _timed(SUBMITS, submit_one)
        detail = _timed(ROUTE_REQUESTS, lambda: http("GET", f"/requests/{submitted[0]}", headers=auth))
        listed = _timed(ROUTE_REQUESTS, lambda: http("GET", "/requests", headers=auth))
        body = {"login": PHONE, "password": PASSWORD}
        _timed(2, lambda: http("POST", "/auth/login", json=body))
        login = _timed(LOGIN_REQUESTS, lambda: http("POST", "/auth/login", json=body))
    finally:
        stopped = cloud.stop()
    hash_s, verify_s = _argon2()
    share = verify_s / percentile(login, 50)
    print("== Latency on the local cloud (python -m infra.local; chalice local + moto server, over HTTP;"
          " a new connection per request unless said) ==")
    print(f"  start to 'Ready.': {boot:.1f} s; stop after SIGINT: {stopped:.1f} s (exit code {cloud.proc.returncode})")
    print(f"  {_line('GET /me', me)}")
    print(f"  {_line('GET /me over one kept-alive connection', me_alive)}")
    print(f"  {_line('POST /auth/login', login)}")
    print(f"  {_line('GET /services/suggest (misspelt and partial queries)', suggest)}")
    print(f"  {_line('POST /requests (submit, 1 transaction)', submit)}")
    print(f"  {_line('GET /requests/{id} (1 Query)', detail)}")
    print(f"  {_line('GET /requests (1 Query)', listed)}")
    print(f"  argon2id at the production cost (3 passes, 64 MiB, 4 lanes), in-process, median of {ARGON2_RUNS}: "
          f"hash {ms(hash_s)}, verify {ms(verify_s)}")
    print(f"  argon2 verify is ~{share:.0%} of login p50; the rest is {ms(percentile(login, 50) - verify_s)}")
    return {"latency": f"GET /me p50 {ms(percentile(me, 50))} p95 {ms(percentile(me, 95))}; login p50 "
                       f"{ms(percentile(login, 50))} p95 {ms(percentile(login, 95))} "
                       f"(argon2 verify {ms(verify_s)} = {share:.0%}); suggest p50 {ms(percentile(suggest, 50))}; "
                       f"submit p50 {ms(percentile(submit, 50))}; request detail p50 {ms(percentile(detail, 50))}"}


if __name__ == "__main__":
    report(run())
