"""Job pods with several containers: native sidecars, several regular containers and
init containers, as the kubelet runs them and the Job controller counts them.

Rules: kubelet_pods.go getPhase (sidecars do not decide the phase; a failed init
container with restartPolicy Never fails the pod), kuberuntime_manager.go
computePodActions (once no regular container is running or will restart, the pod is
killed, sidecars included, and sidecars are not restarted), status.GeneratePodReadyCondition
(Ready only when every container is ready); job_controller.go counts the pod by its phase
and pastBackoffLimitOnFailure adds init and regular restarts.
"""

from __future__ import annotations

from typing import Any

import pytest

from kmodel.actions import ExitContainer, Reconcile
from kmodel.config import ModelConfig
from kmodel.model import Model
from kmodel.objects.pod import Pod
from kmodel.state import ClusterState
from tests.jobkit import NS, OLD, booted, decode, job_manifest

SIDECAR = {"name": "proxy", "image": "envoy", "restartPolicy": "Always"}
MAINS = [{"name": "a", "image": "busybox"}, {"name": "b", "image": "busybox"}]


def only_pod(s: ClusterState) -> Pod:
    pods = [p for p in s.pods() if p.active]
    assert len(pods) == 1, [p.metadata.name for p in s.pods()]
    return pods[0]


def status_of(pod: Pod, name: str) -> Any:
    return next(c for c in pod.status.container_statuses + pod.status.init_container_statuses if c.name == name)


def job_of(s: ClusterState) -> Any:
    return s.list("Job")[0]


@pytest.mark.parametrize("config", [OLD, ModelConfig()], ids=["1.28", "newest"])
def test_pod_with_sidecar_succeeds_when_main_container_does(config: ModelConfig) -> None:
    m = Model(config)
    s = booted(m, decode(job_manifest(initContainers=[SIDECAR])))
    pod = only_pod(s)
    assert pod.status.phase == "Running" and pod.ready
    assert status_of(pod, "proxy").state.running is not None
    s = m.step(s, ExitContainer(NS, pod.metadata.name, "c", 0))
    p = s.get("Pod", NS, pod.metadata.name)
    # the sidecar still runs: getPhase counts it as running, the pod is not ready any more
    assert p.status.phase == "Running" and not p.ready
    s = m.step(s, Reconcile("kubelet", NS, pod.metadata.name))
    p = s.get("Pod", NS, pod.metadata.name)
    assert status_of(p, "proxy").state.terminated is not None  # killed with the pod
    assert p.status.phase == "Succeeded"
    s = m.settle(s).state
    p = s.get("Pod", NS, pod.metadata.name)
    assert status_of(p, "proxy").restart_count == 0  # not restarted once the pod is done
    job = job_of(s)
    assert job.status.succeeded == 1 and "Complete" in [c.type for c in job.status.conditions]


def test_pod_with_sidecar_fails_when_main_container_fails() -> None:
    m = Model()
    s = booted(m, decode(job_manifest(backoff_limit=0, initContainers=[SIDECAR])))
    pod = only_pod(s)
    s = m.settle(m.step(s, ExitContainer(NS, pod.metadata.name, "c", 3))).state
    p = s.get("Pod", NS, pod.metadata.name)
    assert p.status.phase == "Failed" and status_of(p, "proxy").state.terminated is not None
    job = job_of(s)
    assert job.status.failed == 1 and [c.type for c in job.status.conditions] == ["FailureTarget", "Failed"]


def test_sidecar_crash_is_restarted_while_the_main_container_runs() -> None:
    # restartable init containers restart whatever the pod's restartPolicy (Never here)
    m = Model()
    s = booted(m, decode(job_manifest(initContainers=[SIDECAR])))
    pod = only_pod(s)
    s = m.settle(m.step(s, ExitContainer(NS, pod.metadata.name, "proxy", 1))).state
    p = s.get("Pod", NS, pod.metadata.name)
    assert p.status.phase == "Running" and status_of(p, "proxy").restart_count == 1 and p.ready
    assert job_of(s).status.failed == 0 and job_of(s).status.active == 1


