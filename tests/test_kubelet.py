"""The kubelet: getPhase, the start-up sequence against a real trace, restarts with
back-off, termination and the final delete, admission, init containers and sidecars,
and the node heartbeat.

Rules: pkg/kubelet/kubelet_pods.go getPhase (tables of kubelet_pods_test.go
TestPodPhaseWith*), pkg/kubelet/status/status_manager.go TerminatePod,
pkg/kubelet/kuberuntime/kuberuntime_manager.go doBackOff with client-go
flowcontrol.Backoff, pkg/kubelet/lifecycle/predicate.go; spec §2.
"""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest

from kmodel import apiserver
from kmodel.actions import AddNode, Apply, DeleteObject, ExitContainer, FailNode, Patch, Reconcile, RecoverNode
from kmodel.config import ModelConfig
from kmodel.controllers.nodelifecycle import NodeLifecycleController
from kmodel.kubelet import Kubelet, get_phase, restart_backoff
from kmodel.model import Model
from kmodel.objects.meta import ObjectMeta, find_condition
from kmodel.objects.pod import (
    Container,
    ContainerState,
    ContainerStateRunning,
    ContainerStateTerminated,
    ContainerStateWaiting,
    ContainerStatus,
    Pod,
    PodSpec,
)
from kmodel.objects.serde import decode_object, encode_object
from kmodel.scheduler import Scheduler
from kmodel.state import ClusterState, empty_state

TRACE = Path("/work/shared/samples/kubectl-watch/deployment-rollout/pods.jsonl")
CFG = ModelConfig()


# ---- getPhase tables (kubelet_pods_test.go) ----------------------------------------------------


def running(name: str, started: bool | None = None) -> ContainerStatus:
    return ContainerStatus(name=name, started=started, state=ContainerState(running=ContainerStateRunning()))


def started(name: str) -> ContainerStatus:
    return running(name, started=True)


def waiting(name: str) -> ContainerStatus:
    return ContainerStatus(name=name, state=ContainerState(waiting=ContainerStateWaiting()))


def exited(name: str, code: int) -> ContainerStatus:
    return ContainerStatus(name=name, state=ContainerState(terminated=ContainerStateTerminated(exit_code=code)))


def crashlooping(name: str, code: int = 0) -> ContainerStatus:
    """waitingStateWithLastTermination / waitingStateWithNonZeroTermination."""
    last = ContainerState(terminated=ContainerStateTerminated(exit_code=code))
    return ContainerStatus(name=name, state=ContainerState(waiting=ContainerStateWaiting()), last_state=last)


def spec(policy: str, init: str | None = None) -> PodSpec:
    inits = () if init is None else (Container("X", restart_policy="Always" if init == "sidecar" else None),)
    return PodSpec(containers=(Container("A"), Container("B")), init_containers=inits, restart_policy=policy, node_name="machine")


A0, B0, Af, Bf = exited("A", 0), exited("B", 0), exited("A", -1), exited("B", -1)

