"""Taint-based eviction (pkg/controller/nodelifecycle/scheduler/taint_manager.go in
v1.28, pkg/controller/tainteviction from 1.29, same rules).

For a pod on a node with NoExecute taints: a taint the pod does not tolerate evicts it
at once; otherwise the eviction fires at start + min(tolerationSeconds) over the
tolerations that matched (getMinTolerationTime: any value ≤ 0 means now; if none of
them sets tolerationSeconds the pod stays forever). `start` is when the taint manager
first saw the situation: the earliest timeAdded of the node's NoExecute taints, or the
pod's binding if that came later. Eviction adds the DisruptionTarget condition
(DeletionByTaintManager) and deletes the pod gracefully. No NoExecute taint, no eviction.

Deliberate abstraction: upstream starts the clock when the taint manager observes the
taint (or the pod) and keeps an already scheduled eviction across later taint changes;
the model reads that moment from the taint's timeAdded, which the node lifecycle
controller stamps when it adds the taint. A NoExecute taint without timeAdded (one a
user wrote) counts from the pod's binding, and when the node lifecycle controller swaps
not-ready for unreachable the clock restarts from the new taint.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import replace

from kmodel import apiserver
from kmodel.actions import Action, Reconcile
from kmodel.config import ModelConfig
from kmodel.objects.meta import Condition, find_condition, set_condition
from kmodel.objects.node import Node
from kmodel.objects.pod import Pod
from kmodel.objects.selectors import Toleration
from kmodel.state import ClusterState

NAME = "taint-eviction"


def no_execute_taints(node: Node) -> list:
    """The node's NoExecute taints."""
    return [t for t in node.spec.taints if t.effect == "NoExecute"]


def min_toleration_seconds(tolerations: Sequence[Toleration]) -> int:
    """getMinTolerationTime: 0 for none, -1 (forever) if no toleration sets seconds."""
    if not tolerations:
        return 0
    best: int | None = None
    for t in tolerations:
        if t.toleration_seconds is not None:
            if t.toleration_seconds <= 0:
                return 0
            if best is None or t.toleration_seconds < best:
                best = t.toleration_seconds
    return -1 if best is None else best


def bound_at(pod: Pod) -> int:
    """When the pod was bound (PodScheduled), falling back to its creation."""
    c = find_condition(pod.status.conditions, "PodScheduled")
    if c is not None and c.status == "True" and c.last_transition_time is not None:
        return c.last_transition_time
    return pod.metadata.creation_timestamp or 0


def eviction_time(pod: Pod, node: Node) -> int | None:
    """When the taint manager evicts `pod` from `node` (None: never, given current taints)."""
    taints = no_execute_taints(node)
    if not taints:
        return None
    used: list[Toleration] = []
    for taint in taints:
        matching = [t for t in pod.spec.tolerations if t.tolerates(taint)]
        if not matching:
            return -1  # an untolerated NoExecute taint: evict immediately
        used.extend(matching)
    secs = min_toleration_seconds(used)
    if secs < 0:
        return None
    start = min(t.time_added if t.time_added is not None else bound_at(pod) for t in taints)
    start = max(start, bound_at(pod))
    return start + secs


class TaintEvictionController:
    """Deletes pods from nodes with NoExecute taints they do not tolerate (long enough)."""

    name = NAME

    def candidates(self, state: ClusterState, config: ModelConfig) -> Iterable[Action]:
        """Pods on nodes that have NoExecute taints."""
        for node in state.nodes():
            if not no_execute_taints(node):
                continue
            for pod in state.pods_on(node.name):
                if pod.metadata.deletion_timestamp is None:
                    yield Reconcile(NAME, pod.metadata.namespace, pod.metadata.name)

    def requests(self, state: ClusterState, action: Action, config: ModelConfig) -> Sequence[apiserver.Request]:
        """DisruptionTarget, then a graceful delete, once the eviction time has come."""
        assert isinstance(action, Reconcile)
        pod: Pod | None = state.get("Pod", action.namespace, action.name)
        if pod is None or pod.metadata.deletion_timestamp is not None or not pod.spec.node_name:
            return ()
        node = state.get("Node", "", pod.spec.node_name)
        if node is None:
            return ()
        when = eviction_time(pod, node)
        if when is None or state.clock < when:
            return ()
        conds = set_condition(
            pod.status.conditions,
            Condition("DisruptionTarget", "True", reason="DeletionByTaintManager", message="Taint manager: deleting due to NoExecute taint"),
            state.clock,
        )
        return (
            apiserver.Update(replace(pod, status=replace(pod.status, conditions=conds)), status=True),
            apiserver.Delete(pod.ref, uid=pod.metadata.uid),
        )

    def deadlines(self, state: ClusterState, config: ModelConfig) -> Iterable[int]:
        """Scheduled evictions."""
        for node in state.nodes():
            if not no_execute_taints(node):
                continue
            for pod in state.pods_on(node.name):
                if pod.metadata.deletion_timestamp is None:
                    when = eviction_time(pod, node)
                    if when is not None and when > state.clock:
                        yield when
