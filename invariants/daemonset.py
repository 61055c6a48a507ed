"""DaemonSet invariants (spec §8.8, §14 INV-DS-1, INV-DS-2, LIV-DS).

The transition invariants judge what a DaemonSet sync decided: the state after the
step with atomic delivery, or the state before it with the sync's queued requests
applied (asynchronous delivery), as for the Deployment invariants.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import Any

from invariants.registry import Kind, Violation, invariant
from invariants.util import actor_of, created, started_deletion
from kmodel import apiserver
from kmodel.actions import Reconcile
from kmodel.config import ModelConfig
from kmodel.controllers.common import expectations_satisfied
from kmodel.controllers.daemonset import NAME as CONTROLLER
from kmodel.controllers.daemonset import (
    allows_surge,
    current_hash,
    is_pod_updated,
    max_surge_and_unavailable,
    node_should_run,
    target_node,
    template_generation,
)
from kmodel.controllers.tainteviction import NAME as TAINT_EVICTION
from kmodel.controllers.tainteviction import no_execute_taints
from kmodel.intstr import IntOrPercentError
from kmodel.objects.apps import DaemonSet
from kmodel.objects.node import TAINT_NOT_READY, TAINT_UNREACHABLE
from kmodel.objects.pod import Pod, is_pod_available
from kmodel.objects.selectors import Taint, Toleration
from kmodel.scheduler import filter_failures
from kmodel.state import ClusterState

_NODE_PROBLEM_TAINTS = frozenset({TAINT_NOT_READY, TAINT_UNREACHABLE})


def _count_sets(state: ClusterState) -> int:
    return state.count("DaemonSet")


def owner_set(state: ClusterState, pod: Pod) -> DaemonSet | None:
    """The DaemonSet that controls `pod` in `state`, if any."""
    ref = pod.metadata.controller_ref()
    if ref is None or ref.kind != "DaemonSet":
        return None
    ds = state.by_uid(ref.uid)
    return ds if isinstance(ds, DaemonSet) else None


def active_pods_by_node(state: ClusterState, ds: DaemonSet) -> dict[str, list[Pod]]:
    """The set's active pods (not terminal, not being deleted) grouped by target node."""
    out: dict[str, list[Pod]] = {}
    for p in state.controlled_by(ds.metadata.uid, "Pod"):
        node = target_node(p)
        if node is not None and p.active:
            out.setdefault(node, []).append(p)
    return out


def sync_of_step(prev: ClusterState, action: Any) -> DaemonSet | None:
    """The DaemonSet a daemonset-controller sync acts on (as before the step), or None."""
    if not (isinstance(action, Reconcile) and action.controller == CONTROLLER):
        return None
    ds = prev.get("DaemonSet", action.namespace, action.name)
    return ds if isinstance(ds, DaemonSet) else None


def decided_state(prev: ClusterState, nxt: ClusterState) -> ClusterState:
    """`nxt` when the sync's requests were applied at once; else `prev` with the requests
    the sync queued applied to it (later deliveries land in states it did not see)."""
    queued = [f.request for f in nxt.inflight[len(prev.inflight) :] if f.actor == CONTROLLER]
    if not queued:
        return nxt
    tx = prev.edit()
    for request in queued:
        apiserver.apply(tx, request, ModelConfig())
    return tx.commit()


# ---- daemonset-one-per-node (QUIESCENT) ------------------------------------------------


def _blocked_by_scheduler(state: ClusterState, pods: list[Pod], node: Any) -> bool:
    """A pending daemon pod the default scheduler cannot bind to its node (resources,
    pod count): the controller deliberately leaves that to the scheduler."""
    return any(not p.spec.node_name and filter_failures(state, p, node) for p in pods)


