"""`kmodel reference`: every reference run in quick mode, the four renderers, every
registered invariant with a status, byte-identical reports from two invocations; the
combined report merges the runs' invariants and coverage."""

from __future__ import annotations

import json
import re
import subprocess
import sys
import xml.etree.ElementTree as ET
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from invariants.registry import load_all
from kmodel.reference import RUNS, RunResult, RunSpec, combine
from kmodel.report import InvariantResult, RunReport
from kmodel.report.coverage_probe import _rules, summarise_raw
from kmodel.report.html import render_html
from kmodel.report.write import render_markdown

ROOT = Path(__file__).resolve().parent.parent
RENDERERS = ("index.html", "report.md", "report.json", "junit.xml")
STATUSES = {"held", "violated", "not exercised"}


def _reference(out: Path) -> subprocess.CompletedProcess[str]:
    cmd = [sys.executable, "-m", "kmodel.cli", "reference", "--quick", "--jobs", "1", "--out", str(out)]
    return subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True, timeout=300)


def _files(directory: Path) -> dict[str, bytes]:
    return {p.relative_to(directory).as_posix(): p.read_bytes() for p in sorted(directory.rglob("*")) if p.is_file() and p.name != "timing.json"}


def test_quick_reference_reports_every_invariant_and_is_deterministic(tmp_path: Path) -> None:
    outs = [tmp_path / "first", tmp_path / "second"]
    with ThreadPoolExecutor(2) as pool:
        done = list(pool.map(_reference, outs))
    for proc in done:
        assert proc.returncode == 0, proc.stderr
    out = outs[0]
    for name in (*RENDERERS, "timing.json"):
        assert (out / name).is_file(), name

    data = json.loads((out / "report.json").read_text())
    registered = {n for n, inv in load_all().items() if inv.check.__module__.startswith("invariants.")}
    statuses = {i["name"]: i["status"] for i in data["invariants"]}
    assert registered <= set(statuses)
    assert set(statuses.values()) <= STATUSES
    assert "timing" not in data and data["budget"]["mode"] == "quick"
    assert [r["name"] for r in data["runs"]] == [spec.name for spec in RUNS]
    for run in data["runs"]:
        for name in ("report.html", "report.md", "report.json", "junit.xml"):
            assert (out / "runs" / run["name"] / name).is_file()
        assert not (out / "runs" / run["name"] / "timing.json").exists(), "wall-clock figures stay in the top timing.json"
    assert set(json.loads((out / "timing.json").read_text())["runs"]) == {spec.name for spec in RUNS}

    suite = ET.parse(out / "junit.xml").getroot()
    assert {c.get("name") for c in suite.iter("testcase")} == set(statuses)

    html = (out / "index.html").read_text()
    assert html.startswith("<!DOCTYPE html>")
    assert not re.search(r"""(src|href)\s*=\s*['"]?(https?:)?//""", html), "no external assets"
    assert html.count("<svg") >= 3, "coverage, progress and action-mix charts inline"
    assert "Controller coverage" in html and "kmodel/controllers/statefulset.py" in html and "rules run" in html
    assert "never exercised" in html and "with subject" in html and "href='runs/default-seed1/report.html'" in html

    assert _files(outs[0]) == _files(outs[1]), "the same command writes byte-identical reports"


def _report(name: str, invariants: list[InvariantResult], status: str = "passed", **stats: int) -> RunReport:
    return RunReport(
        run_name=name, command=f"kmodel explore {name}", scenario=f"{name}.yaml", engine="hypothesis", seed=1, status=status,
        kubernetes_version="1.34", stats={"transitions": 10, "distinct states": 5, **stats}, action_mix={"kubelet": 3},
        invariants=invariants, progress=[(5, 3), (10, 5)],
    )  # fmt: skip


def _inv(name: str, status: str, exercised: int, violations: tuple[str, ...] = ()) -> InvariantResult:
    return InvariantResult(name, "always", f"{name} holds", "spec", status, checked=10, exercised=exercised, violations=list(violations))


