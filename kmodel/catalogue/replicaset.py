"""Broken ReplicaSet controllers (kmodel.controllers.replicaset)."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from kmodel import apiserver
from kmodel.controllers.replicaset import ReplicaSetController
from kmodel.objects.pod import Pod
from kmodel.state import ClusterState


class CountsForeignPods(ReplicaSetController):
    """Counts every active pod its selector matches toward spec.replicas, owned or not.

    Reproduces the pre-ControllerRef behaviour of kubernetes/kubernetes#2210 (two
    replication controllers with overlapping selectors share, and fight over, the same
    pods), which ControllerRef (kubernetes/kubernetes#24946; the proposal's first law in
    kubernetes/community#298, "don't share") ended: a controller never counts an object
    it does not own. This variant only ever deletes pods it owns, so it does not fight; it
    simply stops creating its own pods while another set's pods match its selector.

    Caught by `replicaset-replicas`: at a fixpoint the set controls fewer active pods than
    spec.replicas.
    """

    def manage_replicas(self, state: ClusterState, rs: Any, pods: list[Pod]) -> list[apiserver.Request]:
        """Create for the shortfall counted over all matching pods; delete only own pods."""
        foreign = [
            p
            for p in state.pods(rs.metadata.namespace)
            if p.active and rs.label_selector.matches(p.metadata.labels) and (ref := p.metadata.controller_ref()) is not None and ref.uid != rs.metadata.uid
        ]
        if len(pods) + len(foreign) < rs.spec.replicas:
            return super().manage_replicas(state, rs, pods + foreign)
        surplus = min(len(pods) + len(foreign) - rs.spec.replicas, len(pods))
        if surplus <= 0:
            return []
        keep = len(pods) - surplus
        return super().manage_replicas(state, _with_replicas(rs, keep), pods)


class CountsTerminatingPods(ReplicaSetController):
    """Counts pods that are being deleted (deletionTimestamp set, not yet terminal) as replicas.

    A classic mistake: forgetting FilterActivePods / IsPodActive (controller_utils.go). A
    pod evicted from a node that has stopped responding stays Terminating until its
    kubelet confirms, possibly forever; as kubernetes/kubernetes#72226 explains, such a
    pod must not count as a replica, or the workload never gets its replacement.

    Caught by `replicaset-replicas`: after a node failure and the taint-based eviction,
    the fixpoint has fewer active pods than spec.replicas.
    """

    def manage_replicas(self, state: ClusterState, rs: Any, pods: list[Pod]) -> list[apiserver.Request]:
        """Manage over the active pods plus the owned pods that are terminating."""
        terminating = [p for p in state.controlled_by(rs.metadata.uid, "Pod") if p.metadata.deletion_timestamp is not None and not p.terminal]
        diff = len(pods) + len(terminating) - rs.spec.replicas
        if diff < 0:
            return super().manage_replicas(state, rs, pods + terminating)
        if diff == 0:
            return []
        return super().manage_replicas(state, _with_replicas(rs, max(len(pods) - diff, 0)), pods)


def _with_replicas(rs: Any, replicas: int) -> Any:
    """`rs` with another spec.replicas (what manage_replicas should aim for)."""
    return replace(rs, spec=replace(rs.spec, replicas=replicas))


class NoExpectations(ReplicaSetController):
    """Creates and deletes from what it lists, without expectations of its own in-flight writes.

    Reproduces the double creation controller expectations exist to prevent
    (controller_utils.go ControllerExpectations; kubernetes/kubernetes#8138 checks them
    before counting pods; kubernetes/kubernetes#129795 shows what happens when they expire
    too early): with the informer cache lagging its own creations, a second sync sees the
    same shortfall and creates the missing pods again.

    Expected to be caught by `replicaset-replicas`, but it is not: that invariant is checked
    at fixpoints only, where the surplus has been deleted again, and the transition
    invariants judge a sync against the state it read. Witness: `overshoots`.
    """

    check_expectations = False


def overshoots(state: ClusterState) -> bool:
    """Some ReplicaSet controls more active pods than spec.replicas (a candidate invariant:
    the scenarios it is used with never scale down)."""
    for rs in state.list("ReplicaSet"):
        if rs.metadata.deletion_timestamp is None:
            active = sum(1 for p in state.controlled_by(rs.metadata.uid, "Pod") if p.active)
            if active > rs.spec.replicas:
                return True
    return False
