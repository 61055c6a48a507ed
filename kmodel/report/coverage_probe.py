"""Which rules of each actor a run exercised: line and branch coverage of the actor
modules (kmodel/controllers/*, the scheduler, the kubelet), measured with coverage.py
while the exploration runs.

Each module's summary names the actors it implements, its line and branch coverage, the
first lines never run, and every rule (function or method) with the statements and
branch exits it ran — so a report can say which rules and branches of each controller a
run exercised. Raw per-file data can also be collected (`collect_raw`) and summarised
together (`summarise_raw`), which is how several runs' coverage is combined.
"""

from __future__ import annotations

import ast
import contextlib
import functools
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

import kmodel

_ROOT = Path(kmodel.__file__).parent
ACTOR_MODULES = ["scheduler.py", "kubelet.py", "controllers/*.py"]

# relative module path -> (executed lines, executed arcs) of one measurement
RawCoverage = dict[str, tuple[list[int], list[tuple[int, int]]]]

_raw_sinks: list[list[RawCoverage]] = []


@contextlib.contextmanager
def collect_raw() -> Iterator[list[RawCoverage]]:
    """While the block runs, every `measure` also appends its raw data to the yielded list."""
    sink: list[RawCoverage] = []
    _raw_sinks.append(sink)
    try:
        yield sink
    finally:
        _raw_sinks.remove(sink)


def _new_coverage() -> Any:
    import coverage

    return coverage.Coverage(branch=True, include=[str(_ROOT / p) for p in ACTOR_MODULES], data_file=None)


def _relative(filename: str) -> str:
    return Path(filename).relative_to(_ROOT.parent).as_posix()


@functools.lru_cache(maxsize=1)
def _parser_coverage() -> Any:
    cov = _new_coverage()
    cov.get_data()
    return cov


@functools.cache
def _file_reporter(filename: str) -> Any:
    """A file reporter per module, kept: it parses its source once, however many analyses use it."""
    return _parser_coverage()._get_file_reporter(filename)  # noqa: SLF001


def warm() -> None:
    """Parse every actor module now, so that later analyses (and forked processes) reuse it."""
    for pattern in ACTOR_MODULES:
        for path in sorted(_ROOT.glob(pattern)):
            if path.name != "__init__.py":
                _parser_coverage()._analyze(str(path), file_reporter=_file_reporter(str(path)))  # noqa: SLF001
                _rules(str(path))
    module_actors()


def _summaries(cov: Any, filenames: Sequence[str]) -> dict[str, dict[str, Any]]:
    results: dict[str, dict[str, Any]] = {}
    for filename in sorted(filenames, key=_relative):
        rel = _relative(filename)
        if rel.endswith("__init__.py"):
            continue
        try:
            analysis = cov._analyze(filename, file_reporter=_file_reporter(filename))  # noqa: SLF001 - public numbers, private accessor
        except Exception:  # noqa: BLE001 - a file coverage cannot analyse is skipped
            continue
        results[rel] = summarise(filename, analysis)
    return results


@contextlib.contextmanager
def measure(enabled: bool = True) -> Iterator[dict[str, dict[str, Any]]]:
    """Measure coverage of the actor modules inside the `with` block; the yielded dict is
    filled with per-module results when the block ends."""
    results: dict[str, dict[str, Any]] = {}
    if not enabled:
        yield results
        return
    cov = _new_coverage()
    cov.start()
    try:
        yield results
    finally:
        cov.stop()
        data = cov.get_data()
        files = list(data.measured_files())
        results.update(_summaries(cov, files))
        if _raw_sinks:
            raw: RawCoverage = {_relative(f): (sorted(data.lines(f) or ()), sorted(data.arcs(f) or ())) for f in files if not f.endswith("__init__.py")}
            for sink in _raw_sinks:
                sink.append(raw)


