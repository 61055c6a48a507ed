"""The garbage-collector invariants hold on correct runs and catch broken collectors."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import Any

import pytest

import invariants.gc  # noqa: F401  (registers the invariants)
from invariants.registry import REGISTRY, Kind, Violation
from kmodel import apiserver
from kmodel.actions import Action, AddNode, Apply, DeleteObject
from kmodel.controllers.garbagecollector import GarbageCollector
from kmodel.model import Model
from kmodel.objects.meta import FINALIZER_FOREGROUND, FINALIZER_ORPHAN
from kmodel.objects.serde import decode_object
from kmodel.state import ClusterState, empty_state

GC_INVARIANTS = ("gc-completeness", "gc-no-live-owner-deletion", "gc-orphan-before-removal")


def decode(doc: dict[str, Any]) -> Any:
    obj, _ = decode_object(doc)
    return obj


def ref(owner: Any, block: bool | None = None) -> dict[str, Any]:
    r: dict[str, Any] = {"apiVersion": owner.api_version, "kind": owner.kind, "name": owner.metadata.name, "uid": owner.metadata.uid}
    if block is not None:
        r["blockOwnerDeletion"] = block
    return r


def cm(name: str, ns: str = "default", owners: tuple[Any, ...] = (), block: bool | None = None, finalizers: tuple[str, ...] = ()) -> Any:
    meta: dict[str, Any] = {"name": name, "namespace": ns, "ownerReferences": [ref(o, block) for o in owners], "finalizers": list(finalizers)}
    return decode({"apiVersion": "v1", "kind": "ConfigMap", "metadata": meta})


def rs_owned_by(owner: Any, replicas: int = 2) -> Any:
    """A ReplicaSet whose controller is `owner` (any kind can own)."""
    return decode(
        {
            "apiVersion": "apps/v1",
            "kind": "ReplicaSet",
            "metadata": {"name": "web", "namespace": "default", "ownerReferences": [{**ref(owner, True), "controller": True}]},
            "spec": {
                "replicas": replicas,
                "selector": {"matchLabels": {"app": "web"}},
                "template": {
                    "metadata": {"labels": {"app": "web"}},
                    "spec": {"terminationGracePeriodSeconds": 3, "containers": [{"name": "c", "image": "nginx"}]},
                },
            },
        }
    )


def node(name: str) -> Any:
    return decode({"apiVersion": "v1", "kind": "Node", "metadata": {"name": name}, "status": {"allocatable": {"cpu": "4", "memory": "8Gi", "pods": "110"}}})


def add(model: Model, state: ClusterState, *objs: Any) -> ClusterState:
    return model.step(state, Apply(tuple(objs)))


def get(state: ClusterState, name: str, ns: str = "default") -> Any:
    return state.get("ConfigMap", ns, name)


@dataclass
class Checked:
    """Violations found along a run, and how much the invariants had to look at."""

    violations: list[Violation]
    gc_steps: int
    subjects: dict[str, int]
    final: ClusterState

    def of(self, name: str) -> list[Violation]:
        return [v for v in self.violations if v.invariant == name]


def checked_run(model: Model, state: ClusterState, *user: Action) -> Checked:
    """Take the user actions and settle; check the TRANSITION invariants on every step and
    the QUIESCENT ones at the fixpoint."""
    invs = [REGISTRY[n] for n in GC_INVARIANTS]
    subjects = {i.name: i.subjects(state) for i in invs}
    found: list[Violation] = []
    gc_steps = 0

    def step(prev: ClusterState, action: Action, nxt: ClusterState) -> None:
        nonlocal gc_steps
        gc_steps += invariants.gc.by_gc(action)
        for inv in invs:
            if inv.kind is Kind.TRANSITION:
                found.extend(inv.violations(prev, action, nxt))

    for a in user:
        nxt = model.step(state, a)
        step(state, a, nxt)
        state = nxt
    result = model.settle(state)
    assert result.quiescent, result.reason
    for a in result.actions:
        nxt = model.step(state, a)
        step(state, a, nxt)
        state = nxt
    for inv in invs:
        if inv.kind is Kind.QUIESCENT:
            found.extend(inv.violations(state))
    return Checked(found, gc_steps, subjects, state)


# ---- scenarios ---------------------------------------------------------------------------------


Scenario = Callable[[Model], tuple[ClusterState, tuple[Action, ...]]]


def owner_with_replicaset(policy: str) -> Scenario:
    """A ConfigMap owning a ReplicaSet with two running pods, deleted with `policy`."""

    def build(model: Model) -> tuple[ClusterState, tuple[Action, ...]]:
        state = model.step(empty_state(), AddNode(node("n1")))
        state = add(model, state, cm("owner"))
        state = model.settle(add(model, state, rs_owned_by(get(state, "owner")))).state
        assert len(state.pods("default")) == 2
        return state, (DeleteObject("ConfigMap", "default", "owner", propagation=policy),)

    return build


def two_owners(model: Model) -> tuple[ClusterState, tuple[Action, ...]]:
    state = add(model, empty_state(), cm("a"), cm("b"))
    state = add(model, state, cm("dep", owners=(get(state, "a"), get(state, "b")), block=True))
    return state, (DeleteObject("ConfigMap", "default", "a"),)


def two_owners_one_foreground(model: Model) -> tuple[ClusterState, tuple[Action, ...]]:
    state, _ = two_owners(model)
    return state, (DeleteObject("ConfigMap", "default", "a", propagation="Foreground"),)


def orphan_two_dependents(model: Model) -> tuple[ClusterState, tuple[Action, ...]]:
    state = add(model, empty_state(), cm("owner"))
    state = add(model, state, cm("d1", owners=(get(state, "owner"),)), cm("d2", owners=(get(state, "owner"),)))
    return state, (DeleteObject("ConfigMap", "default", "owner", propagation="Orphan"),)


def cycle(model: Model) -> tuple[ClusterState, tuple[Action, ...]]:
    state = add(model, empty_state(), cm("a"), cm("b"))
    a, b = get(state, "a"), get(state, "b")
    state = add(model, state, cm("a", owners=(b,), block=True))
    state = add(model, state, cm("b", owners=(a,), block=True))
    return state, (DeleteObject("ConfigMap", "default", "a", propagation="Foreground"),)


def odd_references(model: Model) -> tuple[ClusterState, tuple[Action, ...]]:
    """A cross-namespace reference, a uid no object has, and a cluster-scoped dependent of
    a namespaced owner (never collected: exempt from completeness)."""
    state = add(model, empty_state(), cm("owner", "ns2"), cm("local", "ns1"))
    owner, local = get(state, "owner", "ns2"), get(state, "local", "ns1")
    ghost = {"apiVersion": "v1", "kind": "ConfigMap", "name": "ghost", "uid": "00000000-0000-4000-8000-000000000042"}
    weird = decode({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "weird", "ownerReferences": [ref(local)]}})
    dangling = decode({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "dangling", "namespace": "ns1", "ownerReferences": [ghost]}})
    state = add(model, state, cm("bad", "ns1", owners=(owner,)), cm("mixed", "ns1", owners=(owner, local)), dangling, weird)
    return state, (DeleteObject("ConfigMap", "ns1", "local"),)


def legitimately_blocked(model: Model) -> tuple[ClusterState, tuple[Action, ...]]:
    """A foreground owner held by a blocking dependent that waits for someone else's finalizer."""
    state = add(model, empty_state(), cm("owner"))
    state = add(model, state, cm("held", owners=(get(state, "owner"),), block=True, finalizers=("example.com/hold",)))
    return state, (DeleteObject("ConfigMap", "default", "owner", propagation="Foreground"),)


