"""The Job controller (pkg/controller/job/job_controller.go; v1.28.0 read from the local
tree, current releases from kubernetes/kubernetes@6ae037f and success_policy.go@4a37f00).

One Reconcile("job", ns, name) is one syncJob:

1. a Job managed by another controller (spec.managedBy) is skipped; a finished Job
   (Complete or Failed True) only has its back-off record dropped;
2. expectations are checked before pods are listed; pods are claimed (adopted pods get
   the `batch.kubernetes.io/job-tracking` finalizer, released pods lose it);
3. succeeded and failed are the status counters plus the uncounted uids plus the newly
   finished pods that still hold the finalizer (failed ones unless an Ignore rule of the
   pod failure policy matches);
4. startTime is set on the first unsuspended sync; the back-off record is advanced with
   the newly finished pods;
5. a finished condition is chosen: an existing SuccessCriteriaMet, an existing
   FailureTarget, a FailJob rule, failed > backoffLimit (or, with restartPolicy
   OnFailure, the container restarts reaching it), activeDeadlineSeconds, failed indexes
   (backoffLimitPerIndex / maxFailedIndexes), the success policy;
6. with a finished condition every active pod is deleted (finalizers kept); otherwise,
   with expectations satisfied and the Job not being deleted, manageJob deletes all pods
   of a suspended Job or the surplus (finalizer removed first, so they are not counted),
   or creates the deficit (at most 500, none while back-off is pending), and the
   Suspended condition follows spec.suspend (startTime reset on resume); a Job whose
   succeeded count reaches completions with no active pod has succeeded;
7. status tracking: newly finished pods go to status.uncountedTerminatedPods (at most 500
   per sync), the status is written, their finalizers are removed, their uids move to
   the succeeded/failed counters, and the terminal condition (Complete/Failed) is added
   only when nothing is uncounted (and, in current releases, no pod is terminating).

The orphan worker (Reconcile("job", ns, pod, kind="Pod")) removes the tracking finalizer
from pods no unfinished Job controls. A Reconcile of a Job that no longer exists drops
its back-off record.

Differences between releases (config.kubernetes_version):

* status.terminating, podReplacementPolicy (JobPodReplacementPolicy: alpha, off in
  1.28; beta, on from 1.29; GA 1.34). In 1.28 status.terminating stays unset and only a
  podFailurePolicy makes the controller wait for terminating pods to be Failed.
* backoffLimitPerIndex, maxFailedIndexes and the FailIndex action (JobBackoffLimitPerIndex:
  alpha, off in 1.28; on from 1.29).
* successPolicy (JobSuccessPolicy: alpha 1.30, on from 1.31).
* spec.managedBy (JobManagedBy: alpha 1.30, on from 1.32).
* Interim conditions: from 1.31 (kubernetes#125510; the CompletionsReached reason came with
  #126067, which absorbed the closed #126074) every failure is first
  recorded as FailureTarget and every success as SuccessCriteriaMet (reason
  CompletionsReached or SuccessPolicy), and the terminal Failed/Complete condition, which
  copies the interim reason and message, waits until no pod is terminating. Before 1.31
  only a FailJob rule goes through FailureTarget; other failures set Failed and success
  sets Complete (empty reason) directly, without waiting for terminating pods.
* 1.28.0 counts terminating pods into the pods to remove when only failed pods are
  replaced (rmAtLeast = active + terminating − wantActive), deleting an active pod;
  fixed in 1.29 (kubernetes#121147).
* From 1.31 (kubernetes#125546, #125089) pods deleted in a sync are subtracted from
  status.ready and added to status.terminating in that same sync.
* While back-off delays a creation, manageJob reports active = 0 (job_controller.go
  `return 0`) until 1.34 (kubernetes#139457, cherry-picked to the 1.34 and 1.35 patch
  releases as #139752 and #139751; the 1.33 pick #139753 was closed unmerged; the model's
  1.34 is the latest patch). From 1.32 the API server rejects a
  status whose ready exceeds active (JobManagedBy status validation), so in 1.32–1.33
  such a sync's status write fails and the sync stops before removing finalizers.
* The orphan worker keeps the finalizer of pods controlled by something other than a
  batch/v1 Job from 1.31 (kubernetes#124798); in 1.28 (resolveControllerRef finds no
  Job) it removes it. From 1.29 (kubernetes#119944) a finished Job's pods that still
  hold the finalizer are cleaned up at once; in 1.28 only when such a pod is deleted.
* podReplacementPolicy defaulting (SetDefaults_Job: Failed with a pod failure policy,
  else TerminatingOrFailed) happens only with the gate, from 1.29; the create hook
  (kmodel/objects/batch_hooks.py) cannot see the release and always defaults, which the
  1.28 controller ignores (see that module).
* The pod failure back-off is 10 s doubling to 10 min in every modelled release
  (backoff_utils.go; DefaultJobPodFailureBackOff/MaxJobPodFailureBackOff are the same in
  1.28 and current code); JobReadyPods (status.ready) and PodIndexLabel (the index label)
  are on in every modelled release.

Deliberate abstractions: API calls never fail (no slow-start batching is visible, every
create and delete succeeds); the 1 s pod-event batching and the work queue are not
modelled (a sync is enabled whenever it would change something); finalizer removal is a
full-object update rather than a strategic-merge patch, and status writes carry no
resourceVersion precondition (upstream would retry a conflict); finalizer expectations are the
controller's own finalizer removals still in flight (async delivery); a Job whose spec
lost its generated selector (the model's Apply replaces the whole spec, which the API
server would reject as immutable) is read through generateSelector; the ActivePods order
without deletion cost or ranks is used for removal, as upstream. The model's kubelet stops
containers at once with exit code 0 on SIGTERM, so a deleted pod that the controller sees
only once terminal ends Succeeded (real containers may exit 143 or be killed later).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

from kmodel import apiserver
from kmodel.actions import Action, Reconcile
from kmodel.actors import KindReconciler
from kmodel.config import ModelConfig
from kmodel.controllers import job_indexes as ix
from kmodel.controllers.common import claim, expectations_satisfied, pod_from_template
from kmodel.controllers.job_backoff import BackoffRecord, finished_time, new_backoff_record, record_remaining, remaining_time_per_index
from kmodel.controllers.job_policy import match_pod_failure_policy, match_success_policy
from kmodel.frozen import EMPTY, FrozenDict
from kmodel.objects.batch import Job, JobStatus, UncountedTerminatedPods
from kmodel.objects.batch_hooks import generate_selector
from kmodel.objects.meta import Condition, find_condition
from kmodel.objects.pod import FAILED, PENDING, RUNNING, SUCCEEDED, TERMINAL_PHASES, Container, Pod, PodTemplateSpec
from kmodel.state import ClusterState

NAME = "job"
TRACKING_FINALIZER = "batch.kubernetes.io/job-tracking"
JOB_CONTROLLER_NAME = "kubernetes.io/job-controller"  # batch/v1 JobControllerName (managedBy)
MAX_UNCOUNTED_PODS = 500  # job_controller.go MaxUncountedPods
MAX_POD_CREATE_DELETE_PER_SYNC = 500  # job_controller.go MaxPodCreateDeletePerSync

COMPLETE, FAILED_COND, FAILURE_TARGET = "Complete", "Failed", "FailureTarget"
SUCCESS_CRITERIA_MET, SUSPENDED = "SuccessCriteriaMet", "Suspended"


# ---- release differences ---------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class JobFeatures:
    """The behaviour switches of the modelled release (see the module docstring)."""

    pod_replacement_policy: bool
    backoff_limit_per_index: bool
    success_policy: bool
    managed_by: bool
    delay_terminal: bool
    rm_counts_terminating: bool
    deletions_adjust_counts: bool
    active_zero_during_backoff: bool
    rejects_ready_over_active: bool
    orphan_keeps_foreign_owner: bool
    cleanup_finished_job_pods: bool
    finished_job_expectations: bool

    @classmethod
    def of(cls, config: ModelConfig) -> JobFeatures:
        """The switches for config.kubernetes_version."""
        v = config.at_least
        return cls(
            pod_replacement_policy=v("1.29"),  # JobPodReplacementPolicy beta
            backoff_limit_per_index=v("1.29"),  # JobBackoffLimitPerIndex beta
            success_policy=v("1.31"),  # JobSuccessPolicy beta
            managed_by=v("1.32"),  # JobManagedBy beta
            delay_terminal=v("1.31"),  # delayTerminalCondition (#125510)
            rm_counts_terminating=not v("1.29"),  # fixed by #121147
            deletions_adjust_counts=v("1.31"),  # #125546, #125089
            active_zero_during_backoff=not v("1.34"),  # fixed by #139457
            rejects_ready_over_active=v("1.32") and not v("1.34"),  # only observable with the bug above
            orphan_keeps_foreign_owner=v("1.31"),  # #124798
            cleanup_finished_job_pods=v("1.29"),  # #119944
            finished_job_expectations=v("1.33"),  # #130333 (fixes #130103)
        )


# ---- small predicates ------------------------------------------------------------------------


def job_key(job: Job) -> str:
    """The controller's key for a Job (namespace/name)."""
    return f"{job.metadata.namespace}/{job.metadata.name}"


