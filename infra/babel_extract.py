"""Babel extractor for the domain's Russian texts: every Cyrillic string a person may read, marked or not.

The domain writes its refusals and titles in Russian, as plain literals and f-strings, far from any `_()`. Marking
each one by hand loses some; this extractor takes them all from the syntax tree instead:

- a literal with a Cyrillic letter becomes a msgid as it is;
- an f-string becomes a template msgid, its fields numbered `{0}`, `{1}`, … in order; `i18n.text` matches a
  formatted message against these templates and translates the values it captured, too;
- left out: docstrings, `description=`/`title=`/`examples=` arguments (the OpenAPI document speaks Russian),
  regular expressions, word lists (a collection of more than eight literals: stop words, common passwords,
  suffixes), letters, pairs of letters and alphabets (data, not words), and lines marked `# i18n: data`.

Wired in babel.cfg as `[kabinet: chalicelib/**.py]`; a dev tool, never imported by the app.
"""

from __future__ import annotations

import ast
import re
from collections.abc import Iterator
from typing import Any

CYRILLIC = re.compile("[А-Яа-яЁё]")
REGEX_HINTS = re.compile(r"\\|\[.*\]|\(\?|^\^|\$$")
DOC_ARGUMENTS = {"description", "title", "examples", "summary"}
WORD_LIST = 8
MARK = "# i18n: data"


def template(node: ast.JoinedStr) -> str:
    """`f"Не более {n} ({size} байт)"` → `Не более {0} ({1} байт)`; literal braces stay doubled."""
    parts, index = [], 0
    for value in node.values:
        if isinstance(value, ast.Constant):
            parts.append(str(value.value).replace("{", "{{").replace("}", "}}"))
        else:
            parts.append("{" + str(index) + "}")
            index += 1
    return "".join(parts)


def readable(message: str) -> bool:
    if not CYRILLIC.search(message) or REGEX_HINTS.search(message.replace("{{", "").replace("}}", "")):
        return False
    words = message.strip()
    return " " in words or words[:1].isupper() or "{" in words or 3 <= len(words) <= 20


def skipped(tree: ast.AST) -> set[int]:
    """Nodes no person reads as a sentence: docstrings, OpenAPI prose and word lists."""
    out: set[int] = set()
    for node in ast.walk(tree):
        body = getattr(node, "body", None)
        if isinstance(node, ast.Module | ast.ClassDef | ast.FunctionDef | ast.AsyncFunctionDef) and body:
            first = body[0]
            if isinstance(first, ast.Expr) and isinstance(first.value, ast.Constant):
                out.add(id(first.value))
        if isinstance(node, ast.keyword) and node.arg in DOC_ARGUMENTS:
            out.update(id(n) for n in ast.walk(node.value))
        if isinstance(node, ast.List | ast.Tuple | ast.Set):
            literals = [e for e in node.elts if isinstance(e, ast.Constant) and isinstance(e.value, str)]
            if len(literals) > WORD_LIST:
                out.update(id(e) for e in literals)
        if isinstance(node, ast.JoinedStr):
            out.update(id(v) for v in node.values)
    return out


def messages(source: str) -> Iterator[tuple[int, str]]:
    tree = ast.parse(source)
    lines = source.splitlines()
    skip = skipped(tree)
    for node in ast.walk(tree):
        if not hasattr(node, "lineno") or id(node) in skip or MARK in lines[node.lineno - 1]:
            continue
        if isinstance(node, ast.Constant) and isinstance(node.value, str):
            message = node.value
        elif isinstance(node, ast.JoinedStr):
            message = template(node)
        else:
            continue
        if readable(message):
            yield node.lineno, message


def extract(fileobj: Any, keywords: Any, comment_tags: Any, options: Any) -> Iterator[tuple[int, str, str, list]]:
    """Babel's extractor interface: (line, function name, message, translator comments)."""
    for lineno, message in messages(fileobj.read().decode("utf-8")):
        yield lineno, "", message, []
