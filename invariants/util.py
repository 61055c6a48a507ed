"""Helpers shared by invariant checks: what a step created, deleted or changed."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from kmodel.state import ClusterState


def actor_of(action: Any) -> str:
    """The name of the actor that took `action` ('' for user, fault and time actions)."""
    return str(getattr(action, "actor", "") or "")


def started_deletion(prev: ClusterState, nxt: ClusterState, kind: str) -> Iterator[Any]:
    """Objects of `kind` (as they were in `prev`) that the step removed or started deleting."""
    m = prev.objects.get(kind)
    if not m:
        return
    for key, old in m.items():
        if old.metadata.deletion_timestamp is not None:
            continue
        new = nxt.get(kind, key[0], key[1])
        if new is None or new.metadata.uid != old.metadata.uid or new.metadata.deletion_timestamp is not None:
            yield old


def removed(prev: ClusterState, nxt: ClusterState, kind: str) -> Iterator[Any]:
    """Objects of `kind` (as in `prev`) that are gone after the step."""
    m = prev.objects.get(kind)
    if not m:
        return
    for key, old in m.items():
        new = nxt.get(kind, key[0], key[1])
        if new is None or new.metadata.uid != old.metadata.uid:
            yield old


def created(prev: ClusterState, nxt: ClusterState, kind: str) -> Iterator[Any]:
    """Objects of `kind` in `nxt` that did not exist (with that uid) in `prev`."""
    m = nxt.objects.get(kind)
    if not m:
        return
    for key, new in m.items():
        old = prev.get(kind, key[0], key[1])
        if old is None or old.metadata.uid != new.metadata.uid:
            yield new


def changed(prev: ClusterState, nxt: ClusterState, kind: str) -> Iterator[tuple[Any, Any]]:
    """(old, new) pairs of objects of `kind` present in both states with the same uid but different content."""
    m = nxt.objects.get(kind)
    if not m or prev.objects.get(kind) is m:
        return
    for key, new in m.items():
        old = prev.get(kind, key[0], key[1])
        if old is not None and old is not new and old.metadata.uid == new.metadata.uid and old != new:
            yield old, new
