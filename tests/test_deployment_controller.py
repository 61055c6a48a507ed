"""The Deployment controller end to end (Model().settle) against spec §6, plus sync-level
upstream tables run through the real controller, and a replay of a real cluster's trace."""

from __future__ import annotations

import json
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import pytest

from kmodel import apiserver
from kmodel.actions import Action, AddNode, Apply, Patch, Reconcile, Scale, SetImage
from kmodel.config import ModelConfig
from kmodel.controllers import deployment_util as du
from kmodel.controllers.deployment import DeploymentController
from kmodel.frozen import FrozenDict, freeze
from kmodel.manifests import load_file
from kmodel.model import Model
from kmodel.objects.meta import Condition, ObjectMeta, OwnerReference, find_condition
from kmodel.objects.selectors import LabelSelector
from kmodel.objects.serde import decode_object
from kmodel.objects.workloads import ReplicaSet, ReplicaSetSpec, ReplicaSetStatus
from kmodel.state import ClusterState, empty_state, state_of

NS = "default"
SAMPLE = Path("/work/shared/samples/kubectl-watch/deployment-rollout")


# ---- building and running ---------------------------------------------------------------------


def decode(doc: dict[str, Any], validate: bool = True) -> Any:
    obj, _ = decode_object(doc, validate=validate)
    return obj


def node(name: str) -> Any:
    return decode({"apiVersion": "v1", "kind": "Node", "metadata": {"name": name}, "status": {"allocatable": {"cpu": "4", "memory": "8Gi", "pods": "110"}}})


def deployment(
    replicas: int = 3,
    image: str = "nginx:1",
    *,
    name: str = "web",
    strategy: dict[str, Any] | None = None,
    node_selector: dict[str, str] | None = None,
    annotations: dict[str, str] | None = None,
    validate: bool = True,
    **spec: Any,
) -> Any:
    pod_spec: dict[str, Any] = {"containers": [{"name": "c", "image": image}], "terminationGracePeriodSeconds": 5}
    if node_selector:
        pod_spec["nodeSelector"] = node_selector
    manifest = {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {"name": name, "namespace": NS, "annotations": annotations or {}},
        "spec": {
            "replicas": replicas,
            "selector": {"matchLabels": {"app": name}},
            "template": {"metadata": {"labels": {"app": name}}, "spec": pod_spec},
            **({"strategy": strategy} if strategy else {}),
            **spec,
        },
    }
    return decode(manifest, validate)


def replica_set(name: str, app: str, replicas: int, image: str) -> Any:
    """A bare ReplicaSet selecting app=<app>, with the pod template `deployment` uses."""
    pod_spec = {"containers": [{"name": "c", "image": image}], "terminationGracePeriodSeconds": 5}
    return decode(
        {
            "apiVersion": "apps/v1",
            "kind": "ReplicaSet",
            "metadata": {"name": name, "namespace": NS, "labels": {"app": app}},
            "spec": {"replicas": replicas, "selector": {"matchLabels": {"app": app}}, "template": {"metadata": {"labels": {"app": app}}, "spec": pod_spec}},
        }
    )


def with_image(d: Any, image: str) -> Any:
    """The Deployment with another image in its (single-container) template."""
    spec = d.spec.template.spec
    template = replace(d.spec.template, spec=replace(spec, containers=(replace(spec.containers[0], image=image),)))
    return replace(d, spec=replace(d.spec, template=template))


def owner_uid(obj: Any) -> str | None:
    ref = obj.metadata.controller_ref()
    return None if ref is None else ref.uid


def cluster(model: Model, *objs: Any, nodes: int = 2) -> ClusterState:
    state = empty_state()
    for i in range(1, nodes + 1):
        state = model.step(state, AddNode(node(f"n{i}")))
    if objs:
        state = model.step(state, Apply(tuple(objs)))
    return state


