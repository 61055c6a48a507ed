"""The ReplicaSet and ReplicationController controllers end to end (Model().settle), and
an exhaustive exploration of asynchronous delivery showing what expectations prevent.

Rules: pkg/controller/replicaset/replica_set.go (syncReplicaSet, manageReplicas,
getIndirectlyRelatedPods), replica_set_utils.go calculateStatus, pkg/api/v1/pod/util.go
IsPodAvailable; spec §5.
"""

from __future__ import annotations

from collections import deque
from dataclasses import replace
from typing import Any

import pytest

from invariants.registry import select
from kmodel import apiserver
from kmodel.actions import AddNode, Apply, DeleteObject, ExitContainer, Patch, Reconcile, Scale
from kmodel.config import ModelConfig
from kmodel.controllers.nodelifecycle import NodeLifecycleController
from kmodel.controllers.podgc import PodGCController
from kmodel.controllers.replicaset import ReplicaSetController, ReplicationControllerController, related_pods
from kmodel.controllers.tainteviction import TaintEvictionController
from kmodel.kubelet import Kubelet
from kmodel.model import Model, Scope
from kmodel.objects.pod import Pod, is_pod_available
from kmodel.objects.serde import decode_object
from kmodel.scheduler import Scheduler
from kmodel.state import ClusterState, empty_state


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


def node(name: str, cpu: str = "4", pods: int = 110) -> Any:
    return decode(
        {
            "apiVersion": "v1",
            "kind": "Node",
            "metadata": {"name": name, "labels": {"kubernetes.io/hostname": name}},
            "status": {"allocatable": {"cpu": cpu, "memory": "8Gi", "pods": str(pods)}},
        }
    )


def template(app: str, cpu: str = "100m") -> dict[str, Any]:
    return {"metadata": {"labels": {"app": app}}, "spec": {"containers": [{"name": "c", "image": "nginx", "resources": {"requests": {"cpu": cpu}}}]}}


def replicaset(name: str, replicas: int, *, cpu: str = "100m", min_ready: int = 0, owners: list[dict[str, Any]] | None = None) -> Any:
    meta: dict[str, Any] = {"name": name, "namespace": "default"}
    if owners:
        meta["ownerReferences"] = owners
    return decode(
        {
            "apiVersion": "apps/v1",
            "kind": "ReplicaSet",
            "metadata": meta,
            "spec": {"replicas": replicas, "minReadySeconds": min_ready, "selector": {"matchLabels": {"app": name}}, "template": template(name, cpu)},
        }
    )


def start(model: Model, nodes: list[Any], objects: list[Any]) -> ClusterState:
    s = empty_state()
    for n in nodes:
        s = model.step(s, AddNode(n))
    return model.step(s, Apply(tuple(objects)))


def settle(model: Model, s: ClusterState, **kw: Any) -> ClusterState:
    r = model.settle(s, **kw)
    assert r.quiescent or "horizon" in kw, r.reason
    return r.state


def owned(s: ClusterState, kind: str, name: str) -> list[Pod]:
    owner = s.get(kind, "default", name)
    return s.controlled_by(owner.metadata.uid, "Pod")


def active(s: ClusterState, kind: str, name: str) -> list[Pod]:
    return [p for p in owned(s, kind, name) if p.active]


def quiescent_violations(s: ClusterState) -> list[Any]:
    (inv,) = select(["replicaset-replicas"])
    return inv.violations(s)


# ---- scaling --------------------------------------------------------------------------------


def test_scale_up_and_down() -> None:
    m = Model(actors=actors())
    s = settle(m, start(m, [node("n1"), node("n2")], [replicaset("web", 3)]))
    pods = active(s, "ReplicaSet", "web")
    assert len(pods) == 3 and all(p.status.phase == "Running" and p.ready for p in pods)
    assert {p.spec.node_name for p in pods} == {"n1", "n2"}  # spread by the scheduler
    assert all(p.metadata.generate_name == "web-" for p in pods)
    s = settle(m, m.step(s, Scale("ReplicaSet", "default", "web", 5)))
    assert len(active(s, "ReplicaSet", "web")) == 5
    s = settle(m, m.step(s, Scale("ReplicaSet", "default", "web", 1)))
    assert len(active(s, "ReplicaSet", "web")) == 1
    assert s.count("Pod") == 1  # the deleted pods terminated and are gone
    st = s.get("ReplicaSet", "default", "web").status
    assert (st.replicas, st.ready_replicas, st.available_replicas) == (1, 1, 1)
    assert quiescent_violations(s) == []


