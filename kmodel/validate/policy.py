"""How each invariant is judged on an observed trace.

An invariant is a function of whole states; on a trace the validator evaluates it only
on the steps that can change its verdict and only on the part of the cluster it reads
(its `Scope`, see `kmodel.validate.view`). For each invariant this module says:

* `kinds` / `gate`: which changes it can react to (other steps cannot change an ALWAYS
  verdict, and cannot be judged by a TRANSITION invariant that only looks at such
  changes);
* `actors`: the actors whose steps a TRANSITION invariant judges (`actor_of(action)`,
  `isinstance(action, Reconcile)` and the controller name, ...). A step of that shape
  whose author is unknown is counted as *not judged*, never guessed;
* `scope`: the objects it reads around the step;
* `needs`: a reason it cannot be judged on this step from the observations (the node a
  pod is on was never observed, ...);
* `lag`: whether a violation is re-judged against the states shortly before the step
  — a controller acting on a lagging informer cache decides on an earlier state, which
  is the model's asynchronous delivery; only the steps no recent state justifies are
  reported;
* `skip`: a documented reason never to judge it on traces;
* `reads_action`: False for checks that never look at the action (the step's author
  need not be worked out for them).

An invariant this module does not know (added after it) is judged on every step, on the
whole cluster: correct, only slower.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from invariants.registry import Invariant
from kmodel.validate.view import DEPENDENTS, FAMILY, FULL, NODE, OWNERS, PLACEMENT, UID, Change, Scope, View, scope

Gate = Callable[[list[Change]], bool]
Needs = Callable[[View, list[Change]], str | None]
FinalNeeds = Callable[[View], str | None]


@dataclass(frozen=True)
class TracePolicy:
    """How one invariant is judged on traces (see the module docstring)."""

    kinds: frozenset[str] | None = None
    gate: Gate | None = None
    actors: frozenset[str] | None = None
    scope: Scope = field(default_factory=lambda: scope(FULL))
    needs: Needs | None = None
    final_needs: FinalNeeds | None = None
    lag: bool = False
    skip: str = ""
    known: bool = True
    # whether the check reads the step's action (False: attribution is not needed for it)
    reads_action: bool = True


# ---- gates -------------------------------------------------------------------------------


def _any_created(kinds: frozenset[str]) -> Gate:
    return lambda cs: any(c.created and c.key[0] in kinds for c in cs)


def _any_deletion(kinds: frozenset[str] | None) -> Gate:
    return lambda cs: any((c.started_deletion or c.removed) and (kinds is None or c.key[0] in kinds) for c in cs)


def _owned_deletion(cs: list[Change]) -> bool:
    """An object with ownerReferences starts being deleted or is removed: only such an
    object can be deleted by the garbage collector while an owner is alive."""
    return any((c.started_deletion or c.removed) and c.old is not None and c.old.metadata.owner_references for c in cs)


def _created_or_deleted(kinds: frozenset[str]) -> Gate:
    return lambda cs: any((c.created or c.started_deletion) and c.key[0] in kinds for c in cs)


def _new_uid(cs: list[Change]) -> bool:
    return any(c.created for c in cs)


def _owners_changed(cs: list[Change]) -> bool:
    return any(c.new is not None and (c.old is None or c.old.metadata.owner_references != c.new.metadata.owner_references) for c in cs)


def _binding(cs: list[Change]) -> bool:
    return any(c.key[0] == "Pod" and c.old is not None and c.new is not None and not c.old.spec.node_name and c.new.spec.node_name for c in cs)


def _placed(p: Any) -> bool:
    from invariants.placement import placed

    return p is not None and placed(p)


def _phase_changed(cs: list[Change]) -> bool:
    """A pod's phase changed (pod-phase-monotonic can only object to such a step)."""
    return any(c.key[0] == "Pod" and c.old is not None and c.new is not None and c.old.status.phase != c.new.status.phase for c in cs)


def _bound_node_changed(cs: list[Change]) -> bool:
    """A bound pod's nodeName changed (pod-node-immutable can only object to such a step)."""
    return any(
        c.key[0] == "Pod" and c.old is not None and c.new is not None and c.old.spec.node_name and c.new.spec.node_name != c.old.spec.node_name for c in cs
    )


