"""A failed node, end to end: node lifecycle controller, taint-based eviction, PodGC,
and the ReplicaSet's replacements (spec §2.5, §3).

Rules: pkg/controller/nodelifecycle/node_lifecycle_controller.go (tryUpdateNodeHealth,
doNoScheduleTaintingPass, processTaintBaseEviction, handleDisruption, ComputeZoneState),
nodelifecycle/scheduler/taint_manager.go (processPodOnNode, getMinTolerationTime),
plugin/pkg/admission/defaulttolerationseconds, pkg/controller/podgc/gc_controller.go;
node-monitor-grace-period 40 s up to 1.31 and 50 s from 1.32 (kubernetes#126287).
"""

from __future__ import annotations

from typing import Any

import pytest

from kmodel import apiserver
from kmodel.actions import AddNode, Apply, Cordon, FailNode, RecoverNode, RemoveNode, Tick
from kmodel.config import ModelConfig
from kmodel.controllers.nodelifecycle import NodeLifecycleController
from kmodel.controllers.podgc import PodGCController
from kmodel.controllers.replicaset import ReplicaSetController
from kmodel.controllers.tainteviction import TaintEvictionController
from kmodel.kubelet import Kubelet
from kmodel.model import Model
from kmodel.objects.meta import find_condition
from kmodel.objects.node import TAINT_UNREACHABLE, TAINT_UNSCHEDULABLE
from kmodel.objects.pod import Pod
from kmodel.objects.serde import decode_object
from kmodel.scheduler import Scheduler
from kmodel.state import ClusterState, empty_state


def model(version: str = "1.28") -> Model:
    return Model(
        ModelConfig(kubernetes_version=version),
        actors=[Scheduler(), Kubelet(), NodeLifecycleController(), TaintEvictionController(), PodGCController(), ReplicaSetController()],
    )


def decode(doc: dict[str, Any]) -> Any:
    obj, _ = decode_object(doc)
    return obj


def node(name: str, zone: str | None = None) -> Any:
    labels = {"kubernetes.io/hostname": name}
    if zone is not None:
        labels["topology.kubernetes.io/zone"] = zone
    allocatable = {"cpu": "4", "memory": "8Gi", "pods": "110"}
    return decode({"apiVersion": "v1", "kind": "Node", "metadata": {"name": name, "labels": labels}, "status": {"allocatable": allocatable}})


def replicaset(name: str, replicas: int, tolerations: list[dict[str, Any]] | None = None, node_selector: dict[str, str] | None = None) -> Any:
    spec: dict[str, Any] = {"containers": [{"name": "c", "image": "nginx"}]}
    if tolerations:
        spec["tolerations"] = tolerations
    if node_selector:
        spec["nodeSelector"] = node_selector
    return decode(
        {
            "apiVersion": "apps/v1",
            "kind": "ReplicaSet",
            "metadata": {"name": name, "namespace": "default"},
            "spec": {"replicas": replicas, "selector": {"matchLabels": {"app": name}}, "template": {"metadata": {"labels": {"app": name}}, "spec": spec}},
        }
    )


def start(m: Model, nodes: list[Any], *objs: Any) -> ClusterState:
    s = empty_state()
    for n in nodes:
        s = m.step(s, AddNode(n))
    r = m.settle(m.step(s, Apply(objs)))
    assert r.quiescent
    return r.state


def on(s: ClusterState, node_name: str, app: str = "web") -> list[Pod]:
    return [p for p in s.pods_on(node_name) if p.metadata.labels.get("app") == app]


def active(s: ClusterState, app: str = "web") -> list[Pod]:
    return [p for p in s.pods() if p.metadata.labels.get("app") == app and p.active]


def taint(s: ClusterState, node_name: str, effect: str, key: str = TAINT_UNREACHABLE) -> Any:
    return next((t for t in s.get("Node", "", node_name).spec.taints if t.key == key and t.effect == effect), None)


