"""The garbage collector (pkg/controller/garbagecollector, k8s v1.28).

Upstream, a graph builder watches every deletable resource and feeds two work queues:
attemptToDelete (objects whose owners may be gone or deleting, and owners in foreground
deletion) and attemptToOrphan (owners being deleted with the `orphan` finalizer). This
model reads the state with perfect caches, so the queues are implicit: every object for
which one of the workers would issue a request is a candidate, and one
`Reconcile("garbagecollector", namespace, name, kind=...)` runs the worker that applies
to it:

* attemptToOrphan (garbagecollector.go attemptToOrphanWorker/orphanDependents): remove
  the owner's uid from every dependent's ownerReferences, then remove the `orphan`
  finalizer from the owner;
* processDeletingDependentsItem (owner being deleted with `foregroundDeletion`): remove
  the finalizer once no dependent references the owner with blockOwnerDeletion=true;
  the blocking dependents are candidates of their own (the upstream worker only
  re-enqueues them);
* attemptToDeleteItem (any other object with ownerReferences): classify each reference
  as solid, dangling or waitingForDependentsDeletion and keep, patch or delete the object.

Simplifications (the first three follow from reading the state directly):

* no absentOwnerCache and no virtual nodes: an owner is looked up in the state every
  time, which is what the cache and the virtual-node verification approximate;
* the graph's deletingDependents flag is sticky upstream (it stays set after the
  finalizer is gone); here it is read from the object (deletionTimestamp and the
  `foregroundDeletion` finalizer), which only differs once there is nothing left to do;
* no OwnerRefInvalidNamespace warning event is emitted (the model has no event stream);
* the strategic-merge patches of ownerReferences (uid precondition, no resourceVersion)
  are whole-object updates without a resourceVersion check built from the state the
  sync read; with `delivery="async"` such an update applies that copy, so a change made
  to the dependent between the sync and the delivery can be overwritten (a real patch
  would only touch ownerReferences). Finalizer removal carries the resourceVersion,
  as upstream's merge patch does, and is retried on conflict;
* an object deleted with both the `orphan` and `foregroundDeletion` finalizers is
  orphaned first, then its dependents are deleted (upstream can leave such an object
  stuck, see graph_builder.go processTransitions; the API server never sets both).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace
from typing import Any

from kmodel import apiserver
from kmodel.actions import Action, Reconcile
from kmodel.config import ModelConfig
from kmodel.objects.kinds import KINDS
from kmodel.objects.meta import FINALIZER_FOREGROUND, FINALIZER_ORPHAN, OwnerReference
from kmodel.state import ClusterState

NAME = "garbagecollector"

# graph_builder.go ignoredResources: core/v1 and events.k8s.io Events are never watched,
# so they are neither collected nor counted as anyone's dependents.
IGNORED_KINDS = frozenset({"Event"})

SOLID, DANGLING, WAITING = "solid", "dangling", "waiting"


@dataclass(frozen=True, slots=True)
class Classification:
    """An object's ownerReferences split as garbagecollector.go classifyReferences does."""

    solid: tuple[OwnerReference, ...] = ()
    dangling: tuple[OwnerReference, ...] = ()
    waiting: tuple[OwnerReference, ...] = ()


# ---- reading owners and dependents -----------------------------------------------------


def is_deleting_dependents(obj: Any) -> bool:
    """Whether `obj` is in foreground deletion: deletionTimestamp and `foregroundDeletion`.

    graph_builder.go processGraphChanges (deletingDependents) and
    garbagecollector.go classifyReferences (waitingForDependentsDeletion).
    """
    meta = obj.metadata
    return meta.deletion_timestamp is not None and FINALIZER_FOREGROUND in meta.finalizers


def is_orphaning(obj: Any) -> bool:
    """Whether `obj` is being deleted with the `orphan` finalizer (graph_builder.go startsWaitingForDependentsOrphaned)."""
    meta = obj.metadata
    return meta.deletion_timestamp is not None and FINALIZER_ORPHAN in meta.finalizers


def gc_dependents(state: ClusterState, uid: str) -> list[Any]:
    """Objects the GC's graph lists as dependents of `uid`: every watched object with an
    ownerReference to that uid, whatever its namespace (graph.go node.dependents)."""
    return [d for d in state.dependents_of(uid) if d.kind not in IGNORED_KINDS]


def blocking_dependents(state: ClusterState, owner: Any) -> list[Any]:
    """Dependents referencing `owner` with blockOwnerDeletion=true (graph.go blockingDependents)."""
    uid = owner.metadata.uid
    return [d for d in gc_dependents(state, uid) if any(r.uid == uid and r.block_owner_deletion for r in d.metadata.owner_references)]


