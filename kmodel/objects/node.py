"""Nodes: taints, unschedulable, allocatable resources and conditions."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import ClassVar

from kmodel.frozen import EMPTY, FrozenDict
from kmodel.objects.meta import Condition, ObjectMeta, ObjRef, find_condition
from kmodel.objects.selectors import Taint

# Well-known taint keys (k8s.io/api/core/v1/well_known_taints.go).
TAINT_NOT_READY = "node.kubernetes.io/not-ready"
TAINT_UNREACHABLE = "node.kubernetes.io/unreachable"
TAINT_UNSCHEDULABLE = "node.kubernetes.io/unschedulable"
TAINT_MEMORY_PRESSURE = "node.kubernetes.io/memory-pressure"
TAINT_DISK_PRESSURE = "node.kubernetes.io/disk-pressure"
TAINT_PID_PRESSURE = "node.kubernetes.io/pid-pressure"
TAINT_NETWORK_UNAVAILABLE = "node.kubernetes.io/network-unavailable"
TAINT_OUT_OF_SERVICE = "node.kubernetes.io/out-of-service"

# The kubelet's default max pods (pkg/kubelet/apis/config/v1beta1/defaults.go MaxPods).
DEFAULT_MAX_PODS = 110


@dataclass(frozen=True, slots=True)
class NodeSpec:
    """spec of a node."""

    unschedulable: bool = False
    taints: tuple[Taint, ...] = ()
    extra: FrozenDict[str, object] = field(default=EMPTY, metadata={"kind": "extra"})

    INERT: ClassVar[frozenset[str]] = frozenset({"podCIDR", "podCIDRs", "providerID", "configSource", "externalID"})


@dataclass(frozen=True, slots=True)
class NodeStatus:
    """status of a node: allocatable resources and conditions."""

    capacity: FrozenDict[str, int] = field(default=EMPTY, metadata={"kind": "quantities"})
    allocatable: FrozenDict[str, int] = field(default=EMPTY, metadata={"kind": "quantities"})
    conditions: tuple[Condition, ...] = ()
    extra: FrozenDict[str, object] = field(default=EMPTY, metadata={"kind": "extra"})
    _fp: int = field(default=0, init=False, compare=False, repr=False, metadata={"kind": "skip"})

    INERT: ClassVar[frozenset[str]] = frozenset(
        {"addresses", "daemonEndpoints", "nodeInfo", "images", "volumesInUse", "volumesAttached", "phase", "config", "runtimeHandlers", "features"}
    )


@dataclass(frozen=True, slots=True)
class Node:
    """A core/v1 Node."""

    metadata: ObjectMeta
    spec: NodeSpec = NodeSpec()
    status: NodeStatus = NodeStatus()
    _fp: int = field(default=0, init=False, compare=False, repr=False, metadata={"kind": "skip"})
    _sym: int = field(default=0, init=False, compare=False, repr=False, metadata={"kind": "skip"})

    kind: ClassVar[str] = "Node"
    api_version: ClassVar[str] = "v1"

    @property
    def ref(self) -> ObjRef:
        """This node's identity in the API."""
        return ObjRef("Node", "", self.metadata.name)

    @property
    def name(self) -> str:
        """The node name."""
        return self.metadata.name

    def allocatable_of(self, resource: str) -> int | None:
        """Allocatable amount of `resource` (falls back to capacity); pods default to 110."""
        if resource in self.status.allocatable:
            return self.status.allocatable[resource]
        if resource in self.status.capacity:
            return self.status.capacity[resource]
        if resource == "pods":
            return DEFAULT_MAX_PODS
        return None

    def ready_status(self) -> str:
        """Status of the Ready condition ('True', 'False', 'Unknown'); a node never reported is 'Unknown'."""
        c = find_condition(self.status.conditions, "Ready")
        return c.status if c is not None else "Unknown"