@dataclass
class Run:
    """A settled run: the states after every action, and the actions."""

    states: list[ClusterState]
    actions: list[Action]

    @property
    def final(self) -> ClusterState:
        return self.states[-1]


def run(model: Model, state: ClusterState, *user: Action, horizon: int | None = None) -> Run:
    """Apply the user actions (each followed by settling) and record every intermediate state."""
    states, actions = [state], []
    for a in user:
        state = model.step(state, a)
        states.append(state)
        actions.append(a)
        result = model.settle(state, horizon=horizon)
        assert result.quiescent or horizon is not None, result.reason
        for step in result.actions:
            state = model.step(state, step)
            states.append(state)
            actions.append(step)
        assert state == result.state
    return Run(states, actions)


def settle(model: Model, state: ClusterState) -> ClusterState:
    result = model.settle(state)
    assert result.quiescent, result.reason
    return result.state


def replica_sets(state: ClusterState, name: str = "web") -> list[ReplicaSet]:
    d = state.get("Deployment", NS, name)
    return du.by_creation(state.controlled_by(d.metadata.uid, "ReplicaSet"))


def rs_changes(r: Run, label: dict[str, str] | None = None) -> list[tuple[str, int]]:
    """Every change of a ReplicaSet's spec.replicas (creation included) along the run, in order,
    with sets named by their order of creation ('rs1', 'rs2', ...)."""
    aliases: dict[str, str] = label or {}
    seen: dict[str, int] = {}
    out = []
    for s in r.states:
        for rs in du.by_creation(s.list("ReplicaSet")):
            uid = rs.metadata.uid
            if uid not in aliases:
                aliases[uid] = f"rs{len(aliases) + 1}"
            if seen.get(uid) != rs.spec.replicas:
                seen[uid] = rs.spec.replicas
                out.append((aliases[uid], rs.spec.replicas))
    return out


def progressing(state: ClusterState, name: str = "web") -> Any:
    d = state.get("Deployment", NS, name)
    return None if d is None else find_condition(d.status.conditions, du.PROGRESSING)


def condition_status(d: Any, type_: str) -> str | None:
    cond = find_condition(d.status.conditions, type_)
    return None if cond is None else cond.status


def available_pods(state: ClusterState) -> int:
    return sum(1 for p in state.pods(NS) if p.active and p.ready)


def set_image(image: str, name: str = "web") -> SetImage:
    return SetImage("Deployment", NS, name, image)


def patch(spec: dict[str, Any], name: str = "web", meta: dict[str, Any] | None = None) -> Patch:
    body: dict[str, Any] = {"spec": spec}
    if meta:
        body["metadata"] = meta
    return Patch("Deployment", NS, name, freeze(body))


# ---- creation and the rolling update (§6.5, §6.6) -------------------------------------------------


def test_creation_names_labels_annotations_and_status() -> None:
    m = Model()
    state = settle(m, cluster(m, deployment(3, annotations={"team": "a"})))
    (rs,) = replica_sets(state)
    d = state.get("Deployment", NS, "web")
    h = rs.metadata.labels[du.POD_TEMPLATE_HASH]
    assert rs.metadata.name == f"web-{h}" and h == du.compute_hash(d.spec.template, None)
    assert rs.spec.selector.match_labels == {"app": "web", du.POD_TEMPLATE_HASH: h}
    assert rs.spec.template.metadata.labels == rs.metadata.labels == {"app": "web", du.POD_TEMPLATE_HASH: h}
    ref = rs.metadata.controller_ref()
    assert ref is not None and ref.uid == d.metadata.uid and ref.kind == "Deployment" and ref.block_owner_deletion
    ann = rs.metadata.annotations
    assert (ann[du.REVISION], ann[du.DESIRED_REPLICAS], ann[du.MAX_REPLICAS], ann["team"]) == ("1", "3", "4", "a")
    assert d.metadata.annotations[du.REVISION] == "1" and d.metadata.annotations["team"] == "a"
    assert all(p.metadata.labels[du.POD_TEMPLATE_HASH] == h for p in state.pods(NS))
    st = d.status
    assert (st.replicas, st.updated_replicas, st.ready_replicas, st.available_replicas, st.unavailable_replicas) == (3, 3, 3, 3, 0)
    assert st.observed_generation == d.metadata.generation
    assert progressing(state).reason == du.NEW_RS_AVAILABLE
    assert condition_status(d, du.AVAILABLE) == "True"