def classify_reference(state: ClusterState, dependent: Any, ref: OwnerReference) -> str | None:
    """Solid, dangling or waiting; None if the reference cannot be resolved.

    garbagecollector.go isDangling: the owner is fetched by kind and name in the
    dependent's namespace (cluster scope for cluster-scoped kinds), so an owner in another
    namespace is not found (dangling), and a uid that differs from the reference's is
    dangling too. An apiVersion/kind the REST mapper does not know is an error retried
    forever, and a cluster-scoped dependent referring to a namespaced kind is an error
    that is never retried (namespacedOwnerOfClusterScopedObjectErr): both are None.
    classifyReferences: an owner with deletionTimestamp and `foregroundDeletion` is waiting.
    """
    info = KINDS.get(ref.kind)
    if info is None or ref.api_version not in info.api_versions:
        return None  # operations.go apiResource: restMappingError
    namespace = dependent.metadata.namespace if info.namespaced else ""
    if info.namespaced and not namespace:
        return None  # cluster-scoped object referring to a namespaced owner
    owner = state.get(ref.kind, namespace, ref.name)
    if owner is None or owner.metadata.uid != ref.uid:
        return DANGLING
    return WAITING if is_deleting_dependents(owner) else SOLID


def classify_references(state: ClusterState, dependent: Any) -> Classification | None:
    """All references of `dependent` classified; None if any cannot be resolved
    (classifyReferences returns on the first error, so the item is left alone)."""
    solid: list[OwnerReference] = []
    dangling: list[OwnerReference] = []
    waiting: list[OwnerReference] = []
    buckets = {SOLID: solid, DANGLING: dangling, WAITING: waiting}
    for ref in dependent.metadata.owner_references:
        kind = classify_reference(state, dependent, ref)
        if kind is None:
            return None
        buckets[kind].append(ref)
    return Classification(tuple(solid), tuple(dangling), tuple(waiting))


# ---- the requests each worker issues ------------------------------------------------------


def without_owner_refs(obj: Any, uids: Iterable[str]) -> Any:
    """`obj` with every ownerReference to one of `uids` removed
    (patch.go GenerateDeleteOwnerRefStrategicMergeBytes, uid as precondition)."""
    drop = set(uids)
    refs = tuple(r for r in obj.metadata.owner_references if r.uid not in drop)
    return replace(obj, metadata=replace(obj.metadata, owner_references=refs))


def without_finalizer(obj: Any, finalizer: str) -> Any:
    """`obj` with `finalizer` removed (operations.go removeFinalizer)."""
    fins = tuple(f for f in obj.metadata.finalizers if f != finalizer)
    return replace(obj, metadata=replace(obj.metadata, finalizers=fins))


def patch_request(obj: Any, base: Any) -> apiserver.Request:
    """A strategic-merge patch of ownerReferences (`base`, the object read, → `obj`): no
    resourceVersion, the uid as precondition."""
    return apiserver.Update(obj, check_rv=False, base=base)


def finalizer_request(obj: Any) -> apiserver.Request:
    """operations.go removeFinalizer: a merge patch carrying the resourceVersion read
    (a conflict is retried on a fresh read), so it is an RV-checked write."""
    return apiserver.Update(obj, check_rv=True)


def orphan_requests(state: ClusterState, owner: Any) -> list[apiserver.Request]:
    """attemptToOrphanWorker: strip the owner's uid from every dependent, then drop `orphan`."""
    uid = owner.metadata.uid
    reqs: list[apiserver.Request] = []
    final = without_finalizer(owner, FINALIZER_ORPHAN)
    for dep in gc_dependents(state, uid):
        if dep.ref == owner.ref:
            final = without_owner_refs(final, (uid,))  # an owner of itself: one write
        else:
            reqs.append(patch_request(without_owner_refs(dep, (uid,)), dep))
    reqs.append(finalizer_request(final))
    return reqs


def deleting_dependents_requests(state: ClusterState, owner: Any) -> list[apiserver.Request]:
    """processDeletingDependentsItem: remove `foregroundDeletion` once nothing blocks.

    While blocking dependents remain, upstream re-enqueues them to attemptToDelete;
    here they are candidates of their own, so the owner's sync has nothing to do.
    """
    if blocking_dependents(state, owner):
        return []
    return [finalizer_request(without_finalizer(owner, FINALIZER_FOREGROUND))]


def own_policy(obj: Any) -> str:
    """The propagation implied by an object's own finalizers (attemptToDeleteItem default case)."""
    if FINALIZER_ORPHAN in obj.metadata.finalizers:
        return "Orphan"
    if FINALIZER_FOREGROUND in obj.metadata.finalizers:
        return "Foreground"
    return "Background"


