"""Public Hypothesis strategies for valid Kubernetes objects and cluster setups.

Every object these strategies produce passes `kmodel.validation.validate_object`; the
values are kept small (few replicas, few nodes, tight capacities) so that interesting
interleavings — capacity pressure, surge limits, evictions — happen often.
"""

from __future__ import annotations

from dataclasses import replace

from hypothesis import strategies as st

from kmodel.frozen import FrozenDict
from kmodel.objects.apps import DaemonSet, DaemonSetSpec, DaemonSetUpdateStrategy, RollingUpdateDaemonSet
from kmodel.objects.meta import ObjectMeta
from kmodel.objects.node import Node, NodeSpec, NodeStatus
from kmodel.objects.pod import Container, PodSpec, PodTemplateSpec, ResourceRequirements, TemplateMeta
from kmodel.objects.selectors import LabelSelector, Taint, Toleration
from kmodel.objects.workloads import (
    Deployment,
    DeploymentSpec,
    DeploymentStrategy,
    ReplicaSet,
    ReplicaSetSpec,
    ReplicationController,
    ReplicationControllerSpec,
    RollingUpdateDeployment,
)

GI = 1024**3
MI = 1024**2
IMAGES = ("nginx:1.25", "nginx:1.26", "nginx:1.27")
NAMESPACE = "default"


@st.composite
def nodes(draw: st.DrawFn, name: str | None = None) -> Node:
    """A node with small allocatable resources, a zone and disk label, sometimes a taint."""
    node_name = name or draw(st.sampled_from(["n1", "n2", "n3", "n4"]))
    cpu = draw(st.sampled_from([1000, 2000, 4000]))
    mem = draw(st.sampled_from([2 * GI, 4 * GI, 8 * GI]))
    pods = draw(st.sampled_from([3, 4, 110]))
    labels: FrozenDict[str, str] = FrozenDict(
        {
            "kubernetes.io/hostname": node_name,
            "topology.kubernetes.io/zone": draw(st.sampled_from(["zone-a", "zone-b"])),
            "disktype": draw(st.sampled_from(["ssd", "hdd"])),
        }
    )
    taints: tuple[Taint, ...] = ()
    if draw(st.integers(0, 5)) == 0:
        taints = (Taint(key="dedicated", value="gpu", effect="NoSchedule"),)
    alloc: FrozenDict[str, int] = FrozenDict({"cpu": cpu, "memory": mem, "pods": pods})
    return Node(
        metadata=ObjectMeta(name=node_name, labels=labels),
        spec=NodeSpec(taints=taints),
        status=NodeStatus(capacity=alloc, allocatable=alloc),
    )


@st.composite
def node_sets(draw: st.DrawFn, min_nodes: int = 1, max_nodes: int = 3) -> list[Node]:
    """Between `min_nodes` and `max_nodes` nodes named n1, n2, …"""
    n = draw(st.integers(min_nodes, max_nodes))
    return [draw(nodes(name=f"n{i + 1}")) for i in range(n)]


@st.composite
def pod_templates(draw: st.DrawFn, app: str, restart_policy: str = "Always") -> PodTemplateSpec:
    """A single-container pod template labelled app=<app>, with modest requests."""
    cpu = draw(st.sampled_from([0, 100, 250, 500]))
    mem = draw(st.sampled_from([0, 64 * MI, 256 * MI]))
    requests: FrozenDict[str, int] = FrozenDict({k: v for k, v in (("cpu", cpu), ("memory", mem)) if v})
    container = Container(name="app", image=draw(st.sampled_from(IMAGES)), resources=ResourceRequirements(requests=requests))
    node_selector: FrozenDict[str, str] = FrozenDict()
    if draw(st.integers(0, 5)) == 0:
        node_selector = FrozenDict({"disktype": "ssd"})
    tolerations: tuple[Toleration, ...] = ()
    if draw(st.booleans()):
        tolerations = (Toleration(key="dedicated", operator="Equal", value="gpu", effect="NoSchedule"),)
    spec = PodSpec(
        containers=(container,),
        restart_policy=restart_policy,
        node_selector=node_selector,
        tolerations=tolerations,
        termination_grace_period_seconds=draw(st.sampled_from([0, 5, 30])),
    )
    return PodTemplateSpec(metadata=TemplateMeta(labels=FrozenDict({"app": app})), spec=spec)


