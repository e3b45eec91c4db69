"""`make run`: the whole system on this machine, no AWS account needed.

moto (server mode) stands in for AWS; infra/resources.py's template is provisioned on it; `chalice
local` serves the API; this process pumps stream records, queue messages and schedules into the
same handlers Lambda runs. Ctrl-C stops everything it started.
"""

from __future__ import annotations

import logging
import os
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
REGION = "eu-central-1"
STAGE = "local"


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


def main() -> int:
    logging.basicConfig(level=logging.WARNING, format="%(asctime)s %(name)s %(levelname)s %(message)s")
    logging.getLogger("kabinet").setLevel(logging.INFO)
    # moto's HTTP server (werkzeug) logs every request at INFO: the pump's polling would bury the messages below.
    logging.getLogger("werkzeug").setLevel(logging.WARNING)
    api_port = int(os.environ.get("KABINET_PORT", "8000"))
    moto_port = int(os.environ.get("KABINET_MOTO_PORT", "0")) or _free_port()
    for what, port in (("API", api_port), ("moto", moto_port)):
        if not _port_free(port):
            print(f"Порт {port} ({what}) уже занят: остановите другой процесс или задайте "
                  f"{'KABINET_PORT' if what == 'API' else 'KABINET_MOTO_PORT'}.", file=sys.stderr)
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
    try:
        from infra import bootstrap, seed

        sender = os.environ.get("KABINET_SENDER_EMAIL", "noreply@gosuslugi.example")
        outputs = bootstrap.provision(STAGE, REGION, sender)
        os.environ.update(bootstrap.environment(STAGE, outputs))
        demo = seed.seed()

        chalice = Path(sys.executable).with_name("chalice")
        chalice_proc = subprocess.Popen(
            [str(chalice), "local", "--no-autoreload", "--host", "127.0.0.1", "--port", str(api_port),
             "--stage", STAGE], cwd=ROOT, env=dict(os.environ))
        if not _wait_http(f"http://127.0.0.1:{api_port}/openapi.json", 30, chalice_proc):
            print("API не запустился (chalice local)", file=sys.stderr)
            return 1

        from app import app
        from infra.pump import Pump

        pump = Pump(app, REGION, outputs["TableName"])
        starting = False
        print(f"""
Kabinet is running (stage {STAGE}).
  API:            http://127.0.0.1:{api_port}   (OpenAPI: http://127.0.0.1:{api_port}/openapi.json)
  Messages sent:  http://127.0.0.1:{api_port}/dev/outbox?to=<phone or e-mail>   (also printed below)
  Local AWS:      http://127.0.0.1:{moto_port}   (state: /moto-api/data.json)
  Demo sign-in:   {", ".join(demo)} with password {seed.DEMO_PASSWORD}
  Officers:       {seed.officer_phone(0)} … {seed.officer_phone(len(seed.DEMO_OFFICERS) - 1)}, same password \
(one per agency: /agency/requests)
  Service catalog: http://127.0.0.1:{api_port}/services?q=справка
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
        moto.stop()
        print("Stopped.", flush=True)


if __name__ == "__main__":
    sys.exit(main())
