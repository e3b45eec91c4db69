"""`make run`: the whole system on this machine, no AWS account needed.

moto (server mode) stands in for AWS; infra/resources.py's template is provisioned on it; `chalice
local` serves the API; this process pumps stream records, queue messages and schedules into the
same handlers Lambda runs. Ctrl-C stops everything it started.

moto and the pump run in this process (threads and the main loop); `chalice local` is the only child. It
is started through `python -m infra.local --chalice-child …` so that it dies with this process even when
this process is SIGKILLed and cannot stop it (see `_die_with_parent`): a stale child would keep the API
port and make the next `make run` refuse to start.
"""

from __future__ import annotations

import ctypes
import logging
import os
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Callable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
REGION = "eu-central-1"
STAGE = "local"
CHILD_FLAG = "--chalice-child"  # private: `python -m infra.local --chalice-child <parent pid> <fd> <chalice args>`
PR_SET_PDEATHSIG = 1  # <linux/prctl.h>


def _port_free(port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            s.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _wait_http(url: str, seconds: float, proc: subprocess.Popen | None = None) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if proc is not None and proc.poll() is not None:
            return False
        try:
            with urllib.request.urlopen(url, timeout=1):
                return True
        except OSError:
            time.sleep(0.1)
    return False


def _webhook_poster(base: str) -> Callable[[bytes, dict[str, str]], int]:
    """The local acquirer's webhooks reach the API over HTTP, as a real acquirer's would (infra/acquirer_simulator.py).
    An HTTP error is an answer (its status); no answer at all raises, and the delivery is retried."""
    from chalicelib.adapters.acquirer import WEBHOOK_PATH

    def post(body: bytes, headers: dict[str, str]) -> int:
        request = urllib.request.Request(base + WEBHOOK_PATH, data=body, headers=headers, method="POST")
        try:
            with urllib.request.urlopen(request, timeout=10) as answer:
                return answer.status
        except urllib.error.HTTPError as exc:
            return exc.code

    return post


def _spawn_chalice(args: list[str], env: dict[str, str]) -> tuple[subprocess.Popen, int]:
    """Start `chalice <args>` as a child that ends when this process ends, however it ends.

    Returns the child and the write end of its watch pipe: keep that open while the child should live.
    The child arms itself after exec (`_die_with_parent`) rather than in a `preexec_fn`, which is not safe
    here: moto's server thread is already running when we fork.
    """
    if threading.current_thread() is not threading.main_thread():
        # PR_SET_PDEATHSIG fires when the forking *thread* exits; only the main thread lives as long as we do.
        raise RuntimeError("chalice local must be started from the main thread")
    watch_r, watch_w = os.pipe()  # both ends non-inheritable: only the child's copy of watch_r crosses exec
    try:
        proc = subprocess.Popen(
            [sys.executable, "-m", "infra.local", CHILD_FLAG, str(os.getpid()), str(watch_r), *args],
            cwd=ROOT, env=env, pass_fds=(watch_r,))
    except BaseException:
        os.close(watch_w)
        raise
    finally:
        os.close(watch_r)
    return proc, watch_w


def _die_with_parent(parent_pid: int, watch_fd: int) -> None:
    """In the child: end this process as soon as `parent_pid` is gone, even after a SIGKILL of the parent.

    Two independent means. Linux: PR_SET_PDEATHSIG makes the kernel SIGKILL us when the parent's forking
    thread (its main thread) exits. Every OS (macOS has no prctl): the parent holds the only write end of
    the pipe `watch_fd`; the kernel closes it when the parent dies, and a thread here exits on the EOF.
    """
    if sys.platform.startswith("linux"):
        try:
            prctl = ctypes.CDLL(None, use_errno=True).prctl
            if prctl(PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0) != 0:
                print(f"prctl(PR_SET_PDEATHSIG): {os.strerror(ctypes.get_errno())}", file=sys.stderr)
        except (OSError, AttributeError) as e:  # no usable libc: the pipe below still covers it
            print(f"prctl unavailable: {e}", file=sys.stderr)
    if os.getppid() != parent_pid:  # the parent died before the death signal was armed: nobody will send it
        os._exit(1)
    os.set_inheritable(watch_fd, False)  # pass_fds made it inheritable; nothing below us needs it

    def watch() -> None:
        try:
            while os.read(watch_fd, 1):
                pass
        except OSError:
            pass
        print("infra.local is gone: chalice local stops.", file=sys.stderr, flush=True)
        os._exit(1)

    threading.Thread(target=watch, name="parent-watch", daemon=True).start()


def _chalice_child(argv: list[str]) -> int:
    """`chalice <args>` in this process, armed to die with the parent (see `_spawn_chalice`)."""
    parent_pid, watch_fd, *chalice_args = argv
    _die_with_parent(int(parent_pid), int(watch_fd))
    from chalice.cli import main as chalice_main

    sys.argv = ["chalice", *chalice_args]
    return chalice_main()


def main() -> int:
    logging.basicConfig(level=logging.WARNING, format="%(asctime)s %(name)s %(levelname)s %(message)s")
    logging.getLogger("kabinet").setLevel(logging.INFO)
    # moto's HTTP server (werkzeug) logs every request at INFO: the pump's polling would bury the messages below.
    logging.getLogger("werkzeug").setLevel(logging.WARNING)
    api_port = int(os.environ.get("KABINET_PORT", "8000"))
    moto_port = int(os.environ.get("KABINET_MOTO_PORT", "0")) or _free_port()
    demo_rp_port = int(os.environ.get("KABINET_DEMO_RP_PORT", "8001"))  # single sign-on's demo relying party
    for what, port, variable in (("API", api_port, "KABINET_PORT"), ("moto", moto_port, "KABINET_MOTO_PORT"),
                                 ("demo-rp", demo_rp_port, "KABINET_DEMO_RP_PORT")):
        if not _port_free(port):
            print(f"Порт {port} ({what}) уже занят: остановите другой процесс или задайте {variable}.",
                  file=sys.stderr)
            return 1

    from moto.server import ThreadedMotoServer

    from infra import moto_fixes

    moto_fixes.apply()

    moto = ThreadedMotoServer(ip_address="127.0.0.1", port=moto_port, verbose=False)
    moto.start()
    stop = threading.Event()
    starting = True

    def on_signal(*_: object) -> None:
        stop.set()
        if starting:  # Ctrl-C or SIGTERM during start-up: unwind through `finally`, which stops what was started
            raise KeyboardInterrupt

    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, on_signal)
    env = {
        "AWS_ENDPOINT_URL": f"http://127.0.0.1:{moto_port}", "AWS_ACCESS_KEY_ID": "local",
        "AWS_SECRET_ACCESS_KEY": "local", "AWS_DEFAULT_REGION": REGION, "KABINET_STAGE": STAGE,
        "KABINET_PUBLIC_URL": f"http://127.0.0.1:{api_port}",
    }
    os.environ.update(env)
    chalice_proc: subprocess.Popen | None = None
    chalice_watch: int | None = None
    demo_rp_server: Any = None
    try:
        from infra import bootstrap, seed

        sender = os.environ.get("KABINET_SENDER_EMAIL", "noreply@gosuslugi.example")
        outputs = bootstrap.provision(STAGE, REGION, sender)
        os.environ.update(bootstrap.environment(STAGE, outputs))
        demo = seed.seed()

        # --no-autoreload: the reloader would fork a worker that holds the port, a grandchild to look after.
        chalice_proc, chalice_watch = _spawn_chalice(
            ["local", "--no-autoreload", "--host", "127.0.0.1", "--port", str(api_port), "--stage", STAGE],
            dict(os.environ))
        if not _wait_http(f"http://127.0.0.1:{api_port}/openapi.json", 30, chalice_proc):
            print("API не запустился (chalice local)", file=sys.stderr)
            return 1

        demo_rp_server = start_demo_rp(f"http://127.0.0.1:{api_port}", demo_rp_port)

        from app import app
        from infra.pump import Pump

        pump = Pump(app, REGION, outputs["TableName"], acquirer_post=_webhook_poster(f"http://127.0.0.1:{api_port}"))
        starting = False
        print(f"""
Kabinet is running (stage {STAGE}).
  Web client:     http://127.0.0.1:{api_port}/   (sign in with a demo account below, or register)
  API:            http://127.0.0.1:{api_port}   (OpenAPI: http://127.0.0.1:{api_port}/openapi.json)
  Messages sent:  http://127.0.0.1:{api_port}/dev/outbox?to=<phone or e-mail>   (also printed below)
  Local AWS:      http://127.0.0.1:{moto_port}   (state: /moto-api/data.json)
  Demo sign-in:   {", ".join(demo)} with password {seed.DEMO_PASSWORD}
  Officers:       {seed.officer_phone(0)} … {seed.officer_phone(len(seed.DEMO_OFFICERS) - 1)}, same password \
(one per agency: /agency/requests)
  Service catalog: http://127.0.0.1:{api_port}/services?q=справка
  Single sign-on: http://127.0.0.1:{demo_rp_port}/   («Демо-госсистема», client demo-rp: «Войти через Кабинет»)
Ready. Press Ctrl-C to stop.""", flush=True)
        pump.run_forever(stop)
        return 0
    except KeyboardInterrupt:
        return 130
    finally:
        starting = False  # a second signal must not interrupt the clean-up
        stop.set()
        if chalice_proc is not None and chalice_proc.poll() is None:
            chalice_proc.terminate()
            try:
                chalice_proc.wait(10)
            except subprocess.TimeoutExpired:
                chalice_proc.kill()
        if chalice_watch is not None:
            os.close(chalice_watch)
        if demo_rp_server is not None:
            demo_rp_server.shutdown()
        moto.stop()
        print("Stopped.", flush=True)