def is_finished(job: Job) -> bool:
    """util.IsJobFinished: Complete or Failed is True."""
    return any(c.type in (COMPLETE, FAILED_COND) and c.status == "True" for c in job.status.conditions)


def is_suspended(job: Job) -> bool:
    """jobSuspended."""
    return bool(job.spec.suspend)


def is_indexed(job: Job) -> bool:
    """isIndexedJob."""
    return job.spec.completion_mode == "Indexed"


def managed_externally(job: Job, f: JobFeatures) -> bool:
    """managedByExternalController: managedBy set to another controller (JobManagedBy on)."""
    return f.managed_by and job.spec.managed_by is not None and job.spec.managed_by != JOB_CONTROLLER_NAME


def has_tracking_finalizer(pod: Pod) -> bool:
    """hasJobTrackingFinalizer."""
    return TRACKING_FINALIZER in pod.metadata.finalizers


def is_terminating(pod: Pod) -> bool:
    """controller.IsPodTerminating: being deleted and not yet terminal."""
    return pod.metadata.deletion_timestamp is not None and pod.status.phase not in TERMINAL_PHASES


def per_index(job: Job, f: JobFeatures) -> bool:
    """hasBackoffLimitPerIndex."""
    return f.backoff_limit_per_index and job.spec.backoff_limit_per_index is not None


def only_replace_failed(job: Job, f: JobFeatures) -> bool:
    """onlyReplaceFailedPods: podReplacementPolicy Failed (gate on) or a podFailurePolicy."""
    if f.pod_replacement_policy and job.spec.pod_replacement_policy == "Failed":
        return True
    return job.spec.pod_failure_policy is not None


def tracks_terminating(job: Job, f: JobFeatures) -> bool:
    """trackTerminatingPods (current) / the JobPodReplacementPolicy gate (1.28)."""
    return f.pod_replacement_policy or f.managed_by or job.spec.pod_failure_policy is not None


def is_pod_failed(pod: Pod, job: Job, f: JobFeatures) -> bool:
    """isPodFailed: phase Failed, or — unless only failed pods are replaced — being deleted
    without having succeeded (orphans never reach Failed)."""
    if pod.status.phase == FAILED:
        return True
    if only_replace_failed(job, f):
        return False
    return pod.metadata.deletion_timestamp is not None and pod.status.phase != SUCCEEDED


def effective_job(job: Job) -> Job:
    """The Job as the controller reads it: a spec without its generated selector (only
    possible in the model, see the module docstring) is read through generateSelector."""
    if job.spec.selector is None and not job.spec.manual_selector and job.metadata.uid:
        return generate_selector(job)
    return job


def new_condition(type_: str, status: str, reason: str, message: str, now: int) -> Condition:
    """newCondition: lastProbeTime and lastTransitionTime are now."""
    return Condition(type_, status, reason=reason, message=message, last_transition_time=now, last_probe_time=now)


def ensure_condition(conds: tuple[Condition, ...], type_: str, status: str, reason: str, message: str, now: int) -> tuple[tuple[Condition, ...], bool]:
    """ensureJobConditionStatus: replace a differing condition, append a new one unless it is False."""
    cur = find_condition(conds, type_)
    if cur is not None:
        if cur.status != status or cur.reason != reason or cur.message != message:
            new = new_condition(type_, status, reason, message, now)
            return tuple(new if c.type == type_ else c for c in conds), True
        return conds, False
    if status != "False":
        return conds + (new_condition(type_, status, reason, message, now),), True
    return conds, False


def _without_finalizer(pod: Pod) -> Pod:
    """removeTrackingFinalizerPatch applied to the pod."""
    fins = tuple(x for x in pod.metadata.finalizers if x != TRACKING_FINALIZER)
    return replace(pod, metadata=replace(pod.metadata, finalizers=fins))


def remove_finalizer_request(pod: Pod) -> apiserver.Update:
    """removeTrackingFinalizerPatch: a patch of the finalizers (no resourceVersion), applied
    to the pod as stored when it lands."""
    return apiserver.Update(_without_finalizer(pod), check_rv=False, base=pod)


