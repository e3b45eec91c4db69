"""End to end on the local cloud exactly as `make run` starts it (`python -m infra.local`), over HTTP.

Registration with the SMS code read from /dev/outbox, sign-in, lockout after three wrong passwords, the
profile and login history, the lock notice, the error shape; then a stop the way Ctrl-C does it, which
must leave no process and no port behind. And: a taken API port is refused at once with a clear message.
"""

from __future__ import annotations

import os
import re
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import IO, Any

import requests

ROOT = Path(__file__).resolve().parent.parent
READY_SECONDS = 60
STOP_SECONDS = 20
HTTP_TIMEOUT = 10
OUTBOX_SECONDS = 30

PHONE = "89161112233"
PHONE_E164 = "+79161112233"
PASSWORD = "Vesna#Dom48!"
UA_DESKTOP_CHROME = ("Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) "
                     "Chrome/120.0.0.0 Safari/537.36")
CODE = re.compile(r"(?<!\d)\d{6}(?!\d)")


# -- the process ----------------------------------------------------------------------------------------

def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _accepts(port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.settimeout(1)
        return s.connect_ex(("127.0.0.1", port)) == 0


def _env(**extra: str) -> dict[str, str]:
    """A fresh shell's environment: without what conftest set up for the in-process tests (AWS endpoint,
    cheap password hashing, topic ARN), so the child runs exactly as `make run` does."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("KABINET_", "AWS_"))}
    env["PYTHONUNBUFFERED"] = "1"
    env.update(extra)
    return env


@dataclass
class _Stream:
    """Reads a child's pipe in a thread (an unread pipe fills up and blocks the child)."""

    pipe: IO[str]
    lines: list[str] = field(default_factory=list)
    ready: threading.Event = field(default_factory=threading.Event)

    def __post_init__(self) -> None:
        self.thread = threading.Thread(target=self._read, daemon=True)
        self.thread.start()

    def _read(self) -> None:
        for line in self.pipe:
            self.lines.append(line)
            if line.startswith("Ready."):
                self.ready.set()

    @property
    def text(self) -> str:
        return "".join(self.lines)


@dataclass
class _Cloud:
    proc: subprocess.Popen[str]
    out: _Stream
    err: _Stream
    api_port: int
    moto_port: int
    demo_rp_port: int = 0

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.api_port}"

    @property
    def demo_rp(self) -> str:
        return f"http://127.0.0.1:{self.demo_rp_port}"

    def console(self) -> str:
        return f"--- stdout ---\n{self.out.text[-4000:]}\n--- stderr ---\n{self.err.text[-4000:]}"


@contextmanager
def _local_cloud(api_port: int, moto_port: int) -> Iterator[_Cloud]:
    """`python -m infra.local` from the project root in its own session; whatever of that session is still
    running when the test ends is killed."""
    demo_rp_port = _free_port()  # make run's demo relying party: its own port per cloud, as the others
    while demo_rp_port in (api_port, moto_port):
        demo_rp_port = _free_port()
    proc = subprocess.Popen(
        [sys.executable, "-m", "infra.local"], cwd=ROOT,
        env=_env(KABINET_PORT=str(api_port), KABINET_MOTO_PORT=str(moto_port),
                 KABINET_DEMO_RP_PORT=str(demo_rp_port)),
        stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
        text=True, encoding="utf-8", errors="replace", start_new_session=True)
    cloud = _Cloud(proc, _Stream(proc.stdout), _Stream(proc.stderr), api_port, moto_port,  # type: ignore[arg-type]
                   demo_rp_port)
    try:
        yield cloud
    except BaseException:
        print(cloud.console())  # pytest shows it with the failure
        raise
    finally:
        # Its own process group: infra.local and its chalice local, even one that outlived its parent.
        with suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGKILL)
        proc.wait(STOP_SECONDS)
        cloud.out.thread.join(5)
        cloud.err.thread.join(5)


def _two_ports() -> tuple[int, int]:
    api_port, moto_port = _free_port(), _free_port()
    while moto_port == api_port:
        moto_port = _free_port()
    return api_port, moto_port


