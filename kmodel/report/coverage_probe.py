"""Which rules of each actor a run exercised: line and branch coverage of the actor
modules (kmodel/controllers/*, the scheduler, the kubelet), measured with coverage.py
while the exploration runs."""

from __future__ import annotations

import ast
import contextlib
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import kmodel

_ROOT = Path(kmodel.__file__).parent
ACTOR_MODULES = ["scheduler.py", "kubelet.py", "controllers/*.py"]


@contextlib.contextmanager
def measure(enabled: bool = True) -> Iterator[dict[str, dict[str, Any]]]:
    """Measure coverage of the actor modules inside the `with` block; the yielded dict is
    filled with per-module results when the block ends."""
    results: dict[str, dict[str, Any]] = {}
    if not enabled:
        yield results
        return
    import coverage

    include = [str(_ROOT / p) for p in ACTOR_MODULES]
    cov = coverage.Coverage(branch=True, include=include, data_file=None)
    cov.start()
    try:
        yield results
    finally:
        cov.stop()
        data = cov.get_data()
        for filename in sorted(data.measured_files()):
            rel = str(Path(filename).relative_to(_ROOT.parent))
            if rel.endswith("__init__.py"):
                continue
            try:
                analysis = cov._analyze(filename)  # noqa: SLF001 - public numbers, private accessor
            except Exception:  # noqa: BLE001 - a file coverage cannot analyse is skipped
                continue
            results[rel] = summarise(filename, analysis)


def function_body_lines(filename: str) -> set[int]:
    """Lines inside function bodies: the rules; module and class level runs at import."""
    tree = ast.parse(Path(filename).read_text(encoding="utf-8"))
    lines: set[int] = set()
    for node in ast.walk(tree):
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)) and node.body:
            first = node.body[0]
            if isinstance(first, ast.Expr) and isinstance(getattr(first, "value", None), ast.Constant) and len(node.body) > 1:
                first = node.body[1]  # skip the docstring
            lines.update(range(first.lineno, (node.end_lineno or first.lineno) + 1))
    return lines


def summarise(filename: str, analysis: Any) -> dict[str, Any]:
    """Line and branch coverage of the function bodies of one module."""
    body = function_body_lines(filename)
    statements = set(analysis.statements) & body
    missing = set(analysis.missing) & body
    branches = {line: v for line, v in analysis.branch_stats().items() if line in body}
    total_b = sum(t for t, _ in branches.values())
    taken_b = sum(k for _, k in branches.values())
    executed = len(statements) - len(missing)
    return {
        "lines": f"{100 * executed / len(statements) if statements else 100:.0f}%",
        "branches": f"{100 * taken_b / total_b if total_b else 100:.0f}%",
        "missing_lines": sorted(missing)[:40],
    }
