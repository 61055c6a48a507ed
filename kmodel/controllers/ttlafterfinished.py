"""The TTL-after-finished controller (pkg/controller/ttlafterfinished/
ttlafterfinished_controller.go, k8s v1.28; unchanged in later releases).

It watches Jobs. A Job needs cleanup when `spec.ttlSecondsAfterFinished` is set and it
has finished (a Complete or Failed condition with status True) and it is not being
deleted. Its finish time is that condition's lastTransitionTime (unset → an error, the
Job is left alone); it expires at finish + TTL. Before expiry the Job is requeued for
the remaining time; once expired (remaining ≤ 0) the controller GETs the Job again —
the TTL may have been changed since — recomputes, and if it is still expired deletes it
with `propagationPolicy: Foreground` and the fresh Job's uid as precondition, so its
pods go through the garbage collector before the Job disappears. A finish time in the
future (clock skew) only defers the cleanup.

Abstractions: with the model's perfect view the informer copy and the fresh GET are
the same object, so the second check is the first one made on the state the request is
built from (with asynchronous delivery the request waits in flight like upstream's
DELETE; the uid precondition still guards against a recreated Job). The requeue after
the remaining time is reported through `deadlines()`. The warning event and the
deletion-latency metric are not modelled.

Differences between releases: none. Newer releases (checked at kubernetes/kubernetes
003e8629) keep processJob, processTTL, timeLeft and jobFinishTime as in v1.28; only
the work-queue types changed.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from kmodel import apiserver
from kmodel.actors import KindReconciler
from kmodel.config import ModelConfig
from kmodel.objects.batch import Job
from kmodel.state import ClusterState

NAME = "ttlafterfinished"


class CleanupError(ValueError):
    """timeLeft's errors: the Job should not be cleaned up, or its finish time is unknown."""


def needs_cleanup(job: Job) -> bool:
    """needsCleanup: ttlSecondsAfterFinished is set and the Job is finished (IsJobFinished)."""
    return job.spec.ttl_seconds_after_finished is not None and any(c.type in ("Complete", "Failed") and c.status == "True" for c in job.status.conditions)


def finish_time(job: Job) -> int:
    """jobFinishTime: lastTransitionTime of the first Complete/Failed condition that is True."""
    for c in job.status.conditions:
        if c.type in ("Complete", "Failed") and c.status == "True":
            if c.last_transition_time is None:
                raise CleanupError(f"unable to find the time when the Job {job.metadata.namespace}/{job.metadata.name} finished")
            return c.last_transition_time
    raise CleanupError(f"unable to find the status of the finished Job {job.metadata.namespace}/{job.metadata.name}")


def time_left(job: Job, since: int) -> tuple[int, int]:
    """timeLeft: (remaining seconds, expiry time) = (finish + TTL − since, finish + TTL)."""
    if not needs_cleanup(job):
        raise CleanupError(f"job {job.metadata.namespace}/{job.metadata.name} should not be cleaned up")
    ttl = job.spec.ttl_seconds_after_finished
    assert ttl is not None
    expire_at = finish_time(job) + ttl
    return expire_at - since, expire_at


def expiry(job: Job) -> int | None:
    """processTTL's view of a Job: its expiry time, or None if it is being deleted, does not
    need cleanup, or has no finish time."""
    if job.metadata.deletion_timestamp is not None or not needs_cleanup(job):
        return None
    try:
        return time_left(job, 0)[1]
    except CleanupError:
        return None


class TTLAfterFinishedController(KindReconciler):
    """Deletes finished Jobs once their ttlSecondsAfterFinished has passed."""

    name = NAME
    kind = "Job"

    def reconcile(self, state: ClusterState, job: Job, config: ModelConfig) -> Sequence[apiserver.Request]:  # type: ignore[override]
        """processJob: expired (remaining ≤ 0) by the latest TTL → a Foreground DELETE with a uid precondition."""
        expire_at = expiry(job)
        if expire_at is None or expire_at > state.clock:
            return ()
        return [apiserver.Delete(job.ref, uid=job.metadata.uid, propagation="Foreground")]

    def deadlines(self, state: ClusterState, config: ModelConfig) -> Iterable[int]:
        """enqueueAfter(remaining): the expiry of every finished Job with a TTL still to run."""
        for job in state.list(self.kind):
            t = expiry(job)
            if t is not None and t > state.clock:
                yield t
