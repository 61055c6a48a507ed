"""PersistentVolume / PersistentVolumeClaim binding, as far as StatefulSets need it
(pkg/controller/volume/persistentvolume/pv_controller.go, index.go; component-helpers
storage/volume/pv_helpers.go; pkg/controller/volume/pvcprotection and pvprotection;
pkg/scheduler/framework/plugins/volumebinding; k8s v1.28).

One `Reconcile("persistentvolume", ns, name, kind=...)` is one syncClaim (kind
PersistentVolumeClaim) or one syncVolume (kind PersistentVolume, namespace ""):

* syncClaim, unbound (no `pv.kubernetes.io/bind-completed`): a claim naming no volume is
  bound to the best Available volume — one pre-bound to it (claimRef) first, else the
  smallest matching one by class, capacity, access modes (a superset; fewest modes
  first, index.go), volume mode and selector; without a match a claim with no class gets
  the default StorageClass (RetroactiveDefaultStorageClass, GA 1.28), a claim whose
  class has a provisioner is provisioned, and the claim stays Pending otherwise. A claim
  naming a volume is bound to it if the volume is free (or already claims it).
* syncClaim, bound: a claim whose volume disappeared or went to another claim is Lost.
* syncVolume: a volume without claimRef is Available; a volume whose claim is gone
  (or has another uid) is Released and reclaimed — Delete removes a dynamically
  provisioned volume (a static one with Delete goes Failed: no plugin deletes it),
  Retain keeps it Released; a volume whose claim is bound elsewhere is unbound.
* bind (pv_controller.go bind): claimRef and `pv.kubernetes.io/bound-by-controller`
  on the volume, phase Bound, then volumeName and the annotations on the claim, phase
  Bound with the volume's access modes and capacity — one action here.

Binding modes: Immediate claims are bound (or provisioned) as soon as they exist, and
the scheduler keeps a pod whose Immediate claims are unbound Pending. For
WaitForFirstConsumer upstream the scheduler's VolumeBinding plugin chooses, at PreBind,
a volume compatible with the chosen node (or sets `volume.kubernetes.io/selected-node`
for the provisioner) before it binds the pod. The model keeps the scheduler's Bind and
does that choice here: an unbound WaitForFirstConsumer claim used by a pod already
assigned to a node is bound to the smallest matching volume whose nodeAffinity admits
that node, or provisioned for that node. The scheduler's filter (`pod_volume_failures`,
called from kmodel/scheduler.py) only lets the pod onto nodes where that will succeed.

Dynamic provisioning (the external provisioner folded in): for a class with a
provisioner (not `kubernetes.io/no-provisioner`) the claim gets
`volume.kubernetes.io/storage-provisioner` and a volume `pvc-<claim uid>` is created,
pre-bound to the claim, with the request as capacity, the claim's access and volume
modes, the class's reclaim policy and `pv.kubernetes.io/provisioned-by`; it has no
nodeAffinity (topology of provisioned volumes is not modelled).

Protection (folded in, they are separate controllers upstream): the
StorageObjectInUseProtection admission plugin adds `kubernetes.io/pvc-protection` to new
claims and `kubernetes.io/pv-protection` to new volumes (a create hook registered when
this module is imported); the pvc-protection controller removes the claim's finalizer
once the claim is being deleted and no pod assigned to a node (any phase, v1.28
podUsesPVC) mounts it, and adds it to a claim that lacks it; the pv-protection
controller removes the volume's once it is being deleted and not Bound. A claim sync
with protection work to do does only that.

Deliberate abstractions: no Recycle reclaim (such volumes stay Released), no
provisioning or deletion failures, no volume expansion, no storage capacity tracking,
no allowedTopologies; the DefaultStorageClass admission plugin is not modelled (the
retroactive assignment above gives the claim the default class one sync later, after
the controller found no class-less volume for it); the PV controller's periodic resync
is implicit (every object is a candidate in every state).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import replace
from typing import Any

from kmodel import apiserver
from kmodel.actions import Action, Reconcile
from kmodel.config import ModelConfig
from kmodel.frozen import EMPTY, FrozenDict
from kmodel.objects.meta import ObjectMeta
from kmodel.objects.node import Node
from kmodel.objects.pod import Pod
from kmodel.objects.storage import ObjectReference, PersistentVolume, PersistentVolumeClaim, PersistentVolumeSpec, StorageClass
from kmodel.state import ClusterState

NAME = "persistentvolume"
PVC, PV = "PersistentVolumeClaim", "PersistentVolume"

# storage/volume annotations (component-helpers/storage/volume/helpers.go, pv_helpers.go)
ANN_BIND_COMPLETED = "pv.kubernetes.io/bind-completed"
ANN_BOUND_BY_CONTROLLER = "pv.kubernetes.io/bound-by-controller"
ANN_DYNAMICALLY_PROVISIONED = "pv.kubernetes.io/provisioned-by"
ANN_STORAGE_PROVISIONER = "volume.kubernetes.io/storage-provisioner"
ANN_BETA_STORAGE_PROVISIONER = "volume.beta.kubernetes.io/storage-provisioner"
ANN_SELECTED_NODE = "volume.kubernetes.io/selected-node"
ANN_BETA_STORAGE_CLASS = "volume.beta.kubernetes.io/storage-class"
ANN_DEFAULT_CLASS = "storageclass.kubernetes.io/is-default-class"
ANN_BETA_DEFAULT_CLASS = "storageclass.beta.kubernetes.io/is-default-class"
NOT_SUPPORTED_PROVISIONER = "kubernetes.io/no-provisioner"
PVC_PROTECTION = "kubernetes.io/pvc-protection"
PV_PROTECTION = "kubernetes.io/pv-protection"
WAIT_FOR_FIRST_CONSUMER = "WaitForFirstConsumer"


# ---- admission: StorageObjectInUseProtection -------------------------------------------


def _with_finalizer(obj: Any, finalizer: str) -> Any:
    if finalizer in obj.metadata.finalizers:
        return obj
    return replace(obj, metadata=replace(obj.metadata, finalizers=obj.metadata.finalizers + (finalizer,)))


def _protect_claim(obj: Any) -> Any:
    """plugin/pkg/admission/storage/storageobjectinuseprotection: new claims get pvc-protection."""
    return _with_finalizer(obj, PVC_PROTECTION)


def _protect_volume(obj: Any) -> Any:
    """StorageObjectInUseProtection: new volumes get pv-protection."""
    return _with_finalizer(obj, PV_PROTECTION)


apiserver.CREATE_HOOKS.setdefault(PVC, _protect_claim)
apiserver.CREATE_HOOKS.setdefault(PV, _protect_volume)


# ---- matching (pv_helpers.go, index.go) ---------------------------------------------------


def claim_class(claim: PersistentVolumeClaim) -> str:
    """GetPersistentVolumeClaimClass: the beta annotation, else spec.storageClassName, else ""."""
    ann = claim.metadata.annotations.get(ANN_BETA_STORAGE_CLASS)
    if ann is not None:
        return ann
    return claim.spec.storage_class_name or ""


def volume_class(pv: PersistentVolume) -> str:
    """GetPersistentVolumeClass: the beta annotation, else spec.storageClassName."""
    return pv.metadata.annotations.get(ANN_BETA_STORAGE_CLASS, pv.spec.storage_class_name)


def requested_storage(claim: PersistentVolumeClaim) -> int:
    """spec.resources.requests.storage in bytes (0 if absent)."""
    return claim.spec.resources.requests.get("storage", 0)


def volume_capacity(pv: PersistentVolume) -> int:
    """spec.capacity.storage in bytes (0 if absent)."""
    return pv.spec.capacity.get("storage", 0)


def is_volume_bound_to_claim(pv: PersistentVolume, claim: PersistentVolumeClaim) -> bool:
    """IsVolumeBoundToClaim: claimRef names the claim, and its uid (if set) is the claim's."""
    ref = pv.spec.claim_ref
    if ref is None or ref.name != claim.metadata.name or ref.namespace != claim.metadata.namespace:
        return False
    return not ref.uid or ref.uid == claim.metadata.uid


