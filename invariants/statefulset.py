"""StatefulSet invariants (spec §7.8, INV-STS-1..4) and the PV/PVC binding invariant (§13).

The transition invariants judge the decisions of one StatefulSet sync: the state the
sync decided on is the next state when its requests were applied at once, or, with
asynchronous delivery, the previous state with the requests it queued applied (a
request delivered later lands in a state the controller did not see; deliveries are not
judged). The set is read as it was before the step, which is what the sync read.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from invariants.registry import Kind, Violation, invariant
from invariants.util import created, started_deletion
from kmodel import apiserver
from kmodel.actions import Reconcile
from kmodel.config import ModelConfig
from kmodel.controllers.statefulset import (
    claim_name,
    end_ordinal,
    in_ordinal_range,
    is_running_and_available,
    is_running_and_ready,
    parent_and_ordinal,
    pod_name,
    start_ordinal,
)
from kmodel.objects.apps import StatefulSet
from kmodel.objects.pod import Pod
from kmodel.state import ClusterState

CONTROLLER = "statefulset"
RETAIN = "Retain"


def _count_sets(state: ClusterState) -> int:
    return state.count("StatefulSet")


def set_of_step(prev: ClusterState, action: Any) -> StatefulSet | None:
    """The StatefulSet a statefulset-controller sync acts on (as before the step), or None."""
    if not (isinstance(action, Reconcile) and action.controller == CONTROLLER):
        return None
    sts: StatefulSet | None = prev.get("StatefulSet", action.namespace, action.name)
    return sts


def decided_state(prev: ClusterState, nxt: ClusterState) -> ClusterState:
    """`nxt`, or with asynchronous delivery `prev` with the requests the sync queued applied."""
    queued = [f.request for f in nxt.inflight[len(prev.inflight) :] if f.actor == CONTROLLER]
    if not queued:
        return nxt
    tx = prev.edit()
    for request in queued:
        apiserver.apply(tx, request, ModelConfig())
    return tx.commit()


def member_ordinal(sts: StatefulSet, pod: Pod) -> int | None:
    """The pod's ordinal if its name is `<set>-<ordinal>` and it is in the set's namespace."""
    parent, ordinal = parent_and_ordinal(pod.metadata.name)
    if parent != sts.metadata.name or ordinal < 0 or pod.metadata.namespace != sts.metadata.namespace:
        return None
    return ordinal


def members(state: ClusterState, sts: StatefulSet) -> dict[int, list[Pod]]:
    """The set's pods by ordinal: those it controls, and orphans its sync would adopt
    (matching the selector, not being deleted)."""
    out: dict[int, list[Pod]] = {}
    for p in state.pods(sts.metadata.namespace):
        o = member_ordinal(sts, p)
        if o is None:
            continue
        ref = p.metadata.controller_ref()
        mine = (
            ref.uid == sts.metadata.uid
            if ref is not None
            else (sts.spec.selector.matches(p.metadata.labels) and p.metadata.deletion_timestamp is None and sts.metadata.deletion_timestamp is None)
        )
        if mine:
            out.setdefault(o, []).append(p)
    return out


def _sync_changes(prev: ClusterState, action: Any, nxt: ClusterState) -> tuple[StatefulSet, ClusterState, list[Pod]] | None:
    """The set of a statefulset sync, the decided state, and the set's pods it created."""
    sts = set_of_step(prev, action)
    if sts is None:
        return None
    decided = decided_state(prev, nxt)
    made = [p for p in created(prev, decided, "Pod") if _controlled_by(p, sts)]
    return sts, decided, made


def _controlled_by(obj: Any, sts: StatefulSet) -> bool:
    ref = obj.metadata.controller_ref()
    return ref is not None and ref.uid == sts.metadata.uid


def _healthy_available(p: Pod, sts: StatefulSet, now: int) -> bool:
    return is_running_and_ready(p) and p.metadata.deletion_timestamp is None and is_running_and_available(p, sts.spec.min_ready_seconds, now)