def test_pod_is_ready_only_when_every_container_is() -> None:
    m = Model()
    s = booted(m, decode(job_manifest(containers=MAINS, initContainers=[SIDECAR])))
    pod = only_pod(s)
    assert pod.ready and all(status_of(pod, n).ready for n in ("a", "b", "proxy"))
    assert job_of(s).status.ready == 1
    s = m.step(s, ExitContainer(NS, pod.metadata.name, "a", 0))
    p = s.get("Pod", NS, pod.metadata.name)
    assert p.status.phase == "Running" and not p.ready  # b and the sidecar still run
    s = m.settle(s).state
    p = s.get("Pod", NS, pod.metadata.name)
    assert p.status.phase == "Running" and not p.ready and status_of(p, "proxy").state.running is not None
    assert job_of(s).status.ready == 0 and job_of(s).status.active == 1
    s = m.settle(m.step(s, ExitContainer(NS, pod.metadata.name, "b", 0))).state
    assert s.get("Pod", NS, pod.metadata.name).status.phase == "Succeeded"
    assert job_of(s).status.succeeded == 1


def test_one_failed_regular_container_fails_the_pod() -> None:
    m = Model()
    s = booted(m, decode(job_manifest(containers=MAINS, backoff_limit=1)))
    pod = only_pod(s)
    s = m.step(s, ExitContainer(NS, pod.metadata.name, "a", 0))
    s = m.settle(m.step(s, ExitContainer(NS, pod.metadata.name, "b", 2))).state
    assert s.get("Pod", NS, pod.metadata.name).status.phase == "Failed"
    job = job_of(s)
    assert job.status.failed == 1 and job.status.succeeded == 0 and job.status.active == 1  # replaced


def test_init_container_failure_with_restart_policy_never_fails_the_pod() -> None:
    m = Model()
    s = booted(m, decode(job_manifest(backoff_limit=0, initContainers=[{"name": "init", "image": "busybox"}])), settle=False)
    s = _until(m, s, lambda p: status_of(p, "init").state.running is not None)  # the init container runs
    pod = only_pod(s)
    assert pod.status.phase == "Pending"
    s = m.settle(m.step(s, ExitContainer(NS, pod.metadata.name, "init", 1))).state
    p = s.get("Pod", NS, pod.metadata.name)
    assert p.status.phase == "Failed" and status_of(p, "init").restart_count == 0
    assert status_of(p, "c").state.running is None  # the main container never started
    job = job_of(s)
    assert job.status.failed == 1 and [c.reason for c in job.status.conditions] == ["BackoffLimitExceeded", "BackoffLimitExceeded"]


def test_init_container_restarts_count_towards_backoff_limit_on_failure() -> None:
    m = Model()
    manifest = job_manifest(backoff_limit=2, restartPolicy="OnFailure", initContainers=[{"name": "init", "image": "busybox"}])
    s = booted(m, decode(manifest), settle=False)
    for _ in range(2):
        s = _until(m, s, lambda p: status_of(p, "init").state.running is not None)
        s = m.step(s, ExitContainer(NS, only_pod(s).metadata.name, "init", 1))
    assert status_of(only_pod(s), "init").restart_count == 1 and only_pod(s).status.phase == "Pending"
    s = m.settle(s).state
    job = job_of(s)
    assert [c.reason for c in job.status.conditions][-1] == "BackoffLimitExceeded"
    assert job.status.failed == 1  # the running pod is deleted and counted failed


def test_pod_failure_policy_by_container_name() -> None:
    pfp = {"rules": [{"action": "FailJob", "onExitCodes": {"containerName": "b", "operator": "In", "values": [7]}}]}
    for container, fails_job in (("b", True), ("a", False)):
        m = Model()
        s = booted(m, decode(job_manifest(containers=MAINS, backoff_limit=3, podFailurePolicy=pfp)))
        pod = only_pod(s)
        s = m.settle(m.step(s, ExitContainer(NS, pod.metadata.name, container, 7))).state
        p = s.get("Pod", NS, pod.metadata.name)
        if p.status.phase != "Failed":  # the other container still runs; stop it
            other = "a" if container == "b" else "b"
            s = m.settle(m.step(s, ExitContainer(NS, pod.metadata.name, other, 0))).state
        job = job_of(s)
        assert ("Failed" in [c.type for c in job.status.conditions]) == fails_job
        if not fails_job:
            assert job.status.failed == 1 and job.status.active == 1


def _until(m: Model, s: ClusterState, cond: Any, limit: int = 100) -> ClusterState:
    """Take enabled system actions (first enabled, else the next timer) until the Job's
    only pod satisfies `cond`."""
    for _ in range(limit):
        pods = [p for p in s.pods() if p.active and p.status.init_container_statuses]
        if len(pods) == 1 and cond(pods[0]):
            return s
        actions = [a for a in m.enabled(s) if a.category == "system"] or [a for a in m.enabled(s) if a.category == "time"]
        assert actions, "stuck"
        s = m.step(s, actions[0])
    raise AssertionError("condition never reached")