_SURGE: st.SearchStrategy[int | str] = st.sampled_from([0, 1, 2, "25%", "50%"])
_UNAVAILABLE: st.SearchStrategy[int | str] = st.sampled_from([0, 1, "25%", "50%"])


@st.composite
def deployments(draw: st.DrawFn, name: str = "web") -> Deployment:
    """A valid apps/v1 Deployment (RollingUpdate with any valid fence posts, or Recreate)."""
    template = draw(pod_templates(name))
    if draw(st.integers(0, 3)) == 0:
        strategy = DeploymentStrategy(type="Recreate")
    else:
        surge = draw(_SURGE)
        unavailable = draw(_UNAVAILABLE)
        if surge in (0, "0%") and unavailable in (0, "0%"):
            unavailable = 1
        strategy = DeploymentStrategy(type="RollingUpdate", rolling_update=RollingUpdateDeployment(max_surge=surge, max_unavailable=unavailable))
    min_ready = draw(st.sampled_from([0, 0, 10]))
    spec = DeploymentSpec(
        selector=LabelSelector(match_labels=FrozenDict({"app": name})),
        template=template,
        replicas=draw(st.integers(0, 4)),
        strategy=strategy,
        min_ready_seconds=min_ready,
        revision_history_limit=draw(st.sampled_from([0, 1, 2, 10])),
        progress_deadline_seconds=draw(st.sampled_from([60, 600])),
    )
    return Deployment(metadata=ObjectMeta(name=name, namespace=NAMESPACE, labels=FrozenDict({"app": name})), spec=spec)


@st.composite
def replica_sets(draw: st.DrawFn, name: str = "rs") -> ReplicaSet:
    """A valid apps/v1 ReplicaSet."""
    spec = ReplicaSetSpec(
        selector=LabelSelector(match_labels=FrozenDict({"app": name})),
        template=draw(pod_templates(name)),
        replicas=draw(st.integers(0, 4)),
        min_ready_seconds=draw(st.sampled_from([0, 0, 10])),
    )
    return ReplicaSet(metadata=ObjectMeta(name=name, namespace=NAMESPACE), spec=spec)


@st.composite
def replication_controllers(draw: st.DrawFn, name: str = "rc") -> ReplicationController:
    """A valid core/v1 ReplicationController."""
    tpl = draw(pod_templates(name))
    spec = ReplicationControllerSpec(selector=tpl.metadata.labels, template=tpl, replicas=draw(st.integers(0, 3)))
    return ReplicationController(metadata=ObjectMeta(name=name, namespace=NAMESPACE, labels=tpl.metadata.labels), spec=spec)


@st.composite
def workload_sets(draw: st.DrawFn, max_workloads: int = 2) -> list[object]:
    """One or more workloads with distinct names and selectors."""
    makers = [deployments, replica_sets, replication_controllers]
    n = draw(st.integers(1, max_workloads))
    out: list[object] = []
    for i in range(n):
        maker = draw(st.sampled_from(makers))
        out.append(draw(maker(name=f"w{i}")))
    return out


def with_replicas(obj: object, replicas: int) -> object:
    """A copy of a workload with another replica count."""
    return replace(obj, spec=replace(obj.spec, replicas=replicas))  # type: ignore[attr-defined, type-var]


@st.composite
def daemon_sets(draw: st.DrawFn, name: str = "ds") -> DaemonSet:
    """A valid apps/v1 DaemonSet: RollingUpdate with valid maxSurge/maxUnavailable (not both
    0), or OnDelete; sometimes hostNetwork, and the template tolerations and nodeSelector
    of `pod_templates`."""
    template = draw(pod_templates(name))
    if draw(st.booleans()):
        template = replace(template, spec=replace(template.spec, host_network=True))
    if draw(st.integers(0, 3)) == 0:
        strategy = DaemonSetUpdateStrategy(type="OnDelete")
    else:
        surges: st.SearchStrategy[int | str] = st.sampled_from([0, 0, 1, "50%"])
        unavailables: st.SearchStrategy[int | str] = st.sampled_from([0, 1, 2, "50%"])
        surge = draw(surges)
        unavailable = draw(unavailables)
        if surge in (0, "0%") and unavailable in (0, "0%"):
            unavailable = 1
        strategy = DaemonSetUpdateStrategy(type="RollingUpdate", rolling_update=RollingUpdateDaemonSet(max_unavailable=unavailable, max_surge=surge))
    spec = DaemonSetSpec(
        selector=LabelSelector(match_labels=FrozenDict({"app": name})),
        template=template,
        update_strategy=strategy,
        min_ready_seconds=draw(st.sampled_from([0, 0, 10])),
        revision_history_limit=draw(st.sampled_from([0, 1, 10])),
    )
    return DaemonSet(metadata=ObjectMeta(name=name, namespace=NAMESPACE), spec=spec)


