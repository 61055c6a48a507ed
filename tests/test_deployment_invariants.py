"""Each Deployment invariant holds on runs of the reference controller and catches a
deliberately broken controller plugged in with Model().with_actor(...)."""

from __future__ import annotations

import functools
from collections.abc import Sequence
from dataclasses import dataclass, replace
from typing import Any

import pytest

from invariants.deployment import comparable_sets, deployment_of_step
from invariants.registry import REGISTRY, Invariant, Violation
from kmodel.actions import Action, AddNode, Apply, Patch, Reconcile, Scale, SetImage
from kmodel.config import ModelConfig
from kmodel.controllers import deployment_util as du
from kmodel.controllers.deployment import DeploymentController, SyncContext
from kmodel.frozen import freeze
from kmodel.model import Model
from kmodel.objects.serde import decode_object
from kmodel.objects.workloads import ReplicaSet
from kmodel.state import ClusterState, empty_state

NS = "default"


def decode(doc: dict[str, Any]) -> Any:
    obj, _ = decode_object(doc)
    return obj


def node(name: str) -> Any:
    return decode({"apiVersion": "v1", "kind": "Node", "metadata": {"name": name}, "status": {"allocatable": {"cpu": "4", "memory": "8Gi", "pods": "110"}}})


def deployment(replicas: int, strategy: dict[str, Any] | None = None) -> Any:
    return decode(
        {
            "apiVersion": "apps/v1",
            "kind": "Deployment",
            "metadata": {"name": "web", "namespace": NS},
            "spec": {
                "replicas": replicas,
                "selector": {"matchLabels": {"app": "web"}},
                "template": {"metadata": {"labels": {"app": "web"}}, "spec": {"containers": [{"name": "c", "image": "nginx:1"}]}},
                **({"strategy": strategy} if strategy else {}),
            },
        }
    )


Step = tuple[ClusterState, Action, ClusterState]


def steps(model: Model, d: Any, *user: Action) -> list[Step]:
    """Every transition of: nodes added, `d` applied and settled, then each user action settled."""
    state = empty_state()
    for n in ("n1", "n2"):
        state = model.step(state, AddNode(node(n)))
    out: list[Step] = []
    for action in (Apply((d,)), *user):
        nxt = model.step(state, action)
        out.append((state, action, nxt))
        state = nxt
        result = model.settle(state)
        assert result.quiescent, result.reason
        for a in result.actions:
            nxt = model.step(state, a)
            out.append((state, a, nxt))
            state = nxt
    return out


def violations(inv: Invariant, trace: Sequence[Step]) -> list[Violation]:
    return [v for prev, a, nxt in trace for v in inv.violations(prev, a, nxt)]


def invariant(name: str) -> Invariant:
    """A Deployment invariant from the registry (only this module's invariants are loaded)."""
    return REGISTRY[name]


@dataclass
class SyncStep:
    """A deployment-controller sync that resized the Deployment's ReplicaSets."""

    prev: ClusterState
    action: Action
    nxt: ClusterState
    d: Any
    before: list[ReplicaSet]
    after: list[ReplicaSet]

    @property
    def scaling_event(self) -> bool:
        return du.is_scaling_event(self.d, self.before)


def deployment_steps(trace: Sequence[Step]) -> list[SyncStep]:
    """Syncs of the deployment controller that changed Σ spec.replicas or the set of ReplicaSets."""
    out = []
    for prev, a, nxt in trace:
        d = deployment_of_step(prev, a)
        if d is None:
            continue
        before, after = comparable_sets(prev, nxt, d)
        if du.replica_count(before) != du.replica_count(after) or len(before) != len(after):
            out.append(SyncStep(prev, a, nxt, d, before, after))
    return out


ROLLING = {"type": "RollingUpdate", "rollingUpdate": {"maxSurge": 2, "maxUnavailable": 1}}


