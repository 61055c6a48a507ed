"""Pod lifecycle invariants: phases only move forward, and a pod never moves between
nodes (spec §2 invariants; INV-POD-1)."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from invariants.registry import Kind, Violation, invariant
from invariants.util import changed
from kmodel.objects.pod import PENDING, TERMINAL_PHASES
from kmodel.state import ClusterState


def _regular_container_started(pod: Any) -> bool:
    return any(s.state.running is not None or s.state.terminated is not None or s.last_state.terminated is not None for s in pod.status.container_statuses)


@invariant(
    "pod-phase-monotonic",
    Kind.TRANSITION,
    """A pod's phase never leaves Succeeded or Failed, and never goes back to Pending once
    a regular container has started: the kubelet forces the API's terminal phase
    (generateAPIPodStatus) and computes Pending only before containers run (getPhase).""",
    subjects=lambda s: s.count("Pod"),
    source="spec §2.1; pkg/kubelet/kubelet_pods.go generateAPIPodStatus, getPhase",
    tags=("kubelet",),
)
def pod_phase_monotonic(prev: ClusterState, action: Any, nxt: ClusterState) -> Iterable[Violation]:
    for old, new in changed(prev, nxt, "Pod"):
        a, b = old.status.phase, new.status.phase
        if a == b:
            continue
        if a in TERMINAL_PHASES:
            yield Violation("pod-phase-monotonic", f"pod {new.ref} went from terminal phase {a} to {b}", (str(new.ref),))
        elif b == PENDING and _regular_container_started(old):
            yield Violation("pod-phase-monotonic", f"pod {new.ref} went back from {a} to Pending after its containers started", (str(new.ref),))


@invariant(
    "pod-node-immutable",
    Kind.TRANSITION,
    """Once a pod is bound (spec.nodeName set) it stays on that node for the life of the
    object: pods are never moved, a replacement is a new pod.""",
    subjects=lambda s: s.count("Pod"),
    source="spec §2.5 (S: a pod is never moved; nodeName set once); pod validation (spec.nodeName immutable)",
    tags=("scheduler", "apiserver"),
)
def pod_node_immutable(prev: ClusterState, action: Any, nxt: ClusterState) -> Iterable[Violation]:
    for old, new in changed(prev, nxt, "Pod"):
        if old.spec.node_name and new.spec.node_name != old.spec.node_name:
            yield Violation(
                "pod-node-immutable",
                f"pod {new.ref} moved from node {old.spec.node_name} to {new.spec.node_name or '<none>'}",
                (str(new.ref),),
            )