def summarise_raw(raws: Sequence[RawCoverage]) -> dict[str, dict[str, Any]]:
    """Per-module summaries of the union of several measurements."""
    if not raws:
        return {}
    cov = _new_coverage()
    data = cov.get_data()
    arcs: dict[str, set[tuple[int, int]]] = {}
    for raw in raws:
        for rel, (_, file_arcs) in raw.items():
            arcs.setdefault(str(_ROOT.parent / rel), set()).update(tuple(a) for a in file_arcs)  # type: ignore[misc]
    data.add_arcs({f: sorted(a) for f, a in arcs.items()})
    return _summaries(cov, list(arcs))


def function_body_lines(filename: str) -> set[int]:
    """Lines inside function bodies: the rules; module and class level runs at import."""
    return set().union(*_rules(filename).values()) if _rules(filename) else set()


@functools.lru_cache(maxsize=64)
def _rules(filename: str) -> dict[str, frozenset[int]]:
    """The body lines of every function and method of a module, by qualified name; a nested
    function's lines belong to it, not to the function around it."""
    tree = ast.parse(Path(filename).read_text(encoding="utf-8"))
    rules: dict[str, set[int]] = {}

    def visit(node: ast.AST, prefix: str, owner: str | None) -> None:
        for child in ast.iter_child_nodes(node):
            if isinstance(child, ast.ClassDef):
                visit(child, f"{prefix}{child.name}.", owner)
            elif isinstance(child, (ast.FunctionDef, ast.AsyncFunctionDef)) and child.body:
                name = f"{prefix}{child.name}"
                first = child.body[0]
                if isinstance(first, ast.Expr) and isinstance(getattr(first, "value", None), ast.Constant) and len(child.body) > 1:
                    first = child.body[1]  # skip the docstring
                lines = set(range(first.lineno, (child.end_lineno or first.lineno) + 1))
                if owner is not None:
                    rules[owner] -= lines
                rules[name] = lines
                visit(child, f"{name}.", name)
            else:
                visit(child, prefix, owner)

    visit(tree, "", None)
    return {k: frozenset(v) for k, v in rules.items()}


@functools.lru_cache(maxsize=1)
def module_actors() -> dict[str, tuple[str, ...]]:
    """The actors each actor module implements (relative path -> actor names)."""
    from kmodel.model import default_actors

    out: dict[str, list[str]] = {}
    for actor in default_actors():
        module = __import__(type(actor).__module__, fromlist=["_"])
        path = getattr(module, "__file__", None)
        if path is None:
            continue
        try:
            out.setdefault(_relative(path), []).append(actor.name)
        except ValueError:  # an actor from outside the package (a plugin)
            continue
    return {k: tuple(v) for k, v in out.items()}


def _pct(done: int, total: int) -> str:
    return f"{100 * done / total if total else 100:.0f}%"


def summarise(filename: str, analysis: Any) -> dict[str, Any]:
    """Line and branch coverage of the function bodies of one module, and of each rule."""
    rules = _rules(filename)
    body = set().union(*rules.values()) if rules else set()
    statements = set(analysis.statements) & body
    missing = set(analysis.missing) & body
    branch_stats = analysis.branch_stats()
    branches = {line: v for line, v in branch_stats.items() if line in body}
    total_b = sum(t for t, _ in branches.values())
    taken_b = sum(k for _, k in branches.values())
    executed = len(statements) - len(missing)
    per_rule: dict[str, dict[str, Any]] = {}
    for name, lines in sorted(rules.items(), key=lambda kv: min(kv[1], default=0)):
        stmts = statements & lines
        if not stmts:
            continue
        ran = len(stmts - missing)
        rb = [branches[line] for line in lines if line in branches]
        per_rule[name] = {
            "lines": f"{ran}/{len(stmts)}",
            "branches": f"{sum(k for _, k in rb)}/{sum(t for t, _ in rb)}",
        }
    return {
        "actors": list(module_actors().get(_relative(filename), ())),
        "lines": _pct(executed, len(statements)),
        "branches": _pct(taken_b, total_b),
        "rules run": f"{sum(1 for r in per_rule.values() if not r['lines'].startswith('0/'))}/{len(per_rule)}",
        "missing_lines": sorted(missing)[:40],
        "rules": per_rule,
    }
