"""Broken node lifecycle controllers (kmodel.controllers.nodelifecycle)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace

from kmodel import apiserver
from kmodel.actions import Action, Reconcile
from kmodel.config import ModelConfig
from kmodel.controllers.nodelifecycle import NodeLifecycleController, desired_taints, no_execute_tainting
from kmodel.objects.meta import find_condition
from kmodel.objects.node import TAINT_NOT_READY, TAINT_UNREACHABLE, Node
from kmodel.objects.selectors import Taint
from kmodel.state import ClusterState

_PROBLEM_TAINTS = frozenset({TAINT_NOT_READY, TAINT_UNREACHABLE})


def taints_ignoring_full_disruption(state: ClusterState, node: Node) -> tuple[Taint, ...]:
    """desired_taints, except that a not-ready/unreachable node is tainted NoExecute even when
    every zone is fully disrupted (the bug)."""
    taints = desired_taints(state, node)
    if no_execute_tainting(state, node) != "off":
        return taints
    ready = node.ready_status()
    has_ready = find_condition(node.status.conditions, "Ready") is not None
    want = TAINT_NOT_READY if ready == "False" else TAINT_UNREACHABLE if ready == "Unknown" and has_ready else None
    if want is None or any(t.key == want and t.effect == "NoExecute" for t in taints):
        return taints
    return (*taints, Taint(key=want, effect="NoExecute", time_added=state.clock))


class TaintsInFullDisruption(NodeLifecycleController):
    """Keeps tainting NotReady nodes NoExecute when no node in any zone is Ready.

    Reproduces kubernetes/kubernetes#28832 ("NodeController doesn't evict Pods en masse in
    case of master network problems" — it did): when the control plane loses its network,
    every node looks dead and evicting everything is the worst response.
    kubernetes/kubernetes#28897 made the controller zone-aware and stop all evictions
    (no NoExecute tainting, existing taints removed) when every zone is fully disrupted.

    Caught by `nodelifecycle-no-taint-in-full-disruption`: a NoExecute taint added while
    no node of any zone is Ready. (`tainted_in_full_disruption` describes the end state.)
    """

    def requests(self, state: ClusterState, action: Action, config: ModelConfig) -> Sequence[apiserver.Request]:
        """The reference health step; the taint step with the full-disruption rule left out."""
        reqs = super().requests(state, action, config)
        assert isinstance(action, Reconcile)
        node: Node | None = state.get("Node", "", action.name)
        if node is None or any(isinstance(r, apiserver.Update) and r.status for r in reqs):
            return reqs  # the health step (conditions Unknown, pods not ready) comes first
        taints = taints_ignoring_full_disruption(state, node)
        if taints != node.spec.taints:
            return (apiserver.Update(replace(node, spec=replace(node.spec, taints=taints))),)
        return ()


def tainted_in_full_disruption(state: ClusterState) -> bool:
    """No node is Ready and every node carries a not-ready or unreachable NoExecute taint."""
    nodes = state.nodes()
    if not nodes or any(n.ready_status() == "True" for n in nodes):
        return False
    return all(any(t.effect == "NoExecute" and t.key in _PROBLEM_TAINTS for t in n.spec.taints) for n in nodes)