def _removes_finalizer(request: Any) -> str | None:
    """The uid whose tracking finalizer an in-flight request removes, if any."""
    if isinstance(request, apiserver.Update) and not request.status and isinstance(request.obj, Pod):
        if TRACKING_FINALIZER not in request.obj.metadata.finalizers:
            return request.obj.metadata.uid
    return None


def finish_in_flight(state: ClusterState, key: tuple[str, ...]) -> bool:
    """finishedJobExpectations: this controller has written a Complete or Failed condition
    for the Job that it has not observed yet (the status write still in flight)."""
    for f in state.inflight:
        r = f.request
        if f.actor == NAME and f.key == key and isinstance(r, apiserver.Update) and r.status and isinstance(r.obj, Job) and is_finished(r.obj):
            return True
    return False


def expected_removed_finalizers(state: ClusterState, key: tuple[str, ...]) -> frozenset[str]:
    """finalizerExpectations: uids whose finalizer removal this controller issued for the
    Job and has not observed yet (its requests still in flight)."""
    out = set()
    for f in state.inflight:
        if f.actor == NAME and f.key == key:
            uid = _removes_finalizer(f.request)
            if uid:
                out.add(uid)
    return frozenset(out)


# ---- the sync context ------------------------------------------------------------------------


@dataclass
class SyncCtx:
    """syncJobCtx: what one sync knows about a Job and its pods."""

    job: Job
    f: JobFeatures
    now: int
    pods: list[Pod]
    active: list[Pod]
    ready: int
    terminating: int | None
    uncounted_succeeded: frozenset[str]
    uncounted_failed: frozenset[str]
    expected_rm: frozenset[str]
    record: BackoffRecord
    succeeded: int = 0
    failed: int = 0
    prev_succeeded_idx: ix.Intervals = ()
    succeeded_idx: ix.Intervals = ()
    failed_idx: ix.Intervals | None = None
    finished: Condition | None = None
    delayed: dict[int, Pod] = field(default_factory=dict)

    @property
    def completions(self) -> int:
        """spec.completions (0 when unset; only used for Indexed Jobs, where it is set)."""
        return self.job.spec.completions or 0

    def valid_unaccounted(self, uncounted: frozenset[str]) -> list[Pod]:
        """getValidPodsWithFilter: pods holding the finalizer, not in `uncounted`, not
        expected to lose the finalizer, and (Indexed) with a valid index."""
        out = []
        for p in self.pods:
            uid = p.metadata.uid
            if not has_tracking_finalizer(p) or uid in uncounted or uid in self.expected_rm:
                continue
            if is_indexed(self.job) and ix.valid_index(p, self.completions) is None:
                continue
            out.append(p)
        return out


def new_finished_pods(ctx: SyncCtx) -> tuple[list[Pod], list[Pod]]:
    """getNewFinishedPods: succeeded and failed pods not yet accounted for."""
    succeeded = [p for p in ctx.valid_unaccounted(ctx.uncounted_succeeded) if p.status.phase == SUCCEEDED]
    failed = [p for p in ctx.valid_unaccounted(ctx.uncounted_failed) if is_pod_failed(p, ctx.job, ctx.f)]
    return succeeded, failed


def non_ignored_failed(ctx: SyncCtx, failed: Sequence[Pod]) -> int:
    """nonIgnoredFailedPodsCount: failed pods not matched by an Ignore rule."""
    pfp = ctx.job.spec.pod_failure_policy
    if pfp is None:
        return len(failed)
    return sum(1 for p in failed if match_pod_failure_policy(pfp, p, ctx.f.backoff_limit_per_index).count_failed)


def past_backoff_limit_on_failure(job: Job, pods: Sequence[Pod]) -> bool:
    """pastBackoffLimitOnFailure: with restartPolicy OnFailure, the restarts of Pending and
    Running pods reach backoffLimit (exceed 0 when it is 0)."""
    if job.spec.template.spec.restart_policy != "OnFailure":
        return False
    restarts = sum(
        s.restart_count for p in pods if p.status.phase in (RUNNING, PENDING) for s in p.status.init_container_statuses + p.status.container_statuses
    )
    limit = job.spec.backoff_limit or 0
    return restarts > 0 if limit == 0 else restarts >= limit


def past_active_deadline(job: Job, now: int) -> bool:
    """pastActiveDeadline: never while suspended; elapsed ≥ activeDeadlineSeconds."""
    ads = job.spec.active_deadline_seconds
    if ads is None or job.status.start_time is None or is_suspended(job):
        return False
    return now - job.status.start_time >= ads


def fail_job_message(ctx: SyncCtx) -> str | None:
    """getFailJobMessage: the message of the first failed pod matching a FailJob rule."""
    pfp = ctx.job.spec.pod_failure_policy
    if pfp is None:
        return None
    for p in ctx.pods:
        if is_pod_failed(p, ctx.job, ctx.f):
            m = match_pod_failure_policy(pfp, p, ctx.f.backoff_limit_per_index)
            if m.fail_job_message is not None:
                return m.fail_job_message
    return None


def failure_condition(ctx: SyncCtx, reason: str, message: str) -> Condition:
    """newFailureCondition: FailureTarget when terminal conditions are delayed, else Failed."""
    type_ = FAILURE_TARGET if ctx.f.delay_terminal else FAILED_COND
    return new_condition(type_, "True", reason, message, ctx.now)


def success_condition(ctx: SyncCtx) -> Condition:
    """newSuccessCondition: SuccessCriteriaMet (CompletionsReached) when delayed, else Complete."""
    if ctx.f.delay_terminal:
        return new_condition(SUCCESS_CRITERIA_MET, "True", "CompletionsReached", "Reached expected number of succeeded pods", ctx.now)
    return new_condition(COMPLETE, "True", "", "", ctx.now)


def success_criteria_met_enabled(f: JobFeatures) -> bool:
    """hasSuccessCriteriaMetCondition / isSuccessCriteriaMetCondition gate."""
    return f.success_policy or f.delay_terminal


def _existing_success_criteria_met(job: Job, f: JobFeatures) -> Condition | None:
    """hasSuccessCriteriaMetCondition."""
    if not success_criteria_met_enabled(f):
        return None
    c = find_condition(job.status.conditions, SUCCESS_CRITERIA_MET)
    return c if c is not None and c.status == "True" else None


def is_success_criteria_met(cond: Condition | None, f: JobFeatures) -> bool:
    """isSuccessCriteriaMetCondition."""
    return success_criteria_met_enabled(f) and cond is not None and cond.type == SUCCESS_CRITERIA_MET and cond.status == "True"