@invariant(
    "statefulset-ordinality",
    Kind.TRANSITION,
    """A StatefulSet sync only creates pods named `<set>-<o>` with the ordinal o in
    [spec.ordinals.start, start + spec.replicas) of the set as the sync read it; no pod is
    created for an ordinal outside the range and no pod of the set has another name.""",
    subjects=_count_sets,
    source="spec §7.2, §7.8; stateful_set_utils.go getPodName, podInOrdinalRange; stateful_set_control.go updateStatefulSet",
    tags=("statefulset",),
)
def statefulset_ordinality(prev: ClusterState, action: Any, nxt: ClusterState) -> Iterable[Violation]:
    found = _sync_changes(prev, action, nxt)
    if found is None:
        return
    sts, _, made = found
    for p in made:
        o = member_ordinal(sts, p)
        if o is None or p.metadata.name != pod_name(sts, o):
            yield Violation("statefulset-ordinality", f"{sts.ref} created {p.ref}, whose name is not <set>-<ordinal>", (str(sts.ref), str(p.ref)))
        elif not in_ordinal_range(o, sts):
            yield Violation(
                "statefulset-ordinality",
                f"{sts.ref} created {p.ref} with ordinal {o} outside [{start_ordinal(sts)}, {end_ordinal(sts) + 1})",
                (str(sts.ref), str(p.ref)),
            )


@invariant(
    "statefulset-one-pod-per-identity",
    Kind.TRANSITION,
    """A StatefulSet sync creates a pod for ordinal o only when no other pod object of the
    set holds that ordinal, and a pod object that had the same name before the sync is
    replaced in the same sync only if it was terminal (Succeeded or Failed: its containers
    had stopped; v1.28 deletes a failed pod and creates its replacement in one pass). A
    pod that was running or terminating is replaced only after its object is gone from the
    API, e.g. by a force deletion.""",
    subjects=_count_sets,
    source="spec §7.7, §7.8, INV-STS-1; stateful_set_control.go processReplica; force-delete-stateful-set-pod docs",
    tags=("statefulset",),
)
def statefulset_one_pod_per_identity(prev: ClusterState, action: Any, nxt: ClusterState) -> Iterable[Violation]:
    found = _sync_changes(prev, action, nxt)
    if found is None:
        return
    sts, decided, made = found
    by_ordinal = members(decided, sts)
    for p in made:
        o = member_ordinal(sts, p)
        if o is None:
            continue
        others = [q for q in by_ordinal.get(o, []) if q.metadata.uid != p.metadata.uid]
        if others:
            yield Violation(
                "statefulset-one-pod-per-identity",
                f"{sts.ref} created {p.ref} for ordinal {o} while {', '.join(str(q.ref) for q in others)} also holds it",
                (str(sts.ref), str(p.ref), *(str(q.ref) for q in others)),
            )
        old = prev.get("Pod", p.metadata.namespace, p.metadata.name)
        if old is not None and old.metadata.uid != p.metadata.uid and not old.terminal:
            state = "terminating" if old.metadata.deletion_timestamp is not None else old.status.phase
            yield Violation(
                "statefulset-one-pod-per-identity",
                f"{sts.ref} replaced {p.ref} in one sync while the previous pod (uid {old.metadata.uid}, {state}) still existed",
                (str(sts.ref), str(p.ref)),
            )


