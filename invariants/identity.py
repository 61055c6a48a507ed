"""Object identity: names are unique per kind and namespace, uids are unique and never
reused, and at most one owner reference is a controller (INV-OWN-1)."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from invariants.registry import Kind, Violation, invariant
from kmodel.state import ClusterState


def _object_count(state: ClusterState) -> int:
    return sum(len(m) for m in state.objects.values())


@invariant(
    "unique-names-and-uids",
    Kind.ALWAYS,
    """Every object is stored under its own kind, namespace and name (so a name is unique
    per kind and namespace), has a uid, and no two objects share a uid.""",
    subjects=_object_count,
    source="apiserver: names unique per resource and namespace; uids assigned once at create",
    tags=("apiserver",),
)
def unique_names_and_uids(state: ClusterState) -> Iterable[Violation]:
    seen: dict[str, Any] = {}
    for kind, m in state.objects.items():
        for (ns, name), obj in m.items():
            meta = obj.metadata
            if obj.kind != kind or meta.namespace != ns or meta.name != name:
                yield Violation("unique-names-and-uids", f"{obj.ref} is stored as {kind} {ns}/{name}", (str(obj.ref),))
            if not meta.uid:
                yield Violation("unique-names-and-uids", f"{obj.ref} has no uid", (str(obj.ref),))
                continue
            other = seen.get(meta.uid)
            if other is not None:
                yield Violation("unique-names-and-uids", f"{obj.ref} and {other.ref} share uid {meta.uid}", (str(obj.ref), str(other.ref)))
            seen[meta.uid] = obj


@invariant(
    "uid-immutable",
    Kind.TRANSITION,
    """A uid names one object for good: it never moves to another object (another kind,
    namespace or name) while it is in use.""",
    subjects=_object_count,
    source="apiserver: metadata.uid is set at creation and immutable (ValidateObjectMetaUpdate)",
    tags=("apiserver",),
)
def uid_immutable(prev: ClusterState, action: Any, nxt: ClusterState) -> Iterable[Violation]:
    if nxt.uids is prev.uids:
        return
    for uid, ref in nxt.uids.items():
        old_ref = prev.uids.get(uid)
        if old_ref is not None and old_ref != ref:
            yield Violation("uid-immutable", f"uid {uid} moved from {old_ref} to {ref}", (str(old_ref), str(ref)))


@invariant(
    "single-controller-owner",
    Kind.ALWAYS,
    """No object has more than one owner reference with controller=true, so at most one
    controller manages it.""",
    subjects=_object_count,
    source="spec §1.5 (INV-OWN-1); apimachinery ValidateOwnerReferences",
    tags=("ownership",),
)
def single_controller_owner(state: ClusterState) -> Iterable[Violation]:
    for obj in state.all_objects():
        controllers = [r for r in obj.metadata.owner_references if r.controller]
        if len(controllers) > 1:
            names = ", ".join(f"{r.kind} {r.name}" for r in controllers)
            yield Violation("single-controller-owner", f"{obj.ref} has {len(controllers)} controller references ({names})", (str(obj.ref),))
