"""ReplicaSets, ReplicationControllers and Deployments.

Defaults follow pkg/apis/apps/v1/defaults.go and pkg/apis/core/v1/defaults.go:
replicas 1; Deployment strategy RollingUpdate with maxSurge 25% and maxUnavailable 25%,
revisionHistoryLimit 10, progressDeadlineSeconds 600.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import ClassVar

from kmodel.frozen import EMPTY, FrozenDict
from kmodel.objects.meta import Condition, ObjectMeta, ObjRef
from kmodel.objects.pod import PodTemplateSpec
from kmodel.objects.selectors import LabelSelector

IntOrString = int | str


@dataclass(frozen=True, slots=True)
class ReplicaSetSpec:
    """spec of a ReplicaSet."""

    selector: LabelSelector = LabelSelector()
    template: PodTemplateSpec = PodTemplateSpec()
    replicas: int = 1
    min_ready_seconds: int = 0


@dataclass(frozen=True, slots=True)
class ReplicaSetStatus:
    """status of a ReplicaSet or ReplicationController."""

    replicas: int = 0
    fully_labeled_replicas: int = 0
    ready_replicas: int = 0
    available_replicas: int = 0
    observed_generation: int = 0
    conditions: tuple[Condition, ...] = ()
    extra: FrozenDict[str, object] = field(default=EMPTY, metadata={"kind": "extra"})

    INERT: ClassVar[frozenset[str]] = frozenset({"terminatingReplicas"})
    OMIT_ZERO: ClassVar[bool] = True


@dataclass(frozen=True, slots=True)
class ReplicaSet:
    """An apps/v1 ReplicaSet."""

    metadata: ObjectMeta
    spec: ReplicaSetSpec = ReplicaSetSpec()
    status: ReplicaSetStatus = ReplicaSetStatus()
    _fp: int = field(default=0, init=False, compare=False, repr=False, metadata={"kind": "skip"})

    kind: ClassVar[str] = "ReplicaSet"
    api_version: ClassVar[str] = "apps/v1"

    @property
    def ref(self) -> ObjRef:
        """This object's identity in the API."""
        return ObjRef(self.kind, self.metadata.namespace, self.metadata.name)

    @property
    def label_selector(self) -> LabelSelector:
        """The selector as a set-based selector."""
        return self.spec.selector


@dataclass(frozen=True, slots=True)
class ReplicationControllerSpec:
    """spec of a ReplicationController: an equality selector (a plain map)."""

    selector: FrozenDict[str, str] = EMPTY
    template: PodTemplateSpec = PodTemplateSpec()
    replicas: int = 1
    min_ready_seconds: int = 0


@dataclass(frozen=True, slots=True)
class ReplicationController:
    """A core/v1 ReplicationController (run by the ReplicaSet controller through an adapter)."""

    metadata: ObjectMeta
    spec: ReplicationControllerSpec = ReplicationControllerSpec()
    status: ReplicaSetStatus = ReplicaSetStatus()
    _fp: int = field(default=0, init=False, compare=False, repr=False, metadata={"kind": "skip"})

    kind: ClassVar[str] = "ReplicationController"
    api_version: ClassVar[str] = "v1"

    @property
    def ref(self) -> ObjRef:
        """This object's identity in the API."""
        return ObjRef(self.kind, self.metadata.namespace, self.metadata.name)

    @property
    def label_selector(self) -> LabelSelector:
        """The equality selector as a set-based selector."""
        return LabelSelector(match_labels=self.spec.selector)


@dataclass(frozen=True, slots=True)
class RollingUpdateDeployment:
    """spec.strategy.rollingUpdate of a Deployment."""

    max_surge: IntOrString | None = "25%"
    max_unavailable: IntOrString | None = "25%"


@dataclass(frozen=True, slots=True)
class DeploymentStrategy:
    """spec.strategy of a Deployment."""

    type: str = "RollingUpdate"
    rolling_update: RollingUpdateDeployment | None = None


@dataclass(frozen=True, slots=True)
class DeploymentSpec:
    """spec of a Deployment."""

    selector: LabelSelector = LabelSelector()
    template: PodTemplateSpec = PodTemplateSpec()
    replicas: int = 1
    strategy: DeploymentStrategy = DeploymentStrategy()
    min_ready_seconds: int = 0
    revision_history_limit: int | None = 10
    paused: bool = False
    progress_deadline_seconds: int | None = 600


@dataclass(frozen=True, slots=True)
class DeploymentStatus:
    """status of a Deployment."""

    observed_generation: int = 0
    replicas: int = 0
    updated_replicas: int = 0
    ready_replicas: int = 0
    available_replicas: int = 0
    unavailable_replicas: int = 0
    conditions: tuple[Condition, ...] = ()
    collision_count: int | None = None
    extra: FrozenDict[str, object] = field(default=EMPTY, metadata={"kind": "extra"})

    INERT: ClassVar[frozenset[str]] = frozenset({"terminatingReplicas"})
    OMIT_ZERO: ClassVar[bool] = True


@dataclass(frozen=True, slots=True)
class Deployment:
    """An apps/v1 Deployment."""

    metadata: ObjectMeta
    spec: DeploymentSpec = DeploymentSpec()
    status: DeploymentStatus = DeploymentStatus()
    _fp: int = field(default=0, init=False, compare=False, repr=False, metadata={"kind": "skip"})

    kind: ClassVar[str] = "Deployment"
    api_version: ClassVar[str] = "apps/v1"

    @property
    def ref(self) -> ObjRef:
        """This object's identity in the API."""
        return ObjRef(self.kind, self.metadata.namespace, self.metadata.name)
