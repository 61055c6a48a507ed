"""The exhaustive explorer: sound symmetry reduction, agreement between engines and
executors, shortest counterexamples, livelock and deadlock detection."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import replace
from typing import Any

from invariants.registry import Invariant, Kind, Violation, select
from kmodel import apiserver, exhaustive
from kmodel.actions import Action, Reconcile
from kmodel.config import ModelConfig
from kmodel.controllers.tainteviction import TaintEvictionController, no_execute_taints
from kmodel.exhaustive import Bounds, explore_exhaustive
from kmodel.frozen import FrozenDict
from kmodel.kubelet import Kubelet
from kmodel.model import Model, Scope
from kmodel.objects import GenericObject, ObjectMeta
from kmodel.scheduler import Scheduler
from kmodel.state import ClusterState
from kmodel.symmetry import SymmetryInfo, canonical_fingerprint
from tests.builders import cluster, node, obj, replicaset

SCOPE = Scope(faults=("fail", "recover"), max_faults=1, horizon=400)


def _setup(replicas: int = 2, nodes: int = 2) -> tuple[Model, ClusterState]:
    m = Model(scope=SCOPE)
    return m, cluster(m, [node(f"n{i + 1}") for i in range(nodes)], [replicaset("web", replicas)])


def test_symmetry_is_sound_and_saves_states() -> None:
    m, s0 = _setup()
    raw_states: list[ClusterState] = []
    plain = explore_exhaustive(m, s0, select(), on_state=raw_states.append, symmetry=False)
    reduced_states: list[ClusterState] = []
    reduced = explore_exhaustive(m, s0, select(), on_state=reduced_states.append, symmetry=True)
    assert plain.complete and reduced.complete
    info = SymmetryInfo.for_exploration(s0, m.scope)
    every_orbit = {canonical_fingerprint(s, info) for s in raw_states}
    visited_orbits = {canonical_fingerprint(s, info) for s in reduced_states}
    assert visited_orbits == every_orbit, "symmetry reduction must visit every orbit of the full state space"
    assert reduced.distinct_states == len(every_orbit) < plain.distinct_states
    assert reduced.merged_by_symmetry > 0
    assert [f.violations for f in plain.findings] == [f.violations for f in reduced.findings] == []


def test_pinned_nodes_are_not_renamed() -> None:
    m = Model(scope=SCOPE)
    pinned = obj(
        {
            "apiVersion": "apps/v1",
            "kind": "ReplicaSet",
            "metadata": {"name": "pin"},
            "spec": {
                "replicas": 1,
                "selector": {"matchLabels": {"app": "pin"}},
                "template": {
                    "metadata": {"labels": {"app": "pin"}},
                    "spec": {"nodeSelector": {"kubernetes.io/hostname": "n2"}, "containers": [{"name": "c", "image": "x"}]},
                },
            },
        }
    )
    s0 = cluster(m, [node("n1"), node("n2")], [pinned])
    info = SymmetryInfo.for_exploration(s0, m.scope)
    assert "n2" in info.pinned


def test_serial_and_parallel_and_fingerprint_only_agree() -> None:
    m, s0 = _setup()
    a = explore_exhaustive(m, s0, select(), symmetry=True, workers=1)
    b = explore_exhaustive(m, s0, select(), symmetry=True, workers=2)
    c = explore_exhaustive(m, s0, select(), symmetry=True, graph=False)
    assert (a.distinct_states, a.transitions, a.depth) == (b.distinct_states, b.transitions, b.depth) == (c.distinct_states, c.transitions, c.depth)


class EagerTaintEviction(TaintEvictionController):
    """Broken: evicts as soon as a NoExecute taint appears."""

    def requests(self, state: ClusterState, action: Action, config: ModelConfig) -> Sequence[apiserver.Request]:
        pod: Any = state.get("Pod", action.namespace, action.name)  # type: ignore[attr-defined]
        if pod is None or pod.metadata.deletion_timestamp is not None or not pod.spec.node_name:
            return ()
        n = state.get("Node", "", pod.spec.node_name)
        if n is None or not no_execute_taints(n):
            return ()
        return (apiserver.Delete(pod.ref, uid=pod.metadata.uid),)


def test_broken_controller_gives_a_shortest_counterexample() -> None:
    m, s0 = _setup()
    broken = m.with_actor(EagerTaintEviction())
    r = explore_exhaustive(broken, s0, select())
    assert r.findings and r.findings[0].violations[0].invariant == "taint-eviction-timing"
    path = r.findings[0].path
    # fail a node, wait out the grace period, mark it Unknown, taint it, evict: nothing shorter exists
    assert [a.describe() for a in path][:4] == ["node n1 fails", "50s pass", "nodelifecycle syncs n1", "nodelifecycle syncs n1"]
    assert len(path) == 5 and path[4].describe().startswith("taint-eviction syncs default/web-")
    state = s0
    for a in path:
        state = broken.step(state, a)
    assert any(p.metadata.deletion_timestamp is not None for p in state.pods())


class Flipper:
    """A controller that toggles a ConfigMap label between its own value and another's."""

    def __init__(self, name: str, value: str) -> None:
        self.name = name
        self.value = value

    def candidates(self, state: ClusterState, config: ModelConfig) -> Iterable[Action]:
        yield Reconcile(self.name, "default", "flag")

    def requests(self, state: ClusterState, action: Action, config: ModelConfig) -> Sequence[apiserver.Request]:
        cm = state.get("ConfigMap", "default", "flag")
        if cm is None or cm.metadata.labels.get("owner") == self.value:
            return ()
        return (apiserver.Update(replace(cm, metadata=replace(cm.metadata, labels=FrozenDict({"owner": self.value}))), check_rv=False),)

    def deadlines(self, state: ClusterState, config: ModelConfig) -> Iterable[int]:
        return ()