@st.composite
def stateful_sets(draw: st.DrawFn, name: str = "web") -> object:
    """A valid apps/v1 StatefulSet: OrderedReady or Parallel; RollingUpdate (partition,
    sometimes maxUnavailable) or OnDelete; sometimes a start ordinal, minReadySeconds, a
    `www` claim template and a retention policy."""
    from kmodel.objects.apps import (
        RollingUpdateStatefulSetStrategy,
        StatefulSet,
        StatefulSetOrdinals,
        StatefulSetPersistentVolumeClaimRetentionPolicy,
        StatefulSetSpec,
        StatefulSetUpdateStrategy,
    )
    from kmodel.objects.pod import TemplateMeta as _TemplateMeta
    from kmodel.objects.storage import PersistentVolumeClaimSpec, PersistentVolumeClaimTemplate

    replicas = draw(st.integers(0, 4))
    if draw(st.integers(0, 3)) == 0:
        strategy = StatefulSetUpdateStrategy(type="OnDelete")
    else:
        max_unavailable: int | str | None = draw(st.sampled_from([None, None, 1, 2, "50%"]))
        rolling = RollingUpdateStatefulSetStrategy(partition=draw(st.integers(0, replicas)), max_unavailable=max_unavailable)
        strategy = StatefulSetUpdateStrategy(type="RollingUpdate", rolling_update=rolling)
    claims: tuple[PersistentVolumeClaimTemplate, ...] = ()
    if draw(st.booleans()):
        claim_spec = PersistentVolumeClaimSpec(access_modes=("ReadWriteOnce",), resources=ResourceRequirements(requests=FrozenDict({"storage": GI})))
        claims = (PersistentVolumeClaimTemplate(metadata=_TemplateMeta(name="www"), spec=claim_spec),)
    retention = StatefulSetPersistentVolumeClaimRetentionPolicy(
        when_deleted=draw(st.sampled_from(["Retain", "Delete"])), when_scaled=draw(st.sampled_from(["Retain", "Delete"]))
    )
    start = draw(st.sampled_from([None, None, 0, 2]))
    spec = StatefulSetSpec(
        selector=LabelSelector(match_labels=FrozenDict({"app": name})),
        template=draw(pod_templates(name)),
        replicas=replicas,
        service_name=name,
        volume_claim_templates=claims,
        pod_management_policy=draw(st.sampled_from(["OrderedReady", "Parallel"])),
        update_strategy=strategy,
        revision_history_limit=draw(st.sampled_from([0, 1, 10])),
        min_ready_seconds=draw(st.sampled_from([0, 0, 10])),
        persistent_volume_claim_retention_policy=retention,
        ordinals=None if start is None else StatefulSetOrdinals(start=start),
    )
    return StatefulSet(metadata=ObjectMeta(name=name, namespace=NAMESPACE), spec=spec)


# ---- CronJobs ---------------------------------------------------------------------------------

CRON_SCHEDULES = (
    "*/1 * * * *",
    "*/5 * * * *",
    "0 * * * *",
    "30 6-16/4 * * 1-5",
    "0 9 * * MON-FRI",
    "15 10,11,12 * * ?",
    "0 0 1 * *",
    "@hourly",
    "@daily",
    "@weekly",
    "@every 90s",
    "@every 1h30m",
)
CRON_TIME_ZONES = (None, None, "UTC", "America/New_York", "Asia/Tokyo", "Europe/London")