def test_scale_down_deletes_the_unscheduled_pod_first() -> None:
    # 3 pods fit on n1 (1 cpu) and 1 on n2 (400m): the fifth stays unscheduled
    m = Model(actors=actors())
    s = settle(m, start(m, [node("n1", cpu="1"), node("n2", cpu="400m")], [replicaset("web", 5, cpu="300m")]))
    unscheduled = [p.metadata.name for p in active(s, "ReplicaSet", "web") if not p.spec.node_name]
    assert len(unscheduled) == 1
    s = settle(m, m.step(s, Scale("ReplicaSet", "default", "web", 4)))
    left = active(s, "ReplicaSet", "web")
    assert len(left) == 4 and all(p.spec.node_name for p in left)
    assert unscheduled[0] not in {p.metadata.name for p in left}


def _bound_but_not_started(n_pods: int) -> tuple[Model, ClusterState]:
    """Pods bound by the scheduler whose kubelet has not synced them yet."""
    m = Model(actors=actors())
    only_binding = Model(actors=[Scheduler(), ReplicaSetController()])
    s = settle(only_binding, start(m, [node("n1"), node("n2")], [replicaset("web", n_pods)]))
    assert all(p.spec.node_name and p.status.phase == "Pending" for p in active(s, "ReplicaSet", "web"))
    return m, s


def kubelet_steps(m: Model, s: ClusterState, pod: Pod, n: int) -> ClusterState:
    for _ in range(n):
        nxt = m.step(s, Reconcile("kubelet", pod.metadata.namespace, pod.metadata.name))
        assert nxt is not s
        s = nxt
    return s


@pytest.mark.parametrize(
    "victim_steps,expect_phase,expect_ready",
    [
        (0, "Pending", False),  # scheduled, kubelet not yet reported: Pending
        (1, "Pending", False),  # Initialized, containers being created
        (2, "Running", False),  # running, not ready yet
    ],
)
def test_scale_down_prefers_pending_then_not_ready(victim_steps: int, expect_phase: str, expect_ready: bool) -> None:
    m, s = _bound_but_not_started(3)
    pods = active(s, "ReplicaSet", "web")
    victim, others = pods[0], pods[1:]
    for p in others:
        s = kubelet_steps(m, s, p, 3)  # Initialized → Running → Ready
    s = kubelet_steps(m, s, victim, victim_steps)
    v = s.get("Pod", "default", victim.metadata.name)
    assert (v.status.phase, v.ready) == (expect_phase, expect_ready)
    assert all(s.get("Pod", "default", p.metadata.name).ready for p in others)
    s = m.step(s, Scale("ReplicaSet", "default", "web", 2))
    s = m.step(s, Reconcile("replicaset", "default", "web"))
    deleting = [p.metadata.name for p in owned(s, "ReplicaSet", "web") if p.metadata.deletion_timestamp is not None]
    assert deleting == [victim.metadata.name]


def test_scale_down_deletes_the_pod_whose_container_just_crashed() -> None:
    m = Model(actors=actors())
    s = settle(m, start(m, [node("n1"), node("n2")], [replicaset("web", 3)]))
    crashed = active(s, "ReplicaSet", "web")[1]
    s = m.step(s, ExitContainer("default", crashed.metadata.name, "c", 1))
    assert not s.get("Pod", "default", crashed.metadata.name).ready
    s = m.step(s, Scale("ReplicaSet", "default", "web", 2))
    s = m.step(s, Reconcile("replicaset", "default", "web"))
    deleting = [p.metadata.name for p in owned(s, "ReplicaSet", "web") if p.metadata.deletion_timestamp is not None]
    assert deleting == [crashed.metadata.name]


def test_scale_down_deletes_from_the_doubled_up_node() -> None:
    # Co-location ranks come from the pods of every ReplicaSet sharing this one's
    # controller (getIndirectlyRelatedPods), so the set needs a controller: a ConfigMap here.
    m = Model(actors=actors())
    s = start(m, [node("n1"), node("n2")], [decode({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "owner", "namespace": "default"}})])
    cm = s.get("ConfigMap", "default", "owner")
    ref = {"apiVersion": "v1", "kind": "ConfigMap", "name": "owner", "uid": cm.metadata.uid, "controller": True}
    s = settle(m, m.step(s, Apply((replicaset("web", 3, owners=[ref]),))))
    per_node: dict[str, int] = {}
    for p in active(s, "ReplicaSet", "web"):
        per_node[p.spec.node_name] = per_node.get(p.spec.node_name, 0) + 1
    crowded = max(per_node, key=lambda n: per_node[n])
    assert sorted(per_node.values()) == [1, 2]
    rs = s.get("ReplicaSet", "default", "web")
    assert len(related_pods(s, rs)) == 3
    s = settle(m, m.step(s, Scale("ReplicaSet", "default", "web", 2)))
    after: dict[str, int] = {}
    for p in active(s, "ReplicaSet", "web"):
        after[p.spec.node_name] = after.get(p.spec.node_name, 0) + 1
    assert after == {n: 1 for n in per_node}, f"deleted from the wrong node (crowded: {crowded})"


