"""The StatefulSet controller against the upstream test tables (stateful_set_utils_test.go,
stateful_set_control_test.go) and the behaviour of spec §7: identity, ordered and parallel
scaling, claims and their retention policy, revisions and rolling updates, failed pods,
node failure and force deletion, and the differences between releases."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from invariants.registry import select
from kmodel import apiserver
from kmodel.actions import AddNode, Apply, DeleteObject, FailNode, Patch, Reconcile, Scale, SetImage, Tick
from kmodel.checking import Checker
from kmodel.config import ModelConfig
from kmodel.controllers.garbagecollector import GarbageCollector
from kmodel.controllers.persistentvolume import PersistentVolumeController
from kmodel.controllers.statefulset import (
    REVISION_LABEL,
    StatefulSetController,
    Sync,
    claim_owner_matches,
    max_unavailable,
    parent_and_ordinal,
    updated_claim_refs,
)
from kmodel.frozen import freeze
from kmodel.model import Model
from kmodel.objects.apps import StatefulSet, StatefulSetPersistentVolumeClaimRetentionPolicy, StatefulSetSpec
from kmodel.objects.meta import Condition, ObjectMeta, OwnerReference
from kmodel.objects.pod import Pod
from kmodel.objects.storage import PersistentVolumeClaim
from kmodel.state import ClusterState, empty_state
from kmodel.strategies import stateful_sets
from tests.builders import node, obj

NS = "default"
RETAIN, DELETE = "Retain", "Delete"


# ---- builders --------------------------------------------------------------------------


def statefulset(
    replicas: int = 3,
    *,
    name: str = "web",
    policy: str = "OrderedReady",
    image: str = "nginx:1",
    claims: bool = True,
    when_deleted: str | None = None,
    when_scaled: str | None = None,
    **spec: Any,
) -> Any:
    """A StatefulSet `web` selecting app=web, one claim template `www` unless `claims` is False."""
    doc: dict[str, Any] = {
        "replicas": replicas,
        "serviceName": "nginx",
        "podManagementPolicy": policy,
        "selector": {"matchLabels": {"app": name}},
        "template": {
            "metadata": {"labels": {"app": name}},
            "spec": {"terminationGracePeriodSeconds": 5, "containers": [{"name": "c", "image": image}]},
        },
    }
    if claims:
        doc["volumeClaimTemplates"] = [{"metadata": {"name": "www"}, "spec": {"accessModes": ["ReadWriteOnce"], "resources": {"requests": {"storage": "1Gi"}}}}]
    if when_deleted or when_scaled:
        doc["persistentVolumeClaimRetentionPolicy"] = {"whenDeleted": when_deleted or RETAIN, "whenScaled": when_scaled or RETAIN}
    doc.update(spec)
    return obj({"apiVersion": "apps/v1", "kind": "StatefulSet", "metadata": {"name": name, "namespace": NS}, "spec": doc})


def storage_class(mode: str = "Immediate") -> Any:
    """The default StorageClass, dynamically provisioned, reclaim Delete."""
    return obj(
        {
            "apiVersion": "storage.k8s.io/v1",
            "kind": "StorageClass",
            "metadata": {"name": "standard", "annotations": {"storageclass.kubernetes.io/is-default-class": "true"}},
            "provisioner": "csi.example.com",
            "reclaimPolicy": "Delete",
            "volumeBindingMode": mode,
        }
    )


def local_pv(name: str, node_name: str) -> Any:
    """A statically provisioned local volume pinned to `node_name` (class `local`)."""
    return obj(
        {
            "apiVersion": "v1",
            "kind": "PersistentVolume",
            "metadata": {"name": name},
            "spec": {
                "capacity": {"storage": "1Gi"},
                "accessModes": ["ReadWriteOnce"],
                "storageClassName": "local",
                "persistentVolumeReclaimPolicy": "Retain",
                "local": {"path": "/mnt/disk"},
                "nodeAffinity": {
                    "required": {"nodeSelectorTerms": [{"matchExpressions": [{"key": "kubernetes.io/hostname", "operator": "In", "values": [node_name]}]}]}
                },
            },
        }
    )


def local_class() -> Any:
    return obj(
        {
            "apiVersion": "storage.k8s.io/v1",
            "kind": "StorageClass",
            "metadata": {"name": "local"},
            "provisioner": "kubernetes.io/no-provisioner",
            "volumeBindingMode": "WaitForFirstConsumer",
        }
    )


def full_model(version: str = "1.34", **kw: Any) -> Model:
    model = Model(ModelConfig(kubernetes_version=version))
    if kw:
        model = model.with_actor(StatefulSetController(**kw))
    return model


def controller_model(version: str = "1.34", gate: bool | None = None, gc: bool = False) -> Model:
    """The StatefulSet controller alone (pods stay unscheduled, so deletions are immediate,
    as with upstream's fake clients); tests drive pod status by hand."""
    actors: list[Any] = [StatefulSetController(gate)]
    if gc:
        actors += [PersistentVolumeController(), GarbageCollector()]
    return Model(ModelConfig(kubernetes_version=version), actors)


def start(model: Model, *objects: Any, nodes: tuple[str, ...] = ("n1", "n2"), settle: bool = True) -> ClusterState:
    state = empty_state()
    for n in nodes:
        state = model.step(state, AddNode(node(n)))
    state = model.step(state, Apply(tuple(objects)))
    return model.settle(state).state if settle else state


def sync(model: Model, state: ClusterState, name: str = "web") -> ClusterState:
    return model.step(state, Reconcile("statefulset", NS, name))


def write_status(state: ClusterState, pod: str, phase: str, ready: bool, since: int | None = None) -> ClusterState:
    """The kubelet's status for a pod: phase and Ready (lastTransitionTime `since`, default now)."""
    p = state.get("Pod", NS, pod)
    cond = Condition("Ready", "True" if ready else "False", last_transition_time=state.clock if since is None else since)
    tx = state.edit()
    apiserver.apply(tx, apiserver.Update(replace(p, status=replace(p.status, phase=phase, conditions=(cond,))), status=True), ModelConfig())
    return tx.commit()


def make_ready(state: ClusterState, *pods: str) -> ClusterState:
    for p in pods:
        state = write_status(state, p, "Running", True)
    return state


def scale_up(model: Model, state: ClusterState, name: str = "web") -> ClusterState:
    """scaleUpStatefulSetControl: sync, mark every created pod Running and Ready, until nothing changes."""
    for _ in range(100):
        nxt = sync(model, state, name)
        for p in nxt.pods(NS):
            if p.status.phase == "Pending" and p.metadata.deletion_timestamp is None:
                nxt = make_ready(nxt, p.metadata.name)
        if nxt == state:
            return state
        state = nxt
    raise AssertionError("scale up did not converge")


def names(state: ClusterState) -> list[str]:
    return sorted((p.metadata.name for p in state.pods(NS)), key=lambda n: parent_and_ordinal(n)[1])


def revision_of(state: ClusterState, pod: str) -> str:
    return state.get("Pod", NS, pod).metadata.labels[REVISION_LABEL]


def the_set(state: ClusterState, name: str = "web") -> StatefulSet:
    sts: StatefulSet = state.get("StatefulSet", NS, name)
    return sts


# ---- upstream tables -------------------------------------------------------------------


@pytest.mark.parametrize(
    "value,replicas,want",
    [(None, 10, 1), (3, 10, 3), (3, 0, 3), (0, 0, 1), ("10%", 25, 2), ("100%", 5, 5), ("50%", 5, 2), ("10%", 5, 1), ("1%", 0, 1), ("0%", 0, 1)],
)
def test_get_statefulset_max_unavailable(value: Any, replicas: int, want: int) -> None:
    # TestGetStatefulSetMaxUnavailable: percentages round DOWN, minimum 1
    assert max_unavailable(value, replicas) == want


def _retention_set(when_scaled: str, when_deleted: str, replicas: int) -> StatefulSet:
    policy = StatefulSetPersistentVolumeClaimRetentionPolicy(when_deleted=when_deleted, when_scaled=when_scaled)
    return StatefulSet(
        metadata=ObjectMeta(name="stateful-set", namespace=NS, uid="ss-456"),
        spec=StatefulSetSpec(replicas=replicas, persistent_volume_claim_retention_policy=policy),
    )


def _ref(kind: str, name: str, uid: str) -> OwnerReference:
    return OwnerReference(api_version="v1", kind=kind, name=name, uid=uid)


@pytest.mark.parametrize(
    "case,when_scaled,when_deleted,needs_pod,needs_set,replicas,ordinal",
    [
        ("retain", RETAIN, RETAIN, False, False, 0, 0),
        ("on SS delete", RETAIN, DELETE, False, True, 0, 0),
        ("on scaledown only, condemned", DELETE, RETAIN, True, False, 2, 2),
        ("on scaledown only, remains", DELETE, RETAIN, False, False, 2, 1),
        ("on both, condemned", DELETE, DELETE, True, False, 2, 2),
        ("on both, remains", DELETE, DELETE, False, True, 2, 1),
    ],
)
def test_claim_owner_matches_set_and_pod(case: str, when_scaled: str, when_deleted: str, needs_pod: bool, needs_set: bool, replicas: int, ordinal: int) -> None:
    # TestClaimOwnerMatchesSetAndPod: every combination of pod ref, set ref and unrelated refs
    sts = _retention_set(when_scaled, when_deleted, replicas)
    pod = Pod(metadata=ObjectMeta(name=f"pod-{ordinal}", namespace=NS, uid="pod-123"))
    for others in (False, True):
        for pod_ref in (False, True):
            for set_ref in (False, True):
                refs = []
                if pod_ref:
                    refs.append(_ref("Pod", pod.metadata.name, "pod-123"))
                if set_ref:
                    refs.append(_ref("StatefulSet", "stateful-set", "ss-456"))
                if others:
                    refs += [_ref("Pod", "rand1", "rand1-abc"), _ref("Pod", "rand2", "rand2-def")]
                claim = PersistentVolumeClaim(metadata=ObjectMeta(name="target-claim", namespace=NS, owner_references=tuple(refs)))
                want = pod_ref == needs_pod and set_ref == needs_set
                assert claim_owner_matches(claim, sts, pod) == want, (case, pod_ref, set_ref, others)


@pytest.mark.parametrize(
    "case,when_scaled,when_deleted,condemned,needs_pod,needs_set",
    [
        ("retain", RETAIN, RETAIN, False, False, False),
        ("delete with set", RETAIN, DELETE, False, False, True),
        ("delete with scaledown, not condemned", DELETE, RETAIN, False, False, False),
        ("delete on scaledown, condemned", DELETE, RETAIN, True, True, False),
        ("delete on both, not condemned", DELETE, DELETE, False, False, True),
        ("delete on both, condemned", DELETE, DELETE, True, True, False),
    ],
)
def test_update_claim_owner_ref_for_set_and_pod(case: str, when_scaled: str, when_deleted: str, condemned: bool, needs_pod: bool, needs_set: bool) -> None:
    # TestUpdateClaimOwnerRefForSetAndPod (replicas 5; pod-8 is condemned, pod-1 is not)
    sts = replace(_retention_set(when_scaled, when_deleted, 5), metadata=ObjectMeta(name="ss", namespace=NS, uid="ss-123"))
    pod = Pod(metadata=ObjectMeta(name="pod-8" if condemned else "pod-1", namespace=NS, uid="pod-456"))
    for has_pod in (True, False):
        for has_set in (True, False):
            refs = ([_ref("Pod", pod.metadata.name, "pod-456")] if has_pod else []) + ([_ref("StatefulSet", "ss", "ss-123")] if has_set else [])
            claim = PersistentVolumeClaim(metadata=ObjectMeta(name="c", namespace=NS, owner_references=tuple(refs)))
            updated = updated_claim_refs(claim, sts, pod)
            assert (updated is not None) == (has_pod != needs_pod or has_set != needs_set), case
            final = updated or claim
            assert any(r.uid == "pod-456" for r in final.metadata.owner_references) == needs_pod, case
            assert any(r.uid == "ss-123" for r in final.metadata.owner_references) == needs_set, case
            if updated is not None:
                added = [r for r in final.metadata.owner_references if r not in claim.metadata.owner_references]
                assert all(r.controller is None and r.block_owner_deletion is None for r in added)  # setOwnerRef sets neither


@pytest.mark.parametrize(
    "name,parent,ordinal",
    [("web-0", "web", 0), ("web-12", "web", 12), ("my-web-3", "my-web", 3), ("web", "", -1), ("web-a", "", -1), ("web-99999999999", "web", -1)],
)
def test_parent_and_ordinal(name: str, parent: str, ordinal: int) -> None:
    # getParentNameAndOrdinal: `(.*)-([0-9]+)$`, int32 ordinals
    assert parent_and_ordinal(name) == (parent, ordinal)


def test_start_ordinal_creates_pods_2_3_4() -> None:
    # TestStatefulSetControlWithStartOrdinal (CreatesPodsWithStartOrdinal): start 2, replicas 3
    model = controller_model()
    state = scale_up(model, start(model, statefulset(3, claims=False, ordinals={"start": 2}), settle=False))
    assert names(state) == ["web-2", "web-3", "web-4"]
    st = the_set(state).status
    assert (st.replicas, st.ready_replicas, st.updated_replicas) == (3, 3, 3)
    for p in state.pods(NS):
        o = parent_and_ordinal(p.metadata.name)[1]
        assert p.metadata.labels["apps.kubernetes.io/pod-index"] == str(o)
        assert p.metadata.labels["statefulset.kubernetes.io/pod-name"] == p.metadata.name
        assert (p.spec.hostname, p.spec.subdomain) == (p.metadata.name, "nginx")


# ---- scaling ----------------------------------------------------------------------------


def test_ordered_ready_creates_one_pod_at_a_time_with_its_claim_first() -> None:
    model = controller_model()
    state = sync(model, start(model, statefulset(3), settle=False))
    assert names(state) == ["web-0"]
    assert [c.metadata.name for c in state.list("PersistentVolumeClaim")] == ["www-web-0"]
    claim = state.get("PersistentVolumeClaim", NS, "www-web-0")
    assert claim.metadata.labels == {"app": "web"} and claim.metadata.creation_timestamp is not None
    web0 = state.get("Pod", NS, "web-0")
    assert [(v.name, v.persistent_volume_claim.claim_name) for v in web0.spec.volumes] == [("www", "www-web-0")]
    state = sync(model, state)  # web-0 is Pending: only the status changes
    assert names(state) == ["web-0"] and the_set(state).status.replicas == 1
    state = sync(model, write_status(state, "web-0", "Running", False))
    assert names(state) == ["web-0"]
    state = sync(model, make_ready(state, "web-0"))
    assert names(state) == ["web-0", "web-1"]


def test_min_ready_seconds_delays_the_next_ordinal() -> None:
    model = controller_model()
    state = sync(model, start(model, statefulset(2, claims=False, minReadySeconds=10), settle=False))
    state = sync(model, make_ready(state, "web-0"))
    assert names(state) == ["web-0"]
    state = sync(model, model.step(state, Tick(10)))
    assert names(state) == ["web-0"]  # available strictly after 10 s
    state = sync(model, model.step(state, Tick(1)))
    assert names(state) == ["web-0", "web-1"]


def test_parallel_creates_in_slow_start_batches_and_stops_after_a_failed_batch() -> None:
    # slowStartBatch(1, 5): batches [web-0], [web-1, web-2], [web-3, web-4]; web-1's name is
    # taken by a pod of another owner, so its create fails and the third batch never runs
    model = controller_model()
    squatter = obj(
        {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "web-1", "namespace": NS, "labels": {"app": "other"}}, "spec": {"containers": [{"name": "c"}]}}
    )
    state = sync(model, start(model, squatter, statefulset(5, claims=False, policy="Parallel"), settle=False))
    assert names(state) == ["web-0", "web-1", "web-2"]
    assert state.get("Pod", NS, "web-1").metadata.labels == {"app": "other"}
    without = start(model, statefulset(5, claims=False, policy="Parallel"), settle=False)
    assert names(sync(model, without)) == ["web-0", "web-1", "web-2", "web-3", "web-4"]


