"""The Z3 placement invariants (invariants/placement_z3.py): each holds on a correct run
that exercises it, and catches a deliberately broken scheduler plugged in with
Model.with_actor; an undecided check is reported, never passed."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Sequence
from typing import Any

import pytest

import invariants.placement_z3 as pz3
from invariants.registry import Violation, check_state, check_transition, select
from kmodel import apiserver
from kmodel.actions import Action, AddNode, Apply, Schedule
from kmodel.config import ModelConfig
from kmodel.model import Model
from kmodel.objects.serde import decode_object
from kmodel.placement.encode import SolverLimits
from kmodel.scheduler import Scheduler, filter_failures, pending_pods
from kmodel.state import ClusterState, empty_state

NAMES = ["scheduler-binds-feasible", "scheduler-completeness"]
HOST = "kubernetes.io/hostname"
ZONE = "topology.kubernetes.io/zone"


def decode(doc: dict[str, Any]) -> Any:
    obj, _ = decode_object(doc)
    return obj


def node(name: str, cpu: str = "2", zone: str | None = None, taints: list[dict[str, Any]] | None = None) -> Any:
    labels = {HOST: name, **({ZONE: zone} if zone else {})}
    return decode(
        {
            "apiVersion": "v1",
            "kind": "Node",
            "metadata": {"name": name, "labels": labels},
            "spec": {"taints": taints or []},
            "status": {"allocatable": {"cpu": cpu, "memory": "8Gi", "pods": "110"}},
        }
    )


def replicaset(name: str, replicas: int, cpu: str = "500m", **spec: Any) -> Any:
    container = {"name": "c", "image": "nginx", "resources": {"requests": {"cpu": cpu}}}
    return decode(
        {
            "apiVersion": "apps/v1",
            "kind": "ReplicaSet",
            "metadata": {"name": name, "namespace": "default"},
            "spec": {
                "replicas": replicas,
                "selector": {"matchLabels": {"app": name}},
                "template": {"metadata": {"labels": {"app": name}}, "spec": {"containers": [container], **spec}},
            },
        }
    )


def bare_pod(name: str, cpu: str) -> Any:
    return decode(
        {
            "apiVersion": "v1",
            "kind": "Pod",
            "metadata": {"name": name, "namespace": "default", "labels": {"app": name}},
            "spec": {"containers": [{"name": "c", "image": "x", "resources": {"requests": {"cpu": cpu}}}]},
        }
    )


class Checker:
    """Checks the Z3 invariants over every step of a run and at every fixpoint."""

    def __init__(self) -> None:
        self.invs = select(NAMES)
        self.violations: list[Violation] = []
        self.actions: Counter[str] = Counter()
        self.pending_at_fixpoints = 0

    def __call__(self, prev: ClusterState, action: Action, nxt: ClusterState) -> None:
        self.actions[type(action).__name__] += 1
        self.violations.extend(check_transition(prev, action, nxt, self.invs))

    def settle(self, m: Model, s: ClusterState, **kw: Any) -> ClusterState:
        r = m.settle(s, on_step=self, **kw)
        assert r.quiescent, r.reason
        self.violations.extend(check_state(r.state, self.invs, quiescent=True))
        self.pending_at_fixpoints += len(pending_pods(r.state))
        return r.state

    def names(self) -> set[str]:
        return {v.invariant for v in self.violations}


def boot(c: Checker, m: Model, nodes: Iterable[Any], *objs: Any, **kw: Any) -> ClusterState:
    s = empty_state()
    for n in nodes:
        s = m.step(s, AddNode(n))
    return c.settle(m, m.step(s, Apply(objs)), **kw)


# ---- correct runs -----------------------------------------------------------------------------------


def test_both_hold_on_a_correct_run_with_every_constraint_kind_and_a_stuck_pod() -> None:
    c = Checker()
    m = Model(ModelConfig())
    nodes = [
        node("a1", zone="a"),
        node("a2", zone="a"),
        node("b1", zone="b"),
        node("gpu", cpu="8", zone="b", taints=[{"key": "dedicated", "value": "gpu", "effect": "NoSchedule"}]),
    ]
    anti = {"podAntiAffinity": {"requiredDuringSchedulingIgnoredDuringExecution": [{"topologyKey": HOST, "labelSelector": {"matchLabels": {"app": "web"}}}]}}
    spread = [{"maxSkew": 1, "topologyKey": ZONE, "whenUnsatisfiable": "DoNotSchedule", "labelSelector": {"matchLabels": {"app": "cache"}}}]
    s = boot(c, m, nodes, replicaset("web", 4, affinity=anti), replicaset("cache", 4, cpu="300m", topologySpreadConstraints=spread), bare_pod("huge", "16"))
    assert c.violations == [], "\n".join(map(str, c.violations))
    # not vacuous: bindings were checked, and the fixpoint had pods that Z3 proves cannot be placed
    assert c.actions["Schedule"] >= 7
    stuck = {p.metadata.name for p in pending_pods(s)}
    assert "huge" in stuck and len([p for p in s.pods() if p.metadata.labels.get("app") == "web" and not p.spec.node_name]) == 1
    assert c.pending_at_fixpoints >= 2
    (inv,) = select(["scheduler-completeness"])
    assert inv.subjects(s) == len(stuck)


# ---- broken schedulers --------------------------------------------------------------------------------


class CapacityBlindScheduler(Scheduler):
    """Deliberately broken: runs every filter except NodeResourcesFit."""

    def _ok(self, state: ClusterState, pod: Any, node: Any) -> bool:
        return all(f.startswith("NodeResourcesFit") for f in filter_failures(state, pod, node))

    def candidates(self, state: ClusterState, config: ModelConfig) -> Iterable[Action]:  # noqa: D102
        for pod in pending_pods(state):
            for n in state.nodes():
                if self._ok(state, pod, n):
                    yield Schedule(pod.metadata.namespace, pod.metadata.name, n.name)
                    return

    def requests(self, state: ClusterState, action: Action, config: ModelConfig) -> Sequence[apiserver.Request]:  # noqa: D102
        assert isinstance(action, Schedule)
        pod = state.get("Pod", action.namespace, action.pod)
        if pod is None or pod.spec.node_name:
            return ()
        return (apiserver.Bind(action.namespace, action.pod, action.node, uid=pod.metadata.uid),)


class AntiAffinityBlindScheduler(CapacityBlindScheduler):
    """Deliberately broken: ignores required pod anti-affinity."""

    def _ok(self, state: ClusterState, pod: Any, node: Any) -> bool:
        return all(f.startswith("InterPodAffinity") for f in filter_failures(state, pod, node))


class FirstNodeScheduler(Scheduler):
    """Deliberately broken: only ever tries the first node (by name)."""

    def candidates(self, state: ClusterState, config: ModelConfig) -> Iterable[Action]:  # noqa: D102
        nodes = state.nodes()[:1]
        for pod in pending_pods(state):
            for n in nodes:
                if not filter_failures(state, pod, n):
                    yield Schedule(pod.metadata.namespace, pod.metadata.name, n.name)
                    return


def test_binds_feasible_catches_a_scheduler_that_ignores_capacity() -> None:
    c = Checker()
    m = Model(ModelConfig()).with_actor(CapacityBlindScheduler())
    s = empty_state()
    s = m.step(s, AddNode(node("small", cpu="1")))
    s = m.step(s, Apply((replicaset("web", 2, cpu="600m"),)))
    m.settle(s, on_step=c, max_steps=300)  # the kubelet rejects the extra pod (OutOfcpu) and the RS replaces it: may not settle
    assert c.names() == {"scheduler-binds-feasible"}
    assert c.violations[0].message == (
        "pod Pod default/"
        + c.violations[0].objects[0].split("/")[1]
        + " was bound to node small, which Z3 finds infeasible: node small: insufficient cpu (request 600m, free 400m)"
    )


def test_binds_feasible_catches_a_scheduler_that_ignores_anti_affinity() -> None:
    c = Checker()
    m = Model(ModelConfig()).with_actor(AntiAffinityBlindScheduler())
    anti = {"podAntiAffinity": {"requiredDuringSchedulingIgnoredDuringExecution": [{"topologyKey": ZONE, "labelSelector": {"matchLabels": {"app": "web"}}}]}}
    s = empty_state()
    for n in (node("a1", cpu="4", zone="a"), node("a2", cpu="4", zone="a")):
        s = m.step(s, AddNode(n))
    s = m.step(s, Apply((replicaset("web", 2, cpu="100m", affinity=anti),)))
    r = m.settle(s, on_step=c, max_steps=200)
    assert "scheduler-binds-feasible" in c.names()
    v = next(v for v in c.violations if v.invariant == "scheduler-binds-feasible")
    assert "anti-affinity" in v.message and f"on {ZONE}=a" in v.message
    assert len({p.spec.node_name for p in r.state.pods() if p.spec.node_name}) >= 1


def test_completeness_catches_a_scheduler_that_leaves_a_feasible_pod_pending() -> None:
    c = Checker()
    m = Model(ModelConfig()).with_actor(FirstNodeScheduler())
    s = boot(c, m, [node("n1", cpu="1"), node("n2", cpu="4")], replicaset("web", 3, cpu="600m"))
    assert c.names() == {"scheduler-completeness"}
    assert len(c.violations) == 2  # two pods wait although n2 has room for both
    assert all("is left Pending, but node n2 can take it" in v.message for v in c.violations)
    # the same state with the reference scheduler moves on: the pods were indeed placeable
    fixed = Model(ModelConfig()).settle(s).state
    assert pending_pods(fixed) == []


def test_an_undecided_check_is_reported_not_passed(monkeypatch: pytest.MonkeyPatch) -> None:
    m = Model(ModelConfig())
    s = empty_state()
    s = m.step(s, AddNode(node("n1")))
    s = m.step(s, Apply((bare_pod("p", "100m"),)))
    action = Schedule("default", "p", "n1")
    nxt = m.step(s, action)
    assert nxt.get("Pod", "default", "p").spec.node_name == "n1"
    (binds,) = select(["scheduler-binds-feasible"])
    (complete,) = select(["scheduler-completeness"])
    assert binds.violations(s, action, nxt) == [] and complete.violations(nxt) == []
    monkeypatch.setattr(pz3, "LIMITS", SolverLimits(rlimit=1))
    (v,) = binds.violations(s, action, nxt)
    assert v.message.startswith("could not decide whether binding pod Pod default/p to node n1 was feasible")
    (w,) = complete.violations(s)
    assert w.message.startswith("could not decide whether pending pod Pod default/p fits somewhere")


def test_a_pod_waiting_for_its_claim_is_not_a_completeness_violation() -> None:
    # A claim with no class and no volume never binds: VolumeBinding rules out every node,
    # and the pod stays Pending upstream too. Once a matching volume exists, the same
    # Pending pod is one the scheduler must place.
    model = Model()
    state = model.step(empty_state(), AddNode(node("n1")))
    claim = decode(
        {
            "apiVersion": "v1",
            "kind": "PersistentVolumeClaim",
            "metadata": {"name": "data", "namespace": "default"},
            "spec": {"accessModes": ["ReadWriteOnce"], "resources": {"requests": {"storage": "1Gi"}}, "storageClassName": ""},
        }
    )
    pod = decode(
        {
            "apiVersion": "v1",
            "kind": "Pod",
            "metadata": {"name": "p", "namespace": "default"},
            "spec": {"containers": [{"name": "c", "image": "x"}], "volumes": [{"name": "d", "persistentVolumeClaim": {"claimName": "data"}}]},
        }
    )
    state = model.settle(model.step(state, Apply((claim, pod)))).state
    assert [p.metadata.name for p in pending_pods(state)] == ["p"]
    assert all(filter_failures(state, pending_pods(state)[0], n) for n in state.nodes())
    assert check_state(state, select(["scheduler-completeness"]), quiescent=True) == []
    # the model's own scheduler is replaced by one that never binds: with the claim bound,
    # the pending pod is now a completeness violation
    volume = decode(
        {
            "apiVersion": "v1",
            "kind": "PersistentVolume",
            "metadata": {"name": "pv1"},
            "spec": {"capacity": {"storage": "1Gi"}, "accessModes": ["ReadWriteOnce"], "storageClassName": "", "hostPath": {"path": "/data"}},
        }
    )
    idle = Model().with_actor(_NeverBinds())
    state = idle.settle(idle.step(state, Apply((volume,)))).state
    assert state.get("PersistentVolumeClaim", "default", "data").status.phase == "Bound"
    found = check_state(state, select(["scheduler-completeness"]), quiescent=True)
    assert [v.invariant for v in found] == ["scheduler-completeness"]


class _NeverBinds(Scheduler):
    def candidates(self, state: ClusterState, config: ModelConfig) -> Iterable[Action]:
        return ()