def volume_mode_mismatch(claim: PersistentVolumeClaim, pv: PersistentVolume) -> bool:
    """CheckVolumeModeMismatches: Filesystem unless set, compared."""
    return (claim.spec.volume_mode or "Filesystem") != (pv.spec.volume_mode or "Filesystem")


def access_modes_ok(claim: PersistentVolumeClaim, pv: PersistentVolume) -> bool:
    """CheckAccessModes: the volume offers every mode the claim asks for."""
    return set(claim.spec.access_modes) <= set(pv.spec.access_modes)


def node_affinity_ok(pv: PersistentVolume, node: Node) -> bool:
    """CheckNodeAffinity: a volume without required node affinity fits every node."""
    aff = pv.spec.node_affinity
    if aff is None or aff.required is None:
        return True
    return aff.required.matches(node.name, node.metadata.labels)


def find_matching_volume(
    claim: PersistentVolumeClaim,
    volumes: Iterable[PersistentVolume],
    node: Node | None = None,
    excluded: frozenset[str] = frozenset(),
    delay_binding: bool = False,
) -> PersistentVolume | None:
    """FindMatchingVolume over the volumes grouped by access modes as index.go findByClaim does.

    A volume pre-bound to the claim wins (None if its node affinity rejects `node`); else
    among Available volumes not being deleted with the claim's class, enough capacity, the
    same volume mode, matching the claim's selector (and, with a node, its node affinity):
    the smallest, trying the access-mode sets with the fewest modes first. Without a node
    a delayed-binding claim only takes a pre-bound volume.
    """
    request = requested_storage(claim)
    klass = claim_class(claim)
    candidates = [v for v in volumes if v.metadata.name not in excluded and access_modes_ok(claim, v)]
    for modes in sorted({frozenset(v.spec.access_modes) for v in candidates}, key=lambda m: (len(m), sorted(m))):
        best: PersistentVolume | None = None
        for v in sorted((v for v in candidates if frozenset(v.spec.access_modes) == modes), key=lambda v: v.metadata.name):
            if v.spec.claim_ref is not None and not is_volume_bound_to_claim(v, claim):
                continue
            if volume_capacity(v) < request or volume_mode_mismatch(claim, v) or v.metadata.deletion_timestamp is not None:
                continue
            affinity_ok = node is None or node_affinity_ok(v, node)
            if is_volume_bound_to_claim(v, claim):
                return v if affinity_ok else None
            if node is None and delay_binding:
                continue
            if v.status.phase != "Available":
                continue
            if claim.spec.selector is not None and not claim.spec.selector.matches(v.metadata.labels):
                continue
            if volume_class(v) != klass or not affinity_ok:
                continue
            if best is None or volume_capacity(v) < volume_capacity(best):
                best = v
        if best is not None:
            return best
    return None