def test_ordered_scale_down_deletes_highest_first_one_at_a_time() -> None:
    model = full_model()
    state = start(model, storage_class(), statefulset(3))
    state = model.step(state, Scale("StatefulSet", NS, "web", 1))
    seen: list[tuple[str, list[str]]] = []

    def record(prev: ClusterState, action: Any, nxt: ClusterState) -> None:
        if isinstance(action, Reconcile) and action.controller == "statefulset":
            deleted = [
                p.metadata.name
                for p in prev.pods(NS)
                if p.metadata.deletion_timestamp is None
                and (q := nxt.get("Pod", NS, p.metadata.name)) is not None
                and q.metadata.deletion_timestamp is not None
            ]
            if deleted:
                seen.append((",".join(deleted), [p.metadata.name for p in prev.pods(NS)]))

    state = model.settle(state, on_step=record).state
    assert [d for d, _ in seen] == ["web-2", "web-1"]
    assert seen[1][1] == ["web-0", "web-1"]  # web-1 only after web-2 was gone
    assert names(state) == ["web-0"]
    # Retain/Retain: the claims stay for a later scale-up
    assert sorted(c.metadata.name for c in state.list("PersistentVolumeClaim")) == ["www-web-0", "www-web-1", "www-web-2"]


def test_scale_down_halts_while_a_lower_pod_is_unhealthy() -> None:
    model = controller_model()
    state = scale_up(model, start(model, statefulset(3, claims=False), settle=False))
    state = write_status(state, "web-0", "Running", False)
    state = model.step(state, Scale("StatefulSet", NS, "web", 1))
    assert sync(model, state).pods(NS) == state.pods(NS)
    assert names(sync(model, make_ready(state, "web-0"))) == ["web-0", "web-1"]