# ---- indexes -----------------------------------------------------------------------------


def calculate_succeeded_indexes(ctx: SyncCtx) -> tuple[ix.Intervals, ix.Intervals]:
    """calculateSucceededIndexes: status.completedIndexes, and with the succeeded pods
    that still hold the finalizer."""
    prev = ix.parse(ctx.job.status.completed_indexes, ctx.completions)
    new = {i for p in ctx.pods if p.status.phase == SUCCEEDED and has_tracking_finalizer(p) and (i := ix.valid_index(p, ctx.completions)) is not None}
    return prev, ix.with_indexes(prev, new)


def is_index_failed(ctx: SyncCtx, pod: Pod) -> bool:
    """isIndexFailed: a FailIndex rule matched, or a counted failure with the index's
    failure count already at backoffLimitPerIndex."""
    if not is_pod_failed(pod, ctx.job, ctx.f):
        return False
    counted = True
    pfp = ctx.job.spec.pod_failure_policy
    if pfp is not None:
        m = match_pod_failure_policy(pfp, pod, ctx.f.backoff_limit_per_index)
        if m.action == "FailIndex":
            return True
        counted = m.count_failed
    return counted and ix.index_failure_count(pod) >= (ctx.job.spec.backoff_limit_per_index or 0)


def calculate_failed_indexes(ctx: SyncCtx) -> ix.Intervals:
    """calculateFailedIndexes: status.failedIndexes plus indexes failed since."""
    prev = ix.parse(ctx.job.status.failed_indexes, ctx.completions) if ctx.job.status.failed_indexes is not None else ()
    new = {i for p in ctx.pods if has_tracking_finalizer(p) and (i := ix.valid_index(p, ctx.completions)) is not None and is_index_failed(ctx, p)}
    return ix.with_indexes(prev, new)


def pods_with_delayed_deletion(ctx: SyncCtx) -> dict[int, Pod]:
    """getPodsWithDelayedDeletionPerIndex: per index that is neither succeeded, failed nor
    active, the last failed pod (most failures, latest finish); its finalizer stays until
    a replacement carries the failure count on."""
    active = ix.indexes_of(ctx.active)
    out: dict[int, Pod] = {}
    for p in ctx.valid_unaccounted(frozenset()):
        if not is_pod_failed(p, ctx.job, ctx.f):
            continue
        i = ix.valid_index(p, ctx.completions)
        if i is None or ix.contains(ctx.succeeded_idx, i) or ix.contains(ctx.failed_idx, i) or i in active:
            continue
        last = out.get(i)
        if last is None or (ix.index_absolute_failure_count(last) <= ix.index_absolute_failure_count(p) and not finished_time(p) < finished_time(last)):
            out[i] = p
    return out


def first_pending_indexes(ctx: SyncCtx, count: int) -> list[int]:
    """firstPendingIndexes over succeeded, active, failed and (only-failed replacement)
    terminating indexes."""
    non_pending = ix.with_indexes(ctx.succeeded_idx, ix.indexes_of(ctx.active))
    if only_replace_failed(ctx.job, ctx.f):
        non_pending = ix.with_indexes(non_pending, ix.indexes_of(p for p in ctx.pods if is_terminating(p)))
    if ctx.failed_idx is not None:
        non_pending = ix.merge(non_pending, ctx.failed_idx)
    return ix.first_pending_indexes(non_pending, count, ctx.completions)


def creatable_indexes(ctx: SyncCtx, indexes: list[int]) -> tuple[list[int], int]:
    """getPodCreationInfoForIndependentIndexes: the indexes out of per-index back-off, or
    none and the smallest remaining back-off."""
    now_ok = []
    remaining: int | None = None
    for i in indexes:
        r = remaining_time_per_index(ctx.delayed.get(i), ctx.now)
        if r == 0:
            now_ok.append(i)
        elif remaining is None or r < remaining:
            remaining = r
    if now_ok:
        return now_ok, 0
    return [], remaining or 0


# ---- pods ------------------------------------------------------------------------------


def active_pods_for_removal(ctx: SyncCtx, pods: Sequence[Pod], rm_at_least: int) -> list[Pod]:
    """activePodsForRemoval: (Indexed) pods with duplicate, missing or out-of-range indexes,
    then the first in ActivePods order up to rm_at_least."""
    rm: list[Pod] = []
    left: list[Pod] = list(pods)
    if is_indexed(ctx.job):
        rm, left = ix.duplicated_index_pods(pods, ctx.completions)
    if len(rm) < rm_at_least:
        rm.extend(ix.active_pods_order(left)[: rm_at_least - len(rm)])
    return rm


def _with_index_env(c: Container) -> Container:
    """addCompletionIndexEnvVariable: JOB_COMPLETION_INDEX from the index label (PodIndexLabel on)."""
    raw = c.extra.get("env", ())
    env: tuple[Any, ...] = tuple(raw) if isinstance(raw, tuple) else ()
    if any(isinstance(e, dict) and e.get("name") == ix.COMPLETION_INDEX_ENV for e in env):
        return c
    ref: FrozenDict[str, Any] = FrozenDict({"fieldPath": f"metadata.labels['{ix.COMPLETION_INDEX_ANNOTATION}']"})
    var: FrozenDict[str, Any] = FrozenDict({"name": ix.COMPLETION_INDEX_ENV, "valueFrom": FrozenDict({"fieldRef": ref})})
    return replace(c, extra=c.extra.set("env", env + (var,)))


def index_failure_counts(ctx: SyncCtx, replaced: Pod | None) -> tuple[int, int]:
    """getNewIndexFailureCounts: the replaced pod's counts, its own failure added as counted or ignored."""
    if replaced is None:
        return 0, 0
    counted, ignored = ix.index_failure_count(replaced), ix.index_ignored_failure_count(replaced)
    pfp = ctx.job.spec.pod_failure_policy
    if pfp is not None and not match_pod_failure_policy(pfp, replaced, ctx.f.backoff_limit_per_index).count_failed:
        return counted, ignored + 1
    return counted + 1, ignored