def storage_class(state: ClusterState, claim: PersistentVolumeClaim) -> StorageClass | None:
    """The claim's StorageClass object, if it names one that exists."""
    name = claim_class(claim)
    return state.get("StorageClass", "", name) if name else None


def is_delay_binding(state: ClusterState, claim: PersistentVolumeClaim) -> bool:
    """IsDelayBindingMode: the claim's class exists and is WaitForFirstConsumer."""
    sc = storage_class(state, claim)
    return sc is not None and sc.volume_binding_mode == WAIT_FOR_FIRST_CONSUMER


def can_provision(sc: StorageClass | None) -> bool:
    """A class whose provisioner can create volumes."""
    return sc is not None and bool(sc.provisioner) and sc.provisioner != NOT_SUPPORTED_PROVISIONER


def default_class(state: ClusterState) -> StorageClass | None:
    """GetDefaultClass: the newest class annotated as the default (ties by name)."""
    defaults = [
        c
        for c in state.list("StorageClass")
        if c.metadata.annotations.get(ANN_DEFAULT_CLASS) == "true" or c.metadata.annotations.get(ANN_BETA_DEFAULT_CLASS) == "true"
    ]
    if not defaults:
        return None
    return max(defaults, key=lambda c: (c.metadata.creation_timestamp or 0, c.metadata.name))


def is_claim_fully_bound(claim: PersistentVolumeClaim) -> bool:
    """isPVCFullyBound: volumeName set and bind-completed."""
    return bool(claim.spec.volume_name) and ANN_BIND_COMPLETED in claim.metadata.annotations