def _wait_ready(cloud: _Cloud) -> float:
    started = time.monotonic()
    deadline = started + READY_SECONDS
    while not cloud.out.ready.wait(0.1):
        assert cloud.proc.poll() is None, f"infra.local exited with {cloud.proc.returncode}\n{cloud.console()}"
        assert time.monotonic() < deadline, f"no 'Ready.' within {READY_SECONDS} s\n{cloud.console()}"
    return time.monotonic() - started


def _children(pid: int) -> list[tuple[int, str]]:
    """(pid, command line) of the processes whose parent is `pid` (Linux /proc; empty elsewhere)."""
    found = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
            cmdline = (stat.parent / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
        except OSError:
            continue
        if int(fields[1]) == pid:
            found.append((int(stat.parent.name), cmdline))
    return found


def _running(pid: int, cmdline: str) -> bool:
    """The same process (same command line) still exists and is not a zombie."""
    proc = Path(f"/proc/{pid}")
    try:
        state = (proc / "stat").read_text().rsplit(")", 1)[1].split()[0]
        same = (proc / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace") == cmdline
    except OSError:
        return False
    return same and state != "Z"


# -- HTTP helpers -----------------------------------------------------------------------------------------

def _http() -> requests.Session:
    http = requests.Session()
    http.trust_env = False  # loopback only: never through a proxy from the environment
    http.headers["User-Agent"] = UA_DESKTOP_CHROME
    return http


def _error(resp: requests.Response, status: int, code: str) -> dict[str, Any]:
    """The one error shape: {"error": {"code", "message", "fields", ...}} with the expected status and code."""
    assert resp.status_code == status, (resp.status_code, resp.text)
    assert resp.headers["Content-Type"].startswith("application/json"), resp.headers
    body = resp.json()
    assert list(body) == ["error"], body
    error = body["error"]
    assert error["code"] == code, body
    assert re.fullmatch(r"[A-Z][A-Z0-9_]*", error["code"]), body
    assert isinstance(error["message"], str) and error["message"], body
    assert isinstance(error["fields"], dict), body
    return error


def _outbox(http: requests.Session, cloud: _Cloud, to: str,
            until: Callable[[list[dict[str, Any]]], bool]) -> list[dict[str, Any]]:
    """Poll /dev/outbox until `until(messages)` holds: the event pump delivers messages asynchronously."""
    deadline = time.monotonic() + OUTBOX_SECONDS
    messages: list[dict[str, Any]] = []
    while time.monotonic() < deadline:
        resp = http.get(f"{cloud.base}/dev/outbox", params={"to": to}, timeout=HTTP_TIMEOUT)
        assert resp.status_code == 200, resp.text
        messages = resp.json()
        if until(messages):
            return messages
        time.sleep(0.1)
    raise AssertionError(f"outbox of {to} after {OUTBOX_SECONDS} s: {messages}\n{cloud.console()}")


def _post(http: requests.Session, cloud: _Cloud, path: str, body: Any, token: str | None = None) -> requests.Response:
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    return http.post(f"{cloud.base}{path}", json=body, headers=headers, timeout=HTTP_TIMEOUT)


def _get(http: requests.Session, cloud: _Cloud, path: str, token: str) -> requests.Response:
    return http.get(f"{cloud.base}{path}", headers={"Authorization": f"Bearer {token}"}, timeout=HTTP_TIMEOUT)


# -- the tests ------------------------------------------------------------------------------------------

def test_local_cloud_end_to_end_and_clean_stop() -> None:
    api_port, moto_port = _free_port(), _free_port()
    while moto_port == api_port:
        moto_port = _free_port()
    with _local_cloud(api_port, moto_port) as cloud:
        boot = _wait_ready(cloud)
        assert f"http://127.0.0.1:{api_port}" in cloud.out.text
        assert f"http://127.0.0.1:{moto_port}" in cloud.out.text
        http = _http()

        # Registration: the code arrives by SMS (the pump delivers it), then the password.
        reg = _post(http, cloud, "/auth/registrations",
                    {"last_name": "Кузнецов", "first_name": "Алексей", "phone": PHONE})
        assert reg.status_code == 201, reg.text
        assert reg.json()["channel"] == "sms"
        rid = reg.json()["registration_id"]
        sms = _outbox(http, cloud, PHONE, lambda ms: any(CODE.search(m["text"]) for m in ms))
        assert [m["channel"] for m in sms] == ["sms"] and sms[0]["to"] == PHONE_E164, sms
        code = CODE.findall(sms[0]["text"])
        assert len(code) == 1, sms
        confirmed = _post(http, cloud, f"/auth/registrations/{rid}/confirm", {"code": code[0]})
        assert confirmed.status_code == 200, confirmed.text
        done = _post(http, cloud, f"/auth/registrations/{rid}/complete",
                     {"password": PASSWORD, "password_repeat": PASSWORD})
        assert done.status_code == 201, done.text
        user_id = done.json()["user_id"]

        # Sign-in with the right password.
        ok = _post(http, cloud, "/auth/login", {"login": PHONE, "password": PASSWORD})
        assert ok.status_code == 200, ok.text
        tokens = ok.json()
        assert tokens["user_id"] == user_id
        assert tokens["access_token"] and tokens["refresh_token"] and tokens["expires_in"] > 0, tokens

        # Three wrong passwords: 401, 401, then 423 with the lock's end; then even the right one is refused.
        wrong = {"login": PHONE, "password": "Vesna#Dom49?"}
        _error(_post(http, cloud, "/auth/login", wrong), 401, "INVALID_CREDENTIALS")
        _error(_post(http, cloud, "/auth/login", wrong), 401, "INVALID_CREDENTIALS")
        before_lock = datetime.now(UTC).replace(microsecond=0)
        locked = _error(_post(http, cloud, "/auth/login", wrong), 423, "ACCOUNT_LOCKED")
        until = datetime.fromisoformat(locked["locked_until"].replace("Z", "+00:00"))
        assert before_lock + timedelta(minutes=14) <= until <= datetime.now(UTC) + timedelta(minutes=16), locked
        still = _error(_post(http, cloud, "/auth/login", {"login": PHONE, "password": PASSWORD}), 423, "ACCOUNT_LOCKED")
        assert still["locked_until"] == locked["locked_until"]

        # The token from before the lock still reads the profile and the login history.
        me = _get(http, cloud, "/me", tokens["access_token"])
        assert me.status_code == 200, me.text
        assert me.json()["user_id"] == user_id
        assert me.json()["phone"] == PHONE_E164
        assert (me.json()["last_name"], me.json()["first_name"]) == ("Кузнецов", "Алексей")
        history = _get(http, cloud, "/me/login-history", tokens["access_token"])
        assert history.status_code == 200, history.text
        items = history.json()["items"]
        assert [i["result"] for i in items] == ["locked", "failure", "failure", "failure", "success", "success"], items
        assert [i["at"] for i in items] == sorted((i["at"] for i in items), reverse=True), items
        for item in items:
            assert (item["device_type"], item["os"], item["browser"]) == ("computer", "Windows 10", "Chrome 120"), item
            assert item["method"] == "password", item

        # The lock notice reaches the phone.
        sms = _outbox(http, cloud, PHONE, lambda ms: any("заблокирован" in m["text"] for m in ms))
        notice = next(m for m in sms if "заблокирован" in m["text"])
        assert notice["channel"] == "sms" and notice["to"] == PHONE_E164, notice

        # Error shape for what chalice itself refuses and for a broken body.
        wrong_type = http.post(f"{cloud.base}/auth/login", data=b'{"login": "x", "password": "y"}',
                               headers={"Content-Type": "text/plain"}, timeout=HTTP_TIMEOUT)
        _error(wrong_type, 415, "UNSUPPORTED_MEDIA_TYPE")
        broken = http.post(f"{cloud.base}/auth/login", data=b'{"login": "x", "password": ',
                           headers={"Content-Type": "application/json"}, timeout=HTTP_TIMEOUT)
        _error(broken, 400, "INVALID_JSON")

        # Stop it the way Ctrl-C does; nothing may stay behind.
        chalice = [c for c in _children(cloud.proc.pid) if "chalice" in c[1]]
        assert len(chalice) == 1 and _running(*chalice[0]), _children(cloud.proc.pid)  # what must be gone exists
        stop_started = time.monotonic()
        cloud.proc.send_signal(signal.SIGINT)
        try:
            code_ = cloud.proc.wait(STOP_SECONDS)
        except subprocess.TimeoutExpired:
            raise AssertionError(f"still running {STOP_SECONDS} s after SIGINT\n{cloud.console()}") from None
        stopped_in = time.monotonic() - stop_started
        cloud.out.thread.join(5)
        assert code_ == 0, f"exit code {code_}\n{cloud.console()}"
        assert "Stopped." in cloud.out.text, cloud.console()
        assert not [c for c in chalice if _running(*c)], f"chalice local left running: {chalice}"
        assert not _accepts(api_port), f"API port {api_port} still accepts connections"
        assert not _accepts(moto_port), f"moto port {moto_port} still accepts connections"
        print(f"\nlocal cloud: ready in {boot:.1f} s, stopped in {stopped_in:.1f} s")


def test_taken_api_port_is_refused_with_a_clear_message() -> None:
    """Refused before anything starts (how soon: bench/refusals.py)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        run = subprocess.run([sys.executable, "-m", "infra.local"], cwd=ROOT,
                             env=_env(KABINET_PORT=str(port), KABINET_MOTO_PORT=str(_free_port())),
                             stdin=subprocess.DEVNULL, capture_output=True, text=True, encoding="utf-8",
                             errors="replace", timeout=30, check=False)
    assert run.returncode == 1, (run.returncode, run.stdout, run.stderr)
    assert str(port) in run.stderr, run.stderr
    assert "KABINET_PORT" in run.stderr, run.stderr
    assert "Ready." not in run.stdout, run.stdout
    assert "Stopped." not in run.stdout, run.stdout  # refused before moto or chalice local started at all


def test_sigterm_during_start_up_leaves_nothing_behind() -> None:
    """A stop that comes while the cloud is still starting (chalice local up, pump not yet) stops chalice too."""
    api_port, moto_port = _free_port(), _free_port()
    while moto_port == api_port:
        moto_port = _free_port()
    with _local_cloud(api_port, moto_port) as cloud:
        deadline = time.monotonic() + READY_SECONDS
        while "Serving on" not in cloud.out.text:  # chalice local's first line; "Ready." comes later
            assert cloud.proc.poll() is None and time.monotonic() < deadline, cloud.console()
            time.sleep(0.01)
        chalice = [c for c in _children(cloud.proc.pid) if "chalice" in c[1]]
        assert len(chalice) == 1 and _running(*chalice[0]), _children(cloud.proc.pid)  # what must be gone exists
        assert _accepts(api_port), f"chalice local does not serve on {api_port} yet\n{cloud.console()}"
        cloud.proc.send_signal(signal.SIGTERM)
        try:
            code = cloud.proc.wait(STOP_SECONDS)
        except subprocess.TimeoutExpired:
            raise AssertionError(f"still running {STOP_SECONDS} s after SIGTERM\n{cloud.console()}") from None
        cloud.out.thread.join(5)
        assert "Ready." not in cloud.out.text, cloud.console()  # the signal did come during start-up
        assert code == 130, f"exit code {code}\n{cloud.console()}"  # start-up interrupted (infra/local.py)
        assert "Stopped." in cloud.out.text, cloud.console()
        assert not [c for c in chalice if _running(*c)], f"chalice local left running: {chalice}"
        assert not _accepts(api_port), f"API port {api_port} still accepts connections"
        assert not _accepts(moto_port), f"moto port {moto_port} still accepts connections"