def new_pod(ctx: SyncCtx, index: int | None) -> Pod:
    """The pod manageJob creates: the template with the tracking finalizer and, for an
    index, its annotation and label, JOB_COMPLETION_INDEX, hostname `<job>-<index>`,
    generateName `<job>-<index>-` and (per-index limits) the failure-count annotations."""
    job = ctx.job
    tpl: PodTemplateSpec = job.spec.template
    generate_name: str | None = None
    if index is not None:
        annotations = dict(tpl.metadata.annotations)
        annotations[ix.COMPLETION_INDEX_ANNOTATION] = str(index)
        if per_index(job, ctx.f):
            counted, ignored = index_failure_counts(ctx, ctx.delayed.get(index))
            annotations[ix.INDEX_FAILURE_COUNT_ANNOTATION] = str(counted)
            if ignored > 0:
                annotations[ix.INDEX_IGNORED_FAILURE_COUNT_ANNOTATION] = str(ignored)
        labels = tpl.metadata.labels.set(ix.COMPLETION_INDEX_ANNOTATION, str(index))
        spec = replace(
            tpl.spec,
            hostname=f"{job.metadata.name}-{index}",
            containers=tuple(_with_index_env(c) for c in tpl.spec.containers),
            init_containers=tuple(_with_index_env(c) for c in tpl.spec.init_containers),
        )
        tpl = replace(tpl, metadata=replace(tpl.metadata, labels=labels, annotations=FrozenDict(annotations)), spec=spec)
        generate_name = ix.generate_name_with_index(job.metadata.name, index)
    pod = pod_from_template(job, tpl, generate_name=generate_name)
    # appendJobCompletionFinalizerIfNotFound
    return replace(pod, metadata=replace(pod.metadata, finalizers=pod.metadata.finalizers + (TRACKING_FINALIZER,)))


def delete_job_pods(pods: Sequence[Pod]) -> list[apiserver.Request]:
    """deleteJobPods: remove the tracking finalizer, then DELETE (so the pod is never counted)."""
    reqs: list[apiserver.Request] = []
    for p in pods:
        if has_tracking_finalizer(p):
            reqs.append(remove_finalizer_request(p))
        reqs.append(apiserver.Delete(p.ref, uid=p.metadata.uid))
    return reqs


@dataclass
class ManageResult:
    """What manageJob did: the active count it reports and its requests."""

    active: int
    requests: list[apiserver.Request]
    deleted: list[Pod] = field(default_factory=list)


def _after_deletions(ctx: SyncCtx, deleted: Sequence[Pod]) -> None:
    """From 1.31 the deleted pods leave status.ready and join status.terminating at once."""
    if ctx.f.deletions_adjust_counts:
        if ctx.terminating is not None:
            ctx.terminating += len(deleted)
        ctx.ready -= sum(1 for p in deleted if p.ready)


def want_active(ctx: SyncCtx, active: int) -> int:
    """wantActive: parallelism for a work queue without success (else the current active),
    min(completions − succeeded, parallelism) otherwise, never below 0."""
    parallelism = ctx.job.spec.parallelism or 0
    if ctx.job.spec.completions is None:
        return active if ctx.succeeded > 0 else parallelism
    return max(0, min(ctx.job.spec.completions - ctx.succeeded, parallelism))


def manage_job(ctx: SyncCtx) -> ManageResult:
    """manageJob: delete every pod of a suspended Job, else the surplus, else create the
    deficit (not while back-off is pending)."""
    job, f = ctx.job, ctx.f
    active = len(ctx.active)
    if is_suspended(job):
        victims = active_pods_for_removal(ctx, ctx.active, active)
        _after_deletions(ctx, victims)
        return ManageResult(active - len(victims), delete_job_pods(victims), victims)
    want = want_active(ctx, active)
    terminating = 0
    if only_replace_failed(job, f):
        terminating = sum(1 for p in ctx.pods if is_terminating(p))
    rm_at_least = active - want + (terminating if f.rm_counts_terminating else 0)  # 1.28.0 rmAtLeast
    victims = active_pods_for_removal(ctx, ctx.active, max(0, rm_at_least))[:MAX_POD_CREATE_DELETE_PER_SYNC]
    if victims:
        # deletion and creation never happen in the same sync; deletion wins
        _after_deletions(ctx, victims)
        return ManageResult(active - len(victims), delete_job_pods(victims), victims)
    diff = want - terminating - active
    if diff <= 0:
        return ManageResult(active, [])
    backoff_active = 0 if f.active_zero_during_backoff else active  # job_controller.go `return 0` (#139457)
    if not per_index(job, f) and record_remaining(ctx.record, ctx.now) > 0:
        return ManageResult(backoff_active, [])
    diff = min(diff, MAX_POD_CREATE_DELETE_PER_SYNC)
    indexes: list[int | None] = [None] * diff
    if is_indexed(job):
        chosen = first_pending_indexes(ctx, diff)
        if per_index(job, f):
            chosen, remaining = creatable_indexes(ctx, chosen)
            if remaining > 0:
                return ManageResult(backoff_active, [])
        indexes = list(chosen)
    reqs: list[apiserver.Request] = [apiserver.Create(new_pod(ctx, i)) for i in indexes]
    return ManageResult(active + len(reqs), reqs)


# ---- status tracking --------------------------------------------------------------------


def clean_uncounted(status: JobStatus, with_finalizer: set[str]) -> tuple[JobStatus, bool]:
    """cleanUncountedPodsWithoutFinalizers: uids whose finalizer is gone move to the counters."""
    unc = status.uncounted_terminated_pods or UncountedTerminatedPods()
    succ = tuple(u for u in unc.succeeded if u in with_finalizer)
    fail = tuple(u for u in unc.failed if u in with_finalizer)
    if len(succ) == len(unc.succeeded) and len(fail) == len(unc.failed):
        return status, False
    new = replace(
        status,
        succeeded=status.succeeded + len(unc.succeeded) - len(succ),
        failed=status.failed + len(unc.failed) - len(fail),
        uncounted_terminated_pods=UncountedTerminatedPods(succ, fail),
    )
    return new, True


def can_remove_finalizer(ctx: SyncCtx, pod: Pod, failed: bool) -> bool:
    """canRemoveFinalizer: the Job is being deleted or finishing, the pod succeeded, or it
    failed and is not the pod whose removal waits for its index's replacement."""
    if ctx.job.metadata.deletion_timestamp is not None or ctx.finished is not None or pod.status.phase == SUCCEEDED:
        return True
    if not failed:
        return False
    if per_index(ctx.job, ctx.f):
        i = ix.completion_index(pod)
        held = ctx.delayed.get(i) if i != ix.UNKNOWN_INDEX else None
        if held is not None and held.metadata.uid == pod.metadata.uid:
            return False
    return True


@dataclass
class TrackResult:
    """What trackJobStatusAndRemoveFinalizers issued."""

    requests: list[apiserver.Request]
    flushed: bool
    rejected: bool = False