@st.composite
def cron_jobs(draw: st.DrawFn, name: str = "cron") -> object:
    """A valid batch/v1 CronJob: a robfig-standard schedule (fields, macros or @every), an
    optional IANA time zone, any concurrency policy, sometimes suspended or with a starting
    deadline, small history limits, and a small Job template (restartPolicy Never or
    OnFailure, sometimes with ttlSecondsAfterFinished)."""
    from kmodel.objects.batch import CronJob, CronJobSpec, JobSpec, JobTemplateSpec

    restart = draw(st.sampled_from(["Never", "OnFailure"]))
    completions = draw(st.sampled_from([None, 1, 2]))
    job = JobSpec(
        template=draw(pod_templates(name, restart_policy=restart)),
        completions=completions,
        parallelism=draw(st.sampled_from([None, 1, 2])),
        backoff_limit=draw(st.sampled_from([None, 0, 1, 6])),
        ttl_seconds_after_finished=draw(st.sampled_from([None, None, 0, 30, 600])),
        active_deadline_seconds=draw(st.sampled_from([None, None, 120])),
    )
    spec = CronJobSpec(
        schedule=draw(st.sampled_from(CRON_SCHEDULES)),
        job_template=JobTemplateSpec(metadata=TemplateMeta(labels=FrozenDict({"cronjob": name})), spec=job),
        time_zone=draw(st.sampled_from(CRON_TIME_ZONES)),
        starting_deadline_seconds=draw(st.sampled_from([None, None, 10, 60, 600, 3600])),
        concurrency_policy=draw(st.sampled_from(["Allow", "Forbid", "Replace"])),
        suspend=draw(st.integers(0, 5)) == 0,
        successful_jobs_history_limit=draw(st.integers(0, 3)),
        failed_jobs_history_limit=draw(st.integers(0, 2)),
    )
    return CronJob(metadata=ObjectMeta(name=name, namespace=NAMESPACE), spec=spec)


@st.composite
def jobs(draw: st.DrawFn, name: str = "job") -> object:
    """A valid batch/v1 Job: NonIndexed (sometimes a work queue without completions) or
    Indexed, small parallelism and completions, any backoffLimit, sometimes suspended,
    with activeDeadlineSeconds, a pod failure policy (restartPolicy Never, then
    podReplacementPolicy Failed or unset), a podReplacementPolicy, and, for Indexed Jobs,
    backoffLimitPerIndex with maxFailedIndexes or a success policy."""
    from kmodel.objects.batch import (
        Job,
        JobSpec,
        PodFailurePolicy,
        PodFailurePolicyOnExitCodesRequirement,
        PodFailurePolicyRule,
        SuccessPolicy,
        SuccessPolicyRule,
    )

    indexed = draw(st.booleans())
    completions = draw(st.integers(1, 3)) if indexed else draw(st.sampled_from([None, 1, 2, 3]))
    pfp: PodFailurePolicy | None = None
    restart = draw(st.sampled_from(["Never", "OnFailure"]))
    if restart == "Never" and draw(st.integers(0, 2)) == 0:
        action = draw(st.sampled_from(["FailJob", "Ignore", "Count"] + (["FailIndex"] if indexed else [])))
        pfp = PodFailurePolicy((PodFailurePolicyRule(action, on_exit_codes=PodFailurePolicyOnExitCodesRequirement("In", (42,))),))
    replacement = draw(st.sampled_from([None, "Failed"] if pfp is not None else [None, "Failed", "TerminatingOrFailed"]))
    per_index = draw(st.sampled_from([None, 0, 1])) if indexed else None
    if pfp is not None and pfp.rules[0].action == "FailIndex" and per_index is None:
        per_index = 1  # FailIndex needs backoffLimitPerIndex
    max_failed = draw(st.sampled_from([None, 0, 1])) if per_index is not None else None
    success: SuccessPolicy | None = None
    if indexed and completions and draw(st.integers(0, 3)) == 0:
        success = SuccessPolicy((SuccessPolicyRule(succeeded_count=draw(st.integers(1, completions))),))
    spec = JobSpec(
        template=draw(pod_templates(name, restart_policy=restart)),
        parallelism=draw(st.sampled_from([None, 0, 1, 2, 3])),
        completions=completions,
        completion_mode="Indexed" if indexed else draw(st.sampled_from([None, "NonIndexed"])),
        backoff_limit=draw(st.sampled_from([None, 0, 1, 3])),
        backoff_limit_per_index=per_index,
        max_failed_indexes=max_failed,
        active_deadline_seconds=draw(st.sampled_from([None, None, 30, 600])),
        suspend=draw(st.integers(0, 5)) == 0,
        pod_failure_policy=pfp,
        pod_replacement_policy=replacement,
        success_policy=success,
    )
    return Job(metadata=ObjectMeta(name=name, namespace=NAMESPACE), spec=spec)
