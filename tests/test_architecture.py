"""Seams that must stay simple as the code grows (issue 9): HTTP only in chalicelib/api and the web client's
pages (chalicelib/web), every event name in the catalog, every key in store/keys.py. Each check reads the source,
so a shortcut fails here, not in review."""

from __future__ import annotations

import ast
import pathlib
import re

from chalicelib.events import catalog

ROOT = pathlib.Path(__file__).resolve().parent.parent
PRODUCT = [p for p in [*(ROOT / "chalicelib").rglob("*.py"), *(ROOT / "infra").rglob("*.py"), ROOT / "app.py"]]
HTTP_LAYERS = ("chalicelib/api/", "chalicelib/web/")
BELOW_API = [p for p in PRODUCT if not any(layer in p.as_posix() for layer in HTTP_LAYERS)]


def _rel(path: pathlib.Path) -> str:
    return path.relative_to(ROOT).as_posix()


def _strings(path: pathlib.Path) -> list[tuple[int, str]]:
    """String constants and f-string pieces of the code, docstrings left out."""
    tree = ast.parse(path.read_text())
    docs = {id(n.body[0].value) for n in ast.walk(tree)
            if isinstance(n, ast.Module | ast.ClassDef | ast.FunctionDef | ast.AsyncFunctionDef)
            and n.body and isinstance(n.body[0], ast.Expr) and isinstance(n.body[0].value, ast.Constant)}
    return [(n.lineno, n.value) for n in ast.walk(tree)
            if isinstance(n, ast.Constant) and isinstance(n.value, str) and id(n) not in docs]


def test_no_http_below_the_api_layer():
    offenders = []
    for path in BELOW_API:
        tree = ast.parse(path.read_text())
        for node in ast.walk(tree):
            wiring = _rel(path) in ("app.py", "infra/local.py", "infra/pump.py")  # not domain code
            if (isinstance(node, ast.ImportFrom) and node.module and not wiring
                    and (node.module == "chalice" or node.module.startswith(("chalicelib.api", "chalicelib.web")))):
                offenders.append(f"{_rel(path)}:{node.lineno} imports {node.module}")
            if isinstance(node, ast.Name) and node.id == "ApiError":
                offenders.append(f"{_rel(path)}:{node.lineno} ApiError")
            if (isinstance(node, ast.Call) and node.args and isinstance(node.args[0], ast.Constant)
                    and isinstance(node.args[0].value, int) and 400 <= node.args[0].value < 600
                    and isinstance(node.func, ast.Name) and node.func.id[:1].isupper()):
                offenders.append(f"{_rel(path)}:{node.lineno} builds a refusal with status {node.args[0].value}")
    assert offenders == []


def test_event_names_are_written_only_in_the_catalog():
    names = set(catalog.ALL)
    offenders = [f"{_rel(p)}:{line} {value!r}" for p in PRODUCT if p.name != "catalog.py"
                 for line, value in _strings(p) if value in names]
    assert offenders == []


def test_every_event_has_a_payload_model_and_the_queues_subscribe_from_the_catalog():
    from infra.resources import template

    resources = template("test")["Resources"]
    policies = {r["Properties"]["Endpoint"]["Fn::GetAtt"][0]: r["Properties"].get("FilterPolicy")
                for r in resources.values() if r["Type"] == "AWS::SNS::Subscription"}
    # The side facing other systems: agencies, registries, and ГИС ГМП and the acquirer after a payment (PY-4);
    # also a publication's fan-out to its subscribers (NT-4, docs/news.md), and the back-channel logout of the
    # systems an ended session signed into (issue 15, docs/sso.md).
    assert policies["AgencyQueue"] == {"type": ["identity.check_requested", "news.published", "payment.cancelled",
                                                "payment.failed", "payment.refund_due", "payment.succeeded",
                                                "request.submitted", "sessions.ended"]}
    notify = policies["NotifyQueue"]["type"]
    assert "code.requested" in notify and "login.succeeded" not in notify


_KEY_PIECE = re.compile(r"^[A-Z][A-Z_]*#|^[ug]/$")


def test_keys_are_built_only_in_store_keys():
    offenders = []
    for path in PRODUCT:
        if _rel(path) == "chalicelib/store/keys.py":
            continue
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.JoinedStr):
                parts = [v.value for v in node.values if isinstance(v, ast.Constant)]
                if (parts and _KEY_PIECE.match(parts[0])) or any(p.endswith("#") and p[:-1].isupper() for p in parts):
                    offenders.append(f"{_rel(path)}:{node.lineno}")
    assert offenders == []
