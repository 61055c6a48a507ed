"""Each DaemonSet invariant holds on runs of the reference controller and catches a
deliberately broken controller plugged in with Model().with_actor(...) (or, for the
documented upstream bugs, the older release's reference controller)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from typing import Any

from invariants.registry import Invariant, Violation, select
from kmodel import apiserver
from kmodel.actions import Action, AddNode, Apply, FailNode, LabelNode, Reconcile, SetImage, TaintNode
from kmodel.config import ModelConfig
from kmodel.controllers.daemonset import Backoffs, DaemonSetController, SyncView
from kmodel.frozen import FrozenDict
from kmodel.model import Model
from kmodel.objects.apps import DaemonSet
from kmodel.objects.node import Node
from kmodel.objects.pod import Pod
from kmodel.state import ClusterState, empty_state
from tests.builders import node, replicaset
from tests.test_daemonset import NS, daemonset, rolling

Step = tuple[ClusterState, Action, ClusterState]


def invariant(name: str) -> Invariant:
    (inv,) = select([name])
    return inv


def run(model: Model, nodes: list[Node], ds: Any, *user: Action, horizon: int | None = None) -> tuple[list[Step], ClusterState]:
    """Every transition of: nodes added, `ds` applied and settled, then each user action
    settled (the last one only up to `horizon`, if given)."""
    state = empty_state()
    for n in nodes:
        state = model.step(state, AddNode(n))
    trace: list[Step] = []
    actions = (Apply((ds,)), *user)
    for i, action in enumerate(actions):
        nxt = model.step(state, action)
        trace.append((state, action, nxt))
        last = i == len(actions) - 1
        result = model.settle(nxt, horizon=horizon if last else None, on_step=lambda p, a, n: trace.append((p, a, n)), max_steps=3000)
        state = result.state
    return trace, state


def violations(inv: Invariant, trace: Sequence[Step]) -> list[Violation]:
    return [v for prev, a, nxt in trace for v in inv.violations(prev, a, nxt)]


def _target(pod: Pod) -> str | None:
    from kmodel.controllers.daemonset import target_node

    return target_node(pod)


def synced(trace: Sequence[Step]) -> int:
    return sum(1 for _, a, _ in trace if isinstance(a, Reconcile) and a.controller == "daemonset")


# ---- deliberately broken controllers ---------------------------------------------------------


class SkipsNodeN2(DaemonSetController):
    """Never runs anything on n2."""

    def should_run(self, node: Node, ds: DaemonSet) -> tuple[bool, bool]:
        return (False, False) if node.name == "n2" else super().should_run(node, ds)


class IgnoresNodeSelector(DaemonSetController):
    """Decides eligibility without the template's nodeSelector."""

    def should_run(self, node: Node, ds: DaemonSet) -> tuple[bool, bool]:
        spec = replace(ds.spec.template.spec, node_selector=FrozenDict())
        return super().should_run(node, replace(ds, spec=replace(ds.spec, template=replace(ds.spec.template, spec=spec))))


class DoubleCreates(DaemonSetController):
    """Creates another pod wherever no pod of the set is ready yet."""

    def pods_should_be_on_node(self, view: SyncView, node: Node, backoffs: Backoffs) -> tuple[list[str], list[Pod], Backoffs]:
        create, delete, backoffs = super().pods_should_be_on_node(view, node, backoffs)
        if view.should_run(node.name) and not create and not any(p.ready for p in view.by_node.get(node.name, [])):
            create = [node.name]
        return create, delete, backoffs


class ForgetsTolerations(DaemonSetController):
    """Creates pods with the template's tolerations only (no automatic daemon tolerations)."""

    def reconcile(self, state: ClusterState, ds: Any, config: ModelConfig) -> Sequence[apiserver.Request]:
        out: list[apiserver.Request] = []
        for r in super().reconcile(state, ds, config):
            if isinstance(r, apiserver.Create) and isinstance(r.obj, Pod):
                r = apiserver.Create(replace(r.obj, spec=replace(r.obj.spec, tolerations=ds.spec.template.spec.tolerations)))
            out.append(r)
        return out


class IgnoresMaxUnavailable(DaemonSetController):
    """Replaces every old pod at once."""

    def fence_posts(self, ds: DaemonSet, desired: int) -> tuple[int, int]:
        return 0, max(desired, 1)


# ---- daemonset-one-per-node ----------------------------------------------------------------------


def test_one_per_node_holds_after_rollout_and_node_changes() -> None:
    inv = invariant("daemonset-one-per-node")
    m = Model()
    nodes = [node("n1"), node("n2"), node("n3", taints=[{"key": "dedicated", "effect": "NoSchedule"}])]
    _, s = run(m, nodes, daemonset(strategy=rolling(max_unavailable=2)), SetImage("DaemonSet", NS, "ds", "agent:2"), AddNode(node("n4")))
    assert m.is_quiescent(s) and inv.subjects(s) == 1
    assert len([p for p in s.pods() if p.active]) == 3
    assert inv.violations(s) == []