def test_parallel_scale_down_deletes_every_condemned_pod_at_once() -> None:
    model = controller_model()
    state = scale_up(model, start(model, statefulset(4, claims=False, policy="Parallel"), settle=False))
    state = write_status(state, "web-0", "Running", False)  # unhealthy pods do not block Parallel
    state = sync(model, model.step(state, Scale("StatefulSet", NS, "web", 1)))
    assert names(state) == ["web-0"]


def test_changing_the_start_ordinal_creates_low_ordinals_then_deletes_high_ones() -> None:
    # spec §7.6 derived: start 5 → pods 5, 6, 7; start 3 → 3, 4 created in order, 7 then 6 deleted
    model = full_model()
    state = start(model, storage_class(), statefulset(3, ordinals={"start": 5}))
    assert names(state) == ["web-5", "web-6", "web-7"]
    events: list[str] = []

    def record(prev: ClusterState, action: Any, nxt: ClusterState) -> None:
        if isinstance(action, Reconcile) and action.controller == "statefulset":
            for p in nxt.pods(NS):
                if prev.get("Pod", NS, p.metadata.name) is None:
                    events.append(f"+{p.metadata.name}")
            for p in prev.pods(NS):
                q = nxt.get("Pod", NS, p.metadata.name)
                if p.metadata.deletion_timestamp is None and q is not None and q.metadata.deletion_timestamp is not None:
                    events.append(f"-{p.metadata.name}")

    state = model.step(state, Patch("StatefulSet", NS, "web", freeze({"spec": {"ordinals": {"start": 3}}})))
    state = model.settle(state, on_step=record).state
    assert events == ["+web-3", "+web-4", "-web-7", "-web-6"]
    assert names(state) == ["web-3", "web-4", "web-5"]


