"""The ReplicaSet controller, and the ReplicationController through the same code
(pkg/controller/replicaset/replica_set.go; pkg/controller/replication adapts RCs).

One sync: check expectations before listing pods; claim the active pods in the
namespace (adopt matching orphans, release owned pods that stopped matching); if
expectations are satisfied and the set is not being deleted, create or delete the
difference (at most 500 per sync), deleting in ActivePodsWithRanks order; then write
status computed from the claimed pods as they were at the start of the sync.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import replace
from typing import Any

from kmodel import apiserver
from kmodel.actors import KindReconciler
from kmodel.config import ModelConfig
from kmodel.controllers.common import (
    BURST_REPLICAS,
    claim,
    expectations_satisfied,
    pod_from_template,
    pods_to_delete,
)
from kmodel.objects.pod import Pod, is_pod_available, pod_ready_since
from kmodel.objects.workloads import ReplicaSetStatus
from kmodel.state import ClusterState


def related_pods(state: ClusterState, rs: Any) -> list[Pod]:
    """getIndirectlyRelatedPods: the pods matched by the selector of any ReplicaSet that
    has the same controller as this one (the sibling ReplicaSets of one Deployment),
    each pod once, whoever owns it.

    A set without a controller has no related pods (getReplicaSetsWithSameController
    returns nil), so every co-location rank is 0 for a standalone ReplicaSet or an RC.
    """
    owner = rs.metadata.controller_ref()
    if owner is None:
        return []
    pods: list[Pod] = []
    seen: set[str] = set()
    for s in state.controlled_by(owner.uid, rs.kind):
        for p in state.pods(s.metadata.namespace):
            if p.metadata.uid not in seen and s.label_selector.matches(p.metadata.labels):
                seen.add(p.metadata.uid)
                pods.append(p)
    return pods


def calculate_status(rs: Any, pods: Sequence[Pod], now: int) -> ReplicaSetStatus:
    """calculateStatus: counts over the claimed active pods, observedGeneration = generation."""
    template_labels = rs.spec.template.metadata.labels
    fully = sum(1 for p in pods if all(p.metadata.labels.get(k) == v for k, v in template_labels.items()))
    ready = sum(1 for p in pods if p.ready)
    available = sum(1 for p in pods if is_pod_available(p, rs.spec.min_ready_seconds, now))
    return replace(
        rs.status,
        replicas=len(pods),
        fully_labeled_replicas=fully,
        ready_replicas=ready,
        available_replicas=available,
        observed_generation=rs.metadata.generation,
    )


class ReplicaSetController(KindReconciler):
    """Keeps the number of active pods of each ReplicaSet equal to spec.replicas."""

    name = "replicaset"
    kind = "ReplicaSet"
    check_expectations = True  # a deliberately broken variant may turn this off

    def reconcile(self, state: ClusterState, rs: Any, config: ModelConfig) -> Sequence[apiserver.Request]:
        """One syncReplicaSet."""
        key = (rs.metadata.namespace, rs.metadata.name)
        needs_sync = (not self.check_expectations) or expectations_satisfied(state, self.name, key, config)
        active = [p for p in state.pods(rs.metadata.namespace) if p.active]
        claimed, reqs = claim(rs, rs.label_selector, active)
        requests: list[apiserver.Request] = list(reqs)
        if needs_sync and rs.metadata.deletion_timestamp is None:
            requests.extend(self.manage_replicas(state, rs, claimed))
        status = calculate_status(rs, claimed, state.clock)
        if status != rs.status:
            requests.append(apiserver.Update(replace(rs, status=status), status=True))
        return requests

    def manage_replicas(self, state: ClusterState, rs: Any, pods: list[Pod]) -> list[apiserver.Request]:
        """Create or delete the difference between active pods and spec.replicas."""
        diff = len(pods) - rs.spec.replicas
        if diff < 0:
            n = min(-diff, BURST_REPLICAS)
            pod = pod_from_template(rs, rs.spec.template)
            return [apiserver.Create(pod) for _ in range(n)]
        if diff > 0:
            n = min(diff, BURST_REPLICAS)
            victims = pods_to_delete(pods, related_pods(state, rs), n, state.clock)
            return [apiserver.Delete(p.ref, uid=p.metadata.uid) for p in victims]
        return []

    def deadlines(self, state: ClusterState, config: ModelConfig) -> Iterable[int]:
        """When a ready pod becomes available (minReadySeconds), the status changes."""
        for rs in state.list(self.kind):
            mrs = rs.spec.min_ready_seconds
            if mrs <= 0:
                continue
            for p in state.controlled_by(rs.metadata.uid, "Pod"):
                since = pod_ready_since(p)
                if since is not None and p.active:
                    yield since + mrs + 1


class ReplicationControllerController(ReplicaSetController):
    """The same controller for ReplicationControllers (equality selector, core/v1)."""

    name = "replicationcontroller"
    kind = "ReplicationController"