def test_rolling_update_follows_the_derived_trace() -> None:
    """§6.6 derived trace: replicas 3, defaults 25%/25% → surge 1, unavailable 0."""
    m = Model()
    start = settle(m, cluster(m, deployment(3)))
    r = run(m, start, set_image("nginx:2"))
    old_uid = replica_sets(start)[0].metadata.uid
    changes = rs_changes(r, {old_uid: "old"})
    assert changes == [("old", 3), ("rs2", 1), ("old", 2), ("rs2", 2), ("old", 1), ("rs2", 3), ("old", 0)]
    for s in r.states:
        assert du.replica_count(s.list("ReplicaSet")) <= 4  # Σ spec ≤ replicas + surge
        assert available_pods(s) >= 3  # no pod fails: availability never drops below minAvailable
    final = r.final
    old, new = replica_sets(final)
    assert new.metadata.annotations[du.REVISION] == "2" and final.get("Deployment", NS, "web").metadata.annotations[du.REVISION] == "2"
    assert progressing(final).reason == du.NEW_RS_AVAILABLE
    assert (old.spec.replicas, old.status.replicas, new.status.available_replicas) == (0, 0, 3)


def test_rolling_update_sees_replica_set_status_not_pods() -> None:
    """The first old scale-down waits until the new set's *status* reports an available pod."""
    m = Model()
    r = run(m, settle(m, cluster(m, deployment(3))), set_image("nginx:2"))
    for prev, nxt, action in zip(r.states, r.states[1:], r.actions):
        if not (isinstance(action, Reconcile) and action.controller == "deployment"):
            continue
        before = {rs.metadata.uid: rs for rs in prev.list("ReplicaSet")}
        for rs in nxt.list("ReplicaSet"):
            old = before.get(rs.metadata.uid)
            if old is not None and rs.spec.replicas < old.spec.replicas:
                new = [s for s in prev.list("ReplicaSet") if s.metadata.uid != rs.metadata.uid][0]
                assert new.status.available_replicas > 0


# ---- sync-level tables through the real controller ---------------------------------------------


def table_state(replicas: int, surge: int, mu: int, old: tuple[int, int], new: tuple[int, int]) -> tuple[ClusterState, dict[str, str]]:
    """A Deployment with an old and a new set (spec replicas, available) as the upstream tests build them."""
    d = deployment(replicas, strategy={"type": "RollingUpdate", "rollingUpdate": {"maxSurge": surge, "maxUnavailable": mu}}, validate=False)
    d = replace(d, metadata=replace(d.metadata, uid="dep", generation=1, creation_timestamp=0))
    owner = (OwnerReference("apps/v1", "Deployment", "web", "dep", controller=True, block_owner_deletion=True),)
    old_tpl = replace(d.spec.template, spec=replace(d.spec.template.spec, containers=(replace(d.spec.template.spec.containers[0], image="old"),)))

    def rs(name: str, tpl: Any, size: tuple[int, int], created: int) -> ReplicaSet:
        ann = {du.DESIRED_REPLICAS: str(replicas), du.MAX_REPLICAS: str(replicas + surge), du.REVISION: "1" if name == "old" else "2"}
        return ReplicaSet(
            metadata=ObjectMeta(
                name=f"web-{name}",
                namespace=NS,
                uid=name,
                creation_timestamp=created,
                generation=1,
                labels=FrozenDict({"app": "web"}),
                annotations=FrozenDict(ann),
                owner_references=owner,
            ),
            spec=ReplicaSetSpec(selector=LabelSelector(FrozenDict({"app": "web"})), template=tpl, replicas=size[0]),
            status=ReplicaSetStatus(replicas=size[0], available_replicas=size[1], ready_replicas=size[1], observed_generation=1),
        )

    state = state_of([d, rs("old", old_tpl, old, 0), rs("new", d.spec.template, new, 1)], clock=10)
    return state, {"old": "web-old", "new": "web-new"}


