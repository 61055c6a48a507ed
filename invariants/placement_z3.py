"""Placement checked by a second, independent encoding of the scheduler's filters in Z3
(`kmodel.placement`): every binding is feasible, and no pod is left Pending at
quiescence while some node could take it (spec §4 invariants).

A solver that cannot decide (time-out) reports a violation saying so: an undecided
check is never counted as a pass.
"""

from __future__ import annotations

import functools
from collections import OrderedDict
from collections.abc import Callable, Iterable
from typing import Any

from invariants.registry import Kind, Violation, invariant
from kmodel.actions import Schedule
from kmodel.objects.pod import pod_requests
from kmodel.placement.encode import SAT, UNKNOWN, Outcome, SolverLimits
from kmodel.placement.problem import placement_signature, snapshot_pods
from kmodel.placement.single import check_binding, find_node, witness_node
from kmodel.scheduler import pending_pods
from kmodel.state import ClusterState

LIMITS = SolverLimits(timeout_ms=10_000)
_CACHE_SIZE = 4096
_cache: OrderedDict[tuple[object, ...], Outcome] = OrderedDict()


def _cached(key: tuple[object, ...], compute: Callable[[], Outcome]) -> Outcome:
    """Memoise solver outcomes per (state, question, limits): explorers reach the same
    transition and fixpoint many times, and each answer is a function of the state.
    Undecided outcomes are not kept (a later check may decide)."""
    key = (*key, LIMITS)
    hit = _cache.get(key)
    if hit is not None:
        _cache.move_to_end(key)
        return hit
    out = compute()
    if out.status != UNKNOWN:
        _cache[key] = out
        if len(_cache) > _CACHE_SIZE:
            _cache.popitem(last=False)
    return out


def _has_pod_terms(pod: Any) -> bool:
    """Whether `pod` carries required pod (anti-)affinity terms or topology spread constraints."""
    aff = pod.spec.affinity
    if aff is not None:
        for pa in (aff.pod_affinity, aff.pod_anti_affinity):
            if pa is not None and pa.required_during_scheduling_ignored_during_execution:
                return True
    return bool(pod.spec.topology_spread_constraints)


def _node_load(placed: Iterable[Any]) -> dict[str, list[tuple[object, ...]]]:
    """Per node, the requests of the placed pods (the scheduler's snapshot) there, sorted."""
    load: dict[str, list[tuple[object, ...]]] = {}
    for pp in placed:
        load.setdefault(pp.node, []).append(tuple(sorted(pod_requests(pp.pod.spec).items())))
    for v in load.values():
        v.sort()
    return load


def _node_view(node: Any) -> tuple[object, ...]:
    """What the filters read of a node (name, labels, cordon, taints, allocatable and
    capacity) — not its conditions or heartbeats, which change without changing placement."""
    return (node.name, node.metadata.labels, node.spec.unschedulable, node.spec.taints, node.status.allocatable, node.status.capacity)


def _local_key(state: ClusterState, pod: Any, nodes: Iterable[Any]) -> tuple[object, ...] | None:
    """A cache key holding all the answer depends on when the question is node-local: the
    pod has no claims and no pod (anti-)affinity or spread terms, and no placed pod has
    any (their anti-affinity would reach the new pod). Then feasibility on a node depends
    only on the pod's placement fields, the node object and the requests already placed
    there — the same key in many states of an exploration."""
    if _has_pod_terms(pod) or any(v.persistent_volume_claim is not None for v in pod.spec.volumes):
        return None
    placed = snapshot_pods(state)
    if any(_has_pod_terms(pp.pod) for pp in placed):
        return None
    load = _node_load(placed)
    per_node = tuple((_node_view(n), tuple(load.get(n.name, ()))) for n in nodes)
    # the namespace (first in the signature) only matters to pod terms, absent here
    return (placement_signature(pod, frozenset())[1:], per_node)


@invariant(
    "scheduler-binds-feasible",
    Kind.TRANSITION,
    """Every binding the scheduler makes is feasible according to Z3, given the state it
    was made in: with the pod on that node and every other pod where it is, the node's
    allocatable pods and resources cover the requests, the node is not cordoned (unless
    tolerated), matches the nodeSelector and required node affinity, has no untolerated
    NoSchedule/NoExecute taint, and required pod (anti-)affinity and DoNotSchedule
    topology spread hold. This is an encoding of the filters independent of
    kmodel.scheduler.filter_failures.""",
    subjects=lambda s: s.count("Pod"),
    source="spec §4.2 and §4 invariants (S: a bound pod's node passed every filter); pkg/scheduler/framework/plugins",
    tags=("scheduler", "z3"),
)
def scheduler_binds_feasible(prev: ClusterState, action: Any, nxt: ClusterState) -> Iterable[Violation]:
    if not isinstance(action, Schedule):
        return
    pod = prev.get("Pod", action.namespace, action.pod)
    after = nxt.get("Pod", action.namespace, action.pod)
    if pod is None or after is None or pod.spec.node_name or after.spec.node_name != action.node:
        return  # nothing was bound by this step (or the binding is still in flight)
    node = prev.get("Node", "", action.node)
    local = _local_key(prev, pod, [node]) if node is not None else None
    key = ("bind-local", local) if local is not None else (prev, "bind", pod.metadata.uid, action.node)
    out = _cached(key, lambda: check_binding(prev, pod, action.node, LIMITS))
    objects = (str(pod.ref), f"Node {action.node}")
    if out.status == UNKNOWN:
        message = f"could not decide whether binding pod {pod.ref} to node {action.node} was feasible (solver: {out.unknown})"
        yield Violation("scheduler-binds-feasible", message, objects)
    elif out.status != SAT:
        why = "; ".join(str(r) for r in out.reasons()) or "no reason recorded"
        yield Violation("scheduler-binds-feasible", f"pod {pod.ref} was bound to node {action.node}, which Z3 finds infeasible: {why}", objects)


@invariant(
    "scheduler-completeness",
    Kind.QUIESCENT,
    """When nothing is left to do, no pod waiting for the default scheduler is left Pending
    while some node could take it: for every pending pod, Z3 finds no node that passes
    every filter with the other pods where they are.""",
    subjects=lambda s: len(pending_pods(s)),
    source="spec §4 invariants (L: a pod for which some node passes all filters is eventually bound)",
    tags=("scheduler", "z3"),
)
def scheduler_completeness(state: ClusterState) -> Iterable[Violation]:
    for pod in pending_pods(state):
        local = _local_key(state, pod, state.nodes())
        key = ("find-local", local) if local is not None else (state, "find", pod.metadata.uid)
        out = _cached(key, functools.partial(find_node, state, pod, LIMITS))
        if out.status == UNKNOWN:
            yield Violation("scheduler-completeness", f"could not decide whether pending pod {pod.ref} fits somewhere (solver: {out.unknown})", (str(pod.ref),))
        elif out.status == SAT:
            node = witness_node(out)
            yield Violation(
                "scheduler-completeness",
                f"pod {pod.ref} is left Pending, but node {node} can take it (Z3 witness: every filter passes there with the other pods in place)",
                (str(pod.ref), f"Node {node}"),
            )