@invariant(
    "statefulset-ordered-ready",
    Kind.TRANSITION,
    """With podManagementPolicy OrderedReady, a sync creates the pod of ordinal o only if
    every ordinal from start to o−1 has a pod that is Running, Ready, available for
    minReadySeconds and not terminating; and it deletes a pod outside the range (scale-down)
    only one at a time, only the highest-ordinal pod of the set, and only while every
    ordinal in range has such a healthy pod.""",
    subjects=lambda s: sum(1 for x in s.list("StatefulSet") if x.spec.pod_management_policy == "OrderedReady"),
    source="spec §7.6, §7.8, INV-STS-2; stateful_set_control.go processReplica, processCondemned, runForAll",
    tags=("statefulset",),
)
def statefulset_ordered_ready(prev: ClusterState, action: Any, nxt: ClusterState) -> Iterable[Violation]:
    found = _sync_changes(prev, action, nxt)
    if found is None:
        return
    sts, decided, made = found
    if sts.spec.pod_management_policy != "OrderedReady":
        return
    before = members(prev, sts)
    start = start_ordinal(sts)

    def unhealthy_below(limit: int) -> list[int]:
        return [o for o in range(start, limit) if not any(_healthy_available(p, sts, prev.clock) for p in before.get(o, []))]

    for p in made:
        o = member_ordinal(sts, p)
        if o is None:
            continue
        missing = unhealthy_below(o)
        if missing:
            yield Violation(
                "statefulset-ordered-ready",
                f"{sts.ref} created {p.ref} while ordinal(s) {missing} had no Running, Ready and available pod",
                (str(sts.ref), str(p.ref)),
            )
    condemned = [
        p
        for p in started_deletion(prev, decided, "Pod")
        if _controlled_by(p, sts) and (o := member_ordinal(sts, p)) is not None and not in_ordinal_range(o, sts)
    ]
    if not condemned:
        return
    names = tuple(str(p.ref) for p in condemned)
    if len(condemned) > 1:
        yield Violation(
            "statefulset-ordered-ready", f"{sts.ref} deleted {len(condemned)} pods in one scale-down step: {', '.join(names)}", (str(sts.ref), *names)
        )
    highest = max(before) if before else None
    for p in condemned:
        if member_ordinal(sts, p) != highest:
            yield Violation(
                "statefulset-ordered-ready",
                f"{sts.ref} deleted {p.ref} while {pod_name(sts, highest or 0)} (a higher ordinal) existed",
                (str(sts.ref), str(p.ref)),
            )
    missing = unhealthy_below(start + sts.spec.replicas)
    if missing:
        yield Violation(
            "statefulset-ordered-ready", f"{sts.ref} scaled down ({', '.join(names)}) while ordinal(s) {missing} were not healthy", (str(sts.ref), *names)
        )


@invariant(
    "statefulset-partition",
    Kind.TRANSITION,
    """A StatefulSet sync never deletes a live (not Succeeded or Failed) pod in range for an
    update when the strategy is OnDelete, and with RollingUpdate never one whose index
    (ordinal − start) is below spec.updateStrategy.rollingUpdate.partition.""",
    subjects=_count_sets,
    source="spec §7.5, §7.6 steps 9–11, §7.8, INV-STS-3; stateful_set_control.go updateStatefulSet",
    tags=("statefulset",),
)
def statefulset_partition(prev: ClusterState, action: Any, nxt: ClusterState) -> Iterable[Violation]:
    found = _sync_changes(prev, action, nxt)
    if found is None:
        return
    sts, decided, _ = found
    strategy = sts.spec.update_strategy
    partition = strategy.rolling_update.partition if strategy.rolling_update is not None else 0
    for p in started_deletion(prev, decided, "Pod"):
        o = member_ordinal(sts, p)
        if not _controlled_by(p, sts) or o is None or not in_ordinal_range(o, sts) or p.terminal:
            continue
        index = o - start_ordinal(sts)
        if strategy.type == "OnDelete":
            yield Violation("statefulset-partition", f"{sts.ref} (OnDelete) deleted the live pod {p.ref}", (str(sts.ref), str(p.ref)))
        elif index < partition:
            yield Violation("statefulset-partition", f"{sts.ref} deleted {p.ref} (index {index}) below partition {partition}", (str(sts.ref), str(p.ref)))