def sync_once(state: ClusterState, controller: DeploymentController | None = None) -> ClusterState:
    m = Model()
    if controller is not None:
        m = m.with_actor(controller)
    return m.step(state, Reconcile("deployment", NS, "web"))


@pytest.mark.parametrize(
    ("replicas", "mu", "old", "new", "expected_old"),
    [
        (10, 0, (10, 10), (0, 0), 9),
        (10, 2, (10, 10), (0, 0), 8),
        (10, 2, (10, 8), (0, 0), 8),  # 2 unhealthy cleaned up
        (10, 2, (10, 9), (0, 0), 8),  # 1 unhealthy + 1 available
        (10, 2, (8, 8), (2, 0), 8),  # 10 − 8 − 2 = 0: no scale-down
    ],
)
def test_reconcile_old_replica_sets_table(replicas: int, mu: int, old: tuple[int, int], new: tuple[int, int], expected_old: int) -> None:
    state, names = table_state(replicas, 0, mu, old, new)
    after = sync_once(state)
    assert after.get("ReplicaSet", NS, names["old"]).spec.replicas == expected_old
    assert after.get("ReplicaSet", NS, names["new"]).spec.replicas == new[0]


@pytest.mark.parametrize(
    ("surge", "old", "new", "expected_new"),
    [(0, 10, 0, 0), (2, 10, 0, 2), (2, 5, 0, 7), (2, 10, 2, 2), (2, 2, 11, 10)],
)
def test_reconcile_new_replica_set_table(surge: int, old: int, new: int, expected_new: int) -> None:
    state, names = table_state(10, surge, 0, (old, old), (new, new))
    after = sync_once(state)
    assert after.get("ReplicaSet", NS, names["new"]).spec.replicas == expected_new
    if expected_new != new:  # a sync that scales the new set up does nothing else to the old one
        assert after.get("ReplicaSet", NS, names["old"]).spec.replicas == old


def test_old_set_reporting_more_available_than_its_spec_stops_the_scale_down() -> None:
    """rolling.go cleanupUnhealthyReplicas errors on an old set whose status is ahead of its spec
    (its ReplicaSet controller has not removed the pods yet); reconcileOldReplicaSets then scales nothing."""
    state, names = table_state(4, 0, 1, (3, 4), (1, 1))
    after = sync_once(state)
    assert after.get("ReplicaSet", NS, names["old"]).spec.replicas == 3
    settled_state, _ = table_state(4, 0, 1, (3, 3), (1, 1))
    assert sync_once(settled_state).get("ReplicaSet", NS, names["old"]).spec.replicas == 2


# ---- Recreate (§6.7) ---------------------------------------------------------------------------


RECREATE = {"type": "Recreate"}


def test_recreate_scales_old_down_first_and_waits_for_terminal_pods() -> None:
    m = Model()
    start = settle(m, cluster(m, deployment(3, strategy=RECREATE)))
    old_uid = replica_sets(start)[0].metadata.uid
    r = run(m, start, set_image("nginx:2"))
    assert rs_changes(r, {old_uid: "old"}) == [("old", 3), ("old", 0), ("rs2", 3)]
    waited = False
    old_ref = replica_sets(start)[0].ref
    for s in r.states:
        old_pods_alive = [p for p in s.pods(NS) if owner_uid(p) == old_uid and not p.terminal]
        new_sets = [rs for rs in s.list("ReplicaSet") if rs.metadata.uid != old_uid]
        if old_pods_alive:
            assert not new_sets, "the new ReplicaSet exists while old pods are not terminal"
            old = s.get_ref(old_ref)
            waited = waited or (old.status.replicas == 0 and old.spec.replicas == 0)
    assert waited, "never observed the wait on terminating pods after the old set reported 0 replicas"
    assert [rs.spec.replicas for rs in replica_sets(r.final)] == [0, 3]