def _capacity_may_shrink(cs: list[Change]) -> bool:
    """A pod starts counting on a node (or its requests grow), or a node's allocatable
    changes: only then can a node become over-committed."""
    for c in cs:
        if c.key[0] == "Pod" and c.new is not None:
            was = _placed(c.old) and c.old.spec.node_name == c.new.spec.node_name
            if _placed(c.new) and (not was or c.old.spec != c.new.spec):
                return True
        elif c.key[0] == "Node" and c.new is not None and (c.old is None or c.old.status.allocatable != c.new.status.allocatable):
            return True
    return False


def _orphan_finalizer_gone(cs: list[Change]) -> bool:
    from kmodel.objects.meta import FINALIZER_ORPHAN

    for c in cs:
        if c.old is None or FINALIZER_ORPHAN not in c.old.metadata.finalizers:
            continue
        if c.new is None or FINALIZER_ORPHAN not in c.new.metadata.finalizers:
            return True
    return False


# ---- needs -------------------------------------------------------------------------------


def _pod_nodes(cs: list[Change]) -> set[str]:
    out = set()
    for c in cs:
        for o in (c.old, c.new):
            if o is not None and o.kind == "Pod" and o.spec.node_name:
                out.add(o.spec.node_name)
    return out


def _daemon_target_nodes(cs: list[Change]) -> set[str]:
    from kmodel.controllers.daemonset import target_node

    out = set()
    for c in cs:
        for o in (c.old, c.new):
            if o is not None and o.kind == "Pod":
                n = target_node(o)
                if n:
                    out.add(n)
    return out


def _nodes_observed(nodes_of: Callable[[list[Change]], set[str]]) -> Needs:
    def needs(view: View, cs: list[Change]) -> str | None:
        if "Node" not in view.kinds_seen:
            return "no Node objects in the trace"
        missing = sorted(n for n in nodes_of(cs) if view.get(("Node", "", n)) is None)
        return f"node {', '.join(missing)} not observed" if missing else None

    return needs


def _taints_not_swapped(view: View, cs: list[Change]) -> str | None:
    """taint-eviction-timing counts from the earliest timeAdded of the node's current
    NoExecute taints; upstream keeps the eviction it scheduled when the taint first
    appeared (taint_manager.go processPodOnNode keeps an earlier scheduledEviction), so
    after a swap (not-ready ↔ unreachable) the current timeAdded is too late a start."""
    base = _nodes_observed(_pod_nodes)(view, cs)
    if base:
        return base
    for n in _pod_nodes(cs):
        node = view.get(("Node", "", n))
        since = view.noexecute_since.get(n)
        times = [t.time_added for t in node.spec.taints if t.effect == "NoExecute" and t.time_added is not None] if node is not None else []
        if since is not None and times and min(times) > since:
            return "the node's NoExecute taints were replaced since it was first tainted (upstream keeps the first eviction schedule)"
    return None


def _kinds_seen(*kinds: str) -> FinalNeeds:
    def needs(view: View) -> str | None:
        missing = [k for k in kinds if k not in view.kinds_seen]
        return f"no {', '.join(missing)} objects in the trace" if missing else None

    return needs


def _owner_kinds_seen(view: View) -> str | None:
    """gc-completeness reads owners: every kind an ownerReference names must be watched."""
    missing = sorted({r.kind for o in view.all_objects() for r in o.metadata.owner_references} - view.kinds_seen)
    return f"owners of kind {', '.join(missing)} are not in the trace (they would look deleted)" if missing else None


_NODES_SEEN: FinalNeeds = _kinds_seen("Node")

# ---- the table ---------------------------------------------------------------------------

_POD = frozenset({"Pod"})