def _status_rejected(status: JobStatus, f: JobFeatures) -> bool:
    """The API server's status validation of 1.32–1.33 seen by the buggy back-off path:
    ready may not exceed active (RejectMoreReadyThanActivePods)."""
    return f.rejects_ready_over_active and (status.ready or 0) > status.active


def _pods_in_tracking_order(ctx: SyncCtx) -> list[Pod]:
    """Indexed Jobs walk pods by completion index (sort.Sort(byCompletionIndex))."""
    if is_indexed(ctx.job):
        return sorted(ctx.pods, key=ix.completion_index)
    return list(ctx.pods)


def track_status(ctx: SyncCtx, status: JobStatus, needs_flush: bool) -> TrackResult:
    """trackJobStatusAndRemoveFinalizers with flushUncountedAndRemoveFinalizers."""
    job, f = ctx.job, ctx.f
    indexed = is_indexed(job)
    with_finalizer = {p.metadata.uid for p in ctx.pods if has_tracking_finalizer(p) and p.metadata.uid not in ctx.expected_rm}
    status, changed = clean_uncounted(status, with_finalizer)
    needs_flush = needs_flush or changed
    unc = status.uncounted_terminated_pods or UncountedTerminatedPods()
    unc_succ, unc_fail = list(unc.succeeded), list(unc.failed)
    to_remove: list[Pod] = []
    new_succ_idx: list[int] = []
    reached_max = False
    for pod in _pods_in_tracking_order(ctx):
        uid = pod.metadata.uid
        if not has_tracking_finalizer(pod) or uid in ctx.expected_rm:
            continue  # processed in an earlier sync
        failed = is_pod_failed(pod, job, f)
        if not can_remove_finalizer(ctx, pod, failed):
            continue
        to_remove.append(pod)
        if pod.status.phase == SUCCEEDED and uid not in ctx.uncounted_failed:
            if indexed:
                # the completion index is enough to avoid counting a success twice
                i = ix.valid_index(pod, ctx.completions)
                if i is not None and not ix.contains(ctx.prev_succeeded_idx, i):
                    new_succ_idx.append(i)
                    needs_flush = True
            elif uid not in ctx.uncounted_succeeded:
                unc_succ.append(uid)
                needs_flush = True
        elif failed or (ctx.finished is not None and not is_success_criteria_met(ctx.finished, f)):
            # when the Job finishes (not by success criteria) every unfinished pod counts as failed
            valid = not indexed or ix.valid_index(pod, ctx.completions) is not None
            if uid not in ctx.uncounted_failed and valid:
                pfp = job.spec.pod_failure_policy
                if pfp is None or match_pod_failure_policy(pfp, pod, f.backoff_limit_per_index).count_failed:
                    unc_fail.append(uid)
                    needs_flush = True
        if len(new_succ_idx) + len(unc_succ) + len(unc_fail) >= MAX_UNCOUNTED_PODS:
            reached_max = True
            break
    status = replace(status, uncounted_terminated_pods=UncountedTerminatedPods(tuple(unc_succ), tuple(unc_fail)))
    if indexed:
        ctx.succeeded_idx = ix.with_indexes(ctx.succeeded_idx, new_succ_idx)
        completed = ix.to_string(ctx.succeeded_idx)
        if completed != status.completed_indexes:
            needs_flush = True
        status = replace(status, succeeded=ix.total(ctx.succeeded_idx), completed_indexes=completed)
        failed_str = ix.to_string(ctx.failed_idx) if ctx.failed_idx is not None else None
        if failed_str != status.failed_indexes:
            status = replace(status, failed_indexes=failed_str)
            needs_flush = True
    finished = ctx.finished
    if finished is not None and finished.type == FAILURE_TARGET:
        # the interim FailureTarget is written before the finalizers go; Failed follows
        status = replace(status, conditions=status.conditions + (finished,))
        needs_flush = True
        finished = new_condition(FAILED_COND, "True", finished.reason, finished.message, ctx.now)
    if is_success_criteria_met(finished, f):
        assert finished is not None
        # the interim SuccessCriteriaMet is written once, before the finalizers go; Complete follows
        if not any(c.type == SUCCESS_CRITERIA_MET and c.status == "True" for c in status.conditions):
            status = replace(status, conditions=status.conditions + (finished,))
            needs_flush = True
        finished = new_condition(COMPLETE, "True", finished.reason, finished.message, ctx.now)
    reqs: list[apiserver.Request] = []
    flushed = False
    if needs_flush:
        if _status_rejected(status, f):
            return TrackResult([], False, rejected=True)
        # UpdateStatus carries the resourceVersion the sync read: a sync that read a stale
        # Job fails with a conflict (and, with async delivery, its later requests are dropped)
        reqs.append(apiserver.Update(replace(job, status=status), status=True, check_rv=True))
        flushed = True
        needs_flush = False
    for pod in to_remove:
        reqs.append(remove_finalizer_request(pod))
        with_finalizer.discard(pod.metadata.uid)
    status, changed = clean_uncounted(status, with_finalizer)
    needs_flush = needs_flush or changed
    if not reached_max:
        status, done = enact_finished(ctx, status, finished)
        needs_flush = needs_flush or done
    if needs_flush and not _status_rejected(status, f):
        # a second write in the same sync uses the resourceVersion the first one returned
        reqs.append(apiserver.Update(replace(job, status=status), status=True, check_rv=not flushed))
    return TrackResult(reqs, flushed)


def enact_finished(ctx: SyncCtx, status: JobStatus, finished: Condition | None) -> tuple[JobStatus, bool]:
    """enactJobFinished: add Complete/Failed once nothing is uncounted and (delayed
    terminal conditions) no pod is terminating; Complete sets completionTime."""
    if finished is None:
        return status, False
    unc = status.uncounted_terminated_pods
    if unc is not None and (unc.succeeded or unc.failed):
        return status, False
    if ctx.f.delay_terminal and (ctx.terminating or 0) > 0:
        return status, False
    conds, _ = ensure_condition(status.conditions, finished.type, finished.status, finished.reason, finished.message, ctx.now)
    status = replace(status, conditions=conds)
    if finished.type == COMPLETE:
        status = replace(status, completion_time=finished.last_transition_time)
    return status, True


# ---- the controller -------------------------------------------------------------------------


def _memory(state: ClusterState) -> FrozenDict[str, BackoffRecord]:
    mem = state.recall(NAME)
    return mem if isinstance(mem, FrozenDict) else EMPTY


