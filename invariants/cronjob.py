"""CronJob invariants (spec §10.5, §14 INV-CJ-1, INV-CJ-2).

Written independently of the controller (kmodel.controllers.cronjob): a Job belongs to a
CronJob through its controllerRef uid, and a Job "of a scheduled time" is one the
controller names `<cronjob>-<Unix minutes>` or annotates with
batch.kubernetes.io/cronjob-scheduled-timestamp. The state carries no model epoch, so
checks that relate a scheduled time to the model clock use the CronJob's own record of
it: the step in which status.lastScheduleTime moves to the scheduled time of the Job it
adds to status.active.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from datetime import datetime
from typing import Any

from invariants.registry import Kind, Violation, invariant
from invariants.util import created
from kmodel.state import ClusterState

SCHEDULED = "batch.kubernetes.io/cronjob-scheduled-timestamp"
CONTROLLER = "cronjob"


def _finished(job: Any) -> bool:
    return any(c.type in ("Complete", "Failed") and c.status == "True" for c in job.status.conditions)


def scheduled_minute(job: Any, cronjob: Any) -> int | None:
    """The Unix minute of the time a Job was scheduled for (annotation, else the name
    `<cronjob>-<minutes>`); None for a Job that names no scheduled time."""
    stamp = job.metadata.annotations.get(SCHEDULED)
    if stamp is not None:
        try:
            return int(datetime.fromisoformat(stamp.replace("Z", "+00:00")).timestamp()) // 60
        except ValueError:
            pass
    m = re.fullmatch(re.escape(cronjob.metadata.name) + r"-(\d+)", job.metadata.name)
    return int(m.group(1)) if m else None


def scheduled_jobs(state: ClusterState, cronjob: Any) -> list[Any]:
    """The Jobs the CronJob controls (controllerRef uid) that name a scheduled time."""
    return [j for j in state.controlled_by(cronjob.metadata.uid, "Job") if scheduled_minute(j, cronjob) is not None]


def _owner(state: ClusterState, job: Any) -> Any:
    ref = job.metadata.controller_ref()
    if ref is None or ref.kind != "CronJob":
        return None
    owner = state.by_uid(ref.uid)
    return owner if owner is not None and owner.kind == "CronJob" else None


def new_scheduled_jobs(prev: ClusterState, nxt: ClusterState) -> Iterator[tuple[Any, Any]]:
    """(Job, its CronJob as in `prev`) for every Job of a scheduled time the step created."""
    for job in created(prev, nxt, "Job"):
        cj = _owner(prev, job)
        if cj is not None and scheduled_minute(job, cj) is not None:
            yield job, cj


def _delivery(prev: ClusterState, action: Any) -> bool:
    """Whether the step applies a request issued earlier (asynchronous delivery)."""
    return bool(getattr(action, "issuer", ""))


def _count_cronjobs(policy: str | None = None) -> Any:
    def count(state: ClusterState) -> int:
        return sum(1 for cj in state.list("CronJob") if policy is None or cj.spec.concurrency_policy == policy)

    return count


# ---- cronjob-one-job-per-schedule -------------------------------------------------------------


@invariant(
    "cronjob-one-job-per-schedule",
    Kind.ALWAYS,
    """No CronJob ever controls two Jobs for the same scheduled time: grouping the Jobs
    whose controllerRef is the CronJob by the scheduled minute they carry (the
    cronjob-scheduled-timestamp annotation, or the `<cronjob>-<Unix minutes>` name), no
    group has more than one member. The controller gets this from deterministic names —
    a second create for the same time fails with AlreadyExists.""",
    subjects=_count_cronjobs(),
    source="spec §10.2, §10.5, §14 INV-CJ-1; cronjob_controllerv2.go syncCronJob, utils.go getJobFromTemplate2 / getJobName",
    tags=("cronjob",),
)
def cronjob_one_job_per_schedule(state: ClusterState) -> Iterable[Violation]:
    for cj in state.list("CronJob"):
        by_minute: dict[int, list[Any]] = {}
        for job in scheduled_jobs(state, cj):
            minute = scheduled_minute(job, cj)
            assert minute is not None
            by_minute.setdefault(minute, []).append(job)
        for minute, group in sorted(by_minute.items()):
            if len(group) > 1:
                names = ", ".join(j.metadata.name for j in group)
                yield Violation(
                    "cronjob-one-job-per-schedule",
                    f"{cj.ref} has {len(group)} Jobs for the time scheduled at Unix minute {minute}: {names}",
                    (str(cj.ref), *(str(j.ref) for j in group)),
                )


# ---- cronjob-forbid-no-overlap ----------------------------------------------------------------


@invariant(
    "cronjob-forbid-no-overlap",
    Kind.TRANSITION,
    """A CronJob whose concurrencyPolicy is Forbid (before the step) never gets a new Job of
    a scheduled time while another Job of a scheduled time that it controls is unfinished
    (no Complete or Failed condition that is True; a Job being deleted still counts): two
    of its scheduled Jobs never run at once because of the controller. Jobs that already
    overlapped when the policy was switched to Forbid are not the controller's doing and
    are not reported.""",
    subjects=_count_cronjobs("Forbid"),
    source="spec §10.3 step 7, §10.5, §14 INV-CJ-1; cronjob_controllerv2.go syncCronJob (ForbidConcurrent, JobAlreadyActive)",
    tags=("cronjob",),
)
def cronjob_forbid_no_overlap(prev: ClusterState, action: Any, nxt: ClusterState) -> Iterable[Violation]:
    for job, cj in new_scheduled_jobs(prev, nxt):
        if cj.spec.concurrency_policy != "Forbid":
            continue
        running = [j for j in scheduled_jobs(prev, cj) if not _finished(j) and j.metadata.uid != job.metadata.uid]
        if running:
            yield Violation(
                "cronjob-forbid-no-overlap",
                f"{job.ref} was created for Forbid {cj.ref} while {', '.join(j.metadata.name for j in running)} still ran",
                (str(cj.ref), str(job.ref), *(str(j.ref) for j in running)),
            )


# ---- cronjob-replace-removes-first ------------------------------------------------------------


@invariant(
    "cronjob-replace-removes-first",
    Kind.TRANSITION,
    """When a CronJob whose concurrencyPolicy is Replace (before the step) gets a new Job of
    a scheduled time, every other unfinished Job of a scheduled time that it controlled
    before the step has been deleted by then: it is gone, or has a deletionTimestamp,
    after the step that creates the new Job (the controller deletes the active Jobs with
    Background propagation before it creates).""",
    subjects=_count_cronjobs("Replace"),
    source="spec §10.3 step 8, §10.5, §14 INV-CJ-1; cronjob_controllerv2.go syncCronJob (ReplaceConcurrent), deleteJob",
    tags=("cronjob",),
)
def cronjob_replace_removes_first(prev: ClusterState, action: Any, nxt: ClusterState) -> Iterable[Violation]:
    for job, cj in new_scheduled_jobs(prev, nxt):
        if cj.spec.concurrency_policy != "Replace":
            continue
        for old in scheduled_jobs(prev, cj):
            if old.metadata.uid == job.metadata.uid or _finished(old):
                continue
            now = nxt.get_ref(old.ref)
            if now is not None and now.metadata.uid == old.metadata.uid and now.metadata.deletion_timestamp is None:
                yield Violation(
                    "cronjob-replace-removes-first",
                    f"{job.ref} was created for Replace {cj.ref} while the earlier {old.metadata.name} was not deleted",
                    (str(cj.ref), str(job.ref), str(old.ref)),
                )


# ---- cronjob-no-late-start --------------------------------------------------------------------


def _recorded(prev_cj: Any, cj: Any, nxt: ClusterState, prev: ClusterState) -> Iterator[tuple[int, Any]]:
    """(scheduled time, Job) for a step in which the CronJob records a new start: its
    lastScheduleTime moves and status.active gains a reference to an existing Job."""
    t = cj.status.last_schedule_time
    if t is None or t == prev_cj.status.last_schedule_time:
        return
    before = {r.uid for r in prev_cj.status.active}
    for ref in cj.status.active:
        if ref.uid in before:
            continue
        job = nxt.get("Job", ref.namespace, ref.name) or prev.get("Job", ref.namespace, ref.name)
        if job is not None and job.metadata.uid == ref.uid:
            yield t, job


@invariant(
    "cronjob-no-late-start",
    Kind.TRANSITION,
    """The controller starts Jobs only when due. (1) No Job of a scheduled time is created
    for a CronJob that was suspended before the step (a request issued earlier and
    delivered now is exempt: the suspension may have come after the decision). (2) When a
    CronJob records a start — status.lastScheduleTime moves to t and status.active gains a
    Job — t is later than the previous lastScheduleTime (it never moves back), the Job was
    not created before t (no Job for a time before its schedule), and with
    startingDeadlineSeconds d it was created no later than t + d. Creation time is the
    Job's creationTimestamp, so with asynchronous delivery the API latency counts.""",
    subjects=_count_cronjobs(),
    source="spec §10.3 steps 2 and 5, §10.4, §10.5, §14 INV-CJ-1; cronjob_controllerv2.go syncCronJob (suspend, tooLate), utils.go mostRecentScheduleTime",
    tags=("cronjob",),
)
def cronjob_no_late_start(prev: ClusterState, action: Any, nxt: ClusterState) -> Iterable[Violation]:
    name = "cronjob-no-late-start"
    if not _delivery(prev, action):
        for job, cj in new_scheduled_jobs(prev, nxt):
            if cj.spec.suspend:
                yield Violation(name, f"{job.ref} was created for {cj.ref} while it is suspended", (str(cj.ref), str(job.ref)))
    for cj in nxt.list("CronJob"):
        old = prev.get("CronJob", cj.metadata.namespace, cj.metadata.name)
        if old is None or old.metadata.uid != cj.metadata.uid:
            continue
        for t, job in _recorded(old, cj, nxt, prev):
            ref = (str(cj.ref), str(job.ref))
            last = old.status.last_schedule_time
            if last is not None and t < last:
                yield Violation(name, f"{cj.ref} lastScheduleTime moved back from t={last}s to t={t}s", ref)
            born = job.metadata.creation_timestamp
            if born is None:
                continue
            if born < t:
                yield Violation(name, f"{job.ref} was created at t={born}s, before its scheduled time t={t}s", ref)
            sds = cj.spec.starting_deadline_seconds
            if sds is not None and born > t + sds:
                yield Violation(name, f"{job.ref} was created at t={born}s, after its scheduled time t={t}s + startingDeadlineSeconds {sds}", ref)


