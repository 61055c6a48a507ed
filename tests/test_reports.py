"""Reports: one result structure, several renderers; HTML is self-contained; coverage
and progress sections are filled; output is deterministic for a seed."""

from __future__ import annotations

import json
import re
from pathlib import Path

from kmodel.explore import ExploreOptions, explore
from kmodel.report.coverage_probe import function_body_lines, measure
from kmodel.scenario import parse_scenario
from tests.test_explore import SMALL, EagerTaintEviction


def test_html_report_is_self_contained_and_complete(tmp_path: Path) -> None:
    out = explore(
        ExploreOptions(
            scenario=parse_scenario(SMALL, "small.yaml"), out_dir=tmp_path, examples=60, steps=25, seed=3, actor_overrides=[EagerTaintEviction()], coverage=True
        )
    )
    html = (out.directory / "report.html").read_text()
    assert html.startswith("<!DOCTYPE html>")
    assert not re.search(r"""(src|href)\s*=\s*['"]?(https?:)?//""", html), "no external assets"
    assert "<svg" in html and "Counterexample" in html and "taint-eviction-timing" in html
    assert "Controller coverage" in html and "kmodel/controllers/replicaset.py" in html
    data = json.loads((out.directory / "report.json").read_text())
    assert data["status"] == "violated"
    assert data["progress"] and data["progress"][-1][0] == data["stats"]["transitions"]
    statuses = {i["name"]: i["status"] for i in data["invariants"]}
    assert statuses["taint-eviction-timing"] == "violated"
    assert "not exercised" in statuses.values(), "invariants about absent objects are reported as not exercised"


def test_coverage_counts_function_bodies_only(tmp_path: Path) -> None:
    src = tmp_path / "mod.py"
    src.write_text('"""doc"""\nimport os\n\n\ndef f(x):\n    """doc"""\n    if x:\n        return 1\n    return 2\n')
    assert function_body_lines(str(src)) == {7, 8, 9}
    with measure(True) as results:
        from kmodel.controllers.replicaset import calculate_status  # noqa: F401 - import only
    assert all(r["lines"].endswith("%") for r in results.values())
