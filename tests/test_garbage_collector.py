"""The garbage collector end to end (Model().settle), against a real v1.28 recording and
against the rules of spec §11 (cycles, blockOwnerDeletion, multiple owners,
cross-namespace and cluster-scoped references)."""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import pytest
import yaml

from kmodel import apiserver
from kmodel.actions import Action, AddNode, Apply, DeleteObject, Patch
from kmodel.controllers.garbagecollector import GarbageCollector, classify_reference
from kmodel.frozen import freeze
from kmodel.model import Model, default_actors
from kmodel.objects.meta import FINALIZER_FOREGROUND, FINALIZER_ORPHAN
from kmodel.objects.serde import decode_object
from kmodel.state import ClusterState, empty_state

SAMPLES = Path("/work/shared/samples/kubectl-watch/gc-propagation-v1.28")
NS = "s8-gc"

Role = tuple[str, str]


# ---- building states ------------------------------------------------------------------------


def decode(doc: dict[str, Any]) -> Any:
    obj, _ = decode_object(doc)
    return obj


def node(name: str) -> Any:
    return decode({"apiVersion": "v1", "kind": "Node", "metadata": {"name": name}, "status": {"allocatable": {"cpu": "4", "memory": "8Gi", "pods": "110"}}})


def with_nodes(model: Model, count: int = 4) -> ClusterState:
    state = empty_state()
    for i in range(1, count + 1):
        state = model.step(state, AddNode(node(f"node-{i}")))
    return state


def configmap(name: str, ns: str = "default", owners: Iterable[Any] = (), block: bool | None = None, finalizers: Iterable[str] = ()) -> Any:
    """A ConfigMap owned by `owners` (objects already in the state, so their uids are known)."""
    refs = [owner_ref(o, block) for o in owners]
    meta: dict[str, Any] = {"name": name, "ownerReferences": refs, "finalizers": list(finalizers)}
    if ns:
        meta["namespace"] = ns
    return decode({"apiVersion": "v1", "kind": "ConfigMap", "metadata": meta, "data": {"k": name}})