PHASE_CASES = [
    # TestPodPhaseWithRestartAlways
    ("Always", None, [], False, "Pending", "waiting"),
    ("Always", None, [running("A"), running("B")], False, "Running", "all running"),
    ("Always", None, [exited("A", 0), exited("B", 0)], False, "Running", "all stopped with restart always"),
    ("Always", None, [A0, B0], True, "Succeeded", "all succeeded with restart always, but the pod is terminal"),
    ("Always", None, [A0, Bf], True, "Failed", "all stopped with restart always, but the pod is terminal"),
    ("Always", None, [running("A"), exited("B", 0)], False, "Running", "mixed state #1 with restart always"),
    ("Always", None, [running("A")], False, "Pending", "mixed state #2 with restart always"),
    ("Always", None, [running("A"), waiting("B")], False, "Pending", "mixed state #3 with restart always"),
    ("Always", None, [running("A"), crashlooping("B")], False, "Running", "backoff crashloop container with restart always"),
    # TestPodPhaseWithRestartAlwaysInitContainers
    ("Always", "init", [running("X")], False, "Pending", "init container running"),
    ("Always", "init", [exited("X", -1)], False, "Pending", "init container terminated non-zero"),
    ("Always", "init", [crashlooping("X", -1)], False, "Pending", "init container waiting, terminated non-zero"),
    ("Always", "init", [exited("X", 0), running("A"), running("B")], False, "Running", "init container succeeded"),
    # TestPodPhaseWithRestartAlwaysRestartableInitContainers
    ("Always", "sidecar", [running("X")], False, "Pending", "restartable init container running"),
    ("Always", "sidecar", [exited("X", 0)], False, "Pending", "restartable init container stopped"),
    ("Always", "sidecar", [started("X"), running("A")], False, "Pending", "restartable init container started, 1/2 regular container running"),
    ("Always", "sidecar", [started("X"), running("A"), running("B")], False, "Running", "restartable init container started, all regular containers running"),
    ("Always", "sidecar", [running("X"), running("A"), running("B")], False, "Running", "restartable init container running, all regular containers running"),
    ("Always", "sidecar", [crashlooping("X"), running("A"), running("B")], False, "Running", "backoff crashloop restartable init, all regular running"),
    ("Always", "sidecar", [exited("X", -1), A0, B0], True, "Succeeded", "regular succeeded, restartable init failed, pod terminal"),
    # kubecontainer.HasAnyRegularContainerStarted looks at the current state only: regular
    # containers waiting in back-off do not count as started, so a sidecar not yet started
    # keeps the pod Pending
    ("Always", "sidecar", [running("X", started=False), crashlooping("A", 1), crashlooping("B", 1)], False, "Pending", "sidecar starting, regular back-off"),
    # TestPodPhaseWithRestartNever
    ("Never", None, [running("A"), running("B")], False, "Running", "all running with restart never"),
    ("Never", None, [A0, B0], False, "Succeeded", "all succeeded with restart never"),
    ("Never", None, [Af, Bf], False, "Failed", "all failed with restart never"),
    ("Never", None, [running("A"), B0], False, "Running", "mixed state #1 with restart never"),
    # TestPodPhaseWithRestartNeverInitContainers
    ("Never", "init", [running("X")], False, "Pending", "init container running"),
    ("Never", "init", [exited("X", -1)], False, "Failed", "init container terminated non-zero"),
    ("Never", "init", [crashlooping("X", 0)], False, "Pending", "init container waiting, terminated zero"),
    ("Never", "init", [crashlooping("X", -1)], False, "Failed", "init container waiting, terminated non-zero"),
    ("Never", "init", [waiting("X")], False, "Pending", "init container waiting, not terminated"),
    # TestPodPhaseWithRestartNeverRestartableInitContainers
    ("Never", "sidecar", [started("X"), A0, B0], False, "Running", "restartable init container started, main containers succeeded"),
    ("Never", "sidecar", [exited("X", 0), A0, B0], False, "Succeeded", "all containers succeeded"),
    ("Never", "sidecar", [exited("X", -1), A0, B0], False, "Succeeded", "restartable init container terminated non-zero, main containers succeeded"),
    # TestPodPhaseWithRestartOnFailure
    ("OnFailure", None, [A0, B0], False, "Succeeded", "all succeeded with restart onfailure"),
    ("OnFailure", None, [Af, Bf], False, "Running", "all failed with restart onfailure (restarting)"),
    ("OnFailure", None, [running("A"), B0], False, "Running", "mixed state #1 with restart onfailure"),
    ("OnFailure", None, [running("A")], False, "Pending", "mixed state #2 with restart onfailure"),
    ("OnFailure", None, [A0, Bf], True, "Failed", "terminal pod with a failure"),
]


@pytest.mark.parametrize("policy,init,statuses,terminal,phase,name", PHASE_CASES, ids=[c[-1] for c in PHASE_CASES])
def test_get_phase(policy: str, init: str | None, statuses: list[ContainerStatus], terminal: bool, phase: str, name: str) -> None:
    pod = Pod(metadata=ObjectMeta(name="p", namespace="default"), spec=spec(policy, init))
    assert get_phase(pod, statuses, terminal) == phase


# ---- building running pods ------------------------------------------------------------------------


def decode(doc: dict[str, Any]) -> Any:
    obj, _ = decode_object(doc)
    return obj


def node(name: str, cpu: str = "4", pods: int = 110, taints: list[dict[str, Any]] | None = None, labels: dict[str, str] | None = None) -> Any:
    return decode(
        {
            "apiVersion": "v1",
            "kind": "Node",
            "metadata": {"name": name, "labels": labels or {}},
            "spec": {"taints": taints or []},
            "status": {"allocatable": {"cpu": cpu, "memory": "8Gi", "pods": str(pods)}},
        }
    )