def test_one_per_node_catches_a_controller_that_skips_a_node() -> None:
    inv = invariant("daemonset-one-per-node")
    m = Model().with_actor(SkipsNodeN2())
    _, s = run(m, [node("n1"), node("n2")], daemonset())
    assert m.is_quiescent(s)
    (v,) = inv.violations(s)
    assert "node n2 runs 0 active pods" in v.message and "Node n2" in v.objects


def test_one_per_node_catches_pods_left_on_an_old_revision() -> None:
    """With the controller switched off after an update, the old pods are not current."""
    inv = invariant("daemonset-one-per-node")
    m = Model()
    _, s = run(m, [node("n1")], daemonset())
    m_off = Model(m.config, [a for a in m.actors if a.name != "daemonset"])
    s = m_off.settle(m_off.step(s, SetImage("DaemonSet", NS, "ds", "agent:2"))).state
    (v,) = inv.violations(s)
    assert "no ControllerRevision for its current template" in v.message


# ---- daemonset-no-ineligible-node ------------------------------------------------------------


def test_no_ineligible_node_holds_with_selectors_taints_and_relabels() -> None:
    inv = invariant("daemonset-no-ineligible-node")
    m = Model()
    nodes = [node("n1", labels={"disk": "ssd"}), node("n2", labels={"disk": "hdd"}), node("n3", labels={"disk": "ssd"})]
    trace, s = run(
        m,
        nodes,
        daemonset(spec={"nodeSelector": {"disk": "ssd"}}),
        TaintNode("n3", "dedicated", "NoSchedule"),
        LabelNode("n2", FrozenDict({"disk": "ssd"})),
        SetImage("DaemonSet", NS, "ds", "agent:2"),
    )
    # n1 and n2 run the new revision; the update deleted n3's old pod and its NoSchedule
    # taint (not tolerated) keeps a new one off it (maxSurge 0 treats it as a candidate)
    assert synced(trace) > 5 and sorted(p.spec.node_name for p in s.pods() if p.active) == ["n1", "n2"]
    assert violations(inv, trace) == []


def test_no_ineligible_node_catches_a_controller_ignoring_node_selector() -> None:
    inv = invariant("daemonset-no-ineligible-node")
    m = Model().with_actor(IgnoresNodeSelector())
    trace, _ = run(m, [node("n1", labels={"disk": "ssd"}), node("n2", labels={"disk": "hdd"})], daemonset(spec={"nodeSelector": {"disk": "ssd"}}))
    found = violations(inv, trace)
    assert found and all("on node n2, where it should not run" in v.message for v in found)


def test_no_ineligible_node_catches_the_1_28_surge_bug() -> None:
    """kubernetes#118823: in v1.28.0 a surging update creates a pod for a node whose taint the
    new template no longer tolerates; from 1.29 (PR #119317) it does not."""
    inv = invariant("daemonset-no-ineligible-node")
    ds = daemonset(strategy=rolling(max_unavailable=0, max_surge=1), spec={"tolerations": [{"key": "dedicated", "operator": "Exists"}]})
    nodes = [node("n1"), node("n2", taints=[{"key": "dedicated", "effect": "NoSchedule"}])]
    untolerating = replace(ds, spec=replace(ds.spec, template=replace(ds.spec.template, spec=replace(ds.spec.template.spec, tolerations=()))))
    found = {}
    for version in ("1.28", "1.29"):
        trace, _ = run(Model(ModelConfig(kubernetes_version=version)), nodes, ds, Apply((untolerating,)))
        found[version] = violations(inv, trace)
    assert found["1.28"] and "on node n2" in found["1.28"][0].message
    assert found["1.29"] == []


# ---- daemonset-surge-bound ------------------------------------------------------------------------


def test_surge_bound_holds_for_surging_and_non_surging_rollouts() -> None:
    inv = invariant("daemonset-surge-bound")
    for strategy in (rolling(max_unavailable=0, max_surge=2), rolling(max_unavailable="50%")):
        m = Model()
        trace, _ = run(m, [node(f"n{i}") for i in range(4)], daemonset(strategy=strategy), SetImage("DaemonSet", NS, "ds", "agent:2"))
        two = [nxt for _, _, nxt in trace if any(len([p for p in nxt.pods() if p.active and _target(p) == f"n{i}"]) == 2 for i in range(4))]
        surging = strategy["rollingUpdate"].get("maxSurge") == 2
        assert bool(two) == surging, "only the surging rollout reaches two pods on a node"
        assert violations(inv, trace) == []


