"""Broken schedulers (kmodel.scheduler)."""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from kmodel import apiserver
from kmodel.actions import Action, Schedule
from kmodel.config import ModelConfig
from kmodel.objects.node import Node
from kmodel.objects.pod import RUNNING, Pod, pod_requests
from kmodel.scheduler import Scheduler, filter_failures, pending_pods, score
from kmodel.state import ClusterState


def running_only_failures(state: ClusterState, pod: Pod, node: Node) -> list[str]:
    """filter_failures with NodeResourcesFit computed over the node's *running* pods only:
    pods bound to the node that its kubelet has not started yet are forgotten (the bug)."""
    failures = [f for f in filter_failures(state, pod, node) if not f.startswith("NodeResourcesFit")]
    running = [p for p in state.pods_on(node.name) if p.status.phase == RUNNING and p.metadata.uid != pod.metadata.uid]
    if len(running) + 1 > (node.allocatable_of("pods") or 0):
        failures.append("NodeResourcesFit(pods)")
    used: dict[str, int] = {}
    for p in running:
        for r, v in pod_requests(p.spec).items():
            used[r] = used.get(r, 0) + v
    for r, v in sorted(pod_requests(pod.spec).items()):
        alloc = node.allocatable_of(r)
        if v > 0 and (alloc is None or v > alloc - used.get(r, 0)):
            failures.append(f"NodeResourcesFit({r})")
    return failures


class ForgetsAssumedPods(Scheduler):
    """Accounts only for the pods already running on a node when checking that a pod fits.

    Reproduces the over-commit of kubernetes/kubernetes#106361: when the scheduler's cache
    forgets a pod it has bound (an assumed pod whose binding took longer than the cache's
    30 s expiry) before the pod shows up bound in its informer, the node looks emptier
    than it is and a second pod that does not fit is bound there (the kubelet then
    rejects it with OutOfcpu; compare kubernetes/kubernetes#10928). The scheduler cache's
    assume step exists to count bound-but-not-yet-running pods.

    Caught by `node-capacity`: the pods placed on a node request more than it has.
    """

    def candidates(self, state: ClusterState, config: ModelConfig) -> Iterable[Action]:
        """As the reference, with the forgetful fit check."""
        nodes = state.nodes()
        for pod in pending_pods(state):
            feasible = [n for n in nodes if not running_only_failures(state, pod, n)]
            if not feasible:
                continue
            feasible.sort(key=lambda n: (tuple(-x for x in score(state, pod, n)), n.name))
            for n in feasible:
                yield Schedule(pod.metadata.namespace, pod.metadata.name, n.name)
            return

    def requests(self, state: ClusterState, action: Action, config: ModelConfig) -> Sequence[apiserver.Request]:
        """The binding, if the pod is still pending and the node passes the forgetful filters."""
        assert isinstance(action, Schedule)
        pod = state.get("Pod", action.namespace, action.pod)
        node = state.get("Node", "", action.node)
        if pod is None or node is None or pod.spec.node_name or pod.metadata.deletion_timestamp is not None:
            return ()
        if running_only_failures(state, pod, node):
            return ()
        return (apiserver.Bind(action.namespace, action.pod, action.node, uid=pod.metadata.uid),)
