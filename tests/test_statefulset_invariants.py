"""Each StatefulSet and PV invariant holds on runs of the reference controllers (and is
exercised: its subjects exist and the runs do what it judges) and catches a deliberately
broken controller plugged in with Model().with_actor(...)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from typing import Any

from invariants.registry import Invariant, Kind, Violation, select
from kmodel import apiserver
from kmodel.actions import Action, AddNode, Apply, DeleteObject, FailNode, Scale, SetImage
from kmodel.config import ModelConfig
from kmodel.controllers.persistentvolume import PersistentVolumeController, bind, volume_capacity
from kmodel.controllers.statefulset import StatefulSetController, Sync
from kmodel.model import Model
from kmodel.objects.apps import StatefulSet
from kmodel.objects.meta import ObjRef
from kmodel.objects.pod import Pod
from kmodel.objects.storage import PersistentVolumeClaim
from kmodel.state import ClusterState, empty_state
from tests.builders import node, obj
from tests.test_statefulset import NS, statefulset, storage_class


def inv(name: str) -> Invariant:
    (found,) = select([name])
    return found


def run(
    model: Model, objects: Sequence[Any], *user: Action, invariant: Invariant, nodes: tuple[str, ...] = ("n1", "n2"), horizon: int | None = None
) -> tuple[list[Violation], ClusterState, int]:
    """Nodes, `objects` applied and settled, then each user action settled; returns the
    violations of `invariant` (on every step, and at every quiescent end), the final state
    and the largest subject count seen."""
    state = empty_state()
    for n in nodes:
        state = model.step(state, AddNode(node(n)))
    found: list[Violation] = []
    subjects = 0

    def check(prev: ClusterState, action: Any, nxt: ClusterState) -> None:
        nonlocal subjects
        subjects = max(subjects, invariant.subjects(nxt))
        if invariant.kind is Kind.TRANSITION:
            found.extend(invariant.check(prev, action, nxt))
        elif invariant.kind is Kind.ALWAYS:
            found.extend(invariant.check(nxt))

    for action in (Apply(tuple(objects)), *user):
        nxt = model.step(state, action)
        check(state, action, nxt)
        result = model.settle(nxt, on_step=check, horizon=None if horizon is None else nxt.clock + horizon)
        state = result.state
        if result.quiescent and invariant.kind is Kind.QUIESCENT:
            found.extend(invariant.check(state))
    return found, state, subjects


class SetRewriting(StatefulSetController):
    """A broken controller that syncs a rewritten copy of the set (it misreads its spec)."""

    def rewrite(self, sts: StatefulSet) -> StatefulSet:
        raise NotImplementedError

    def reconcile(self, state: ClusterState, obj: object, config: ModelConfig) -> Sequence[apiserver.Request]:
        assert isinstance(obj, StatefulSet)
        return super().reconcile(state, self.rewrite(obj), config)


class IgnoresStartOrdinal(SetRewriting):
    def rewrite(self, sts: StatefulSet) -> StatefulSet:
        return replace(sts, spec=replace(sts.spec, ordinals=None))


class TreatsOrderedReadyAsParallel(SetRewriting):
    def rewrite(self, sts: StatefulSet) -> StatefulSet:
        return replace(sts, spec=replace(sts.spec, pod_management_policy="Parallel"))


class IgnoresPartition(SetRewriting):
    def rewrite(self, sts: StatefulSet) -> StatefulSet:
        us = sts.spec.update_strategy
        if us.type == "OnDelete":
            us = replace(us, type="RollingUpdate")
        return replace(sts, spec=replace(sts.spec, update_strategy=replace(us, rolling_update=None)))


class ForgetsClaimTemplates(SetRewriting):
    def rewrite(self, sts: StatefulSet) -> StatefulSet:
        return replace(sts, spec=replace(sts.spec, volume_claim_templates=()))


class ForceReplacesTerminatingPods(StatefulSetController):
    """A broken controller that does not wait for a terminating pod's object to go: it
    force-deletes it and creates the replacement in the same sync."""

    def reconcile(self, state: ClusterState, obj: object, config: ModelConfig) -> Sequence[apiserver.Request]:
        assert isinstance(obj, StatefulSet)
        deletes = [apiserver.Delete(p.ref, grace_period=0) for p in state.controlled_by(obj.metadata.uid, "Pod") if p.metadata.deletion_timestamp is not None]
        tx = state.edit()
        for d in deletes:
            apiserver.apply(tx, d, config)
        return [*deletes, *super().reconcile(tx.commit(), obj, config)]


class DeletesCondemnedClaims(StatefulSetController):
    """A broken controller that deletes the claims of the pods it scales down itself."""

    class _Sync(Sync):
        def process_condemned(self, i: int) -> tuple[bool, str]:
            stop, err = super().process_condemned(i)
            if any(isinstance(r, apiserver.Delete) and r.ref.name == self.condemned[i].metadata.name for r in self.requests):
                for t in self.sts.spec.volume_claim_templates:
                    name = f"{t.metadata.name}-{self.condemned[i].metadata.name}"
                    self.issue(apiserver.Delete(ObjRef("PersistentVolumeClaim", NS, name)))
            return stop, err

    sync_class = _Sync


class IgnoresTerminatingClaims(StatefulSetController):
    """A broken controller that creates pods whose claims are being deleted."""

    class _Sync(Sync):
        def create_claims(self, sts: StatefulSet, pod: Pod) -> str:
            err = super().create_claims(sts, pod)
            return "" if "being deleted" in err else err

    sync_class = _Sync


class SkipsRetentionPolicy(StatefulSetController):
    """A broken controller that never sets the claims' ownerReferences."""

    class _Sync(Sync):
        def claims_match_retention(self, sts: StatefulSet, pod: Pod) -> bool:
            return True

        def update_claims_for_retention(self, sts: StatefulSet, pod: Pod) -> str:
            return ""

    sync_class = _Sync


