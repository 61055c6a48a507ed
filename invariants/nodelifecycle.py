"""Node lifecycle: no mass eviction when the control plane looks cut off (spec §3.1, §3.2)."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from invariants.registry import Kind, Violation, invariant
from invariants.util import actor_of
from kmodel.objects.node import TAINT_NOT_READY, TAINT_UNREACHABLE, Node
from kmodel.state import ClusterState

NODE_LIFECYCLE = "nodelifecycle"
EXCLUDE_DISRUPTION = "node.kubernetes.io/exclude-disruption"
PROBLEM_TAINTS = frozenset({TAINT_NOT_READY, TAINT_UNREACHABLE})


def counted_nodes(state: ClusterState) -> list[Node]:
    """The nodes that count towards zone states (those without the exclude-disruption label)."""
    return [n for n in state.nodes() if EXCLUDE_DISRUPTION not in n.metadata.labels]


def all_zones_fully_disrupted(state: ClusterState) -> bool:
    """Every zone is fully disrupted: at least one counted node, and none of them Ready.
    (A zone is fully disrupted when none of its nodes is Ready, so every zone is exactly
    when no counted node is, whatever the zones are.)"""
    nodes = counted_nodes(state)
    return bool(nodes) and not any(n.ready_status() == "True" for n in nodes)


def _problem_no_execute(node: Node) -> set[str]:
    return {t.key for t in node.spec.taints if t.effect == "NoExecute" and t.key in PROBLEM_TAINTS}


@invariant(
    "nodelifecycle-no-taint-in-full-disruption",
    Kind.TRANSITION,
    """When every zone is fully disrupted (no node that counts towards the zone states is
    Ready), the node lifecycle controller assumes the control plane has lost the nodes,
    not that the nodes are dead: no step of it adds a not-ready or unreachable NoExecute
    taint, which would evict every pod of the cluster. Judged on the controller's own
    steps (with asynchronous delivery a taint decided before the last node went down may
    land after it, so deliveries are not judged).""",
    subjects=lambda s: 1 if all_zones_fully_disrupted(s) else 0,
    source="spec §3.1; node_lifecycle_controller.go handleDisruption (allAreFullyDisrupted: "
    "stop evictions, remove the NoExecute taints); kubernetes/kubernetes#28832, #28897",
    tags=("nodelifecycle", "eviction"),
)
def nodelifecycle_no_taint_in_full_disruption(prev: ClusterState, action: Any, nxt: ClusterState) -> Iterable[Violation]:
    if actor_of(action) != NODE_LIFECYCLE or not all_zones_fully_disrupted(prev):
        return
    for node in nxt.nodes():
        before = prev.get("Node", "", node.name)
        added = _problem_no_execute(node) - (_problem_no_execute(before) if before is not None else set())
        if added:
            yield Violation(
                "nodelifecycle-no-taint-in-full-disruption",
                f"node {node.name} was tainted {', '.join(sorted(added))}:NoExecute while no node of any zone was Ready",
                (str(node.ref),),
            )
