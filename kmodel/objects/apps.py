"""StatefulSets, DaemonSets and ControllerRevisions (apps/v1).

Static defaults follow pkg/apis/apps/v1/defaults.go; defaults that depend on other
fields are applied in kmodel/objects/defaults.py.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import ClassVar

from kmodel.frozen import EMPTY, FrozenDict
from kmodel.objects.meta import Condition, ObjectMeta, ObjRef
from kmodel.objects.pod import PodTemplateSpec
from kmodel.objects.selectors import LabelSelector
from kmodel.objects.storage import PersistentVolumeClaimTemplate

IntOrString = int | str


@dataclass(frozen=True, slots=True)
class RollingUpdateStatefulSetStrategy:
    """spec.updateStrategy.rollingUpdate of a StatefulSet."""

    partition: int = 0
    max_unavailable: IntOrString | None = None


@dataclass(frozen=True, slots=True)
class StatefulSetUpdateStrategy:
    """spec.updateStrategy of a StatefulSet: RollingUpdate (default) or OnDelete."""

    type: str = "RollingUpdate"
    rolling_update: RollingUpdateStatefulSetStrategy | None = None


@dataclass(frozen=True, slots=True)
class StatefulSetPersistentVolumeClaimRetentionPolicy:
    """What happens to claims when the set is deleted or scaled down (Retain or Delete)."""

    when_deleted: str = "Retain"
    when_scaled: str = "Retain"


@dataclass(frozen=True, slots=True)
class StatefulSetOrdinals:
    """spec.ordinals: the first ordinal."""

    start: int = 0


@dataclass(frozen=True, slots=True)
class StatefulSetSpec:
    """spec of a StatefulSet."""

    selector: LabelSelector = LabelSelector()
    template: PodTemplateSpec = PodTemplateSpec()
    replicas: int = 1
    service_name: str = ""
    volume_claim_templates: tuple[PersistentVolumeClaimTemplate, ...] = ()
    pod_management_policy: str = "OrderedReady"
    update_strategy: StatefulSetUpdateStrategy = StatefulSetUpdateStrategy()
    revision_history_limit: int | None = 10
    min_ready_seconds: int = 0
    persistent_volume_claim_retention_policy: StatefulSetPersistentVolumeClaimRetentionPolicy | None = None
    ordinals: StatefulSetOrdinals | None = None


@dataclass(frozen=True, slots=True)
class StatefulSetStatus:
    """status of a StatefulSet."""

    observed_generation: int = 0
    replicas: int = 0
    ready_replicas: int = 0
    current_replicas: int = 0
    updated_replicas: int = 0
    available_replicas: int = 0
    current_revision: str = ""
    update_revision: str = ""
    collision_count: int | None = None
    conditions: tuple[Condition, ...] = ()

    OMIT_ZERO: ClassVar[bool] = True


@dataclass(frozen=True, slots=True)
class StatefulSet:
    """An apps/v1 StatefulSet."""

    metadata: ObjectMeta
    spec: StatefulSetSpec = StatefulSetSpec()
    status: StatefulSetStatus = StatefulSetStatus()
    _fp: int = field(default=0, init=False, compare=False, repr=False, metadata={"kind": "skip"})

    kind: ClassVar[str] = "StatefulSet"
    api_version: ClassVar[str] = "apps/v1"

    @property
    def ref(self) -> ObjRef:
        """This object's identity in the API."""
        return ObjRef(self.kind, self.metadata.namespace, self.metadata.name)

    @property
    def label_selector(self) -> LabelSelector:
        """The set's selector."""
        return self.spec.selector


@dataclass(frozen=True, slots=True)
class RollingUpdateDaemonSet:
    """spec.updateStrategy.rollingUpdate of a DaemonSet (defaults: maxUnavailable 1, maxSurge 0)."""

    max_unavailable: IntOrString | None = 1
    max_surge: IntOrString | None = 0


@dataclass(frozen=True, slots=True)
class DaemonSetUpdateStrategy:
    """spec.updateStrategy of a DaemonSet: RollingUpdate (default) or OnDelete."""

    type: str = "RollingUpdate"
    rolling_update: RollingUpdateDaemonSet | None = None


@dataclass(frozen=True, slots=True)
class DaemonSetSpec:
    """spec of a DaemonSet."""

    selector: LabelSelector = LabelSelector()
    template: PodTemplateSpec = PodTemplateSpec()
    update_strategy: DaemonSetUpdateStrategy = DaemonSetUpdateStrategy()
    min_ready_seconds: int = 0
    revision_history_limit: int | None = 10


@dataclass(frozen=True, slots=True)
class DaemonSetStatus:
    """status of a DaemonSet."""

    current_number_scheduled: int = 0
    number_misscheduled: int = 0
    desired_number_scheduled: int = 0
    number_ready: int = 0
    observed_generation: int = 0
    updated_number_scheduled: int = 0
    number_available: int = 0
    number_unavailable: int = 0
    collision_count: int | None = None
    conditions: tuple[Condition, ...] = ()

    OMIT_ZERO: ClassVar[bool] = True
    ALWAYS: ClassVar[frozenset[str]] = frozenset({"currentNumberScheduled", "numberMisscheduled", "desiredNumberScheduled", "numberReady"})


@dataclass(frozen=True, slots=True)
class DaemonSet:
    """An apps/v1 DaemonSet."""

    metadata: ObjectMeta
    spec: DaemonSetSpec = DaemonSetSpec()
    status: DaemonSetStatus = DaemonSetStatus()
    _fp: int = field(default=0, init=False, compare=False, repr=False, metadata={"kind": "skip"})

    kind: ClassVar[str] = "DaemonSet"
    api_version: ClassVar[str] = "apps/v1"

    @property
    def ref(self) -> ObjRef:
        """This object's identity in the API."""
        return ObjRef(self.kind, self.metadata.namespace, self.metadata.name)

    @property
    def label_selector(self) -> LabelSelector:
        """The set's selector."""
        return self.spec.selector


@dataclass(frozen=True, slots=True)
class ControllerRevision:
    """An apps/v1 ControllerRevision: an immutable snapshot of a workload's template
    (StatefulSet and DaemonSet history). `data` holds the patch the controller stores."""

    metadata: ObjectMeta
    data: FrozenDict[str, object] = EMPTY
    revision: int = 0
    _fp: int = field(default=0, init=False, compare=False, repr=False, metadata={"kind": "skip"})

    kind: ClassVar[str] = "ControllerRevision"
    api_version: ClassVar[str] = "apps/v1"

    @property
    def ref(self) -> ObjRef:
        """This object's identity in the API."""
        return ObjRef(self.kind, self.metadata.namespace, self.metadata.name)
