"""Broken Deployment controllers (kmodel.controllers.deployment)."""

from __future__ import annotations

from collections.abc import Sequence

from kmodel.controllers import deployment_util as du
from kmodel.controllers.deployment import DeploymentController, SyncAborted, SyncContext
from kmodel.intstr import scaled_value
from kmodel.objects.workloads import Deployment, ReplicaSet


def min_available_rounding_up(d: Deployment) -> int:
    """replicas − maxUnavailable with a maxUnavailable percentage rounded *up* (the bug)."""
    if not du.is_rolling_update(d) or d.spec.replicas == 0:
        return 0
    ru = d.spec.strategy.rolling_update
    surge = scaled_value(ru.max_surge if ru else None, d.spec.replicas, round_up=True)
    unavailable = scaled_value(ru.max_unavailable if ru else None, d.spec.replicas, round_up=True)
    if surge == 0 and unavailable == 0:
        unavailable = 1
    return d.spec.replicas - min(unavailable, d.spec.replicas)


class RoundsMaxUnavailableUp(DeploymentController):
    """Resolves a maxUnavailable percentage by rounding up, as it does maxSurge.

    Reproduces kubernetes/kubernetes#21922: the Deployment controller derived
    maxUnavailable with math.Ceil, so e.g. 50% of 3 replicas allowed 2 unavailable pods
    (and 25% of 1 replica allowed the only one); kubernetes/kubernetes#21957 made it round
    down (deployment_util.go ResolveFenceposts: surge up, unavailable down).

    Caught by `deployment-unavailability-bound`: a rolling update scales the old
    ReplicaSet down below replicas − maxUnavailable (resolved correctly) in one sync.
    """

    def reconcile_old_replica_sets(self, ctx: SyncContext, all_rss: Sequence[ReplicaSet], old_rss: Sequence[ReplicaSet], new_rs: ReplicaSet) -> bool:
        """rolling.go reconcileOldReplicaSets with the rounded-up fence post."""
        if du.replica_count(old_rss) == 0:
            return False
        minimum = min_available_rounding_up(ctx.d)
        budget = du.replica_count(all_rss) - minimum - (new_rs.spec.replicas - new_rs.status.available_replicas)
        if budget <= 0:
            return False
        try:
            old_rss, cleaned = self.cleanup_unhealthy_replicas(ctx, old_rss, budget)
            scaled = 0
            available = du.available_replica_count([*old_rss, new_rs])
            excess = available - minimum
            for rs in du.by_creation(old_rss):
                if excess <= scaled:
                    break
                if rs.spec.replicas == 0:
                    continue
                count = min(rs.spec.replicas, excess - scaled)
                self.scale_replica_set_and_record_event(ctx, rs, rs.spec.replicas - count)
                scaled += count
        except SyncAborted:
            return False
        return cleaned + scaled > 0


class RecreateIgnoresTerminatingPods(DeploymentController):
    """Recreate starts the new ReplicaSet as soon as the old sets report no replicas.

    Reproduces kubernetes/kubernetes#27362 ("Recreate deployments dont wait for pod
    termination"; see also kubernetes/kubernetes#32567): a ReplicaSet's status counts only
    active pods, so it drops to 0 while the old pods are still terminating, and the new
    pods start next to them. Upstream's oldPodsRunning also looks at the pods themselves.

    Caught by `recreate-no-overlap`: a pod of the new ReplicaSet is created while a pod of
    the old one is not terminal.
    """

    def old_pods_running(self, ctx: SyncContext, new_rs: ReplicaSet | None, old_rss: Sequence[ReplicaSet]) -> bool:
        """Only the old sets' status.replicas (the bug: terminating pods are not counted there)."""
        return du.actual_replica_count(old_rss) > 0
