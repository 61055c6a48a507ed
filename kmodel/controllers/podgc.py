"""The pod garbage collector (pkg/controller/podgc/gc_controller.go).

* Orphaned pods: bound to a node that no longer exists; after the 40 s quarantine the
  pod is marked Failed with DisruptionTarget (DeletionByPodGC) and force-deleted.
* Terminating pods on a not-ready node tainted node.kubernetes.io/out-of-service
  (non-graceful node shutdown): marked Failed (no condition) and force-deleted.
* Unscheduled pods being deleted: marked Failed (no condition) and force-deleted.
(gc_controller.go markFailedAndDeletePod[WithCondition]: only non-terminal pods get
the phase patch; only gcOrphaned passes a DisruptionTarget condition.)
The terminated-pod threshold (12500) is far beyond any model scope and is not modelled.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import replace

from kmodel import apiserver
from kmodel.actions import Action, Reconcile
from kmodel.config import ModelConfig
from kmodel.objects.meta import Condition, set_condition
from kmodel.objects.node import TAINT_OUT_OF_SERVICE
from kmodel.objects.pod import FAILED, Pod
from kmodel.state import ClusterState

NAME = "podgc"
_ORPHANED = Condition("DisruptionTarget", "True", reason="DeletionByPodGC", message="PodGC: node no longer exists")


def _fail_and_delete(pod: Pod, now: int, condition: Condition | None = None) -> list[apiserver.Request]:
    reqs: list[apiserver.Request] = []
    if not pod.terminal:
        conds = pod.status.conditions if condition is None else set_condition(pod.status.conditions, condition, now)
        reqs.append(apiserver.Update(replace(pod, status=replace(pod.status, phase=FAILED, conditions=conds)), status=True))
    reqs.append(apiserver.Delete(pod.ref, uid=pod.metadata.uid, grace_period=0))
    return reqs


class PodGCController:
    """Removes pods that no kubelet will ever finish."""

    name = NAME

    def candidates(self, state: ClusterState, config: ModelConfig) -> Iterable[Action]:
        """Pods bound to missing nodes, unscheduled terminating pods, pods on out-of-service nodes."""
        for pod in state.pods():
            if self._why(state, pod, config) is not None:
                yield Reconcile(NAME, pod.metadata.namespace, pod.metadata.name)

    def _why(self, state: ClusterState, pod: Pod, config: ModelConfig) -> str | None:
        node_name = pod.spec.node_name
        if not node_name:
            return "unscheduled-terminating" if pod.metadata.deletion_timestamp is not None else None
        node = state.get("Node", "", node_name)
        if node is None:
            return "orphaned"
        if pod.metadata.deletion_timestamp is not None and node.ready_status() != "True":
            if any(t.key == TAINT_OUT_OF_SERVICE for t in node.spec.taints):
                return "out-of-service"
        return None

    def requests(self, state: ClusterState, action: Action, config: ModelConfig) -> Sequence[apiserver.Request]:
        """Force deletion (after marking the pod Failed) when due."""
        assert isinstance(action, Reconcile)
        pod: Pod | None = state.get("Pod", action.namespace, action.name)
        if pod is None:
            return ()
        why = self._why(state, pod, config)
        if why is None:
            return ()
        if why == "orphaned":
            removed = state.env.removed_nodes.get(pod.spec.node_name, pod.metadata.creation_timestamp or 0)
            if state.clock < removed + config.podgc_quarantine_seconds:
                return ()
            return _fail_and_delete(pod, state.clock, _ORPHANED)
        return _fail_and_delete(pod, state.clock)  # out-of-service, unscheduled-terminating

    def deadlines(self, state: ClusterState, config: ModelConfig) -> Iterable[int]:
        """End of the orphan quarantine."""
        for pod in state.pods():
            if pod.spec.node_name and state.get("Node", "", pod.spec.node_name) is None:
                removed = state.env.removed_nodes.get(pod.spec.node_name, pod.metadata.creation_timestamp or 0)
                yield removed + config.podgc_quarantine_seconds