def test_standalone_replicaset_has_no_related_pods() -> None:
    # getReplicaSetsWithSameController returns nil without a controllerRef: all ranks 0
    m = Model(actors=actors())
    s = settle(m, start(m, [node("n1"), node("n2")], [replicaset("web", 3)]))
    assert related_pods(s, s.get("ReplicaSet", "default", "web")) == []


# ---- adoption and release ----------------------------------------------------------------------


def orphan_pod(name: str, app: str) -> Any:
    meta = {"name": name, "namespace": "default", "labels": {"app": app}}
    return decode({"apiVersion": "v1", "kind": "Pod", "metadata": meta, "spec": template(app)["spec"]})


def test_adopts_matching_orphans_and_releases_relabelled_pods() -> None:
    m = Model(actors=actors())
    s = settle(m, start(m, [node("n1")], [orphan_pod("stray", "web"), orphan_pod("bystander", "api")]))
    s = settle(m, m.step(s, Apply((replicaset("web", 2),))))
    rs = s.get("ReplicaSet", "default", "web")
    stray = s.get("Pod", "default", "stray")
    assert stray.metadata.controller_ref() is not None and stray.metadata.controller_ref().uid == rs.metadata.uid
    assert s.get("Pod", "default", "bystander").metadata.owner_references == ()
    assert len(active(s, "ReplicaSet", "web")) == 2 and s.count("Pod") == 3  # adopted one, created one
    # relabel the adopted pod: it is released (ownerReference removed) and replaced
    s = settle(m, m.step(s, Patch("Pod", "default", "stray", {"metadata": {"labels": {"app": "other"}}})))
    assert s.get("Pod", "default", "stray").metadata.owner_references == ()
    assert s.get("Pod", "default", "stray").active
    assert len(active(s, "ReplicaSet", "web")) == 2 and s.count("Pod") == 4
    assert quiescent_violations(s) == []


def test_no_adoption_while_the_replicaset_is_being_deleted() -> None:
    m = Model(actors=actors())
    rs = replicaset("web", 1)
    rs = replace(rs, metadata=replace(rs.metadata, finalizers=("example.com/hold",)))
    s = settle(m, start(m, [node("n1")], [rs]))
    s = m.step(s, DeleteObject("ReplicaSet", "default", "web", propagation="Orphan"))
    assert s.get("ReplicaSet", "default", "web").metadata.deletion_timestamp is not None
    s = settle(m, m.step(s, Apply((orphan_pod("late", "web"),))))
    assert s.get("Pod", "default", "late").metadata.owner_references == ()


# ---- ReplicationController --------------------------------------------------------------------


def test_replication_controller_with_equality_selector() -> None:
    m = Model(actors=actors())
    rc = decode(
        {
            "apiVersion": "v1",
            "kind": "ReplicationController",
            "metadata": {"name": "legacy", "namespace": "default"},
            "spec": {
                "replicas": 2,
                "selector": {"app": "legacy", "tier": "be"},
                "template": {**template("legacy"), "metadata": {"labels": {"app": "legacy", "tier": "be"}}},
            },
        }
    )
    half = orphan_pod("half", "legacy")  # matches app but not tier: not selected
    s = settle(m, start(m, [node("n1")], [half, rc]))
    pods = active(s, "ReplicationController", "legacy")
    assert len(pods) == 2
    assert all(p.metadata.controller_ref().kind == "ReplicationController" for p in pods)
    assert s.get("Pod", "default", "half").metadata.owner_references == ()
    assert s.get("ReplicationController", "default", "legacy").status.ready_replicas == 2
    s = settle(m, m.step(s, Scale("ReplicationController", "default", "legacy", 0)))
    assert active(s, "ReplicationController", "legacy") == []
    assert quiescent_violations(s) == []


def test_replication_controller_selector_defaults_to_template_labels() -> None:
    # core/v1 defaults: an RC without a selector selects its template labels
    m = Model(actors=actors())
    meta = {"name": "legacy", "namespace": "default"}
    rc = decode({"apiVersion": "v1", "kind": "ReplicationController", "metadata": meta, "spec": {"replicas": 1, "template": template("legacy")}})
    s = settle(m, start(m, [node("n1")], [rc]))
    assert dict(s.get("ReplicationController", "default", "legacy").spec.selector) == {"app": "legacy"}
    assert len(active(s, "ReplicationController", "legacy")) == 1


# ---- status ---------------------------------------------------------------------------------------


