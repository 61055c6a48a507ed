"""Placement validity: what the scheduler binds passes every filter, and no node is
over-committed (spec §4 invariants; INV-SCHED-1)."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from invariants.registry import Kind, Violation, invariant
from invariants.util import changed, created
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


def _overcommit(state: ClusterState, node_name: str) -> list[str]:
    node = state.get("Node", "", node_name)
    if node is None:
        return []
    pods = [p for p in state.pods_on(node_name) if placed(p)]
    problems = []
    limit = node.allocatable_of("pods") or 0
    if len(pods) > limit:
        problems.append(f"node {node_name} holds {len(pods)} pods but allows {limit}")
    used: dict[str, int] = {}
    for p in pods:
        for r, v in pod_requests(p.spec).items():
            used[r] = used.get(r, 0) + v
    for r, v in sorted(used.items()):
        alloc = node.allocatable_of(r)
        if v > 0 and (alloc is None or v > alloc):
            problems.append(f"pods on node {node_name} request {v} of {r} but only {alloc} is allocatable")
    return problems


@invariant(
    "node-capacity",
    Kind.TRANSITION,
    """No step that places a pod on a node — a binding by the scheduler or an admission by
    the node's kubelet — leaves that node over-committed: the pods placed there (bound or
    admitted, not terminal) number at most its allocatable pods, and for every resource
    they request the sum of their requests is at most its allocatable amount. (A node that
    is replaced by a smaller one under the same name can hold too many pods without any
    placement decision; its kubelet then rejects pods at admission.)""",
    subjects=lambda s: s.count("Node"),
    source="spec §4 (S: Σ requests ≤ allocatable; #pods ≤ max pods); NodeResourcesFit; kubelet admission (lifecycle/predicate.go)",
    tags=("scheduler", "kubelet"),
)
def node_capacity(prev: ClusterState, action: Any, nxt: ClusterState) -> Iterable[Violation]:
    newly: set[str] = set()
    for old, new in changed(prev, nxt, "Pod"):
        if new.spec.node_name and placed(new) and not placed(old):
            newly.add(new.spec.node_name)
        elif new.spec.node_name and not old.spec.node_name and placed(new):
            newly.add(new.spec.node_name)
    for pod in created(prev, nxt, "Pod"):
        if pod.spec.node_name and placed(pod):
            newly.add(pod.spec.node_name)
    for node_name in sorted(newly):
        for problem in _overcommit(nxt, node_name):
            yield Violation("node-capacity", problem, (f"Node {node_name}",))
