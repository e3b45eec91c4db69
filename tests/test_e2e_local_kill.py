"""A `make run` killed with SIGKILL must not block the next one.

SIGKILL gives `python -m infra.local` no chance to stop what it started, so its children have to notice
the parent's death themselves. Checked end to end: start the local cloud, kill -9 it, then within a few
seconds no process of that run may remain, the API port must be free, and a new run on the same ports
must start and answer.
"""

from __future__ import annotations

import os
import signal
import time
from pathlib import Path

import requests

from infra.local import _port_free
from tests.test_e2e_local import _accepts, _local_cloud, _running, _two_ports, _wait_ready

GONE_SECONDS = 5
HTTP_TIMEOUT = 10


def _descendants(pid: int) -> list[tuple[int, str]]:
    """(pid, command line) of every process below `pid`, from one /proc scan (Linux; empty elsewhere)."""
    parents: dict[int, list[tuple[int, str]]] = {}
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            ppid = int(stat.read_text().rsplit(")", 1)[1].split()[1])
            cmdline = (stat.parent / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
        except (OSError, IndexError, ValueError):
            continue
        parents.setdefault(ppid, []).append((int(stat.parent.name), cmdline))
    found: list[tuple[int, str]] = []
    todo = [pid]
    while todo:
        for child in parents.get(todo.pop(), []):
            found.append(child)
            todo.append(child[0])
    return found


def _answers(port: int) -> int:
    http = requests.Session()
    http.trust_env = False  # loopback only
    return http.get(f"http://127.0.0.1:{port}/openapi.json", timeout=HTTP_TIMEOUT).status_code


def test_sigkilled_local_cloud_leaves_nothing_behind_and_the_next_run_starts() -> None:
    api_port, moto_port = _two_ports()
    with _local_cloud(api_port, moto_port) as first:
        _wait_ready(first)
        assert _answers(api_port) == 200
        tree = _descendants(first.proc.pid)
        if Path("/proc").is_dir():
            assert [c for c in tree if "chalice" in c[1]], f"no chalice local below infra.local: {tree}"

        os.kill(first.proc.pid, signal.SIGKILL)
        assert first.proc.wait(GONE_SECONDS) == -signal.SIGKILL
        deadline = time.monotonic() + GONE_SECONDS
        while True:
            left = [c for c in tree if _running(*c)]
            port_busy = _accepts(api_port) or not _port_free(api_port)
            if not left and not port_busy:
                break
            assert time.monotonic() < deadline, (
                f"{GONE_SECONDS} s after kill -9 of infra.local: still running {left}, "
                f"API port {api_port} {'taken' if port_busy else 'free'}")
            time.sleep(0.1)
        assert not _accepts(moto_port), f"moto port {moto_port} still accepts connections"

        with _local_cloud(api_port, moto_port) as second:
            _wait_ready(second)
            assert "уже занят" not in second.err.text, second.console()
            assert _answers(api_port) == 200
