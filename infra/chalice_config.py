"""`.chalice/config.json` read the way Chalice reads it: a stage's value wins over the top level, a function's
over the stage's. Ops tune each function there; the template and the local cloud take their figures from it.

Besides Chalice's own keys, a function may carry keys that only the template uses (docs/deploy.md):
`sqs_maximum_concurrency`, `provisioned_concurrency` ({min, max, target}), `deployment_preference`.
"""

from __future__ import annotations

import json
from functools import cache
from pathlib import Path
from typing import Any

CONFIG = Path(__file__).resolve().parent.parent / ".chalice" / "config.json"


@cache
def _raw() -> dict[str, Any]:
    return json.loads(CONFIG.read_text(encoding="utf-8"))


def stage_env(stage: str) -> dict[str, str]:
    raw = _raw()
    return {**raw.get("environment_variables", {}),
            **raw.get("stages", {}).get(stage, {}).get("environment_variables", {})}


def function(stage: str, name: str) -> dict[str, Any]:
    """One function's settings for a stage, environment variables merged along the chain."""
    raw = _raw()
    stage_raw = raw.get("stages", {}).get(stage, {})
    chain = [raw, stage_raw, raw.get("lambda_functions", {}).get(name, {}),
             stage_raw.get("lambda_functions", {}).get(name, {})]
    merged: dict[str, Any] = {}
    env: dict[str, str] = {}
    for level in chain:
        merged.update({k: v for k, v in level.items() if k not in ("stages", "lambda_functions")})
        env.update(level.get("environment_variables", {}))
    merged["environment_variables"] = env
    return merged


def functions() -> list[str]:
    return list(_raw().get("lambda_functions", {}))
