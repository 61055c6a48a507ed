"""The Deployment controller (pkg/controller/deployment, Kubernetes v1.28).

One reconcile is one syncDeployment: claim the ReplicaSets matching the selector
(adopt orphans, release sets that stopped matching), then — in upstream's order —
status only for a Deployment being deleted, the paused condition, `sync` (proportional
scaling and history cleanup) when paused or on a scaling event, the legacy rollback
annotation, and otherwise one step of the RollingUpdate or Recreate rollout followed
by the rollout status (conditions, progress deadline).

Upstream issues its API calls one after another inside a sync and stops at the first
error. The model replays that: a `SyncClient` applies each request to a scratch copy
of the state with the real API-server semantics, hands back the object the server
would return, and records the request. Where upstream writes an object a second time
from its stale cached copy (the Deployment, whose status is written from the object
read at the start of the sync), the scratch write conflicts exactly as it does in a
cluster, and the sync ends there; the next sync picks up. Deployment status counts
come from ReplicaSet *status*, so they lag one ReplicaSet sync, as upstream.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

from kmodel import apiserver
from kmodel.actors import KindReconciler
from kmodel.config import ModelConfig
from kmodel.controllers import deployment_util as du
from kmodel.controllers.common import claim, controller_ref
from kmodel.frozen import FrozenDict
from kmodel.objects.meta import Condition, ObjectMeta, ObjRef, find_condition
from kmodel.objects.pod import FAILED, SUCCEEDED, Pod
from kmodel.objects.workloads import Deployment, DeploymentStatus, ReplicaSet, ReplicaSetSpec
from kmodel.state import ClusterState, Tx


class SyncAborted(Exception):
    """An API call of the sync failed: upstream returns the error and requeues the Deployment."""


class SyncClient:
    """The API as one sync sees it: requests are applied in order to a scratch transaction.

    Each write returns what the API server would return (new resourceVersion, uid of a
    created object) or raises SyncAborted on an error (a conflict from a stale copy, a
    missing object). The recorded requests are what the model applies for the action.
    A write based on an object this sync already wrote (the server's reply) is recorded
    without a resourceVersion precondition, since upstream chains it on the reply.
    """

    def __init__(self, state: ClusterState, config: ModelConfig) -> None:
        self._tx: Tx = state.edit()
        self._config = config
        self._replied_rv: dict[ObjRef, int] = {}
        self.requests: list[apiserver.Request] = []

    def get(self, ref: ObjRef) -> Any:
        """The object as the API server has it now (an uncached GET)."""
        return self._tx.get_ref(ref)

    def _apply(self, request: apiserver.Request) -> apiserver.Outcome:
        return apiserver.apply(self._tx, request, self._config)

    def create(self, obj: Any) -> apiserver.Outcome:
        """POST `obj`; the outcome says whether it succeeded (callers handle AlreadyExists)."""
        outcome = self._apply(apiserver.Create(obj))
        if outcome.ok:
            self.requests.append(apiserver.Create(obj))
            self._replied_rv[outcome.obj.ref] = outcome.obj.metadata.resource_version
        return outcome

    def update(self, obj: Any, *, status: bool = False) -> Any:
        """PUT `obj` (or its status) with its resourceVersion as precondition; the stored object."""
        outcome = self._apply(apiserver.Update(obj, status=status, check_rv=True))
        if not outcome.ok:
            raise SyncAborted(outcome.error)
        chained = self._replied_rv.get(obj.ref) == obj.metadata.resource_version
        self.requests.append(apiserver.Update(obj, status=status, check_rv=not chained))
        if outcome.obj is not None:
            self._replied_rv[obj.ref] = outcome.obj.metadata.resource_version
        return outcome.obj

    def patch(self, request: apiserver.Request) -> None:
        """Issue a prepared request (the adoption/release patches of ClaimObject)."""
        outcome = self._apply(request)
        if not outcome.ok:
            raise SyncAborted(outcome.error)
        self.requests.append(request)

    def delete(self, ref: ObjRef) -> None:
        """DELETE without preconditions; NotFound is not an error (cleanupDeployment)."""
        outcome = self._apply(apiserver.Delete(ref))
        if outcome.ok:
            self.requests.append(apiserver.Delete(ref))
        elif not outcome.error.startswith("NotFound"):
            raise SyncAborted(outcome.error)


@dataclass
class SyncContext:
    """One syncDeployment in progress: the state it read, the API it writes through, and
    the in-memory copy of the Deployment that upstream mutates as it goes."""

    state: ClusterState
    config: ModelConfig
    d: Deployment
    client: SyncClient
    pod_map: dict[str, list[Pod]] = field(default_factory=dict)

    @property
    def now(self) -> int:
        """The model time of the sync."""
        return self.state.clock


class DeploymentController(KindReconciler):
    """Rolls Deployments out through ReplicaSets (RollingUpdate, Recreate, proportional scaling)."""

    name = "deployment"
    kind = "Deployment"

    # ---- the actor interface -----------------------------------------------------------------
    def reconcile(self, state: ClusterState, obj: Any, config: ModelConfig) -> Sequence[apiserver.Request]:
        """One syncDeployment; the requests it issued up to its first error."""
        ctx = SyncContext(state, config, obj, SyncClient(state, config))
        try:
            self.sync_deployment(ctx)
        except SyncAborted:
            pass
        return ctx.client.requests

    def deadlines(self, state: ClusterState, config: ModelConfig) -> Iterable[int]:
        """progress.go requeueStuckDeployment: re-sync at lastUpdateTime + progressDeadlineSeconds + 1 s."""
        for d in state.list(self.kind):
            t = du.progress_check_time(d)
            if t is not None:
                yield t

    # ---- syncDeployment ----------------------------------------------------------------------
    def sync_deployment(self, ctx: SyncContext) -> None:
        """deployment_controller.go syncDeployment: the top-level decision order (spec §6.4)."""
        d = ctx.d
        if d.spec.selector.empty:
            # syncDeployment: a selector that selects everything only gets observedGeneration bumped.
            if d.status.observed_generation < d.metadata.generation:
                ctx.d = replace(d, status=replace(d.status, observed_generation=d.metadata.generation))
                self.write_status(ctx)
            return
        rs_list = self.get_replica_sets_for_deployment(ctx)
        ctx.pod_map = self.get_pod_map(ctx, rs_list)
        if d.metadata.deletion_timestamp is not None:
            self.sync_status_only(ctx, rs_list)
            return
        self.check_paused_conditions(ctx)
        if ctx.d.spec.paused:
            self.sync(ctx, rs_list)
            return
        if du.rollback_to(ctx.d) is not None:
            self.rollback(ctx, rs_list)
            return
        if self.is_scaling_event(ctx, rs_list):
            self.sync(ctx, rs_list)
            return
        if ctx.d.spec.strategy.type == "Recreate":
            self.rollout_recreate(ctx, rs_list)
        elif ctx.d.spec.strategy.type == "RollingUpdate":
            self.rollout_rolling(ctx, rs_list)

    def get_replica_sets_for_deployment(self, ctx: SyncContext) -> list[ReplicaSet]:
        """getReplicaSetsForDeployment: ClaimReplicaSets over every set in the namespace (spec §1.5)."""
        d = ctx.d
        all_rs = ctx.state.list("ReplicaSet", d.metadata.namespace)
        claimed, patches = claim(d, d.spec.selector, all_rs)
        for request in patches:
            ctx.client.patch(request)
        # ClaimReplicaSets returns the cached objects: an adopted set is stale from here on.
        by_uid = {rs.metadata.uid: rs for rs in all_rs}
        return [by_uid.get(rs.metadata.uid, rs) for rs in claimed]

    def get_pod_map(self, ctx: SyncContext, rs_list: Sequence[ReplicaSet]) -> dict[str, list[Pod]]:
        """getPodMapForDeployment: pods matching the selector grouped by the claimed set that controls them
        (inactive pods included: Recreate must see pods that are still terminating)."""
        pod_map: dict[str, list[Pod]] = {rs.metadata.uid: [] for rs in rs_list}
        for pod in ctx.state.pods(ctx.d.metadata.namespace):
            if not ctx.d.spec.selector.matches(pod.metadata.labels):
                continue
            ref = pod.metadata.controller_ref()
            if ref is not None and ref.uid in pod_map:
                pod_map[ref.uid].append(pod)
        return pod_map

    def sync_status_only(self, ctx: SyncContext, rs_list: Sequence[ReplicaSet]) -> None:
        """sync.go syncStatusOnly: a Deployment being deleted only gets its status updated."""
        new_rs, old_rss = self.get_all_replica_sets_and_sync_revision(ctx, rs_list, create=False)
        self.sync_deployment_status(ctx, [*old_rss, new_rs], new_rs)

    def check_paused_conditions(self, ctx: SyncContext) -> None:
        """sync.go checkPausedConditions: Progressing=Unknown DeploymentPaused/DeploymentResumed
        (never overwriting ProgressDeadlineExceeded), so a resumed rollout gets a fresh deadline."""
        d = ctx.d
        if not du.has_progress_deadline(d):
            return
        cond = find_condition(d.status.conditions, du.PROGRESSING)
        if cond is not None and cond.reason == du.TIMED_OUT:
            return
        paused_exists = cond is not None and cond.reason == du.PAUSED
        if d.spec.paused and not paused_exists:
            new = du.new_condition(du.PROGRESSING, "Unknown", du.PAUSED, "Deployment is paused", ctx.now)
        elif not d.spec.paused and paused_exists:
            new = du.new_condition(du.PROGRESSING, "Unknown", du.RESUMED, "Deployment is resumed", ctx.now)
        else:
            return
        self.set_condition(ctx, new)
        self.write_status(ctx)

    def is_scaling_event(self, ctx: SyncContext, rs_list: Sequence[ReplicaSet]) -> bool:
        """sync.go isScalingEvent (which also syncs the new set's revision, as upstream)."""
        new_rs, old_rss = self.get_all_replica_sets_and_sync_revision(ctx, rs_list, create=False)
        return du.is_scaling_event(ctx.d, [*old_rss, new_rs])

    # ---- new and old ReplicaSets -------------------------------------------------------------
    def get_all_replica_sets_and_sync_revision(
        self, ctx: SyncContext, rs_list: Sequence[ReplicaSet], *, create: bool
    ) -> tuple[ReplicaSet | None, list[ReplicaSet]]:
        """sync.go getAllReplicaSetsAndSyncRevision: (new set, all old sets), creating the new set if asked."""
        _, all_old = du.find_old_replica_sets(ctx.d, rs_list)
        new_rs = self.get_new_replica_set(ctx, rs_list, all_old, create=create)
        return new_rs, all_old

    def get_new_replica_set(self, ctx: SyncContext, rs_list: Sequence[ReplicaSet], old_rss: Sequence[ReplicaSet], *, create: bool) -> ReplicaSet | None:
        """sync.go getNewReplicaSet: sync the existing new set's annotations, revision and
        minReadySeconds, or create it (spec §6.5)."""
        d = ctx.d
        existing = du.find_new_replica_set(d, rs_list)
        new_revision = str(du.max_revision(old_rss) + 1)
        if existing is not None:
            return self.sync_existing_new_replica_set(ctx, existing, new_revision)
        if not create:
            return None
        return self.create_new_replica_set(ctx, old_rss, new_revision)

    def sync_existing_new_replica_set(self, ctx: SyncContext, existing: ReplicaSet, new_revision: str) -> ReplicaSet:
        """getNewReplicaSet, existing set: update its annotations/minReadySeconds (and return), else
        copy its revision to the Deployment and note FoundNewReplicaSet if there is no Progressing condition."""
        d = ctx.d
        rs, annotations_updated = du.set_new_rs_annotations(d, existing, new_revision, exists=True)
        if annotations_updated or rs.spec.min_ready_seconds != d.spec.min_ready_seconds:
            rs = replace(rs, spec=replace(rs.spec, min_ready_seconds=d.spec.min_ready_seconds))
            updated: ReplicaSet = ctx.client.update(rs)
            return updated
        needs_update = self.set_deployment_revision(ctx, rs.metadata.annotations.get(du.REVISION, ""))
        if du.has_progress_deadline(d) and find_condition(d.status.conditions, du.PROGRESSING) is None:
            msg = f'Found new replica set "{rs.metadata.name}"'
            self.set_condition(ctx, du.new_condition(du.PROGRESSING, "True", du.FOUND_NEW_RS, msg, ctx.now))
            needs_update = True
        if needs_update:
            self.write_status(ctx)
        return rs

    def new_replica_set_object(self, ctx: SyncContext, old_rss: Sequence[ReplicaSet], new_revision: str) -> ReplicaSet:
        """The new set getNewReplicaSet creates: `<deployment>-<hash>`, the hash label on its labels,
        template and selector, minReadySeconds, a controllerRef, NewRSNewReplicas replicas and the
        revision and replicas annotations."""
        d = ctx.d
        pod_template_hash = du.compute_hash(d.spec.template, d.status.collision_count)
        template = du.template_with_hash(d.spec.template, pod_template_hash)
        rs = ReplicaSet(
            metadata=ObjectMeta(
                name=f"{d.metadata.name}-{pod_template_hash}",
                namespace=d.metadata.namespace,
                owner_references=(controller_ref(d),),
                labels=template.metadata.labels,
            ),
            spec=ReplicaSetSpec(
                selector=du.selector_with_hash(d.spec.selector, pod_template_hash),
                template=template,
                replicas=0,
                min_ready_seconds=d.spec.min_ready_seconds,
            ),
        )
        replicas = du.new_rs_new_replicas(d, [*old_rss, rs], rs)
        rs = replace(rs, spec=replace(rs.spec, replicas=replicas))
        rs, _ = du.set_new_rs_annotations(d, rs, new_revision, exists=False)
        return rs

    def create_new_replica_set(self, ctx: SyncContext, old_rss: Sequence[ReplicaSet], new_revision: str) -> ReplicaSet:
        """getNewReplicaSet, no new set yet: create it; on AlreadyExists adopt our own equal set or
        bump status.collisionCount (hash collision); on other errors report ReplicaSetCreateError."""
        rs = self.new_replica_set_object(ctx, old_rss, new_revision)
        outcome = ctx.client.create(rs)
        already_exists = False
        if outcome.ok:
            created: ReplicaSet = outcome.obj
        elif outcome.error.startswith("AlreadyExists"):
            found = ctx.state.get("ReplicaSet", rs.metadata.namespace, rs.metadata.name)  # the lister's copy
            if found is None:
                raise SyncAborted(outcome.error)
            owner = found.metadata.controller_ref()
            if owner is None or owner.uid != ctx.d.metadata.uid or not du.equal_ignore_hash(ctx.d.spec.template, found.spec.template):
                self.record_hash_collision(ctx)
                raise SyncAborted(outcome.error)
            created, already_exists = found, True
        else:
            self.report_create_error(ctx, rs, outcome.error)
            raise SyncAborted(outcome.error)
        needs_update = self.set_deployment_revision(ctx, new_revision)
        if not already_exists and du.has_progress_deadline(ctx.d):
            msg = f'Created new replica set "{created.metadata.name}"'
            self.set_condition(ctx, du.new_condition(du.PROGRESSING, "True", du.NEW_RS_CREATED, msg, ctx.now))
            needs_update = True
        if needs_update:
            self.write_status(ctx)
        return created

    def record_hash_collision(self, ctx: SyncContext) -> None:
        """sync.go: a set with our name that is not ours (or differs) → collisionCount++ so the next
        hash differs; the status write's error is ignored, the sync ends with the create error."""
        count = (ctx.d.status.collision_count or 0) + 1
        ctx.d = replace(ctx.d, status=replace(ctx.d.status, collision_count=count))
        try:
            self.write_status(ctx)
        except SyncAborted:
            pass

    def report_create_error(self, ctx: SyncContext, rs: ReplicaSet, error: str) -> None:
        """sync.go: other create errors set Progressing=False ReplicaSetCreateError (if a deadline is set)."""
        if not du.has_progress_deadline(ctx.d):
            return
        msg = f'Failed to create new replica set "{rs.metadata.name}": {error}'
        self.set_condition(ctx, du.new_condition(du.PROGRESSING, "False", du.FAILED_RS_CREATE, msg, ctx.now))
        try:
            self.write_status(ctx)
        except SyncAborted:
            pass

    # ---- scaling -----------------------------------------------------------------------------
    def scale_replica_set(self, ctx: SyncContext, rs: ReplicaSet, new_scale: int) -> tuple[bool, ReplicaSet]:
        """sync.go scaleReplicaSet: write the size and the desired/max-replicas annotations if either
        differs; (whether the size changed, the stored set)."""
        d = ctx.d
        desired, max_replicas = d.spec.replicas, d.spec.replicas + du.max_surge(d)
        size_changes = rs.spec.replicas != new_scale
        if not size_changes and not du.replicas_annotations_need_update(rs, desired, max_replicas):
            return False, rs
        annotations = dict(rs.metadata.annotations)
        du.set_replicas_annotations(annotations, desired, max_replicas)
        new = replace(rs, metadata=replace(rs.metadata, annotations=FrozenDict(annotations)))
        new = replace(new, spec=replace(new.spec, replicas=new_scale))
        stored: ReplicaSet = ctx.client.update(new)
        return size_changes, stored

    def scale_replica_set_and_record_event(self, ctx: SyncContext, rs: ReplicaSet, new_scale: int) -> tuple[bool, ReplicaSet]:
        """sync.go scaleReplicaSetAndRecordEvent: scaleReplicaSet, but nothing at all if the size is right."""
        if rs.spec.replicas == new_scale:
            return False, rs
        return self.scale_replica_set(ctx, rs, new_scale)

    def sync(self, ctx: SyncContext, rs_list: Sequence[ReplicaSet]) -> None:
        """sync.go sync: scaling events and paused Deployments — proportional scaling, history
        cleanup when paused, status (no new set is created, no rollout step runs)."""
        new_rs, old_rss = self.get_all_replica_sets_and_sync_revision(ctx, rs_list, create=False)
        self.scale(ctx, new_rs, old_rss)
        if ctx.d.spec.paused and du.rollback_to(ctx.d) is None:
            self.cleanup_deployment(ctx, old_rss)
        self.sync_deployment_status(ctx, [*old_rss, new_rs], new_rs)

    def scale(self, ctx: SyncContext, new_rs: ReplicaSet | None, old_rss: Sequence[ReplicaSet]) -> None:
        """sync.go scale: the updates of `scale_plan` (spec §6.8), in order."""
        for step in du.scale_plan(ctx.d, new_rs, old_rss):
            if step.annotate:
                self.scale_replica_set(ctx, step.rs, step.replicas)
            else:
                self.scale_replica_set_and_record_event(ctx, step.rs, step.replicas)

    # ---- RollingUpdate -----------------------------------------------------------------------
    def rollout_rolling(self, ctx: SyncContext, rs_list: Sequence[ReplicaSet]) -> None:
        """rolling.go rolloutRolling: scale the new set up, else old sets down, else (complete)
        clean up history; then the rollout status (spec §6.6)."""
        new_rs, old_rss = self.get_all_replica_sets_and_sync_revision(ctx, rs_list, create=True)
        assert new_rs is not None
        all_rss: list[ReplicaSet] = [*old_rss, new_rs]
        if self.reconcile_new_replica_set(ctx, all_rss, new_rs):
            self.sync_rollout_status(ctx, all_rss, new_rs)
            return
        if self.reconcile_old_replica_sets(ctx, all_rss, du.filter_active(old_rss), new_rs):
            self.sync_rollout_status(ctx, all_rss, new_rs)
            return
        if du.deployment_complete(ctx.d, ctx.d.status):
            self.cleanup_deployment(ctx, old_rss)
        self.sync_rollout_status(ctx, all_rss, new_rs)

    def reconcile_new_replica_set(self, ctx: SyncContext, all_rss: Sequence[ReplicaSet], new_rs: ReplicaSet) -> bool:
        """rolling.go reconcileNewReplicaSet: grow the new set within maxSurge (or shrink it to replicas)."""
        target = du.new_rs_target(ctx.d, all_rss, new_rs)
        scaled, _ = self.scale_replica_set_and_record_event(ctx, new_rs, target)
        return scaled

    def reconcile_old_replica_sets(self, ctx: SyncContext, all_rss: Sequence[ReplicaSet], old_rss: Sequence[ReplicaSet], new_rs: ReplicaSet) -> bool:
        """rolling.go reconcileOldReplicaSets: within the max-scaled-down budget, first remove
        unavailable old replicas, then available ones down to minAvailable. Upstream swallows
        errors here (returns "not scaled"), so the sync goes on to the status."""
        if du.replica_count(old_rss) == 0:
            return False
        budget = du.max_scaled_down(ctx.d, all_rss, new_rs)
        if budget <= 0:
            return False
        try:
            old_rss, cleaned = self.cleanup_unhealthy_replicas(ctx, old_rss, budget)
            scaled = self.scale_down_old_replica_sets_for_rolling_update(ctx, [*old_rss, new_rs], old_rss)
        except SyncAborted:
            return False
        return cleaned + scaled > 0

    def cleanup_unhealthy_replicas(self, ctx: SyncContext, old_rss: Sequence[ReplicaSet], max_cleanup: int) -> tuple[list[ReplicaSet], int]:
        """rolling.go cleanupUnhealthyReplicas: (old sets oldest first as stored after scaling, replicas removed)."""
        stored = {rs.metadata.uid: rs for rs in old_rss}
        total = 0
        plan = du.cleanup_unhealthy_plan(old_rss, max_cleanup)
        for rs, new_size in plan.ops:
            _, stored[rs.metadata.uid] = self.scale_replica_set_and_record_event(ctx, rs, new_size)
            total += rs.spec.replicas - new_size
        if plan.fails_at is not None:
            raise SyncAborted(f"when cleaning up unhealthy replicas, got invalid request to scale down {plan.fails_at.ref}")
        return [stored[rs.metadata.uid] for rs in du.by_creation(old_rss)], total

    def scale_down_old_replica_sets_for_rolling_update(self, ctx: SyncContext, all_rss: Sequence[ReplicaSet], old_rss: Sequence[ReplicaSet]) -> int:
        """rolling.go scaleDownOldReplicaSetsForRollingUpdate: remove available old replicas beyond minAvailable."""
        total = 0
        for rs, new_size in du.scale_down_old_plan(ctx.d, all_rss, old_rss):
            self.scale_replica_set_and_record_event(ctx, rs, new_size)
            total += rs.spec.replicas - new_size
        return total

    # ---- Recreate ----------------------------------------------------------------------------
    def rollout_recreate(self, ctx: SyncContext, rs_list: Sequence[ReplicaSet]) -> None:
        """recreate.go rolloutRecreate: old sets to 0; wait until no old pod is left running; only
        then create/scale the new set (spec §6.7)."""
        new_rs, old_rss = self.get_all_replica_sets_and_sync_revision(ctx, rs_list, create=False)
        all_rss: list[ReplicaSet | None] = [*old_rss, new_rs]
        if self.scale_down_old_replica_sets_for_recreate(ctx, du.filter_active(old_rss)):
            self.sync_rollout_status(ctx, all_rss, new_rs)
            return
        if self.old_pods_running(ctx, new_rs, old_rss):
            self.sync_rollout_status(ctx, all_rss, new_rs)
            return
        if new_rs is None:
            new_rs, old_rss = self.get_all_replica_sets_and_sync_revision(ctx, rs_list, create=True)
            assert new_rs is not None
            all_rss = [*old_rss, new_rs]
        self.scale_up_new_replica_set_for_recreate(ctx, new_rs)
        if du.deployment_complete(ctx.d, ctx.d.status):
            self.cleanup_deployment(ctx, old_rss)
        self.sync_rollout_status(ctx, all_rss, new_rs)

    def scale_down_old_replica_sets_for_recreate(self, ctx: SyncContext, active_old: Sequence[ReplicaSet]) -> bool:
        """recreate.go scaleDownOldReplicaSetsForRecreate: every active old set to 0."""
        scaled = False
        for rs in active_old:
            did, _ = self.scale_replica_set_and_record_event(ctx, rs, 0)
            scaled = scaled or did
        return scaled

    def old_pods_running(self, ctx: SyncContext, new_rs: ReplicaSet | None, old_rss: Sequence[ReplicaSet]) -> bool:
        """recreate.go oldPodsRunning: an old set reports replicas, or a pod of a set other than the
        new one is not Succeeded/Failed (Pending, Running and Unknown count, terminating or not)."""
        if du.actual_replica_count(old_rss) > 0:
            return True
        new_uid = new_rs.metadata.uid if new_rs is not None else None
        for uid, pods in ctx.pod_map.items():
            if uid == new_uid:
                continue
            if any(p.status.phase not in (FAILED, SUCCEEDED) for p in pods):
                return True
        return False

    def scale_up_new_replica_set_for_recreate(self, ctx: SyncContext, new_rs: ReplicaSet) -> bool:
        """recreate.go scaleUpNewReplicaSetForRecreate: the new set to spec.replicas."""
        scaled, _ = self.scale_replica_set_and_record_event(ctx, new_rs, ctx.d.spec.replicas)
        return scaled

    # ---- rollback (legacy annotation) ----------------------------------------------------------
    def rollback(self, ctx: SyncContext, rs_list: Sequence[ReplicaSet]) -> None:
        """rollback.go rollback: `deprecated.deployment.rollback.to` (0 = the previous revision) copies
        that revision's template into the Deployment; the annotation is always cleared."""
        new_rs, all_old = self.get_all_replica_sets_and_sync_revision(ctx, rs_list, create=True)
        all_rss = [*all_old, *([new_rs] if new_rs is not None else [])]
        target = du.rollback_to(ctx.d) or du.last_revision(all_rss)
        if target != 0:
            for rs in all_rss:
                if du.revision(rs) == target:
                    self.rollback_to_template(ctx, rs)
                    return
        self.update_deployment_and_clear_rollback_to(ctx)

    def rollback_to_template(self, ctx: SyncContext, rs: ReplicaSet) -> None:
        """rollback.go rollbackToTemplate: take the set's template (and its annotations) if it differs."""
        d = ctx.d
        if not du.equal_ignore_hash(d.spec.template, rs.spec.template):
            template = du.template_without_hash(rs.spec.template)
            annotations = du.deployment_annotations_from(d, rs)
            ctx.d = replace(d, spec=replace(d.spec, template=template), metadata=replace(d.metadata, annotations=annotations))
        self.update_deployment_and_clear_rollback_to(ctx)

    def update_deployment_and_clear_rollback_to(self, ctx: SyncContext) -> None:
        """rollback.go updateDeploymentAndClearRollbackTo: drop the annotation and update the Deployment."""
        d = ctx.d
        ctx.d = replace(d, metadata=replace(d.metadata, annotations=d.metadata.annotations.without(du.ROLLBACK_TO)))
        ctx.client.update(ctx.d)

    # ---- history -----------------------------------------------------------------------------
    def cleanup_deployment(self, ctx: SyncContext, old_rss: Sequence[ReplicaSet]) -> None:
        """sync.go cleanupDeployment: delete the oldest empty old sets beyond revisionHistoryLimit (spec §6.9)."""
        for rs in du.history_to_delete(ctx.d, old_rss):
            ctx.client.delete(rs.ref)

    # ---- status ------------------------------------------------------------------------------
    def set_condition(self, ctx: SyncContext, cond: Condition) -> None:
        """SetDeploymentCondition on the in-memory Deployment."""
        conds = du.set_deployment_condition(ctx.d.status.conditions, cond)
        ctx.d = replace(ctx.d, status=replace(ctx.d.status, conditions=conds))

    def set_deployment_revision(self, ctx: SyncContext, rev: str) -> bool:
        """deployment_util.go SetDeploymentRevision on the in-memory Deployment; True if it changed."""
        d = ctx.d
        if d.metadata.annotations.get(du.REVISION, "") == rev:
            return False
        ctx.d = replace(d, metadata=replace(d.metadata, annotations=d.metadata.annotations.set(du.REVISION, rev)))
        return True

    def write_status(self, ctx: SyncContext) -> None:
        """UpdateStatus of the in-memory Deployment.

        Upstream's status subresource also stores the Deployment's annotations (the status
        strategy only resets spec and labels), which is how the revision annotation is
        written. The model's status subresource stores status only, so a changed annotation
        is written first with an update of the main resource, chained with the status update.
        """
        d = ctx.d
        stored = ctx.client.get(d.ref)
        base = d
        if stored is not None and stored.metadata.annotations != d.metadata.annotations:
            base = replace(ctx.client.update(d), status=d.status)
        ctx.client.update(base, status=True)

    def sync_deployment_status(self, ctx: SyncContext, all_rss: Sequence[ReplicaSet | None], new_rs: ReplicaSet | None) -> None:
        """sync.go syncDeploymentStatus: write calculateStatus if it differs (no progress estimation)."""
        new_status = du.calculate_status(all_rss, new_rs, ctx.d, ctx.now)
        if new_status == ctx.d.status:
            return
        ctx.d = replace(ctx.d, status=new_status)
        self.write_status(ctx)

    def sync_rollout_status(self, ctx: SyncContext, all_rss: Sequence[ReplicaSet | None], new_rs: ReplicaSet | None) -> None:
        """progress.go syncRolloutStatus: calculateStatus plus the Progressing condition (complete,
        progressing, timed out) and the ReplicaFailure condition (spec §6.10)."""
        d = ctx.d
        status = du.calculate_status(all_rss, new_rs, d, ctx.now)
        conds = status.conditions
        if not du.has_progress_deadline(d):
            conds = du.remove_deployment_condition(conds, du.PROGRESSING)
        current = find_condition(d.status.conditions, du.PROGRESSING)
        rollout_done = status.replicas == status.updated_replicas and current is not None and current.reason == du.NEW_RS_AVAILABLE
        if du.has_progress_deadline(d) and not rollout_done:
            conds = self.progressing_conditions(ctx, replace(status, conditions=conds), current, new_rs)
        failures = du.replica_failure_conditions(all_rss, new_rs)
        if failures:
            conds = du.set_deployment_condition(conds, failures[0])
        else:
            conds = du.remove_deployment_condition(conds, du.REPLICA_FAILURE)
        status = replace(status, conditions=conds)
        if status == d.status:
            return  # requeueStuckDeployment: see deadlines()
        ctx.d = replace(d, status=status)
        self.write_status(ctx)

    def progressing_conditions(self, ctx: SyncContext, status: DeploymentStatus, current: Condition | None, new_rs: ReplicaSet | None) -> tuple[Condition, ...]:
        """The Progressing condition of syncRolloutStatus: NewReplicaSetAvailable when complete;
        ReplicaSetUpdated with a fresh lastUpdateTime on progress; ProgressDeadlineExceeded on timeout."""
        d = ctx.d
        subject = f'ReplicaSet "{new_rs.metadata.name}"' if new_rs is not None else f'Deployment "{d.metadata.name}"'
        conds = status.conditions
        if du.deployment_complete(d, status):
            cond = du.new_condition(du.PROGRESSING, "True", du.NEW_RS_AVAILABLE, f"{subject} has successfully progressed.", ctx.now)
            return du.set_deployment_condition(conds, cond)
        if du.deployment_progressing(d, status):
            cond = du.new_condition(du.PROGRESSING, "True", du.RS_UPDATED, f"{subject} is progressing.", ctx.now)
            if current is not None:
                if current.status == "True":
                    cond = replace(cond, last_transition_time=current.last_transition_time)
                conds = du.remove_deployment_condition(conds, du.PROGRESSING)
            return du.set_deployment_condition(conds, cond)
        if du.deployment_timed_out(d, status, ctx.now):
            cond = du.new_condition(du.PROGRESSING, "False", du.TIMED_OUT, f"{subject} has timed out progressing.", ctx.now)
            return du.set_deployment_condition(conds, cond)
        return conds