def test_fighting_controllers_are_reported_as_a_livelock() -> None:
    m = Model(actors=[Scheduler(), Kubelet(), Flipper("blue", "blue"), Flipper("green", "green")])
    cm = GenericObject("ConfigMap", "v1", ObjectMeta(name="flag", namespace="default", uid="u1", labels=FrozenDict({"owner": "blue"})))
    tx = ClusterState().edit()
    tx.put(cm)
    r = explore_exhaustive(m, tx.commit(), select())
    assert r.complete
    assert len(r.livelocks) == 1
    assert sorted(r.livelocks[0].cycle) == ["blue syncs default/flag", "green syncs default/flag"]
    calm = Model(actors=[Scheduler(), Kubelet(), Flipper("blue", "blue")])
    assert explore_exhaustive(calm, tx.commit(), select()).livelocks == []


def test_interleaving_dependent_fixpoint_is_reported_as_a_deadlock() -> None:
    # two pods, two nodes each with room for one; "picky" only fits n2 (nodeSelector).
    # If "any" is bound to n2 first, picky stays Pending forever: a bad fixpoint that
    # another interleaving avoids.
    m = Model(actors=[Scheduler(), Kubelet()])

    def pod(name: str, sel: dict[str, str]) -> Any:
        return obj(
            {
                "apiVersion": "v1",
                "kind": "Pod",
                "metadata": {"name": name},
                "spec": {"nodeSelector": sel, "containers": [{"name": "c", "image": "x", "resources": {"requests": {"cpu": "1"}}}]},
            }
        )

    s0 = cluster(
        m,
        [node("n1", cpu="1", labels={"disk": "hdd"}), node("n2", cpu="1", labels={"disk": "ssd"})],
        [pod("any", {}), pod("picky", {"disk": "ssd"})],
        settle=False,
    )

    def all_running(state: ClusterState) -> Iterable[Violation]:
        for p in state.pods():
            if not p.spec.node_name:
                yield Violation("all-placed", f"{p.ref} is pending", (str(p.ref),))

    inv = Invariant("all-placed", Kind.QUIESCENT, "every pod is placed", all_running)
    r = explore_exhaustive(m, s0, [inv], Bounds(stop_at_first_violation=False))
    kinds = {f.kind for f in r.findings}
    assert kinds == {"deadlock"}
    bad = r.findings[0].path
    assert any(getattr(a, "pod", "") == "any" and getattr(a, "node", "") == "n2" for a in bad)


def test_time_bound_stops_an_exploration_as_incomplete(monkeypatch: Any) -> None:
    m, s0 = _setup()
    r = explore_exhaustive(m, s0, select(), Bounds(max_seconds=0.0), graph=False)
    assert not r.complete and r.stopped.startswith("time bound")
    assert r.distinct_states > 1 and r.depth == 1
    full = explore_exhaustive(m, s0, select(), Bounds(max_seconds=600.0), graph=False)
    assert full.complete and not full.stopped
    # the frontier is expanded in batches: the same search, with the budget checked between them
    monkeypatch.setattr(exhaustive, "_BATCH", 1)
    batched = explore_exhaustive(m, s0, select(), graph=False)
    assert (batched.distinct_states, batched.transitions, batched.depth, batched.complete) == (full.distinct_states, full.transitions, full.depth, True)
    ticks = iter(range(10**6))
    monkeypatch.setattr(exhaustive.time, "monotonic", lambda: float(next(ticks)))
    cut = explore_exhaustive(m, s0, select(), Bounds(max_seconds=5.0), graph=False)
    assert not cut.complete and cut.stopped == "time bound 5 s reached"
    assert 1 < cut.distinct_states < full.distinct_states