def pod_doc(
    name: str,
    *,
    restart: str = "Always",
    containers: int = 1,
    init: list[dict[str, Any]] | None = None,
    grace: int = 30,
    cpu: str | None = None,
    **spec_extra: Any,
) -> Any:
    resources = {"resources": {"requests": {"cpu": cpu}}} if cpu else {}
    spec_doc: dict[str, Any] = {
        "restartPolicy": restart,
        "terminationGracePeriodSeconds": grace,
        "containers": [{"name": f"c{i}" if containers > 1 else "c", "image": "nginx", **resources} for i in range(containers)],
        **spec_extra,
    }
    if init:
        spec_doc["initContainers"] = init
    return decode({"apiVersion": "v1", "kind": "Pod", "metadata": {"name": name, "namespace": "default"}, "spec": spec_doc})


def cluster(*objs: Any, nodes: tuple[Any, ...] = (), model: Model | None = None) -> tuple[Model, ClusterState]:
    m = model or Model(actors=[Scheduler(), Kubelet()])
    s = empty_state()
    for n in nodes or (node("n1"),):
        s = m.step(s, AddNode(n))
    return m, m.step(s, Apply(objs))


def get(s: ClusterState, name: str) -> Pod:
    return s.get("Pod", "default", name)


def sync(m: Model, s: ClusterState, name: str) -> ClusterState:
    return m.step(s, Reconcile("kubelet", "default", name))


def container(p: Pod, name: str = "c") -> ContainerStatus:
    return next(c for c in p.status.container_statuses + p.status.init_container_statuses if c.name == name)


# ---- start-up, compared with a real trace -----------------------------------------------------------


def _project(pod: dict[str, Any]) -> tuple[Any, ...]:
    """What the trace and the model should agree on: phase, condition statuses, container state."""
    st = pod.get("status", {})
    conds = tuple(sorted((c["type"], c["status"]) for c in st.get("conditions", [])))
    cs = []
    for c in st.get("containerStatuses", []):
        kind = next(iter(c["state"]))
        reason = c["state"][kind].get("reason", "") if kind == "waiting" else ""
        cs.append((kind, reason, c.get("ready", False), bool(c.get("started", False))))
    return (st.get("phase"), conds, tuple(cs))


def _trace_events() -> list[tuple[str, dict[str, Any]]]:
    out = []
    for line in TRACE.read_text().splitlines():
        ev = json.loads(line)
        out.append((ev["type"], ev["object"]))
    return out


def test_start_sequence_matches_the_recorded_trace() -> None:
    name = "web-68595bf6d9-nrxlc"
    seq: list[tuple[Any, ...]] = []
    for _, obj in _trace_events():
        if obj["metadata"]["name"] == name and obj["spec"].get("nodeName") and "deletionTimestamp" not in obj["metadata"]:
            proj = _project(obj)
            if not seq or seq[-1] != proj:
                seq.append(proj)
    assert seq[-1][0] == "Running" and ("Ready", "True") in seq[-1][1]

    m, s = cluster(pod_doc("web"))
    model_seq: list[tuple[Any, ...]] = []

    def record(prev: ClusterState, action: Any, nxt: ClusterState) -> None:
        p = get(nxt, "web")
        if p is not None and p.spec.node_name:
            proj = _project(encode_object(p))
            if not model_seq or model_seq[-1] != proj:
                model_seq.append(proj)

    m.settle(s, on_step=record)
    assert model_seq == seq


