"""Builders for Job tests: Jobs through the API server (so the create hook runs), pods of
a Job in a given phase with the tracking finalizer, one controller sync applied
atomically, and a counter of what that sync did."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field, replace
from typing import Any

from kmodel import apiserver
from kmodel.actions import AddNode, Apply, Reconcile
from kmodel.config import ModelConfig
from kmodel.controllers.job import TRACKING_FINALIZER, JobController
from kmodel.controllers.job_backoff import BackoffRecord
from kmodel.controllers.job_indexes import COMPLETION_INDEX_ANNOTATION
from kmodel.frozen import FrozenDict
from kmodel.model import Model
from kmodel.objects.meta import Condition, ObjectMeta, ObjRef
from kmodel.objects.pod import (
    ContainerState,
    ContainerStateRunning,
    ContainerStateTerminated,
    ContainerStatus,
    Pod,
    PodStatus,
)
from kmodel.objects.serde import decode_object
from kmodel.state import ClusterState, InFlight, empty_state
from tests.builders import node

NS = "default"
OLD = ModelConfig(kubernetes_version="1.28")
NEW = ModelConfig()


def job_manifest(
    name: str = "foobar", *, parallelism: int | None = 1, completions: int | None = 1, backoff_limit: int | None = 6, **spec: Any
) -> dict[str, Any]:
    """A batch/v1 Job manifest with one container `c` and restartPolicy Never (overridable)."""
    restart = spec.pop("restartPolicy", "Never")
    containers = spec.pop("containers", [{"name": "c", "image": "busybox"}])
    pod_spec: dict[str, Any] = {"restartPolicy": restart, "containers": containers, "terminationGracePeriodSeconds": spec.pop("grace", 30)}
    if "initContainers" in spec:
        pod_spec["initContainers"] = spec.pop("initContainers")
    body: dict[str, Any] = {"template": {"spec": pod_spec}}
    if parallelism is not None:
        body["parallelism"] = parallelism
    if completions is not None:
        body["completions"] = completions
    if backoff_limit is not None:
        body["backoffLimit"] = backoff_limit
    body.update(spec)
    return {"apiVersion": "batch/v1", "kind": "Job", "metadata": {"name": name, "namespace": NS}, "spec": body}


def decode(manifest: dict[str, Any]) -> Any:
    """Decode a manifest (defaults and validation applied)."""
    obj, _ = decode_object(manifest)
    return obj


def create(state: ClusterState, obj: Any, config: ModelConfig = NEW) -> tuple[ClusterState, Any]:
    """POST an object; the stored object is returned."""
    tx = state.edit()
    out = apiserver.apply(tx, apiserver.Create(obj), config)
    assert out.ok, out.error
    return tx.commit(), out.obj


def write(state: ClusterState, *requests: apiserver.Request, config: ModelConfig = NEW) -> ClusterState:
    """Apply requests, asserting each succeeds."""
    tx = state.edit()
    for r in requests:
        out = apiserver.apply(tx, r, config)
        assert out.ok, (r, out.error)
    return tx.commit()


def set_status(state: ClusterState, job: Any, **changes: Any) -> ClusterState:
    """Write the Job's status with `changes` (a hand-built step)."""
    return write(state, apiserver.Update(replace(job, status=replace(job.status, **changes)), status=True, check_rv=False))


def terminated(code: int, at: int) -> ContainerState:
    """A terminated container state finished at `at`."""
    return ContainerState(terminated=ContainerStateTerminated(exit_code=code, reason="Completed" if code == 0 else "Error", finished_at=at))


