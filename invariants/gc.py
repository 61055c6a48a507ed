"""Garbage-collector invariants (spec §11.5, INV-GC-1..3, LIV-GC).

The owner classification here is written independently of the collector
(kmodel.controllers.garbagecollector): it finds an owner by uid and then checks kind,
name and namespace, where the collector fetches by kind and name and compares uids.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import Any

from invariants.registry import Kind, Violation, invariant
from kmodel.objects.kinds import KINDS
from kmodel.objects.meta import FINALIZER_FOREGROUND, FINALIZER_ORPHAN, OwnerReference
from kmodel.state import ClusterState

MODEL_UID_PREFIX = "00000000-0000-4000-8000-"  # kmodel.apiserver.new_uid

GC = "garbagecollector"
# graph_builder.go ignoredResources: the collector never watches Events.
IGNORED = frozenset({"Event"})
SOLID, WAITING, DANGLING, UNRESOLVABLE = "solid", "waiting", "dangling", "unresolvable"


def ref_state(state: ClusterState, dependent: Any, ref: OwnerReference) -> str:
    """What `ref` of `dependent` points at in `state`.

    * unresolvable: the REST mapper does not know apiVersion/kind, or a cluster-scoped
      dependent names a namespaced kind (the collector never acts on such a dependent);
    * dangling: no object has the uid with that kind and name, or it lives in another
      namespace than the dependent (cross-namespace references are invalid);
    * waiting: the owner is being deleted with `foregroundDeletion`;
    * solid: otherwise.
    """
    info = KINDS.get(ref.kind)
    if info is None or ref.api_version not in info.api_versions:
        return UNRESOLVABLE
    if info.namespaced and not dependent.metadata.namespace:
        return UNRESOLVABLE
    owner = state.by_uid(ref.uid)
    if owner is None or owner.kind != ref.kind or owner.metadata.name != ref.name:
        return DANGLING
    if info.namespaced and owner.metadata.namespace != dependent.metadata.namespace:
        return DANGLING
    meta = owner.metadata
    if meta.deletion_timestamp is not None and FINALIZER_FOREGROUND in meta.finalizers:
        return WAITING
    return SOLID


def ref_states(state: ClusterState, obj: Any) -> list[str]:
    """ref_state of each of `obj`'s ownerReferences."""
    return [ref_state(state, obj, r) for r in obj.metadata.owner_references]


def by_gc(action: Any) -> bool:
    """Whether `action` is a step of the garbage collector (a sync, or the delivery of its request)."""
    return getattr(action, "actor", None) == GC or getattr(action, "issuer", None) == GC


def referrers(state: ClusterState, uid: str) -> list[Any]:
    """Watched objects with an ownerReference to `uid`."""
    return [d for d in state.dependents_of(uid) if d.kind not in IGNORED]


def _gc_subjects(state: ClusterState) -> int:
    n = 0
    for obj in state.all_objects():
        meta = obj.metadata
        if meta.owner_references or FINALIZER_ORPHAN in meta.finalizers or FINALIZER_FOREGROUND in meta.finalizers:
            n += 1
    return n


def _owned_subjects(state: ClusterState) -> int:
    return sum(1 for o in state.all_objects() if o.metadata.owner_references)


# ---- gc-completeness ------------------------------------------------------------------------


def _live_dependent_violations(state: ClusterState, obj: Any) -> Iterator[Violation]:
    kinds = ref_states(state, obj)
    if UNRESOLVABLE in kinds:
        return
    gone = [r for r, k in zip(obj.metadata.owner_references, kinds) if k in (DANGLING, WAITING)]
    if not gone:
        return
    names = ", ".join(f"{r.kind} {r.name} ({r.uid})" for r in gone)
    if len(gone) == len(kinds):
        msg = f"{obj.ref} is left behind: none of its owners is alive ({names})"
    else:
        msg = f"{obj.ref} still references absent or foreground-deleting owners next to a live one: {names}"
    yield Violation("gc-completeness", msg, (str(obj.ref),))


def _blocker_is_stuck_elsewhere(state: ClusterState, dep: Any) -> bool:
    """A blocking dependent the collector is not expected to remove: already being deleted
    (waiting for its kubelet or another finalizer) or with an unresolvable reference."""
    return dep.metadata.deletion_timestamp is not None or UNRESOLVABLE in ref_states(state, dep)