@invariant(
    "daemonset-one-per-node",
    Kind.QUIESCENT,
    """When nothing is left to do, every node on which a DaemonSet should run (shouldRun:
    nodeName, nodeSelector, required node affinity and NoSchedule/NoExecute taints
    tolerated with the automatic daemon tolerations), that is Ready and whose kubelet is
    up, runs exactly one active pod of the set, and that pod is available
    (minReadySeconds) and — with the RollingUpdate strategy — of the set's current
    revision. Nodes whose pending daemon pod the default scheduler cannot place
    (insufficient resources or pod slots, which the DaemonSet controller does not
    consider) are exempt, and while such a pod exists the rollout may rightly be stuck
    within maxUnavailable, so the revision is not required then; sets being deleted are
    exempt.""",
    subjects=_count_sets,
    source="spec §8.5, §8.6, §14 LIV-DS; daemon_controller.go podsShouldBeOnNode, update.go rollingUpdate",
    tags=("daemonset",),
)
def one_per_node(state: ClusterState) -> Iterable[Violation]:
    for ds in state.list("DaemonSet"):
        if ds.metadata.deletion_timestamp is not None:
            continue
        yield from _one_per_node(state, ds)


def _one_per_node(state: ClusterState, ds: DaemonSet) -> Iterator[Violation]:
    rolling = ds.spec.update_strategy.type == "RollingUpdate"
    hash_ = current_hash(state, ds)
    if rolling and hash_ is None:
        yield Violation("daemonset-one-per-node", f"{ds.ref} has no ControllerRevision for its current template", (str(ds.ref),))
        return
    generation = template_generation(ds)
    by_node = active_pods_by_node(state, ds)
    nodes = {n.name: n for n in state.nodes()}
    stuck = any(_blocked_by_scheduler(state, pods, nodes[n]) for n, pods in by_node.items() if n in nodes)
    for node in state.nodes():
        if not node_should_run(node, ds)[0] or node.ready_status() != "True" or node.name in state.env.down_nodes:
            continue
        pods = by_node.get(node.name, [])
        names = tuple(str(p.ref) for p in pods)
        if _blocked_by_scheduler(state, pods, node):
            continue
        if len(pods) != 1:
            yield Violation("daemonset-one-per-node", f"node {node.name} runs {len(pods)} active pods of {ds.ref}, not 1", (str(ds.ref), str(node.ref), *names))
            continue
        pod = pods[0]
        if not is_pod_available(pod, ds.spec.min_ready_seconds, state.clock):
            yield Violation("daemonset-one-per-node", f"pod {pod.ref} of {ds.ref} on {node.name} is not available", (str(ds.ref), str(pod.ref)))
        if rolling and not stuck and hash_ is not None and not is_pod_updated(pod, hash_, generation):
            yield Violation(
                "daemonset-one-per-node",
                f"pod {pod.ref} of {ds.ref} on {node.name} is not of the current revision {hash_}",
                (str(ds.ref), str(pod.ref)),
            )


# ---- daemonset-no-ineligible-node (TRANSITION) -------------------------------------------


@invariant(
    "daemonset-no-ineligible-node",
    Kind.TRANSITION,
    """A DaemonSet sync never creates a pod for a node on which the set should not run:
    the target node (the pod's matchFields metadata.name) exists and, as the sync saw it,
    nodeName, nodeSelector and required node affinity match and every NoSchedule and
    NoExecute taint is tolerated by the template plus the automatic daemon tolerations.
    A transition invariant, not a state one: a pod may rightly stay on a node that has
    since become ineligible (an untolerated NoSchedule taint keeps shouldContinueRunning,
    and any change is only acted on at the next sync), so only creations are judged,
    against the state the sync read.""",
    subjects=_count_sets,
    source="spec §8.2, §8.8, §14 INV-DS-1; daemon_controller.go NodeShouldRunDaemonPod; kubernetes#118823",
    tags=("daemonset",),
)
def no_ineligible_node(prev: ClusterState, action: Any, nxt: ClusterState) -> Iterable[Violation]:
    ds = sync_of_step(prev, action)
    if ds is None:
        return
    for pod in created(prev, decided_state(prev, nxt), "Pod"):
        owner = pod.metadata.controller_ref()
        if owner is None or owner.uid != ds.metadata.uid:
            continue
        name = target_node(pod)
        node = prev.get("Node", "", name) if name else None
        if node is None:
            yield Violation("daemonset-no-ineligible-node", f"{ds.ref} created {pod.ref} for node {name!r}, which does not exist", (str(ds.ref), str(pod.ref)))
        elif not node_should_run(node, ds)[0]:
            message = f"{ds.ref} created {pod.ref} on node {name}, where it should not run"
            yield Violation("daemonset-no-ineligible-node", message, (str(ds.ref), str(pod.ref), str(node.ref)))


