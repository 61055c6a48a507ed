"""Job invariants (spec §9.11, §14 INV-JOB-1..5): pod counts bounded by parallelism and
remaining completions, exclusive and absorbing terminal conditions, each finished pod
counted once through the finalizer protocol, no pods during back-off or suspension,
terminal conditions only after tracking is complete."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from invariants.registry import Kind, Violation, invariant
from invariants.util import created
from kmodel import apiserver
from kmodel.actions import Reconcile
from kmodel.config import ModelConfig
from kmodel.controllers.job import NAME, TRACKING_FINALIZER, is_terminating
from kmodel.controllers.job_backoff import record_remaining
from kmodel.objects.batch import Job, UncountedTerminatedPods
from kmodel.objects.pod import Pod
from kmodel.state import ClusterState

TERMINAL = ("Complete", "Failed")


def _jobs(state: ClusterState) -> int:
    return state.count("Job")


def _terminal(job: Job) -> list[str]:
    return [c.type for c in job.status.conditions if c.type in TERMINAL and c.status == "True"]


def _uncounted(job: Job) -> UncountedTerminatedPods:
    return job.status.uncounted_terminated_pods or UncountedTerminatedPods()


def _same(prev: ClusterState, nxt: ClusterState, job: Job) -> Job | None:
    """The same Job (same uid) in `nxt`, or None."""
    j: Job | None = nxt.get("Job", job.metadata.namespace, job.metadata.name)
    return j if j is not None and j.metadata.uid == job.metadata.uid else None


def _pods_of(state: ClusterState, job: Job) -> list[Pod]:
    return state.controlled_by(job.metadata.uid, "Pod")


def job_of_sync(prev: ClusterState, action: Any) -> Job | None:
    """The Job a Job-controller sync acts on (as it was before the step), or None."""
    if not (isinstance(action, Reconcile) and action.controller == NAME and not action.kind):
        return None
    job: Job | None = prev.get("Job", action.namespace, action.name)
    return job


def decided_state(prev: ClusterState, nxt: ClusterState) -> ClusterState:
    """The state a Job-controller sync decided on: `nxt` when its requests were applied at
    once; with asynchronous delivery, `prev` with the requests the sync queued applied."""
    queued = [f.request for f in nxt.inflight[len(prev.inflight) :] if f.actor == NAME]
    if not queued:
        return nxt
    tx = nxt.edit()
    tx.set_inflight(prev.inflight)
    base = tx.commit()
    tx = base.edit()
    for request in queued:
        apiserver.apply(tx, request, ModelConfig())
    return tx.commit()


def _created_for(prev: ClusterState, decided: ClusterState, job: Job) -> list[Pod]:
    return [p for p in created(prev, decided, "Pod") if (r := p.metadata.controller_ref()) is not None and r.uid == job.metadata.uid]


def _waits_for_terminating(job: Job) -> bool:
    """onlyReplaceFailedPods as far as the Job shows it: a pod failure policy, or
    podReplacementPolicy Failed in a release that reports status.terminating (1.29+; the
    1.28 controller ignores the field)."""
    if job.spec.pod_failure_policy is not None:
        return True
    return job.spec.pod_replacement_policy == "Failed" and job.status.terminating is not None


def want_bound(job: Job) -> int:
    """An upper bound of wantActive from the Job as written: parallelism, and at most the
    completions not yet accounted for (counted or uncounted successes)."""
    parallelism = job.spec.parallelism or 0
    if job.spec.completions is None:
        return parallelism
    succeeded = job.status.succeeded + len(_uncounted(job).succeeded)
    return max(0, min(parallelism, job.spec.completions - succeeded))


@invariant(
    "job-active-bound",
    Kind.TRANSITION,
    """A sync of the Job controller that creates pods for a Job leaves it with at most
    min(parallelism, completions − successes accounted for) active pods (not terminal, not
    being deleted), and creates none for a work-queue Job (no completions) that already had
    a success. Under podReplacementPolicy Failed (or a pod failure policy) terminating pods
    count too, since the controller waits for them; under TerminatingOrFailed they are
    explicitly allowed on top (a terminating pod is replaced at once, so active + terminating
    may exceed parallelism for a while). A sync that deletes surplus pods brings the active
    count down to the bound unless it hit the 500 deletions per sync. The check is on the
    sync's decision (with asynchronous delivery, its queued requests applied to the state it
    read).""",
    subjects=_jobs,
    source="spec §9.4, §9.5, §9.11 (INV-JOB-1); job_controller.go manageJob (wantActive, rmAtLeast, diff, MaxPodCreateDeletePerSync)",
    tags=("job",),
)
def job_active_bound(prev: ClusterState, action: Any, nxt: ClusterState) -> Iterable[Violation]:
    job = job_of_sync(prev, action)
    if job is None:
        return
    decided = decided_state(prev, nxt)
    after = _same(prev, decided, job)
    if after is None:
        return
    made = _created_for(prev, decided, job)
    before_pods = {p.metadata.uid for p in _pods_of(prev, job) if p.active}
    pods = _pods_of(decided, job)
    active = [p for p in pods if p.active]
    deleted = [u for u in before_pods if (p := decided.by_uid(u)) is None or not p.active]
    bound = want_bound(after)
    if made:
        if after.spec.completions is None and job.status.succeeded + len(_uncounted(job).succeeded) > 0:
            yield Violation("job-active-bound", f"{job.ref} is a work queue with a success but got {len(made)} new pods", (str(job.ref),))
        counted = len(active)
        if _waits_for_terminating(after):
            counted += sum(1 for p in pods if is_terminating(p))
        if counted > bound:
            yield Violation(
                "job-active-bound",
                f"{job.ref} (parallelism {after.spec.parallelism}, completions {after.spec.completions}, "
                f"succeeded {after.status.succeeded}) has {counted} active pods after creating {len(made)}, above {bound}",
                (str(job.ref), *(str(p.ref) for p in made)),
            )
    elif deleted and not after.spec.suspend and len(active) > bound and len(deleted) < 500 and not _terminal(after):
        if not any(c.type in ("FailureTarget", "SuccessCriteriaMet") and c.status == "True" for c in after.status.conditions):
            yield Violation(
                "job-active-bound",
                f"{job.ref} still has {len(active)} active pods (bound {bound}) after deleting {len(deleted)}",
                (str(job.ref),),
            )


@invariant(
    "job-terminal-exclusive",
    Kind.TRANSITION,
    """Complete and Failed are never both True on a Job. Once a Job has either, it keeps it
    True, no pod controlled by it is created, and its succeeded and failed counters never
    decrease; the counters of a NonIndexed Job never decrease at all (an Indexed Job's
    succeeded may drop when completions is scaled down, elastic Indexed Jobs).""",
    subjects=_jobs,
    source="spec §9.10, §9.11 (INV-JOB-2); job_controller.go syncJob (IsJobFinished → no sync), enactJobFinished",
    tags=("job",),
)
def job_terminal_exclusive(prev: ClusterState, action: Any, nxt: ClusterState) -> Iterable[Violation]:
    for job in nxt.list("Job"):
        if set(_terminal(job)) == set(TERMINAL):
            yield Violation("job-terminal-exclusive", f"{job.ref} is both Complete and Failed", (str(job.ref),))
    for old in prev.list("Job"):
        new = _same(prev, nxt, old)
        if new is None:
            continue
        was = _terminal(old)
        if was:
            lost = [t for t in was if t not in _terminal(new)]
            if lost:
                yield Violation("job-terminal-exclusive", f"{old.ref} lost its terminal condition {', '.join(lost)}", (str(old.ref),))
            made = _created_for(prev, nxt, old)
            if made:
                yield Violation(
                    "job-terminal-exclusive",
                    f"{old.ref} is {was[0]} but got new pods {', '.join(p.metadata.name for p in made)}",
                    (str(old.ref), *(str(p.ref) for p in made)),
                )
        if was or old.spec.completion_mode != "Indexed":
            for counter in ("succeeded", "failed"):
                a, b = getattr(old.status, counter), getattr(new.status, counter)
                if b < a:
                    yield Violation("job-terminal-exclusive", f"{old.ref} status.{counter} decreased from {a} to {b}", (str(old.ref),))


@invariant(
    "job-pods-counted-once",
    Kind.TRANSITION,
    """Each finished pod adds to a Job's succeeded or failed counter at most once. The
    finalizer protocol guarantees it: a pod uid enters status.uncountedTerminatedPods only
    while the pod still holds the batch.kubernetes.io/job-tracking finalizer and is in
    neither list already; a uid leaves the lists only once the pod has lost the finalizer
    (or is gone); and over any step a counter grows by at most the number of uids that left
    its list plus the number of pods (Succeeded ones, for succeeded) that lost the
    finalizer in that step without having been listed — a pod without the finalizer that is
    not listed can never be counted again. An Indexed Job counts successes by completed
    indexes (at most one per index), so only its failed counter is checked this way.""",
    subjects=_jobs,
    source="spec §9.2, §9.11 (INV-JOB-3); job_controller.go trackJobStatusAndRemoveFinalizers, cleanUncountedPodsWithoutFinalizers",
    tags=("job",),
)
def job_pods_counted_once(prev: ClusterState, action: Any, nxt: ClusterState) -> Iterable[Violation]:
    for old in prev.list("Job"):
        new = _same(prev, nxt, old)
        if new is None:
            continue
        yield from _check_counting(prev, nxt, old, new)
    for job in nxt.list("Job"):
        unc = _uncounted(job)
        repeated = {u for lst in (unc.succeeded, unc.failed) for u in lst if lst.count(u) > 1}
        dup = (set(unc.succeeded) & set(unc.failed)) | repeated
        if dup:
            yield Violation("job-pods-counted-once", f"{job.ref} lists pods {sorted(dup)} more than once as uncounted", (str(job.ref),))


def _fresh_counted(prev: ClusterState, nxt: ClusterState, old: Job) -> list[Pod]:
    """Pods of the Job that lost the tracking finalizer (or vanished) in the step without
    having been listed as uncounted: each may have been counted once within the step."""
    unc = _uncounted(old)
    listed = set(unc.succeeded) | set(unc.failed)
    out = []
    for p in _pods_of(prev, old):
        if TRACKING_FINALIZER not in p.metadata.finalizers or p.metadata.uid in listed:
            continue
        q = nxt.by_uid(p.metadata.uid)
        if q is None or TRACKING_FINALIZER not in q.metadata.finalizers:
            out.append(p)
    return out


def _check_counting(prev: ClusterState, nxt: ClusterState, old: Job, new: Job) -> Iterable[Violation]:
    """The uid bookkeeping of one Job over one step."""
    indexed = new.spec.completion_mode == "Indexed"
    fresh = _fresh_counted(prev, nxt, old)
    for field in ("succeeded", "failed"):
        before, after = set(getattr(_uncounted(old), field)), set(getattr(_uncounted(new), field))
        for uid in sorted(after - before):
            pod = prev.by_uid(uid)
            if pod is None or TRACKING_FINALIZER not in pod.metadata.finalizers:
                msg = f"{old.ref} added pod uid {uid} to uncounted {field} without the pod holding the tracking finalizer"
                yield Violation("job-pods-counted-once", msg, (str(old.ref),))
        left = before - after
        for uid in sorted(left):
            pod = nxt.by_uid(uid)
            if pod is not None and TRACKING_FINALIZER in pod.metadata.finalizers:
                msg = f"{old.ref} counted pod {pod.ref} ({field}) while it still holds the tracking finalizer"
                yield Violation("job-pods-counted-once", msg, (str(old.ref), str(pod.ref)))
        if indexed and field == "succeeded":
            continue
        eligible = [p for p in fresh if field == "failed" or p.status.phase == "Succeeded"]
        grew = getattr(new.status, field) - getattr(old.status, field)
        if grew > len(left) + len(eligible):
            yield Violation(
                "job-pods-counted-once",
                f"{old.ref} status.{field} grew by {grew} but only {len(left)} uids left the uncounted list and "
                f"{len(eligible)} pods lost the tracking finalizer",
                (str(old.ref),),
            )


@invariant(
    "job-no-pods-during-backoff-or-suspension",
    Kind.TRANSITION,
    """A sync of the Job controller creates no pod for a suspended Job, nor for a Job whose
    pod-failure back-off (the controller's record after the sync: 10 s doubling per failure
    since the last success, capped at 10 min, from the last failure's finish time) has not
    expired yet, unless the Job uses backoffLimitPerIndex (per-index back-off instead). A
    sync of a suspended Job that is not being deleted, with no creation or deletion of its
    own still in flight, leaves it without active pods (pods removed for suspension are
    deleted, not counted).""",
    subjects=_jobs,
    source="spec §9.4, §9.6, §9.11 (INV-JOB-1, INV-JOB-5); job_controller.go manageJob (jobSuspended, getRemainingTime)",
    tags=("job",),
)
def job_no_pods_during_backoff_or_suspension(prev: ClusterState, action: Any, nxt: ClusterState) -> Iterable[Violation]:
    job = job_of_sync(prev, action)
    if job is None:
        return
    decided = decided_state(prev, nxt)
    after = _same(prev, decided, job)
    if after is None:
        return
    made = _created_for(prev, decided, job)
    names = tuple(str(p.ref) for p in made)
    if made and job.spec.suspend:
        yield Violation("job-no-pods-during-backoff-or-suspension", f"{job.ref} is suspended but got {len(made)} new pods", (str(job.ref), *names))
    memory = nxt.recall(NAME) or {}
    record = memory.get(f"{job.metadata.namespace}/{job.metadata.name}")
    if made and job.spec.backoff_limit_per_index is None and record is not None:
        remaining = record_remaining(record, prev.clock)
        if remaining > 0:
            yield Violation(
                "job-no-pods-during-backoff-or-suspension",
                f"{job.ref} got {len(made)} new pods with {remaining}s of back-off left after {record.failures_after_last_success} failures",
                (str(job.ref), *names),
            )
    own_inflight = any(f.actor == NAME and f.key == (job.metadata.namespace, job.metadata.name) for f in prev.inflight)
    if job.spec.suspend and after.spec.suspend and job.metadata.deletion_timestamp is None and not own_inflight and not _terminal(job):
        active = [p for p in _pods_of(decided, job) if p.active]
        if active:
            yield Violation(
                "job-no-pods-during-backoff-or-suspension",
                f"{job.ref} is suspended but has {len(active)} active pods after a sync",
                (str(job.ref), *(str(p.ref) for p in active)),
            )


@invariant(
    "job-terminal-after-tracking",
    Kind.TRANSITION,
    """A Job gains Complete or Failed only when status.uncountedTerminatedPods is empty and
    none of its pods still holds the batch.kubernetes.io/job-tracking finalizer. In current
    releases, recognisable by the interim condition (SuccessCriteriaMet, or a FailureTarget
    whose reason is not PodFailurePolicy — before 1.31 only FailJob rules used FailureTarget),
    it also waits until none of its pods is terminating (being deleted and not yet
    terminal).""",
    subjects=_jobs,
    source="spec §9.3 step 9, §9.11 (INV-JOB-4); job_controller.go enactJobFinished, delayTerminalCondition (kubernetes#125510, #119159)",
    tags=("job",),
)
def job_terminal_after_tracking(prev: ClusterState, action: Any, nxt: ClusterState) -> Iterable[Violation]:
    for new in nxt.list("Job"):
        old = prev.get("Job", new.metadata.namespace, new.metadata.name)
        was = _terminal(old) if old is not None and old.metadata.uid == new.metadata.uid else []
        gained = [t for t in _terminal(new) if t not in was]
        if not gained:
            continue
        unc = _uncounted(new)
        if unc.succeeded or unc.failed:
            yield Violation(
                "job-terminal-after-tracking",
                f"{new.ref} became {gained[0]} with {len(unc.succeeded) + len(unc.failed)} pods still uncounted",
                (str(new.ref),),
            )
        pods = _pods_of(nxt, new)
        tracked = [p for p in pods if TRACKING_FINALIZER in p.metadata.finalizers]
        if tracked:
            yield Violation(
                "job-terminal-after-tracking",
                f"{new.ref} became {gained[0]} while {len(tracked)} of its pods still hold the tracking finalizer",
                (str(new.ref), *(str(p.ref) for p in tracked)),
            )
        delayed = any(
            c.status == "True" and (c.type == "SuccessCriteriaMet" or (c.type == "FailureTarget" and c.reason != "PodFailurePolicy"))
            for c in new.status.conditions
        )
        terminating = [p for p in pods if is_terminating(p)]
        if delayed and terminating:
            yield Violation(
                "job-terminal-after-tracking",
                f"{new.ref} became {gained[0]} while {len(terminating)} of its pods are terminating",
                (str(new.ref), *(str(p.ref) for p in terminating)),
            )