SCENARIOS: dict[str, Scenario] = {
    "foreground": owner_with_replicaset("Foreground"),
    "background": owner_with_replicaset("Background"),
    "orphan": owner_with_replicaset("Orphan"),
    "two-owners": two_owners,
    "two-owners-one-foreground": two_owners_one_foreground,
    "orphan-two-dependents": orphan_two_dependents,
    "cycle": cycle,
    "odd-references": odd_references,
    "legitimately-blocked": legitimately_blocked,
}


# ---- the invariants hold on correct runs ------------------------------------------------------


@pytest.mark.parametrize("scenario", sorted(SCENARIOS))
def test_gc_invariants_hold_on_correct_runs(scenario: str) -> None:
    model = Model()
    state, user = SCENARIOS[scenario](model)
    run = checked_run(model, state, *user)
    assert run.violations == []
    assert run.gc_steps > 0  # the transition invariants saw the collector act
    assert run.subjects["gc-completeness"] > 0 and run.subjects["gc-no-live-owner-deletion"] > 0


def test_legitimately_blocked_owner_is_still_there() -> None:
    """The exemption in gc-completeness is exercised, not vacuous: the owner is still held."""
    model = Model()
    state, user = legitimately_blocked(model)
    run = checked_run(model, state, *user)
    owner = get(run.final, "owner")
    assert owner is not None and FINALIZER_FOREGROUND in owner.metadata.finalizers
    assert run.of("gc-completeness") == []


