"""`make package STAGE=…`: the deployable template and code package, with no AWS account and no credentials.

    python -m infra.package prod [--out build/prod] [--region eu-central-1]

1. The merge template: the stateful resources (infra/resources.py) with the functions' wiring
   (infra/functions.py, infra/roles.py) and the alarms (infra/monitoring.py) → build/<stage>/merge.json.
2. `chalice package --merge-template` → build/<stage>/sam.json and deployment.zip.
3. infra/wiring.py checks that every event source of the app is wired in the result; a gap fails the build.
4. Bytecode goes into deployment.zip: Lambda's code directory is read-only, so without it every cold start
   compiles every module it imports (~1 s more for `import app` on this machine: 1.5 s against 0.47 s).
"""

from __future__ import annotations

import argparse
import compileall
import json
import os
import py_compile
import shutil
import subprocess
import sys
import tempfile
import zipfile
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_REGION = "eu-central-1"


def deep_merge(over: dict[str, Any], under: dict[str, Any]) -> dict[str, Any]:
    """Chalice's merge rule (dicts merge key by key, anything else is replaced), for our own parts."""
    merged = dict(under)
    for key, value in over.items():
        merged[key] = deep_merge(value, under[key]) if isinstance(value, dict) and isinstance(
            under.get(key), dict) else value
    return merged


def merge_template(stage: str, app: Any) -> dict[str, Any]:
    from infra import functions, monitoring, resources

    tpl = resources.template(stage)
    tpl["Resources"] = deep_merge(functions.merge(stage, app), tpl["Resources"])
    tpl["Resources"].update(monitoring.alarms(stage, app))
    tpl["Outputs"]["AlarmTopicArn"] = {"Value": {"Ref": "AlarmTopic"}}
    tpl["Outputs"]["ApiAlias"] = {"Value": {"Ref": "APIHandler.Alias"}}
    return tpl


def _environment(stage: str, region: str) -> dict[str, str]:
    """What packaging sees: the stage (app.py registers local-only routes by it), a region, no credentials."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AWS_", "KABINET_"))}
    env.update(KABINET_STAGE=stage, AWS_DEFAULT_REGION=region, AWS_CONFIG_FILE=os.devnull,
               AWS_SHARED_CREDENTIALS_FILE=os.devnull)
    return env


def add_bytecode(package: Path, runtime: str) -> bool:
    """Compile every module in the zip (unchecked-hash .pyc: valid whatever the file times). Only when this
    Python is the runtime's version: another version's bytecode would be ignored, so none is added."""
    if runtime != f"python{sys.version_info.major}.{sys.version_info.minor}":
        print(f"no bytecode added: this is Python {sys.version_info.major}.{sys.version_info.minor}, "
              f"the functions run {runtime}", file=sys.stderr)
        return False
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp) / "package"
        with zipfile.ZipFile(package) as z:
            z.extractall(root)
        compileall.compile_dir(root, quiet=2, workers=os.cpu_count() or 1,
                               invalidation_mode=py_compile.PycInvalidationMode.UNCHECKED_HASH)
        rebuilt = Path(tmp) / "deployment.zip"
        with zipfile.ZipFile(rebuilt, "w", zipfile.ZIP_DEFLATED) as z:
            for path in sorted(root.rglob("*")):
                if path.is_file():
                    z.write(path, path.relative_to(root))
        shutil.move(rebuilt, package)
    return True


def build(stage: str, out: Path, region: str = DEFAULT_REGION) -> Path:
    """Package `stage` into `out`; returns the path of the packaged template (sam.json)."""
    if stage == "local":
        raise SystemExit("the local stage is not deployed: `make run` serves it")
    out.mkdir(parents=True, exist_ok=True)
    merge = out / "merge.json"
    subprocess.run([sys.executable, "-m", "infra.package", stage, "--merge-only", str(merge)], cwd=ROOT,
                   env=_environment(stage, region), check=True)
    chalice = Path(sys.executable).with_name("chalice")
    subprocess.run([str(chalice), "package", "--stage", stage, "--merge-template", str(merge), str(out)],
                   cwd=ROOT, env=_environment(stage, region), check=True, stdout=subprocess.DEVNULL)
    subprocess.run([sys.executable, "-m", "infra.wiring", stage, str(out / "sam.json")], cwd=ROOT,
                   env=_environment(stage, region), check=True)
    runtimes = {r["Properties"]["Runtime"] for r in json.loads((out / "sam.json").read_text(encoding="utf-8"))[
        "Resources"].values() if r["Type"] == "AWS::Serverless::Function"}
    add_bytecode(out / "deployment.zip", runtimes.pop() if len(runtimes) == 1 else "mixed")
    return out / "sam.json"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("stage")
    parser.add_argument("--out", type=Path)
    parser.add_argument("--region", default=os.environ.get("AWS_REGION", DEFAULT_REGION))
    parser.add_argument("--merge-only", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.merge_only:  # run with KABINET_STAGE set, so that `import app` sees the stage's app
        import app

        args.merge_only.write_text(json.dumps(merge_template(args.stage, app.app), indent=1), encoding="utf-8")
        return
    sam = build(args.stage, args.out or ROOT / "build" / args.stage, args.region)
    print(f"packaged {args.stage}: {sam.relative_to(ROOT) if sam.is_relative_to(ROOT) else sam} "
          f"and {sam.with_name('deployment.zip').name}")


if __name__ == "__main__":
    main()