def test_combined_report_merges_invariants_over_runs() -> None:
    a = _report("a", [_inv("x", "held", 4), _inv("y", "not exercised", 0), _inv("z", "not exercised", 0)])
    b = _report("b", [_inv("x", "not exercised", 0), _inv("y", "held", 2), _inv("z", "not exercised", 0)])
    c = _report("c", [_inv("x", "violated", 1, ("boom",)), _inv("y", "held", 1), _inv("z", "not exercised", 0)], status="violated")
    runs = [RunResult(RunSpec(f"{r.run_name}.yaml"), r) for r in (a, b)]
    merged = combine(runs, quick=False)
    assert merged.status == "passed"
    by = {i.name: i for i in merged.invariants}
    assert (by["x"].status, by["x"].checked, by["x"].exercised, by["x"].exercised_in) == ("held", 20, 4, ["a-seed1"])
    assert (by["y"].status, by["y"].exercised_in) == ("held", ["b-seed1"])
    assert (by["z"].status, by["z"].exercised) == ("not exercised", 0)
    assert merged.stats["transitions"] == 20 and merged.action_mix == {"kubelet": 6}
    assert merged.progress[-1] == (20, 10), "progress runs on over the runs"
    assert [r["report"] for r in merged.runs] == ["runs/a-seed1/report.html", "runs/b-seed1/report.html"]
    assert merged.invariant_summary() == "3 invariants: 2 held, 0 violated, 1 never exercised."

    worse = combine([*runs, RunResult(RunSpec("c.yaml"), c)], quick=True)
    by = {i.name: i for i in worse.invariants}
    assert worse.status == "violated" and by["x"].status == "violated" and by["x"].violations == ["c-seed1: boom"]
    assert worse.notes and "quick" in worse.notes[0]
    md = render_markdown(worse)
    assert "| x | always | violated | 30 | 5 | a-seed1, c-seed1 |" in md and "[c-seed1](runs/c-seed1/report.md)" in md
    html = render_html(worse)
    assert "exercised in runs" in html and "<a href='runs/c-seed1/report.html'>c-seed1</a>" in html


def test_rules_are_functions_and_methods_with_their_own_lines(tmp_path: Path) -> None:
    src = tmp_path / "actor.py"
    src.write_text(
        '"""doc"""\n\n\nclass A:\n    def run(self, x):\n        """doc"""\n        def inner(y):\n            return y\n\n'
        "        return inner(x)\n\n\ndef helper():\n    return 1\n"
    )
    rules = _rules(str(src))
    assert set(rules) == {"A.run", "A.run.inner", "helper"}
    assert rules["A.run.inner"] == {8} and 8 not in rules["A.run"] and 10 in rules["A.run"]
    assert rules["helper"] == {14}


def test_coverage_of_several_runs_is_the_union() -> None:
    from kmodel.report.coverage_probe import collect_raw, measure
    from kmodel.runner import run_scenario
    from kmodel.scenario import parse_scenario

    scenario = parse_scenario(
        {"steps": [{"addNode": {"name": "n1"}}, {"apply": [{"apiVersion": "apps/v1", "kind": "ReplicaSet", "metadata": {"name": "web"}, "spec": {
            "replicas": 2, "selector": {"matchLabels": {"app": "web"}},
            "template": {"metadata": {"labels": {"app": "web"}}, "spec": {"containers": [{"name": "c", "image": "nginx"}]}}}}]},
            {"settle": {}}]},
        "rs.yaml",
    )  # fmt: skip
    assert summarise_raw([]) == {}
    with collect_raw() as raws, measure(True) as results:
        run_scenario(scenario)
    assert len(raws) == 1
    mod = "kmodel/controllers/replicaset.py"
    assert summarise_raw(raws + raws) == results, "the union of a run with itself is that run"
    assert results[mod]["actors"] == ["replicaset", "replicationcontroller"]
    rules = results[mod]["rules"]
    assert rules and all(set(r) == {"lines", "branches"} for r in rules.values())
    assert not rules["ReplicaSetController.reconcile"]["lines"].startswith("0/")