@invariant(
    "statefulset-claim-identity",
    Kind.TRANSITION,
    """Every pod a StatefulSet sync creates for ordinal o mounts, for each volumeClaimTemplate
    t, the claim `<t>-<set>-<o>` through a volume named t (so the same claim follows the
    identity across re-creations); the sync never deletes a PersistentVolumeClaim; and it
    creates no pod while one of that pod's claims is being deleted.""",
    subjects=lambda s: sum(1 for x in s.list("StatefulSet") if x.spec.volume_claim_templates),
    source="spec §7.3, §7.8, INV-STS-4; stateful_set_utils.go storageMatches, stateful_pod_control.go createPersistentVolumeClaims",
    tags=("statefulset",),
)
def statefulset_claim_identity(prev: ClusterState, action: Any, nxt: ClusterState) -> Iterable[Violation]:
    found = _sync_changes(prev, action, nxt)
    if found is None:
        return
    sts, decided, made = found
    ns = sts.metadata.namespace
    for p in made:
        o = member_ordinal(sts, p)
        if o is None:
            continue
        volumes = {v.name: v.persistent_volume_claim.claim_name for v in p.spec.volumes if v.persistent_volume_claim is not None}
        for t in sts.spec.volume_claim_templates:
            want = claim_name(t.metadata.name, sts.metadata.name, o)
            if volumes.get(t.metadata.name) != want:
                yield Violation(
                    "statefulset-claim-identity",
                    f"{sts.ref} created {p.ref} without volume {t.metadata.name!r} on claim {want} (has {volumes.get(t.metadata.name)!r})",
                    (str(sts.ref), str(p.ref)),
                )
            c = prev.get("PersistentVolumeClaim", ns, want)
            if c is not None and c.metadata.deletion_timestamp is not None:
                yield Violation(
                    "statefulset-claim-identity", f"{sts.ref} created {p.ref} while its claim {c.ref} was being deleted", (str(sts.ref), str(p.ref), str(c.ref))
                )
    for c in started_deletion(prev, decided, "PersistentVolumeClaim"):
        yield Violation("statefulset-claim-identity", f"{sts.ref} sync deleted {c.ref}", (str(sts.ref), str(c.ref)))


def _settled(state: ClusterState, sts: StatefulSet) -> bool:
    """Every ordinal in range has a healthy pod and no pod of the set is outside the range."""
    by_ordinal = members(state, sts)
    if any(not in_ordinal_range(o, sts) for o in by_ordinal):
        return False
    return all(
        any(is_running_and_ready(p) and p.metadata.deletion_timestamp is None for p in by_ordinal.get(o, []))
        for o in range(start_ordinal(sts), end_ordinal(sts) + 1)
    )


@invariant(
    "statefulset-pvc-retention",
    Kind.QUIESCENT,
    """When nothing is left to do, for every StatefulSet not being deleted whose ordinals in
    range all have a Running and Ready pod and which has no pod outside the range: each
    claim `<t>-<set>-<o>` of an ordinal in range exists, carries an ownerReference to the
    set exactly when whenDeleted is Delete, and none to its pod (spec §7.4 table); and no
    claim of the set's templates for an ordinal outside the range still carries an
    ownerReference to a pod `<set>-<o>` — with whenScaled=Delete the condemned pod's claim
    was owned by it and has been garbage-collected with it.""",
    subjects=lambda s: sum(1 for x in s.list("StatefulSet") if x.spec.volume_claim_templates),
    source="spec §7.4 (TestClaimOwnerMatchesSetAndPod); stateful_set_utils.go claimOwnerMatchesSetAndPod; garbage collector",
    tags=("statefulset",),
)
def statefulset_pvc_retention(state: ClusterState) -> Iterable[Violation]:
    for sts in state.list("StatefulSet"):
        if sts.metadata.deletion_timestamp is not None or not sts.spec.volume_claim_templates or not _settled(state, sts):
            continue
        policy = sts.spec.persistent_volume_claim_retention_policy
        want_set = policy is not None and policy.when_deleted == "Delete"
        ns, set_name = sts.metadata.namespace, sts.metadata.name
        in_range = {claim_name(t.metadata.name, set_name, o) for t in sts.spec.volume_claim_templates for o in range(start_ordinal(sts), end_ordinal(sts) + 1)}
        for o in range(start_ordinal(sts), end_ordinal(sts) + 1):
            for t in sts.spec.volume_claim_templates:
                name = claim_name(t.metadata.name, set_name, o)
                c = state.get("PersistentVolumeClaim", ns, name)
                if c is None:
                    yield Violation("statefulset-pvc-retention", f"{sts.ref} ordinal {o} runs without its claim {name}", (str(sts.ref),))
                    continue
                has_set = any(r.uid == sts.metadata.uid for r in c.metadata.owner_references)
                if has_set != want_set:
                    yield Violation(
                        "statefulset-pvc-retention",
                        f"{c.ref} {'has' if has_set else 'lacks'} an ownerReference to {sts.ref} with whenDeleted={policy.when_deleted if policy else RETAIN}",
                        (str(c.ref), str(sts.ref)),
                    )
                pod_refs = [r for r in c.metadata.owner_references if r.kind == "Pod" and r.name == pod_name(sts, o)]
                if pod_refs:
                    yield Violation("statefulset-pvc-retention", f"{c.ref} of an ordinal in range is owned by its pod", (str(c.ref), str(sts.ref)))
        prefixes = tuple(f"{t.metadata.name}-{set_name}-" for t in sts.spec.volume_claim_templates)
        for c in state.list("PersistentVolumeClaim", ns):
            name = c.metadata.name
            if name in in_range or not name.startswith(prefixes):
                continue
            for r in c.metadata.owner_references:
                parent, o = parent_and_ordinal(r.name)
                if r.kind == "Pod" and parent == set_name and o >= 0 and not in_ordinal_range(o, sts):
                    yield Violation(
                        "statefulset-pvc-retention",
                        f"{c.ref} is still owned by the condemned pod {r.name} (uid {r.uid}), which is gone",
                        (str(c.ref), str(sts.ref)),
                    )