def test_termination_moves_the_deletion_timestamp_back_as_in_the_trace() -> None:
    # the trace: deletionTimestamp T+grace with grace 5, containers terminated, then the
    # kubelet's final delete (grace 0) moves deletionTimestamp back to T
    by_name: dict[str, list[dict[str, Any]]] = {}
    for kind, obj in _trace_events():
        if kind == "MODIFIED" and "deletionTimestamp" in obj["metadata"]:
            by_name.setdefault(obj["metadata"]["name"], []).append(obj["metadata"])

    def ts(v: str) -> datetime:
        return datetime.fromisoformat(v.replace("Z", "+00:00"))

    checked = 0
    for metas in by_name.values():
        first, last = metas[0], metas[-1]
        if last["deletionGracePeriodSeconds"] == 0:
            moved = (ts(first["deletionTimestamp"]) - ts(last["deletionTimestamp"])).total_seconds()
            assert moved == first["deletionGracePeriodSeconds"] == 5
            checked += 1
    assert checked >= 3

    # the model, with a finalizer so that the object survives the kubelet's final delete
    m, s = cluster(replace(pod_doc("web", grace=5), metadata=replace(pod_doc("web").metadata, finalizers=("example.com/hold",))))
    s = m.settle(s).state
    s = m.step(s, DeleteObject("Pod", "default", "web"))
    t = s.clock
    p = get(s, "web")
    assert (p.metadata.deletion_timestamp, p.metadata.deletion_grace_period_seconds) == (t + 5, 5)
    s = sync(m, s, "web")  # containers stop: exit 0, Ready False, terminal phase (1.27+)
    p = get(s, "web")
    assert container(p).state.terminated is not None and container(p).state.terminated.exit_code == 0
    assert not p.ready and p.status.phase == "Succeeded"
    s = sync(m, s, "web")  # final delete, grace 0
    p = get(s, "web")
    assert (p.metadata.deletion_timestamp, p.metadata.deletion_grace_period_seconds) == (t, 0)
    s = m.step(s, Patch("Pod", "default", "web", {"metadata": {"finalizers": None}}))
    assert get(s, "web") is None


def test_terminating_pod_without_finalizers_is_removed_by_the_kubelet() -> None:
    m, s = cluster(pod_doc("web"))
    s = m.settle(s).state
    s = m.step(s, DeleteObject("Pod", "default", "web"))
    s = sync(m, s, "web")
    assert get(s, "web").status.phase == "Succeeded"
    s = sync(m, s, "web")
    assert get(s, "web") is None


def test_terminal_phase_on_deletion_failed_when_a_container_had_failed() -> None:
    m, s = cluster(pod_doc("web", containers=2, restart="Never"))
    s = m.settle(s).state
    s = m.step(s, ExitContainer("default", "web", "c0", 3))
    assert get(s, "web").status.phase == "Running"
    s = m.step(s, DeleteObject("Pod", "default", "web"))
    s = sync(m, s, "web")
    assert get(s, "web").status.phase == "Failed"


def test_pod_deleted_before_it_started_is_marked_failed() -> None:
    # status_manager.go TerminatePod: a Pending pod becomes Failed
    m, s = cluster(pod_doc("web"))
    s = m.step(s, next(a for a in Scheduler().candidates(s, CFG)))
    s = sync(m, s, "web")  # admitted: Pending, containers waiting
    assert get(s, "web").status.phase == "Pending"
    s = m.step(s, DeleteObject("Pod", "default", "web"))
    s = sync(m, s, "web")
    assert get(s, "web").status.phase == "Failed"
    s = sync(m, s, "web")
    assert get(s, "web") is None


def test_pod_with_a_sidecar_deleted_before_admission_is_marked_failed() -> None:
    # no status at all: getPhase sees the sidecar as unknown and would say Pending;
    # TerminatePod forces a Pending pod to Failed
    m, s = cluster(pod_doc("web", init=[{"name": "proxy", "image": "envoy", "restartPolicy": "Always"}]))
    s = m.step(s, next(a for a in Scheduler().candidates(s, CFG)))
    s = m.step(s, DeleteObject("Pod", "default", "web"))
    assert get(s, "web").status.container_statuses == ()
    s = sync(m, s, "web")
    assert get(s, "web").status.phase == "Failed"


# ---- restarts and back-off --------------------------------------------------------------------------


def restart_delays(m: Model, s: ClusterState, name: str, exits: int, code: int = 1) -> list[int]:
    """Exit the container `exits` times; the seconds from each exit to the restart."""
    delays = []
    for _ in range(exits):
        s = m.step(s, ExitContainer("default", name, "c", code))
        exit_time = s.clock
        before = container(get(s, name)).restart_count
        s = m.settle(s).state
        c = container(get(s, name))
        assert c.restart_count == before + 1 and c.state.running is not None and c.state.running.started_at is not None
        delays.append(c.state.running.started_at - exit_time)
    return delays


def test_restart_back_off_doubles_from_10s_to_300s() -> None:
    # kuberuntime doBackOff + flowcontrol.Backoff(10 s, 300 s): no entry at the first
    # exit (restart at once), then 10 s doubling, capped at MaxContainerBackOff
    m, s = cluster(pod_doc("web"))
    s = m.settle(s).state
    delays = restart_delays(m, s, "web", 9)
    assert delays == [0, 10, 20, 40, 80, 160, 300, 300, 300]
    assert [restart_backoff(n) for n in range(9)] == delays


