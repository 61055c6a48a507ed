"""Every invariant of invariants/placement.py, pods.py, identity.py, replicaset.py and
eviction.py holds on a correct run that exercises it, and catches a deliberately broken
actor (plugged in with Model.with_actor) or a hand-built broken state or transition.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import replace
from typing import Any

import pytest

from invariants.registry import Invariant, Kind, Violation, check_state, check_transition, select
from kmodel import apiserver
from kmodel.actions import Action, AddNode, Apply, ExitContainer, FailNode, Reconcile, RemoveNode, Scale, Schedule, Tick
from kmodel.config import ModelConfig
from kmodel.controllers.nodelifecycle import NodeLifecycleController
from kmodel.controllers.podgc import PodGCController
from kmodel.controllers.replicaset import ReplicaSetController, ReplicationControllerController
from kmodel.controllers.tainteviction import TaintEvictionController, no_execute_taints
from kmodel.frozen import FrozenDict
from kmodel.kubelet import Kubelet
from kmodel.model import Model
from kmodel.objects.meta import Condition, ObjectMeta, OwnerReference
from kmodel.objects.pod import Pod, PodSpec, PodStatus
from kmodel.objects.serde import decode_object
from kmodel.scheduler import Scheduler, pending_pods
from kmodel.state import ClusterState, empty_state, state_of

CORE = [
    "placement-filters",
    "node-capacity",
    "pod-phase-monotonic",
    "pod-node-immutable",
    "unique-names-and-uids",
    "uid-immutable",
    "single-controller-owner",
    "replicaset-replicas",
    "taint-eviction-timing",
]


def inv(name: str) -> Invariant:
    (i,) = select([name])
    return i


def test_the_core_modules_register_exactly_these_invariants() -> None:
    mods = {"invariants.placement", "invariants.pods", "invariants.identity", "invariants.replicaset", "invariants.eviction"}
    registered = {i.name for i in select() if i.check.__module__ in mods}
    assert registered == set(CORE)


# ---- building runs ---------------------------------------------------------------------------------


def actors() -> list[Any]:
    return [
        Scheduler(),
        Kubelet(),
        NodeLifecycleController(),
        TaintEvictionController(),
        PodGCController(),
        ReplicaSetController(),
        ReplicationControllerController(),
    ]


def decode(doc: dict[str, Any]) -> Any:
    obj, _ = decode_object(doc)
    return obj


def node(name: str, cpu: str = "2", pods: int = 110, taints: list[dict[str, Any]] | None = None) -> Any:
    return decode(
        {
            "apiVersion": "v1",
            "kind": "Node",
            "metadata": {"name": name, "labels": {"kubernetes.io/hostname": name}},
            "spec": {"taints": taints or []},
            "status": {"allocatable": {"cpu": cpu, "memory": "8Gi", "pods": str(pods)}},
        }
    )


def podspec(cpu: str = "500m", restart: str = "Always", **extra: Any) -> dict[str, Any]:
    return {"restartPolicy": restart, "containers": [{"name": "c", "image": "nginx", "resources": {"requests": {"cpu": cpu}}}], **extra}


def replicaset(name: str, replicas: int, cpu: str = "500m", **extra: Any) -> Any:
    return decode(
        {
            "apiVersion": "apps/v1",
            "kind": "ReplicaSet",
            "metadata": {"name": name, "namespace": "default"},
            "spec": {
                "replicas": replicas,
                "selector": {"matchLabels": {"app": name}},
                "template": {"metadata": {"labels": {"app": name}}, "spec": podspec(cpu, **extra)},
            },
        }
    )


def rc(name: str, replicas: int) -> Any:
    tpl = {"metadata": {"labels": {"app": name}}, "spec": podspec("100m")}
    meta = {"name": name, "namespace": "default"}
    return decode({"apiVersion": "v1", "kind": "ReplicationController", "metadata": meta, "spec": {"replicas": replicas, "template": tpl}})


def cpu_requests(cpu: str) -> dict[str, Any]:
    return {"containers": [{"name": "c", "image": "nginx", "resources": {"requests": {"cpu": cpu}}}]}


def bare_pod(name: str, **spec: Any) -> Any:
    return decode({"apiVersion": "v1", "kind": "Pod", "metadata": {"name": name, "namespace": "default"}, "spec": {**podspec("100m"), **spec}})


class Checker:
    """Checks the selected invariants over every step of a run; counts what was exercised."""

    def __init__(self, names: Sequence[str]) -> None:
        self.invs = select(list(names))
        self.violations: list[Violation] = []
        self.actions: Counter[str] = Counter()
        self.subjects: Counter[str] = Counter()

    def __call__(self, prev: ClusterState, action: Action, nxt: ClusterState) -> None:
        self.actions[type(action).__name__ + ":" + str(getattr(action, "actor", ""))] += 1
        self.violations.extend(check_transition(prev, action, nxt, self.invs))
        self.violations.extend(check_state(nxt, self.invs))
        for i in self.invs:
            self.subjects[i.name] = max(self.subjects[i.name], i.subjects(nxt))

    def step(self, m: Model, s: ClusterState, action: Action) -> ClusterState:
        nxt = m.step(s, action)
        self(s, action, nxt)
        return nxt

    def settle(self, m: Model, s: ClusterState, **kw: Any) -> ClusterState:
        r = m.settle(s, on_step=self, max_steps=3000, **kw)
        if not r.quiescent and "horizon" not in kw:
            self.violations.append(Violation("settle", f"no fixpoint: {r.reason}"))
        if r.quiescent:
            self.violations.extend(check_state(r.state, self.invs, quiescent=True))
            self.quiescent_checks = getattr(self, "quiescent_checks", 0) + 1
        return r.state

    def names(self) -> set[str]:
        return {v.invariant for v in self.violations}


def boot(c: Checker, m: Model, nodes: Iterable[Any], *objs: Any) -> ClusterState:
    s = empty_state()
    for n in nodes:
        s = c.step(m, s, AddNode(n))
    return c.settle(m, c.step(m, s, Apply(objs)))


# ---- a correct run that exercises every core invariant ------------------------------------------------


def test_every_core_invariant_holds_on_a_correct_run() -> None:
    c = Checker(CORE)
    m = Model(ModelConfig(kubernetes_version="1.28"), actors=actors())
    nodes = [node("n1", cpu="2", pods=4), node("n2", cpu="1500m"), node("n3", taints=[{"key": "gpu", "effect": "NoSchedule"}])]
    s = boot(c, m, nodes, replicaset("web", 5), rc("legacy", 2), bare_pod("pinned", nodeName="n3"), bare_pod("job", restartPolicy="Never"))
    s = c.step(m, s, ExitContainer("default", "job", "c", 0))  # Succeeded: terminal
    s = c.settle(m, s)
    web = [p for p in s.pods() if p.metadata.labels.get("app") == "web"]
    s = c.step(m, s, ExitContainer("default", next(p for p in web if p.spec.node_name).metadata.name, "c", 1))
    s = c.settle(m, s)
    s = c.settle(m, c.step(m, s, Scale("ReplicaSet", "default", "web", 3)))
    s = c.settle(m, c.step(m, s, FailNode("n2")))  # Unknown, tainted, evicted after 300 s
    s = c.settle(m, c.step(m, s, RemoveNode("n2")))  # PodGC force-deletes the terminating pods
    s = c.settle(m, c.step(m, s, Scale("ReplicaSet", "default", "web", 4)))
    assert c.violations == [], "\n".join(map(str, c.violations))
    assert c.quiescent_checks == 7  # every settle reached a fixpoint
    # not vacuous: every invariant had subjects, and the transitions it is about happened
    assert all(c.subjects[n] > 0 for n in CORE), c.subjects
    assert c.actions["Schedule:scheduler"] >= 7
    assert c.actions["Reconcile:taint-eviction"] >= 1
    assert c.actions["Reconcile:podgc"] >= 1
    assert any(p.terminal for p in s.pods())  # a terminal pod stayed (job)
    assert len([p for p in s.pods() if p.metadata.labels.get("app") == "web" and p.active]) == 4


# ---- placement-filters and node-capacity ------------------------------------------------------------------


class CarelessScheduler(Scheduler):
    """Deliberately broken: binds the first pending pod to any node, no filters."""

    def candidates(self, state: ClusterState, config: ModelConfig) -> Iterable[Action]:  # noqa: D102
        for pod in pending_pods(state)[:1]:
            for n in state.nodes():
                yield Schedule(pod.metadata.namespace, pod.metadata.name, n.name)

    def requests(self, state: ClusterState, action: Action, config: ModelConfig) -> Sequence[apiserver.Request]:  # noqa: D102
        assert isinstance(action, Schedule)
        return (apiserver.Bind(action.namespace, action.pod, action.node),)


def test_placement_filters_catches_a_scheduler_that_ignores_taints() -> None:
    c = Checker(["placement-filters", "node-capacity"])
    m = Model(actors=actors()).with_actor(CarelessScheduler())
    s = boot(c, m, [node("tainted", taints=[{"key": "dedicated", "value": "db", "effect": "NoSchedule"}])], replicaset("web", 1, cpu="100m"))
    assert c.names() == {"placement-filters"}
    assert "TaintToleration" in c.violations[0].message and "tainted" in c.violations[0].message
    # the kubelet admits the pod anyway (only NoExecute taints matter for admission)
    assert all(p.status.phase == "Running" for p in s.pods())


def test_node_capacity_catches_a_scheduler_that_ignores_capacity() -> None:
    c = Checker(["placement-filters", "node-capacity"])
    m = Model(actors=actors()).with_actor(CarelessScheduler())
    # bare pods: an ReplicaSet would replace the rejected pods for ever (a hot loop upstream too)
    s = boot(c, m, [node("small", cpu="1")], bare_pod("a", **cpu_requests("600m")), bare_pod("b", **cpu_requests("600m")))
    assert c.names() == {"placement-filters", "node-capacity"}
    cap = [v for v in c.violations if v.invariant == "node-capacity"]
    assert "request 1200 of cpu but only 1000 is allocatable" in cap[0].message
    # the kubelet rejected the extra pods (OutOfcpu)
    assert {p.status.reason for p in s.pods() if p.status.phase == "Failed"} == {"OutOfcpu"}


def test_node_capacity_counts_pod_numbers_and_ignores_terminal_pods() -> None:
    n = replace(node("n1", pods=1), metadata=replace(node("n1").metadata, uid="u-n"))
    running = Pod(ObjectMeta(name="a", namespace="default", uid="u-a"), PodSpec(node_name="n1"), PodStatus(phase="Running", conditions=()))
    placed = replace(running, status=replace(running.status, conditions=(condition("PodScheduled", "True"),)))
    unplaced = replace(running, metadata=replace(running.metadata, name="b", uid="u-b"))
    other = replace(placed, metadata=replace(placed.metadata, name="b", uid="u-b"))
    # a step that places the second pod on a node allowing one pod over-commits it
    (v,) = inv("node-capacity").violations(state_of([n, placed, unplaced]), "bind", state_of([n, placed, other]))
    assert "holds 2 pods but allows 1" in v.message
    done = replace(other, status=replace(other.status, phase="Succeeded"))
    assert inv("node-capacity").violations(state_of([n, done, unplaced]), "bind", state_of([n, done, other])) == []


def test_node_capacity_ignores_a_node_that_shrank_without_a_placement() -> None:
    # the environment replaces a node by a smaller one: no placement decision over-committed it
    big = replace(node("n1", pods=3), metadata=replace(node("n1").metadata, uid="u-n"))
    small = replace(big, status=replace(big.status, allocatable=big.status.allocatable.set("pods", 1)))
    pods = [
        Pod(
            ObjectMeta(name=x, namespace="default", uid=f"u-{x}"),
            PodSpec(node_name="n1"),
            PodStatus(phase="Running", conditions=(condition("PodScheduled", "True"),)),
        )
        for x in "ab"
    ]
    assert inv("node-capacity").violations(state_of([big, *pods]), "replace node", state_of([small, *pods])) == []


def condition(type_: str, status: str) -> Condition:
    return Condition(type_, status)


# ---- pod-phase-monotonic and pod-node-immutable ----------------------------------------------------------


class ResurrectingKubelet(Kubelet):
    """Deliberately broken: restarts a terminated pod, moving it from Succeeded back to Running."""

    def requests(self, state: ClusterState, action: Action, config: ModelConfig) -> Sequence[apiserver.Request]:  # noqa: D102
        pod = state.get("Pod", getattr(action, "namespace", ""), getattr(action, "name", "")) if getattr(action, "namespace", "") else None
        if pod is not None and pod.terminal and pod.metadata.deletion_timestamp is None:
            return (apiserver.Update(replace(pod, status=replace(pod.status, phase="Running")), status=True),)
        return super().requests(state, action, config)


def test_pod_phase_monotonic_catches_a_kubelet_that_leaves_a_terminal_phase() -> None:
    c = Checker(["pod-phase-monotonic"])
    m = Model(actors=actors()).with_actor(ResurrectingKubelet())
    s = boot(c, m, [node("n1")], bare_pod("job", restartPolicy="Never"))
    assert c.violations == []
    s = c.step(m, s, ExitContainer("default", "job", "c", 0))
    assert s.get("Pod", "default", "job").status.phase == "Succeeded" and c.violations == []
    s = c.step(m, s, Reconcile("kubelet", "default", "job"))
    assert [v.message for v in c.violations] == ["pod Pod default/job went from terminal phase Succeeded to Running"]


def test_pod_phase_monotonic_catches_running_back_to_pending() -> None:
    m = Model(actors=actors())
    c = Checker(["pod-phase-monotonic"])
    s = boot(c, m, [node("n1")], bare_pod("web"))
    p = s.get("Pod", "default", "web")
    assert p.status.phase == "Running" and c.violations == []
    tx = s.edit()
    tx.put(replace(p, status=replace(p.status, phase="Pending")))
    (v,) = inv("pod-phase-monotonic").violations(s, Tick(0), tx.commit())
    assert "back from Running to Pending" in v.message


def test_pod_node_immutable() -> None:
    m = Model(actors=actors())
    c = Checker(["pod-node-immutable"])
    s = boot(c, m, [node("n1"), node("n2")], bare_pod("web", nodeName="n1"))
    assert c.violations == [] and s.get("Pod", "default", "web").status.phase == "Running"
    p = s.get("Pod", "default", "web")
    moved = replace(p, spec=replace(p.spec, node_name="n2"))
    # the API server refuses the move (pod validation: spec.nodeName is immutable) ...
    tx = s.edit()
    assert not apiserver.apply(tx, apiserver.Update(moved), m.config).ok
    assert tx.commit() is s
    # ... so a broken transition has to be built by hand
    tx = s.edit()
    tx.put(moved)
    (v,) = inv("pod-node-immutable").violations(s, Tick(0), tx.commit())
    assert v.message == "pod Pod default/web moved from node n1 to n2"
    # a pod deleted and recreated under the same name elsewhere is a new pod, not a move
    tx = s.edit()
    tx.remove(p.ref)
    tx.put(replace(moved, metadata=replace(moved.metadata, uid="a-new-uid")))
    assert inv("pod-node-immutable").violations(s, Tick(0), tx.commit()) == []


# ---- identity -----------------------------------------------------------------------------------------------


def cm(name: str, uid: str, ns: str = "default") -> Any:
    obj = decode({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": name, "namespace": ns}})
    return replace(obj, metadata=replace(obj.metadata, uid=uid))


def test_unique_names_and_uids() -> None:
    ok = state_of([cm("a", "u1"), cm("b", "u2"), cm("a", "u3", ns="other")])
    assert inv("unique-names-and-uids").violations(ok) == []
    (v,) = inv("unique-names-and-uids").violations(state_of([cm("a", "u1"), cm("b", "u1")]))
    assert "share uid u1" in v.message
    (v,) = inv("unique-names-and-uids").violations(state_of([cm("a", "")]))
    assert v.message == "ConfigMap default/a has no uid"
    misfiled = state_of([cm("a", "u1")])
    objs = misfiled.objects["ConfigMap"]
    bad = replace(misfiled, objects=FrozenDict({"ConfigMap": FrozenDict({("default", "b"): objs[("default", "a")]})}))
    (v,) = inv("unique-names-and-uids").violations(bad)
    assert "is stored as ConfigMap default/b" in v.message


def test_uid_immutable() -> None:
    m = Model(actors=[])
    s = m.step(empty_state(), Apply((cm("a", ""),)))
    s2 = m.step(s, Apply((cm("b", ""),)))
    assert inv("uid-immutable").violations(s, Tick(0), s2) == []
    uid = s.get("ConfigMap", "default", "a").metadata.uid
    tx = s.edit()
    tx.remove(s.get("ConfigMap", "default", "a").ref)
    tx.put(cm("b", uid))  # a broken store hands a's uid to b
    (v,) = inv("uid-immutable").violations(s, Tick(0), tx.commit())
    assert v.message == f"uid {uid} moved from ConfigMap default/a to ConfigMap default/b"


class GreedyReplicaSetController(ReplicaSetController):
    """Deliberately broken: adopts matching pods even when another controller owns them."""

    def reconcile(self, state: ClusterState, rs: Any, config: ModelConfig) -> Sequence[apiserver.Request]:  # noqa: D102
        reqs = list(super().reconcile(state, rs, config))
        for p in state.pods(rs.metadata.namespace):
            ref = p.metadata.controller_ref()
            if ref is not None and ref.uid != rs.metadata.uid and rs.label_selector.matches(p.metadata.labels):
                mine = OwnerReference(rs.api_version, rs.kind, rs.metadata.name, rs.metadata.uid, controller=True, block_owner_deletion=True)
                reqs.append(apiserver.Update(replace(p, metadata=replace(p.metadata, owner_references=p.metadata.owner_references + (mine,))), check_rv=False))
        return reqs


def test_single_controller_owner() -> None:
    # two sets with overlapping selectors: the correct controller leaves the other's pods alone
    overlap = replicaset("web", 1)
    second = replace(overlap, metadata=replace(overlap.metadata, name="web-2"))
    c = Checker(["single-controller-owner"])
    m = Model(actors=actors())
    s = boot(c, m, [node("n1")], overlap, second)
    assert c.violations == [] and len(s.pods()) == 2
    # a greedy controller tries to take them too: the API server refuses a second
    # controller reference on update, so the invariant still holds in every state ...
    c = Checker(["single-controller-owner"])
    greedy = Model(actors=actors()).with_actor(GreedyReplicaSetController())
    s = boot(c, greedy, [node("n1")], overlap, second)
    wanted = GreedyReplicaSetController().requests(s, Reconcile("replicaset", "default", "web"), greedy.config)
    grabs = [r for r in wanted if isinstance(r, apiserver.Update) and not r.status]
    assert grabs and all(sum(1 for ref in r.obj.metadata.owner_references if ref.controller) == 2 for r in grabs)
    assert c.violations == []
    assert all(len([r for r in p.metadata.owner_references if r.controller]) == 1 for p in s.pods())
    # ... and it catches a state where the store was written around the API server
    p = s.pods()[0]
    rs = s.get("ReplicaSet", "default", "web-2")
    extra = OwnerReference("apps/v1", "ReplicaSet", "web-2", rs.metadata.uid, controller=True)
    tx = s.edit()
    tx.put(replace(p, metadata=replace(p.metadata, owner_references=p.metadata.owner_references + (extra,))))
    (v,) = inv("single-controller-owner").violations(tx.commit())
    assert "has 2 controller references" in v.message


# ---- replicaset-replicas -----------------------------------------------------------------------------------


class NeverScalesDown(ReplicaSetController):
    """Deliberately broken: creates missing pods but never deletes extra ones."""

    def manage_replicas(self, state: ClusterState, rs: Any, pods: list[Pod]) -> list[apiserver.Request]:  # noqa: D102
        return [r for r in super().manage_replicas(state, rs, pods) if not isinstance(r, apiserver.Delete)]


class StaleStatus(ReplicaSetController):
    """Deliberately broken: manages pods but never writes status."""

    def reconcile(self, state: ClusterState, rs: Any, config: ModelConfig) -> Sequence[apiserver.Request]:  # noqa: D102
        return [r for r in super().reconcile(state, rs, config) if not (isinstance(r, apiserver.Update) and r.status)]


def test_replicaset_replicas_holds_after_scaling() -> None:
    c = Checker(["replicaset-replicas"])
    m = Model(actors=actors())
    s = boot(c, m, [node("n1", cpu="4")], replicaset("web", 3))
    s = c.settle(m, c.step(m, s, Scale("ReplicaSet", "default", "web", 1)))
    assert c.violations == [] and c.quiescent_checks == 2
    assert inv("replicaset-replicas").subjects(s) == 1


def test_replicaset_replicas_catches_a_controller_that_never_scales_down() -> None:
    c = Checker(["replicaset-replicas"])
    m = Model(actors=actors()).with_actor(NeverScalesDown())
    s = boot(c, m, [node("n1", cpu="4")], replicaset("web", 3))
    assert c.violations == []
    s = c.settle(m, c.step(m, s, Scale("ReplicaSet", "default", "web", 1)))
    assert [v.message for v in c.violations] == ["ReplicaSet default/web wants 1 replicas but controls 3 active pods"]


def test_replicaset_replicas_catches_a_stale_status() -> None:
    c = Checker(["replicaset-replicas"])
    m = Model(actors=actors()).with_actor(StaleStatus())
    boot(c, m, [node("n1", cpu="4")], replicaset("web", 2))
    assert [v.message for v in c.violations] == ["ReplicaSet default/web status.replicas is 0 but it controls 2 active pods"]


def test_replicaset_replicas_catches_inconsistent_status_counts() -> None:
    m = Model(actors=actors())
    s = m.settle(boot(Checker([]), m, [node("n1", cpu="4")], replicaset("web", 2))).state
    rs = s.get("ReplicaSet", "default", "web")
    tx = s.edit()
    tx.put(replace(rs, status=replace(rs.status, ready_replicas=1, available_replicas=2)))
    (v,) = inv("replicaset-replicas").violations(tx.commit())
    assert "available 2, ready 1, replicas 2" in v.message


# ---- taint-eviction-timing -------------------------------------------------------------------------------------


class HastyTaintEviction(TaintEvictionController):
    """Deliberately broken: evicts as soon as the node has a NoExecute taint."""

    def requests(self, state: ClusterState, action: Action, config: ModelConfig) -> Sequence[apiserver.Request]:  # noqa: D102
        pod = state.get("Pod", getattr(action, "namespace", ""), getattr(action, "name", ""))
        if pod is None or pod.metadata.deletion_timestamp is not None:
            return ()
        node_obj = state.get("Node", "", pod.spec.node_name)
        if node_obj is None or not no_execute_taints(node_obj):
            return ()
        return (apiserver.Delete(pod.ref, uid=pod.metadata.uid),)


def failing_node_run(controller: TaintEvictionController, tolerations: list[dict[str, Any]] | None = None) -> tuple[Checker, ClusterState]:
    c = Checker(["taint-eviction-timing"])
    m = Model(ModelConfig(kubernetes_version="1.28"), actors=actors()).with_actor(controller)
    extra = {"tolerations": tolerations} if tolerations else {}
    s = boot(c, m, [node("n1"), node("n2")], replicaset("web", 2, cpu="100m", **extra))
    s = c.settle(m, c.step(m, s, FailNode("n1")))
    return c, s


def test_taint_eviction_timing_holds_for_the_real_controller() -> None:
    c, s = failing_node_run(TaintEvictionController())
    assert c.violations == []
    assert c.actions["Reconcile:taint-eviction"] >= 1
    assert any(p.metadata.deletion_timestamp is not None for p in s.pods_on("n1"))


def test_taint_eviction_timing_catches_immediate_eviction() -> None:
    c, _ = failing_node_run(HastyTaintEviction())
    assert c.names() == {"taint-eviction-timing"}
    assert "before its toleration of 300s" in c.violations[0].message


def test_taint_eviction_timing_catches_eviction_of_a_pod_tolerating_forever() -> None:
    forever = [{"key": "node.kubernetes.io/unreachable", "operator": "Exists", "effect": "NoExecute"}]
    c, _ = failing_node_run(HastyTaintEviction(), tolerations=forever)
    assert c.names() == {"taint-eviction-timing"}
    assert "tolerates every NoExecute taint of n1 forever but was evicted" in c.violations[0].message
    c, s = failing_node_run(TaintEvictionController(), tolerations=forever)
    assert c.violations == [] and all(p.metadata.deletion_timestamp is None for p in s.pods())


def test_taint_eviction_timing_catches_eviction_without_noexecute_taint() -> None:
    m = Model(actors=actors())
    s = boot(Checker([]), m, [node("n1")], bare_pod("web"))
    tx = s.edit()
    assert apiserver.apply(tx, apiserver.Delete(s.get("Pod", "default", "web").ref), m.config).ok
    (v,) = inv("taint-eviction-timing").violations(s, Reconcile("taint-eviction", "default", "web"), tx.commit())
    assert "evicted from a node without NoExecute taints" in v.message
    # the same deletion by a user is none of its business
    assert inv("taint-eviction-timing").violations(s, Tick(0), tx.commit()) == []


@pytest.mark.parametrize("name", CORE)
def test_each_invariant_has_a_statement_and_a_source(name: str) -> None:
    i = inv(name)
    assert i.statement and i.source and i.kind in (Kind.ALWAYS, Kind.TRANSITION, Kind.QUIESCENT)
