"""kmodel explore: deterministic reports, counterexamples found against deliberately
broken controllers, shrunk, saved as scenarios, and replayed."""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from kmodel import apiserver
from kmodel.actions import Action
from kmodel.config import ModelConfig
from kmodel.controllers.tainteviction import TaintEvictionController, no_execute_taints
from kmodel.explore import ExploreOptions, explore
from kmodel.runner import run_scenario
from kmodel.scenario import load_scenario, parse_scenario
from kmodel.state import ClusterState

SMALL = {
    "name": "small",
    "steps": [
        {"addNode": {"name": "n1", "cpu": "2"}},
        {"addNode": {"name": "n2", "cpu": "2"}},
        {
            "apply": {
                "apiVersion": "apps/v1",
                "kind": "ReplicaSet",
                "metadata": {"name": "web"},
                "spec": {
                    "replicas": 2,
                    "selector": {"matchLabels": {"app": "web"}},
                    "template": {"metadata": {"labels": {"app": "web"}}, "spec": {"containers": [{"name": "c", "image": "nginx"}]}},
                },
            }
        },
        {"settle": {}},
    ],
    "explore": {"faults": ["fail", "recover"], "maxFaults": 1},
}


class EagerTaintEviction(TaintEvictionController):
    """Broken: evicts as soon as a NoExecute taint appears, ignoring tolerationSeconds."""

    def requests(self, state: ClusterState, action: Action, config: ModelConfig) -> Sequence[apiserver.Request]:
        pod: Any = state.get("Pod", action.namespace, action.name)  # type: ignore[attr-defined]
        if pod is None or pod.metadata.deletion_timestamp is not None or not pod.spec.node_name:
            return ()
        node = state.get("Node", "", pod.spec.node_name)
        if node is None or not no_execute_taints(node):
            return ()
        return (apiserver.Delete(pod.ref, uid=pod.metadata.uid),)


def _opts(tmp_path: Path, **kw: Any) -> ExploreOptions:
    return ExploreOptions(scenario=parse_scenario(SMALL, "small.yaml"), out_dir=tmp_path, examples=kw.pop("examples", 20), steps=kw.pop("steps", 20), **kw)


def test_correct_model_passes_and_reports_are_deterministic(tmp_path: Path) -> None:
    a = explore(_opts(tmp_path / "a", seed=7))
    b = explore(_opts(tmp_path / "b", seed=7))
    assert a.report.status == "passed", a.violations
    ja = (a.directory / "report.json").read_text()
    assert ja == (b.directory / "report.json").read_text()
    assert (a.directory / "report.md").read_text() == (b.directory / "report.md").read_text()
    data = json.loads(ja)
    statuses = {i["name"]: i["status"] for i in data["invariants"]}
    assert statuses["replicaset-replicas"] == "held"
    assert data["stats"]["transitions"] > 0
    junit = (a.directory / "junit.xml").read_text()
    assert "<testsuite" in junit and "replicaset-replicas" in junit


def test_different_seeds_explore_differently(tmp_path: Path) -> None:
    a = explore(_opts(tmp_path / "a", seed=1))
    b = explore(_opts(tmp_path / "b", seed=2))
    assert a.report.stats != b.report.stats or a.report.action_mix != b.report.action_mix


def test_broken_taint_manager_is_caught_shrunk_and_replayable(tmp_path: Path) -> None:
    out = explore(_opts(tmp_path, seed=3, examples=200, steps=25, actor_overrides=[EagerTaintEviction()]))
    assert out.report.status == "violated"
    assert "taint-eviction-timing" in {v.invariant for v in out.violations}
    ce = out.report.counterexample
    assert ce is not None and ce.reproduced is True
    path = Path(ce.scenario_file)
    assert path.exists()
    # the saved scenario replays the violation with the broken actor, and not with the reference one
    from kmodel.explore import build_model

    broken = build_model(ModelConfig(), None, [EagerTaintEviction()])
    replay = run_scenario(load_scenario(path), model=broken)
    assert any(v.invariant == "taint-eviction-timing" for v in replay.violations)
    assert run_scenario(load_scenario(path)).violations == []
    md = (out.directory / "report.md").read_text()
    assert "Counterexample" in md and "kmodel run" in md
    # shrunk: the node failure and the time step are all it takes
    assert len(ce.steps) <= len(SMALL["steps"]) + 6


def test_interrupted_time_budget_still_writes_a_report(tmp_path: Path) -> None:
    out = explore(_opts(tmp_path, examples=10_000, steps=10, time_budget=0.5, chunk=5))
    assert (out.directory / "report.json").exists()
    assert any("time budget" in n for n in out.report.notes)
