"""docs/versions.md stays complete: every release gate in kmodel/ and invariants/ is listed
with its module, and every test or scenario it names exists.

A gate is a release literal passed to `at_least(...)` (also through a local alias such as
`v = config.at_least; v("1.29")`), written as `kubernetes_version="…"` (the catalogue
pins a release that way), or compared with `kubernetes_version`."""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

from kmodel.config import NEWEST_VERSION, SUPPORTED_VERSIONS

ROOT = Path(__file__).resolve().parents[1]
DOC = ROOT / "docs" / "versions.md"
SOURCES = ("kmodel", "invariants")
VERSION = re.compile(r"^\d+\.\d+$")
REFERENCE = re.compile(r"tests/[\w/.-]+?\.(?:py|yaml)(?:::\w+)*")


def _str(node: ast.AST) -> str | None:
    if isinstance(node, ast.Constant) and isinstance(node.value, str) and VERSION.match(node.value):
        return node.value
    return None


def _is_at_least(node: ast.AST) -> bool:
    return isinstance(node, ast.Attribute) and node.attr == "at_least"


def _mentions_version_setting(node: ast.AST) -> bool:
    return (isinstance(node, ast.Attribute) and node.attr == "kubernetes_version") or (isinstance(node, ast.Name) and node.id == "kubernetes_version")


def gates_in(tree: ast.AST) -> set[str]:
    """The release literals gating behaviour in one module."""
    aliases = {t.id for n in ast.walk(tree) if isinstance(n, ast.Assign) and _is_at_least(n.value) for t in n.targets if isinstance(t, ast.Name)}
    found: set[str] = set()
    for n in ast.walk(tree):
        if isinstance(n, ast.Call):
            func = n.func
            if (_is_at_least(func) or (isinstance(func, ast.Name) and func.id in aliases)) and n.args:
                if (v := _str(n.args[0])) is not None:
                    found.add(v)
            for kw in n.keywords:
                if kw.arg == "kubernetes_version" and (v := _str(kw.value)) is not None:
                    found.add(v)
        elif isinstance(n, ast.Compare):
            operands = [n.left, *n.comparators]
            if any(_mentions_version_setting(o) for o in operands):
                found.update(v for o in operands if (v := _str(o)) is not None)
    return found


def source_gates() -> dict[tuple[str, str], None]:
    """(module path, release) for every gate in kmodel/ and invariants/."""
    out: dict[tuple[str, str], None] = {}
    for top in SOURCES:
        for path in sorted((ROOT / top).rglob("*.py")):
            rel = path.relative_to(ROOT).as_posix()
            for v in sorted(gates_in(ast.parse(path.read_text(), rel))):
                out[(rel, v)] = None
    return out


def doc_text() -> str:
    return DOC.read_text()


def _has_version(line: str, version: str) -> bool:
    return re.search(rf"(?<![\d.]){re.escape(version)}(?!\d)", line) is not None


def test_the_gate_scanner_sees_the_known_gates() -> None:
    gates = source_gates()
    for known in [
        ("kmodel/config.py", "1.32"),
        ("kmodel/controllers/job.py", "1.29"),
        ("kmodel/controllers/job.py", "1.34"),
        ("kmodel/controllers/statefulset.py", "1.35"),
        ("kmodel/catalogue/daemonset.py", "1.28"),
    ]:
        assert known in gates
    tree = ast.parse('v = config.at_least\nif v("1.99") and config.kubernetes_version >= "1.98": pass\nreplace(c, kubernetes_version="1.97")')
    assert gates_in(tree) == {"1.97", "1.98", "1.99"}


@pytest.mark.parametrize(("module", "version"), list(source_gates()), ids=lambda x: str(x))
def test_every_gate_is_documented_with_its_module(module: str, version: str) -> None:
    rows = [line for line in doc_text().splitlines() if line.startswith("|") and f"`{module}`" in line]
    assert rows, f"docs/versions.md has no summary row for {module}"
    assert any(_has_version(r, version) for r in rows), f"docs/versions.md: no summary row for {module} mentions release {version}"


def test_every_named_test_and_scenario_exists() -> None:
    refs = sorted(set(REFERENCE.findall(doc_text())))
    assert refs, "docs/versions.md names no tests"
    for ref in refs:
        path, *names = ref.split("::")
        file = ROOT / path
        assert file.is_file(), f"docs/versions.md names {path}, which does not exist"
        text = file.read_text()
        for name in names:
            assert re.search(rf"^\s*(?:def|class) {re.escape(name)}\b", text, re.M), f"docs/versions.md names {ref}: no {name} in {path}"


def test_every_documented_module_exists() -> None:
    for module in set(re.findall(r"`((?:kmodel|invariants)/[\w/]+\.py)`", doc_text())):
        assert (ROOT / module).is_file(), module


def test_supported_releases_and_default_are_stated() -> None:
    text = doc_text()
    assert all(_has_version(text, v) for v in SUPPORTED_VERSIONS)
    assert f"default: the newest, {NEWEST_VERSION}" in text