# -- single sign-on (issue 15; docs/sso.md): the demo relying party --
DEMO_RP_KEY = ROOT / "build" / "demo-rp" / "key.json"


def register_demo_rp(rp: Any) -> None:
    """Register `rp` as client demo-rp through the admin command, as an operator would. The local cloud starts
    empty, so this runs on every start; the key persists under build/ so the registered JWKS stays the RP's."""
    import contextlib
    import io
    import json

    from infra import admin

    args = ["sso-client", "--client-id", rp.client_id, "--name", "Демо-госсистема", "--redirect-uri",
            rp.redirect_uri, *[a for scope in ("openid", "profile", "birthdate", "snils", "inn", "contacts")
                               for a in ("--scope", scope)],
            "--auth-method", "private_key_jwt", "--jwks", json.dumps(rp.public_jwks()),
            "--post-logout-redirect-uri", rp.post_logout_redirect_uri,
            "--backchannel-logout-uri", rp.backchannel_logout_uri]
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        done = admin.main(args)
    if done != 0:
        raise RuntimeError(f"demo-rp registration failed ({done}): {err.getvalue().strip()}")


def start_demo_rp(issuer: str, port: int) -> Any:
    """The demo relying party on its own port, in a thread of this process (Ctrl-C stops it with the rest)."""
    from infra import demo_rp

    rp = demo_rp.DemoRP(issuer, f"http://127.0.0.1:{port}", demo_rp.load_or_create_key(DEMO_RP_KEY))
    register_demo_rp(rp)
    server, _ = demo_rp.serve(rp, "127.0.0.1", port)
    return server


if __name__ == "__main__":
    sys.exit(_chalice_child(sys.argv[2:]) if sys.argv[1:2] == [CHILD_FLAG] else main())