def rolling_trace(model: Model) -> list[Step]:
    """A 5-replica rolling update (surge 2, unavailable 1) with a scaling event mid-way and another rollout."""
    return steps(
        model,
        deployment(5, ROLLING),
        SetImage("Deployment", NS, "web", "nginx:2"),
        Scale("Deployment", NS, "web", 8),
        SetImage("Deployment", NS, "web", "nginx:3"),
    )


@functools.cache
def reference_trace() -> tuple[Step, ...]:
    """`rolling_trace` of the reference model, computed once (states are immutable)."""
    return tuple(rolling_trace(Model()))


# ---- deployment-surge-bound ---------------------------------------------------------------------


def test_surge_bound_holds_and_is_reached_by_the_reference_controller() -> None:
    trace = reference_trace()
    inv = invariant("deployment-surge-bound")
    assert violations(inv, trace) == []
    # not vacuous: some controller step takes Σ spec.replicas exactly to replicas + maxSurge
    reached = [st for st in deployment_steps(trace) if du.replica_count(st.after) == st.d.spec.replicas + du.max_surge(st.d)]
    assert reached
    assert inv.subjects(trace[-1][2]) == 1


class IgnoresMaxSurge(DeploymentController):
    """Broken: scales the new ReplicaSet straight to spec.replicas."""

    def reconcile_new_replica_set(self, ctx: SyncContext, all_rss: Sequence[ReplicaSet], new_rs: ReplicaSet) -> bool:
        scaled, _ = self.scale_replica_set_and_record_event(ctx, new_rs, ctx.d.spec.replicas)
        return scaled


@pytest.mark.parametrize("delivery", ["atomic", "async"])
def test_surge_bound_catches_a_controller_that_ignores_max_surge(delivery: str) -> None:
    model = Model(ModelConfig(delivery=delivery)).with_actor(IgnoresMaxSurge())
    trace = steps(model, deployment(5, ROLLING), SetImage("Deployment", NS, "web", "nginx:2"))
    found = violations(invariant("deployment-surge-bound"), trace)
    assert found
    assert "Deployment default/web" in found[0].objects and any(o.startswith("ReplicaSet default/web-") for o in found[0].objects)
    assert "above 7" in found[0].message


def test_surge_bound_is_not_applied_to_scaling_events() -> None:
    """Proportional scaling on a scaling event distributes the new size (spec §6.8); the surge
    bound leaves those syncs to it — which still end within the new replicas + maxSurge."""
    trace = reference_trace()
    scaling = [st for st in deployment_steps(trace) if st.scaling_event]
    assert scaling  # the Scale to 8 produced one
    inv = invariant("deployment-surge-bound")
    broken_total = [replace(rs, spec=replace(rs.spec, replicas=rs.spec.replicas + 10)) for rs in scaling[0].after]
    assert inv.violations(scaling[0].prev, scaling[0].action, _with_objects(scaling[0].nxt, *broken_total)) == []
    for st in scaling:
        assert du.replica_count(st.after) <= st.d.spec.replicas + du.max_surge(st.d)


# ---- deployment-unavailability-bound ------------------------------------------------------------


def test_bounds_hold_with_asynchronous_delivery() -> None:
    """With requests in flight, the bounds are checked on each sync's decision."""
    trace = rolling_trace(Model(ModelConfig(delivery="async")))
    assert any(nxt.inflight for _, _, nxt in trace)
    assert violations(invariant("deployment-surge-bound"), trace) == []
    assert violations(invariant("deployment-unavailability-bound"), trace) == []


def test_unavailability_bound_holds_for_the_reference_controller() -> None:
    trace = reference_trace()
    assert violations(invariant("deployment-unavailability-bound"), trace) == []
    # not vacuous: old ReplicaSets were scaled down by the controller outside scaling events
    downs = [st for st in deployment_steps(trace) if not st.scaling_event and du.replica_count(st.after) < du.replica_count(st.before)]
    assert len(downs) >= 2