@invariant(
    "pv-bound-to-one-claim",
    Kind.ALWAYS,
    """Binding is one-to-one and consistent: no two PersistentVolumes have a claimRef to the
    same claim uid, no two Bound claims name the same volume, and every claim in phase
    Bound names an existing volume whose claimRef points back at it (namespace, name and
    uid).""",
    subjects=lambda s: s.count("PersistentVolume"),
    source="spec §13; pv_controller.go bind, syncBoundClaim; pv_helpers.go IsVolumeBoundToClaim",
    tags=("storage",),
)
def pv_bound_to_one_claim(state: ClusterState) -> Iterable[Violation]:
    by_uid: dict[str, list[str]] = {}
    for pv in state.list("PersistentVolume"):
        ref = pv.spec.claim_ref
        if ref is not None and ref.uid:
            by_uid.setdefault(ref.uid, []).append(pv.metadata.name)
    for uid, names in sorted(by_uid.items()):
        if len(names) > 1:
            yield Violation(
                "pv-bound-to-one-claim", f"volumes {', '.join(names)} are all bound to claim uid {uid}", tuple(f"PersistentVolume {n}" for n in names)
            )
    by_volume: dict[str, list[str]] = {}
    for c in state.list("PersistentVolumeClaim"):
        if c.status.phase != "Bound":
            continue
        by_volume.setdefault(c.spec.volume_name, []).append(str(c.ref))
        pv = state.get("PersistentVolume", "", c.spec.volume_name) if c.spec.volume_name else None
        ref = pv.spec.claim_ref if pv is not None else None
        if pv is None:
            yield Violation("pv-bound-to-one-claim", f"{c.ref} is Bound to the missing volume {c.spec.volume_name!r}", (str(c.ref),))
        elif ref is None or (ref.namespace, ref.name, ref.uid) != (c.metadata.namespace, c.metadata.name, c.metadata.uid):
            yield Violation("pv-bound-to-one-claim", f"{c.ref} is Bound to {pv.ref}, whose claimRef is {ref}", (str(c.ref), str(pv.ref)))
    for volume, claims in sorted(by_volume.items()):
        if volume and len(claims) > 1:
            yield Violation("pv-bound-to-one-claim", f"claims {', '.join(claims)} are all Bound to volume {volume}", tuple(claims))