def test_surge_bound_catches_double_creation() -> None:
    inv = invariant("daemonset-surge-bound")
    m = Model().with_actor(DoubleCreates())
    s = empty_state()
    s = m.step(s, AddNode(node("n1")))
    s = m.step(s, Apply((daemonset(),)))
    trace = []
    for _ in range(2):
        nxt = m.step(s, Reconcile("daemonset", NS, "ds"))
        trace.append((s, Reconcile("daemonset", NS, "ds"), nxt))
        s = nxt
    (v,) = violations(inv, trace)
    assert "node n1 has 2 active pods" in v.message and "(at most 1)" in v.message


# ---- daemonset-not-taint-evicted -------------------------------------------------------------


def test_not_taint_evicted_holds_on_a_failed_node() -> None:
    inv = invariant("daemonset-not-taint-evicted")
    m = Model()
    trace, s = run(m, [node("n1"), node("n2")], daemonset(), Apply((replicaset("web", 2),)), FailNode("n1"), horizon=1000)
    evictions = [a for _, a, _ in trace if isinstance(a, Reconcile) and a.controller == "taint-eviction"]
    assert evictions, "the taint manager evicted the ReplicaSet's pod from n1"
    assert inv.subjects(s) == 2
    assert violations(inv, trace) == []


def test_not_taint_evicted_catches_a_controller_forgetting_the_tolerations() -> None:
    inv = invariant("daemonset-not-taint-evicted")
    m = Model().with_actor(ForgetsTolerations())
    trace, _ = run(m, [node("n1"), node("n2")], daemonset(), FailNode("n1"), horizon=1000)
    found = violations(inv, trace)
    assert found and "evicted from n1 for its node.kubernetes.io/unreachable NoExecute taint" in found[0].message


def test_not_taint_evicted_exempts_a_template_with_its_own_time_limited_toleration() -> None:
    """An Equal-operator toleration is not replaced by the controller's Exists one, so its
    tolerationSeconds applies (upstream evicts such pods too)."""
    inv = invariant("daemonset-not-taint-evicted")
    tol = {"key": "node.kubernetes.io/unreachable", "operator": "Equal", "value": "", "effect": "NoExecute", "tolerationSeconds": 30}
    trace, s = run(Model(), [node("n1"), node("n2")], daemonset(spec={"tolerations": [tol]}), FailNode("n1"), horizon=200)
    evicted = [a for _, a, _ in trace if isinstance(a, Reconcile) and a.controller == "taint-eviction"]
    assert evicted and violations(inv, trace) == []


# ---- daemonset-rolling-unavailability ---------------------------------------------------------


def _broken_updates(model: Model) -> list[Step]:
    """Issue #123232: three nodes, maxUnavailable 1, two updates whose pods never fit."""
    ds = daemonset(strategy=rolling(max_unavailable=1))
    updates = []
    for cpu in (2000, 3000):
        c = ds.spec.template.spec.containers[0]
        c = replace(c, resources=replace(c.resources, requests=FrozenDict({"cpu": cpu})))
        updates.append(Apply((replace(ds, spec=replace(ds.spec, template=replace(ds.spec.template, spec=replace(ds.spec.template.spec, containers=(c,))))),)))
    trace, _ = run(model, [node(f"n{i}", cpu="1") for i in range(3)], ds, *updates)
    return trace


def test_rolling_unavailability_holds() -> None:
    inv = invariant("daemonset-rolling-unavailability")
    trace, _ = run(Model(), [node(f"n{i}") for i in range(5)], daemonset(strategy=rolling(max_unavailable=2)), SetImage("DaemonSet", NS, "ds", "agent:2"))
    assert synced(trace) >= 6
    assert violations(inv, trace) == []
    assert violations(inv, _broken_updates(Model())) == []


def test_rolling_unavailability_catches_a_controller_ignoring_max_unavailable() -> None:
    inv = invariant("daemonset-rolling-unavailability")
    m = Model().with_actor(IgnoresMaxUnavailable())
    trace, _ = run(m, [node(f"n{i}") for i in range(3)], daemonset(strategy=rolling(max_unavailable=1)), SetImage("DaemonSet", NS, "ds", "agent:2"))
    (v,) = violations(inv, trace)
    assert "leaving 3 nodes without an available pod" in v.message and "maxUnavailable 1" in v.message


def test_rolling_unavailability_catches_the_pre_1_31_controller() -> None:
    """kubernetes#123232: before PR #123233 (1.31) an unavailable old pod replaced by the
    update did not count, so a second broken update took another node down."""
    inv = invariant("daemonset-rolling-unavailability")
    (v,) = violations(inv, _broken_updates(Model(ModelConfig(kubernetes_version="1.30"))))
    assert "leaving 2 nodes without an available pod" in v.message