# ---- claims --------------------------------------------------------------------------------


def test_a_recreated_pod_mounts_the_same_claim() -> None:
    model = full_model()
    state = start(model, storage_class(), statefulset(2))
    claim = state.get("PersistentVolumeClaim", NS, "www-web-1")
    old = state.get("Pod", NS, "web-1")
    state = model.settle(model.step(state, DeleteObject("Pod", NS, "web-1"))).state
    new = state.get("Pod", NS, "web-1")
    assert new.metadata.uid != old.metadata.uid
    assert new.spec.volumes[0].persistent_volume_claim.claim_name == "www-web-1"
    assert state.get("PersistentVolumeClaim", NS, "www-web-1").metadata.uid == claim.metadata.uid
    assert state.get("PersistentVolumeClaim", NS, "www-web-1").status.phase == "Bound"


def _claim(name: str, *, deleting: bool = False, refs: tuple[OwnerReference, ...] = ()) -> PersistentVolumeClaim:
    c: PersistentVolumeClaim = statefulset_claim(name)
    meta = replace(c.metadata, owner_references=refs, finalizers=("kubernetes.io/pvc-protection",) if deleting else ())
    return replace(c, metadata=meta)


def statefulset_claim(name: str) -> PersistentVolumeClaim:
    c: PersistentVolumeClaim = obj(
        {
            "apiVersion": "v1",
            "kind": "PersistentVolumeClaim",
            "metadata": {"name": name, "namespace": NS, "labels": {"app": "web"}},
            "spec": {"accessModes": ["ReadWriteOnce"], "resources": {"requests": {"storage": "1Gi"}}},
        }
    )
    return c