def test_recreate_counts_terminating_and_unknown_pods_as_running() -> None:
    m = Model()
    start = settle(m, cluster(m, deployment(2, strategy=RECREATE)))
    (old,) = replica_sets(start)
    # old set scaled to 0 and its status says 0, but a pod is still terminating (Running) or Unknown
    old0 = replace(old, spec=replace(old.spec, replicas=0), status=replace(old.status, replicas=0, available_replicas=0, ready_replicas=0))
    d = start.get("Deployment", NS, "web")
    d2 = with_image(d, "x")
    pods = start.pods(NS)
    for phase, deleting in (("Running", True), ("Unknown", False), ("Pending", False)):
        pod = replace(pods[0], status=replace(pods[0].status, phase=phase), metadata=replace(pods[0].metadata, deletion_timestamp=5 if deleting else None))
        others = [replace(p, status=replace(p.status, phase="Succeeded")) for p in pods[1:]]
        state = state_of([d2, old0, pod, *others], clock=10)
        reqs = DeploymentController().requests(state, Reconcile("deployment", NS, "web"), ModelConfig())
        assert not any(type(q).__name__ == "Create" for q in reqs), phase
    # no pod left, but the old set's status still reports one (the ReplicaSet controller lags)
    lagging = replace(old0, status=replace(old0.status, replicas=1))
    reqs = DeploymentController().requests(state_of([d2, lagging], clock=10), Reconcile("deployment", NS, "web"), ModelConfig())
    assert not any(type(q).__name__ == "Create" for q in reqs)
    done = state_of([d2, old0, *(replace(p, status=replace(p.status, phase="Failed")) for p in pods)], clock=10)
    reqs = DeploymentController().requests(done, Reconcile("deployment", NS, "web"), ModelConfig())
    assert any(type(q).__name__ == "Create" for q in reqs)


# ---- paused, scaling events, history (§6.8, §6.9, §6.11) ----------------------------------------


def test_paused_deployment_creates_no_new_replica_set_but_scales() -> None:
    m = Model()
    start = settle(m, cluster(m, deployment(3)))
    r = run(m, start, patch({"paused": True}), set_image("nginx:2"), Scale("Deployment", NS, "web", 5))
    final = r.final
    (only,) = replica_sets(final)
    assert only.metadata.uid == replica_sets(start)[0].metadata.uid and only.spec.replicas == 5
    assert only.metadata.annotations[du.DESIRED_REPLICAS] == "5"
    cond = progressing(final)
    assert (cond.status, cond.reason) == ("Unknown", du.PAUSED)
    resumed = run(m, final, patch({"paused": False}))
    sets = replica_sets(resumed.final)
    assert len(sets) == 2 and sets[1].spec.replicas == 5 and sets[0].spec.replicas == 0
    assert any(progressing(s) is not None and progressing(s).reason == du.RESUMED for s in resumed.states)
    assert progressing(resumed.final).reason == du.NEW_RS_AVAILABLE


