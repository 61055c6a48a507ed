"""Deployment invariants: a rolling update stays within maxSurge and never itself takes
availability below replicas − maxUnavailable; a Recreate rollout never overlaps old
and new pods (spec §6.12, §18)."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from invariants.registry import Kind, Violation, invariant
from invariants.util import changed, created
from kmodel import apiserver
from kmodel.actions import Reconcile
from kmodel.config import ModelConfig
from kmodel.controllers import deployment_util as du
from kmodel.objects.workloads import Deployment, ReplicaSet
from kmodel.state import ClusterState

CONTROLLER = "deployment"


def _count_strategy(state: ClusterState, strategy: str) -> int:
    return sum(1 for d in state.list("Deployment") if d.spec.strategy.type == strategy)


def deployment_of_step(prev: ClusterState, action: Any) -> Deployment | None:
    """The Deployment a deployment-controller sync acts on (as it was before the step), or None."""
    if not (isinstance(action, Reconcile) and action.controller == CONTROLLER):
        return None
    d: Deployment | None = prev.get("Deployment", action.namespace, action.name)
    return d


def decided_state(prev: ClusterState, action: Any, nxt: ClusterState) -> ClusterState:
    """The state a deployment-controller sync decided on: `nxt` when its requests were applied at
    once; with asynchronous delivery, `prev` with the requests the sync queued applied to it.

    The bounds are about the controller's decisions. A request delivered later lands in a
    state the controller did not see (its view is stale, as with a lagging informer cache);
    those deliveries are not checked here.
    """
    queued = [f.request for f in nxt.inflight[len(prev.inflight) :] if f.actor == CONTROLLER]
    if not queued:
        return nxt
    tx = prev.edit()
    for request in queued:
        apiserver.apply(tx, request, ModelConfig())
    return tx.commit()


def comparable_sets(prev: ClusterState, nxt: ClusterState, d: Deployment) -> tuple[list[ReplicaSet], list[ReplicaSet]]:
    """The Deployment's ReplicaSets before and after a step, restricted to the same sets: those it
    controls on both sides, plus sets the step created (adopted and released sets are left out)."""
    uid = d.metadata.uid
    before = {rs.metadata.uid: rs for rs in prev.controlled_by(uid, "ReplicaSet")}
    after = {rs.metadata.uid: rs for rs in nxt.controlled_by(uid, "ReplicaSet")}
    keep = sorted((before.keys() & after.keys()) | {u for u in after if prev.by_uid(u) is None})
    return [before[u] for u in keep if u in before], [after[u] for u in keep]


def _rolling_step_without_scaling(prev: ClusterState, action: Any, nxt: ClusterState) -> tuple[Deployment, ClusterState] | None:
    """The RollingUpdate Deployment of a deployment-controller sync that is not a scaling event
    and does not change the Deployment's spec, with the state the sync decided on; None for any
    other step."""
    d = deployment_of_step(prev, action)
    if d is None or d.spec.strategy.type != "RollingUpdate":
        return None
    decided = decided_state(prev, action, nxt)
    after = decided.get("Deployment", d.metadata.namespace, d.metadata.name)
    if after is None or after.metadata.uid != d.metadata.uid or after.spec != d.spec:
        return None
    if du.is_scaling_event(d, prev.controlled_by(d.metadata.uid, "ReplicaSet")):
        return None
    return d, decided


def _names(rss: Iterable[ReplicaSet]) -> tuple[str, ...]:
    return tuple(str(rs.ref) for rs in rss)


@invariant(
    "deployment-surge-bound",
    Kind.TRANSITION,
    """A sync of the Deployment controller on a RollingUpdate Deployment that is not in a
    scaling event (no active ReplicaSet has a desired-replicas annotation different from
    spec.replicas) and that leaves the Deployment's spec alone never raises Σ spec.replicas
    of the Deployment's ReplicaSets above max(Σ before the sync, replicas + maxSurge), with
    maxSurge resolved against replicas and rounded up. The sums are over the same sets on
    both sides (those controlled before and after, plus sets the sync created), so adopting
    or releasing a set does not count as scaling. Proportional scaling on a scaling event is
    excluded: it distributes a new size and is checked by its own tests. The check is on the
    sync's decision (with asynchronous delivery, its requests applied to the state it read):
    a request delivered into a later state acts on a stale view, which the controller — it
    keeps no expectations — does not guard against.""",
    subjects=lambda s: _count_strategy(s, "RollingUpdate"),
    source="spec §6.3, §6.6, §6.12 (S: Σ spec.replicas ≤ replicas + maxSurge); rolling.go reconcileNewReplicaSet, "
    "deployment_util.go NewRSNewReplicas, ResolveFenceposts",
    tags=("deployment",),
)
def deployment_surge_bound(prev: ClusterState, action: Any, nxt: ClusterState) -> Iterable[Violation]:
    step = _rolling_step_without_scaling(prev, action, nxt)
    if step is None:
        return
    d, decided = step
    before, after = comparable_sets(prev, decided, d)
    total_before, total_after = du.replica_count(before), du.replica_count(after)
    bound = d.spec.replicas + du.max_surge(d)
    if total_after > max(total_before, bound):
        yield Violation(
            "deployment-surge-bound",
            f"{d.ref} (replicas {d.spec.replicas}, maxSurge {du.max_surge(d)}) raised Σ spec.replicas of its "
            f"ReplicaSets from {total_before} to {total_after}, above {bound}",
            (str(d.ref), *_names(after)),
        )


def entitled_availability(rss: Iterable[ReplicaSet]) -> int:
    """Σ min(spec.replicas, status.availableReplicas): the available replicas the sets keep."""
    return sum(min(rs.spec.replicas, rs.status.available_replicas) for rs in rss)


def reported_excess(rss: Iterable[ReplicaSet]) -> int:
    """Σ max(0, status.availableReplicas − spec.replicas): availability a set's status still reports
    beyond its spec (a scale-down its ReplicaSet controller has not acted on yet)."""
    return sum(max(0, rs.status.available_replicas - rs.spec.replicas) for rs in rss)


@invariant(
    "deployment-unavailability-bound",
    Kind.TRANSITION,
    """A sync of the Deployment controller never itself takes availability below
    replicas − maxUnavailable. Precisely: for a RollingUpdate Deployment outside a scaling
    event and with its spec unchanged by the sync, let A = Σ min(spec.replicas,
    status.availableReplicas) over its ReplicaSets (the same sets before and after, as for
    the surge bound), minAvailable = replicas − maxUnavailable (rounded down, 1 if both
    fence posts are 0, capped at replicas), and E = Σ max(0, availableReplicas −
    spec.replicas) before the sync. Then A after ≥ min(minAvailable, A before) − E. The
    controller only changes spec.replicas, so A can only fall by scale-downs; E is the slack
    upstream itself takes: it budgets with Σ status.availableReplicas, which still counts
    pods of a set whose scale-down its ReplicaSet controller has not carried out yet (with
    settled statuses E = 0 and the bound is exact). As for the surge bound, the sync's
    decision is checked, not a late delivery of its requests.""",
    subjects=lambda s: _count_strategy(s, "RollingUpdate"),
    source="spec §6.6, §6.12 (S: never itself reduces available replicas below replicas − maxUnavailable); rolling.go "
    "reconcileOldReplicaSets, cleanupUnhealthyReplicas, scaleDownOldReplicaSetsForRollingUpdate; deployment_util.go MaxUnavailable",
    tags=("deployment",),
)
def deployment_unavailability_bound(prev: ClusterState, action: Any, nxt: ClusterState) -> Iterable[Violation]:
    step = _rolling_step_without_scaling(prev, action, nxt)
    if step is None:
        return
    d, decided = step
    before, after = comparable_sets(prev, decided, d)
    a_before, a_after = entitled_availability(before), entitled_availability(after)
    minimum = du.min_available(d)
    excess = reported_excess(before)
    if a_after < min(minimum, a_before) - excess:
        yield Violation(
            "deployment-unavailability-bound",
            f"{d.ref} (replicas {d.spec.replicas}, minAvailable {minimum}) scaled its ReplicaSets down so that they keep "
            f"{a_after} available replicas (before: {a_before}, status excess {excess})",
            (str(d.ref), *_names(after)),
        )


@invariant(
    "recreate-no-overlap",
    Kind.TRANSITION,
    """For a Recreate Deployment, no step of the Deployment controller scales one of its
    ReplicaSets up (raises spec.replicas, or creates it with replicas > 0) while a pod of
    another of its ReplicaSets exists and is not terminal (Pending, Running or Unknown,
    terminating or not): the new pods start only after every old pod has stopped. It judges
    the controller's decision, not the pods that follow from it: a user who scales one of
    the Deployment's ReplicaSets, or creates a running set the Deployment then adopts, makes
    pods overlap without the controller causing it. Upstream itself breaks this in a corner
    case the check reports: pausing a Recreate Deployment while its old pods terminate makes
    the paused sync (sync.go scale, FindActiveOrLatest) scale an existing new set — e.g. an
    earlier revision rolled back to — straight to spec.replicas.""",
    subjects=lambda s: _count_strategy(s, "Recreate"),
    source="spec §6.7, §6.12 (S: the new RS is never scaled above 0 while an old pod is non-terminal); recreate.go rolloutRecreate, oldPodsRunning",
    tags=("deployment",),
)
def recreate_no_overlap(prev: ClusterState, action: Any, nxt: ClusterState) -> Iterable[Violation]:
    if getattr(action, "actor", None) != "deployment" and getattr(action, "issuer", None) != "deployment":
        return
    raised = [(0, new) for new in created(prev, nxt, "ReplicaSet")] + [(old.spec.replicas, new) for old, new in changed(prev, nxt, "ReplicaSet")]
    for before, rs in raised:
        if rs.spec.replicas <= before:
            continue
        dref = rs.metadata.controller_ref()
        d = nxt.by_uid(dref.uid) if dref is not None and dref.kind == "Deployment" else None
        if d is None or d.spec.strategy.type != "Recreate":
            continue
        running = [
            p
            for sibling in prev.controlled_by(d.metadata.uid, "ReplicaSet")
            if sibling.metadata.uid != rs.metadata.uid
            for p in prev.controlled_by(sibling.metadata.uid, "Pod")
            if not p.terminal
        ]
        if running:
            yield Violation(
                "recreate-no-overlap",
                f"{rs.ref} was scaled from {before} to {rs.spec.replicas} while {len(running)} pod(s) of other ReplicaSets of Recreate "
                f"{d.ref} were not terminal: {', '.join(p.metadata.name for p in running)}",
                (str(d.ref), str(rs.ref), *(str(p.ref) for p in running)),
            )