# ---- daemonset-surge-bound (TRANSITION) --------------------------------------------------


@invariant(
    "daemonset-surge-bound",
    Kind.TRANSITION,
    """After a DaemonSet sync that manages pods (its expectations were satisfied), every
    existing node has at most one active (not terminal, not being deleted) pod of the set
    — or, when the set surges (RollingUpdate with maxSurge resolving above 0), at most
    two, and then one of the current revision and one of an older revision.""",
    subjects=_count_sets,
    source="spec §8.5, §8.6, §8.8, §14 INV-DS-1; daemon_controller.go podsShouldBeOnNode, update.go rollingUpdate",
    tags=("daemonset",),
)
def surge_bound(prev: ClusterState, action: Any, nxt: ClusterState) -> Iterable[Violation]:
    ds = sync_of_step(prev, action)
    if ds is None or ds.metadata.deletion_timestamp is not None:
        return
    if not expectations_satisfied(prev, CONTROLLER, (ds.metadata.namespace, ds.metadata.name), ModelConfig()):
        return
    decided = decided_state(prev, nxt)
    hash_ = current_hash(decided, ds)
    generation = template_generation(ds)
    surge = allows_surge(ds)
    for node, pods in sorted(active_pods_by_node(decided, ds).items()):
        if prev.get("Node", "", node) is None:
            continue
        names = tuple(str(p.ref) for p in pods)
        if len(pods) <= 1:
            continue
        if not surge or len(pods) > 2:
            limit = 2 if surge else 1
            yield Violation("daemonset-surge-bound", f"node {node} has {len(pods)} active pods of {ds.ref} (at most {limit})", (str(ds.ref), *names))
            continue
        new = [p for p in pods if hash_ is not None and is_pod_updated(p, hash_, generation)]
        if len(new) != 1:
            yield Violation("daemonset-surge-bound", f"node {node} has 2 active pods of {ds.ref} that are not one new and one old", (str(ds.ref), *names))


# ---- daemonset-not-taint-evicted (TRANSITION) ------------------------------------------


def _is_daemon_pod(pod: Pod) -> bool:
    ref = pod.metadata.controller_ref()
    return ref is not None and ref.kind == "DaemonSet"


def _overrides_toleration(state: ClusterState, pod: Pod) -> bool:
    """The pod's DaemonSet template itself tolerates not-ready/unreachable NoExecute for a
    limited time, with a toleration the controller does not replace (another operator or
    value). Tolerations the API server's DefaultTolerationSeconds adds do not count."""
    ds = owner_set(state, pod)
    if ds is None:
        return False
    problems = [Taint(key=k, effect="NoExecute") for k in sorted(_NODE_PROBLEM_TAINTS)]

    def replaced(t: Toleration) -> bool:  # AddOrUpdateTolerationInPodSpec matches key, effect, operator, value
        return t.key in _NODE_PROBLEM_TAINTS and t.effect == "NoExecute" and t.operator == "Exists" and not t.value

    return any(t.toleration_seconds is not None and not replaced(t) and any(t.tolerates(x) for x in problems) for t in ds.spec.template.spec.tolerations)