def test_scaling_event_mid_rollout_is_proportional() -> None:
    """rolling.go worked example: 10 replicas, maxSurge 3, maxUnavailable 2, new pods never run:
    the rollout stalls at new 5 / old 8; scaling to 20 spreads +10 over both sets
    (allowed 23: old round(8×23/13) = 14, new round(5×23/13) = 9)."""
    m = Model()
    strategy = {"type": "RollingUpdate", "rollingUpdate": {"maxSurge": 3, "maxUnavailable": 2}}
    start = settle(m, cluster(m, deployment(10, strategy=strategy)))
    stalled = run(m, start, patch({"template": {"spec": {"nodeSelector": {"disk": "none"}}}})).final
    old, new = replica_sets(stalled)
    assert (old.spec.replicas, new.spec.replicas) == (8, 5)
    scaled = run(m, stalled, Scale("Deployment", NS, "web", 20)).final
    old2, new2 = replica_sets(scaled)
    assert (old2.spec.replicas, new2.spec.replicas) == (14, 9)
    assert all(rs.metadata.annotations[du.DESIRED_REPLICAS] == "20" and rs.metadata.annotations[du.MAX_REPLICAS] == "23" for rs in (old2, new2))
    assert old2.spec.replicas > old.spec.replicas and new2.spec.replicas > new.spec.replicas  # both grow


def test_revision_history_limit_keeps_the_newest_old_sets() -> None:
    m = Model()
    start = settle(m, cluster(m, deployment(2, revisionHistoryLimit=1)))
    r = run(m, start, set_image("nginx:2"), set_image("nginx:3"), set_image("nginx:4"))
    sets = du.by_revision(replica_sets(r.final))
    assert [(rs.metadata.annotations[du.REVISION], rs.spec.replicas) for rs in sets] == [("3", 0), ("4", 2)]
    deleted_while_nonempty = [
        rs
        for prev, nxt in zip(r.states, r.states[1:])
        for rs in prev.list("ReplicaSet")
        if nxt.get_ref(rs.ref) is None and (rs.spec.replicas or rs.status.replicas)
    ]
    assert deleted_while_nonempty == []


def test_paused_deployment_still_cleans_up_history() -> None:
    m = Model()
    start = settle(m, cluster(m, deployment(2)))
    rolled = run(m, start, set_image("nginx:2")).final
    assert len(replica_sets(rolled)) == 2
    r = run(m, rolled, patch({"paused": True}), patch({"revisionHistoryLimit": 0}))
    (only,) = replica_sets(r.final)
    assert only.metadata.annotations[du.REVISION] == "2" and r.final.get("Deployment", NS, "web").spec.paused


def test_rollback_by_template_reuses_the_old_set_with_a_new_revision() -> None:
    m = Model()
    start = settle(m, cluster(m, deployment(2)))
    v1 = replica_sets(start)[0]
    r = run(m, start, set_image("nginx:2"), set_image("nginx:1"))
    sets = replica_sets(r.final)
    assert len(sets) == 2
    back = r.final.get_ref(v1.ref)
    assert back.metadata.uid == v1.metadata.uid and back.spec.replicas == 2
    assert back.metadata.annotations[du.REVISION] == "3" and back.metadata.annotations[du.REVISION_HISTORY] == "1"
    assert r.final.get("Deployment", NS, "web").metadata.annotations[du.REVISION] == "3"


def test_legacy_rollback_annotation_restores_the_previous_template() -> None:
    m = Model()
    start = settle(m, cluster(m, deployment(2)))
    r = run(m, start, set_image("nginx:2"), patch({}, meta={"annotations": {du.ROLLBACK_TO: "0"}}))
    d = r.final.get("Deployment", NS, "web")
    assert d.spec.template.spec.containers[0].image == "nginx:1" and du.ROLLBACK_TO not in d.metadata.annotations
    assert du.POD_TEMPLATE_HASH not in d.spec.template.metadata.labels
    assert [rs.metadata.annotations[du.REVISION] for rs in replica_sets(r.final)] == ["3", "2"]


# ---- progress deadline, minReadySeconds, collisions, adoption (§6.5, §6.10, §6.11) ----------------


def test_progress_deadline_exceeded_when_pods_never_become_ready() -> None:
    m = Model()
    d = deployment(2, node_selector={"disk": "none"}, progressDeadlineSeconds=60)
    r = run(m, cluster(m), Apply((d,)))
    final = r.final
    cond = progressing(final)
    assert (cond.status, cond.reason) == ("False", du.TIMED_OUT)
    flip = next(i for i, s in enumerate(r.states) if progressing(s) is not None and progressing(s).reason == du.TIMED_OUT)
    before = progressing(r.states[flip - 1])
    assert before.status == "True" and r.states[flip].clock == before.last_update_time + 60 + 1
    assert condition_status(final.get("Deployment", NS, "web"), du.AVAILABLE) == "False"
    assert m.next_deadline(final) is None  # timed out: no further progress checks