class Timeline:
    """Records, while settling, when things first happened."""

    def __init__(self) -> None:
        self.unknown: dict[str, int] = {}
        self.deleted: dict[str, int] = {}

    def __call__(self, prev: ClusterState, action: Any, nxt: ClusterState) -> None:
        for n in nxt.nodes():
            if n.ready_status() == "Unknown" and n.name not in self.unknown:
                self.unknown[n.name] = nxt.clock
        for p in nxt.pods():
            if p.metadata.deletion_timestamp is not None and p.metadata.name not in self.deleted:
                self.deleted[p.metadata.name] = nxt.clock


# ---- the eviction timeline ------------------------------------------------------------------------


@pytest.mark.parametrize("version,grace", [("1.28", 40), ("1.31", 40), ("1.32", 50), ("1.34", 50)])
def test_node_goes_unknown_after_the_grace_period(version: str, grace: int) -> None:
    m = model(version)
    s = start(m, [node("n1"), node("n2")], replicaset("web", 2))
    s = m.step(m.step(s, Tick(7)), FailNode("n1"))
    failed_at = s.clock
    early = m.settle(s, horizon=failed_at + grace - 1)
    assert early.state.get("Node", "", "n1").ready_status() == "True"
    tl = Timeline()
    s = m.settle(s, on_step=tl, horizon=failed_at + grace).state
    assert tl.unknown == {"n1": failed_at + grace}
    ready = find_condition(s.get("Node", "", "n1").status.conditions, "Ready")
    assert (ready.status, ready.reason, ready.last_transition_time) == ("Unknown", "NodeStatusUnknown", failed_at + grace)
    # MarkPodsNotReady; the unreachable taints, NoSchedule and (one zone still healthy) NoExecute
    assert all(not p.ready for p in on(s, "n1"))
    assert taint(s, "n1", "NoSchedule").time_added == failed_at + grace
    assert taint(s, "n1", "NoExecute").time_added == failed_at + grace
    assert s.get("Node", "", "n2").spec.taints == ()


def test_pods_are_evicted_exactly_300s_after_the_taint_and_stay_terminating() -> None:
    m = model("1.28")
    s = start(m, [node("n1"), node("n2")], replicaset("web", 2))
    victims = {p.metadata.name for p in on(s, "n1")}
    assert victims
    s = m.step(s, FailNode("n1"))
    s = m.settle(s, horizon=s.clock + 40).state
    tainted_at = taint(s, "n1", "NoExecute").time_added
    # the DefaultTolerationSeconds admission plugin gave every pod 300 s
    assert all(any(t.key == TAINT_UNREACHABLE and t.toleration_seconds == 300 for t in p.spec.tolerations) for p in on(s, "n1"))
    not_yet = m.settle(m.step(s, Tick(tainted_at + 299 - s.clock)), horizon=tainted_at + 299).state
    assert all(p.metadata.deletion_timestamp is None for p in on(not_yet, "n1"))
    tl = Timeline()
    r = m.settle(s, on_step=tl)
    assert r.quiescent
    s = r.state
    assert {n: t for n, t in tl.deleted.items() if n in victims} == {v: tainted_at + 300 for v in victims}
    for p in on(s, "n1"):  # still there: graceful deletion needs the dead kubelet
        assert p.metadata.deletion_timestamp == tainted_at + 300 + 30
        assert p.status.phase == "Running"
        cond = find_condition(p.status.conditions, "DisruptionTarget")
        assert (cond.status, cond.reason) == ("True", "DeletionByTaintManager")
    assert {p.metadata.name for p in on(s, "n1")} == victims
    # replacements were created (on the healthy node) as soon as the pods started terminating
    assert len(active(s)) == 2 and all(p.spec.node_name == "n2" and p.ready for p in active(s))


def test_toleration_without_seconds_is_never_evicted() -> None:
    forever = [{"key": TAINT_UNREACHABLE, "operator": "Exists", "effect": "NoExecute"}]
    m = model()
    s = start(m, [node("n1"), node("n2")], replicaset("web", 2, tolerations=forever))
    pinned = on(s, "n1")
    assert pinned and all(not any(t.toleration_seconds for t in p.spec.tolerations if t.key == TAINT_UNREACHABLE) for p in pinned)
    s = m.step(s, FailNode("n1"))
    r = m.settle(s)
    assert r.quiescent and taint(r.state, "n1", "NoExecute") is not None
    s = m.step(r.state, Tick(10_000))
    s = m.settle(s).state
    assert all(p.metadata.deletion_timestamp is None for p in on(s, "n1"))


