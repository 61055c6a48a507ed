"""The node lifecycle controller (pkg/controller/nodelifecycle/node_lifecycle_controller.go).

Per node, one reconcile does the next needed thing:

1. health: a kubelet silent for longer than node-monitor-grace-period gets its Ready,
   MemoryPressure, DiskPressure and PIDPressure conditions set to Unknown
   (NodeStatusUnknown), and the pods on the node are marked Ready=False (MarkPodsNotReady);
2. taints: NoSchedule taints follow the conditions and spec.unschedulable
   (doNoScheduleTaintingPass); the not-ready / unreachable NoExecute taint follows the
   Ready condition (doNoExecuteTaintingPass), stamped with timeAdded.

Zone disruption (handleDisruption, ComputeZoneState): a zone with no Ready node is
fully disrupted; with more than 2 not-ready nodes and at least 55% not ready it is
partially disrupted, which stops new NoExecute tainting in zones of at most 50 nodes.
When every zone is fully disrupted the controller assumes a control-plane problem: no
NoExecute tainting, and existing not-ready/unreachable NoExecute taints are removed.
The eviction rate limits themselves are not modelled: each node is tainted by its own
action, so every order of tainting is explored.

Zones are keyed by region and zone (topology.GetZoneKey: the failure-domain.beta labels
first, then topology.kubernetes.io/region and /zone); nodes labelled
node.kubernetes.io/exclude-disruption are left out of the zone states. Every taint the
controller adds carries timeAdded (SwapNodeControllerTaint stamps NoSchedule taints too).

Deliberate abstractions: a node's kubelet is silent exactly from its FailNode action,
and the grace period is measured from then (upstream: from the last heartbeat or Lease
renewal the controller observed, checked every 5 s); the model's kubelet posts only the
Ready condition, so only conditions a node already has are marked Unknown, and a node
that never posted Ready (node-startup-grace-period) is not handled.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import replace

from kmodel import apiserver
from kmodel.actions import Action, Reconcile
from kmodel.config import ModelConfig
from kmodel.objects.meta import Condition, find_condition, set_condition
from kmodel.objects.node import (
    TAINT_DISK_PRESSURE,
    TAINT_MEMORY_PRESSURE,
    TAINT_NETWORK_UNAVAILABLE,
    TAINT_NOT_READY,
    TAINT_PID_PRESSURE,
    TAINT_UNREACHABLE,
    TAINT_UNSCHEDULABLE,
    Node,
)
from kmodel.objects.selectors import Taint
from kmodel.state import ClusterState

NAME = "nodelifecycle"
ZONE_LABEL = "topology.kubernetes.io/zone"
UNHEALTHY_ZONE_THRESHOLD = 0.55
LARGE_CLUSTER_THRESHOLD = 50
_UNKNOWN_CONDITIONS = ("Ready", "MemoryPressure", "DiskPressure", "PIDPressure")
_MANAGED_NOSCHEDULE = frozenset(
    {TAINT_NOT_READY, TAINT_UNREACHABLE, TAINT_MEMORY_PRESSURE, TAINT_DISK_PRESSURE, TAINT_PID_PRESSURE, TAINT_NETWORK_UNAVAILABLE, TAINT_UNSCHEDULABLE}
)
_MANAGED_NOEXECUTE = frozenset({TAINT_NOT_READY, TAINT_UNREACHABLE})


REGION_LABEL = "topology.kubernetes.io/region"
BETA_ZONE_LABEL = "failure-domain.beta.kubernetes.io/zone"
BETA_REGION_LABEL = "failure-domain.beta.kubernetes.io/region"
EXCLUDE_DISRUPTION_LABEL = "node.kubernetes.io/exclude-disruption"


def zone_of(node: Node) -> str:
    """component-helpers topology.GetZoneKey: region and zone ('' when both are unset)."""
    labels = node.metadata.labels
    zone = labels[BETA_ZONE_LABEL] if BETA_ZONE_LABEL in labels else labels.get(ZONE_LABEL, "")
    region = labels[BETA_REGION_LABEL] if BETA_REGION_LABEL in labels else labels.get(REGION_LABEL, "")
    if not region and not zone:
        return ""
    return region + ":\x00:" + zone


def zone_state(nodes: Sequence[Node]) -> str:
    """ComputeZoneState over the Ready conditions of a zone's nodes."""
    ready = sum(1 for n in nodes if n.ready_status() == "True")
    not_ready = len(nodes) - ready
    if ready == 0 and not_ready > 0:
        return "FullDisruption"
    if not_ready > 2 and not_ready / len(nodes) >= UNHEALTHY_ZONE_THRESHOLD:
        return "PartialDisruption"
    return "Normal"


def no_execute_tainting(state: ClusterState, node: Node) -> str:
    """'on' if NoExecute taints may be added to `node`, 'paused' if its zone is partially
    disrupted and small, 'off' if every zone is fully disrupted."""
    zones: dict[str, list[Node]] = {}
    for n in state.nodes():
        # monitorNodeHealth: isNodeExcludedFromDisruptionChecks
        if EXCLUDE_DISRUPTION_LABEL not in n.metadata.labels:
            zones.setdefault(zone_of(n), []).append(n)
    states = {z: zone_state(ns) for z, ns in zones.items()}
    if states and all(s == "FullDisruption" for s in states.values()):
        return "off"
    z = zone_of(node)
    # setLimiterInZone / ReducedQPSFunc: a partially disrupted zone of at most 50 nodes stops tainting
    if states.get(z) == "PartialDisruption" and len(zones[z]) <= LARGE_CLUSTER_THRESHOLD:
        return "paused"
    return "on"


