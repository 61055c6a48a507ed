"""Pods, containers and pod templates.

Field defaults follow core/v1 defaulting (pkg/apis/core/v1/defaults.go):
restartPolicy Always, terminationGracePeriodSeconds 30, schedulerName default-scheduler.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import ClassVar

from kmodel.frozen import EMPTY, FrozenDict
from kmodel.objects.meta import Condition, ObjectMeta, ObjRef, condition_true
from kmodel.objects.selectors import Affinity, Toleration, TopologySpreadConstraint

PENDING, RUNNING, SUCCEEDED, FAILED, UNKNOWN = "Pending", "Running", "Succeeded", "Failed", "Unknown"
PHASES = (PENDING, RUNNING, SUCCEEDED, FAILED, UNKNOWN)
TERMINAL_PHASES = frozenset({SUCCEEDED, FAILED})
DEFAULT_SCHEDULER = "default-scheduler"

_CONTAINER_INERT = frozenset(
    {
        "command",
        "args",
        "workingDir",
        "ports",
        "env",
        "envFrom",
        "volumeMounts",
        "volumeDevices",
        "livenessProbe",
        "readinessProbe",
        "startupProbe",
        "lifecycle",
        "terminationMessagePath",
        "terminationMessagePolicy",
        "imagePullPolicy",
        "securityContext",
        "stdin",
        "stdinOnce",
        "tty",
        "resizePolicy",
    }
)


@dataclass(frozen=True, slots=True)
class ResourceRequirements:
    """Container resources; requests drive scheduling (cpu in millicores, memory in bytes)."""

    requests: FrozenDict[str, int] = field(default=EMPTY, metadata={"kind": "quantities"})
    limits: FrozenDict[str, int] = field(default=EMPTY, metadata={"kind": "quantities"})
    extra: FrozenDict[str, object] = field(default=EMPTY, metadata={"kind": "extra"})

    INERT: ClassVar[frozenset[str]] = frozenset({"claims"})


@dataclass(frozen=True, slots=True)
class Container:
    """A container of a pod template (core/v1 Container)."""

    name: str
    image: str = ""
    resources: ResourceRequirements = ResourceRequirements()
    # Only valid on init containers: "Always" makes it a native sidecar.
    restart_policy: str | None = None
    extra: FrozenDict[str, object] = field(default=EMPTY, metadata={"kind": "extra"})

    INERT: ClassVar[frozenset[str]] = _CONTAINER_INERT


@dataclass(frozen=True, slots=True)
class PersistentVolumeClaimVolumeSource:
    """volumes[].persistentVolumeClaim."""

    claim_name: str
    read_only: bool | None = None


@dataclass(frozen=True, slots=True)
class Volume:
    """A pod volume; only PVC-backed volumes are modelled, others are carried."""

    name: str
    persistent_volume_claim: PersistentVolumeClaimVolumeSource | None = None
    extra: FrozenDict[str, object] = field(default=EMPTY, metadata={"kind": "extra"})

    INERT: ClassVar[frozenset[str]] = frozenset(
        {
            "emptyDir",
            "configMap",
            "secret",
            "hostPath",
            "projected",
            "downwardAPI",
            "csi",
            "ephemeral",
            "nfs",
            "awsElasticBlockStore",
            "gcePersistentDisk",
            "azureDisk",
        }
    )


@dataclass(frozen=True, slots=True)
class PodSpec:
    """spec of a pod or pod template."""

    containers: tuple[Container, ...] = ()
    init_containers: tuple[Container, ...] = ()
    restart_policy: str = "Always"
    node_name: str = ""
    node_selector: FrozenDict[str, str] = EMPTY
    affinity: Affinity | None = None
    tolerations: tuple[Toleration, ...] = ()
    topology_spread_constraints: tuple[TopologySpreadConstraint, ...] = ()
    termination_grace_period_seconds: int = 30
    active_deadline_seconds: int | None = None
    scheduler_name: str = DEFAULT_SCHEDULER
    priority: int | None = None
    host_network: bool | None = None
    hostname: str = ""
    subdomain: str = ""
    volumes: tuple[Volume, ...] = ()
    extra: FrozenDict[str, object] = field(default=EMPTY, metadata={"kind": "extra"})
    _fp: int = field(default=0, init=False, compare=False, repr=False, metadata={"kind": "skip"})
    _sym: int = field(default=0, init=False, compare=False, repr=False, metadata={"kind": "skip"})

    INERT: ClassVar[frozenset[str]] = frozenset(
        {
            "dnsPolicy",
            "dnsConfig",
            "serviceAccount",
            "serviceAccountName",
            "securityContext",
            "imagePullSecrets",
            "enableServiceLinks",
            "preemptionPolicy",
            "priorityClassName",
            "automountServiceAccountToken",
            "hostPID",
            "hostIPC",
            "shareProcessNamespace",
            "runtimeClassName",
            "readinessGates",
            "ephemeralContainers",
            "hostAliases",
            "setHostnameAsFQDN",
            "os",
            "overhead",
            "schedulingGates",
            "resourceClaims",
        }
    )


@dataclass(frozen=True, slots=True)
class TemplateMeta:
    """metadata of a pod template: only labels and annotations are meaningful."""

    labels: FrozenDict[str, str] = EMPTY
    annotations: FrozenDict[str, str] = EMPTY
    name: str = ""
    extra: FrozenDict[str, object] = field(default=EMPTY, metadata={"kind": "extra"})

    INERT: ClassVar[frozenset[str]] = frozenset({"creationTimestamp", "namespace", "generateName", "finalizers"})


@dataclass(frozen=True, slots=True)
class PodTemplateSpec:
    """A pod template (core/v1 PodTemplateSpec)."""

    metadata: TemplateMeta = TemplateMeta()
    spec: PodSpec = PodSpec()
    _fp: int = field(default=0, init=False, compare=False, repr=False, metadata={"kind": "skip"})


@dataclass(frozen=True, slots=True)
class ContainerStateWaiting:
    """state.waiting of a container."""

    reason: str = ""
    message: str = ""


@dataclass(frozen=True, slots=True)
class ContainerStateRunning:
    """state.running of a container."""

    started_at: int | None = field(default=None, metadata={"kind": "time"})


@dataclass(frozen=True, slots=True)
class ContainerStateTerminated:
    """state.terminated of a container."""

    exit_code: int = 0
    reason: str = ""
    message: str = ""
    signal: int | None = None
    started_at: int | None = field(default=None, metadata={"kind": "time"})
    finished_at: int | None = field(default=None, metadata={"kind": "time"})
    extra: FrozenDict[str, object] = field(default=EMPTY, metadata={"kind": "extra"})

    INERT: ClassVar[frozenset[str]] = frozenset({"containerID"})


@dataclass(frozen=True, slots=True)
class ContainerState:
    """One of waiting, running, terminated (all None means waiting with no reason)."""

    waiting: ContainerStateWaiting | None = None
    running: ContainerStateRunning | None = None
    terminated: ContainerStateTerminated | None = None


@dataclass(frozen=True, slots=True)
class ContainerStatus:
    """status.containerStatuses[] as the kubelet reports it."""

    name: str
    ready: bool = False
    started: bool | None = None
    restart_count: int = 0
    state: ContainerState = ContainerState()
    last_state: ContainerState = ContainerState()
    image: str = ""
    extra: FrozenDict[str, object] = field(default=EMPTY, metadata={"kind": "extra"})

    INERT: ClassVar[frozenset[str]] = frozenset({"imageID", "containerID", "allocatedResources", "resources", "volumeMounts", "user"})
    ALWAYS: ClassVar[frozenset[str]] = frozenset({"ready", "restartCount"})


@dataclass(frozen=True, slots=True)
class PodStatus:
    """status of a pod."""

    phase: str = PENDING
    conditions: tuple[Condition, ...] = ()
    container_statuses: tuple[ContainerStatus, ...] = ()
    init_container_statuses: tuple[ContainerStatus, ...] = ()
    reason: str = ""
    message: str = ""
    start_time: int | None = field(default=None, metadata={"kind": "time"})
    nominated_node_name: str = ""
    extra: FrozenDict[str, object] = field(default=EMPTY, metadata={"kind": "extra"})
    _fp: int = field(default=0, init=False, compare=False, repr=False, metadata={"kind": "skip"})

    INERT: ClassVar[frozenset[str]] = frozenset(
        {"hostIP", "hostIPs", "podIP", "podIPs", "qosClass", "ephemeralContainerStatuses", "resize", "resourceClaimStatuses", "observedGeneration"}
    )


@dataclass(frozen=True, slots=True)
class Pod:
    """A core/v1 Pod."""

    metadata: ObjectMeta
    spec: PodSpec = PodSpec()
    status: PodStatus = PodStatus()
    _fp: int = field(default=0, init=False, compare=False, repr=False, metadata={"kind": "skip"})
    _sym: int = field(default=0, init=False, compare=False, repr=False, metadata={"kind": "skip"})

    kind: ClassVar[str] = "Pod"
    api_version: ClassVar[str] = "v1"

    @property
    def ref(self) -> ObjRef:
        """This pod's identity in the API."""
        return ObjRef("Pod", self.metadata.namespace, self.metadata.name)

    @property
    def terminal(self) -> bool:
        """Phase Succeeded or Failed."""
        return self.status.phase in TERMINAL_PHASES

    @property
    def active(self) -> bool:
        """controller_utils.IsPodActive: not terminal and not being deleted."""
        return self.status.phase not in TERMINAL_PHASES and self.metadata.deletion_timestamp is None

    @property
    def ready(self) -> bool:
        """podutil.IsPodReady: condition Ready is True."""
        return condition_true(self.status.conditions, "Ready")