def test_toleration_seconds_60_evicts_at_60s() -> None:
    sixty = [{"key": TAINT_UNREACHABLE, "operator": "Exists", "effect": "NoExecute", "tolerationSeconds": 60}]
    m = model()
    s = start(m, [node("n1"), node("n2")], replicaset("web", 2, tolerations=sixty))
    victims = {p.metadata.name for p in on(s, "n1")}
    s = m.step(s, FailNode("n1"))
    tl = Timeline()
    s = m.settle(s, on_step=tl).state
    tainted_at = taint(s, "n1", "NoExecute").time_added
    assert {n: t for n, t in tl.deleted.items() if n in victims} == {v: tainted_at + 60 for v in victims}


def test_recovery_before_300s_cancels_eviction_and_removes_taints() -> None:
    m = model()
    s = start(m, [node("n1"), node("n2")], replicaset("web", 2))
    survivors = {p.metadata.name for p in on(s, "n1")}
    s = m.step(s, FailNode("n1"))
    s = m.settle(s, horizon=s.clock + 40 + 200).state
    assert taint(s, "n1", "NoExecute") is not None
    s = m.step(s, RecoverNode("n1"))
    r = m.settle(s)
    assert r.quiescent
    s = r.state
    assert s.get("Node", "", "n1").ready_status() == "True"
    assert s.get("Node", "", "n1").spec.taints == ()
    assert {p.metadata.name for p in on(s, "n1")} == survivors
    assert all(p.active for p in on(s, "n1"))
    s = m.settle(m.step(s, Tick(1000))).state
    assert all(p.active for p in on(s, "n1"))
    assert len(active(s)) == 2


def test_every_node_of_the_only_zone_down_means_no_noexecute_taint() -> None:
    # handleDisruption: all zones fully disrupted → no NoExecute tainting (markNodeAsReachable)
    m = model()
    s = start(m, [node("n1"), node("n2")], replicaset("web", 2))
    s = m.step(m.step(s, FailNode("n1")), FailNode("n2"))
    r = m.settle(s)
    assert r.quiescent
    s = m.settle(m.step(r.state, Tick(1000))).state
    for n in ("n1", "n2"):
        assert s.get("Node", "", n).ready_status() == "Unknown"
        assert taint(s, n, "NoSchedule") is not None
        assert taint(s, n, "NoExecute") is None
    assert all(p.metadata.deletion_timestamp is None for p in s.pods())


def test_a_fully_disrupted_zone_is_tainted_when_another_zone_is_healthy() -> None:
    m = model()
    s = start(m, [node("a1", "a"), node("a2", "a"), node("b1", "b")], replicaset("web", 3))
    s = m.step(m.step(s, FailNode("a1")), FailNode("a2"))
    s = m.settle(s).state
    assert taint(s, "a1", "NoExecute") is not None and taint(s, "a2", "NoExecute") is not None
    assert all(p.metadata.deletion_timestamp is not None for p in on(s, "a1") + on(s, "a2"))


@pytest.mark.parametrize("zone_size,third_tainted", [(4, False), (5, False), (6, True)])
def test_partial_disruption_of_a_small_zone_stops_noexecute_tainting(zone_size: int, third_tainted: bool) -> None:
    # ComputeZoneState: > 2 not ready and ≥ 55 % → PartialDisruption; a zone of ≤ 50 nodes
    # then gets tainting rate 0 (ReducedQPSFunc). The first two failures leave the zone
    # Normal; the third makes 3/4 and 3/5 partially disrupted, but 3/6 (50 %) is not.
    m = model()
    nodes = [node(f"n{i}") for i in range(1, zone_size + 1)]
    s = start(m, nodes, replicaset("web", zone_size))
    s = m.step(m.step(s, FailNode("n1")), FailNode("n2"))
    s = m.settle(s, horizon=s.clock + 40).state
    assert taint(s, "n1", "NoExecute") is not None and taint(s, "n2", "NoExecute") is not None
    s = m.step(s, FailNode("n3"))
    s = m.settle(s).state
    assert s.get("Node", "", "n3").ready_status() == "Unknown"
    assert taint(s, "n3", "NoSchedule") is not None
    assert (taint(s, "n3", "NoExecute") is not None) is third_tainted
    assert all((p.metadata.deletion_timestamp is not None) is third_tainted for p in on(s, "n3"))