def test_restarting_pod_stays_running_but_not_ready() -> None:
    m, s = cluster(pod_doc("web"))
    s = m.settle(s).state
    s = m.step(s, ExitContainer("default", "web", "c", 0))
    p = get(s, "web")
    assert p.status.phase == "Running"  # restartPolicy Always
    assert not p.ready and find_condition(p.status.conditions, "ContainersReady").status == "False"
    s = m.settle(s).state
    assert get(s, "web").ready and container(get(s, "web")).restart_count == 1


@pytest.mark.parametrize(
    "policy,code,restarts,phase",
    [
        ("Never", 1, False, "Failed"),
        ("Never", 0, False, "Succeeded"),
        ("OnFailure", 0, False, "Succeeded"),
        ("OnFailure", 2, True, "Running"),
        ("Always", 0, True, "Running"),
    ],
)
def test_restart_policies(policy: str, code: int, restarts: bool, phase: str) -> None:
    m, s = cluster(pod_doc("job", restart=policy))
    s = m.settle(s).state
    s = m.step(s, ExitContainer("default", "job", "c", code))
    assert get(s, "job").status.phase == phase
    s = m.settle(s).state
    assert (container(get(s, "job")).restart_count == 1) is restarts
    if not restarts:
        assert get(s, "job").status.phase == phase and not get(s, "job").ready


# ---- init containers and sidecars ---------------------------------------------------------------------


def test_init_container_sequence() -> None:
    m, s = cluster(pod_doc("web", init=[{"name": "init", "image": "busybox"}]))
    s = m.step(s, next(iter(Scheduler().candidates(s, CFG))))
    seen = []
    for _ in range(6):
        s = sync(m, s, "web")
        p = get(s, "web")
        init = container(p, "init").state
        seen.append(
            (
                p.status.phase,
                find_condition(p.status.conditions, "Initialized").status,
                "running" if init.running else "done" if init.terminated else "waiting",
                "running" if container(p).state.running else "waiting",
                p.ready,
            )
        )
    assert seen == [
        ("Pending", "False", "waiting", "waiting", False),  # admitted: PodInitializing
        ("Pending", "False", "running", "waiting", False),
        ("Pending", "False", "done", "waiting", False),
        ("Pending", "True", "done", "waiting", False),
        ("Running", "True", "done", "running", False),
        ("Running", "True", "done", "running", True),
    ]
    assert container(get(s, "web"), "init").state.terminated.exit_code == 0


@pytest.mark.parametrize("policy,phase", [("Never", "Failed"), ("Always", "Pending"), ("OnFailure", "Pending")])
def test_init_container_failure(policy: str, phase: str) -> None:
    m, s = cluster(pod_doc("web", restart=policy, init=[{"name": "init", "image": "busybox"}]))
    s = m.step(s, next(iter(Scheduler().candidates(s, CFG))))
    s = sync(m, sync(m, s, "web"), "web")
    assert container(get(s, "web"), "init").state.running is not None
    s = m.step(s, ExitContainer("default", "web", "init", 1))
    assert get(s, "web").status.phase == phase
    s = sync(m, s, "web")
    if policy == "Never":
        assert get(s, "web").status.phase == "Failed" and container(get(s, "web"), "init").restart_count == 0
    else:
        assert container(get(s, "web"), "init").restart_count == 1  # restarted (first time: at once)


def test_sidecar_keeps_running_and_restarts() -> None:
    m, s = cluster(pod_doc("web", init=[{"name": "proxy", "image": "envoy", "restartPolicy": "Always"}]))
    s = m.settle(s).state
    p = get(s, "web")
    assert p.status.phase == "Running" and p.ready
    assert container(p, "proxy").state.running is not None and container(p, "proxy").ready
    s = m.step(s, ExitContainer("default", "web", "proxy", 0))
    assert get(s, "web").status.phase == "Running" and not get(s, "web").ready
    s = m.settle(s).state
    assert container(get(s, "web"), "proxy").restart_count == 1 and get(s, "web").ready


# ---- admission ---------------------------------------------------------------------------------------