def test_orphan_subjects_count_owners_in_orphan_deletion() -> None:
    model = Model()
    state, user = orphan_two_dependents(model)
    marked = model.step(state, user[0])
    assert REGISTRY["gc-orphan-before-removal"].subjects(marked) == 1
    assert REGISTRY["gc-orphan-before-removal"].subjects(state) == 0


# ---- broken collectors ------------------------------------------------------------------------


class Reckless(GarbageCollector):
    """Deletes an object as soon as one of its owners is gone, ignoring live owners."""

    def attempt_to_delete(self, state: ClusterState, item: Any) -> list[apiserver.Request]:
        reqs = super().attempt_to_delete(state, item)
        if any(isinstance(r, apiserver.Update) for r in reqs):  # a live owner: the real GC only patches
            return [apiserver.Delete(item.ref, uid=item.metadata.uid, propagation="Background")]
        return reqs


class NeverReleasesOrphan(GarbageCollector):
    """Orphans the dependents but never removes the `orphan` finalizer."""

    def orphan(self, state: ClusterState, owner: Any) -> list[apiserver.Request]:
        return [r for r in super().orphan(state, owner) if not (isinstance(r, apiserver.Update) and r.obj.ref == owner.ref)]


class HastyOrphan(GarbageCollector):
    """Removes the `orphan` finalizer without touching the dependents."""

    def orphan(self, state: ClusterState, owner: Any) -> list[apiserver.Request]:
        return [r for r in super().orphan(state, owner) if isinstance(r, apiserver.Update) and r.obj.ref == owner.ref]


class Lazy(GarbageCollector):
    """Never deletes anything whose owners are gone (it still patches references)."""

    def attempt_to_delete(self, state: ClusterState, item: Any) -> list[apiserver.Request]:
        return [r for r in super().attempt_to_delete(state, item) if not isinstance(r, apiserver.Delete)]


class KeepsForeground(GarbageCollector):
    """Never removes the `foregroundDeletion` finalizer."""

    def deleting_dependents(self, state: ClusterState, owner: Any) -> list[apiserver.Request]:
        return []


def test_no_live_owner_deletion_catches_a_reckless_collector() -> None:
    model = Model().with_actor(Reckless())
    state, user = two_owners(model)
    run = checked_run(model, state, *user)
    found = run.of("gc-no-live-owner-deletion")
    assert found and all("ConfigMap default/dep" in v.objects for v in found)
    assert "ConfigMap default/b" in found[0].objects  # the live owner is named
    assert get(run.final, "dep") is None


def test_no_live_owner_deletion_holds_on_the_same_scenario_with_the_real_collector() -> None:
    model = Model()
    state, user = two_owners(model)
    run = checked_run(model, state, *user)
    assert run.of("gc-no-live-owner-deletion") == []
    assert get(run.final, "dep") is not None


def test_completeness_catches_a_stuck_orphan_finalizer() -> None:
    model = Model().with_actor(NeverReleasesOrphan())
    state, user = orphan_two_dependents(model)
    run = checked_run(model, state, *user)
    found = run.of("gc-completeness")
    assert [v.objects[0] for v in found] == ["ConfigMap default/owner"]
    assert "orphan finalizer" in found[0].message
    assert FINALIZER_ORPHAN in get(run.final, "owner").metadata.finalizers


