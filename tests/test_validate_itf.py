"""ITF traces: `kmodel export` writes every state of a scenario run, `kmodel validate`
reads it back — a correct run validates clean, a run with a deliberately broken
controller validates with its violation."""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from kmodel.controllers.deployment import DeploymentController, SyncContext
from kmodel.model import Model
from kmodel.objects.workloads import ReplicaSet
from kmodel.scenario import parse_scenario
from kmodel.validate.export import export_scenario
from kmodel.validate.itf import action_of, from_itf, read_itf, to_itf
from tests.validatekit import lines, names, run, write_lines

ROLLOUT = {
    "name": "rollout",
    "steps": [
        {"addNode": {"name": "n1"}},
        {"addNode": {"name": "n2"}},
        {
            "apply": {
                "apiVersion": "apps/v1",
                "kind": "Deployment",
                "metadata": {"name": "web"},
                "spec": {
                    "replicas": 4,
                    "selector": {"matchLabels": {"app": "web"}},
                    "strategy": {"type": "RollingUpdate", "rollingUpdate": {"maxSurge": 1, "maxUnavailable": 0}},
                    "template": {
                        "metadata": {"labels": {"app": "web"}},
                        "spec": {"terminationGracePeriodSeconds": 5, "containers": [{"name": "web", "image": "nginx:1"}]},
                    },
                },
            }
        },
        {"settle": {}},
        {"setImage": {"kind": "Deployment", "name": "web", "image": "nginx:2"}},
        {"settle": {}},
    ],
}


class IgnoresMaxSurge(DeploymentController):
    """Broken: scales the new ReplicaSet straight to spec.replicas."""

    def reconcile_new_replica_set(self, ctx: SyncContext, all_rss: Sequence[ReplicaSet], new_rs: ReplicaSet) -> bool:
        scaled, _ = self.scale_replica_set_and_record_event(ctx, new_rs, ctx.d.spec.replicas)
        return scaled


def _export(tmp: Path, model: Model | None = None) -> tuple[Path, Any]:
    path = tmp / "trace.itf.json"
    return path, export_scenario(parse_scenario(ROLLOUT, "rollout"), path, model=model)


def test_itf_values() -> None:
    v = {"a": 1, "b": [True, "x", None], "c": {"d": 2.0}}
    enc = to_itf(v)
    assert enc == {"a": {"#bigint": "1"}, "b": [True, "x", {"#unserializable": "null"}], "c": {"d": {"#bigint": "2"}}}
    assert from_itf(enc) == {"a": 1, "b": [True, "x", None], "c": {"d": 2}}
    assert from_itf({"#map": [[{"#tup": ["Pod", "ns", "p"]}, {"#set": [{"#bigint": "3"}]}]]}) == {("Pod", "ns", "p"): [3]}


def test_export_writes_every_state_in_itf(tmp_path: Path) -> None:
    path, exported = _export(tmp_path)
    doc = json.loads(path.read_text())
    assert doc["vars"][:4] == ["clock", "objects", "downNodes", "action"]
    assert doc["#meta"]["format"] == "ITF" and doc["#meta"]["epoch"] == "2024-01-01T00:00:00Z"
    states = doc["states"]
    assert len(states) == exported.states > 20
    assert [s["#meta"]["index"] for s in states] == list(range(len(states)))
    assert states[0]["action"]["type"] == "Init" and states[0]["objects"] == {"#map": []}
    last = from_itf(states[-1])
    assert last["clock"] == exported.final.clock
    assert {k for k in last["objects"] if k[0] == "Pod"} == {("Pod", "default", p.metadata.name) for p in exported.final.pods()}
    assert states[1]["action"]["type"] == "AddNode" and states[1]["mbt::actionTaken"] == "AddNode"
    assert action_of(states[1]["action"]).category == "fault"
    assert any(s["action"]["type"] == "Reconcile" and s["action"]["controller"] == "deployment" for s in states)


def test_correct_run_validates_clean(tmp_path: Path) -> None:
    path, exported = _export(tmp_path)
    result = run(path)
    assert result.findings == [], [f.headline() for f in result.findings]
    assert result.counts["states"] == exported.states
    assert result.stats["deployment-surge-bound"].checked > 5
    assert result.stats["placement-filters"].checked > 5  # Nodes are in the trace: the scheduler is judged
    assert result.settled and result.stats["replicaset-replicas"].checked == 1


def test_run_with_a_broken_controller_validates_with_its_violation(tmp_path: Path) -> None:
    path, _ = _export(tmp_path, Model().with_actor(IgnoresMaxSurge()))
    result = run(path)
    found = [f for f in result.violations if f.invariant == "deployment-surge-bound"]
    assert found, [f.headline() for f in result.findings]
    f = found[0]
    assert Path(f.file) == path and f.event.startswith("state ")
    index = int(f.event.split()[1])
    assert json.loads(lines(path)[f.line - 1].rstrip(","))["#meta"]["index"] == index  # the line holds that state
    assert f.step == "deployment syncs default/web" and "above 5" in f.message
    created = [c for c in f.changes if c.startswith("+ ReplicaSet default/web-")]
    assert len(created) == 1
    rs = created[0].split()[2]
    assert f.after[f"ReplicaSet {rs}"]["spec"]["replicas"] == 4
    assert result.exit_status == 1


def test_reading_does_not_depend_on_the_layout(tmp_path: Path) -> None:
    path, _ = _export(tmp_path, Model().with_actor(IgnoresMaxSurge()))
    pretty = tmp_path / "pretty.itf.json"
    pretty.write_text(json.dumps(json.loads(path.read_text()), indent=2))
    a, b = run(path), run(pretty)
    assert names(a) == names(b) and a.counts == b.counts
    assert b.violations[0].line > a.violations[0].line  # the line of the state in the indented file


def test_truncated_itf_is_an_input_error_after_the_states_it_holds(tmp_path: Path) -> None:
    path, exported = _export(tmp_path)
    ls = lines(path)
    cut = len(ls) // 2
    write_lines(path, ls[:cut] + [ls[cut][: len(ls[cut]) // 2]])
    items = list(read_itf(path))
    problems = [x for x in items if not isinstance(x, (tuple, dict))]
    assert len(problems) == 1 and problems[0].line == cut + 1 and "truncated" in problems[0].message
    result = run(path)
    assert result.counts["states"] == cut - 3  # header lines, then one state per line
    assert [(f.line, "truncated" in f.message) for f in result.input_errors] == [(cut + 1, True)]
    assert not result.settled and result.exit_status == 2