def test_admission_rejects_a_pod_over_capacity() -> None:
    # a pod bound directly (spec.nodeName) bypasses the scheduler; the kubelet rejects it
    m, s = cluster(pod_doc("fits", nodeName="n1", cpu="600m"), nodes=(node("n1", cpu="1"),))
    s = m.settle(s).state
    assert get(s, "fits").status.phase == "Running"
    s = m.settle(m.step(s, Apply((pod_doc("big", nodeName="n1", cpu="600m"),)))).state
    p = get(s, "big")
    assert (p.status.phase, p.status.reason) == ("Failed", "OutOfcpu")
    assert p.status.message == "Node didn't have enough resource: cpu, requested: 600, used: 600, capacity: 1000"


def test_admission_checks_resources_before_taints_and_names_the_plugin() -> None:
    tainted = node("n1", cpu="1", pods=1, taints=[{"key": "k", "effect": "NoExecute"}])
    m, s = cluster(pod_doc("first", nodeName="n1", tolerations=[{"key": "k", "operator": "Exists"}]), nodes=(tainted,))
    s = m.settle(s).state
    assert get(s, "first").status.phase == "Running"
    s = m.settle(m.step(s, Apply((pod_doc("second", nodeName="n1"),)))).state
    assert get(s, "second").status.reason == "OutOfpods"  # pods first, taint second
    m2, s2 = cluster(pod_doc("lonely", nodeName="n1"), nodes=(tainted,))
    s2 = m2.settle(s2).state
    assert (get(s2, "lonely").status.phase, get(s2, "lonely").status.reason) == ("Failed", "TaintToleration")
    assert get(s2, "lonely").status.message == "Predicate TaintToleration failed"
    m3, s3 = cluster(pod_doc("picky", nodeName="n1", nodeSelector={"disk": "ssd"}))
    s3 = m3.settle(s3).state
    assert (get(s3, "picky").status.phase, get(s3, "picky").status.reason) == ("Failed", "NodeAffinity")


def test_terminal_pods_do_not_count_for_admission() -> None:
    m, s = cluster(pod_doc("done", nodeName="n1", restart="Never"), nodes=(node("n1", pods=1),))
    s = m.settle(s).state
    s = m.step(s, ExitContainer("default", "done", "c", 0))
    assert get(s, "done").status.phase == "Succeeded"
    s = m.settle(m.step(s, Apply((pod_doc("next", nodeName="n1"),)))).state
    assert get(s, "next").status.phase == "Running"


# ---- heartbeat ---------------------------------------------------------------------------------------


def test_heartbeat_after_recovery() -> None:
    cfg = ModelConfig(kubernetes_version="1.28")
    m = Model(cfg, actors=[Kubelet(), NodeLifecycleController()])
    s = m.step(m.step(empty_state(), AddNode(node("n1"))), AddNode(node("n2")))
    s = m.step(s, FailNode("n1"))
    s = m.settle(s).state
    n1 = s.get("Node", "", "n1")
    assert n1.ready_status() == "Unknown"
    assert sync_node_noop(m, s, "n1")  # a dead kubelet does nothing
    s = m.step(s, RecoverNode("n1"))
    recovered_at = s.clock
    s = m.step(s, Reconcile("kubelet", "", "n1"))
    ready = find_condition(s.get("Node", "", "n1").status.conditions, "Ready")
    assert (ready.status, ready.last_heartbeat_time, ready.last_transition_time) == ("True", recovered_at, recovered_at)
    s = m.settle(s).state
    assert s.get("Node", "", "n1").spec.taints == ()  # the node lifecycle controller untaints it


def sync_node_noop(m: Model, s: ClusterState, name: str) -> bool:
    return m.step(s, Reconcile("kubelet", "", name)) is s


def test_ready_condition_drops_when_a_container_exits() -> None:
    m, s = cluster(pod_doc("web"))
    s = m.settle(s).state
    assert get(s, "web").ready
    s = m.step(s, ExitContainer("default", "web", "c", 1))
    p = get(s, "web")
    assert not p.ready and not container(p).ready
    assert find_condition(p.status.conditions, "Ready").last_transition_time == s.clock


def test_kubelet_writes_only_status() -> None:
    m, s = cluster(pod_doc("web"))
    s = m.step(s, next(iter(Scheduler().candidates(s, CFG))))
    reqs = Kubelet().requests(s, Reconcile("kubelet", "default", "web"), CFG)
    assert reqs and all(isinstance(r, apiserver.Update) and r.status for r in reqs)