def pod_ready_since(pod: Pod) -> int | None:
    """lastTransitionTime of a True Ready condition, or None if not ready."""
    for c in pod.status.conditions:
        if c.type == "Ready":
            return c.last_transition_time if c.status == "True" else None
    return None


def is_pod_available(pod: Pod, min_ready_seconds: int, now: int) -> bool:
    """podutil.IsPodAvailable: ready, and ready for more than minReadySeconds.

    (pkg/api/v1/pod/util.go: minReadySeconds == 0 or
    lastTransitionTime + minReadySeconds < now, strictly.)
    """
    if not pod.ready:
        return False
    if min_ready_seconds == 0:
        return True
    since = pod_ready_since(pod)
    if since is None:
        return False
    return since + min_ready_seconds < now


def pod_requests(spec: PodSpec) -> dict[str, int]:
    """Effective pod requests as NodeResourcesFit computes them.

    max(sum of regular containers plus restartable (sidecar) init containers,
    the largest request of any init container running alone, counting the sidecars
    started before it) per resource (pkg/api/v1/resource/helpers.go PodRequests).
    """
    total: dict[str, int] = {}
    for c in spec.containers:
        for r, v in c.resources.requests.items():
            total[r] = total.get(r, 0) + v
    sidecars: dict[str, int] = {}
    init_max: dict[str, int] = {}
    for c in spec.init_containers:
        if c.restart_policy == "Always":
            for r, v in c.resources.requests.items():
                sidecars[r] = sidecars.get(r, 0) + v
                total[r] = total.get(r, 0) + v
        else:
            for r, v in c.resources.requests.items():
                init_max[r] = max(init_max.get(r, 0), v + sidecars.get(r, 0))
    for r, v in init_max.items():
        total[r] = max(total.get(r, 0), v)
    return total
