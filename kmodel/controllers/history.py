"""ControllerRevision history shared by the StatefulSet and DaemonSet controllers
(pkg/controller/history/controller_history.go).

A revision stores a patch of the owner's spec (`data`), a revision number, the owner's
template labels plus the `controller.kubernetes.io/hash` label, and a controller
reference. Its name is `<owner>-<hash>`, the hash being FNV-32a over the stored data
and the collision count, rendered in the "safe" alphabet (HashControllerRevision).
As with pod-template-hash, the value differs from a real cluster's (upstream hashes the
raw JSON bytes the API server stored), but equal data give equal names and a bumped
collisionCount gives another name.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from typing import Any

from kmodel.controllers.common import controller_ref
from kmodel.controllers.deployment_util import fnv32a, safe_encode
from kmodel.frozen import FrozenDict, freeze, thaw
from kmodel.objects.apps import ControllerRevision
from kmodel.objects.meta import ObjectMeta
from kmodel.state import ClusterState

HASH_LABEL = "controller.kubernetes.io/hash"
# apimachinery validation: names are at most 253 characters; the prefix keeps room for the hash.
_MAX_PREFIX = 223


def canonical(data: Any) -> bytes:
    """A canonical JSON encoding of revision data."""
    return json.dumps(thaw(data), sort_keys=True, separators=(",", ":")).encode()


def hash_revision(data: Any, collision_count: int | None) -> str:
    """HashControllerRevision: FNV-32a of the data (and collision count), safe-encoded."""
    raw = canonical(data)
    if collision_count is not None:
        raw += (collision_count & 0xFFFFFFFF).to_bytes(4, "little") + bytes(4)
    return safe_encode(str(fnv32a(raw)))


def revision_name(owner_name: str, hash_: str) -> str:
    """ControllerRevisionName: `<owner>-<hash>`, the prefix truncated to 223 characters."""
    prefix = owner_name[:_MAX_PREFIX] if len(owner_name) > _MAX_PREFIX else owner_name
    return f"{prefix}-{hash_}"


def new_revision(owner: Any, template_labels: Mapping[str, str], data: Any, revision: int, collision_count: int | None) -> ControllerRevision:
    """NewControllerRevision: a revision of `owner` holding `data`."""
    data = freeze(data)
    h = hash_revision(data, collision_count)
    labels = dict(template_labels)
    labels[HASH_LABEL] = h
    meta = ObjectMeta(
        name=revision_name(owner.metadata.name, h),
        namespace=owner.metadata.namespace,
        labels=FrozenDict(labels),
        owner_references=(controller_ref(owner),),
    )
    return ControllerRevision(metadata=meta, data=data, revision=revision)


def owned_revisions(state: ClusterState, owner: Any) -> list[ControllerRevision]:
    """Revisions whose controller reference is `owner` (already claimed)."""
    return state.controlled_by(owner.metadata.uid, "ControllerRevision")


def sort_revisions(revisions: Iterable[ControllerRevision]) -> list[ControllerRevision]:
    """history.SortControllerRevisions: by revision number, then creation time, then name."""
    return sorted(revisions, key=lambda r: (r.revision, r.metadata.creation_timestamp or 0, r.metadata.name))


def next_revision(revisions: Iterable[ControllerRevision]) -> int:
    """nextRevision: one more than the highest revision number (1 for none)."""
    return max((r.revision for r in revisions), default=0) + 1


def equal_revision(a: ControllerRevision, b: ControllerRevision) -> bool:
    """history.EqualRevision: same hash label (when both have one) and same data."""
    ha, hb = a.metadata.labels.get(HASH_LABEL), b.metadata.labels.get(HASH_LABEL)
    if ha is not None and hb is not None and ha != hb:
        return False
    return canonical(a.data) == canonical(b.data)


def find_equal_revisions(revisions: Iterable[ControllerRevision], needle: ControllerRevision) -> list[ControllerRevision]:
    """history.FindEqualRevisions: the revisions with the same data as `needle`."""
    return [r for r in revisions if equal_revision(r, needle)]
