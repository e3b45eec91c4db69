"""Helpers shared by the benchmarks: paths, free ports, percentiles, the summary handed to bench.all."""

from __future__ import annotations

import json
import math
import os
import socket
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
REGION = "eu-central-1"
SUMMARY_ENV = "KABINET_BENCH_SUMMARY"
PASSWORD = "Vesna#Dom48!"
UA_DESKTOP = ("Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) "
              "Chrome/120.0.0.0 Safari/537.36")


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def percentile(values: list[float], q: float) -> float:
    """Nearest-rank percentile (q in 0..100)."""
    ordered = sorted(values)
    return ordered[max(0, math.ceil(q / 100 * len(ordered)) - 1)]


def ms(seconds: float) -> str:
    return f"{seconds * 1000:.1f} ms"


def six_digit_code(text: str) -> str | None:
    return next((w for w in text.replace(".", " ").replace(",", " ").split() if w.isdigit() and len(w) == 6), None)


def report(summary: dict[str, str]) -> None:
    """Hand the bench's headline figures to bench.all (which runs each bench in its own process)."""
    path = os.environ.get(SUMMARY_ENV)
    if path:
        Path(path).write_text(json.dumps(summary, ensure_ascii=False), encoding="utf-8")