class BindsToAnyVolume(PersistentVolumeController):
    """A broken PV controller that binds a claim to the first large enough volume, bound or not."""

    def sync_unbound_claim(self, state: ClusterState, claim: PersistentVolumeClaim) -> list[apiserver.Request]:
        for pv in state.list("PersistentVolume"):
            if volume_capacity(pv) >= claim.spec.resources.requests.get("storage", 0):
                return bind(replace(pv, spec=replace(pv.spec, claim_ref=None)), claim)
        return []


def static_pv(name: str) -> Any:
    return obj(
        {
            "apiVersion": "v1",
            "kind": "PersistentVolume",
            "metadata": {"name": name},
            "spec": {"capacity": {"storage": "1Gi"}, "accessModes": ["ReadWriteOnce"], "hostPath": {"path": "/data"}},
        }
    )


def claim(name: str) -> Any:
    return obj(
        {
            "apiVersion": "v1",
            "kind": "PersistentVolumeClaim",
            "metadata": {"name": name, "namespace": NS},
            "spec": {"accessModes": ["ReadWriteOnce"], "resources": {"requests": {"storage": "1Gi"}}, "storageClassName": ""},
        }
    )


# ---- statefulset-ordinality ------------------------------------------------------------------


def test_ordinality_holds() -> None:
    found, state, subjects = run(
        Model(), [storage_class(), statefulset(3, ordinals={"start": 2})], Scale("StatefulSet", NS, "web", 1), invariant=inv("statefulset-ordinality")
    )
    assert found == [] and subjects == 1
    assert [p.metadata.name for p in state.pods(NS)] == ["web-2"]


def test_ordinality_catches_a_controller_that_ignores_the_start_ordinal() -> None:
    model = Model().with_actor(IgnoresStartOrdinal())
    found, _, _ = run(model, [storage_class(), statefulset(2, ordinals={"start": 2})], invariant=inv("statefulset-ordinality"))
    assert found and "web-0" in found[0].message and "outside [2, 4)" in found[0].message