def unblocked(obj: Any) -> Any:
    """`obj` with blockOwnerDeletion=false on every reference that had it true
    (patch.go unblockOwnerReferencesStrategicMergePatch)."""
    refs = tuple(replace(r, block_owner_deletion=False) if r.block_owner_deletion else r for r in obj.metadata.owner_references)
    return replace(obj, metadata=replace(obj.metadata, owner_references=refs))


def attempt_to_delete_requests(state: ClusterState, item: Any) -> list[apiserver.Request]:
    """attemptToDeleteItem for an object not being deleted that has ownerReferences."""
    cls = classify_references(state, item)
    if cls is None:
        return []
    uid = item.metadata.uid
    if cls.solid:
        # ≥1 solid owner: keep, but patch out dangling and waiting references so that
        # foreground owners are not blocked by this object.
        gone = [r.uid for r in cls.dangling + cls.waiting]
        return [patch_request(without_owner_refs(item, gone), item)] if gone else []
    dependents = gc_dependents(state, uid)
    if cls.waiting and dependents:
        # Cascade the foreground deletion; a dependent already deleting its dependents
        # means a possible cycle, broken by unblocking this item's references first.
        reqs: list[apiserver.Request] = []
        if any(is_deleting_dependents(d) for d in dependents):
            reqs.append(patch_request(unblocked(item), item))
        reqs.append(apiserver.Delete(item.ref, uid=uid, propagation="Foreground"))
        return reqs
    return [apiserver.Delete(item.ref, uid=uid, propagation=own_policy(item))]


def gc_requests(state: ClusterState, obj: Any) -> list[apiserver.Request]:
    """What one sync of `obj` by the reference garbage collector issues (empty: nothing to do)."""
    return GarbageCollector().plan(state, obj)


def needs_attention(obj: Any) -> bool:
    """A cheap filter: objects with ownerReferences, or deleting with a GC finalizer."""
    meta = obj.metadata
    if meta.deletion_timestamp is not None:
        return FINALIZER_ORPHAN in meta.finalizers or FINALIZER_FOREGROUND in meta.finalizers
    return bool(meta.owner_references)


class GarbageCollector:
    """The garbage collector as an actor: one Reconcile per object it would act on.

    Each worker is a method, so a test can replace one of them with a broken variant.
    """

    name = NAME

    def plan(self, state: ClusterState, obj: Any) -> list[apiserver.Request]:
        """Dispatch `obj` to the worker that applies to it and return its requests."""
        if obj.kind in IGNORED_KINDS:
            return []
        meta = obj.metadata
        if meta.deletion_timestamp is not None:
            if FINALIZER_ORPHAN in meta.finalizers:
                return self.orphan(state, obj)
            if FINALIZER_FOREGROUND in meta.finalizers:
                return self.deleting_dependents(state, obj)
            # attemptToDeleteItem: being deleted and not deleting dependents → wait for
            # the final deletion; its dependents are processed after it.
            return []
        if not meta.owner_references:
            return []  # attemptToDeleteItem: no owner, nothing to do
        return self.attempt_to_delete(state, obj)

    def orphan(self, state: ClusterState, owner: Any) -> list[apiserver.Request]:
        """attemptToOrphan for an owner being deleted with the `orphan` finalizer."""
        return orphan_requests(state, owner)

    def deleting_dependents(self, state: ClusterState, owner: Any) -> list[apiserver.Request]:
        """processDeletingDependentsItem for an owner in foreground deletion."""
        return deleting_dependents_requests(state, owner)

    def attempt_to_delete(self, state: ClusterState, item: Any) -> list[apiserver.Request]:
        """attemptToDeleteItem for a live object with ownerReferences."""
        return attempt_to_delete_requests(state, item)

    def candidates(self, state: ClusterState, config: ModelConfig) -> Iterable[Action]:
        """Objects for which a GC worker would issue requests now, by kind, namespace and name."""
        for obj in state.all_objects():
            if needs_attention(obj) and self.plan(state, obj):
                yield Reconcile(NAME, obj.metadata.namespace, obj.metadata.name, kind=obj.kind)

    def requests(self, state: ClusterState, action: Action, config: ModelConfig) -> Sequence[apiserver.Request]:
        """The requests of the worker that applies to the action's object."""
        if not isinstance(action, Reconcile) or not action.kind:
            return ()
        obj = state.get(action.kind, action.namespace, action.name)
        if obj is None:
            return ()
        return self.plan(state, obj)

    def deadlines(self, state: ClusterState, config: ModelConfig) -> Iterable[int]:
        """The garbage collector has no timers."""
        return ()
