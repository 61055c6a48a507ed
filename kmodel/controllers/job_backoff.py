"""Pod failure back-off of the Job controller (pkg/controller/job/backoff_utils.go,
identical in v1.28 and current releases).

The controller keeps, per Job key (namespace/name), how many pods failed since the last
success and when the last of them finished; the delay before the next pod is
base × 2^(failures−1), capped (10 s and 10 min in production: job_controller.go
DefaultJobPodFailureBackOff, MaxJobPodFailureBackOff — both v1.28 and current; the
documentation's "six minutes" is the pre-1.26 queue cap). The record lives in controller
memory (`Remember`), not in the API.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from kmodel.controllers.job_indexes import index_absolute_failure_count
from kmodel.objects.meta import find_condition
from kmodel.objects.pod import Pod

DEFAULT_BACKOFF = 10  # seconds, DefaultJobPodFailureBackOff
MAX_BACKOFF = 600  # seconds, MaxJobPodFailureBackOff (10 min)


@dataclass(frozen=True, slots=True)
class BackoffRecord:
    """backoffRecord: failures after the last success and the last failure's time."""

    failures_after_last_success: int = 0
    last_failure_time: int | None = None


def finished_time(pod: Pod) -> int:
    """getFinishedTime: the latest finishedAt if every regular container terminated, else
    the Ready=False transition time, else deletionTimestamp − grace, else creation."""
    times: list[int] = []
    for s in pod.status.container_statuses:
        t = s.state.terminated
        if t is None or t.finished_at is None:
            times = []
            break
        times.append(t.finished_at)
    if times:
        return max(times)
    ready = find_condition(pod.status.conditions, "Ready")
    if ready is not None and ready.status == "False" and ready.last_transition_time is not None:
        return ready.last_transition_time
    if pod.metadata.deletion_timestamp is not None:
        return pod.metadata.deletion_timestamp - (pod.metadata.deletion_grace_period_seconds or 0)
    return pod.metadata.creation_timestamp or 0


def _by_finished_time(pods: Sequence[Pod]) -> list[Pod]:
    return sorted(pods, key=finished_time)


def new_backoff_record(old: BackoffRecord | None, succeeded: Sequence[Pod], failed: Sequence[Pod]) -> BackoffRecord:
    """newBackoffRecord: only failures add to the count (last failure time = latest
    finish); a success resets it, then failures that finished strictly after the last
    success count again."""
    record = old or BackoffRecord()
    failed_sorted = _by_finished_time(failed)
    if not succeeded:
        if not failed_sorted:
            return record
        return BackoffRecord(record.failures_after_last_success + len(failed_sorted), finished_time(failed_sorted[-1]))
    last_success = finished_time(_by_finished_time(succeeded)[-1])
    count = 0
    last_failure: int | None = None
    for p in reversed(failed_sorted):
        t = finished_time(p)
        if not t > last_success:
            break
        if last_failure is None:
            last_failure = t
        count += 1
    return BackoffRecord(count, last_failure)


def backoff_delay(failures: int, base: int = DEFAULT_BACKOFF, cap: int = MAX_BACKOFF) -> int:
    """The delay after `failures` consecutive failures: base doubling, capped."""
    delay = base
    for _ in range(1, failures):
        delay *= 2
        if delay >= cap:
            return cap
    return delay


def remaining_time(failures: int, last_failure: int | None, now: int, base: int = DEFAULT_BACKOFF, cap: int = MAX_BACKOFF) -> int:
    """getRemainingTimeForFailuresCount: delay − time since the last failure, never negative
    (0 as soon as the elapsed time reaches the delay)."""
    if failures == 0 or last_failure is None:
        return 0
    delay = backoff_delay(failures, base, cap)
    elapsed = now - last_failure
    if delay < elapsed:
        return 0
    return delay - elapsed


def record_remaining(record: BackoffRecord | None, now: int, base: int = DEFAULT_BACKOFF, cap: int = MAX_BACKOFF) -> int:
    """backoffRecord.getRemainingTime."""
    if record is None:
        return 0
    return remaining_time(record.failures_after_last_success, record.last_failure_time, now, base, cap)


def remaining_time_per_index(last_failed: Pod | None, now: int, base: int = DEFAULT_BACKOFF, cap: int = MAX_BACKOFF) -> int:
    """getRemainingTimePerIndex: back-off of one index from its last failed pod, whose
    failure count (counted + ignored) + 1 gives the exponent."""
    if last_failed is None:
        return 0
    return remaining_time(index_absolute_failure_count(last_failed) + 1, finished_time(last_failed), now, base, cap)