# ---- statefulset-one-pod-per-identity --------------------------------------------------------


def test_one_pod_per_identity_holds_through_node_failure_and_force_delete() -> None:
    fail = FailNode("n2")
    force = DeleteObject("Pod", NS, "web-1", grace_period=0)
    found, state, _ = run(Model(), [storage_class(), statefulset(2)], fail, force, invariant=inv("statefulset-one-pod-per-identity"), horizon=600)
    assert found == []
    assert state.get("Pod", NS, "web-1").spec.node_name == "n1"  # replaced, once the object was gone


def test_one_pod_per_identity_catches_replacing_a_terminating_pod() -> None:
    model = Model().with_actor(ForceReplacesTerminatingPods())
    found, _, _ = run(model, [storage_class(), statefulset(2)], FailNode("n2"), invariant=inv("statefulset-one-pod-per-identity"), horizon=600)
    assert found and "web-1" in found[0].message and "still existed" in found[0].message


# ---- statefulset-ordered-ready ---------------------------------------------------------------


def test_ordered_ready_holds_for_scale_up_and_down() -> None:
    found, state, subjects = run(Model(), [storage_class(), statefulset(4)], Scale("StatefulSet", NS, "web", 1), invariant=inv("statefulset-ordered-ready"))
    assert found == [] and subjects == 1 and len(state.pods(NS)) == 1


def test_ordered_ready_catches_parallel_creation_and_deletion() -> None:
    model = Model().with_actor(TreatsOrderedReadyAsParallel())
    found, _, _ = run(model, [storage_class(), statefulset(3)], Scale("StatefulSet", NS, "web", 0), invariant=inv("statefulset-ordered-ready"))
    messages = " | ".join(v.message for v in found)
    assert "created Pod default/web-1 while ordinal(s) [0]" in messages
    assert "deleted 3 pods in one scale-down step" in messages


# ---- statefulset-partition -------------------------------------------------------------------


def _partitioned(**kw: Any) -> Any:
    return statefulset(4, updateStrategy={"type": "RollingUpdate", "rollingUpdate": {"partition": 2}}, **kw)


def test_partition_holds_for_rolling_update_and_on_delete() -> None:
    image = SetImage("StatefulSet", NS, "web", "nginx:2")
    found, state, _ = run(Model(), [storage_class(), _partitioned()], image, invariant=inv("statefulset-partition"))
    assert found == []
    assert [p.spec.containers[0].image for p in state.pods(NS)] == ["nginx:1", "nginx:1", "nginx:2", "nginx:2"]
    found, state, _ = run(Model(), [storage_class(), statefulset(2, updateStrategy={"type": "OnDelete"})], image, invariant=inv("statefulset-partition"))
    assert found == [] and {p.spec.containers[0].image for p in state.pods(NS)} == {"nginx:1"}


def test_partition_catches_a_controller_that_ignores_it() -> None:
    model = Model().with_actor(IgnoresPartition())
    image = SetImage("StatefulSet", NS, "web", "nginx:2")
    found, _, _ = run(model, [storage_class(), _partitioned()], image, invariant=inv("statefulset-partition"))
    assert found and "below partition 2" in found[0].message
    found, _, _ = run(model, [storage_class(), statefulset(2, updateStrategy={"type": "OnDelete"})], image, invariant=inv("statefulset-partition"))
    assert found and "(OnDelete) deleted the live pod" in found[0].message


# ---- statefulset-claim-identity --------------------------------------------------------------


def test_claim_identity_holds_across_recreations_and_scale_down() -> None:
    user = (
        DeleteObject("Pod", NS, "web-1"),
        Scale("StatefulSet", NS, "web", 1),
        DeleteObject("PersistentVolumeClaim", NS, "www-web-0"),
        DeleteObject("Pod", NS, "web-0"),
    )
    found, state, subjects = run(Model(), [storage_class(), statefulset(3, when_scaled="Delete")], *user, invariant=inv("statefulset-claim-identity"))
    assert found == [] and subjects == 1
    assert state.get("Pod", NS, "web-0").spec.volumes[0].persistent_volume_claim.claim_name == "www-web-0"


