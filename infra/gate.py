"""The deployment gate: package a stage, then lint, translate and scan what would be deployed.

    python -m infra.gate prod      (make gate STAGE=prod; tests/test_deploy.py runs the same in make test)

- `make package` (infra/package.py, which also runs the wiring check);
- cfn-lint on the packaged SAM template: no errors and no warnings;
- the SAM transform (infra/translate.py) to the CloudFormation that CloudFormation itself would create;
- checkov on that: every failed check must be accepted in infra/checkov-baseline.json, with its reason,
  and every accepted one must still occur (a fixed finding leaves the baseline).
The tools run from .venv-gate (requirements-gate.txt); nothing here needs AWS credentials.
"""

from __future__ import annotations

import json
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path

from infra.package import DEFAULT_REGION, ROOT, build

GATE_BIN = ROOT / ".venv-gate" / "bin"
BASELINE = ROOT / "infra" / "checkov-baseline.json"


@dataclass
class Report:
    sam: Path
    cloudformation: Path
    lint: list[str] = field(default_factory=list)
    passed: int = 0
    failed: list[tuple[str, str]] = field(default_factory=list)  # (check id, logical id)
    new: list[str] = field(default_factory=list)
    stale: list[str] = field(default_factory=list)

    @property
    def problems(self) -> list[str]:
        return [*(f"cfn-lint: {line}" for line in self.lint), *(f"checkov: {n}" for n in self.new),
                *(f"baseline: {s}" for s in self.stale)]


def _tool(name: str) -> str:
    path = GATE_BIN / name
    if not path.exists():
        raise SystemExit(f"{path} is missing: `make gate` installs the gate's tools (requirements-gate.txt)")
    return str(path)


def _start_lint(sam: Path, region: str) -> subprocess.Popen[str]:
    return subprocess.Popen([_tool("cfn-lint"), "--regions", region, "--format", "parseable", "--", str(sam)],
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, cwd=ROOT)


def _findings(proc: subprocess.Popen[str]) -> list[str]:
    out, _ = proc.communicate()
    return [line for line in out.splitlines() if line.strip()]


def lint(sam: Path, region: str) -> list[str]:
    return _findings(_start_lint(sam, region))


def translate(sam: Path, region: str) -> Path:
    target = sam.with_name("cloudformation.json")
    subprocess.run([_tool("python"), str(ROOT / "infra" / "translate.py"), str(sam), str(target), region],
                   check=True, cwd=ROOT, capture_output=True, text=True)
    return target


def checkov(template: Path) -> tuple[int, list[tuple[str, str]]]:
    done = subprocess.run([_tool("checkov"), "-f", str(template), "--framework", "cloudformation", "--quiet",
                           "--compact", "-o", "json"], capture_output=True, text=True, cwd=ROOT)
    result = json.loads(done.stdout)
    result = result[0] if isinstance(result, list) else result
    if result.get("summary", {}).get("parsing_errors"):
        raise SystemExit(f"checkov could not parse {template}")
    failed = [(c["check_id"], c["resource"].split(".", 1)[1]) for c in result.get("results", {}).get(
        "failed_checks", [])]
    return result["summary"]["passed"], failed


def compare(failed: list[tuple[str, str]]) -> tuple[list[str], list[str]]:
    accepted = json.loads(BASELINE.read_text(encoding="utf-8"))["accepted"]
    allowed = {(check, logical) for check, entry in accepted.items() for logical in entry["resources"]}
    new = sorted(f"{check} on {logical}" for check, logical in set(failed) - allowed)
    stale = sorted(f"{check} on {logical} no longer fails: take it out of {BASELINE.name}"
                   for check, logical in allowed - set(failed))
    return new, stale


def run(stage: str, out: Path, region: str = DEFAULT_REGION) -> Report:
    sam = build(stage, out, region)
    linting = _start_lint(sam, region)  # cfn-lint reads the SAM template while the transform and checkov run
    report = Report(sam=sam, cloudformation=translate(sam, region))
    report.passed, report.failed = checkov(report.cloudformation)
    report.lint = _findings(linting)
    report.new, report.stale = compare(report.failed)
    return report


def main() -> None:
    stage = sys.argv[1] if len(sys.argv) > 1 else "prod"
    report = run(stage, ROOT / "build" / stage)
    for problem in report.problems:
        print(problem, file=sys.stderr)
    print(f"gate {stage}: cfn-lint {len(report.lint)} findings; checkov {report.passed} passed, "
          f"{len(report.failed)} failed ({len(report.failed) - len(report.new)} accepted in the baseline)")
    if report.problems:
        raise SystemExit(1)


if __name__ == "__main__":
    main()