def test_min_ready_seconds_is_propagated_and_delays_availability() -> None:
    m = Model()
    start = settle(m, cluster(m, deployment(2, minReadySeconds=5)))
    (rs,) = replica_sets(start)
    assert rs.spec.min_ready_seconds == 5 and rs.status.available_replicas == 2 and start.clock >= 6
    changed = run(m, start, patch({"minReadySeconds": 7})).final
    (rs2,) = replica_sets(changed)
    assert rs2.metadata.uid == rs.metadata.uid and rs2.spec.min_ready_seconds == 7


def test_hash_collision_bumps_collision_count() -> None:
    m = Model()
    d = deployment(2)
    taken = f"web-{du.compute_hash(d.spec.template, None)}"
    squatter = replica_set(taken, "other", 0, "x")
    state = settle(m, cluster(m, squatter, d))
    dep = state.get("Deployment", NS, "web")
    (rs,) = replica_sets(state)
    assert dep.status.collision_count == 1 and rs.metadata.name == f"web-{du.compute_hash(d.spec.template, 1)}" != taken
    assert state.get("ReplicaSet", NS, taken).metadata.controller_ref() is None


def test_orphan_replica_set_with_the_same_template_is_adopted_not_duplicated() -> None:
    m = Model()
    d = deployment(2)
    orphan = replica_set("web-manual", "web", 2, "nginx:1")
    r = run(m, settle(m, cluster(m, orphan)), Apply((d,)))
    (rs,) = replica_sets(r.final)
    assert rs.metadata.name == "web-manual" and rs.metadata.annotations[du.REVISION] == "1"
    assert r.final.get("Deployment", NS, "web").status.available_replicas == 2
    # the first Progressing condition records that an existing set was found, not created
    first = next(c for s in r.states if (c := progressing(s)) is not None)
    assert first.reason == du.FOUND_NEW_RS


def sync_requests(state: ClusterState) -> list[Any]:
    return list(DeploymentController().requests(state, Reconcile("deployment", NS, "web"), ModelConfig()))


def test_replica_failure_is_copied_from_the_new_set_and_removed_with_it() -> None:
    m = Model()
    state = settle(m, cluster(m, deployment(2)))
    (rs,) = replica_sets(state)
    failure = Condition("ReplicaFailure", "True", reason="FailedCreate", message="quota", last_transition_time=3)
    failing = replace(rs, status=replace(rs.status, conditions=(failure,)))
    after = m.step(with_objects(state, failing), Reconcile("deployment", NS, "web"))
    cond = find_condition(after.get("Deployment", NS, "web").status.conditions, du.REPLICA_FAILURE)
    assert cond is not None and (cond.status, cond.reason, cond.last_update_time) == ("True", "FailedCreate", 3)
    healed = m.step(with_objects(after, rs), Reconcile("deployment", NS, "web"))
    assert find_condition(healed.get("Deployment", NS, "web").status.conditions, du.REPLICA_FAILURE) is None


def test_deployment_being_deleted_only_gets_status() -> None:
    m = Model()
    state = settle(m, cluster(m, deployment(2)))
    d = state.get("Deployment", NS, "web")
    deleting = with_image(replace(d, metadata=replace(d.metadata, deletion_timestamp=state.clock, finalizers=("foregroundDeletion",))), "x")
    reqs = sync_requests(with_objects(state, deleting))
    assert not any(isinstance(q, apiserver.Create) for q in reqs)
    assert all(isinstance(q, apiserver.Update) and q.obj.kind == "Deployment" for q in reqs)
    assert reqs and reqs[-1].obj.status.updated_replicas == 0  # the status no longer counts the old template's set


