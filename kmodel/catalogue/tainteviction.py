"""Broken taint managers (kmodel.controllers.tainteviction)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace

from kmodel import apiserver
from kmodel.actions import Action, Reconcile
from kmodel.config import ModelConfig
from kmodel.controllers.tainteviction import TaintEvictionController, no_execute_taints
from kmodel.objects.meta import Condition, set_condition
from kmodel.objects.pod import Pod
from kmodel.state import ClusterState


class IgnoresTolerationSeconds(TaintEvictionController):
    """Evicts a pod as soon as its node has a NoExecute taint, tolerated or not.

    A classic mistake: ignoring a timer. Upstream (taint_manager.go processPodOnNode and
    getMinTolerationTime, since kubernetes/kubernetes#40355) evicts at once only for an
    untolerated taint and otherwise schedules the eviction tolerationSeconds after the
    taint; every pod tolerates not-ready/unreachable for 300 s by default
    (DefaultTolerationSeconds), so a node that stops responding for a moment keeps its pods.

    Caught by `taint-eviction-timing`: the eviction comes before the toleration ran out.
    """

    def requests(self, state: ClusterState, action: Action, config: ModelConfig) -> Sequence[apiserver.Request]:
        """DisruptionTarget and a graceful delete whenever the node has a NoExecute taint."""
        assert isinstance(action, Reconcile)
        pod: Pod | None = state.get("Pod", action.namespace, action.name)
        if pod is None or pod.metadata.deletion_timestamp is not None or not pod.spec.node_name:
            return ()
        node = state.get("Node", "", pod.spec.node_name)
        if node is None or not no_execute_taints(node):
            return ()
        conds = set_condition(pod.status.conditions, Condition("DisruptionTarget", "True", reason="DeletionByTaintManager"), state.clock)
        return (
            apiserver.Update(replace(pod, status=replace(pod.status, conditions=conds)), status=True),
            apiserver.Delete(pod.ref, uid=pod.metadata.uid),
        )