def test_status_counts_and_min_ready_seconds() -> None:
    m = Model(actors=actors())
    s = start(m, [node("n1")], [replicaset("web", 3, min_ready=10)])
    r = m.settle(s)
    s = r.state
    pods = active(s, "ReplicaSet", "web")
    ready_at = max(p.status.conditions[[c.type for c in p.status.conditions].index("Ready")].last_transition_time for p in pods)
    # IsPodAvailable: lastTransitionTime + minReadySeconds < now, strictly; the deadline
    # makes settle advance the clock to the first second that holds
    assert s.clock == ready_at + 10 + 1
    st = s.get("ReplicaSet", "default", "web").status
    assert (st.replicas, st.fully_labeled_replicas, st.ready_replicas, st.available_replicas) == (3, 3, 3, 3)
    assert st.observed_generation == s.get("ReplicaSet", "default", "web").metadata.generation
    # stopping one second short: ready but not yet available
    early = m.settle(start(m, [node("n1")], [replicaset("web", 3, min_ready=10)]), horizon=ready_at + 10)
    st = early.state.get("ReplicaSet", "default", "web").status
    assert not early.quiescent
    assert (st.ready_replicas, st.available_replicas) == (3, 0)
    assert not any(is_pod_available(p, 10, early.state.clock) for p in active(early.state, "ReplicaSet", "web"))


def test_fully_labeled_replicas_counts_template_labels() -> None:
    m = Model(actors=actors())
    rs = replicaset("web", 2)
    tpl = rs.spec.template
    rs = replace(rs, spec=replace(rs.spec, template=replace(tpl, metadata=replace(tpl.metadata, labels=tpl.metadata.labels | {"extra": "x"}))))
    s = settle(m, start(m, [node("n1")], [orphan_pod("plain", "web"), rs]))
    st = s.get("ReplicaSet", "default", "web").status
    # the adopted orphan matches the selector but lacks the template's extra label
    assert (st.replicas, st.fully_labeled_replicas) == (2, 1)


def test_failed_pods_are_replaced_and_kept() -> None:
    m = Model(actors=actors())
    s = settle(m, start(m, [node("n1")], [replicaset("web", 2)]))
    victim = active(s, "ReplicaSet", "web")[0]
    # the kubelet evicts the pod under node pressure: phase Failed, reason Evicted (a
    # hand-built status write standing in for the eviction manager)
    tx = s.edit()
    evicted = replace(victim, status=replace(victim.status, phase="Failed", reason="Evicted", message="The node was low on resource: memory."))
    assert apiserver.apply(tx, apiserver.Update(evicted, status=True), m.config).ok
    s = settle(m, tx.commit())
    pods = owned(s, "ReplicaSet", "web")
    assert len([p for p in pods if p.active]) == 2
    assert s.get("Pod", "default", victim.metadata.name).status.phase == "Failed"  # stays until PodGC's threshold
    assert s.get("ReplicaSet", "default", "web").status.replicas == 2
    assert quiescent_violations(s) == []


# ---- asynchronous delivery: what expectations prevent ---------------------------------------------


class NoExpectationsReplicaSetController(ReplicaSetController):
    """Deliberately broken: manages replicas without waiting for its own writes."""

    check_expectations = False


def explore(model: Model, start_state: ClusterState, max_depth: int) -> tuple[int, int, bool]:
    """Breadth-first search of every interleaving: (states, most active pods of `web`, exhausted)."""
    seen = {start_state: 0}
    queue = deque([start_state])
    most = 0
    cut = False
    while queue:
        s = queue.popleft()
        rs = s.get("ReplicaSet", "default", "web")
        most = max(most, sum(1 for p in s.controlled_by(rs.metadata.uid, "Pod") if p.active))
        if not s.inflight and not model.system_successors(s):
            assert quiescent_violations(s) == []
        if seen[s] >= max_depth:
            cut = cut or bool(model.successors(s))
            continue
        for _, nxt in model.successors(s):
            if nxt not in seen:
                seen[nxt] = seen[s] + 1
                queue.append(nxt)
    return len(seen), most, not cut


@pytest.mark.parametrize("replicas", [1, 2])
def test_async_without_expectations_over_creates_but_with_them_never(replicas: int) -> None:
    cfg = ModelConfig(delivery="async")
    scope = Scope(time=False)
    initial = Model(cfg, actors=[ReplicaSetController()]).step(empty_state(), Apply((replicaset("web", replicas),)))

    good = Model(cfg, actors=[ReplicaSetController()], scope=scope)
    states, most, exhausted = explore(good, initial, max_depth=40)
    assert exhausted and states > 3
    assert most == replicas  # in no interleaving does the correct controller over-create

    broken = Model(cfg, actors=[NoExpectationsReplicaSetController()], scope=scope)
    # sync, sync again before the creates land, then deliver both syncs' creates and the status write
    _, most, _ = explore(broken, initial, max_depth=2 * replicas + 3)
    assert most > replicas
