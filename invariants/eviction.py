"""Taint-based eviction timing (spec §3.2 invariants; INV-NODE-1)."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from invariants.registry import Kind, Violation, invariant
from invariants.util import actor_of, started_deletion
from kmodel.controllers.tainteviction import NAME as TAINT_EVICTION
from kmodel.controllers.tainteviction import bound_at, min_toleration_seconds, no_execute_taints
from kmodel.state import ClusterState


@invariant(
    "taint-eviction-timing",
    Kind.TRANSITION,
    """The taint manager deletes a pod only if its node has a NoExecute taint, and then
    either some NoExecute taint is not tolerated, or the smallest tolerationSeconds among
    the matching tolerations has elapsed since the taint was added (or the pod bound, if
    later). A pod that tolerates every NoExecute taint of its node without
    tolerationSeconds — a DaemonSet pod on a NotReady node — is never evicted.""",
    subjects=lambda s: sum(1 for n in s.nodes() if no_execute_taints(n)),
    source="spec §3.2; taint_manager.go processPodOnNode, getMinTolerationTime",
    tags=("eviction",),
)
def taint_eviction_timing(prev: ClusterState, action: Any, nxt: ClusterState) -> Iterable[Violation]:
    if actor_of(action) != TAINT_EVICTION:
        return
    for pod in started_deletion(prev, nxt, "Pod"):
        node = prev.get("Node", "", pod.spec.node_name) if pod.spec.node_name else None
        taints = no_execute_taints(node) if node is not None else []
        if node is None or not taints:
            yield Violation("taint-eviction-timing", f"pod {pod.ref} was evicted from a node without NoExecute taints", (str(pod.ref),))
            continue
        used = []
        untolerated = False
        for taint in taints:
            matching = [t for t in pod.spec.tolerations if t.tolerates(taint)]
            if not matching:
                untolerated = True
            used.extend(matching)
        if untolerated:
            continue
        secs = min_toleration_seconds(used)
        if secs < 0:
            yield Violation(
                "taint-eviction-timing", f"pod {pod.ref} tolerates every NoExecute taint of {node.name} forever but was evicted", (str(pod.ref), str(node.ref))
            )
            continue
        start = max(min(t.time_added if t.time_added is not None else bound_at(pod) for t in taints), bound_at(pod))
        if prev.clock < start + secs:
            yield Violation(
                "taint-eviction-timing",
                f"pod {pod.ref} was evicted at t={prev.clock}s, before its toleration of {secs}s since t={start}s ran out",
                (str(pod.ref), str(node.ref)),
            )