def test_completeness_names_dependents_still_referencing_an_orphaning_owner() -> None:
    class DoesNothingOnOrphan(GarbageCollector):
        def orphan(self, state: ClusterState, owner: Any) -> list[apiserver.Request]:
            return []

    model = Model().with_actor(DoesNothingOnOrphan())
    state, user = orphan_two_dependents(model)
    run = checked_run(model, state, *user)
    (v,) = run.of("gc-completeness")
    assert set(v.objects) == {"ConfigMap default/owner", "ConfigMap default/d1", "ConfigMap default/d2"}


def test_completeness_catches_leftover_dependents() -> None:
    model = Model().with_actor(Lazy())
    state, user = owner_with_replicaset("Background")(model)
    run = checked_run(model, state, *user)
    found = run.of("gc-completeness")
    assert [v.objects for v in found] == [("ReplicaSet default/web",)]
    assert "left behind" in found[0].message


def test_completeness_catches_a_stuck_foreground_owner() -> None:
    model = Model().with_actor(KeepsForeground())
    state, user = owner_with_replicaset("Foreground")(model)
    run = checked_run(model, state, *user)
    found = run.of("gc-completeness")
    # The ReplicaSet (nothing blocks it any more) is the one to blame; its owner, blocked
    # by a dependent that is itself being deleted, is not reported twice.
    assert [v.objects for v in found] == [("ReplicaSet default/web",)]
    assert "stuck in foreground deletion (no dependent blocks it)" in found[0].message
    assert FINALIZER_FOREGROUND in get(run.final, "owner").metadata.finalizers


def test_completeness_catches_a_stale_reference_next_to_a_live_owner() -> None:
    class NoPatch(GarbageCollector):
        def attempt_to_delete(self, state: ClusterState, item: Any) -> list[apiserver.Request]:
            return [r for r in super().attempt_to_delete(state, item) if not isinstance(r, apiserver.Update)]

    model = Model().with_actor(NoPatch())
    state, user = two_owners(model)
    run = checked_run(model, state, *user)
    (v,) = run.of("gc-completeness")
    assert v.objects == ("ConfigMap default/dep",) and "next to a live one" in v.message


def test_orphan_before_removal_catches_a_hasty_collector() -> None:
    model = Model().with_actor(HastyOrphan())
    state, user = orphan_two_dependents(model)
    run = checked_run(model, state, *user)
    (v,) = run.of("gc-orphan-before-removal")
    assert set(v.objects) == {"ConfigMap default/owner", "ConfigMap default/d1", "ConfigMap default/d2"}
    # and the dependents, orphaned in name only, were then collected
    assert get(run.final, "d1") is None and get(run.final, "d2") is None


def test_orphan_before_removal_holds_with_the_real_collector() -> None:
    model = Model()
    state, user = orphan_two_dependents(model)
    run = checked_run(model, state, *user)
    assert run.of("gc-orphan-before-removal") == []
    assert get(run.final, "d1").metadata.owner_references == ()


def test_transition_invariants_ignore_steps_of_other_actors() -> None:
    """A user deleting a dependent with a live owner is not the collector's doing."""
    model = Model()
    state, _ = two_owners(model)
    nxt = model.step(state, DeleteObject("ConfigMap", "default", "dep"))
    assert get(nxt, "dep") is None
    assert REGISTRY["gc-no-live-owner-deletion"].violations(state, DeleteObject("ConfigMap", "default", "dep"), nxt) == []


def test_delivery_of_a_gc_request_counts_as_a_gc_step() -> None:
    """With async delivery the deletion happens when the API server applies the request."""
    from kmodel.actions import Deliver
    from kmodel.config import ModelConfig

    model = Model(ModelConfig(delivery="async")).with_actor(Reckless())
    state, user = two_owners(model)
    run = checked_run(model, state, *user)
    assert run.of("gc-no-live-owner-deletion")
    deliver = Deliver("garbagecollector")
    assert invariants.gc.by_gc(deliver) and not invariants.gc.by_gc(DeleteObject("ConfigMap", "default", "x"))


def test_subjects_count_objects_with_owners() -> None:
    model = Model()
    state, _ = two_owners(model)
    assert REGISTRY["gc-no-live-owner-deletion"].subjects(state) == 1
    marked = replace(get(state, "a"), metadata=replace(get(state, "a").metadata, finalizers=(FINALIZER_ORPHAN,)))
    state = add(model, state, marked)
    assert REGISTRY["gc-completeness"].subjects(state) == 2