def namespace_obj(name: str, owners: Iterable[Any] = ()) -> Any:
    """A cluster-scoped object (a Namespace) with ownerReferences."""
    return decode({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": name, "ownerReferences": [owner_ref(o) for o in owners]}})


def owner_ref(owner: Any, block: bool | None = None) -> dict[str, Any]:
    ref: dict[str, Any] = {"apiVersion": owner.api_version, "kind": owner.kind, "name": owner.metadata.name, "uid": owner.metadata.uid}
    if block is not None:
        ref["blockOwnerDeletion"] = block
    return ref


def apply(model: Model, state: ClusterState, *objs: Any) -> ClusterState:
    return model.step(state, Apply(tuple(objs)))


def live(state: ClusterState, kind: str, name: str, ns: str = "default") -> Any:
    return state.get(kind, ns, name)


def settled(model: Model, state: ClusterState) -> ClusterState:
    result = model.settle(state)
    assert result.quiescent, result.reason
    return result.state


@dataclass
class Trace:
    """Every state of a run (user steps and the settle that follows)."""

    states: list[ClusterState] = field(default_factory=list)
    actions: list[Action] = field(default_factory=list)

    @property
    def last(self) -> ClusterState:
        return self.states[-1]


def run(model: Model, state: ClusterState, *user: Action) -> Trace:
    """Take the user actions, settle, and replay the settle to record each state."""
    trace = Trace([state])
    for a in user:
        trace.actions.append(a)
        trace.states.append(model.step(trace.last, a))
    result = model.settle(trace.last)
    assert result.quiescent, result.reason
    for a in result.actions:
        trace.actions.append(a)
        trace.states.append(model.step(trace.last, a))
    assert trace.last == result.state
    return trace


# ---- the recording ------------------------------------------------------------------------------


def role_of(kind: str, name: str, labels: dict[str, str]) -> Role:
    """What an object is in the scenario: pods and ReplicaSets by their app label (their
    names are generated), Deployments and ConfigMaps by name."""
    if kind in ("Pod", "ReplicaSet"):
        return (kind, labels.get("app", name))
    return (kind, name)


@dataclass(frozen=True)
class Summary:
    """An object as far as garbage collection is concerned."""

    owners: tuple[Role, ...]
    finalizers: tuple[str, ...]
    deleting: bool


@dataclass
class PhaseFacts:
    """What happened during one phase, and what was there at its end."""

    snapshot: dict[Role, list[Summary]]
    started: list[Role]  # roles in the order their objects started deletion (or went at once)
    removed: list[Role]  # roles in the order their objects disappeared
    finalizers: dict[Role, set[str]]
    grace: dict[Role, set[int]]  # positive deletionGracePeriodSeconds seen


# The recording's namespace holds the CA bundle every namespace gets; the model has no such controller.
NOT_MODELLED = {("ConfigMap", "kube-root-ca.crt")}
WATCHED = ("Deployment", "ReplicaSet", "Pod", "ConfigMap")


class Recording:
    """The kubectl watch streams of the v1.28 GC recording, merged by resourceVersion."""

    def __init__(self, folder: Path) -> None:
        events: list[tuple[int, str, dict[str, Any]]] = []
        for f in ("deployments", "replicasets", "pods", "configmaps"):
            for line in (folder / f"{f}.jsonl").read_text().splitlines():
                e = json.loads(line)
                events.append((int(e["object"]["metadata"]["resourceVersion"]), e["type"], e["object"]))
        events.sort(key=lambda e: e[0])
        self.events = [e for e in events if self.role(e[2]) not in NOT_MODELLED]
        self.roles = {e[2]["metadata"]["uid"]: self.role(e[2]) for e in self.events}

    @staticmethod
    def role(obj: dict[str, Any]) -> Role:
        m = obj["metadata"]
        return role_of(obj["kind"], m["name"], m.get("labels", {}))

    def summary(self, obj: dict[str, Any]) -> Summary:
        m = obj["metadata"]
        owners = tuple(sorted(self.roles.get(r["uid"], (r["kind"], r["name"])) for r in m.get("ownerReferences", [])))
        return Summary(owners, tuple(sorted(m.get("finalizers", []))), "deletionTimestamp" in m)

    def marker(self, what: str, role: Role) -> int:
        """Index of the first event where an object of `role` is ADDED, or starts DELETING."""
        for i, (_, typ, obj) in enumerate(self.events):
            if self.role(obj) != role:
                continue
            if what == "ADDED" and typ == "ADDED":
                return i
            if what == "DELETING" and (typ == "DELETED" or "deletionTimestamp" in obj["metadata"]):
                return i
        raise AssertionError(f"the recording has no {what} event for {role}")

    def facts(self, start: int, end: int) -> PhaseFacts:
        """What the events [start, end) show, and the objects that exist at `end`."""
        current: dict[str, dict[str, Any]] = {}
        for _, typ, obj in self.events[:end]:
            uid = obj["metadata"]["uid"]
            if typ == "DELETED":
                current.pop(uid, None)
            else:
                current[uid] = obj
        snap: dict[Role, list[Summary]] = {}
        for obj in current.values():
            snap.setdefault(self.role(obj), []).append(self.summary(obj))
        facts = PhaseFacts({k: sorted(v, key=repr) for k, v in snap.items()}, [], [], {}, {})
        started: set[str] = set()
        for _, typ, obj in self.events[start:end]:
            m, role = obj["metadata"], self.role(obj)
            if (typ == "DELETED" or "deletionTimestamp" in m) and m["uid"] not in started:
                started.add(m["uid"])
                facts.started.append(role)
            if typ == "DELETED":
                facts.removed.append(role)
            facts.finalizers.setdefault(role, set()).update(m.get("finalizers", []))
            if m.get("deletionGracePeriodSeconds"):
                facts.grace.setdefault(role, set()).add(m["deletionGracePeriodSeconds"])
        return facts


def model_objects(state: ClusterState) -> Iterable[Any]:
    for kind in WATCHED:
        yield from state.list(kind, NS)


def model_facts(trace: Trace, roles: dict[str, Role]) -> PhaseFacts:
    """The same facts, read from a model trace."""

    def role(o: Any) -> Role:
        return role_of(o.kind, o.metadata.name, dict(o.metadata.labels))

    def summary(o: Any) -> Summary:
        owners = tuple(sorted(roles.get(r.uid, (r.kind, r.name)) for r in o.metadata.owner_references))
        return Summary(owners, tuple(sorted(o.metadata.finalizers)), o.metadata.deletion_timestamp is not None)

    snap: dict[Role, list[Summary]] = {}
    for o in model_objects(trace.last):
        snap.setdefault(role(o), []).append(summary(o))
    facts = PhaseFacts({k: sorted(v, key=repr) for k, v in snap.items()}, [], [], {}, {})
    started: set[str] = set()
    for prev, nxt in zip(trace.states, trace.states[1:]):
        now = {o.metadata.uid: o for o in model_objects(nxt)}
        for o in model_objects(prev):
            after = now.get(o.metadata.uid)
            if (after is None or after.metadata.deletion_timestamp is not None) and o.metadata.uid not in started:
                started.add(o.metadata.uid)
                facts.started.append(role(o))
            if after is None:
                facts.removed.append(role(o))
        for o in now.values():
            facts.finalizers.setdefault(role(o), set()).update(o.metadata.finalizers)
            if o.metadata.deletion_grace_period_seconds:
                facts.grace.setdefault(role(o), set()).add(o.metadata.deletion_grace_period_seconds)
    return facts


def uid_roles(trace: Trace, into: dict[str, Role]) -> None:
    for s in trace.states:
        for o in model_objects(s):
            into[o.metadata.uid] = role_of(o.kind, o.metadata.name, dict(o.metadata.labels))


# ---- the scenario, phase by phase -------------------------------------------------------------


def load_yaml(name: str) -> list[dict[str, Any]]:
    return [d for d in yaml.safe_load_all((SAMPLES / name).read_text()) if d]


def hand_built_replicaset(deployment: Any) -> Any:
    """The ReplicaSet a Deployment controller would create: same selector and template,
    a controller reference with blockOwnerDeletion (deployment/sync.go getNewReplicaSet)."""
    spec = deployment.spec
    return decode(
        {
            "apiVersion": "apps/v1",
            "kind": "ReplicaSet",
            "metadata": {
                "name": f"{deployment.metadata.name}-5d4c7b9f8",
                "namespace": deployment.metadata.namespace,
                "labels": dict(spec.template.metadata.labels),
                "ownerReferences": [{**owner_ref(deployment, True), "controller": True}],
            },
            "spec": {
                "replicas": spec.replicas,
                "selector": {"matchLabels": dict(spec.selector.match_labels)},
                "template": {
                    "metadata": {"labels": dict(spec.template.metadata.labels)},
                    "spec": {
                        "terminationGracePeriodSeconds": spec.template.spec.termination_grace_period_seconds,
                        "containers": [{"name": c.name, "image": c.image} for c in spec.template.spec.containers],
                    },
                },
            },
        }
    )


def create_deployments(model: Model, state: ClusterState, hand_built: bool) -> Trace:
    deployments = [decode(d) for d in load_yaml("deps.yaml")]
    trace = run(model, state, Apply(tuple(deployments)))
    if hand_built:
        rss = [hand_built_replicaset(trace.last.get_ref(d.ref)) for d in deployments]
        more = run(model, trace.last, Apply(tuple(rss)))
        trace = Trace(trace.states + more.states[1:], trace.actions + more.actions)
    return trace


def create_owned_configmaps(model: Model, state: ClusterState) -> Trace:
    owners = [configmap("owner-a", NS), configmap("owner-b", NS)]
    first = run(model, state, Apply(tuple(owners)))
    # dep.yaml names the owners by the uids they had in the recording; use the model's.
    (doc,) = load_yaml("dep.yaml")
    for ref in doc["metadata"]["ownerReferences"]:
        ref["uid"] = first.last.get("ConfigMap", NS, ref["name"]).metadata.uid
    second = run(model, first.last, Apply((decode(doc),)))
    return Trace(first.states + second.states[1:], first.actions + second.actions)


def delete(kind: str, name: str, policy: str | None = None) -> Callable[[Model, ClusterState], Trace]:
    return lambda model, state: run(model, state, DeleteObject(kind, NS, name, propagation=policy))


def create_dangling(model: Model, state: ClusterState) -> Trace:
    return run(model, state, Apply(tuple(decode(d) for d in load_yaml("dangling.yaml"))))


def delete_orphaned_replicasets(model: Model, state: ClusterState) -> Trace:
    """kubectl delete rs -l app=orphan (kubectl's default cascade is background)."""
    doomed = [rs for rs in state.list("ReplicaSet", NS) if rs.metadata.labels.get("app") == "orphan"]
    assert doomed
    return run(model, state, *(DeleteObject("ReplicaSet", NS, rs.metadata.name, propagation="Background") for rs in doomed))


# (recording marker that starts the phase, what the model does)
PHASES: list[tuple[tuple[str, Role], Callable[..., Trace]]] = [
    (("ADDED", ("Deployment", "fg")), create_deployments),
    (("DELETING", ("Deployment", "fg")), delete("Deployment", "fg", "Foreground")),
    (("DELETING", ("Deployment", "bg")), delete("Deployment", "bg", "Background")),
    (("DELETING", ("Deployment", "orphan")), delete("Deployment", "orphan", "Orphan")),
    (("ADDED", ("ConfigMap", "owner-a")), create_owned_configmaps),
    (("DELETING", ("ConfigMap", "owner-a")), delete("ConfigMap", "owner-a")),
    (("DELETING", ("ConfigMap", "owner-b")), delete("ConfigMap", "owner-b")),
    (("ADDED", ("ConfigMap", "dangling")), create_dangling),
    (("DELETING", ("ReplicaSet", "orphan")), delete_orphaned_replicasets),
]


def without_deployment_controller() -> Model:
    return Model(actors=[a for a in default_actors() if a.name != "deployment"])


def replay_recording(model: Model, hand_built: bool) -> None:
    rec = Recording(SAMPLES)
    bounds = [rec.marker(*m) for m, _ in PHASES] + [len(rec.events)]
    assert bounds == sorted(bounds), "phases out of order in the recording"
    state = with_nodes(model)
    roles: dict[str, Role] = {}
    for i, (marker, step) in enumerate(PHASES):
        trace = step(model, state, hand_built) if step is create_deployments else step(model, state)
        uid_roles(trace, roles)
        want = rec.facts(bounds[i], bounds[i + 1])
        got = model_facts(trace, roles)
        where = f"phase {i + 1} ({marker[0]} {marker[1]})"
        assert got.snapshot == want.snapshot, where
        assert got.removed == want.removed, where
        assert got.started == want.started, where
        for role, fins in want.finalizers.items():
            assert got.finalizers.get(role, set()) == fins, (where, role)
        assert got.grace == want.grace, where
        state = trace.last


def test_recording_phases_are_found() -> None:
    """The recording holds every phase the README describes, in order (guards the markers)."""
    rec = Recording(SAMPLES)
    bounds = [rec.marker(*m) for m, _ in PHASES]
    assert bounds == sorted(bounds) and len(set(bounds)) == len(bounds)


def test_recording_v128_with_hand_built_replicasets() -> None:
    """Foreground, background and orphan deletion of Deployments, a ConfigMap with two
    owners, a dangling owner uid and deleting an orphaned ReplicaSet: after each phase
    the same objects exist with the same owners and finalizers as in the recording,
    objects started deleting and disappeared in the same order (foreground: pods, then
    the ReplicaSet, then the Deployment), the same finalizers were used and pods got the
    same grace period."""
    replay_recording(without_deployment_controller(), hand_built=True)


def test_recording_v128_with_the_deployment_controller() -> None:
    pytest.importorskip("kmodel.controllers.deployment")
    replay_recording(Model(), hand_built=False)


# ---- rules of §11 -----------------------------------------------------------------------------


def cms(model: Model, *names: str, ns: str = "default") -> tuple[ClusterState, list[Any]]:
    state = apply(model, empty_state(), *(configmap(n, ns) for n in names))
    return state, [state.get("ConfigMap", ns, n) for n in names]


def test_background_collects_dependents_of_any_kind() -> None:
    model = Model()
    state, (owner,) = cms(model, "owner")
    state = apply(model, state, configmap("dep", owners=[owner]))
    assert live(settled(model, state), "ConfigMap", "dep") is not None  # a live owner keeps it
    state = settled(model, model.step(state, DeleteObject("ConfigMap", "default", "owner")))
    assert live(state, "ConfigMap", "dep") is None


def test_orphan_removes_the_reference_and_keeps_the_dependent() -> None:
    model = Model()
    state, (owner, other) = cms(model, "owner", "other")
    state = apply(model, state, configmap("dep", owners=[owner, other]))
    state = settled(model, model.step(state, DeleteObject("ConfigMap", "default", "owner", propagation="Orphan")))
    dep = live(state, "ConfigMap", "dep")
    assert live(state, "ConfigMap", "owner") is None
    assert [r.uid for r in dep.metadata.owner_references] == [other.metadata.uid]


def test_orphan_is_the_default_for_replication_controllers() -> None:
    model = Model()
    state = with_nodes(model, 1)
    rc = decode(
        {
            "apiVersion": "v1",
            "kind": "ReplicationController",
            "metadata": {"name": "rc", "namespace": "default"},
            "spec": {
                "replicas": 2,
                "selector": {"app": "rc"},
                "template": {"metadata": {"labels": {"app": "rc"}}, "spec": {"containers": [{"name": "c", "image": "nginx"}]}},
            },
        }
    )
    state = settled(model, apply(model, state, rc))
    pods = state.pods("default")
    assert len(pods) == 2 and all(p.metadata.owner_references for p in pods)
    state = settled(model, model.step(state, DeleteObject("ReplicationController", "default", "rc")))
    assert live(state, "ReplicationController", "rc") is None
    assert [p.metadata.uid for p in state.pods("default")] == [p.metadata.uid for p in pods]
    assert all(not p.metadata.owner_references and p.metadata.deletion_timestamp is None for p in state.pods("default"))


def test_multiple_owners_all_must_go() -> None:
    """AND semantics: a dependent stays while any owner is alive, its dangling reference removed."""
    model = Model()
    state, (a, b) = cms(model, "a", "b")
    state = apply(model, state, configmap("dep", owners=[a, b]))
    state = settled(model, model.step(state, DeleteObject("ConfigMap", "default", "a")))
    dep = live(state, "ConfigMap", "dep")
    assert dep is not None and [r.name for r in dep.metadata.owner_references] == ["b"]
    state = settled(model, model.step(state, DeleteObject("ConfigMap", "default", "b")))
    assert live(state, "ConfigMap", "dep") is None


def test_valid_owner_and_owner_waiting_for_dependents() -> None:
    """Conformance: dependents with a valid owner and an owner in foreground deletion are
    kept; the reference to the deleting owner is removed so it is not blocked."""
    model = Model()
    state, (valid, waiting) = cms(model, "valid", "waiting")
    state = apply(model, state, configmap("dep", owners=[valid, waiting], block=True))
    state = settled(model, model.step(state, DeleteObject("ConfigMap", "default", "waiting", propagation="Foreground")))
    assert live(state, "ConfigMap", "waiting") is None
    dep = live(state, "ConfigMap", "dep")
    assert dep is not None and [r.name for r in dep.metadata.owner_references] == ["valid"]


def test_block_owner_deletion_holds_a_foreground_owner() -> None:
    """The owner stays (deletion in progress) while a blocking dependent exists; a
    non-blocking dependent does not hold it."""
    model = Model()
    state, (owner,) = cms(model, "owner")
    state = apply(
        model,
        state,
        configmap("blocking", owners=[owner], block=True, finalizers=["example.com/hold"]),
        configmap("free", owners=[owner], block=False, finalizers=["example.com/hold"]),
    )
    state = settled(model, model.step(state, DeleteObject("ConfigMap", "default", "owner", propagation="Foreground")))
    held = live(state, "ConfigMap", "owner")
    assert held is not None and held.metadata.finalizers == (FINALIZER_FOREGROUND,)
    for name in ("blocking", "free"):  # both were deleted, both wait for their own finalizer
        assert live(state, "ConfigMap", name).metadata.deletion_timestamp is not None
    # releasing the non-blocking one changes nothing for the owner
    state = settled(model, model.step(state, Patch("ConfigMap", "default", "free", freeze({"metadata": {"finalizers": None}}))))
    assert live(state, "ConfigMap", "free") is None and live(state, "ConfigMap", "owner") is not None
    # releasing the blocking one lets the owner go
    state = settled(model, model.step(state, Patch("ConfigMap", "default", "blocking", freeze({"metadata": {"finalizers": None}}))))
    assert live(state, "ConfigMap", "blocking") is None and live(state, "ConfigMap", "owner") is None


def test_foreground_cascades_through_a_chain_in_order() -> None:
    """a ← b ← c, all blocking: c goes first, then b, then a."""
    model = Model()
    state, (a,) = cms(model, "a")
    state = apply(model, state, configmap("b", owners=[a], block=True))
    state = apply(model, state, configmap("c", owners=[live(state, "ConfigMap", "b")], block=True))
    trace = run(model, state, DeleteObject("ConfigMap", "default", "a", propagation="Foreground"))
    gone: list[str] = []
    for prev, nxt in zip(trace.states, trace.states[1:]):
        gone += [o.metadata.name for o in prev.list("ConfigMap") if nxt.get_ref(o.ref) is None]
    assert gone == ["c", "b", "a"]
    # b was deleted in foreground because it had a dependent of its own
    seen_b = [s.get("ConfigMap", "default", "b") for s in trace.states]
    assert any(b is not None and FINALIZER_FOREGROUND in b.metadata.finalizers for b in seen_b)


@pytest.mark.parametrize("size", [2, 3])
def test_dependency_cycles_do_not_block_foreground_deletion(size: int) -> None:
    """Conformance "should not be blocked by dependency circle": each object owns the
    next, blocking; deleting one in foreground removes them all."""
    model = Model()
    names = [f"c{i}" for i in range(size)]
    state, objs = cms(model, *names)
    for i in range(size):
        owner = live(state, "ConfigMap", names[(i + 1) % size])
        state = apply(model, state, replace(objs[i], metadata=replace(objs[i].metadata, owner_references=(decode_owner(owner, True),))))
    assert all(live(settled(model, state), "ConfigMap", n) is not None for n in names)  # a live cycle is kept
    trace = run(model, state, DeleteObject("ConfigMap", "default", names[0], propagation="Foreground"))
    assert all(live(trace.last, "ConfigMap", n) is None for n in names)
    # the cycle was broken by unblocking references, not by ignoring blockOwnerDeletion
    unblocked = [
        o.metadata.name
        for s in trace.states
        for o in s.list("ConfigMap")
        if o.metadata.owner_references and not o.metadata.owner_references[0].block_owner_deletion
    ]
    assert unblocked


def decode_owner(owner: Any, block: bool) -> Any:
    return configmap("tmp", owners=[owner], block=block).metadata.owner_references[0]


def test_a_cycle_without_the_unblocking_patch_deadlocks() -> None:
    """The unblocking step is what breaks a cycle (so the test above is not vacuous)."""

    class NoUnblock(GarbageCollector):
        def attempt_to_delete(self, state: ClusterState, item: Any) -> list[Any]:
            reqs = super().attempt_to_delete(state, item)
            deleting = any(isinstance(r, apiserver.Delete) for r in reqs)
            return [r for r in reqs if not (deleting and isinstance(r, apiserver.Update))]

    model = Model().with_actor(NoUnblock())
    state, (a, b) = cms(model, "a", "b")
    state = apply(model, state, replace(a, metadata=replace(a.metadata, owner_references=(decode_owner(b, True),))))
    state = apply(model, state, replace(b, metadata=replace(b.metadata, owner_references=(decode_owner(live(state, "ConfigMap", "a"), True),))))
    state = settled(model, model.step(state, DeleteObject("ConfigMap", "default", "a", propagation="Foreground")))
    assert live(state, "ConfigMap", "a") is not None and live(state, "ConfigMap", "b") is not None


def test_cross_namespace_reference_is_treated_as_absent() -> None:
    """An owner in another namespace is not found from the dependent's namespace: the
    dependent is collected though the owner lives; it does not reach into the owner's
    namespace, and next to a valid owner the invalid reference is removed."""
    model = Model()
    state = apply(model, empty_state(), configmap("owner", "ns2"), configmap("local", "ns1"))
    owner, local = live(state, "ConfigMap", "owner", "ns2"), live(state, "ConfigMap", "local", "ns1")
    state = apply(
        model,
        state,
        configmap("bad", "ns1", owners=[owner]),
        configmap("mixed", "ns1", owners=[owner, local]),
        configmap("good", "ns2", owners=[owner]),
    )
    assert classify_reference(state, live(state, "ConfigMap", "bad", "ns1"), live(state, "ConfigMap", "bad", "ns1").metadata.owner_references[0]) == "dangling"
    state = settled(model, state)
    assert live(state, "ConfigMap", "bad", "ns1") is None
    mixed = live(state, "ConfigMap", "mixed", "ns1")
    assert [r.uid for r in mixed.metadata.owner_references] == [local.metadata.uid]
    assert live(state, "ConfigMap", "owner", "ns2") is not None
    assert live(state, "ConfigMap", "good", "ns2") is not None


def test_a_name_matching_owner_with_another_uid_is_dangling() -> None:
    model = Model()
    state, (owner,) = cms(model, "owner")
    impostor = replace(owner, metadata=replace(owner.metadata, uid="00000000-0000-4000-8000-0000000000ff"))
    state = settled(model, apply(model, state, configmap("dep", owners=[impostor])))
    assert live(state, "ConfigMap", "dep") is None and live(state, "ConfigMap", "owner") is not None


def test_cluster_scoped_dependent_of_a_namespaced_owner_is_never_collected() -> None:
    """namespacedOwnerOfClusterScopedObjectErr: the item is left alone for good, even if
    its other references are dangling."""
    model = Model()
    state, (cm,) = cms(model, "cm")
    ghost_ns = namespace_obj("ghost")
    state = apply(model, state, ghost_ns)
    ghost_ns = state.get("Namespace", "", "ghost")
    state = apply(model, state, namespace_obj("weird", owners=[cm, ghost_ns]))
    state = settled(model, model.step(state, DeleteObject("ConfigMap", "default", "cm")))
    state = settled(model, model.step(state, DeleteObject("Namespace", "", "ghost")))
    assert state.get("Namespace", "", "weird") is not None


def test_cluster_scoped_owners_are_valid_from_anywhere() -> None:
    model = Model()
    state = apply(model, empty_state(), namespace_obj("root"))
    root = state.get("Namespace", "", "root")
    state = apply(model, state, namespace_obj("child", owners=[root]), configmap("cm", "anywhere", owners=[root]))
    state = settled(model, state)
    assert state.get("Namespace", "", "child") is not None and live(state, "ConfigMap", "cm", "anywhere") is not None
    state = settled(model, model.step(state, DeleteObject("Namespace", "", "root")))
    assert state.get("Namespace", "", "child") is None and live(state, "ConfigMap", "cm", "anywhere") is None


def test_unknown_owner_kinds_keep_the_dependent() -> None:
    """A reference the REST mapper cannot resolve is an error retried forever upstream."""
    model = Model()
    doc = {
        "apiVersion": "v1",
        "kind": "ConfigMap",
        "metadata": {"name": "dep", "namespace": "default", "ownerReferences": [{"apiVersion": "example.com/v1", "kind": "Widget", "name": "w", "uid": "u-1"}]},
    }
    state = settled(model, apply(model, empty_state(), decode(doc)))
    assert live(state, "ConfigMap", "dep") is not None


def test_events_are_not_collected() -> None:
    """graph_builder.go ignoredResources: Events are not watched, so never collected."""
    model = Model()
    state, (owner,) = cms(model, "owner")
    ev = decode({"apiVersion": "v1", "kind": "Event", "metadata": {"name": "ev", "namespace": "default", "ownerReferences": [owner_ref(owner)]}})
    state = apply(model, state, ev)
    state = settled(model, model.step(state, DeleteObject("ConfigMap", "default", "owner")))
    assert live(state, "Event", "ev") is not None


def test_an_object_with_its_own_orphan_finalizer_is_deleted_with_orphan() -> None:
    """attemptToDeleteItem default case: the policy comes from the item's own finalizers."""
    model = Model()
    state, (owner,) = cms(model, "owner")
    state = apply(model, state, configmap("mid", owners=[owner], finalizers=[FINALIZER_ORPHAN]))
    state = apply(model, state, configmap("leaf", owners=[live(state, "ConfigMap", "mid")]))
    state = settled(model, model.step(state, DeleteObject("ConfigMap", "default", "owner")))
    assert live(state, "ConfigMap", "mid") is None
    leaf = live(state, "ConfigMap", "leaf")
    assert leaf is not None and leaf.metadata.owner_references == ()


def test_orphan_finalizer_waits_for_nothing_else() -> None:
    """attemptToOrphan removes only `orphan`; other finalizers keep the owner."""
    model = Model()
    state, (owner,) = cms(model, "owner")
    state = apply(model, state, replace(owner, metadata=replace(owner.metadata, finalizers=("example.com/x",))))
    state = apply(model, state, configmap("dep", owners=[owner]))
    state = settled(model, model.step(state, DeleteObject("ConfigMap", "default", "owner", propagation="Orphan")))
    held = live(state, "ConfigMap", "owner")
    assert held.metadata.finalizers == ("example.com/x",)
    assert live(state, "ConfigMap", "dep").metadata.owner_references == ()


def test_foreground_deletion_of_pods_waits_for_termination() -> None:
    """Pods deleted by the GC terminate gracefully; the ReplicaSet in foreground deletion
    stays until the last pod object is gone."""
    model = Model()
    state = with_nodes(model, 2)
    rs = decode(
        {
            "apiVersion": "apps/v1",
            "kind": "ReplicaSet",
            "metadata": {"name": "web", "namespace": "default"},
            "spec": {
                "replicas": 3,
                "selector": {"matchLabels": {"app": "web"}},
                "template": {
                    "metadata": {"labels": {"app": "web"}},
                    "spec": {"terminationGracePeriodSeconds": 7, "containers": [{"name": "c", "image": "nginx"}]},
                },
            },
        }
    )
    state = settled(model, apply(model, state, rs))
    assert len(state.pods("default")) == 3
    trace = run(model, state, DeleteObject("ReplicaSet", "default", "web", propagation="Foreground"))
    for s in trace.states[1:]:
        if s.pods("default"):
            held = s.get("ReplicaSet", "default", "web")
            assert held is not None and FINALIZER_FOREGROUND in held.metadata.finalizers
    graces = Counter(p.metadata.deletion_grace_period_seconds for s in trace.states for p in s.pods("default") if p.metadata.deletion_timestamp)
    assert set(graces) == {7}
    assert trace.last.get("ReplicaSet", "default", "web") is None and not trace.last.pods("default")