def _deleting_owner_violations(state: ClusterState, obj: Any) -> Iterator[Violation]:
    meta = obj.metadata
    uid = meta.uid
    if FINALIZER_ORPHAN in meta.finalizers:
        deps = referrers(state, uid)
        tail = f"; dependents still referencing it: {', '.join(str(d.ref) for d in deps)}" if deps else ""
        yield Violation("gc-completeness", f"{obj.ref} is stuck being deleted with the orphan finalizer{tail}", (str(obj.ref), *(str(d.ref) for d in deps)))
    if FINALIZER_FOREGROUND in meta.finalizers:
        blockers = [d for d in referrers(state, uid) if any(r.uid == uid and r.block_owner_deletion for r in d.metadata.owner_references)]
        if blockers and all(_blocker_is_stuck_elsewhere(state, d) for d in blockers):
            return  # blocked by dependents that wait for someone else (best effort, §11.3)
        why = f"blocked by {', '.join(str(d.ref) for d in blockers)}" if blockers else "no dependent blocks it"
        yield Violation("gc-completeness", f"{obj.ref} is stuck in foreground deletion ({why})", (str(obj.ref), *(str(d.ref) for d in blockers)))


@invariant(
    "gc-completeness",
    Kind.QUIESCENT,
    """When nothing is left to do, the garbage collector has finished every propagation:
    no live object (not being deleted) keeps an ownerReference to an owner that is gone
    (absent, another uid, or in another namespace) or in foreground deletion — an object
    whose owners are all gone has been deleted (Background) and one with a live owner has
    had the stale references removed; no object being deleted is stuck with the `orphan`
    finalizer (so no dependent still references an owner deleted with Orphan); and no
    object is stuck with `foregroundDeletion` unless every dependent that blocks it
    (blockOwnerDeletion=true) is itself being deleted or unresolvable to the collector.
    Objects with a reference the collector cannot resolve (unknown kind or apiVersion, or
    a cluster-scoped dependent naming a namespaced owner) and Events are exempt.""",
    subjects=_gc_subjects,
    source="spec §11.2, §11.3, §11.5 (LIV-GC); garbagecollector.go attemptToDeleteItem, attemptToOrphanWorker, processDeletingDependentsItem",
    tags=("gc",),
)
def gc_completeness(state: ClusterState) -> Iterable[Violation]:
    for obj in state.all_objects():
        if obj.kind in IGNORED:
            continue
        if obj.metadata.deletion_timestamp is None:
            if obj.metadata.owner_references:
                yield from _live_dependent_violations(state, obj)
        else:
            yield from _deleting_owner_violations(state, obj)


# ---- gc-no-live-owner-deletion ---------------------------------------------------------------


def _started_deletion(prev: ClusterState, nxt: ClusterState) -> Iterator[Any]:
    """Objects (as in `prev`) not being deleted there that are gone or being deleted in `nxt`."""
    for obj in prev.all_objects():
        if obj.metadata.deletion_timestamp is not None:
            continue
        after = nxt.get_ref(obj.ref)
        if after is None or after.metadata.uid != obj.metadata.uid or after.metadata.deletion_timestamp is not None:
            yield obj


@invariant(
    "gc-no-live-owner-deletion",
    Kind.TRANSITION,
    """A step of the garbage collector (one of its syncs, or the delivery of one of its
    requests) never deletes, or starts deleting, an object that had at least one solid
    owner in the state before the step: an owner that exists with the referenced uid,
    kind and name, in the dependent's namespace (or cluster-scoped), and is not in
    foreground deletion. An owner being deleted with Orphan or Background (held by other
    finalizers) is solid, so Orphan propagation never deletes its dependents. A delivered
    request is judged by what the collector saw when it issued it: an owner already being
    deleted then may have been switched from Foreground to Orphan by a second DELETE in
    between, and the collector's delete (uid precondition only) lands anyway.""",
    subjects=_owned_subjects,
    source="spec §11.5 (INV-GC-1, INV-GC-2); garbagecollector.go attemptToDeleteItem (solid owners), classifyReferences",
    tags=("gc",),
)
def gc_no_live_owner_deletion(prev: ClusterState, action: Any, nxt: ClusterState) -> Iterable[Violation]:
    if not by_gc(action):
        return
    issued_at = _issued_at(prev, action)
    for obj in _started_deletion(prev, nxt):
        solid = [r for r in obj.metadata.owner_references if ref_state(prev, obj, r) == SOLID and not _deleting_since(prev, r, issued_at)]
        if solid:
            owners = ", ".join(f"{r.kind} {r.name}" for r in solid)
            yield Violation(
                "gc-no-live-owner-deletion",
                f"the garbage collector deleted {obj.ref} although it has a live owner ({owners})",
                (str(obj.ref), *(f"{r.kind} {obj.metadata.namespace}/{r.name}" for r in solid)),
            )