def _remember(mem: FrozenDict[str, BackoffRecord], key: str, record: BackoffRecord | None) -> apiserver.Remember | None:
    """A Remember request when the record of `key` changes (None forgets it)."""
    if record is None or record == BackoffRecord():
        if key not in mem:
            return None
        new = mem.without(key)
    else:
        if mem.get(key) == record:
            return None
        new = mem.set(key, record)
    return apiserver.Remember(NAME, new if new else None)


def claim_job_pods(job: Job, pods: Sequence[Pod]) -> tuple[list[Pod], list[apiserver.Request]]:
    """getPodsForJob: ClaimPods with the tracking finalizer — adopted pods get it (and are
    seen with it), released pods lose it."""
    assert job.spec.selector is not None
    claimed, reqs = claim(job, job.spec.selector, pods)
    uid = job.metadata.uid
    out_reqs: list[apiserver.Request] = []
    for r in reqs:
        assert isinstance(r, apiserver.Update)
        pod: Pod = r.obj
        ours = any(o.uid == uid for o in pod.metadata.owner_references)
        if ours and not has_tracking_finalizer(pod):
            pod = replace(pod, metadata=replace(pod.metadata, finalizers=pod.metadata.finalizers + (TRACKING_FINALIZER,)))
        elif not ours:
            pod = _without_finalizer(pod)
        out_reqs.append(replace(r, obj=pod))
    patched = {r.obj.metadata.uid: r.obj for r in out_reqs if isinstance(r, apiserver.Update)}
    return [patched.get(p.metadata.uid, p) for p in claimed], out_reqs


