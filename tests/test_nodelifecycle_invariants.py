"""nodelifecycle-no-taint-in-full-disruption holds for the reference node lifecycle
controller and catches one that taints nodes when every zone is fully disrupted
(kubernetes/kubernetes#28832)."""

from __future__ import annotations

from typing import Any

from invariants.registry import Violation, select
from kmodel.actions import FailNode
from kmodel.catalogue.nodelifecycle import TaintsInFullDisruption
from kmodel.model import Model
from kmodel.state import ClusterState
from tests.builders import cluster, node, replicaset

NAME = "nodelifecycle-no-taint-in-full-disruption"


def _run(model: Model, fail: tuple[str, ...]) -> tuple[list[Violation], ClusterState, int]:
    """Two nodes and a ReplicaSet; the nodes in `fail` fail; 400 s pass."""
    (inv,) = select([NAME])
    state = cluster(model, [node("n1"), node("n2")], [replicaset("web", 2)])
    for n in fail:
        state = model.step(state, FailNode(n))
    found: list[Violation] = []
    exercised = 0

    def on_step(a: ClusterState, action: Any, b: ClusterState) -> None:
        nonlocal exercised
        exercised += inv.subjects(a)
        found.extend(inv.violations(a, action, b))

    end = model.settle(state, horizon=state.clock + 400, on_step=on_step).state
    return found, end, exercised


def _no_execute(state: ClusterState, name: str) -> list[str]:
    return [t.key for t in state.get("Node", "", name).spec.taints if t.effect == "NoExecute"]


def test_the_reference_does_not_taint_when_every_node_is_down() -> None:
    found, end, exercised = _run(Model(), ("n1", "n2"))
    assert found == [] and exercised > 0
    assert _no_execute(end, "n1") == [] and _no_execute(end, "n2") == []


def test_the_reference_taints_a_single_failed_node() -> None:
    # the other node is Ready: an ordinary node failure, tainted and evicted after 300 s
    found, end, exercised = _run(Model(), ("n1",))
    assert found == [] and exercised == 0
    assert _no_execute(end, "n1") == ["node.kubernetes.io/unreachable"]


def test_a_controller_that_taints_in_full_disruption_is_caught() -> None:
    found, _, _ = _run(Model().with_actor(TaintsInFullDisruption()), ("n1", "n2"))
    assert found and all(v.invariant == NAME for v in found)
    assert "while no node of any zone was Ready" in found[0].message
