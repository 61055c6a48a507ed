"""Object metadata, owner references and conditions shared by every kind.

Times are model seconds (integers on the model clock); the codec renders them as
RFC 3339 timestamps relative to the scenario's epoch.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field, replace
from typing import ClassVar, NamedTuple

from kmodel.frozen import EMPTY, FrozenDict

# Finalizers the API server and garbage collector understand
# (k8s.io/apimachinery/pkg/apis/meta/v1/types.go FinalizerOrphanDependents / FinalizerDeleteDependents).
FINALIZER_ORPHAN = "orphan"
FINALIZER_FOREGROUND = "foregroundDeletion"


class ObjRef(NamedTuple):
    """The identity of an object in the API: kind, namespace ('' if cluster-scoped) and name."""

    kind: str
    namespace: str
    name: str

    def __str__(self) -> str:
        if self.namespace:
            return f"{self.kind} {self.namespace}/{self.name}"
        return f"{self.kind} {self.name}"


@dataclass(frozen=True, slots=True)
class OwnerReference:
    """metadata.ownerReferences[] entry (apimachinery meta/v1 OwnerReference)."""

    api_version: str
    kind: str
    name: str
    uid: str
    controller: bool | None = None
    block_owner_deletion: bool | None = None

    REQUIRED: ClassVar[tuple[str, ...]] = ("apiVersion", "kind", "name", "uid")


@dataclass(frozen=True, slots=True)
class ObjectMeta:
    """metadata of an API object, with the fields that matter for workload semantics."""

    name: str = ""
    namespace: str = ""
    generate_name: str = ""
    uid: str = ""
    resource_version: int = field(default=0, metadata={"kind": "rv"})
    generation: int = 0
    creation_timestamp: int | None = field(default=None, metadata={"kind": "time"})
    deletion_timestamp: int | None = field(default=None, metadata={"kind": "time"})
    deletion_grace_period_seconds: int | None = None
    labels: FrozenDict[str, str] = EMPTY
    annotations: FrozenDict[str, str] = EMPTY
    owner_references: tuple[OwnerReference, ...] = ()
    finalizers: tuple[str, ...] = ()
    extra: FrozenDict[str, object] = field(default=EMPTY, metadata={"kind": "extra"})

    INERT: ClassVar[frozenset[str]] = frozenset({"managedFields", "selfLink"})
    OMIT_ZERO: ClassVar[bool] = True  # generation 0 is omitempty
    ALWAYS: ClassVar[frozenset[str]] = frozenset({"deletionGracePeriodSeconds"})

    def controller_ref(self) -> OwnerReference | None:
        """The owner reference with controller=true, if any (metav1.GetControllerOf)."""
        for ref in self.owner_references:
            if ref.controller:
                return ref
        return None

    @property
    def deleting(self) -> bool:
        """True once a deletion has been requested (deletionTimestamp set)."""
        return self.deletion_timestamp is not None


@dataclass(frozen=True, slots=True)
class Condition:
    """A status condition (type, status, reason) as used by pods, nodes and workloads."""

    type: str
    status: str
    reason: str = ""
    message: str = ""
    last_transition_time: int | None = field(default=None, metadata={"kind": "time"})
    last_update_time: int | None = field(default=None, metadata={"kind": "time"})
    last_heartbeat_time: int | None = field(default=None, metadata={"kind": "time"})
    last_probe_time: int | None = field(default=None, metadata={"kind": "time"})
    extra: FrozenDict[str, object] = field(default=EMPTY, metadata={"kind": "extra"})

    INERT: ClassVar[frozenset[str]] = frozenset({"observedGeneration"})


def find_condition(conditions: Iterable[Condition], type_: str) -> Condition | None:
    """The first condition of `type_`, or None."""
    for c in conditions:
        if c.type == type_:
            return c
    return None


def condition_true(conditions: Iterable[Condition], type_: str) -> bool:
    """True iff a condition of `type_` exists with status True."""
    c = find_condition(conditions, type_)
    return c is not None and c.status == "True"


def set_condition(
    conditions: tuple[Condition, ...],
    new: Condition,
    now: int,
    *,
    keep_transition_time: bool = True,
) -> tuple[Condition, ...]:
    """Insert or replace the condition of new.type.

    As upstream condition helpers do, lastTransitionTime only moves when the status
    changes; callers give lastUpdateTime/lastHeartbeatTime themselves.
    """
    old = find_condition(conditions, new.type)
    if old is not None and keep_transition_time and old.status == new.status:
        new = replace(new, last_transition_time=old.last_transition_time)
    elif new.last_transition_time is None:
        new = replace(new, last_transition_time=now)
    if old is None:
        return conditions + (new,)
    return tuple(new if c.type == new.type else c for c in conditions)


def remove_condition(conditions: tuple[Condition, ...], type_: str) -> tuple[Condition, ...]:
    """Drop every condition of `type_`."""
    return tuple(c for c in conditions if c.type != type_)