@invariant(
    "daemonset-not-taint-evicted",
    Kind.TRANSITION,
    """The taint manager never deletes a DaemonSet pod from a node whose NoExecute taints
    are all node.kubernetes.io/not-ready or node.kubernetes.io/unreachable: the controller
    gives every daemon pod tolerations for both without tolerationSeconds. (A template
    that adds its own time-limited toleration for them, with an operator or value the
    controller's toleration does not replace, is exempt: upstream evicts such pods too.)""",
    subjects=lambda s: sum(1 for p in s.pods() if _is_daemon_pod(p)),
    source="spec §8.3, §3.2, §14 INV-DS-2; util/daemonset_util.go AddOrUpdateDaemonPodTolerations",
    tags=("daemonset", "eviction"),
)
def not_taint_evicted(prev: ClusterState, action: Any, nxt: ClusterState) -> Iterable[Violation]:
    if actor_of(action) != TAINT_EVICTION:
        return
    for pod in started_deletion(prev, nxt, "Pod"):
        ref = pod.metadata.controller_ref()
        if ref is None or ref.kind != "DaemonSet" or _overrides_toleration(prev, pod):
            continue
        node = prev.get("Node", "", pod.spec.node_name) if pod.spec.node_name else None
        taints = no_execute_taints(node) if node is not None else []
        if taints and all(t.key in _NODE_PROBLEM_TAINTS for t in taints):
            keys = ", ".join(sorted({t.key for t in taints}))
            yield Violation(
                "daemonset-not-taint-evicted",
                f"daemon pod {pod.ref} was evicted from {node.name} for its {keys} NoExecute taint",  # type: ignore[union-attr]
                (str(pod.ref), str(node.ref)),  # type: ignore[union-attr]
            )


# ---- daemonset-rolling-unavailability (TRANSITION) ---------------------------------------


def unavailable_nodes(state: ClusterState, ds: DaemonSet) -> list[str]:
    """Nodes where the set should run that have no available active pod of it."""
    by_node = active_pods_by_node(state, ds)
    return [
        n.name
        for n in state.nodes()
        if node_should_run(n, ds)[0] and not any(is_pod_available(p, ds.spec.min_ready_seconds, state.clock) for p in by_node.get(n.name, []))
    ]


@invariant(
    "daemonset-rolling-unavailability",
    Kind.TRANSITION,
    """When a RollingUpdate DaemonSet whose maxSurge resolves to 0 deletes, in one sync,
    an available pod of an older revision that was the only active pod of the set on a
    node where the set should run (which only the rolling update does), then after that
    sync at most maxUnavailable nodes where the set should run lack an available active
    pod of it — maxUnavailable rounded up over desiredNumberScheduled, 1 when both
    values resolve to 0. Unavailable old pods may always be replaced, but count against
    the budget. The v1.28.0–1.30 controllers break this (kubernetes#123232, fixed by
    #123233 in 1.31).""",
    subjects=lambda s: sum(1 for d in s.list("DaemonSet") if d.spec.update_strategy.type == "RollingUpdate"),
    source="spec §8.6, §8.8, §18; update.go rollingUpdate; kubernetes#123232",
    tags=("daemonset",),
)
def rolling_unavailability(prev: ClusterState, action: Any, nxt: ClusterState) -> Iterable[Violation]:
    ds = sync_of_step(prev, action)
    if ds is None or ds.spec.update_strategy.type != "RollingUpdate":
        return
    desired = [n for n in prev.nodes() if node_should_run(n, ds)[0]]
    try:
        max_surge, max_unavailable = max_surge_and_unavailable(ds, len(desired))
    except IntOrPercentError:
        return
    if max_surge != 0:
        return
    decided = decided_state(prev, nxt)
    hash_ = current_hash(prev, ds) or ""
    generation = template_generation(ds)
    by_node = active_pods_by_node(prev, ds)
    desired_names = {n.name for n in desired}
    rolled = [
        p
        for p in started_deletion(prev, decided, "Pod")
        if (owner := p.metadata.controller_ref()) is not None
        and owner.uid == ds.metadata.uid
        and p.spec.node_name in desired_names
        and len(by_node.get(p.spec.node_name, [])) == 1
        and is_pod_available(p, ds.spec.min_ready_seconds, prev.clock)
        and not is_pod_updated(p, hash_, generation)
    ]
    if not rolled:
        return
    after = unavailable_nodes(decided, ds)
    if len(after) > max_unavailable:
        yield Violation(
            "daemonset-rolling-unavailability",
            f"{ds.ref} deleted available old pod(s) {', '.join(str(p.ref) for p in rolled)}, leaving {len(after)} nodes "
            f"without an available pod ({', '.join(after)}) with maxUnavailable {max_unavailable}",
            (str(ds.ref), *(str(p.ref) for p in rolled)),
        )