def test_a_terminating_claim_blocks_the_pod_until_it_is_gone() -> None:
    model = controller_model()
    state = start(model, _claim("www-web-0", deleting=True), settle=False)
    state = model.step(state, DeleteObject("PersistentVolumeClaim", NS, "www-web-0"))
    assert state.get("PersistentVolumeClaim", NS, "www-web-0").metadata.deletion_timestamp is not None
    state = model.step(state, Apply((statefulset(1),)))
    assert sync(model, state).pods(NS) == []  # "pvc www-web-0 is being deleted"
    # once its finalizer goes (the pvc-protection controller: no pod uses it) the claim is
    # gone, and the next sync creates a new claim and the pod
    c = state.get("PersistentVolumeClaim", NS, "www-web-0")
    tx = state.edit()
    apiserver.apply(tx, apiserver.Update(replace(c, metadata=replace(c.metadata, finalizers=()))), ModelConfig())
    state = sync(model, tx.commit())
    assert names(state) == ["web-0"]
    assert state.get("PersistentVolumeClaim", NS, "www-web-0").metadata.uid != c.metadata.uid


def test_a_pending_pod_gets_its_missing_claims_recreated() -> None:
    # RecreatesPVCForPendingPod
    model = controller_model()
    state = sync(model, start(model, statefulset(1), settle=False))
    tx = state.edit()
    tx.remove(state.get("PersistentVolumeClaim", NS, "www-web-0").ref)
    state = tx.commit()
    state = sync(model, state)
    assert state.get("PersistentVolumeClaim", NS, "www-web-0") is not None


@pytest.mark.parametrize(
    "when_scaled,when_deleted,set_ref",
    [(RETAIN, RETAIN, False), (RETAIN, DELETE, True), (DELETE, RETAIN, False), (DELETE, DELETE, True)],
)
def test_retention_policy_owner_refs_in_range(when_scaled: str, when_deleted: str, set_ref: bool) -> None:
    model = full_model()
    state = start(model, storage_class(), statefulset(2, when_scaled=when_scaled, when_deleted=when_deleted))
    sts = the_set(state)
    for c in state.list("PersistentVolumeClaim"):
        refs = c.metadata.owner_references
        assert any(r.uid == sts.metadata.uid for r in refs) == set_ref
        assert not any(r.kind == "Pod" for r in refs)


@pytest.mark.parametrize("when_scaled,kept", [(RETAIN, True), (DELETE, False)])
def test_scale_down_with_when_scaled(when_scaled: str, kept: bool) -> None:
    # spec §7.6 derived: 3 → 1; whenScaled=Delete gives the condemned pods' claims a pod
    # ownerReference and the garbage collector deletes each claim after its pod; scaling back
    # up then creates fresh claims, while Retain reuses the old ones
    model = full_model()
    state = start(model, storage_class(), statefulset(3, when_scaled=when_scaled))
    uids = {c.metadata.name: c.metadata.uid for c in state.list("PersistentVolumeClaim")}
    refs_seen: dict[str, set[str]] = {}

    def record(prev: ClusterState, action: Any, nxt: ClusterState) -> None:
        for c in nxt.list("PersistentVolumeClaim"):
            refs_seen.setdefault(c.metadata.name, set()).update(r.name for r in c.metadata.owner_references if r.kind == "Pod")

    state = model.settle(model.step(state, Scale("StatefulSet", NS, "web", 1)), on_step=record).state
    remaining = sorted(c.metadata.name for c in state.list("PersistentVolumeClaim"))
    assert remaining == (["www-web-0", "www-web-1", "www-web-2"] if kept else ["www-web-0"])
    if not kept:
        assert refs_seen["www-web-2"] == {"web-2"} and refs_seen["www-web-1"] == {"web-1"} and not refs_seen["www-web-0"]
        # the dynamically provisioned volumes (reclaim Delete) went with their claims
        assert len(state.list("PersistentVolume")) == 1
    state = model.settle(model.step(state, Scale("StatefulSet", NS, "web", 3))).state
    assert names(state) == ["web-0", "web-1", "web-2"]
    same = [state.get("PersistentVolumeClaim", NS, n).metadata.uid == uids[n] for n in ("www-web-1", "www-web-2")]
    assert same == [kept, kept]


def test_deleting_the_set_with_when_deleted_delete_collects_the_claims() -> None:
    model = full_model()
    state = start(model, storage_class(), statefulset(2, when_deleted=DELETE))
    state = model.settle(model.step(state, DeleteObject("StatefulSet", NS, "web"))).state
    assert state.pods(NS) == [] and state.list("PersistentVolumeClaim") == []
    kept = start(model, storage_class(), statefulset(2))
    kept = model.settle(model.step(kept, DeleteObject("StatefulSet", NS, "web"))).state
    assert kept.pods(NS) == [] and len(kept.list("PersistentVolumeClaim")) == 2