class ScalesOldToZeroAtOnce(DeploymentController):
    """Broken: drops every old ReplicaSet to 0 as soon as the new one exists."""

    def reconcile_old_replica_sets(self, ctx: SyncContext, all_rss: Sequence[ReplicaSet], old_rss: Sequence[ReplicaSet], new_rs: ReplicaSet) -> bool:
        scaled = False
        for rs in old_rss:
            did, _ = self.scale_replica_set_and_record_event(ctx, rs, 0)
            scaled = scaled or did
        return scaled


def test_unavailability_bound_catches_a_controller_that_scales_old_sets_to_zero() -> None:
    trace = steps(Model().with_actor(ScalesOldToZeroAtOnce()), deployment(5, ROLLING), SetImage("Deployment", NS, "web", "nginx:2"))
    found = violations(invariant("deployment-unavailability-bound"), trace)
    assert found
    assert "Deployment default/web" in found[0].objects and "minAvailable 4" in found[0].message
    # the surge bound is not what catches it
    assert violations(invariant("deployment-surge-bound"), trace) == []


def test_unavailability_bound_allows_removing_unavailable_replicas() -> None:
    """Scaling an old set down to its available replicas loses no availability (cleanupUnhealthyReplicas)."""
    trace = reference_trace()
    st = deployment_steps(trace)[1]
    prev, a = st.prev, st.action
    old = max(st.before, key=lambda rs: rs.spec.replicas)
    unhealthy = replace(old, status=replace(old.status, available_replicas=old.spec.replicas - 2))
    shrunk = replace(unhealthy, spec=replace(unhealthy.spec, replicas=unhealthy.spec.replicas - 2))
    prev2 = _with_objects(prev, unhealthy)
    nxt2 = _with_objects(prev, shrunk)
    assert invariant("deployment-unavailability-bound").violations(prev2, a, nxt2) == []
    too_far = replace(shrunk, spec=replace(shrunk.spec, replicas=0))
    assert invariant("deployment-unavailability-bound").violations(prev2, a, _with_objects(prev, too_far))


def _with_objects(state: ClusterState, *objs: Any) -> ClusterState:
    tx = state.edit()
    for o in objs:
        tx.put(o)
    return tx.commit()


# ---- recreate-no-overlap ------------------------------------------------------------------------


RECREATE = {"type": "Recreate"}


def test_recreate_no_overlap_holds_for_the_reference_controller() -> None:
    trace = steps(Model(), deployment(3, RECREATE), SetImage("Deployment", NS, "web", "nginx:2"), SetImage("Deployment", NS, "web", "nginx:3"))
    inv = invariant("recreate-no-overlap")
    assert violations(inv, trace) == []
    assert inv.subjects(trace[-1][2]) == 1
    # not vacuous: pods of a second and a third ReplicaSet were created after old ones existed
    owners = {ref.uid for _, _, nxt in trace for p in nxt.pods(NS) if (ref := p.metadata.controller_ref()) is not None}
    assert len(owners) == 3


class RecreatesWithoutWaiting(DeploymentController):
    """Broken: creates and scales up the new ReplicaSet in the same sync that scales the old ones down."""

    def rollout_recreate(self, ctx: SyncContext, rs_list: Sequence[ReplicaSet]) -> None:
        new_rs, old_rss = self.get_all_replica_sets_and_sync_revision(ctx, rs_list, create=True)
        assert new_rs is not None
        self.scale_down_old_replica_sets_for_recreate(ctx, du.filter_active(old_rss))
        self.scale_up_new_replica_set_for_recreate(ctx, new_rs)


def test_recreate_no_overlap_catches_a_controller_that_does_not_wait() -> None:
    trace = steps(Model().with_actor(RecreatesWithoutWaiting()), deployment(3, RECREATE), SetImage("Deployment", NS, "web", "nginx:2"))
    found = violations(invariant("recreate-no-overlap"), trace)
    assert found
    assert "Deployment default/web" in found[0].objects and "were not terminal" in found[0].message


def test_recreate_no_overlap_ignores_rolling_updates() -> None:
    """Rolling updates overlap old and new pods by design; the invariant is about Recreate only."""
    trace = reference_trace()
    assert violations(invariant("recreate-no-overlap"), trace) == []
    assert invariant("recreate-no-overlap").subjects(trace[-1][2]) == 0