def test_claim_identity_catches_missing_volumes_claim_deletion_and_terminating_claims() -> None:
    invariant = inv("statefulset-claim-identity")
    found, _, _ = run(Model().with_actor(ForgetsClaimTemplates()), [storage_class(), statefulset(1)], invariant=invariant)
    assert found and "without volume 'www' on claim www-web-0" in found[0].message
    found, _, _ = run(Model().with_actor(DeletesCondemnedClaims()), [storage_class(), statefulset(2)], Scale("StatefulSet", NS, "web", 1), invariant=invariant)
    assert found and "deleted PersistentVolumeClaim default/www-web-1" in found[0].message
    user = (DeleteObject("PersistentVolumeClaim", NS, "www-web-0"), DeleteObject("Pod", NS, "web-0", grace_period=0))
    found, _, _ = run(Model().with_actor(IgnoresTerminatingClaims()), [storage_class(), statefulset(1)], *user, invariant=invariant)
    assert found and "while its claim PersistentVolumeClaim default/www-web-0 was being deleted" in found[0].message


# ---- statefulset-pvc-retention ---------------------------------------------------------------


def test_pvc_retention_holds_for_every_policy() -> None:
    for ws in ("Retain", "Delete"):
        for wd in ("Retain", "Delete"):
            objects = [storage_class(), statefulset(3, when_scaled=ws, when_deleted=wd)]
            found, state, subjects = run(Model(), objects, Scale("StatefulSet", NS, "web", 1), invariant=inv("statefulset-pvc-retention"))
            assert found == [] and subjects == 1, (ws, wd)
            assert len(state.list("PersistentVolumeClaim")) == (1 if ws == "Delete" else 3)


def test_pvc_retention_catches_a_controller_that_skips_the_owner_references() -> None:
    model = Model().with_actor(SkipsRetentionPolicy())
    found, _, _ = run(model, [storage_class(), statefulset(2, when_deleted="Delete")], invariant=inv("statefulset-pvc-retention"))
    assert found and "lacks an ownerReference to StatefulSet default/web with whenDeleted=Delete" in found[0].message


def test_pvc_retention_catches_a_claim_left_with_a_dangling_pod_reference() -> None:
    # the garbage collector missing: the condemned pod's claim keeps its reference
    model = Model(actors=[a for a in Model().actors if a.name != "garbagecollector"])
    found, _, _ = run(
        model, [storage_class(), statefulset(2, when_scaled="Delete")], Scale("StatefulSet", NS, "web", 1), invariant=inv("statefulset-pvc-retention")
    )
    assert found and "still owned by the condemned pod web-1" in found[0].message


# ---- pv-bound-to-one-claim -------------------------------------------------------------------


def test_pv_bound_to_one_claim_holds() -> None:
    objects = [static_pv("a"), static_pv("b"), claim("x"), claim("y"), claim("z"), storage_class(), statefulset(2)]
    found, state, subjects = run(Model(), objects, DeleteObject("PersistentVolumeClaim", NS, "x"), invariant=inv("pv-bound-to-one-claim"))
    assert found == [] and subjects >= 4
    assert sum(1 for c in state.list("PersistentVolumeClaim") if c.status.phase == "Bound") == 3  # y, and the set's two


def test_pv_bound_to_one_claim_catches_double_binding() -> None:
    model = Model().with_actor(BindsToAnyVolume())
    found, _, _ = run(model, [static_pv("a"), claim("x"), claim("y")], invariant=inv("pv-bound-to-one-claim"))
    assert found and any("are all Bound to volume a" in v.message or "whose claimRef is" in v.message for v in found)