class JobController(KindReconciler):
    """Runs each Job's pods to completion (see the module docstring)."""

    name = NAME
    kind = "Job"
    check_expectations = True  # a deliberately broken variant may turn this off

    # ---- actions ---------------------------------------------------------------------------
    def candidates(self, state: ClusterState, config: ModelConfig) -> Iterable[Action]:
        """A sync per Job, per Job key remembered after the Job is gone, and per pod the
        orphan worker might clean."""
        yield from super().candidates(state, config)
        for key in sorted(_memory(state)):
            ns, _, name = key.partition("/")
            if state.get("Job", ns, name) is None:
                yield Reconcile(self.name, ns, name)
        for pod in state.pods():
            if has_tracking_finalizer(pod):
                yield Reconcile(self.name, pod.metadata.namespace, pod.metadata.name, kind="Pod")

    def requests(self, state: ClusterState, action: Action, config: ModelConfig) -> Sequence[apiserver.Request]:
        """Dispatch: orphan pod, deleted Job, or syncJob."""
        assert isinstance(action, Reconcile)
        if action.kind == "Pod":
            pod = state.get("Pod", action.namespace, action.name)
            return () if pod is None else self.sync_orphan_pod(state, pod, config)
        job = state.get("Job", action.namespace, action.name)
        if job is None:
            # the Job is gone: forget its back-off record
            r = _remember(_memory(state), f"{action.namespace}/{action.name}", None)
            return (r,) if r is not None else ()
        return self.reconcile(state, job, config)

    # ---- the orphan worker -------------------------------------------------------------
    def sync_orphan_pod(self, state: ClusterState, pod: Pod, config: ModelConfig) -> Sequence[apiserver.Request]:
        """syncOrphanPod: remove the finalizer unless an unfinished Job (or, current, an
        owner that is not a batch/v1 Job, or an externally managed Job) controls the pod."""
        f = JobFeatures.of(config)
        if not has_tracking_finalizer(pod):
            return ()
        ref = pod.metadata.controller_ref()
        if ref is not None:
            is_job = ref.kind == "Job" and (ref.api_version == "batch/v1" or not f.orphan_keeps_foreign_owner)
            if not is_job:
                if f.orphan_keeps_foreign_owner:
                    return ()
            else:
                job = state.get("Job", pod.metadata.namespace, ref.name)
                if job is not None and job.metadata.uid == ref.uid:
                    if managed_externally(job, f):
                        return ()
                    if not is_finished(job):
                        return ()  # adopted / still tracked by syncJob
                    if not f.cleanup_finished_job_pods and pod.metadata.deletion_timestamp is None:
                        return ()  # 1.28: only a pod deletion enqueues it
        return (remove_finalizer_request(pod),)

    # ---- syncJob ------------------------------------------------------------------------
    def reconcile(self, state: ClusterState, obj: object, config: ModelConfig) -> Sequence[apiserver.Request]:
        """One syncJob."""
        assert isinstance(obj, Job)
        f = JobFeatures.of(config)
        job = obj
        mem = _memory(state)
        key = job_key(job)
        if managed_externally(job, f):
            return ()
        if is_finished(job):
            r = _remember(mem, key, None)
            return (r,) if r is not None else ()
        if job.spec.completion_mode not in (None, "NonIndexed", "Indexed"):
            return ()  # UnknownCompletionMode
        inflight_key = (job.metadata.namespace, job.metadata.name)
        if f.finished_job_expectations and finish_in_flight(state, inflight_key):
            # syncJob skips a Job it has already finished while its view still shows it
            # unfinished: counting from that stale status would start pods again (#130103;
            # before #130333 the sync goes on and may create a pod for a finished Job)
            return ()
        job = effective_job(job)
        if job.status.uncounted_terminated_pods is None:
            job = replace(job, status=replace(job.status, uncounted_terminated_pods=UncountedTerminatedPods()))
        satisfied = (not self.check_expectations) or expectations_satisfied(state, self.name, inflight_key, config)
        pods, claim_reqs = claim_job_pods(job, state.pods(job.metadata.namespace))
        ctx = self._context(state, job, f, pods, mem.get(key), inflight_key)
        requests: list[apiserver.Request] = list(claim_reqs)
        status = job.status
        if status.start_time is None and not is_suspended(job):
            status = replace(status, start_time=ctx.now)
            job = replace(job, status=status)
            ctx.job = job
        new_succ, new_fail = new_finished_pods(ctx)
        new_record = new_backoff_record(ctx.record, new_succ, new_fail)
        ctx.record = new_record
        self._choose_finished(ctx)
        active = len(ctx.active)
        suspend_changed = False
        if ctx.finished is not None:
            # delete every active pod; the finalizers stay until they are counted
            requests.extend(apiserver.Delete(p.ref, uid=p.metadata.uid) for p in ctx.active)
            if not satisfied:
                ctx.finished = None
            _after_deletions(ctx, ctx.active)
            active = 0
        else:
            managed = False
            if satisfied and job.metadata.deletion_timestamp is None:
                result = manage_job(ctx)
                active = result.active
                requests.extend(result.requests)
                managed = True
            if job.spec.completions is None:
                complete = ctx.succeeded > 0 and active == 0
            else:
                complete = ctx.succeeded >= job.spec.completions and active == 0
            if complete:
                ctx.finished = success_condition(ctx)
            elif managed:
                status, suspend_changed = self._suspended_condition(ctx, status)
        terminating = ctx.terminating if f.pod_replacement_policy else None
        needs_update = suspend_changed or active != job.status.active or ctx.ready != job.status.ready or terminating != job.status.terminating
        status = replace(status, active=active, ready=ctx.ready, terminating=terminating)
        tracked = track_status(ctx, status, needs_update)
        requests.extend(tracked.requests)
        if tracked.flushed:
            r = _remember(mem, key, new_record)
            if r is not None:
                requests.append(r)
        return requests

    def _context(self, state: ClusterState, job: Job, f: JobFeatures, pods: list[Pod], record: BackoffRecord | None, key: tuple[str, ...]) -> SyncCtx:
        """The sync context: active pods, counts, uncounted uids, expectations."""
        active = [p for p in pods if p.active]
        unc = job.status.uncounted_terminated_pods or UncountedTerminatedPods()
        terminating: int | None = None
        if tracks_terminating(job, f):
            terminating = sum(1 for p in pods if is_terminating(p))
        ctx = SyncCtx(
            job=job,
            f=f,
            now=state.clock,
            pods=pods,
            active=active,
            ready=sum(1 for p in active if p.ready),
            terminating=terminating,
            uncounted_succeeded=frozenset(unc.succeeded),
            uncounted_failed=frozenset(unc.failed),
            expected_rm=expected_removed_finalizers(state, key),
            record=record or BackoffRecord(),
        )
        new_succ, new_fail = new_finished_pods(ctx)
        ctx.succeeded = job.status.succeeded + len(new_succ) + len(ctx.uncounted_succeeded)
        ctx.failed = job.status.failed + non_ignored_failed(ctx, new_fail) + len(ctx.uncounted_failed)
        return ctx

    def _choose_finished(self, ctx: SyncCtx) -> None:
        """The finished-condition selection of syncJob, first match wins."""
        job, f = ctx.job, ctx.f
        ctx.finished = _existing_success_criteria_met(job, f)
        if ctx.finished is None:
            target = find_condition(job.status.conditions, FAILURE_TARGET)
            # 1.28 takes a FailureTarget of any status; current code requires True
            if target is not None and (target.status == "True" or not f.delay_terminal):
                ctx.finished = new_condition(FAILED_COND, "True", target.reason, target.message, ctx.now)
            elif (msg := fail_job_message(ctx)) is not None:
                ctx.finished = new_condition(FAILURE_TARGET, "True", "PodFailurePolicy", msg, ctx.now)
        if ctx.finished is None:
            if ctx.failed > (job.spec.backoff_limit or 0) or past_backoff_limit_on_failure(job, ctx.pods):
                ctx.finished = failure_condition(ctx, "BackoffLimitExceeded", "Job has reached the specified backoff limit")
            elif past_active_deadline(job, ctx.now):
                ctx.finished = failure_condition(ctx, "DeadlineExceeded", "Job was active longer than specified deadline")
        if not is_indexed(job):
            return
        ctx.prev_succeeded_idx, ctx.succeeded_idx = calculate_succeeded_indexes(ctx)
        ctx.succeeded = ix.total(ctx.succeeded_idx)
        if per_index(job, f):
            ctx.failed_idx = calculate_failed_indexes(ctx)
            if ctx.finished is None:
                n_failed = ix.total(ctx.failed_idx)
                if job.spec.max_failed_indexes is not None and n_failed > job.spec.max_failed_indexes:
                    ctx.finished = failure_condition(ctx, "MaxFailedIndexesExceeded", "Job has exceeded the specified maximal number of failed indexes")
                elif n_failed > 0 and n_failed + ix.total(ctx.succeeded_idx) >= ctx.completions:
                    ctx.finished = failure_condition(ctx, "FailedIndexes", "Job has failed indexes")
            ctx.delayed = pods_with_delayed_deletion(ctx)
        if ctx.finished is None and f.success_policy:
            msg = match_success_policy(job.spec.success_policy, ctx.completions, ctx.succeeded_idx)
            if msg is not None:
                ctx.finished = new_condition(SUCCESS_CRITERIA_MET, "True", "SuccessPolicy", msg, ctx.now)

    def _suspended_condition(self, ctx: SyncCtx, status: JobStatus) -> tuple[JobStatus, bool]:
        """The Suspended condition follows spec.suspend; resuming resets startTime."""
        if is_suspended(ctx.job):
            conds, changed = ensure_condition(status.conditions, SUSPENDED, "True", "JobSuspended", "Job suspended", ctx.now)
            return replace(status, conditions=conds), changed
        conds, changed = ensure_condition(status.conditions, SUSPENDED, "False", "JobResumed", "Job resumed", ctx.now)
        status = replace(status, conditions=conds)
        if changed:
            # ActiveDeadlineSeconds counts continuous activity: resuming restarts the clock
            status = replace(status, start_time=ctx.now)
        return status, changed

    # ---- timers -------------------------------------------------------------------------
    def deadlines(self, state: ClusterState, config: ModelConfig) -> Iterable[int]:
        """Back-off expiry (global and per index) and activeDeadlineSeconds of unfinished Jobs."""
        f = JobFeatures.of(config)
        mem = _memory(state)
        for job in state.list(self.kind):
            if is_finished(job) or managed_externally(job, f) or is_suspended(job):
                continue
            rec = mem.get(job_key(job))
            if rec is not None and rec.last_failure_time is not None and not per_index(job, f):
                rem = record_remaining(rec, state.clock)
                if rem > 0:
                    yield state.clock + rem
            ads = job.spec.active_deadline_seconds
            if ads is not None and job.status.start_time is not None:
                yield job.status.start_time + ads
            if per_index(job, f) and is_indexed(job):
                yield from self._index_backoff_deadlines(state, job, f)

    def _index_backoff_deadlines(self, state: ClusterState, job: Job, f: JobFeatures) -> Iterable[int]:
        """When the per-index back-off of each waiting index ends."""
        job = effective_job(job)
        pods = state.controlled_by(job.metadata.uid, "Pod")
        ctx = self._context(state, job, f, pods, None, (job.metadata.namespace, job.metadata.name))
        ctx.prev_succeeded_idx, ctx.succeeded_idx = calculate_succeeded_indexes(ctx)
        ctx.failed_idx = calculate_failed_indexes(ctx)
        for pod in pods_with_delayed_deletion(ctx).values():
            rem = remaining_time_per_index(pod, state.clock)
            if rem > 0:
                yield state.clock + rem
