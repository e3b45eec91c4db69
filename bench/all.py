"""`make bench`: every benchmark, each in its own process (they set up environments that must not mix),
then a short summary. Figures only: nothing here asserts a timing."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from bench._common import ROOT, SUMMARY_ENV

BENCHES = ("cold_import", "aws_calls", "latency", "pdf", "suggest", "web", "refusals")


def main() -> int:
    summary: dict[str, str] = {}
    failed = 0
    started = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="kabinet-bench-") as tmp:
        for name in BENCHES:
            out = Path(tmp) / f"{name}.json"
            env = {**os.environ, SUMMARY_ENV: str(out)}
            t0 = time.perf_counter()
            code = subprocess.run([sys.executable, "-m", f"bench.{name}"], cwd=ROOT, env=env, check=False).returncode
            print(f"  ({name}: {time.perf_counter() - t0:.1f} s)\n", flush=True)
            if code != 0 or not out.exists():
                failed += 1
                summary[name] = f"FAILED (exit code {code})"
            else:
                summary.update(json.loads(out.read_text(encoding="utf-8")))
    print(f"== Summary ({time.perf_counter() - started:.0f} s) ==")
    for key, line in summary.items():
        print(f"  {key}: {line}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
