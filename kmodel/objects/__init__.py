"""The Kubernetes object types of the model and the registry of kinds."""

from kmodel.objects.generic import GenericObject
from kmodel.objects.kinds import KINDS, APIObject, KindInfo, kind_info, register_kind
from kmodel.objects.meta import (
    FINALIZER_FOREGROUND,
    FINALIZER_ORPHAN,
    Condition,
    ObjectMeta,
    ObjRef,
    OwnerReference,
)
from kmodel.objects.node import Node, NodeSpec, NodeStatus
from kmodel.objects.pod import (
    Container,
    ContainerState,
    ContainerStatus,
    Pod,
    PodSpec,
    PodStatus,
    PodTemplateSpec,
    ResourceRequirements,
    TemplateMeta,
)
from kmodel.objects.selectors import LabelSelector, Taint, Toleration
from kmodel.objects.workloads import (
    Deployment,
    DeploymentSpec,
    DeploymentStatus,
    DeploymentStrategy,
    ReplicaSet,
    ReplicaSetSpec,
    ReplicaSetStatus,
    ReplicationController,
    ReplicationControllerSpec,
    RollingUpdateDeployment,
)

__all__ = [
    "APIObject",
    "Condition",
    "Container",
    "ContainerState",
    "ContainerStatus",
    "Deployment",
    "DeploymentSpec",
    "DeploymentStatus",
    "DeploymentStrategy",
    "FINALIZER_FOREGROUND",
    "FINALIZER_ORPHAN",
    "GenericObject",
    "KINDS",
    "KindInfo",
    "LabelSelector",
    "Node",
    "NodeSpec",
    "NodeStatus",
    "ObjRef",
    "ObjectMeta",
    "OwnerReference",
    "Pod",
    "PodSpec",
    "PodStatus",
    "PodTemplateSpec",
    "ReplicaSet",
    "ReplicaSetSpec",
    "ReplicaSetStatus",
    "ReplicationController",
    "ReplicationControllerSpec",
    "ResourceRequirements",
    "RollingUpdateDeployment",
    "Taint",
    "TemplateMeta",
    "Toleration",
    "kind_info",
    "register_kind",
]