def claim_names(pod: Pod) -> list[str]:
    """The claims a pod's volumes mount."""
    return [v.persistent_volume_claim.claim_name for v in pod.spec.volumes if v.persistent_volume_claim is not None]


# ---- the scheduler's VolumeBinding filter ------------------------------------------------


def pod_volume_failures(state: ClusterState, pod: Pod, node: Node) -> list[str]:
    """VolumeBinding PreFilter and Filter (volume_binding.go, binder.go FindPodVolumes).

    A pod with a missing, Lost or terminating claim, or an unbound Immediate claim (or one
    naming a volume not yet bound), fits no node. A bound claim's volume must exist and its
    nodeAffinity admit the node. Unbound WaitForFirstConsumer claims need, on this node, a
    distinct matching volume each (smallest requests first), or a class that can provision.
    """
    names = claim_names(pod)
    if not names:
        return []
    ns = pod.metadata.namespace
    delayed: list[PersistentVolumeClaim] = []
    for name in names:
        c = state.get(PVC, ns, name)
        if c is None:
            return [f'VolumeBinding(persistentvolumeclaim "{name}" not found)']
        if c.status.phase == "Lost":
            return [f'VolumeBinding(persistentvolumeclaim "{name}" bound to non-existent persistentvolume)']
        if c.metadata.deletion_timestamp is not None:
            return [f'VolumeBinding(persistentvolumeclaim "{name}" is being deleted)']
        if is_claim_fully_bound(c):
            pv = state.get(PV, "", c.spec.volume_name)
            if pv is None:
                return ["VolumeBinding(pv not found)"]
            if not node_affinity_ok(pv, node):
                return ["VolumeBinding(node(s) had volume node affinity conflict)"]
        elif is_delay_binding(state, c) and not c.spec.volume_name:
            delayed.append(c)
        else:
            return ["VolumeBinding(pod has unbound immediate PersistentVolumeClaims)"]
    chosen: set[str] = set()
    for c in sorted(delayed, key=requested_storage):
        selected = c.metadata.annotations.get(ANN_SELECTED_NODE)
        if selected is not None and selected != node.name:
            return ["VolumeBinding(node(s) didn't find available persistent volumes to bind)"]
        pv = None if selected is not None else find_matching_volume(c, state.list(PV), node, frozenset(chosen), True)
        if pv is not None:
            chosen.add(pv.metadata.name)
        elif not can_provision(storage_class(state, c)):
            return ["VolumeBinding(node(s) didn't find available persistent volumes to bind)"]
    return []


# ---- the controller ------------------------------------------------------------------------


def _claim_ref(claim: PersistentVolumeClaim) -> ObjectReference:
    return ObjectReference(kind=PVC, namespace=claim.metadata.namespace, name=claim.metadata.name, uid=claim.metadata.uid, api_version="v1")


def _annotate(obj: Any, key: str, value: str) -> Any:
    if obj.metadata.annotations.get(key) == value:
        return obj
    return replace(obj, metadata=replace(obj.metadata, annotations=obj.metadata.annotations.set(key, value)))


def bind(pv: PersistentVolume, claim: PersistentVolumeClaim) -> list[apiserver.Request]:
    """bind: bindVolumeToClaim, volume phase Bound, bindClaimToVolume, claim phase Bound
    (each write only when something changes)."""
    reqs: list[apiserver.Request] = []
    # GetBindVolumeToClaim
    new_pv = pv
    ref = pv.spec.claim_ref
    if ref is None or ref.name != claim.metadata.name or ref.namespace != claim.metadata.namespace or ref.uid != claim.metadata.uid:
        new_pv = replace(new_pv, spec=replace(new_pv.spec, claim_ref=_claim_ref(claim)))
    if not is_volume_bound_to_claim(pv, claim):
        new_pv = _annotate(new_pv, ANN_BOUND_BY_CONTROLLER, "yes")
    if new_pv != pv:
        reqs.append(apiserver.Update(new_pv, check_rv=False))
    if new_pv.status.phase != "Bound":
        reqs.append(apiserver.Update(replace(new_pv, status=replace(new_pv.status, phase="Bound", message="", reason="")), status=True, check_rv=False))
    # GetBindClaimToVolume
    new_claim = claim
    if claim.spec.volume_name != pv.metadata.name:
        new_claim = replace(new_claim, spec=replace(new_claim.spec, volume_name=pv.metadata.name))
        new_claim = _annotate(new_claim, ANN_BOUND_BY_CONTROLLER, "yes")
    new_claim = _annotate(new_claim, ANN_BIND_COMPLETED, "yes")
    if new_claim != claim:
        reqs.append(apiserver.Update(new_claim, check_rv=False))
    status = replace(claim.status, phase="Bound", access_modes=pv.spec.access_modes, capacity=pv.spec.capacity)
    if status != claim.status:
        reqs.append(apiserver.Update(replace(new_claim, status=status), status=True, check_rv=False))
    return reqs