def test_nodes_excluded_from_disruption_checks_do_not_count() -> None:
    # isNodeExcludedFromDisruptionChecks: with the label, n2 is left out of the zone, so
    # n1 alone down is a fully disrupted cluster: no NoExecute taint
    m = model()
    excluded = decode(
        {
            "apiVersion": "v1",
            "kind": "Node",
            "metadata": {"name": "n2", "labels": {"node.kubernetes.io/exclude-disruption": ""}},
            "status": {"allocatable": {"cpu": "4", "memory": "8Gi", "pods": "110"}},
        }
    )
    s = start(m, [node("n1"), excluded], replicaset("web", 2))
    s = m.settle(m.step(s, FailNode("n1"))).state
    assert s.get("Node", "", "n1").ready_status() == "Unknown"
    assert taint(s, "n1", "NoExecute") is None


# ---- node removal and PodGC ---------------------------------------------------------------------------


def test_removed_node_pods_are_force_deleted_by_podgc_after_40s() -> None:
    m = model()
    s = start(m, [node("n1"), node("n2")], replicaset("web", 2))
    orphans = {p.metadata.name for p in on(s, "n1")}
    assert orphans
    s = m.step(s, RemoveNode("n1"))
    removed_at = s.clock
    before = m.settle(m.step(s, Tick(39)), horizon=removed_at + 39).state
    assert orphans <= {p.metadata.name for p in before.pods()}
    gone: dict[str, int] = {}
    phases: dict[str, tuple[str, str]] = {}

    def watch(prev: ClusterState, action: Any, nxt: ClusterState) -> None:
        for name in orphans:
            if prev.get("Pod", "default", name) is not None and nxt.get("Pod", "default", name) is None:
                gone[name] = nxt.clock
                # gc_controller.go markFailedAndDeletePodWithCondition: phase Failed with
                # DisruptionTarget first, then a delete with grace 0
                update, delete = m.actor("podgc").requests(prev, action, m.config)
                assert isinstance(delete, apiserver.Delete) and delete.grace_period == 0
                cond = find_condition(update.obj.status.conditions, "DisruptionTarget")
                phases[name] = (update.obj.status.phase, cond.reason)

    s = m.settle(s, on_step=watch).state
    assert gone == {n: removed_at + 40 for n in orphans}
    assert phases == {n: ("Failed", "DeletionByPodGC") for n in orphans}
    assert len(active(s)) == 2 and all(p.spec.node_name == "n2" for p in active(s))


# ---- cordon ---------------------------------------------------------------------------------------------


def test_cordon_adds_the_unschedulable_taint_and_blocks_scheduling() -> None:
    m = model()
    s = start(m, [node("n1"), node("n2")])
    s = m.settle(m.step(s, Cordon("n1"))).state
    t = taint(s, "n1", "NoSchedule", key=TAINT_UNSCHEDULABLE)
    assert t is not None and t.time_added == s.clock  # SwapNodeControllerTaint stamps timeAdded
    s = m.settle(m.step(s, Apply((replicaset("web", 3),)))).state
    assert on(s, "n1") == [] and len(on(s, "n2")) == 3
    tolerant = [{"key": TAINT_UNSCHEDULABLE, "operator": "Exists", "effect": "NoSchedule"}]
    s = m.settle(m.step(s, Apply((replicaset("ds", 1, tolerations=tolerant, node_selector={"kubernetes.io/hostname": "n1"}),)))).state
    assert len(on(s, "n1", "ds")) == 1
    s = m.settle(m.step(s, Cordon("n1", unschedulable=False))).state
    assert s.get("Node", "", "n1").spec.taints == ()
