"""Indexed Jobs: completion indexes of pods, ordered index intervals ("1,3-5"), the
first pending indexes, duplicate-index removal and per-index failure counts
(pkg/controller/job/indexed_job_utils.go, v1.28 and current).
"""

from __future__ import annotations

import functools
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from kmodel.objects.pod import Pod, pod_ready_since

COMPLETION_INDEX_ANNOTATION = "batch.kubernetes.io/job-completion-index"
INDEX_FAILURE_COUNT_ANNOTATION = "batch.kubernetes.io/job-index-failure-count"
INDEX_IGNORED_FAILURE_COUNT_ANNOTATION = "batch.kubernetes.io/job-index-ignored-failure-count"
COMPLETION_INDEX_ENV = "JOB_COMPLETION_INDEX"
UNKNOWN_INDEX = -1
MAX_INT32 = 2**31 - 1
MAX_GENERATED_NAME_LENGTH = 58  # apiserver/pkg/storage/names MaxGeneratedNameLength
_PHASE_ORDINAL = {"Pending": 0, "Unknown": 1, "Running": 2}


@dataclass(frozen=True, slots=True)
class Interval:
    """A closed range of indexes [first, last]."""

    first: int
    last: int


Intervals = tuple[Interval, ...]


def completion_index(pod: Pod) -> int:
    """getCompletionIndex: the index annotation as a non-negative int, else -1."""
    raw = pod.metadata.annotations.get(COMPLETION_INDEX_ANNOTATION)
    if raw is None:
        return UNKNOWN_INDEX
    try:
        i = int(raw, 10)
    except ValueError:
        return UNKNOWN_INDEX
    return i if i >= 0 else UNKNOWN_INDEX


def valid_index(pod: Pod, completions: int) -> int | None:
    """The pod's completion index if it is known and below `completions`, else None."""
    ix = completion_index(pod)
    return ix if ix != UNKNOWN_INDEX and ix < completions else None


def merge(a: Intervals, b: Intervals) -> Intervals:
    """orderedIntervals.merge: the union of two ordered interval lists, adjacent ranges joined."""
    out: list[Interval] = []

    def push(iv: Interval) -> None:
        if not out or iv.first > out[-1].last + 1:
            out.append(iv)
        elif out[-1].last < iv.last:
            out[-1] = Interval(out[-1].first, iv.last)

    i = j = 0
    while i < len(a) and j < len(b):
        if a[i].first < b[j].first:
            push(a[i])
            i += 1
        else:
            push(b[j])
            j += 1
    for iv in a[i:]:
        push(iv)
    for iv in b[j:]:
        push(iv)
    return tuple(out)


def with_indexes(intervals: Intervals, indexes: Iterable[int]) -> Intervals:
    """orderedIntervals.withOrderedIndexes: add single indexes."""
    return merge(intervals, tuple(Interval(i, i) for i in sorted(set(indexes))))


def total(intervals: Intervals | None) -> int:
    """Number of indexes covered."""
    return sum(iv.last - iv.first + 1 for iv in intervals or ())


def contains(intervals: Intervals | None, ix: int) -> bool:
    """orderedIntervals.has."""
    return any(iv.first <= ix <= iv.last for iv in intervals or ())


def to_string(intervals: Intervals) -> str:
    """orderedIntervals.String: "1,3-5"; two consecutive indexes are written "3,4"."""
    parts = []
    for iv in intervals:
        if iv.last == iv.first:
            parts.append(str(iv.first))
        elif iv.last == iv.first + 1:
            parts.append(f"{iv.first},{iv.last}")
        else:
            parts.append(f"{iv.first}-{iv.last}")
    return ",".join(parts)


def parse(text: str | None, completions: int) -> Intervals:
    """parseIndexesFromString: intervals below `completions` (a corrupt entry is skipped,
    the first interval starting at or past `completions` ends the list, a last index past
    it is clipped); adjacent intervals are joined."""
    if not text:
        return ()
    out: list[Interval] = []
    for part in text.split(","):
        limits = part.split("-")
        try:
            first = int(limits[0])
        except ValueError:
            continue
        if first >= completions:
            break
        last = first
        if len(limits) > 1:
            try:
                last = int(limits[1])
            except ValueError:
                continue
            last = min(last, completions - 1)
        if out and out[-1].last == first - 1:
            out[-1] = Interval(out[-1].first, last)
        else:
            out.append(Interval(first, last))
    return tuple(out)


def first_pending_indexes(non_pending: Intervals, count: int, completions: int) -> list[int]:
    """firstPendingIndexes: the `count` lowest indexes below `completions` not covered by
    `non_pending` (succeeded, active, failed and, with podReplacementPolicy Failed,
    terminating indexes — the caller merges them)."""
    if count == 0:
        return []
    result: list[int] = []
    candidate = 0
    for iv in non_pending:
        while candidate < completions and len(result) < count and candidate < iv.first:
            result.append(candidate)
            candidate += 1
        if candidate < iv.last + 1:
            candidate = iv.last + 1
    while candidate < completions and len(result) < count:
        result.append(candidate)
        candidate += 1
    return result