_CONDITION_TAINTS = (
    ("MemoryPressure", TAINT_MEMORY_PRESSURE),
    ("DiskPressure", TAINT_DISK_PRESSURE),
    ("PIDPressure", TAINT_PID_PRESSURE),
    ("NetworkUnavailable", TAINT_NETWORK_UNAVAILABLE),
)


def desired_taints(state: ClusterState, node: Node) -> tuple[Taint, ...]:
    """The node's taints after the NoSchedule and NoExecute tainting passes.

    Taints that stay keep their place; added ones go at the end (taints.AddOrUpdateTaint).
    """
    conds = node.status.conditions
    ready = node.ready_status()
    has_ready = find_condition(conds, "Ready") is not None
    want_ns: list[str] = []
    if ready == "False":
        want_ns.append(TAINT_NOT_READY)
    elif ready == "Unknown" and has_ready:
        want_ns.append(TAINT_UNREACHABLE)
    for ctype, key in _CONDITION_TAINTS:
        c = find_condition(conds, ctype)
        if c is not None and c.status == "True":
            want_ns.append(key)
    if node.spec.unschedulable:
        want_ns.append(TAINT_UNSCHEDULABLE)
    mode = no_execute_tainting(state, node)
    want_ne = TAINT_NOT_READY if ready == "False" else TAINT_UNREACHABLE if ready == "Unknown" and has_ready else None
    current = node.spec.taints
    existing_ne = [t for t in current if t.effect == "NoExecute" and t.key in _MANAGED_NOEXECUTE]
    keep_ne: str | None = None
    add_ne: str | None = None
    if mode != "off" and want_ne is not None:  # else removed (Ready=True, or markNodeAsReachable)
        if any(t.key == want_ne for t in existing_ne):
            keep_ne = want_ne
        elif existing_ne or mode == "on":
            # an opposite taint is swapped at once (processTaintBaseEviction); a new one
            # waits for the zone's tainting queue, stopped in a small partially disrupted zone
            add_ne = want_ne

    def stays(t: Taint) -> bool:
        if t.effect == "NoSchedule" and t.key in _MANAGED_NOSCHEDULE:
            return t.key in want_ns
        if t.effect == "NoExecute" and t.key in _MANAGED_NOEXECUTE:
            return t.key == keep_ne
        return True

    out = [t for t in current if stays(t)]
    for key in want_ns:
        if not any(t.key == key and t.effect == "NoSchedule" for t in out):
            # SwapNodeControllerTaint sets TimeAdded on every taint it adds, NoSchedule included
            out.append(Taint(key=key, effect="NoSchedule", time_added=state.clock))
    if add_ne is not None:
        out.append(Taint(key=add_ne, effect="NoExecute", time_added=state.clock))
    return tuple(out)


class NodeLifecycleController:
    """Marks silent nodes Unknown, taints them, and marks their pods not ready."""

    name = NAME

    def candidates(self, state: ClusterState, config: ModelConfig) -> Iterable[Action]:
        """One reconcile per node."""
        for n in state.nodes():
            yield Reconcile(NAME, "", n.name)

    def requests(self, state: ClusterState, action: Action, config: ModelConfig) -> Sequence[apiserver.Request]:
        """Health first, then taints."""
        assert isinstance(action, Reconcile)
        node: Node | None = state.get("Node", "", action.name)
        if node is None:
            return ()
        down_since = state.env.down_nodes.get(node.name)
        now = state.clock
        if down_since is not None and now >= down_since + config.grace_period and node.ready_status() != "Unknown":
            conds = node.status.conditions
            for ctype in _UNKNOWN_CONDITIONS:
                old = find_condition(conds, ctype)
                if ctype != "Ready" and old is None:
                    continue
                if old is not None and old.status == "Unknown":
                    continue  # tryUpdateNodeHealth leaves a condition that is already Unknown
                new = Condition(
                    ctype,
                    "Unknown",
                    reason="NodeStatusUnknown",
                    message="Kubelet stopped posting node status.",
                    last_heartbeat_time=old.last_heartbeat_time if old else None,
                    last_transition_time=now,
                )
                conds = set_condition(conds, new, now, keep_transition_time=False)
            reqs: list[apiserver.Request] = [apiserver.Update(replace(node, status=replace(node.status, conditions=conds)), status=True)]
            reqs.extend(mark_pods_not_ready(state, node.name))
            return reqs
        taints = desired_taints(state, node)
        if taints != node.spec.taints:
            return (apiserver.Update(replace(node, spec=replace(node.spec, taints=taints))),)
        return ()

    def deadlines(self, state: ClusterState, config: ModelConfig) -> Iterable[int]:
        """When a silent node's grace period runs out."""
        for name, since in state.env.down_nodes.items():
            node = state.get("Node", "", name)
            if node is not None and node.ready_status() != "Unknown":
                yield since + config.grace_period


def mark_pods_not_ready(state: ClusterState, node: str) -> list[apiserver.Request]:
    """MarkPodsNotReady: set Ready=False on every pod of the node that reports Ready.

    (pkg/controller/util/node/controller_utils.go: only the status and
    lastTransitionTime of the existing Ready condition change; reason and message stay.)
    """
    reqs: list[apiserver.Request] = []
    for p in state.pods_on(node):
        c = find_condition(p.status.conditions, "Ready")
        if c is not None and c.status != "False":
            conds = set_condition(p.status.conditions, replace(c, status="False", last_transition_time=None), state.clock)
            reqs.append(apiserver.Update(replace(p, status=replace(p.status, conditions=conds)), status=True))
    return reqs
