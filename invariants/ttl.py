"""TTL-after-finished invariants (spec §12, §14 INV-TTL-1, LIV-TTL).

Written independently of the controller (kmodel.controllers.ttlafterfinished): a Job is
finished when a Complete or Failed condition is True, and it finished at that
condition's lastTransitionTime.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from invariants.registry import Kind, Violation, invariant
from invariants.util import started_deletion
from kmodel.state import ClusterState

TTL = "ttlafterfinished"


def finished_at(job: Any) -> int | None:
    """lastTransitionTime of the first Complete/Failed condition that is True (None if the
    Job is unfinished or the time is unset)."""
    for c in job.status.conditions:
        if c.type in ("Complete", "Failed") and c.status == "True":
            return c.last_transition_time  # type: ignore[no-any-return]
    return None


def _finished(job: Any) -> bool:
    return any(c.type in ("Complete", "Failed") and c.status == "True" for c in job.status.conditions)


def by_ttl_controller(action: Any) -> bool:
    """Whether `action` is a step of the TTL controller (a sync, or the delivery of its request)."""
    return getattr(action, "actor", None) == TTL or getattr(action, "issuer", None) == TTL


def _with_ttl(state: ClusterState) -> int:
    return sum(1 for j in state.list("Job") if j.spec.ttl_seconds_after_finished is not None)


@invariant(
    "ttl-never-early",
    Kind.TRANSITION,
    """A step of the TTL-after-finished controller (one of its syncs, or the delivery of its
    request) only deletes, or starts deleting, Jobs that — as they were just before the
    step — are finished (Complete or Failed True, with a lastTransitionTime), have
    ttlSecondsAfterFinished set, and whose finish time + TTL is not after the clock. The
    TTL is the one the Job has when it is deleted, so a TTL extended after the Job
    finished is honoured.""",
    subjects=_with_ttl,
    source="spec §12, §14 INV-TTL-1; ttlafterfinished_controller.go processJob, processTTL, needsCleanup, timeLeft, jobFinishTime",
    tags=("ttl",),
)
def ttl_never_early(prev: ClusterState, action: Any, nxt: ClusterState) -> Iterable[Violation]:
    if not by_ttl_controller(action):
        return
    for job in started_deletion(prev, nxt, "Job"):
        ttl = job.spec.ttl_seconds_after_finished
        done = finished_at(job)
        why = ""
        if not _finished(job):
            why = "it has not finished"
        elif ttl is None:
            why = "it has no ttlSecondsAfterFinished"
        elif done is None:
            why = "its finish time is unknown"
        elif nxt.clock < done + ttl:
            why = f"it finished at t={done}s with a TTL of {ttl}s, so it expires at t={done + ttl}s, not t={nxt.clock}s"
        if why:
            yield Violation("ttl-never-early", f"the TTL controller deleted {job.ref} although {why}", (str(job.ref),))


@invariant(
    "ttl-eventually-deleted",
    Kind.QUIESCENT,
    """When nothing is left to do, no finished Job whose TTL has expired remains undeleted:
    every Job that has ttlSecondsAfterFinished and finished (Complete or Failed True) at a
    lastTransitionTime with finish + TTL not after the clock has a deletionTimestamp or is
    gone. Jobs being deleted are the garbage collector's to finish (gc-completeness); a
    Job whose TTL has not expired yet is not judged (a fixpoint may leave timers that lie
    beyond the explorer's look-ahead).""",
    subjects=_with_ttl,
    source="spec §12, §14 LIV-TTL; ttlafterfinished_controller.go processTTL (enqueueAfter), processJob",
    tags=("ttl",),
)
def ttl_eventually_deleted(state: ClusterState) -> Iterable[Violation]:
    for job in state.list("Job"):
        ttl = job.spec.ttl_seconds_after_finished
        done = finished_at(job)
        if ttl is None or done is None or job.metadata.deletion_timestamp is not None:
            continue
        if done + ttl <= state.clock:
            msg = f"{job.ref} finished at t={done}s and its TTL of {ttl}s expired at t={done + ttl}s, but it was not deleted"
            yield Violation("ttl-eventually-deleted", msg, (str(job.ref),))