def test_selector_selecting_everything_only_bumps_observed_generation() -> None:
    m = Model()
    state = settle(m, cluster(m, deployment(2)))
    d = state.get("Deployment", NS, "web")
    everything = replace(d, spec=replace(d.spec, selector=LabelSelector()), metadata=replace(d.metadata, generation=d.metadata.generation + 1))
    reqs = sync_requests(with_objects(state, everything))
    assert len(reqs) == 1 and reqs[0].status and reqs[0].obj.status.observed_generation == everything.metadata.generation
    assert sync_requests(with_objects(state, replace(everything, status=reqs[0].obj.status))) == []


def with_objects(state: ClusterState, *objs: Any) -> ClusterState:
    tx = state.edit()
    for o in objs:
        tx.put(o)
    return tx.commit()


# ---- a real cluster's trace -------------------------------------------------------------------


def observed_changes(path: Path) -> list[tuple[str, int]]:
    """(old|new, spec.replicas) each time a ReplicaSet's spec.replicas changed in a watch trace."""
    seen: dict[str, int] = {}
    order: dict[str, str] = {}
    out = []
    for line in path.read_text().splitlines():
        obj = json.loads(line)["object"]
        name, replicas = obj["metadata"]["name"], obj["spec"]["replicas"]
        order.setdefault(name, "old" if not order else "new")
        if seen.get(name) != replicas:
            seen[name] = replicas
            out.append((order[name], replicas))
    return out


def replay_recorded_rollout() -> tuple[Run, str]:
    """web.yaml applied, scaled 3 → 5 → 2, image changed — the user actions of the recording."""
    (web,) = load_file(SAMPLE / "web.yaml").objects
    ns = web.metadata.namespace
    m = Model()
    r = run(
        m,
        cluster(m, nodes=3),
        Apply((web,)),
        Scale("Deployment", ns, "web", 5),
        Scale("Deployment", ns, "web", 2),
        SetImage("Deployment", ns, "web", "nginx:1.20"),
    )
    return r, ns


needs_sample = pytest.mark.skipif(not SAMPLE.exists(), reason="shared samples not present")


@needs_sample
def test_replay_of_the_recorded_rollout_matches_the_real_replica_set_sequence() -> None:
    """The model's (RS, spec.replicas) sequence equals the one recorded from a real control plane."""
    expected = observed_changes(SAMPLE / "replicasets.jsonl")
    r, _ = replay_recorded_rollout()
    names: dict[str, str] = {}
    for s in r.states:
        for rs in du.by_creation(s.list("ReplicaSet")):
            names.setdefault(rs.metadata.uid, "old" if not names else "new")
    assert rs_changes(r, names) == expected
    assert expected == [("old", 3), ("old", 5), ("old", 2), ("new", 1), ("old", 1), ("new", 2), ("old", 0)]


@needs_sample
def test_replay_of_the_recorded_rollout_matches_the_real_condition_sequence() -> None:
    """The Deployment's conditions (types, statuses, reasons, in list order) go through the same
    sequence of distinct values as in the recording."""

    def distinct(seq: list[tuple[tuple[str, str, str], ...]]) -> list[tuple[tuple[str, str, str], ...]]:
        return [x for i, x in enumerate(seq) if i == 0 or seq[i - 1] != x]

    recorded = [
        tuple((c["type"], c["status"], c["reason"]) for c in json.loads(line)["object"].get("status", {}).get("conditions", []))
        for line in (SAMPLE / "deployments.jsonl").read_text().splitlines()
    ]
    r, ns = replay_recorded_rollout()
    modelled = [tuple((c.type, c.status, c.reason) for c in d.status.conditions) for s in r.states if (d := s.get("Deployment", ns, "web")) is not None]
    assert distinct(modelled) == distinct(recorded)
    assert len(distinct(recorded)) == 10