POLICIES: dict[str, TracePolicy] = {
    # identity
    "unique-names-and-uids": TracePolicy(reads_action=False, kinds=None, gate=_new_uid, scope=scope(UID)),
    "uid-immutable": TracePolicy(reads_action=False, kinds=None, gate=_new_uid, scope=scope(UID)),
    "single-controller-owner": TracePolicy(reads_action=False, kinds=None, gate=_owners_changed, scope=scope()),
    # pods and placement
    "pod-phase-monotonic": TracePolicy(reads_action=False, kinds=_POD, gate=_phase_changed, scope=scope()),
    "pod-node-immutable": TracePolicy(reads_action=False, kinds=_POD, gate=_bound_node_changed, scope=scope()),
    "node-capacity": TracePolicy(
        reads_action=False, kinds=frozenset({"Pod", "Node"}), gate=_capacity_may_shrink, scope=scope(NODE), needs=_nodes_observed(_pod_nodes)
    ),
    "placement-filters": TracePolicy(
        kinds=_POD, gate=_binding, actors=frozenset({"scheduler"}), scope=scope(PLACEMENT), needs=_nodes_observed(_pod_nodes), lag=True
    ),
    "scheduler-binds-feasible": TracePolicy(
        kinds=_POD, gate=_binding, actors=frozenset({"scheduler"}), scope=scope(PLACEMENT), needs=_nodes_observed(_pod_nodes), lag=True
    ),
    "taint-eviction-timing": TracePolicy(
        kinds=_POD, gate=_any_deletion(_POD), actors=frozenset({"taint-eviction"}), scope=scope(NODE, OWNERS), needs=_taints_not_swapped
    ),
    # deployment
    "deployment-surge-bound": TracePolicy(
        kinds=frozenset({"ReplicaSet", "Deployment"}),
        actors=frozenset({"deployment"}),
        scope=scope(FAMILY, family_kinds=("Deployment", "ReplicaSet")),
        lag=True,
    ),
    "deployment-unavailability-bound": TracePolicy(
        kinds=frozenset({"ReplicaSet", "Deployment"}),
        actors=frozenset({"deployment"}),
        scope=scope(FAMILY, family_kinds=("Deployment", "ReplicaSet")),
        lag=True,
    ),
    "recreate-no-overlap": TracePolicy(reads_action=False, kinds=_POD, gate=_any_created(_POD), scope=scope(FAMILY)),
    # daemonset
    "daemonset-no-ineligible-node": TracePolicy(
        kinds=_POD,
        gate=_any_created(_POD),
        actors=frozenset({"daemonset"}),
        scope=scope(FAMILY, kinds=("Node",)),
        needs=_nodes_observed(_daemon_target_nodes),
        lag=True,
    ),
    "daemonset-surge-bound": TracePolicy(
        kinds=_POD,
        gate=_created_or_deleted(_POD),
        actors=frozenset({"daemonset"}),
        scope=scope(FAMILY, kinds=("Node",)),
        needs=_nodes_observed(_daemon_target_nodes),
        lag=True,
    ),
    "daemonset-rolling-unavailability": TracePolicy(
        kinds=_POD,
        gate=_any_deletion(_POD),
        actors=frozenset({"daemonset"}),
        scope=scope(FAMILY, kinds=("Node",)),
        needs=_nodes_observed(_daemon_target_nodes),
        lag=True,
    ),
    "daemonset-not-taint-evicted": TracePolicy(
        kinds=_POD,
        gate=_any_deletion(_POD),
        actors=frozenset({"taint-eviction"}),
        scope=scope(NODE, OWNERS, FAMILY),
        needs=_nodes_observed(_pod_nodes),
    ),
    # statefulset
    **{
        name: TracePolicy(
            kinds=frozenset({"Pod", "PersistentVolumeClaim"}),
            gate=_created_or_deleted(frozenset({"Pod", "PersistentVolumeClaim"})),
            actors=frozenset({"statefulset"}),
            scope=scope(FAMILY, namespace_kinds=("Pod", "PersistentVolumeClaim")),
            lag=True,
        )
        for name in (
            "statefulset-ordinality",
            "statefulset-one-pod-per-identity",
            "statefulset-ordered-ready",
            "statefulset-partition",
            "statefulset-claim-identity",
        )
    },
    "pv-bound-to-one-claim": TracePolicy(
        reads_action=False, kinds=frozenset({"PersistentVolume", "PersistentVolumeClaim"}), scope=scope(kinds=("PersistentVolume", "PersistentVolumeClaim"))
    ),
    # garbage collector
    "gc-no-live-owner-deletion": TracePolicy(kinds=None, gate=_owned_deletion, actors=frozenset({"garbagecollector"}), scope=scope(OWNERS)),
    "gc-orphan-before-removal": TracePolicy(kinds=None, gate=_orphan_finalizer_gone, actors=frozenset({"garbagecollector"}), scope=scope(DEPENDENTS)),
    # cronjob, ttl
    "cronjob-one-job-per-schedule": TracePolicy(reads_action=False, kinds=frozenset({"Job", "CronJob"}), scope=scope(FAMILY, family_kinds=("CronJob", "Job"))),
    "cronjob-forbid-no-overlap": TracePolicy(
        reads_action=False, kinds=frozenset({"Job"}), gate=_any_created(frozenset({"Job"})), scope=scope(FAMILY, family_kinds=("CronJob", "Job")), lag=True
    ),
    "cronjob-replace-removes-first": TracePolicy(
        reads_action=False, kinds=frozenset({"Job"}), gate=_any_created(frozenset({"Job"})), scope=scope(FAMILY, family_kinds=("CronJob", "Job")), lag=True
    ),
    "cronjob-no-late-start": TracePolicy(kinds=frozenset({"Job", "CronJob"}), scope=scope(FAMILY, family_kinds=("CronJob", "Job")), lag=True),
    "ttl-never-early": TracePolicy(kinds=frozenset({"Job"}), gate=_any_deletion(frozenset({"Job"})), actors=frozenset({"ttlafterfinished"}), scope=scope()),
    # job
    **{
        name: TracePolicy(
            kinds=frozenset({"Pod"}),
            gate=_any_created(_POD),
            actors=frozenset({"job"}),
            scope=scope(FAMILY, family_kinds=("Job", "Pod")),
            lag=True,
        )
        for name in ("job-active-bound", "job-no-pods-during-backoff-or-suspension")
    },
    "job-terminal-exclusive": TracePolicy(
        reads_action=False,
        kinds=frozenset({"Job", "Pod"}),
        gate=lambda cs: any(c.key[0] == "Job" or c.created for c in cs),
        scope=scope(FAMILY, family_kinds=("Job", "Pod")),
    ),
    "job-pods-counted-once": TracePolicy(reads_action=False, kinds=frozenset({"Job"}), scope=scope(FAMILY, family_kinds=("Job", "Pod"))),
    "job-terminal-after-tracking": TracePolicy(reads_action=False, kinds=frozenset({"Job"}), scope=scope(FAMILY, family_kinds=("Job", "Pod"))),
    # quiescent
    "daemonset-one-per-node": TracePolicy(final_needs=_NODES_SEEN),
    "scheduler-completeness": TracePolicy(final_needs=_NODES_SEEN),
    "gc-completeness": TracePolicy(final_needs=_owner_kinds_seen),
    "replicaset-replicas": TracePolicy(final_needs=_kinds_seen("Pod")),
    "statefulset-pvc-retention": TracePolicy(final_needs=_kinds_seen("Pod", "PersistentVolumeClaim")),
    "cronjob-history-limits": TracePolicy(final_needs=_kinds_seen("Job")),
    "ttl-eventually-deleted": TracePolicy(final_needs=_kinds_seen("Job")),
}


def policy_for(inv: Invariant) -> TracePolicy:
    """The trace policy of `inv` (judged everywhere on the whole cluster if unknown)."""
    p = POLICIES.get(inv.name)
    if p is not None:
        return p
    return TracePolicy(known=False)


def relevant(p: TracePolicy, changes: list[Change], kinds: set[str]) -> bool:
    """Whether a step with `changes` (of `kinds`) can matter to an invariant with policy `p`."""
    if p.kinds is not None and not (kinds & p.kinds):
        return False
    return p.gate is None or p.gate(changes)