def test_a_stale_claim_blocks_the_creation_of_its_pod() -> None:
    # PodClaimIsStale: whenScaled=Delete and the claim still belongs to an earlier web-1
    model = controller_model()
    stale = _claim("www-web-1", refs=(_ref("Pod", "web-1", "old-uid"),))
    state = start(model, stale, statefulset(2, when_scaled=DELETE), settle=False)
    state = scale_up(model, state)
    assert names(state) == ["web-0"]
    retain = scale_up(model, start(model, stale, statefulset(2), settle=False))
    assert names(retain) == ["web-0", "web-1"]


# ---- revisions and updates -------------------------------------------------------------


def test_rolling_update_with_partition() -> None:
    # spec §7.6 derived: partition 2, replicas 5 → 4, 3, 2 updated one at a time; 0, 1 stay
    model = full_model()
    ru = {"type": "RollingUpdate", "rollingUpdate": {"partition": 2}}
    state = start(model, storage_class(), statefulset(5, updateStrategy=ru))
    old = the_set(state).status.current_revision
    deleted: list[str] = []

    def record(prev: ClusterState, action: Any, nxt: ClusterState) -> None:
        if isinstance(action, Reconcile) and action.controller == "statefulset":
            for p in prev.pods(NS):
                q = nxt.get("Pod", NS, p.metadata.name)
                if p.metadata.deletion_timestamp is None and q is not None and q.metadata.deletion_timestamp is not None:
                    deleted.append(p.metadata.name)
                    # each deletion waits until every higher updated pod is healthy
                    assert all(x.ready for x in prev.pods(NS))

    state = model.settle(model.step(state, SetImage("StatefulSet", NS, "web", "nginx:2")), on_step=record).state
    st = the_set(state).status
    assert deleted == ["web-4", "web-3", "web-2"]
    assert [revision_of(state, f"web-{i}") for i in range(5)] == [old, old] + [st.update_revision] * 3
    assert (st.current_revision, st.updated_replicas, st.current_replicas) == (old, 3, 2)
    state = model.settle(model.step(state, Patch("StatefulSet", NS, "web", freeze({"spec": {"updateStrategy": {"rollingUpdate": {"partition": 0}}}})))).state
    st = the_set(state).status
    assert {revision_of(state, f"web-{i}") for i in range(5)} == {st.update_revision}
    assert st.current_revision == st.update_revision and st.current_replicas == 5


def test_on_delete_replaces_pods_only_when_the_user_deletes_them() -> None:
    model = full_model()
    state = start(model, storage_class(), statefulset(2, updateStrategy={"type": "OnDelete"}))
    old = the_set(state).status.current_revision
    state = model.settle(model.step(state, SetImage("StatefulSet", NS, "web", "nginx:2"))).state
    new = the_set(state).status.update_revision
    assert new != old and [revision_of(state, p) for p in ("web-0", "web-1")] == [old, old]
    state = model.settle(model.step(state, DeleteObject("Pod", NS, "web-1"))).state
    assert [revision_of(state, p) for p in ("web-0", "web-1")] == [old, new]
    assert the_set(state).status.current_revision == old  # completeRollingUpdate only with RollingUpdate


def test_rollback_reuses_the_old_revision_with_a_new_number() -> None:
    model = full_model()
    state = start(model, storage_class(), statefulset(2))
    first = the_set(state).status.current_revision
    state = model.settle(model.step(state, SetImage("StatefulSet", NS, "web", "nginx:2"))).state
    second = the_set(state).status.current_revision
    state = model.settle(model.step(state, SetImage("StatefulSet", NS, "web", "nginx:1"))).state
    revs = {r.metadata.name: r.revision for r in state.list("ControllerRevision")}
    assert revs == {first: 3, second: 2}
    assert the_set(state).status.current_revision == first
    assert {revision_of(state, p) for p in ("web-0", "web-1")} == {first}


def test_history_is_truncated_to_the_limit() -> None:
    model = full_model()
    state = start(model, storage_class(), statefulset(1, revisionHistoryLimit=1))
    for image in ("nginx:2", "nginx:3", "nginx:4"):
        state = model.settle(model.step(state, SetImage("StatefulSet", NS, "web", image))).state
    live = the_set(state).status.current_revision
    revs = sorted((r.revision, r.metadata.name) for r in state.list("ControllerRevision"))
    assert [n for _, n in revs][-1] == live and len(revs) == 2  # the live one and one of history
    assert revs[0][0] == 3


def _max_unavailable_set(policy: str) -> Any:
    return statefulset(6, claims=False, policy=policy, updateStrategy={"type": "RollingUpdate", "rollingUpdate": {"partition": 3, "maxUnavailable": 2}})


def test_rolling_update_with_max_unavailable_ordered_ready() -> None:
    # TestStatefulSetControlRollingUpdateWithMaxUnavailable (OrderedReady), gate on
    model = controller_model(gate=True)
    state = scale_up(model, start(model, _max_unavailable_set("OrderedReady"), settle=False))
    state = sync(model, model.step(state, SetImage("StatefulSet", NS, "web", "foo")))
    assert names(state) == ["web-0", "web-1", "web-2", "web-3"]  # 5 and 4 deleted together
    state = sync(model, state)
    assert names(state) == ["web-0", "web-1", "web-2", "web-3", "web-4"]  # one at a time
    state = sync(model, make_ready(state, "web-4"))
    assert len(names(state)) == 6
    state = sync(model, make_ready(state, "web-5"))
    assert names(state) == ["web-0", "web-1", "web-2", "web-4", "web-5"]  # then 3
    state = sync(model, state)
    assert len(names(state)) == 6
    state = sync(model, make_ready(state, "web-3"))
    upd = the_set(state).status.update_revision
    assert [revision_of(state, f"web-{i}") == upd for i in range(6)] == [False] * 3 + [True] * 3
    assert sync(model, state).pods(NS) == state.pods(NS)


