"""Mutation testing of the security and money core (issue 16, docs/mutation.md): a report, not a CI gate.

`python -m infra.mutation [group ...]` runs mutmut 3 for each group in its own directory under build/mutation/,
so groups do not share mutmut's state and can be rerun one at a time. A group is the modules where a silent
change costs most and the tests that guard them; mutmut runs, for every mutant, only the tests that reach the
mutated function.

Options: `--report` prints the scores of what already ran; `--survivors` also writes each group's surviving
mutants as a diff (survivors.diff) to read and kill; `--again` reruns only the survivors (after new tests);
`--fresh` forgets a group's earlier results; `--children N` sets mutmut's parallelism (default: the cores).
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BUILD = ROOT / "build" / "mutation"
# What the tests import or read beside chalicelib (mutmut copies the source paths and these into mutants/).
ALSO_COPY = ("app.py", ".chalice", "infra", "tests", "bench")
# Tests that read the source of a mutated module (the purpose-coverage test parses core/codes' callers with ast):
# a mutant's changed text, not its behaviour, would kill them.
READS_SOURCE = ("tests/test_code_purposes.py::test_every_code_purpose_in_the_source_is_covered_here",)


@dataclass(frozen=True)
class Group:
    modules: tuple[str, ...]
    tests: tuple[str, ...]


GROUPS: dict[str, Group] = {
    "codes": Group(("core/codes.py", "identity/otp.py"),
                   ("code_limits", "code_purposes", "contacts", "recovery", "registration")),
    "sessions": Group(("identity/sessions.py", "core/tokens.py"), ("sessions_security", "tokens", "key_rotation")),
    "signin": Group(("identity/auth.py", "identity/mfa.py"), ("login", "mfa")),
    "password_policy": Group(("identity/password_policy.py", "core/passwords.py"), ("password_common", "formats")),
    "password_lifecycle": Group(("identity/passwords.py",), ("password_lifecycle",)),
    "statuses": Group(("applications/statuses.py", "applications/transitions.py"), ("applications",)),
    "store": Group(("store/table.py",), ("race_leftovers", "code_limits", "events")),
    "payments": Group(("payments/payments.py", "payments/outcomes.py"), ("payments", "acquirer")),
    "oidc": Group(("sso/codes.py", "sso/grants.py"), ("sso",)),
    "webauthn": Group(("identity/passkeys.py",), ("passkeys",)),
}


def _pyproject(group: Group) -> str:
    tests = [f"tests/test_{t}.py" for t in group.tests]
    deselect = [arg for test in READS_SOURCE for arg in ("--deselect", test)]
    config = {
        "source_paths": ["chalicelib"],
        "only_mutate": [f"chalicelib/{m}" for m in group.modules],
        "also_copy": list(ALSO_COPY),
        "pytest_add_cli_args": ["-p", "no:cacheprovider", "-p", "no:xdist", "-q", *deselect],
        "pytest_add_cli_args_test_selection": tests,
        "use_git_change_detection": False,
        "timeout_multiplier": 5.0,
        "timeout_constant": 30.0,
    }
    lines = ["[tool.pytest.ini_options]", 'testpaths = ["tests"]', 'log_level = "WARNING"',
             'filterwarnings = ["ignore::DeprecationWarning"]', "", "[tool.mutmut]"]
    lines += [f"{key} = {json.dumps(value)}" for key, value in config.items()]
    return "\n".join(lines) + "\n"


def prepare(name: str, fresh: bool) -> Path:
    """build/mutation/<name>: links to the project and a pyproject of the group's own."""
    where = BUILD / name
    if fresh and where.exists():
        shutil.rmtree(where)
    where.mkdir(parents=True, exist_ok=True)
    for entry in ("chalicelib", *ALSO_COPY):
        link = where / entry
        if not link.exists():
            link.symlink_to(ROOT / entry)
    (where / "pyproject.toml").write_text(_pyproject(GROUPS[name]))
    return where


def _mutmut(where: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONDONTWRITEBYTECODE": "1"}
    return subprocess.run([str(Path(sys.executable).parent / "mutmut"), *args], cwd=where, env=env, text=True,
                          capture_output=True, check=False)


def results(where: Path) -> dict[str, dict[str, int | None]]:
    """Exit code per mutant, per module, from mutmut's meta files (0 survived, None not yet checked)."""
    out: dict[str, dict[str, int | None]] = {}
    for meta in sorted((where / "mutants").rglob("*.py.meta")):
        module = str(meta.relative_to(where / "mutants")).removesuffix(".meta")
        out[module] = json.loads(meta.read_text())["exit_code_by_key"]
    return out


def report(name: str) -> list[str]:
    """Killed counts a failing test, pytest's own error and a timeout (a mutant that loops), as mutmut does."""
    from mutmut.stats import status_by_exit_code  # mutmut's own reading of its exit codes; installed by the target

    lines = []
    for module, codes in results(BUILD / name).items():
        seen = [status_by_exit_code[c] for c in codes.values()]
        killed = sum(s in ("killed", "timeout") for s in seen)
        checked = len(seen) - seen.count("not checked")
        score = f"{100 * killed / checked:.1f}%" if checked else "-"
        lines.append(f"{name:18} {module:42} {killed:4} killed {seen.count('survived'):4} survived "
                     f"{seen.count('no tests'):3} no tests {len(seen) - checked:4} unchecked  {score}")
    return lines


def survivors(name: str) -> list[str]:
    return sorted(k for codes in results(BUILD / name).values() for k, c in codes.items() if c == 0)


def write_survivors(name: str) -> Path:
    where = BUILD / name
    diff = where / "survivors.diff"
    diff.write_text("".join(_mutmut(where, "show", mutant).stdout + "\n" for mutant in survivors(name)))
    return diff


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("groups", nargs="*", metavar="group", help=f"any of {', '.join(GROUPS)} (default: all)")
    parser.add_argument("--report", action="store_true", help="only print the scores of earlier runs")
    parser.add_argument("--survivors", action="store_true", help="write build/mutation/<group>/survivors.diff")
    parser.add_argument("--again", action="store_true", help="rerun only the surviving mutants")
    parser.add_argument("--fresh", action="store_true", help="forget earlier results")
    parser.add_argument("--children", type=int, default=os.cpu_count() or 2)
    args = parser.parse_args(argv)
    names = args.groups or list(GROUPS)
    if unknown := set(names) - set(GROUPS):
        parser.error(f"no such group: {', '.join(sorted(unknown))}")
    for name in names:
        if args.report:
            continue
        where = prepare(name, args.fresh)
        again = survivors(name) if args.again else []
        if args.again and not again:
            continue
        print(f"mutation: {name} ({', '.join(GROUPS[name].modules)}) in {where}", flush=True)
        run = _mutmut(where, "run", "--max-children", str(args.children), *again)
        (where / "run.log").write_text(run.stdout + run.stderr)
        if run.returncode:
            print(f"mutmut failed in {name}: see {where / 'run.log'}", file=sys.stderr)
            return run.returncode
    for name in names:
        print("\n".join(report(name)))
        if args.survivors:
            print(f"  survivors: {write_survivors(name)}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