def _async_switch_to_orphan(delete_first: bool) -> list[Violation]:
    """A ConfigMap owner and one dependent; the collector's DELETE of the dependent is in
    flight; the owner is being deleted with Orphan when it lands. With `delete_first` the
    owner was already being deleted (in the foreground) when the collector issued it."""
    from kmodel.actions import Deliver
    from kmodel.config import ModelConfig
    from kmodel.controllers.garbagecollector import NAME as GC_NAME
    from kmodel.state import InFlight

    model = Model(ModelConfig(delivery="async"))
    s = model.step(empty_state(), Apply((cm("owner"),)))
    owner = s.get("ConfigMap", "default", "owner")
    s = model.step(s, Apply((cm("dep", owners=(owner,)),)))
    dep = s.get("ConfigMap", "default", "dep")
    tx = s.edit()
    tx.set_clock(10)
    s = tx.commit()
    if delete_first:
        s = model.step(s, DeleteObject("ConfigMap", "default", "owner", propagation="Foreground"))
    tx = s.edit()
    tx.set_inflight((InFlight(GC_NAME, ("default", "dep"), s.clock, apiserver.Delete(dep.ref, uid=dep.metadata.uid), True),))
    tx.set_clock(20)
    s = tx.commit()
    s = model.step(s, DeleteObject("ConfigMap", "default", "owner", propagation="Orphan"))
    assert FINALIZER_ORPHAN in s.get("ConfigMap", "default", "owner").metadata.finalizers
    action = Deliver(GC_NAME)
    nxt = model.step(s, action)
    assert nxt.get("ConfigMap", "default", "dep") is None
    return list(REGISTRY["gc-no-live-owner-deletion"].check(s, action, nxt))


def test_a_delete_decided_during_foreground_deletion_may_land_after_a_switch_to_orphan() -> None:
    assert _async_switch_to_orphan(delete_first=True) == []


def test_a_delete_issued_while_the_owner_was_live_is_still_caught_at_delivery() -> None:
    found = _async_switch_to_orphan(delete_first=False)
    assert [v.invariant for v in found] == ["gc-no-live-owner-deletion"]


def test_orphan_removal_is_judged_by_the_dependents_the_collector_could_see() -> None:
    """A dependent created after the collector issued the finalizer removal (a create in
    flight that lands in between) is not held against it; one that existed is."""
    from kmodel.actions import Deliver
    from kmodel.config import ModelConfig
    from kmodel.controllers.garbagecollector import NAME as GC_NAME
    from kmodel.state import InFlight

    model = Model(ModelConfig(delivery="async"))
    s = model.step(empty_state(), Apply((cm("owner", finalizers=("example.com/hold",)),)))
    s = model.step(s, DeleteObject("ConfigMap", "default", "owner", propagation="Orphan"))
    owner = s.get("ConfigMap", "default", "owner")
    assert FINALIZER_ORPHAN in owner.metadata.finalizers
    removal = apiserver.Update(replace(owner, metadata=replace(owner.metadata, finalizers=("example.com/hold",))), check_rv=False)

    def deliver_after_dependent_appears(issued_before_dependent: bool) -> list[Violation]:
        state = s
        issued_uid = state.next_uid
        if not issued_before_dependent:
            state = model.step(state, Apply((cm("dep", owners=(owner,)),)))
            issued_uid = state.next_uid
        tx = state.edit()
        tx.set_inflight((InFlight(GC_NAME, ("default", "owner"), state.clock, removal, True, issued_uid),))
        state = tx.commit()
        if issued_before_dependent:
            state = model.step(state, Apply((cm("dep", owners=(owner,)),)))  # the create lands in between
        action = Deliver(GC_NAME)
        return list(REGISTRY["gc-orphan-before-removal"].check(state, action, model.step(state, action)))

    assert deliver_after_dependent_appears(issued_before_dependent=True) == []
    assert [v.invariant for v in deliver_after_dependent_appears(issued_before_dependent=False)] == ["gc-orphan-before-removal"]
