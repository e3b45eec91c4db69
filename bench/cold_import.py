"""Cold init: a whole `python -c "import app"` against importing boto3, chalice and pydantic plus one client.

Runs the two interleaved (A, B, A, B, ...) from the project root with stage `prod`, then shows which of
our modules, and which third-party modules our code pulls in, cost the most (`-X importtime`).
"""

from __future__ import annotations

import os
import statistics
import subprocess
import sys
import time
from dataclasses import dataclass, field

from bench._common import REGION, ROOT, ms, report

APP = "import app"
# What the first request adds on a cold container: boto3 and one client, created lazily by chalicelib.core.aws.
APP_CLIENT = "import app; from chalicelib.core.aws import client; client('dynamodb')"
BASELINE = f"import boto3, chalice, pydantic; boto3.client('dynamodb', region_name='{REGION}')"
PAIRS = 15
CLIENT_RUNS = 7
IMPORTTIME_RUNS = 3
TOP = 10
TARGET_RATIO = 1.10
OURS = ("app", "chalicelib")
IN_BASELINE = {"boto3", "botocore", "chalice", "pydantic", "pydantic_core"}


def _env() -> dict[str, str]:
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(("AWS_", "KABINET_"))
           and k not in ("PYTHONPROFILEIMPORTTIME", "PYTHONPATH", "PYTHONDONTWRITEBYTECODE")}
    env.update(AWS_ACCESS_KEY_ID="bench", AWS_SECRET_ACCESS_KEY="bench", AWS_DEFAULT_REGION=REGION,
               KABINET_STAGE="prod")
    return env


def _run(code: str, env: dict[str, str], *flags: str) -> tuple[float, str]:
    start = time.perf_counter()
    done = subprocess.run([sys.executable, *flags, "-c", code], cwd=ROOT, env=env, capture_output=True,
                          text=True, check=True)
    return time.perf_counter() - start, done.stderr


@dataclass
class _Node:
    name: str
    self_us: int
    cum_us: int
    children: list[_Node] = field(default_factory=list)


def _parse_importtime(stderr: str) -> list[_Node]:
    """Every node of the import tree; -X importtime prints children before their parent."""
    nodes: list[_Node] = []
    pending: dict[int, list[_Node]] = {}
    for line in stderr.splitlines():
        if not line.startswith("import time:") or "self [us]" in line:
            continue
        self_us, cum_us, raw = line[len("import time:"):].split("|", 2)
        level = (len(raw) - len(raw.lstrip(" ")) - 1) // 2  # one space after the bar, then two per level
        node = _Node(raw.strip(), int(self_us), int(cum_us), pending.pop(level + 1, []))
        pending.setdefault(level, []).append(node)
        nodes.append(node)
    return nodes


def _ours(name: str) -> bool:
    return name.split(".")[0] in OURS


def _costly(nodes: list[_Node]) -> dict[str, tuple[int, int, str]]:
    """Our modules and the non-stdlib modules they import directly: name -> (cum us, self us, via)."""
    out: dict[str, tuple[int, int, str]] = {}
    for node in nodes:
        if not _ours(node.name):
            continue
        out[node.name] = (node.cum_us, node.self_us, "")
        for child in node.children:
            top = child.name.split(".")[0]
            if not _ours(child.name) and top not in sys.stdlib_module_names:
                out[child.name] = (child.cum_us, child.self_us, f"via {node.name}")
    return out


def run() -> dict[str, str]:
    env = _env()
    _run(APP, env)  # compile .pyc files once so neither side pays for it
    _run(BASELINE, env)
    app_times: list[float] = []
    base_times: list[float] = []
    for _ in range(PAIRS):
        app_times.append(_run(APP, env)[0])
        base_times.append(_run(BASELINE, env)[0])
    app_med, base_med = statistics.median(app_times), statistics.median(base_times)
    client_med = statistics.median(_run(APP_CLIENT, env)[0] for _ in range(CLIENT_RUNS))
    ratio = app_med / base_med
    print(f"== Cold init ({PAIRS} interleaved pairs, KABINET_STAGE=prod) ==")
    for label, times in (("A  import app", app_times), ("B  import boto3, chalice, pydantic + dynamodb client",
                                                            base_times)):
        print(f"  {label:<54} median {ms(statistics.median(times))}  (min {ms(min(times))}, max {ms(max(times))})")
    print(f"  ratio app/baseline: {ratio:.2f}  (target <= {TARGET_RATIO:.2f})")
    print(f"  for reference, import app + first dynamodb client via chalicelib.core.aws: median {ms(client_med)} "
          f"({client_med / base_med:.2f} x baseline; {CLIENT_RUNS} runs, after the pairs)")

    runs = [_costly(_parse_importtime(_run(APP, env, "-X", "importtime")[1])) for _ in range(IMPORTTIME_RUNS)]
    names = set().union(*runs)
    rows = []
    for name in names:
        seen = [r[name] for r in runs if name in r]
        via = seen[0][2]
        tag = " (baseline imports it too)" if name.split(".")[0] in IN_BASELINE else ""
        rows.append((statistics.median(s[0] for s in seen), statistics.median(s[1] for s in seen), name, via + tag))
    rows.sort(reverse=True)
    print(f"  top {TOP} by cumulative import time (median of {IMPORTTIME_RUNS} `-X importtime` runs):")
    print(f"    {'cumulative':>10}  {'self':>8}  module")
    for cum, self_us, name, note in rows[:TOP]:
        print(f"    {cum / 1000:>7.1f} ms  {self_us / 1000:>5.1f} ms  {name}  {note}".rstrip())
    return {"cold init": f"import app {ms(app_med)} vs baseline {ms(base_med)}: ratio {ratio:.2f} "
                         f"(target <= {TARGET_RATIO:.2f})"}


if __name__ == "__main__":
    report(run())