def claim_phase(claim: PersistentVolumeClaim, phase: str) -> list[apiserver.Request]:
    """updateClaimStatus: set the phase (Pending keeps, Lost drops the volume's modes and capacity)."""
    if claim.status.phase == phase:
        return []
    st = replace(claim.status, phase=phase)
    if phase == "Lost":
        st = replace(st, access_modes=(), capacity=EMPTY)
    return [apiserver.Update(replace(claim, status=st), status=True, check_rv=False)]


def volume_phase(pv: PersistentVolume, phase: str, message: str = "") -> list[apiserver.Request]:
    """updateVolumePhase."""
    if pv.status.phase == phase and pv.status.message == message:
        return []
    return [apiserver.Update(replace(pv, status=replace(pv.status, phase=phase, message=message)), status=True, check_rv=False)]


def provision(claim: PersistentVolumeClaim, sc: StorageClass, node: str | None = None) -> list[apiserver.Request]:
    """provisionClaim + the external provisioner: annotate the claim with its provisioner
    (and the selected node), create `pvc-<uid>` pre-bound to it."""
    new_claim = _annotate(_annotate(claim, ANN_STORAGE_PROVISIONER, sc.provisioner), ANN_BETA_STORAGE_PROVISIONER, sc.provisioner)
    if node is not None:
        new_claim = _annotate(new_claim, ANN_SELECTED_NODE, node)
    reqs: list[apiserver.Request] = []
    if new_claim != claim:
        reqs.append(apiserver.Update(new_claim, check_rv=False))
    pv = PersistentVolume(
        metadata=ObjectMeta(name=f"pvc-{claim.metadata.uid}", annotations=FrozenDict({ANN_DYNAMICALLY_PROVISIONED: sc.provisioner})),
        spec=PersistentVolumeSpec(
            capacity=FrozenDict({"storage": requested_storage(claim)}),
            access_modes=claim.spec.access_modes,
            persistent_volume_reclaim_policy=sc.reclaim_policy,
            storage_class_name=sc.metadata.name,
            claim_ref=_claim_ref(claim),
            volume_mode=claim.spec.volume_mode,
        ),
    )
    reqs.append(apiserver.Create(pv))
    return reqs


def claim_in_use(state: ClusterState, claim: PersistentVolumeClaim) -> bool:
    """pvcprotection podUsesPVC: some pod assigned to a node mounts the claim."""
    for p in state.pods(claim.metadata.namespace):
        if p.spec.node_name and claim.metadata.name in claim_names(p):
            return True
    return False


def first_consumer_node(state: ClusterState, claim: PersistentVolumeClaim) -> str | None:
    """The node of the first non-terminal pod (by name) mounting the claim that the scheduler
    has assigned: where WaitForFirstConsumer binding happens."""
    for p in state.pods(claim.metadata.namespace):
        if p.spec.node_name and not p.terminal and claim.metadata.name in claim_names(p):
            return str(p.spec.node_name)
    return None