def _issued_at(prev: ClusterState, action: Any) -> int | None:
    """When the request a Deliver step applies was issued (None for a sync step)."""
    issuer = getattr(action, "issuer", None)
    if issuer is None:
        return None
    return next((f.issued_at for f in prev.inflight if f.actor == issuer), None)


def _issued_uid(prev: ClusterState, action: Any) -> int | None:
    """For a Deliver step, the next uid of the state the delivered request was issued in."""
    issuer = getattr(action, "issuer", None)
    if issuer is None:
        return None
    return next((f.issued_uid for f in prev.inflight if f.actor == issuer), None)


def _created_after(obj: Any, issued_uid: int | None) -> bool:
    """The object was created after the delivered request was decided (a model uid at or
    past the issuing state's next uid): the collector could not have seen it. Upstream the
    same race exists — a create that lands after attemptToOrphan listed the dependents."""
    if not issued_uid:
        return False
    uid = obj.metadata.uid
    if not uid.startswith(MODEL_UID_PREFIX):
        return False
    try:
        return int(uid[len(MODEL_UID_PREFIX) :], 16) >= issued_uid
    except ValueError:
        return False


def _deleting_since(state: ClusterState, ref: OwnerReference, issued_at: int | None) -> bool:
    """The owner was already being deleted when the delivered request was issued
    (attemptToDeleteItem decided on a graph where it may still have been in foreground
    deletion; the propagation policy of a later DELETE does not undo that decision)."""
    if issued_at is None:
        return False
    owner = state.by_uid(ref.uid)
    ts = None if owner is None else owner.metadata.deletion_timestamp
    return ts is not None and ts <= issued_at


# ---- gc-orphan-before-removal ----------------------------------------------------------------


@invariant(
    "gc-orphan-before-removal",
    Kind.TRANSITION,
    """A step of the garbage collector that removes the `orphan` finalizer from an object
    being deleted (or removes the object itself) leaves no dependent referencing that
    object's uid: with Orphan propagation the ownerReferences of every dependent are
    removed before the owner may go. A delivered request is judged by the dependents that
    existed when the collector issued it: a create that lands in between (a ReplicaSet's
    pod decided before the owner's DELETE) is a race upstream has too.""",
    subjects=lambda s: sum(1 for o in s.all_objects() if o.metadata.deletion_timestamp is not None and FINALIZER_ORPHAN in o.metadata.finalizers),
    source="spec §11.2, §11.5 (INV-GC-2); garbagecollector.go attemptToOrphanWorker (orphanDependents before removeFinalizer)",
    tags=("gc",),
)
def gc_orphan_before_removal(prev: ClusterState, action: Any, nxt: ClusterState) -> Iterable[Violation]:
    if not by_gc(action):
        return
    issued_uid = _issued_uid(prev, action)
    for obj in prev.all_objects():
        meta = obj.metadata
        if meta.deletion_timestamp is None or FINALIZER_ORPHAN not in meta.finalizers:
            continue
        after = nxt.get_ref(obj.ref)
        if after is not None and after.metadata.uid == meta.uid and FINALIZER_ORPHAN in after.metadata.finalizers:
            continue
        deps = [d for d in referrers(nxt, meta.uid) if d.ref != obj.ref and not _created_after(d, issued_uid)]
        if deps:
            yield Violation(
                "gc-orphan-before-removal",
                f"the orphan finalizer of {obj.ref} went while {', '.join(str(d.ref) for d in deps)} still reference it",
                (str(obj.ref), *(str(d.ref) for d in deps)),
            )