def test_steps_are_attributed_to_the_deployment_they_sync() -> None:
    trace = reference_trace()
    for prev, a, _ in trace:
        d = deployment_of_step(prev, a)
        if isinstance(a, Reconcile) and a.controller == "deployment":
            assert d is not None and d.metadata.name == a.name
        else:
            assert d is None


def step_until(model: Model, state: ClusterState, action: Action, done: Any, limit: int = 5) -> ClusterState:
    """Take `action` until `done(state)` (each step must change the state)."""
    for _ in range(limit):
        if done(state):
            return state
        nxt = model.step(state, action)
        assert nxt is not state, f"{action.describe()} has nothing to do"
        state = nxt
    assert done(state)
    return state


def test_recreate_no_overlap_finds_upstream_scaling_up_while_paused() -> None:
    """A finding, faithful to upstream: pausing a Recreate Deployment while its old pods are still
    terminating runs `sync` → `scale`, whose "no active ReplicaSet" branch scales the new set
    (here an earlier revision being rolled back to) up to spec.replicas without waiting for the
    old pods (sync.go scale / FindActiveOrLatest is not strategy-aware)."""
    m = Model()
    web = deployment(2, RECREATE)
    trace = steps(m, web, SetImage("Deployment", NS, "web", "nginx:2"))
    state = trace[-1][2]
    rs1, rs2 = du.by_revision(state.list("ReplicaSet"))
    state = m.step(state, SetImage("Deployment", NS, "web", "nginx:1"))  # roll back to rs1's template
    sync = Reconcile("deployment", NS, "web")
    state = step_until(m, state, sync, lambda s: s.get_ref(rs2.ref).spec.replicas == 0)
    state = m.step(state, Reconcile("replicaset", NS, rs2.metadata.name))  # rs2's pods start terminating
    terminating = [p for p in state.pods(NS) if p.metadata.deletion_timestamp is not None and not p.terminal]
    assert len(terminating) == 2
    # unpaused, the reference controller waits for them
    assert m.step(m.step(state, sync), sync).get_ref(rs1.ref).spec.replicas == 0
    state = m.step(state, Patch("Deployment", NS, "web", freeze({"spec": {"paused": True}})))
    paused = m.step(state, Patch("Deployment", NS, "web", freeze({"spec": {"paused": True}})))
    scaling = m.step(paused, sync)
    assert scaling.get_ref(rs1.ref).spec.replicas == 2
    found = invariant("recreate-no-overlap").violations(paused, sync, scaling)
    assert len(found) == 1 and all(str(p.ref) in found[0].objects for p in terminating)


def test_recreate_no_overlap_is_not_about_users_scaling_a_set() -> None:
    """A user who scales an old ReplicaSet of a Recreate Deployment makes its pods overlap
    with the new ones; the controller did not decide it (and scales the set back down)."""
    m = Model()
    trace = steps(m, deployment(2, RECREATE), SetImage("Deployment", NS, "web", "nginx:2"))
    state = trace[-1][2]
    old, new = du.by_revision(state.list("ReplicaSet"))
    assert new.spec.replicas == 2 and old.spec.replicas == 0
    scale = Scale("ReplicaSet", NS, old.metadata.name, 2)
    tail: list[Step] = [(state, scale, m.step(state, scale))]
    state = tail[-1][2]
    creating = Reconcile("replicaset", NS, old.metadata.name)  # the old set's pods start before the controller reacts
    tail.append((state, creating, m.step(state, creating)))
    state = tail[-1][2]
    assert sum(1 for p in state.pods(NS) if (r := p.metadata.controller_ref()) is not None and r.uid == old.metadata.uid) == 2
    for a in m.settle(state).actions:
        tail.append((state, a, m.step(state, a)))
        state = tail[-1][2]
    assert violations(invariant("recreate-no-overlap"), tail) == []