class PersistentVolumeController:
    """The PV controller (binding, provisioning, reclaim) with claim and volume protection."""

    name = NAME

    def candidates(self, state: ClusterState, config: ModelConfig) -> Iterable[Action]:
        """One sync per claim and per volume."""
        for c in state.list(PVC):
            yield Reconcile(NAME, c.metadata.namespace, c.metadata.name, kind=PVC)
        for v in state.list(PV):
            yield Reconcile(NAME, "", v.metadata.name, kind=PV)

    def requests(self, state: ClusterState, action: Action, config: ModelConfig) -> Sequence[apiserver.Request]:
        """syncClaim or syncVolume."""
        assert isinstance(action, Reconcile)
        if action.kind == PV:
            pv = state.get(PV, "", action.name)
            return () if pv is None else self.sync_volume(state, pv)
        claim = state.get(PVC, action.namespace, action.name)
        return () if claim is None else self.sync_claim(state, claim)

    def deadlines(self, state: ClusterState, config: ModelConfig) -> Iterable[int]:
        """No timers."""
        return ()

    # ---- claims ---------------------------------------------------------------------
    def claim_protection(self, state: ClusterState, claim: PersistentVolumeClaim) -> list[apiserver.Request]:
        """pvc_protection_controller.go processPVC: drop the finalizer of an unused claim being
        deleted; add it to a claim that lacks it."""
        fins = claim.metadata.finalizers
        if claim.metadata.deletion_timestamp is not None:
            if PVC_PROTECTION in fins and not claim_in_use(state, claim):
                new = replace(claim, metadata=replace(claim.metadata, finalizers=tuple(f for f in fins if f != PVC_PROTECTION)))
                return [apiserver.Update(new)]
            return []
        if PVC_PROTECTION not in fins:
            return [apiserver.Update(_with_finalizer(claim, PVC_PROTECTION))]
        return []

    def sync_claim(self, state: ClusterState, claim: PersistentVolumeClaim) -> list[apiserver.Request]:
        """syncClaim: protection first, then syncUnboundClaim or syncBoundClaim."""
        reqs = self.claim_protection(state, claim)
        if reqs:
            return reqs
        if ANN_BIND_COMPLETED not in claim.metadata.annotations:
            return self.sync_unbound_claim(state, claim)
        return self.sync_bound_claim(state, claim)

    def sync_unbound_claim(self, state: ClusterState, claim: PersistentVolumeClaim) -> list[apiserver.Request]:
        """syncUnboundClaim."""
        if claim.spec.volume_name:
            pv = state.get(PV, "", claim.spec.volume_name)
            if pv is None:
                return claim_phase(claim, "Pending")
            if pv.spec.claim_ref is None:
                if (
                    volume_capacity(pv) < requested_storage(claim)
                    or volume_class(pv) != claim_class(claim)
                    or volume_mode_mismatch(claim, pv)
                    or not access_modes_ok(claim, pv)
                ):
                    return claim_phase(claim, "Pending")  # checkVolumeSatisfyClaim: VolumeMismatch
                return bind(pv, claim)
            if is_volume_bound_to_claim(pv, claim):
                return bind(pv, claim)
            return claim_phase(claim, "Pending")  # already bound to a different claim
        delay = is_delay_binding(state, claim)
        sc = storage_class(state, claim)
        if delay:
            node_name = first_consumer_node(state, claim)
            node = state.get("Node", "", node_name) if node_name else None
            if node is not None:
                # the scheduler's PreBind (BindPodVolumes) for the node the pod went to
                pv = None if ANN_SELECTED_NODE in claim.metadata.annotations else find_matching_volume(claim, state.list(PV), node, delay_binding=True)
                if pv is not None:
                    return bind(pv, claim)
                if can_provision(sc) and not state.get(PV, "", f"pvc-{claim.metadata.uid}"):
                    assert sc is not None
                    return provision(claim, sc, node.name)
            pv = find_matching_volume(claim, state.list(PV), None, delay_binding=True)  # a pre-bound volume
            return bind(pv, claim) if pv is not None else claim_phase(claim, "Pending")
        pv = find_matching_volume(claim, state.list(PV))
        if pv is not None:
            return bind(pv, claim)
        if claim.spec.storage_class_name is None and ANN_BETA_STORAGE_CLASS not in claim.metadata.annotations:
            dc = default_class(state)
            if dc is not None:
                # assignDefaultStorageClass (RetroactiveDefaultStorageClass)
                return [apiserver.Update(replace(claim, spec=replace(claim.spec, storage_class_name=dc.metadata.name)), check_rv=False)]
        if claim_class(claim) and can_provision(sc) and not state.get(PV, "", f"pvc-{claim.metadata.uid}"):
            assert sc is not None
            return provision(claim, sc)
        return claim_phase(claim, "Pending")

    def sync_bound_claim(self, state: ClusterState, claim: PersistentVolumeClaim) -> list[apiserver.Request]:
        """syncBoundClaim: Lost if the volume is gone or bound to another claim."""
        if not claim.spec.volume_name:
            return claim_phase(claim, "Lost")
        pv = state.get(PV, "", claim.spec.volume_name)
        if pv is None:
            return claim_phase(claim, "Lost")
        if pv.spec.claim_ref is None or pv.spec.claim_ref.uid == claim.metadata.uid:
            return bind(pv, claim)
        return claim_phase(claim, "Lost")  # ClaimMisbound

    # ---- volumes --------------------------------------------------------------------
    def volume_protection(self, pv: PersistentVolume) -> list[apiserver.Request]:
        """pv_protection_controller.go processPV: drop the finalizer of a volume being deleted
        that is not Bound; add it to a volume that lacks it."""
        fins = pv.metadata.finalizers
        if pv.metadata.deletion_timestamp is not None:
            if PV_PROTECTION in fins and pv.status.phase != "Bound":
                return [apiserver.Update(replace(pv, metadata=replace(pv.metadata, finalizers=tuple(f for f in fins if f != PV_PROTECTION))))]
            return []
        if PV_PROTECTION not in fins:
            return [apiserver.Update(_with_finalizer(pv, PV_PROTECTION))]
        return []

    def sync_volume(self, state: ClusterState, pv: PersistentVolume) -> list[apiserver.Request]:
        """syncVolume."""
        reqs = self.volume_protection(pv)
        if reqs:
            return reqs
        ref = pv.spec.claim_ref
        if ref is None or not ref.uid:
            return volume_phase(pv, "Available")
        claim = state.get(PVC, ref.namespace, ref.name)
        if claim is not None and claim.metadata.uid != ref.uid:
            claim = None
        if claim is None:
            return self.release(pv)
        if not claim.spec.volume_name:
            return []  # the claim's sync binds it
        if claim.spec.volume_name == pv.metadata.name:
            return volume_phase(pv, "Bound")
        if ANN_DYNAMICALLY_PROVISIONED in pv.metadata.annotations and pv.spec.persistent_volume_reclaim_policy == "Delete":
            return self.release(pv)
        return self.unbind(pv)

    def release(self, pv: PersistentVolume) -> list[apiserver.Request]:
        """Released, then reclaimVolume: Delete removes a provisioned volume (a static one goes
        Failed), Retain keeps it Released."""
        reqs: list[apiserver.Request] = []
        if pv.status.phase not in ("Released", "Failed"):
            reqs += volume_phase(pv, "Released")
            pv = replace(pv, status=replace(pv.status, phase="Released"))
        if pv.spec.persistent_volume_reclaim_policy == "Delete" and pv.metadata.deletion_timestamp is None:
            if ANN_DYNAMICALLY_PROVISIONED in pv.metadata.annotations:
                reqs.append(apiserver.Delete(pv.ref))
            elif pv.status.phase != "Failed":
                reqs += volume_phase(pv, "Failed", "error getting deleter volume plugin for volume: no deletable volume plugin matched")
        return reqs

    def unbind(self, pv: PersistentVolume) -> list[apiserver.Request]:
        """unbindVolume: drop a controller-made claimRef (else only its uid), phase Available."""
        assert pv.spec.claim_ref is not None
        if ANN_BOUND_BY_CONTROLLER in pv.metadata.annotations:
            meta = replace(pv.metadata, annotations=pv.metadata.annotations.without(ANN_BOUND_BY_CONTROLLER))
            new = replace(pv, spec=replace(pv.spec, claim_ref=None), metadata=meta)
        else:
            new = replace(pv, spec=replace(pv.spec, claim_ref=replace(pv.spec.claim_ref, uid="")))
        return [apiserver.Update(new, check_rv=False), *volume_phase(new, "Available")]