def test_rolling_update_with_max_unavailable_parallel() -> None:
    # TestStatefulSetControlRollingUpdateWithMaxUnavailable (Parallel): pod 3 goes as soon as
    # pod 4 is ready, although pod 5 is not
    model = controller_model(gate=True)
    state = scale_up(model, start(model, _max_unavailable_set("Parallel"), settle=False))
    state = sync(model, model.step(state, SetImage("StatefulSet", NS, "web", "foo")))
    assert names(state) == ["web-0", "web-1", "web-2", "web-3"]
    state = sync(model, state)
    assert len(names(state)) == 6  # 4 and 5 created together
    state = write_status(make_ready(state, "web-4"), "web-5", "Running", False)
    state = sync(model, state)
    assert names(state) == ["web-0", "web-1", "web-2", "web-4", "web-5"]
    assert len(names(sync(model, state))) == 6


def test_max_unavailable_is_ignored_without_the_feature_gate() -> None:
    # MaxUnavailableStatefulSet is alpha (off) through 1.34: one pod at a time
    model = controller_model()
    state = scale_up(model, start(model, _max_unavailable_set("OrderedReady"), settle=False))
    state = sync(model, model.step(state, SetImage("StatefulSet", NS, "web", "foo")))
    assert names(state) == ["web-0", "web-1", "web-2", "web-3", "web-4"]


@pytest.mark.parametrize("terminating", [[], [5], [3], [4], [5, 4], [5, 3], [4, 3], [5, 4, 3], [2], [1]])
def test_max_unavailable_counts_terminating_pods(terminating: list[int]) -> None:
    # TestStatefulSetControlRollingUpdateWithMaxUnavailableInOrderedModeVerifyInvariant:
    # updateStatefulSetAfterInvariantEstablished deletes maxUnavailable − unavailable pods
    model = controller_model(gate=True)
    state = scale_up(model, start(model, _max_unavailable_set("OrderedReady"), settle=False))
    state = model.step(state, SetImage("StatefulSet", NS, "web", "foo"))
    pods = {p.metadata.name: p for p in state.pods(NS)}
    for o in terminating:
        p = pods[f"web-{o}"]
        pods[p.metadata.name] = replace(p, metadata=replace(p.metadata, deletion_timestamp=state.clock))
    sync_ = Sync(state, the_set(state), model.config, True)
    sync_.replicas = [pods[f"web-{i}"] for i in range(6)]
    sync_.update_name = "new-revision"
    sync_.rolling_update_max_unavailable(the_set(state).status)
    deleted = [r.ref.name for r in sync_.requests if isinstance(r, apiserver.Delete)]
    assert len(deleted) == max(2 - len(terminating), 0)
    assert all(parent_and_ordinal(n)[1] >= 3 for n in deleted)


# ---- failed pods and node failure -------------------------------------------------------


@pytest.mark.parametrize(
    "version,phase,after_one_sync,after_two",
    [
        ("1.28", "Failed", "replaced", "replaced"),  # delete and recreate in one pass
        ("1.28", "Succeeded", "kept", "kept"),  # v1.28.0: Succeeded pods are not replaced (#118310)
        ("1.29", "Succeeded", "replaced", "replaced"),  # kubernetes#121389
        ("1.30", "Failed", "replaced", "replaced"),
        ("1.31", "Failed", "gone", "replaced"),  # kubernetes#123809: delete, then wait
        ("1.34", "Succeeded", "gone", "replaced"),
    ],
)
def test_terminal_pods_are_replaced_per_release(version: str, phase: str, after_one_sync: str, after_two: str) -> None:
    model = controller_model(version)
    state = scale_up(model, start(model, statefulset(2, claims=False), settle=False))
    old = state.get("Pod", NS, "web-1").metadata.uid
    # the kubelet reports a terminal phase (an assigned pod is deleted gracefully, so bind it first)
    state = write_status(state, "web-1", phase, False)

    def outcome(s: ClusterState) -> str:
        p = s.get("Pod", NS, "web-1")
        return "gone" if p is None else ("kept" if p.metadata.uid == old else "replaced")

    state = sync(model, state)
    assert outcome(state) == after_one_sync
    assert outcome(sync(model, state)) == after_two


def test_parallel_availability_wait_per_release() -> None:
    # kubernetes#130909 (1.34): with minReadySeconds the rolling update waits for the updated
    # pod to be available; before, Ready was enough
    def deletions_after_ready(version: str) -> list[str]:
        model = controller_model(version)
        state = scale_up(model, start(model, statefulset(3, claims=False, policy="Parallel", minReadySeconds=30), settle=False))
        state = model.step(state, Tick(60))
        state = sync(model, model.step(state, SetImage("StatefulSet", NS, "web", "nginx:2")))
        assert names(state) == ["web-0", "web-1"]
        state = make_ready(sync(model, state), "web-2")
        nxt = sync(model, state)
        return [n for n in ("web-0", "web-1") if nxt.get("Pod", NS, n) is None]

    assert deletions_after_ready("1.33") == ["web-1"]
    assert deletions_after_ready("1.34") == []