def indexes_of(pods: Iterable[Pod]) -> set[int]:
    """getIndexes: the known completion indexes of `pods`."""
    return {ix for ix in (completion_index(p) for p in pods) if ix != UNKNOWN_INDEX}


def _after_or_zero(t1: int | None, t2: int | None) -> bool:
    if t1 is None or t2 is None:
        return t1 is None
    return t1 > t2


def _max_restarts(pod: Pod) -> int:
    return max((c.restart_count for c in pod.status.container_statuses), default=0)


def _active_pods_less(a: Pod, b: Pod) -> bool:
    """controller_utils.go ActivePods.Less (no deletion cost, ranks or log buckets):
    unassigned < assigned; Pending < Unknown < Running; not ready < ready; ready more
    recently < longer; more restarts < fewer; newer < older."""
    if a.spec.node_name != b.spec.node_name and (not a.spec.node_name or not b.spec.node_name):
        return not a.spec.node_name
    oa, ob = _PHASE_ORDINAL.get(a.status.phase, 0), _PHASE_ORDINAL.get(b.status.phase, 0)
    if oa != ob:
        return oa < ob
    if a.ready != b.ready:
        return not a.ready
    if a.ready and b.ready:
        ra, rb = pod_ready_since(a), pod_ready_since(b)
        if ra != rb:
            return _after_or_zero(ra, rb)
    ma, mb = _max_restarts(a), _max_restarts(b)
    if ma != mb:
        return ma > mb
    ca, cb = a.metadata.creation_timestamp, b.metadata.creation_timestamp
    if ca != cb:
        return _after_or_zero(ca, cb)
    return False


def active_pods_order(pods: Sequence[Pod]) -> list[Pod]:
    """sort.Sort(controller.ActivePods(pods)): deletion candidates first (ties keep their order)."""

    def cmp(a: Pod, b: Pod) -> int:
        return -1 if _active_pods_less(a, b) else (1 if _active_pods_less(b, a) else 0)

    return sorted(pods, key=functools.cmp_to_key(cmp))


def duplicated_index_pods(pods: Sequence[Pod], completions: int) -> tuple[list[Pod], list[Pod]]:
    """appendDuplicatedIndexPodsForRemoval: (to remove, to keep). Pods without an index
    or with an index ≥ completions are removed; of the pods sharing an index all but the
    last in ActivePods order are removed."""
    by_index = sorted(pods, key=completion_index)  # stable, like sort.Sort on few pods
    rm: list[Pod] = []
    left: list[Pod] = []
    groups: dict[int, list[Pod]] = {}
    for p in by_index:
        ix = completion_index(p)
        if ix >= completions:
            rm.append(p)
            continue
        groups.setdefault(ix, []).append(p)
    for ix in sorted(groups):
        group = groups[ix]
        if ix == UNKNOWN_INDEX:
            rm.extend(group)
        elif len(group) == 1:
            left.append(group[0])
        else:
            ordered = active_pods_order(group)
            rm.extend(ordered[:-1])
            left.append(ordered[-1])
    return rm, left


def generate_name_with_index(job_name: str, index: int) -> str:
    """podGenerateNameWithIndex: `<job>-<index>-`, the job name cut so that the prefix
    fits the generated-name limit."""
    suffix = f"-{index}-"
    prefix = job_name + suffix
    if len(prefix) > MAX_GENERATED_NAME_LENGTH:
        prefix = prefix[: MAX_GENERATED_NAME_LENGTH - len(suffix)] + suffix
    return prefix


def _annotation_int(pod: Pod, key: str) -> int:
    """parseInt32 of an annotation: 0 when absent, unparsable, negative or above int32."""
    raw = pod.metadata.annotations.get(key)
    if raw is None:
        return 0
    try:
        v = int(raw, 10)
    except ValueError:
        return 0
    return v if 0 <= v <= MAX_INT32 else 0


def index_failure_count(pod: Pod) -> int:
    """getIndexFailureCount: the job-index-failure-count annotation."""
    return _annotation_int(pod, INDEX_FAILURE_COUNT_ANNOTATION)


def index_ignored_failure_count(pod: Pod) -> int:
    """The job-index-ignored-failure-count annotation."""
    return _annotation_int(pod, INDEX_IGNORED_FAILURE_COUNT_ANNOTATION)


def index_absolute_failure_count(pod: Pod) -> int:
    """getIndexAbsoluteFailureCount: counted plus ignored failures of the index so far."""
    return index_failure_count(pod) + index_ignored_failure_count(pod)
