"""Placement validity: what the scheduler binds passes every filter, and no node is
over-committed (spec §4 invariants; INV-SCHED-1)."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from invariants.registry import Kind, Violation, invariant
from kmodel.actions import Schedule
from kmodel.objects.meta import condition_true, find_condition
from kmodel.objects.pod import Pod, pod_requests
from kmodel.scheduler import filter_failures
from kmodel.state import ClusterState


def placed(pod: Pod) -> bool:
    """A non-terminal pod that the scheduler bound or the kubelet admitted."""
    if pod.terminal:
        return False
    return condition_true(pod.status.conditions, "PodScheduled") or find_condition(pod.status.conditions, "Initialized") is not None


@invariant(
    "placement-filters",
    Kind.TRANSITION,
    """Every binding the scheduler makes is to a node that, in the state it was made in,
    passes every filter of the default profile for that pod: the node exists, is not
    cordoned (unless tolerated), has room for the pod's requests and pod count, matches its
    nodeSelector and required node affinity, has no untolerated NoSchedule or NoExecute
    taint, and respects required pod anti-affinity and DoNotSchedule topology spread.""",
    subjects=lambda s: s.count("Pod"),
    source="spec §4.2; pkg/scheduler/framework/plugins (NodeName, NodeUnschedulable, NodeResourcesFit, NodeAffinity, TaintToleration)",
    tags=("scheduler",),
)
def placement_filters(prev: ClusterState, action: Any, nxt: ClusterState) -> Iterable[Violation]:
    if not isinstance(action, Schedule):
        return
    pod = prev.get("Pod", action.namespace, action.pod)
    after = nxt.get("Pod", action.namespace, action.pod)
    if pod is None or after is None or after.spec.node_name != action.node or pod.spec.node_name:
        return
    node = prev.get("Node", "", action.node)
    if node is None:
        yield Violation("placement-filters", f"pod {pod.ref} was bound to node {action.node}, which does not exist", (str(pod.ref), f"Node {action.node}"))
        return
    failures = filter_failures(prev, pod, node)
    if failures:
        yield Violation(
            "placement-filters",
            f"pod {pod.ref} was bound to node {node.name}, which fails {', '.join(failures)}",
            (str(pod.ref), str(node.ref)),
        )


@invariant(
    "node-capacity",
    Kind.ALWAYS,
    """On every node, the pods placed there (bound by the scheduler or admitted by the
    kubelet, and not terminal) fit: their number is at most the node's allocatable pods,
    and for every resource they request the sum of their requests is at most the node's
    allocatable amount.""",
    subjects=lambda s: s.count("Node"),
    source="spec §4 (S: Σ requests ≤ allocatable; #pods ≤ max pods); NodeResourcesFit; kubelet admission",
    tags=("scheduler", "kubelet"),
)
def node_capacity(state: ClusterState) -> Iterable[Violation]:
    for node in state.nodes():
        pods = [p for p in state.pods_on(node.name) if placed(p)]
        if not pods:
            continue
        limit = node.allocatable_of("pods") or 0
        if len(pods) > limit:
            yield Violation("node-capacity", f"node {node.name} holds {len(pods)} pods but allows {limit}", (str(node.ref),))
        used: dict[str, int] = {}
        for p in pods:
            for r, v in pod_requests(p.spec).items():
                used[r] = used.get(r, 0) + v
        for r, v in sorted(used.items()):
            alloc = node.allocatable_of(r)
            if v > 0 and (alloc is None or v > alloc):
                yield Violation(
                    "node-capacity",
                    f"pods on node {node.name} request {v} of {r} but only {alloc} is allocatable",
                    (str(node.ref), *(str(p.ref) for p in pods)),
                )