def test_node_failure_keeps_the_identity_until_the_pod_is_force_deleted() -> None:
    # spec §7.7: a pod on a failed node is Terminating (taint eviction) but its object stays;
    # the replacement comes only after a force deletion
    model = full_model()
    state = start(model, storage_class(), statefulset(2))
    victim = state.get("Pod", NS, "web-1")
    down = victim.spec.node_name
    state = model.step(state, FailNode(down))
    state = model.settle(state, horizon=state.clock + 600).state
    stuck = state.get("Pod", NS, "web-1")
    assert stuck.metadata.uid == victim.metadata.uid and stuck.metadata.deletion_timestamp is not None
    state = model.step(state, DeleteObject("Pod", NS, "web-1", grace_period=0))
    state = model.settle(state, horizon=state.clock + 60).state
    new = state.get("Pod", NS, "web-1")
    assert new.metadata.uid != victim.metadata.uid and new.spec.node_name != down and new.ready
    assert new.spec.volumes[0].persistent_volume_claim.claim_name == "www-web-1"


def test_a_local_volume_pins_the_replacement_to_its_node() -> None:
    # spec §13: after a force deletion the replacement can only go where its local volume is
    model = full_model()
    pvs = [local_pv(f"local-{n}-{i}", n) for n in ("n1", "n2") for i in range(2)]
    sts = statefulset(2)
    tpl = sts.spec.volume_claim_templates[0]
    sts = replace(sts, spec=replace(sts.spec, volume_claim_templates=(replace(tpl, spec=replace(tpl.spec, storage_class_name="local")),)))
    state = start(model, local_class(), *pvs, sts)
    web1 = state.get("Pod", NS, "web-1")
    pv = state.get("PersistentVolume", "", state.get("PersistentVolumeClaim", NS, "www-web-1").spec.volume_name)
    assert pv.metadata.name.startswith(f"local-{web1.spec.node_name}-")
    state = model.step(state, FailNode(web1.spec.node_name))
    state = model.step(state, DeleteObject("Pod", NS, "web-1", grace_period=0))
    state = model.settle(state, horizon=state.clock + 120).state
    new = state.get("Pod", NS, "web-1")
    assert new is not None and new.metadata.uid != web1.metadata.uid
    assert new.spec.node_name in ("", web1.spec.node_name)  # never the other node
    assert not new.ready


def test_status_reports_observed_generation_and_counts() -> None:
    model = full_model()
    state = start(model, storage_class(), statefulset(3))
    sts = the_set(state)
    st = sts.status
    assert (st.observed_generation, st.replicas, st.ready_replicas, st.available_replicas, st.current_replicas, st.updated_replicas) == (
        sts.metadata.generation,
        3,
        3,
        3,
        3,
        3,
    )
    assert st.current_revision == st.update_revision == next(iter(state.list("ControllerRevision"))).metadata.name
    assert st.collision_count == 0


def test_adopts_orphan_pods_and_releases_non_members() -> None:
    model = controller_model()
    orphan = obj(
        {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "web-0", "namespace": NS, "labels": {"app": "web"}}, "spec": {"containers": [{"name": "c"}]}}
    )
    stranger = obj(
        {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "cache-0", "namespace": NS, "labels": {"app": "web"}}, "spec": {"containers": [{"name": "c"}]}}
    )
    state = sync(model, start(model, orphan, stranger, statefulset(1, claims=False), settle=False))
    sts = the_set(state)
    assert state.get("Pod", NS, "web-0").metadata.controller_ref().uid == sts.metadata.uid
    assert state.get("Pod", NS, "cache-0").metadata.controller_ref() is None  # isMemberOf filter


# ---- property: generated StatefulSets converge ---------------------------------------------


@settings(max_examples=15, deadline=None)
@given(sts=stateful_sets(), version=st.sampled_from(["1.28", "1.34"]))
def test_generated_statefulsets_converge_without_violations(sts: StatefulSet, version: str) -> None:
    # LIV-STS: every ordinal in range ends Running and Ready, status says so, and no
    # StatefulSet or storage invariant is violated on the way
    invs = [i for i in select() if "statefulset" in i.tags or "storage" in i.tags]
    checker = Checker(invs)
    found: list[Any] = []
    model = full_model(version)
    state = empty_state()
    for n in ("n1", "n2"):
        state = model.step(state, AddNode(node(n, labels={"disktype": "ssd"})))
    state = model.step(state, Apply((storage_class(), sts)))
    result = model.settle(state, on_step=lambda a, act, b: found.extend(checker.transition_(a, act, b) + checker.state(b)))
    assert result.quiescent, result.reason
    state = result.state
    found.extend(checker.at_quiescence(state))
    assert found == []
    start_ = sts.spec.ordinals.start if sts.spec.ordinals else 0
    assert names(state) == [f"web-{o}" for o in range(start_, start_ + sts.spec.replicas)]
    assert all(p.ready for p in state.pods(NS))
    st_ = the_set(state).status
    assert st_.replicas == st_.ready_replicas == sts.spec.replicas
    assert st_.current_revision == st_.update_revision
