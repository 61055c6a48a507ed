"""PersistentVolumeClaims, PersistentVolumes and StorageClasses, as far as binding and
StatefulSet storage identity go (spec §13)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import ClassVar

from kmodel.frozen import EMPTY, FrozenDict
from kmodel.objects.meta import Condition, ObjectMeta, ObjRef
from kmodel.objects.pod import ResourceRequirements, TemplateMeta
from kmodel.objects.selectors import LabelSelector, NodeSelector


@dataclass(frozen=True, slots=True)
class ObjectReference:
    """core/v1 ObjectReference (PV claimRef, CronJob status.active)."""

    kind: str = ""
    namespace: str = ""
    name: str = ""
    uid: str = ""
    api_version: str = ""
    resource_version: str = ""


@dataclass(frozen=True, slots=True)
class PersistentVolumeClaimSpec:
    """spec of a PersistentVolumeClaim."""

    access_modes: tuple[str, ...] = ()
    resources: ResourceRequirements = ResourceRequirements()
    storage_class_name: str | None = None
    volume_name: str = ""
    volume_mode: str | None = "Filesystem"
    selector: LabelSelector | None = None
    extra: FrozenDict[str, object] = field(default=EMPTY, metadata={"kind": "extra"})

    INERT: ClassVar[frozenset[str]] = frozenset({"dataSource", "dataSourceRef", "volumeAttributesClassName"})


@dataclass(frozen=True, slots=True)
class PersistentVolumeClaimStatus:
    """status of a PersistentVolumeClaim: Pending, Bound or Lost."""

    phase: str = "Pending"
    access_modes: tuple[str, ...] = ()
    capacity: FrozenDict[str, int] = field(default=EMPTY, metadata={"kind": "quantities"})
    conditions: tuple[Condition, ...] = ()
    extra: FrozenDict[str, object] = field(default=EMPTY, metadata={"kind": "extra"})

    INERT: ClassVar[frozenset[str]] = frozenset({"allocatedResources", "allocatedResourceStatuses", "currentVolumeAttributesClassName", "modifyVolumeStatus"})


@dataclass(frozen=True, slots=True)
class PersistentVolumeClaim:
    """A core/v1 PersistentVolumeClaim."""

    metadata: ObjectMeta
    spec: PersistentVolumeClaimSpec = PersistentVolumeClaimSpec()
    status: PersistentVolumeClaimStatus = PersistentVolumeClaimStatus()
    _fp: int = field(default=0, init=False, compare=False, repr=False, metadata={"kind": "skip"})

    kind: ClassVar[str] = "PersistentVolumeClaim"
    api_version: ClassVar[str] = "v1"

    @property
    def ref(self) -> ObjRef:
        """This object's identity in the API."""
        return ObjRef(self.kind, self.metadata.namespace, self.metadata.name)


@dataclass(frozen=True, slots=True)
class PersistentVolumeClaimTemplate:
    """A StatefulSet volumeClaimTemplates entry: a claim without a namespace or status."""

    metadata: TemplateMeta = TemplateMeta()
    spec: PersistentVolumeClaimSpec = PersistentVolumeClaimSpec()


@dataclass(frozen=True, slots=True)
class VolumeNodeAffinity:
    """spec.nodeAffinity of a PersistentVolume (local and zonal volumes)."""

    required: NodeSelector | None = None


@dataclass(frozen=True, slots=True)
class PersistentVolumeSpec:
    """spec of a PersistentVolume; the volume source itself is carried opaquely."""

    capacity: FrozenDict[str, int] = field(default=EMPTY, metadata={"kind": "quantities"})
    access_modes: tuple[str, ...] = ()
    persistent_volume_reclaim_policy: str = "Retain"
    storage_class_name: str = ""
    claim_ref: ObjectReference | None = None
    node_affinity: VolumeNodeAffinity | None = None
    volume_mode: str | None = "Filesystem"
    extra: FrozenDict[str, object] = field(default=EMPTY, metadata={"kind": "extra"})

    INERT: ClassVar[frozenset[str]] = frozenset(
        {"hostPath", "local", "csi", "nfs", "awsElasticBlockStore", "gcePersistentDisk", "azureDisk", "mountOptions", "volumeAttributesClassName"}
    )


@dataclass(frozen=True, slots=True)
class PersistentVolumeStatus:
    """status of a PersistentVolume: Pending, Available, Bound, Released or Failed."""

    phase: str = "Pending"
    message: str = ""
    reason: str = ""
    extra: FrozenDict[str, object] = field(default=EMPTY, metadata={"kind": "extra"})

    INERT: ClassVar[frozenset[str]] = frozenset({"lastPhaseTransitionTime"})


@dataclass(frozen=True, slots=True)
class PersistentVolume:
    """A core/v1 PersistentVolume (cluster-scoped)."""

    metadata: ObjectMeta
    spec: PersistentVolumeSpec = PersistentVolumeSpec()
    status: PersistentVolumeStatus = PersistentVolumeStatus()
    _fp: int = field(default=0, init=False, compare=False, repr=False, metadata={"kind": "skip"})

    kind: ClassVar[str] = "PersistentVolume"
    api_version: ClassVar[str] = "v1"

    @property
    def ref(self) -> ObjRef:
        """This object's identity in the API."""
        return ObjRef(self.kind, "", self.metadata.name)


@dataclass(frozen=True, slots=True)
class StorageClass:
    """A storage.k8s.io/v1 StorageClass (cluster-scoped; fields at the top level)."""

    metadata: ObjectMeta
    provisioner: str = ""
    reclaim_policy: str = "Delete"
    volume_binding_mode: str = "Immediate"
    allow_volume_expansion: bool | None = None
    parameters: FrozenDict[str, str] = EMPTY
    _fp: int = field(default=0, init=False, compare=False, repr=False, metadata={"kind": "skip"})

    kind: ClassVar[str] = "StorageClass"
    api_version: ClassVar[str] = "storage.k8s.io/v1"

    @property
    def ref(self) -> ObjRef:
        """This object's identity in the API."""
        return ObjRef(self.kind, "", self.metadata.name)
