"""What the trace readers produce, and how several files become one sequence.

Every reader turns its input into `RawEvent`s (an observed write: the object as it was
after the write, with where it was read and, when the input says so, who made it) and
`InputProblem`s (input that could not be read, with file and line). Files are merged
into one sequence by resourceVersion: an etcd revision, increasing across every kind,
so per-kind watch files (and several audit logs of one cluster) interleave exactly as
the writes happened. Each file is first put through a small reorder window, because
a watch's initial listing and concurrent audit entries are only nearly in order.
"""

from __future__ import annotations

import heapq
import itertools
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any

# Event types. ADDED/MODIFIED/DELETED are the watch's; SYNC is an object seen without an
# event type (a plain `kubectl get -w -o json` stream); the audit reader adds BIND (a pod
# binding: target node, no object), SCALE (the scale subresource: new replicas, no
# object) and EVICT (the eviction subresource).
ADDED, MODIFIED, DELETED, SYNC, BIND, SCALE, EVICT = "ADDED", "MODIFIED", "DELETED", "SYNC", "BIND", "SCALE", "EVICT"
WRITE_TYPES = frozenset({ADDED, MODIFIED, DELETED, SYNC, BIND, SCALE, EVICT})


@dataclass(slots=True)
class RawEvent:
    """One observed write: the object after it (None when the input gives none), where it
    was read, and who made it when the input says so (audit logs)."""

    type: str
    kind: str
    namespace: str
    name: str
    rv: int | None
    obj: dict[str, Any] | None
    file: str
    line: int
    username: str = ""
    verb: str = ""
    subresource: str = ""
    time: float | None = None  # seconds since the Unix epoch, when the input records it
    detail: dict[str, Any] = field(default_factory=dict)  # BIND: node; SCALE: replicas

    @property
    def where(self) -> str:
        """file:line."""
        return f"{self.file}:{self.line}"


@dataclass(frozen=True, slots=True)
class InputProblem:
    """Input that could not be used, with the file and line it is on."""

    file: str
    line: int
    message: str

    @property
    def where(self) -> str:
        """file:line (file alone when the problem is about the whole file)."""
        return f"{self.file}:{self.line}" if self.line else self.file

    def __str__(self) -> str:
        return f"{self.where}: {self.message}"


@dataclass(frozen=True, slots=True)
class Marker:
    """A stream event that changes nothing but is counted (a BOOKMARK)."""

    type: str
    file: str
    line: int
    rv: int | None = None


Item = RawEvent | InputProblem | Marker


def parse_rv(value: Any) -> int | None:
    """A resourceVersion as an integer (None if absent or not a decimal string)."""
    if isinstance(value, int) and not isinstance(value, bool):
        return value
    if isinstance(value, str) and value.isdigit():
        return int(value)
    return None


def _reordered(items: Iterable[Item], window: int) -> Iterator[tuple[int, int, Item]]:
    """(rv key, sequence, item) with local disorder of up to `window` items sorted out.
    Items without a resourceVersion keep their place (they take the last one seen)."""
    heap: list[tuple[int, int, Item]] = []
    last = 0
    for seq, item in enumerate(items):
        rv = item.rv if isinstance(item, (RawEvent, Marker)) else None
        if rv is not None:
            last = rv
        key = rv if rv is not None else last
        heapq.heappush(heap, (key, seq, item))
        if len(heap) > window:
            yield heapq.heappop(heap)
    while heap:
        yield heapq.heappop(heap)


def merge_by_rv(streams: list[Iterable[Item]], window: int = 256) -> Iterator[Item]:
    """The items of every stream in one sequence ordered by resourceVersion (ties: stream
    order, then position), holding at most `window` items per stream."""
    counter = itertools.count()
    keyed = [((key, i, seq, next(counter), item) for key, seq, item in _reordered(s, window)) for i, s in enumerate(streams)]
    for _key, _i, _seq, _n, item in heapq.merge(*keyed):
        yield item