def job_pod(
    state: ClusterState,
    job: Any,
    phase: str = "Running",
    *,
    index: str | None = None,
    ready: bool = False,
    exit_code: int | None = None,
    finished_at: int = 1,
    terminating: bool = False,
    node_name: str = "n1",
    annotations: dict[str, str] | None = None,
    conditions: tuple[Condition, ...] = (),
    restarts: int = 0,
    config: ModelConfig = NEW,
) -> tuple[ClusterState, Pod]:
    """A pod of `job` (controller reference, the Job's template labels, the tracking
    finalizer) in `phase`; finished pods have container `c` terminated with `exit_code`
    (0 for Succeeded, 1 for Failed by default) at `finished_at`."""
    ann = dict(annotations or {})
    if index is not None:
        ann[COMPLETION_INDEX_ANNOTATION] = index
    from kmodel.controllers.common import controller_ref

    meta = ObjectMeta(
        generate_name=f"{job.metadata.name}-",
        namespace=NS,
        labels=job.spec.template.metadata.labels,
        annotations=FrozenDict(ann),
        owner_references=(controller_ref(job),),
        finalizers=(TRACKING_FINALIZER,),
    )
    state, pod = create(state, Pod(metadata=meta, spec=replace(job.spec.template.spec, node_name=node_name)), config)
    if phase in ("Succeeded", "Failed"):
        code = exit_code if exit_code is not None else (0 if phase == "Succeeded" else 1)
        cs = ContainerStatus(name="c", state=terminated(code, finished_at), restart_count=restarts)
    else:
        cs = ContainerStatus(name="c", state=ContainerState(running=ContainerStateRunning(started_at=0)), ready=ready, started=True, restart_count=restarts)
    conds = conditions
    if ready:
        conds = conds + (Condition("Ready", "True", last_transition_time=0),)
    status = PodStatus(phase=phase, container_statuses=(cs,), conditions=conds)
    state = write(state, apiserver.Update(replace(pod, status=status), status=True, check_rv=False), config=config)
    if terminating:
        state = write(state, apiserver.Delete(pod.ref), config=config)
    return state, state.get("Pod", NS, pod.metadata.name)


@dataclass
class SyncOutcome:
    """What one sync issued and the state after it."""

    before: ClusterState
    after: ClusterState
    requests: list[Any]
    creates: list[Pod] = field(default_factory=list)
    deletes: list[ObjRef] = field(default_factory=list)
    patches: int = 0

    @property
    def job(self) -> Any:
        """The Job after the sync."""
        jobs = self.after.list("Job")
        return jobs[0] if jobs else None

    def created_indexes(self) -> set[int]:
        """Completion indexes of the created pods."""
        return {int(p.metadata.annotations[COMPLETION_INDEX_ANNOTATION]) for p in self.creates}

    def find(self, type_: str) -> Condition | None:
        """A condition of the Job after the sync, if present."""
        return next((c for c in self.job.status.conditions if c.type == type_), None)

    def condition(self, type_: str) -> Condition:
        """A condition of the Job after the sync (which must be present)."""
        c = self.find(type_)
        assert c is not None, f"no {type_} condition in {self.job.status.conditions}"
        return c

    def true_conditions(self) -> list[str]:
        """Types of the Job's True conditions."""
        return [c.type for c in self.job.status.conditions if c.status == "True"]


def sync(state: ClusterState, job_name: str = "foobar", config: ModelConfig = NEW, controller: JobController | None = None) -> SyncOutcome:
    """One syncJob, its requests applied atomically."""
    ctl = controller or JobController()
    reqs = list(ctl.requests(state, Reconcile("job", NS, job_name), config))
    tx = state.edit()
    for r in reqs:
        apiserver.apply(tx, r, config)
    out = SyncOutcome(state, tx.commit(), reqs)
    for r in reqs:
        if isinstance(r, apiserver.Create):
            out.creates.append(r.obj)
        elif isinstance(r, apiserver.Delete):
            out.deletes.append(r.ref)
        elif isinstance(r, apiserver.Update) and not r.status and isinstance(r.obj, Pod):
            out.patches += 1
    return out


def with_backoff(state: ClusterState, record: BackoffRecord, key: str = f"{NS}/foobar") -> ClusterState:
    """Controller memory holding a back-off record for `key`."""
    tx = state.edit()
    tx.remember("job", FrozenDict({key: record}))
    return tx.commit()


def with_inflight(state: ClusterState, request: apiserver.Request, job_name: str = "foobar") -> ClusterState:
    """A request of the Job controller for `job_name` still in flight (unsatisfied expectations)."""
    tx = state.edit()
    tx.set_inflight(state.inflight + (InFlight("job", (NS, job_name), state.clock, request),))
    return tx.commit()


def at(state: ClusterState, clock: int) -> ClusterState:
    """The state with the clock moved to `clock`."""
    tx = state.edit()
    tx.set_clock(clock)
    return tx.commit()


def booted(model: Model, *objects: Any, nodes: tuple[Any, ...] = (), settle: bool = True) -> ClusterState:
    """Nodes added, objects applied, everything settled (unless `settle` is false)."""
    s = empty_state()
    for n in nodes or (node("n1"),):
        s = model.step(s, AddNode(n))
    s = model.step(s, Apply(tuple(objects)))
    return model.settle(s).state if settle else s


def phases(state: ClusterState) -> Counter[str]:
    """How many pods are in each phase."""
    return Counter(p.status.phase for p in state.pods())
