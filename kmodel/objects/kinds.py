"""The registry of kinds the model knows: API version, scope, and API-server behaviour.

Default garbage-collection policies come from each registry strategy's
DefaultGarbageCollectionPolicy (pkg/registry/...): DeleteDependents (Background) for
apps/v1 and most types, OrphanDependents for core/v1 ReplicationController and
batch/v1 Job, kept for backwards compatibility; Unsupported for core/v1 Event (the API
server never adds the orphan/foregroundDeletion finalizers to it).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar, Protocol

from kmodel.objects.meta import ObjectMeta, ObjRef


class APIObject(Protocol):
    """What every object in the cluster state offers."""

    @property
    def metadata(self) -> ObjectMeta: ...  # noqa: D102

    @property
    def kind(self) -> str: ...  # noqa: D102

    @property
    def api_version(self) -> str: ...  # noqa: D102

    @property
    def ref(self) -> ObjRef: ...  # noqa: D102


@dataclass(frozen=True)
class KindInfo:
    """API-server facts about one kind."""

    kind: str
    api_versions: tuple[str, ...]
    cls: type | None
    namespaced: bool = True
    tracks_generation: bool = False
    default_propagation: str = "Background"
    graceful_delete: bool = False
    has_status: bool = True
    # PrepareForCreate of pods and workloads resets status; nodes keep what the kubelet posts.
    reset_status_on_create: bool = True

    GENERIC: ClassVar[str] = "generic"

    @property
    def api_version(self) -> str:
        """The preferred apiVersion."""
        return self.api_versions[0]


KINDS: dict[str, KindInfo] = {}


def register_kind(info: KindInfo) -> KindInfo:
    """Add (or replace) a kind in the registry."""
    KINDS[info.kind] = info
    return info


def kind_info(kind: str) -> KindInfo | None:
    """The registry entry for `kind`, if known."""
    return KINDS.get(kind)


def _register_builtin() -> None:
    from kmodel.objects.node import Node
    from kmodel.objects.pod import Pod
    from kmodel.objects.workloads import Deployment, ReplicaSet, ReplicationController

    register_kind(KindInfo("Pod", ("v1",), Pod, graceful_delete=True))
    register_kind(KindInfo("Node", ("v1",), Node, namespaced=False, reset_status_on_create=False))
    register_kind(KindInfo("ReplicaSet", ("apps/v1",), ReplicaSet, tracks_generation=True))
    register_kind(KindInfo("ReplicationController", ("v1",), ReplicationController, tracks_generation=True, default_propagation="Orphan"))
    register_kind(KindInfo("Deployment", ("apps/v1",), Deployment, tracks_generation=True))
    from kmodel.objects.apps import ControllerRevision, DaemonSet, StatefulSet
    from kmodel.objects.batch import CronJob, Job
    from kmodel.objects.storage import PersistentVolume, PersistentVolumeClaim, StorageClass

    register_kind(KindInfo("StatefulSet", ("apps/v1",), StatefulSet, tracks_generation=True))
    register_kind(KindInfo("DaemonSet", ("apps/v1",), DaemonSet, tracks_generation=True))
    register_kind(KindInfo("ControllerRevision", ("apps/v1",), ControllerRevision, has_status=False, reset_status_on_create=False))
    register_kind(KindInfo("Job", ("batch/v1",), Job, tracks_generation=True, default_propagation="Orphan"))
    register_kind(KindInfo("CronJob", ("batch/v1",), CronJob, tracks_generation=True))
    register_kind(KindInfo("PersistentVolumeClaim", ("v1",), PersistentVolumeClaim))
    register_kind(KindInfo("PersistentVolume", ("v1",), PersistentVolume, namespaced=False))
    register_kind(KindInfo("StorageClass", ("storage.k8s.io/v1",), StorageClass, namespaced=False, has_status=False, reset_status_on_create=False))
    for kind in ("ConfigMap", "Secret", "Service", "ServiceAccount", "Endpoints"):
        register_kind(KindInfo(kind, ("v1",), None, has_status=kind == "Service"))
    # pkg/registry/core/event/strategy.go: Events do not support garbage collection.
    register_kind(KindInfo("Event", ("v1",), None, has_status=False, default_propagation="Unsupported"))
    register_kind(KindInfo("Namespace", ("v1",), None, namespaced=False))
    register_kind(KindInfo("PodDisruptionBudget", ("policy/v1",), None, tracks_generation=True))


_register_builtin()
