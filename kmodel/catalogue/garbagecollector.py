"""Broken garbage collectors (kmodel.controllers.garbagecollector)."""

from __future__ import annotations

from typing import Any

from kmodel import apiserver
from kmodel.controllers.garbagecollector import (
    DANGLING,
    FINALIZER_ORPHAN,
    SOLID,
    WAITING,
    Classification,
    GarbageCollector,
    gc_dependents,
    is_deleting_dependents,
    own_policy,
    patch_request,
    unblocked,
    without_owner_refs,
)
from kmodel.objects.kinds import KINDS
from kmodel.objects.meta import OwnerReference
from kmodel.state import ClusterState


class DeletesWithLiveOwner(GarbageCollector):
    """Deletes a dependent as soon as one of its owners is gone, even if another is alive.

    A classic mistake: reading "an owner is gone" as "garbage". Upstream
    attemptToDeleteItem (garbagecollector.go: "object has at least one existing owner,
    will not garbage collect", code reviewed in kubernetes/kubernetes#38679) keeps any
    object with a solid owner and only patches the dangling references out of it.

    Caught by `gc-no-live-owner-deletion`: the collector deletes an object that still has
    a live owner.
    """

    def attempt_to_delete(self, state: ClusterState, item: Any) -> list[apiserver.Request]:
        """Delete instead of patching out the gone owners."""
        reqs = super().attempt_to_delete(state, item)
        if any(isinstance(r, apiserver.Update) for r in reqs):  # the reference only patches when an owner is solid
            return [apiserver.Delete(item.ref, uid=item.metadata.uid, propagation="Background")]
        return reqs


def classify_in_dependent_namespace(state: ClusterState, dependent: Any) -> Classification | None:
    """classifyReferences, but every owner is looked up in the dependent's namespace — a
    cluster-scoped owner too (the bug)."""
    solid: list[OwnerReference] = []
    dangling: list[OwnerReference] = []
    waiting: list[OwnerReference] = []
    buckets = {SOLID: solid, DANGLING: dangling, WAITING: waiting}
    for ref in dependent.metadata.owner_references:
        info = KINDS.get(ref.kind)
        if info is None or ref.api_version not in info.api_versions:
            return None
        owner = state.get(ref.kind, dependent.metadata.namespace, ref.name)
        if owner is None or owner.metadata.uid != ref.uid:
            kind = DANGLING
        else:
            kind = WAITING if is_deleting_dependents(owner) else SOLID
        buckets[kind].append(ref)
    return Classification(tuple(solid), tuple(dangling), tuple(waiting))


class LooksUpOwnerInDependentNamespace(GarbageCollector):
    """Resolves every owner reference in the dependent's namespace, cluster-scoped owners included.

    Reproduces kubernetes/kubernetes#54940: the graph builder's virtual nodes (owners not
    observed yet) inherited the namespace of the dependent that named them, so a
    namespaced dependent of a cluster-scoped owner (a Namespace, a Node, a custom
    cluster-scoped resource) was looked up in the wrong place, judged dangling and
    deleted. Fixed in the graph builder and, for good, by kubernetes/kubernetes#92743
    (1.20), which also made cross-namespace references absent (kubernetes/kubernetes#65200).

    Caught by `gc-no-live-owner-deletion`: the collector deletes an object whose owner exists.
    """

    def attempt_to_delete(self, state: ClusterState, item: Any) -> list[apiserver.Request]:
        """attemptToDeleteItem over the mis-resolved references."""
        cls = classify_in_dependent_namespace(state, item)
        if cls is None:
            return []
        uid = item.metadata.uid
        if cls.solid:
            gone = [r.uid for r in cls.dangling + cls.waiting]
            return [patch_request(without_owner_refs(item, gone), item)] if gone else []
        dependents = gc_dependents(state, uid)
        if cls.waiting and dependents:
            reqs: list[apiserver.Request] = []
            if any(is_deleting_dependents(d) for d in dependents):
                reqs.append(patch_request(unblocked(item), item))
            reqs.append(apiserver.Delete(item.ref, uid=uid, propagation="Foreground"))
            return reqs
        return [apiserver.Delete(item.ref, uid=uid, propagation=own_policy(item))]


class RemovesOrphanFinalizerFirst(GarbageCollector):
    """With Orphan propagation, removes the owner's `orphan` finalizer before orphaning the dependents.

    A classic mistake: two writes in the wrong order. Upstream attemptToOrphanWorker
    (garbagecollector.go) first removes the owner's uid from every dependent
    (orphanDependents) and only then the finalizer; the other way round the owner is
    gone while its dependents still point at it, so they are dangling and the collector
    deletes them: Orphan turns into a cascading delete.

    Caught by `gc-orphan-before-removal`: the orphan finalizer goes while dependents still
    reference the owner.
    """

    def orphan(self, state: ClusterState, owner: Any) -> list[apiserver.Request]:
        """Only the finalizer removal; the dependents are left for later (and are then garbage)."""
        return [
            r
            for r in super().orphan(state, owner)
            if isinstance(r, apiserver.Update) and r.obj.ref == owner.ref and FINALIZER_ORPHAN not in r.obj.metadata.finalizers
        ]
