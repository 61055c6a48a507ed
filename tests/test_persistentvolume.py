"""PV/PVC binding (pv_controller.go, index.go, pv_helpers.go), dynamic provisioning,
WaitForFirstConsumer, reclaim, the protection finalizers, and the scheduler's
VolumeBinding filter (spec §13)."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import pytest

from kmodel import apiserver
from kmodel.actions import AddNode, Apply, DeleteObject, Reconcile
from kmodel.config import ModelConfig
from kmodel.controllers.persistentvolume import (
    ANN_BIND_COMPLETED,
    PV_PROTECTION,
    PVC_PROTECTION,
    PersistentVolumeController,
    find_matching_volume,
    pod_volume_failures,
)
from kmodel.model import Model
from kmodel.objects.storage import ObjectReference, PersistentVolume, PersistentVolumeClaim
from kmodel.state import ClusterState, empty_state, state_of
from tests.builders import node, obj

NS = "default"


def pv(
    name: str, size: str = "1Gi", modes: tuple[str, ...] = ("ReadWriteOnce",), klass: str = "", *, phase: str = "Available", **spec: Any
) -> PersistentVolume:
    labels = spec.pop("labels", {})
    doc: dict[str, Any] = {"capacity": {"storage": size}, "accessModes": list(modes), "storageClassName": klass, **spec}
    v: PersistentVolume = obj({"apiVersion": "v1", "kind": "PersistentVolume", "metadata": {"name": name, "labels": labels}, "spec": doc})
    return replace(v, status=replace(v.status, phase=phase))


def pvc(name: str, size: str = "1Gi", modes: tuple[str, ...] = ("ReadWriteOnce",), klass: str | None = None, **spec: Any) -> PersistentVolumeClaim:
    doc: dict[str, Any] = {"accessModes": list(modes), "resources": {"requests": {"storage": size}}, **spec}
    if klass is not None:
        doc["storageClassName"] = klass
    c: PersistentVolumeClaim = obj({"apiVersion": "v1", "kind": "PersistentVolumeClaim", "metadata": {"name": name, "namespace": NS}, "spec": doc})
    return replace(c, metadata=replace(c.metadata, uid=f"uid-{name}"))


def storage_class(name: str = "standard", provisioner: str = "csi.example.com", mode: str = "Immediate", default: bool = False, reclaim: str = "Delete") -> Any:
    meta: dict[str, Any] = {"name": name}
    if default:
        meta["annotations"] = {"storageclass.kubernetes.io/is-default-class": "true"}
    return obj(
        {
            "apiVersion": "storage.k8s.io/v1",
            "kind": "StorageClass",
            "metadata": meta,
            "provisioner": provisioner,
            "reclaimPolicy": reclaim,
            "volumeBindingMode": mode,
        }
    )


def pod(name: str, *claims: str, node_name: str = "") -> Any:
    spec: dict[str, Any] = {
        "containers": [{"name": "c", "image": "nginx"}],
        "volumes": [{"name": c, "persistentVolumeClaim": {"claimName": c}} for c in claims],
    }
    if node_name:
        spec["nodeName"] = node_name
    return obj({"apiVersion": "v1", "kind": "Pod", "metadata": {"name": name, "namespace": NS, "labels": {"app": name}}, "spec": spec})


def pinned(name: str, node_name: str, **kw: Any) -> PersistentVolume:
    affinity = {"required": {"nodeSelectorTerms": [{"matchExpressions": [{"key": "kubernetes.io/hostname", "operator": "In", "values": [node_name]}]}]}}
    return pv(name, nodeAffinity=affinity, **kw)


def run(*objects: Any, nodes: tuple[str, ...] = ("n1",), model: Model | None = None) -> ClusterState:
    model = model or Model()
    state = empty_state()
    for n in nodes:
        state = model.step(state, AddNode(node(n)))
    state = model.step(state, Apply(tuple(objects)))
    return model.settle(state).state


def claim_of(state: ClusterState, name: str) -> PersistentVolumeClaim:
    c: PersistentVolumeClaim = state.get("PersistentVolumeClaim", NS, name)
    return c


def volume(state: ClusterState, name: str) -> PersistentVolume:
    v: PersistentVolume = state.get("PersistentVolume", "", name)
    return v


# ---- matching (index_test.go) --------------------------------------------------------------


def test_finding_volume_with_different_access_modes() -> None:
    # TestFindingVolumeWithDifferentAccessModes: the smallest set of modes that covers the claim wins
    gce = pv("gce", "10G", ("ReadWriteOnce", "ReadOnlyMany"))
    ebs = pv("ebs", "10G", ("ReadWriteOnce",))
    nfs = pv("nfs", "10G", ("ReadWriteOnce", "ReadOnlyMany", "ReadWriteMany"))
    vols = [gce, ebs, nfs]

    def match(modes: tuple[str, ...], volumes: list[PersistentVolume]) -> str | None:
        found = find_matching_volume(pvc("claim01", "1G", modes), volumes)
        return found.metadata.name if found else None

    assert match(("ReadWriteOnce",), vols) == "ebs"
    assert match(("ReadWriteOnce", "ReadOnlyMany"), vols) == "gce"
    assert match(("ReadWriteMany", "ReadWriteOnce", "ReadOnlyMany"), vols) == "nfs"
    assert match(("ReadWriteMany",), vols) == "nfs"
    taken = replace(ebs, spec=replace(ebs.spec, claim_ref=ObjectReference()))
    assert match(("ReadWriteOnce",), [gce, taken, nfs]) == "gce"
    taken_gce = replace(gce, spec=replace(gce.spec, claim_ref=ObjectReference()))
    assert match(("ReadWriteOnce",), [taken_gce, taken, nfs]) == "nfs"
    assert match(("ReadOnlyMany",), vols) == "gce"


def test_finding_prebound_volumes() -> None:
    # TestFindingPreboundVolumes: exact size first; a volume pre-bound to the claim wins over a better fit
    claim = pvc("claim01", "1Gi")
    pv1, pv5, pv8 = pv("pv1", "1Gi"), pv("pv5", "5Gi"), pv("pv8", "8Gi")
    bad_size, bad_mode = pv("pv-bad-size", "1Mi"), pv("pv-bad-mode", "1Gi", ("ReadOnlyMany",))
    vols = [pv1, pv5, pv8, bad_size, bad_mode]
    assert find_matching_volume(claim, vols) == pv1
    ref = ObjectReference(kind="PersistentVolumeClaim", namespace=NS, name="claim01", uid="uid-claim01")
    pv8b = replace(pv8, spec=replace(pv8.spec, claim_ref=ref))
    assert find_matching_volume(claim, [pv1, pv5, pv8b, bad_size, bad_mode]) == pv8b
    by_name = replace(pv5, spec=replace(pv5.spec, claim_ref=replace(ref, uid="")))
    assert find_matching_volume(claim, [pv1, by_name, pv8, bad_size, bad_mode]) == by_name
    other = replace(pv1, spec=replace(pv1.spec, claim_ref=replace(ref, uid="someone-else")))
    assert find_matching_volume(claim, [other, pv5, pv8]) == pv5


@pytest.mark.parametrize(
    "claim,want",
    [
        (pvc("c", "1Gi"), "small"),  # the exact fit (the Released one is not Available)
        (pvc("c", "2Gi"), "labelled"),  # the smallest with enough capacity
        (pvc("c", "4Gi"), "big"),
        (pvc("c", "1Gi", klass="gold"), "gold"),  # class
        (pvc("c", "1Gi", volumeMode="Block"), "block"),  # volume mode
        (pvc("c", "1Gi", selector={"matchLabels": {"tier": "db"}}), "labelled"),  # selector
        (pvc("c", "100Gi"), None),
    ],
)
def test_matching_by_class_capacity_mode_and_selector(claim: PersistentVolumeClaim, want: str | None) -> None:
    vols = [
        pv("small", "1Gi"),
        pv("big", "5Gi"),
        pv("gold", "1Gi", klass="gold"),
        pv("block", "1Gi", volumeMode="Block"),
        pv("labelled", "3Gi", labels={"tier": "db"}),
        pv("released", "1Gi", phase="Released"),
    ]
    found = find_matching_volume(claim, vols)
    assert (found.metadata.name if found else None) == want


def test_delayed_binding_without_a_node_only_takes_prebound_volumes() -> None:
    # TestBestMatchDelayed
    claim = pvc("c")
    assert find_matching_volume(claim, [pv("free")], delay_binding=True) is None
    assert find_matching_volume(claim, [pv("free")], delay_binding=False) is not None


# ---- the controller ----------------------------------------------------------------------


def test_immediate_claim_binds_to_the_smallest_match_one_to_one() -> None:
    state = run(pv("pv-5", "5Gi"), pv("pv-1", "1Gi"), pvc("a", "1Gi"), pvc("b", "1Gi"), pvc("c", "1Gi"))
    a, b, c = (claim_of(state, n) for n in "abc")
    bound = sorted((x.metadata.name, x.spec.volume_name) for x in (a, b, c) if x.status.phase == "Bound")
    assert bound == [("a", "pv-1"), ("b", "pv-5")]  # claims in name order; c finds nothing
    assert c.status.phase == "Pending" and not c.spec.volume_name
    for name, vol in bound:
        v = volume(state, vol)
        ref = v.spec.claim_ref
        assert v.status.phase == "Bound" and ref is not None and ref.name == name and ref.uid == claim_of(state, name).metadata.uid
        assert v.metadata.annotations["pv.kubernetes.io/bound-by-controller"] == "yes"
        claim = claim_of(state, name)
        assert claim.metadata.annotations[ANN_BIND_COMPLETED] == "yes"
        assert claim.status.capacity == v.spec.capacity and claim.status.access_modes == v.spec.access_modes


def test_claim_naming_a_volume_binds_to_it() -> None:
    state = run(pv("small", "1Gi"), pv("named", "5Gi"), pvc("a", "1Gi", volumeName="named"))
    assert claim_of(state, "a").spec.volume_name == "named" and claim_of(state, "a").status.phase == "Bound"
    assert volume(state, "small").status.phase == "Available"
    assert "pv.kubernetes.io/bound-by-controller" not in claim_of(state, "a").metadata.annotations


def test_dynamic_provisioning_creates_pvc_uid_with_the_class_reclaim_policy() -> None:
    state = run(storage_class(reclaim="Retain"), pvc("data", "2Gi", klass="standard"))
    claim = claim_of(state, "data")
    v = volume(state, f"pvc-{claim.metadata.uid}")
    assert v.spec.persistent_volume_reclaim_policy == "Retain" and v.spec.storage_class_name == "standard"
    assert v.spec.claim_ref is not None and v.spec.claim_ref.uid == claim.metadata.uid
    assert v.spec.capacity["storage"] == 2 * 1024**3
    assert v.metadata.annotations["pv.kubernetes.io/provisioned-by"] == "csi.example.com"
    assert claim.status.phase == "Bound" and claim.spec.volume_name == v.metadata.name


def test_a_claim_without_class_gets_the_default_class() -> None:
    # RetroactiveDefaultStorageClass (GA 1.28): no class-less volume matches, so the default applies
    state = run(storage_class(default=True), pvc("data"))
    assert claim_of(state, "data").spec.storage_class_name == "standard" and claim_of(state, "data").status.phase == "Bound"
    no_default = run(storage_class(), pvc("data"))
    assert claim_of(no_default, "data").status.phase == "Pending" and claim_of(no_default, "data").spec.storage_class_name is None


def test_wait_for_first_consumer_binds_on_the_pods_node() -> None:
    klass = storage_class("local", provisioner="kubernetes.io/no-provisioner", mode="WaitForFirstConsumer")
    vols = [pinned("on-n1", "n1", klass="local"), pinned("on-n2", "n2", klass="local", size="2Gi")]
    state = run(klass, *vols, pvc("data", klass="local"), nodes=("n1", "n2"))
    assert claim_of(state, "data").status.phase == "Pending"  # no consumer yet
    model = Model()
    consumer = obj(
        {
            "apiVersion": "v1",
            "kind": "Pod",
            "metadata": {"name": "db", "namespace": NS},
            "spec": {
                "nodeSelector": {"kubernetes.io/hostname": "n2"},
                "containers": [{"name": "c", "image": "db"}],
                "volumes": [{"name": "d", "persistentVolumeClaim": {"claimName": "data"}}],
            },
        }
    )
    state = model.settle(model.step(state, Apply((consumer,)))).state
    assert state.get("Pod", NS, "db").spec.node_name == "n2"
    assert claim_of(state, "data").spec.volume_name == "on-n2"  # not the smaller on-n1: wrong node


def test_wait_for_first_consumer_provisions_for_the_selected_node() -> None:
    state = run(storage_class(mode="WaitForFirstConsumer"), pvc("data", klass="standard"), pod("db", "data"))
    claim = claim_of(state, "data")
    assert claim.status.phase == "Bound"
    assert claim.metadata.annotations["volume.kubernetes.io/selected-node"] == state.get("Pod", NS, "db").spec.node_name


@pytest.mark.parametrize("reclaim,provisioned,want", [("Retain", True, "Released"), ("Delete", True, None), ("Delete", False, "Failed")])
def test_reclaim_after_the_claim_is_deleted(reclaim: str, provisioned: bool, want: str | None) -> None:
    objects: list[Any] = [pvc("data", klass="standard")]
    if provisioned:
        objects.append(storage_class(reclaim=reclaim))
    else:
        objects.append(pv("static", klass="standard", persistentVolumeReclaimPolicy=reclaim))
    model = Model()
    state = run(*objects, model=model)
    name = claim_of(state, "data").spec.volume_name
    state = model.settle(model.step(state, DeleteObject("PersistentVolumeClaim", NS, "data"))).state
    assert claim_of(state, "data") is None
    v = volume(state, name)
    assert (v.status.phase if v else None) == want


def test_claim_protection_waits_for_the_pods_using_it() -> None:
    model = Model()
    state = run(storage_class(default=True), pvc("data"), pod("db", "data"), model=model)
    assert claim_of(state, "data").metadata.finalizers == (PVC_PROTECTION,)
    assert volume(state, claim_of(state, "data").spec.volume_name).metadata.finalizers == (PV_PROTECTION,)
    state = model.settle(model.step(state, DeleteObject("PersistentVolumeClaim", NS, "data"))).state
    c = claim_of(state, "data")
    assert c is not None and c.metadata.deletion_timestamp is not None  # db still mounts it
    state = model.settle(model.step(state, DeleteObject("Pod", NS, "db"))).state
    assert claim_of(state, "data") is None and state.list("PersistentVolume") == []


def test_a_bound_claim_whose_volume_vanished_is_lost() -> None:
    model = Model()
    state = run(pv("static"), pvc("data"), model=model)
    tx = state.edit()
    tx.remove(volume(state, "static").ref)
    state = model.settle(tx.commit()).state
    assert claim_of(state, "data").status.phase == "Lost"


def test_volume_released_by_controller_binding_is_unbound_when_its_claim_goes_elsewhere() -> None:
    # syncVolume: the claim is bound to another volume; a controller-made claimRef is dropped
    claim = replace(pvc("data", volumeName="other"), status=replace(pvc("data").status, phase="Bound"))
    claim = replace(claim, metadata=replace(claim.metadata, annotations=claim.metadata.annotations.set(ANN_BIND_COMPLETED, "yes")))
    ref = ObjectReference(kind="PersistentVolumeClaim", namespace=NS, name="data", uid=claim.metadata.uid)
    stale = pv("stale", claimRef={"kind": "PersistentVolumeClaim", "namespace": NS, "name": "data", "uid": ref.uid}, phase="Bound")
    annotations = stale.metadata.annotations.set("pv.kubernetes.io/bound-by-controller", "yes")
    stale = replace(stale, metadata=replace(stale.metadata, annotations=annotations, finalizers=(PV_PROTECTION,)))
    state = state_of([claim, stale])
    reqs = PersistentVolumeController().requests(state, Reconcile("persistentvolume", "", "stale", kind="PersistentVolume"), ModelConfig())
    tx = state.edit()
    for r in reqs:
        apiserver.apply(tx, r, ModelConfig())
    after = tx.commit().get("PersistentVolume", "", "stale")
    assert after.spec.claim_ref is None and after.status.phase == "Available"


# ---- the scheduler's VolumeBinding filter ----------------------------------------------------


def test_scheduler_keeps_pods_with_missing_or_unbound_immediate_claims_pending() -> None:
    n1 = node("n1")
    state = state_of([n1, pvc("unbound"), pod("p1", "missing"), pod("p2", "unbound")])
    assert pod_volume_failures(state, state.get("Pod", NS, "p1"), n1) == ['VolumeBinding(persistentvolumeclaim "missing" not found)']
    assert pod_volume_failures(state, state.get("Pod", NS, "p2"), n1) == ["VolumeBinding(pod has unbound immediate PersistentVolumeClaims)"]
    state = run(pod("p1", "missing"), pvc("unbound"), pod("p2", "unbound"))
    assert [p.spec.node_name for p in state.pods(NS)] == ["", ""]


def test_scheduler_honours_a_bound_volumes_node_affinity() -> None:
    state = run(pinned("local", "n2"), pvc("data"), pod("db", "data"), nodes=("n1", "n2", "n3"))
    assert claim_of(state, "data").spec.volume_name == "local"
    assert state.get("Pod", NS, "db").spec.node_name == "n2"


def test_scheduler_rejects_a_terminating_claim() -> None:
    n1 = node("n1")
    c = pvc("data")
    c = replace(c, metadata=replace(c.metadata, deletion_timestamp=0, finalizers=(PVC_PROTECTION,)))
    state = state_of([n1, c, pod("db", "data")])
    assert pod_volume_failures(state, state.get("Pod", NS, "db"), n1) == ['VolumeBinding(persistentvolumeclaim "data" is being deleted)']