# ---- cronjob-history-limits -------------------------------------------------------------------


@invariant(
    "cronjob-history-limits",
    Kind.QUIESCENT,
    """When nothing is left to do, no CronJob (not being deleted) controls more finished
    Jobs than its limits allow: at most successfulJobsHistoryLimit Jobs with Complete=True
    and at most failedJobsHistoryLimit with Failed=True, counting Jobs that are not being
    deleted (the controller deletes the oldest beyond each limit).""",
    subjects=_count_cronjobs(),
    source="spec §10.3 step 10, §14 INV-CJ-2; cronjob_controllerv2.go cleanupFinishedJobs, removeOldestJobs",
    tags=("cronjob",),
)
def cronjob_history_limits(state: ClusterState) -> Iterable[Violation]:
    for cj in state.list("CronJob"):
        if cj.metadata.deletion_timestamp is not None:
            continue
        kept = [j for j in state.controlled_by(cj.metadata.uid, "Job") if j.metadata.deletion_timestamp is None]
        for kind, limit in (("Complete", cj.spec.successful_jobs_history_limit), ("Failed", cj.spec.failed_jobs_history_limit)):
            done = [j for j in kept if any(c.type == kind and c.status == "True" for c in j.status.conditions)]
            if len(done) > limit:
                yield Violation(
                    "cronjob-history-limits",
                    f"{cj.ref} keeps {len(done)} {kind} Jobs, more than its limit {limit}: {', '.join(j.metadata.name for j in done)}",
                    (str(cj.ref), *(str(j.ref) for j in done)),
                )
