"""Refusals that must come at once, timed: the figures the tests no longer assert (a timing in a test fails on a
loaded machine, not when the behaviour breaks; the tests keep the behaviour).

- `python -m infra.local` with its API port taken: refused before anything starts
  (tests/test_e2e_local.py::test_taken_api_port_is_refused_with_a_clear_message);
- an upload check of hostile PDF object graphs: pypdf's own limits refuse them, the time budget is only the
  backstop (tests/test_pdf_repair.py::test_hostile_object_graphs_get_a_verdict_without_the_time_budget);
- a file that needs seconds of pypdf work, with the budget lowered to 0.1 s: the alarm cuts it short
  (tests/test_pdf_repair.py::test_the_time_budget_stops_a_slow_file_and_leaves_no_alarm_behind).
"""

from __future__ import annotations

import logging
import os
import socket
import statistics
import subprocess
import sys
import time

from bench._common import ROOT, free_port, report

PORT_RUNS = 3
PDF_RUNS = 3
MIB = 1024 * 1024
TARGET_PORT = 10.0  # s: what the test used to assert
TARGET_HOSTILE = 10.0
TARGET_BUDGET = 2.0  # s, with the budget at 0.1 s


def _port_refusal() -> float:
    """Seconds until `python -m infra.local` exits with its API port held by another socket."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("KABINET_", "AWS_"))}
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        env.update(KABINET_PORT=str(taken.getsockname()[1]), KABINET_MOTO_PORT=str(free_port()))
        started = time.perf_counter()
        run = subprocess.run([sys.executable, "-m", "infra.local"], cwd=ROOT, env=env, stdin=subprocess.DEVNULL,
                             capture_output=True, timeout=60, check=False)
        spent = time.perf_counter() - started
    if run.returncode != 1:
        raise SystemExit(f"infra.local did not refuse the taken port: exit {run.returncode}\n{run.stderr!r}")
    return spent


def _body(*objects: bytes, root: bytes = b"1 0 R") -> bytes:
    numbered = b"".join(b"%d 0 obj\n%s\nendobj\n" % (n, obj) for n, obj in enumerate(objects, 1))
    return b"%PDF-1.4\n" + numbered + b"trailer\n<< /Size %d /Root %s >>\nstartxref\n0\n%%%%EOF\n" % (
        len(objects) + 1, root)


HOSTILE = {  # the same files as tests/test_pdf_repair.py's HOSTILE
    "nested arrays 200k deep": _body(b"<< /Type /Catalog /Pages " + b"[" * 200_000 + b" >>"),
    "page tree cycle": _body(b"<< /Type /Catalog /Pages 2 0 R >>", b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
                             b"<< /Type /Pages /Kids [2 0 R] /Count 1 >>"),
    "reference loop": _body(b"2 0 R", b"1 0 R"),
    "page tree 1000 deep": _body(b"<< /Type /Catalog /Pages 2 0 R >>", *(
        b"<< /Type /Pages /Kids [%d 0 R] /Count 1 >>" % (n + 1) for n in range(2, 1002))),
}


def _checked(data: bytes) -> float:
    from chalicelib.documents.inspect import inspect

    started = time.perf_counter()
    verdict = inspect(data, declared="application/pdf", limit=10 * MIB)
    spent = time.perf_counter() - started
    if verdict.ok:
        raise SystemExit("a hostile PDF was accepted")
    return spent


def _verdict(label: str, seconds: float, target: float) -> str:
    return f"  {label:<28} {seconds:6.2f} s  (target under {target:g} s: {'met' if seconds < target else 'MISSED'})"


def run() -> dict[str, str]:
    from chalicelib.documents import inspect as inspection

    logging.getLogger("kabinet.documents").setLevel(logging.ERROR)  # "gave up" is the point of the last figure
    port = statistics.median(_port_refusal() for _ in range(PORT_RUNS))
    hostile = {name: statistics.median(_checked(data) for _ in range(PDF_RUNS)) for name, data in HOSTILE.items()}
    slow = b"%PDF-1.4\n" + b"trailer\n<< /Root 1 0 R >>\n" * (10 * MIB // 26)
    inspection.PDF_SECONDS = 0.1
    budget = statistics.median(_checked(slow) for _ in range(PDF_RUNS))

    print(f"== Refusals that must come at once (medians of {PORT_RUNS}/{PDF_RUNS}) ==")
    print(_verdict("taken API port (infra.local)", port, TARGET_PORT))
    for name, seconds in hostile.items():
        print(_verdict(f"PDF: {name}", seconds, TARGET_HOSTILE))
    print(_verdict("PDF: slow file, budget 0.1 s", budget, TARGET_BUDGET))
    worst = max(hostile, key=hostile.__getitem__)
    return {"refusals": f"taken port {port:.2f} s; hostile PDFs up to {hostile[worst]:.2f} s ({worst}); "
                        f"0.1 s budget stops a slow PDF in {budget:.2f} s"}


if __name__ == "__main__":
    report(run())
