"""The StatefulSet controller (pkg/controller/statefulset, k8s v1.28 and later releases).

One `Reconcile("statefulset", ns, name)` is one `sync` of one set:

1. adopt orphaned ControllerRevisions matching the selector (stateful_set.go
   adoptOrphanRevisions; an orphan while the set is being deleted aborts the sync);
2. claim the pods of the namespace: ClaimPods with the selector and the extra
   `isMemberOf` filter (the name parses as `<set>-<ordinal>`), adopting orphans and
   releasing pods that no longer match (stateful_set.go getPodsForStatefulSet);
3. UpdateStatefulSet (stateful_set_control.go): current and update revisions (a new
   ControllerRevision, or a rollback bumping an old one's number), then
   `updateStatefulSet` — replicas in ascending ordinal order (failed pods replaced,
   missing pods created with their claims, pending pods' missing claims created,
   identity/storage/claim ownerReferences fixed), claim ownerReferences of condemned
   pods, condemned pods deleted highest ordinal first, then the RollingUpdate
   (partition, and maxUnavailable behind its feature gate); OrderedReady processes
   one step at a time and stops at the first blocking pod, Parallel works in slow-start
   batches of 1, 2, 4, … (at most MaxBatchSize = 500) and stops after a batch with an
   error; the status is written when it differs (completeRollingUpdate first), and the
   history is truncated to revisionHistoryLimit.

Claims (volumeClaimTemplates) are named `<template>-<set>-<ordinal>` and created before
their pod; a claim being deleted makes the pod's creation fail ("pvc … is being
deleted"). The retention policy (whenDeleted/whenScaled) is implemented, as upstream,
by ownerReferences on the claims (to the set, or to a condemned pod) so that the
garbage collector deletes them; the controller itself never deletes a claim. With
whenScaled=Delete a claim still owned by an earlier pod of the same name (a different
uid) blocks the creation of the pod (PodClaimIsStale).

Differences between releases (`ModelConfig.kubernetes_version`, default the newest):

* Succeeded pods (kubernetes#121389, merged Oct 2023, first in v1.29.0; cherry-picked to
  the 1.27/1.28 patch releases): from 1.29 a pod in phase Succeeded is replaced like a
  Failed one. "1.28" follows v1.28.0, where only Failed pods are replaced (a Succeeded
  pod blocks an OrderedReady set for ever, issue #118310).
* Delete then wait (kubernetes#123809, first in v1.31.0 — it is listed in the
  v1.31.0-alpha.1 release notes; cherry-picked to 1.28–1.30 patches): from 1.31 a
  Failed/Succeeded pod is deleted unless it is already terminating and the sync stops
  there (Parallel: that pod only); the replacement is created by a later sync once the
  old object is gone. Before, the replacement was created in the same pass right after
  the DELETE, which fails with AlreadyExists unless the DELETE removed the object (a
  terminal pod is removed at once by the API server).
* Availability (kubernetes#130909 "Fix StatefulSetMinReadySeconds healthy concept",
  first in v1.34.0-alpha.3): from 1.34 the first-unhealthy pod, the rolling-update wait
  and the maxUnavailable count use "unavailable" — not Running, not available for
  minReadySeconds, or terminating — instead of "not Running and Ready, or terminating".
* maxUnavailable: the MaxUnavailableStatefulSet feature gate is alpha (off) in every
  release up to 1.34 and beta, on by default, from v1.35 (kubernetes#133153, milestone
  v1.35), beyond the releases the model supports; so by default the field is ignored
  and updates go one pod at a time. `StatefulSetController(max_unavailable_gate=True)`
  models `--feature-gates=MaxUnavailableStatefulSet=true`: at most maxUnavailable
  replicas (percentages rounded DOWN, minimum 1 — getStatefulSetMaxUnavailable; the API
  documentation says "rounded up") are unavailable, counting every unhealthy replica.
* The partition is compared with the zero-based index (ordinal − start) in v1.28 and in
  every later release (newVersionedStatefulSetPod compares the ordinal with
  start + partition, the update loop the index with partition; kubernetes#128529,
  which asks for an ordinal-based partition, was closed unfixed). No difference.
* StatefulSetStartOrdinal (beta 1.27, GA 1.31), StatefulSetAutoDeletePVC (beta 1.27,
  GA 1.32) and PodIndexLabel (beta 1.28, GA 1.32) are on in every supported release.

Deliberate abstractions:

* One sync issues its requests as one action. API errors the controller would see are
  computed by applying the requests, in order, to a scratch copy of the state the sync
  read; reads (the informer caches) see that state, except that a claim the sync has
  already updated is read back as written (upstream's RetryOnConflict re-reads it).
  A claim the sync has just created is not visible to it, as upstream ("Expected claim
  missing, continuing to pick up in next iteration").
* The batches of Parallel mode run their calls concurrently upstream; here in index
  order. updateStorage builds the claim volumes in template order (upstream iterates a
  map).
* Pod and status updates are written without a resourceVersion check (upstream retries
  conflicts with a re-read); a pod update that would change spec.volumes is rejected
  here as the API server's pod update validation rejects it.
* No events; no requeue timers other than the minReadySeconds requeue (a deadline when
  a ready pod becomes available).
"""

from __future__ import annotations

import functools
import re
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

from kmodel import apiserver
from kmodel.actors import KindReconciler
from kmodel.codec import Decoder, encode_dataclass
from kmodel.config import ModelConfig
from kmodel.controllers import history
from kmodel.controllers.common import claim, controller_ref, pod_from_template
from kmodel.frozen import FrozenDict, thaw
from kmodel.intstr import scaled_value
from kmodel.objects.apps import ControllerRevision, StatefulSet, StatefulSetPersistentVolumeClaimRetentionPolicy, StatefulSetStatus
from kmodel.objects.meta import ObjectMeta, OwnerReference
from kmodel.objects.pod import (
    FAILED,
    PENDING,
    RUNNING,
    SUCCEEDED,
    PersistentVolumeClaimVolumeSource,
    Pod,
    PodStatus,
    PodTemplateSpec,
    Volume,
    is_pod_available,
    pod_ready_since,
)
from kmodel.objects.storage import PersistentVolumeClaim
from kmodel.state import ClusterState, Tx
from kmodel.timefmt import DEFAULT_EPOCH

NAME = "statefulset"
# apps/v1 labels (staging/src/k8s.io/api/apps/v1/types.go)
POD_NAME_LABEL = "statefulset.kubernetes.io/pod-name"
POD_INDEX_LABEL = "apps.kubernetes.io/pod-index"
REVISION_LABEL = "controller-revision-hash"
# stateful_set_control.go: realistic maximum of in-flight requests in parallel mode.
MAX_BATCH_SIZE = 500
RETAIN, DELETE = "Retain", "Delete"
# stateful_set_utils.go statefulPodRegex
_POD_NAME = re.compile(r"^(.*)-([0-9]+)$")
_INT32_MAX = 2**31 - 1


# ---- identity --------------------------------------------------------------------------


def parent_and_ordinal(name: str) -> tuple[str, int]:
    """getParentNameAndOrdinal: the set name and ordinal a pod name encodes ("", -1 if none;
    an ordinal that does not fit an int32 gives the parent with ordinal -1)."""
    m = _POD_NAME.match(name)
    if m is None:
        return "", -1
    digits = m.group(2)
    ordinal = int(digits)
    return m.group(1), ordinal if ordinal <= _INT32_MAX else -1


def ordinal_of(pod: Pod) -> int:
    """getOrdinal: the pod's ordinal, -1 if its name has none."""
    return parent_and_ordinal(pod.metadata.name)[1]


def start_ordinal(sts: StatefulSet) -> int:
    """getStartOrdinal: spec.ordinals.start, 0 if unset (StatefulSetStartOrdinal)."""
    return sts.spec.ordinals.start if sts.spec.ordinals is not None else 0


def end_ordinal(sts: StatefulSet) -> int:
    """getEndOrdinal: the last ordinal in range (inclusive)."""
    return start_ordinal(sts) + sts.spec.replicas - 1


def in_ordinal_range(ordinal: int, sts: StatefulSet) -> bool:
    """podInOrdinalRange: start <= ordinal <= end."""
    return start_ordinal(sts) <= ordinal <= end_ordinal(sts)


def pod_name(sts: StatefulSet, ordinal: int) -> str:
    """getPodName: `<set>-<ordinal>`."""
    return f"{sts.metadata.name}-{ordinal}"


def claim_name(template_name: str, set_name: str, ordinal: int) -> str:
    """getPersistentVolumeClaimName: `<template>-<set>-<ordinal>`."""
    return f"{template_name}-{set_name}-{ordinal}"


def is_member_of(sts: StatefulSet, pod: Pod) -> bool:
    """isMemberOf: the pod's name parses to this set's name."""
    return parent_and_ordinal(pod.metadata.name)[0] == sts.metadata.name


def identity_matches(sts: StatefulSet, pod: Pod) -> bool:
    """identityMatches: valid ordinal, parent, name, namespace and pod-name label."""
    parent, ordinal = parent_and_ordinal(pod.metadata.name)
    return (
        ordinal >= 0
        and parent == sts.metadata.name
        and pod.metadata.name == pod_name(sts, ordinal)
        and pod.metadata.namespace == sts.metadata.namespace
        and pod.metadata.labels.get(POD_NAME_LABEL) == pod.metadata.name
    )


def storage_matches(sts: StatefulSet, pod: Pod) -> bool:
    """storageMatches: every claim template has a pod volume of its name pointing at the ordinal's claim."""
    ordinal = ordinal_of(pod)
    if ordinal < 0:
        return False
    volumes = {v.name: v for v in pod.spec.volumes}
    for t in sts.spec.volume_claim_templates:
        v = volumes.get(t.metadata.name)
        if v is None or v.persistent_volume_claim is None or v.persistent_volume_claim.claim_name != claim_name(t.metadata.name, sts.metadata.name, ordinal):
            return False
    return True


def update_identity(sts: StatefulSet, pod: Pod) -> Pod:
    """updateIdentity: name, namespace, the pod-name label and the pod-index label (PodIndexLabel)."""
    ordinal = ordinal_of(pod)
    name = pod_name(sts, ordinal)
    labels = pod.metadata.labels.set(POD_NAME_LABEL, name).set(POD_INDEX_LABEL, str(ordinal))
    return replace(pod, metadata=replace(pod.metadata, name=name, namespace=sts.metadata.namespace, labels=labels))


def claims_for(sts: StatefulSet, ordinal: int) -> list[tuple[str, PersistentVolumeClaim]]:
    """getPersistentVolumeClaims: (template name, claim) for each template, in template order.

    The claim carries the template's metadata and spec, its ordinal's name, the set's
    namespace, and the template labels merged with the selector's matchLabels.
    """
    out = []
    for t in sts.spec.volume_claim_templates:
        labels: FrozenDict[str, str] = FrozenDict({**t.metadata.labels, **sts.spec.selector.match_labels})
        meta = ObjectMeta(
            name=claim_name(t.metadata.name, sts.metadata.name, ordinal),
            namespace=sts.metadata.namespace,
            labels=labels,
            annotations=t.metadata.annotations,
        )
        out.append((t.metadata.name, PersistentVolumeClaim(metadata=meta, spec=t.spec)))
    return out


def update_storage(sts: StatefulSet, pod: Pod) -> Pod:
    """updateStorage: one volume per claim template pointing at the ordinal's claim, then the
    pod's other volumes (a volume named like a template is replaced)."""
    claims = claims_for(sts, ordinal_of(pod))
    names = {n for n, _ in claims}
    volumes = [Volume(name=n, persistent_volume_claim=PersistentVolumeClaimVolumeSource(claim_name=c.metadata.name, read_only=False)) for n, c in claims]
    volumes.extend(v for v in pod.spec.volumes if v.name not in names)
    return replace(pod, spec=replace(pod.spec, volumes=tuple(volumes)))


def new_pod(sts: StatefulSet, template: PodTemplateSpec, ordinal: int) -> Pod:
    """newStatefulSetPod: the pod for `ordinal` from `template` (GetPodFromTemplate with a
    controller reference), identity (initIdentity: labels, hostname, subdomain) and storage."""
    name = pod_name(sts, ordinal)
    pod = pod_from_template(sts, template, name=name)
    pod = replace(pod, metadata=replace(pod.metadata, generate_name=f"{sts.metadata.name}-"))
    pod = update_identity(sts, pod)
    pod = replace(pod, spec=replace(pod.spec, hostname=name, subdomain=sts.spec.service_name))
    pod = update_storage(sts, pod)
    # not yet created: isCreated is phase != ""
    return replace(pod, status=PodStatus(phase=""))


def pod_revision(pod: Pod) -> str:
    """getPodRevision: the controller-revision-hash label."""
    return pod.metadata.labels.get(REVISION_LABEL, "")


def with_revision(pod: Pod, revision: str) -> Pod:
    """setPodRevision."""
    return replace(pod, metadata=replace(pod.metadata, labels=pod.metadata.labels.set(REVISION_LABEL, revision)))


# ---- pod states ------------------------------------------------------------------------


def is_created(pod: Pod) -> bool:
    """isCreated: the pod has a phase (a placeholder for a missing ordinal has none)."""
    return pod.status.phase != ""


def is_terminating(pod: Pod) -> bool:
    """isTerminating: deletionTimestamp set."""
    return pod.metadata.deletion_timestamp is not None


def is_running_and_ready(pod: Pod) -> bool:
    """isRunningAndReady: phase Running and condition Ready."""
    return pod.status.phase == RUNNING and pod.ready


def is_running_and_available(pod: Pod, min_ready_seconds: int, now: int) -> bool:
    """isRunningAndAvailable: podutil.IsPodAvailable (ready for more than minReadySeconds)."""
    return is_pod_available(pod, min_ready_seconds, now)


def is_healthy(pod: Pod) -> bool:
    """isHealthy: running and ready and not terminating."""
    return is_running_and_ready(pod) and not is_terminating(pod)


def is_unhealthy(pod: Pod, min_ready_seconds: int, now: int, config: ModelConfig) -> bool:
    """Whether the pod counts as unhealthy for firstUnhealthyPod, the update wait and maxUnavailable:
    not isHealthy up to 1.33; from 1.34 (kubernetes#130909 isUnavailable) not Running and
    available for minReadySeconds, or terminating."""
    if config.at_least("1.34"):
        return not (pod.status.phase == RUNNING and is_pod_available(pod, min_ready_seconds, now)) or is_terminating(pod)
    return not is_healthy(pod)


def replaces_terminal(pod: Pod, config: ModelConfig) -> bool:
    """Whether processReplica deletes the pod to replace it: Failed, and from 1.29 Succeeded (kubernetes#121389)."""
    if pod.status.phase == FAILED:
        return True
    return pod.status.phase == SUCCEEDED and config.at_least("1.29")


def max_unavailable(value: int | str | None, replicas: int) -> int:
    """getStatefulSetMaxUnavailable: the value (default 1) scaled against replicas rounding
    DOWN, and at least 1."""
    n = scaled_value(1 if value is None else value, replicas, round_up=False)
    return max(n, 1)


# ---- claim ownerReferences (retention policy) ------------------------------------------


def retention_policy(sts: StatefulSet) -> StatefulSetPersistentVolumeClaimRetentionPolicy:
    """getPersistentVolumeClaimRetentionPolicy: Retain/Retain when unset."""
    return sts.spec.persistent_volume_claim_retention_policy or StatefulSetPersistentVolumeClaimRetentionPolicy()


def has_owner_ref(obj: Any, uid: str) -> bool:
    """hasOwnerRef: an ownerReference with that uid."""
    return any(r.uid == uid for r in obj.metadata.owner_references)


def has_stale_owner_ref(obj: Any, name: str, uid: str) -> bool:
    """hasStaleOwnerRef: an ownerReference with the owner's name but another uid."""
    return any(r.name == name and r.uid != uid for r in obj.metadata.owner_references)


def claim_owner_matches(claim_obj: PersistentVolumeClaim, sts: StatefulSet, pod: Pod) -> bool:
    """claimOwnerMatchesSetAndPod: the claim's references agree with the retention policy.

    | whenScaled | whenDeleted | pod in range     | pod condemned     |
    | Retain     | Retain      | no set, no pod   | no set, no pod    |
    | Retain     | Delete      | set, no pod      | set, no pod       |
    | Delete     | Retain      | no set, no pod   | no set, pod       |
    | Delete     | Delete      | set, no pod      | pod, no set       |
    (an unknown value is treated as Retain/Retain)
    """
    want_set, want_pod = desired_claim_refs(sts, ordinal_of(pod))
    set_uid, pod_uid = sts.metadata.uid, pod.metadata.uid
    return has_owner_ref(claim_obj, set_uid) == want_set and has_owner_ref(claim_obj, pod_uid) == want_pod


def desired_claim_refs(sts: StatefulSet, ordinal: int) -> tuple[bool, bool]:
    """(reference to the set, reference to the pod) the policy table asks for a claim of `ordinal`."""
    policy = retention_policy(sts)
    scaled_down = not in_ordinal_range(ordinal, sts)
    ws, wd = policy.when_scaled, policy.when_deleted
    if ws == RETAIN and wd == DELETE:
        return True, False
    if ws == DELETE and wd == RETAIN:
        return False, scaled_down
    if ws == DELETE and wd == DELETE:
        return not scaled_down, scaled_down
    return False, False  # Retain/Retain, and unknown values (the default case falls through to it)


def updated_claim_refs(claim_obj: PersistentVolumeClaim, sts: StatefulSet, pod: Pod) -> PersistentVolumeClaim | None:
    """updateClaimOwnerRefForSetAndPod: the claim with its references set as the policy
    table asks (setOwnerRef appends {apiVersion, kind, name, uid}; removeOwnerRef drops by
    uid), or None if nothing changes."""
    want_set, want_pod = desired_claim_refs(sts, ordinal_of(pod))
    refs = list(claim_obj.metadata.owner_references)
    changed = False
    for uid, want, api_version, kind, name in (
        (sts.metadata.uid, want_set, "apps/v1", "StatefulSet", sts.metadata.name),
        (pod.metadata.uid, want_pod, "v1", "Pod", pod.metadata.name),
    ):
        present = any(r.uid == uid for r in refs)
        if want and not present:
            refs.append(OwnerReference(api_version=api_version, kind=kind, name=name, uid=uid))
            changed = True
        elif not want and present:
            refs = [r for r in refs if r.uid != uid]
            changed = True
    if not changed:
        return None
    return replace(claim_obj, metadata=replace(claim_obj.metadata, owner_references=tuple(refs)))


# ---- revisions --------------------------------------------------------------------------


def revision_data(sts: StatefulSet) -> dict[str, Any]:
    """getPatch: the strategic merge patch that restores the set's pod template."""
    template = encode_dataclass(sts.spec.template)
    template["$patch"] = "replace"
    return {"spec": {"template": template}}


def new_statefulset_revision(sts: StatefulSet, revision: int, collision_count: int) -> ControllerRevision:
    """newRevision: a ControllerRevision of the set's template (labels from the template,
    annotations from the set)."""
    cr = history.new_revision(sts, sts.spec.template.metadata.labels, revision_data(sts), revision, collision_count)
    if sts.metadata.annotations:
        cr = replace(cr, metadata=replace(cr.metadata, annotations=cr.metadata.annotations.merged(sts.metadata.annotations)))
    return cr


@functools.lru_cache(maxsize=256)
def _template_of(data: Any) -> PodTemplateSpec:
    raw = thaw(data)["spec"]["template"]
    raw = {k: v for k, v in raw.items() if k != "$patch"}
    return Decoder("ControllerRevision", "data", DEFAULT_EPOCH).dataclass(PodTemplateSpec, raw, "spec.template")


def apply_revision(sts: StatefulSet, revision: ControllerRevision) -> StatefulSet:
    """ApplyRevision: the set with the revision's pod template restored."""
    return replace(sts, spec=replace(sts.spec, template=_template_of(revision.data)))


def list_revisions(state: ClusterState, sts: StatefulSet) -> list[ControllerRevision]:
    """ListControllerRevisions: revisions in the namespace matching the selector, owned by
    the set or by no controller."""
    out = []
    for r in state.list("ControllerRevision", sts.metadata.namespace):
        if not sts.spec.selector.matches(r.metadata.labels):
            continue
        ref = r.metadata.controller_ref()
        if ref is None or ref.uid == sts.metadata.uid:
            out.append(r)
    return out


# ---- status -----------------------------------------------------------------------------


def count_status(status: StatefulSetStatus, pods: Iterable[Pod], min_ready_seconds: int, now: int, current: str, update: str) -> StatefulSetStatus:
    """updateStatus / computeReplicaStatus: replicas (created), ready (running and ready),
    available, current and updated (created, not terminating, by revision label)."""
    replicas = ready = available = cur = upd = 0
    for p in pods:
        created = is_created(p)
        replicas += created
        if is_running_and_ready(p):
            ready += 1
            available += is_running_and_available(p, min_ready_seconds, now)
        if created and not is_terminating(p):
            rev = pod_revision(p)
            cur += rev == current
            upd += rev == update
    return replace(status, replicas=replicas, ready_replicas=ready, available_replicas=available, current_replicas=cur, updated_replicas=upd)


def complete_rolling_update(sts: StatefulSet, status: StatefulSetStatus) -> StatefulSetStatus:
    """completeRollingUpdate: with RollingUpdate, once every replica is updated and ready the
    update revision becomes the current one."""
    if sts.spec.update_strategy.type == "RollingUpdate" and status.updated_replicas == status.replicas and status.ready_replicas == status.replicas:
        return replace(status, current_replicas=status.updated_replicas, current_revision=status.update_revision)
    return status


def inconsistent_status(sts: StatefulSet, status: StatefulSetStatus) -> bool:
    """inconsistentStatus: a newer observedGeneration or any count or revision differs
    (collisionCount and conditions are not compared)."""
    old = sts.status
    return (
        status.observed_generation > old.observed_generation
        or status.replicas != old.replicas
        or status.current_replicas != old.current_replicas
        or status.ready_replicas != old.ready_replicas
        or status.updated_replicas != old.updated_replicas
        or status.current_revision != old.current_revision
        or status.available_replicas != old.available_replicas
        or status.update_revision != old.update_revision
    )


# ---- one sync ---------------------------------------------------------------------------


@dataclass
class Sync:
    """The working state of one sync: the snapshot it reads (the informer caches), a
    scratch transaction that tells it how the API server answers its writes, and the
    requests issued so far."""

    state: ClusterState
    sts: StatefulSet
    config: ModelConfig
    max_unavailable_gate: bool
    tx: Tx = field(init=False)
    requests: list[apiserver.Request] = field(default_factory=list)
    claim_overlay: dict[str, PersistentVolumeClaim] = field(default_factory=dict)
    # set by update_statefulset
    current_set: StatefulSet | None = None
    update_set: StatefulSet | None = None
    current_name: str = ""
    update_name: str = ""
    replicas: list[Pod] = field(default_factory=list)
    condemned: list[Pod] = field(default_factory=list)
    first_unhealthy: Pod | None = None
    monotonic: bool = True

    def __post_init__(self) -> None:
        self.tx = self.state.edit()

    @property
    def now(self) -> int:
        """The model clock."""
        return self.state.clock

    @property
    def mrs(self) -> int:
        """spec.minReadySeconds."""
        return self.sts.spec.min_ready_seconds

    # ---- the API ----------------------------------------------------------------------
    def issue(self, request: apiserver.Request) -> apiserver.Outcome:
        """Send a request: record it and learn the API server's answer."""
        self.requests.append(request)
        return apiserver.apply(self.tx, request, self.config)

    def get_claim(self, name: str) -> PersistentVolumeClaim | None:
        """GetClaim from the claim lister (the sync's own updates read back)."""
        if name in self.claim_overlay:
            return self.claim_overlay[name]
        obj: PersistentVolumeClaim | None = self.state.get("PersistentVolumeClaim", self.sts.metadata.namespace, name)
        return obj

    def delete_pod(self, pod: Pod) -> str:
        """DeleteStatefulPod: DELETE by name with default options."""
        return self.issue(apiserver.Delete(pod.ref)).error

    # ---- claims (stateful_pod_control.go) -------------------------------------------
    def create_claims(self, sts: StatefulSet, pod: Pod) -> str:
        """createPersistentVolumeClaims: create every missing claim; a claim being deleted is
        an error ("pvc … is being deleted"). Errors are aggregated."""
        errors = []
        for _, c in claims_for(sts, ordinal_of(pod)):
            existing = self.get_claim(c.metadata.name)
            if existing is None:
                outcome = self.issue(apiserver.Create(c))
                if not outcome.ok:
                    errors.append(f"failed to create PVC {c.metadata.name}: {outcome.error}")
            elif existing.metadata.deletion_timestamp is not None:
                errors.append(f"pvc {c.metadata.name} is being deleted")
        return "; ".join(errors)

    def claims_match_retention(self, sts: StatefulSet, pod: Pod) -> bool:
        """ClaimsMatchRetentionPolicy: every existing claim of the pod agrees with the policy
        (a missing claim is picked up later)."""
        for _, c in claims_for(sts, ordinal_of(pod)):
            existing = self.get_claim(c.metadata.name)
            if existing is not None and not claim_owner_matches(existing, sts, pod):
                return False
        return True

    def update_claims_for_retention(self, sts: StatefulSet, pod: Pod) -> str:
        """UpdatePodClaimForRetentionPolicy: fix the references of each existing claim."""
        for _, c in claims_for(sts, ordinal_of(pod)):
            existing = self.get_claim(c.metadata.name)
            if existing is None or claim_owner_matches(existing, sts, pod):
                continue
            new = updated_claim_refs(existing, sts, pod)
            if new is None:
                continue
            outcome = self.issue(apiserver.Update(new))
            if not outcome.ok:
                return f"Could not update claim {c.metadata.name} for delete policy ownerRefs: {outcome.error}"
            self.claim_overlay[c.metadata.name] = outcome.obj
        return ""

    def create_missing_claims(self, sts: StatefulSet, pod: Pod) -> str:
        """createMissingPersistentVolumeClaims: create missing claims, then set the policy's references."""
        err = self.create_claims(sts, pod)
        return err or self.update_claims_for_retention(sts, pod)

    def claim_is_stale(self, sts: StatefulSet, pod: Pod) -> bool:
        """PodClaimIsStale: with whenScaled=Delete, an existing claim referencing a pod of this
        name with another uid (the pod to create has none yet) blocks the creation."""
        if retention_policy(sts).when_scaled == RETAIN:
            return False
        for _, c in claims_for(sts, ordinal_of(pod)):
            existing = self.get_claim(c.metadata.name)
            if existing is not None and has_stale_owner_ref(existing, pod.metadata.name, pod.metadata.uid):
                return True
        return False

    # ---- pods (stateful_pod_control.go) ---------------------------------------------
    def create_stateful_pod(self, sts: StatefulSet, pod: Pod) -> str:
        """CreateStatefulPod: claims first, then the pod, then the claims' references."""
        err = self.create_claims(sts, pod)
        if err:
            return err
        outcome = self.issue(apiserver.Create(pod))
        if outcome.error.startswith("AlreadyExists"):
            return outcome.error
        err = self.update_claims_for_retention(sts, pod)
        return outcome.error or err

    def update_stateful_pod(self, sts: StatefulSet, pod: Pod) -> str:
        """UpdateStatefulPod: fix identity, storage (creating missing claims) and claim
        references; write the pod if anything was inconsistent."""
        consistent = True
        new = pod
        if not identity_matches(sts, new):
            new = update_identity(sts, new)
            consistent = False
        if not storage_matches(sts, new):
            new = update_storage(sts, new)
            consistent = False
            err = self.create_claims(sts, new)
            if err:
                return err
        if not self.claims_match_retention(sts, new):
            err = self.update_claims_for_retention(sts, new)
            if err:
                return err
            consistent = False
        if consistent:
            return ""
        if new.spec.volumes != pod.spec.volumes:
            # ValidatePodUpdate: pod updates may not change fields other than images, deadlines and tolerations
            return "Invalid: spec: Forbidden: pod updates may not change fields other than `spec.containers[*].image`, ..."
        return self.issue(apiserver.Update(new, check_rv=False)).error

    # ---- revisions (stateful_set_control.go getStatefulSetRevisions) ----------------
    def create_revision(self, rev: ControllerRevision, collision_count: int) -> tuple[ControllerRevision, int]:
        """CreateControllerRevision: create; on a name clash with other data bump the collision count and retry."""
        while True:
            h = history.hash_revision(rev.data, collision_count)
            clone = replace(rev, metadata=replace(rev.metadata, name=history.revision_name(self.sts.metadata.name, h)))
            outcome = self.issue(apiserver.Create(clone))
            if outcome.ok:
                return outcome.obj, collision_count
            existing = self.tx.get("ControllerRevision", self.sts.metadata.namespace, clone.metadata.name)
            if existing is None:
                return clone, collision_count
            if history.canonical(existing.data) == history.canonical(clone.data):
                return existing, collision_count
            collision_count += 1

    def revisions(self, revisions: list[ControllerRevision]) -> tuple[ControllerRevision, ControllerRevision, int]:
        """getStatefulSetRevisions: (current, update, collisionCount)."""
        sts = self.sts
        cc = sts.status.collision_count or 0
        update = new_statefulset_revision(sts, history.next_revision(revisions), cc)
        equal = history.find_equal_revisions(revisions, update)
        if equal and history.equal_revision(revisions[-1], equal[-1]):
            update = revisions[-1]
        elif equal:
            # a rollback: the equal revision gets the next revision number
            old = equal[-1]
            if old.revision != update.revision:
                outcome = self.issue(apiserver.Update(replace(old, revision=update.revision), check_rv=False))
                update = outcome.obj if outcome.ok and outcome.obj is not None else replace(old, revision=update.revision)
            else:
                update = old
        elif sts.metadata.deletion_timestamp is None:
            update, cc = self.create_revision(update, cc)
        # else: a set being deleted keeps the computed revision unsaved. Upstream
        # getStatefulSetRevisions would create it (stateful_set_control.go checks the
        # deletionTimestamp only later), but the controller syncs on pod and set events
        # only (no revision event handlers, stateful_set.go), so once the collector has
        # deleted the revisions nothing recreates them for long; a model whose syncs are
        # enabled by what they would change would recreate them for ever against the
        # collector's foreground deletion.
        current = next((r for r in revisions if r.metadata.name == sts.status.current_revision), None)
        return current or update, update, cc

    def truncate_history(self, revisions: list[ControllerRevision], pods: Sequence[Pod], current: ControllerRevision, update: ControllerRevision) -> None:
        """truncateHistory: delete the oldest revisions that are neither current, update nor
        any pod's, until at most revisionHistoryLimit remain."""
        live = {current.metadata.name, update.metadata.name, *(pod_revision(p) for p in pods)}
        old = [r for r in revisions if r.metadata.name not in live]
        limit = self.sts.spec.revision_history_limit
        limit = 10 if limit is None else limit
        if limit < 0 or len(old) <= limit:  # a negative limit keeps everything (later releases check it; validation forbids it)
            return
        for r in old[: len(old) - limit]:
            self.issue(apiserver.Delete(r.ref))

    # ---- the replicas ---------------------------------------------------------------
    def versioned_pod(self, ordinal: int) -> Pod:
        """newVersionedStatefulSetPod: the current revision's template below the partition
        (ordinal < start + partition), the update revision's otherwise."""
        assert self.current_set is not None and self.update_set is not None
        cur = self.current_set
        us = cur.spec.update_strategy
        start = start_ordinal(cur)
        use_current = (us.type == "RollingUpdate" and us.rolling_update is None and ordinal < start + cur.status.current_replicas) or (
            us.rolling_update is not None and ordinal < start + us.rolling_update.partition
        )
        if use_current:
            return with_revision(new_pod(self.sts, cur.spec.template, ordinal), self.current_name)
        return with_revision(new_pod(self.sts, self.update_set.spec.template, ordinal), self.update_name)

    def process_replica(self, i: int) -> tuple[bool, str]:
        """processReplica: (stop, error) for the replica at index i."""
        assert self.update_set is not None
        pod = self.replicas[i]
        if replaces_terminal(pod, self.config):
            if self.config.at_least("1.31"):
                # kubernetes#123809: delete (unless terminating) and wait for the object to go
                if not is_terminating(pod):
                    err = self.delete_pod(pod)
                    if err:
                        return True, err
                return True, ""
            err = self.delete_pod(pod)
            if err:
                return True, err
            pod = self.replicas[i] = self.versioned_pod(i + start_ordinal(self.sts))
        if not is_created(pod):
            if self.claim_is_stale(self.sts, pod):
                return True, ""
            err = self.create_stateful_pod(self.sts, pod)
            if err:
                return True, err
            if self.monotonic:
                return True, ""
        if pod.status.phase == PENDING:
            err = self.create_missing_claims(self.sts, pod)
            if err:
                return True, err
        if self.monotonic and (is_terminating(pod) or not is_running_and_ready(pod) or not is_running_and_available(pod, self.mrs, self.now)):
            return True, ""
        if identity_matches(self.sts, pod) and storage_matches(self.sts, pod) and self.claims_match_retention(self.update_set, pod):
            return False, ""
        err = self.update_stateful_pod(self.update_set, pod)
        return (True, err) if err else (False, "")

    def fix_condemned_claims(self, i: int) -> tuple[bool, str]:
        """The condemned pods' claim references (ClaimsMatchRetentionPolicy / UpdatePodClaimForRetentionPolicy)."""
        assert self.update_set is not None
        pod = self.condemned[i]
        if not self.claims_match_retention(self.update_set, pod):
            err = self.update_claims_for_retention(self.update_set, pod)
            if err:
                return True, err
        return False, ""

    def process_condemned(self, i: int) -> tuple[bool, str]:
        """processCondemned: a terminating pod blocks (OrderedReady) or is skipped; an unhealthy
        pod blocks OrderedReady unless it is the first unhealthy pod; otherwise delete it."""
        pod = self.condemned[i]
        if is_terminating(pod):
            return self.monotonic, ""
        not_first = pod is not self.first_unhealthy
        if self.monotonic and not_first and (not is_running_and_ready(pod) or not is_running_and_available(pod, self.mrs, self.now)):
            return True, ""
        return True, self.delete_pod(pod)

    def run_for_all(self, n: int, fn: Callable[[int], tuple[bool, str]]) -> tuple[bool, str]:
        """runForAll: sequentially, stopping at the first stop or error (OrderedReady); or in
        slow-start batches (1, 2, 4, … at most MaxBatchSize), stopping after a batch with an error."""
        if self.monotonic:
            for i in range(n):
                stop, err = fn(i)
                if stop or err:
                    return True, err
            return False, ""
        j, remaining, batch = 0, n, min(n, 1)
        while batch > 0:
            errors = [err for k in range(j, j + batch) if (err := fn(k)[1])]
            j += batch
            if errors:
                return True, "; ".join(errors)
            remaining -= batch
            batch = min(2 * batch, remaining, MAX_BATCH_SIZE)
        return False, ""

    def rolling_update(self, status: StatefulSetStatus) -> StatefulSetStatus:
        """The RollingUpdate step without the MaxUnavailableStatefulSet gate: from the highest
        index down to the partition, delete the first pod not at the update revision (and not
        terminating) and stop; wait at an unhealthy updated pod."""
        ru = self.sts.spec.update_strategy.rolling_update
        update_min = ru.partition if ru is not None else 0
        for target in range(len(self.replicas) - 1, update_min - 1, -1):
            pod = self.replicas[target]
            if pod_revision(pod) != self.update_name and not is_terminating(pod):
                err = self.delete_pod(pod)
                if err and not err.startswith("NotFound"):
                    return status
                return replace(status, current_replicas=status.current_replicas - 1)
            if is_unhealthy(pod, self.mrs, self.now, self.config):
                return status
        return status

    def rolling_update_max_unavailable(self, status: StatefulSetStatus) -> StatefulSetStatus:
        """updateStatefulSetAfterInvariantEstablished (MaxUnavailableStatefulSet): count the
        unhealthy replicas; if fewer than maxUnavailable, delete up to the difference, from the
        highest index down to the partition, among pods not at the update revision and not
        terminating."""
        ru = self.sts.spec.update_strategy.rolling_update
        update_min, limit = 0, 1
        if ru is not None:
            update_min = ru.partition
            limit = max_unavailable(ru.max_unavailable, self.sts.spec.replicas)
        unavailable = sum(1 for p in self.replicas if is_unhealthy(p, self.mrs, self.now, self.config))
        if unavailable >= limit:
            return status
        to_delete = limit - unavailable
        deleted = 0
        for target in range(len(self.replicas) - 1, update_min - 1, -1):
            if deleted >= to_delete:
                break
            pod = self.replicas[target]
            if pod_revision(pod) != self.update_name and not is_terminating(pod):
                err = self.delete_pod(pod)
                if err and not err.startswith("NotFound"):
                    return status
                deleted += 1
                status = replace(status, current_replicas=status.current_replicas - 1)
        return status

    def update_statefulset(self, current: ControllerRevision, update: ControllerRevision, collision_count: int, pods: list[Pod]) -> StatefulSetStatus:
        """updateStatefulSet: partition the pods, process replicas and condemned pods, then the
        update strategy; returns the status to write."""
        sts = self.sts
        self.current_set = apply_revision(sts, current)
        self.update_set = apply_revision(sts, update)
        self.current_name, self.update_name = current.metadata.name, update.metadata.name
        status = StatefulSetStatus(
            observed_generation=sts.metadata.generation,
            current_revision=current.metadata.name,
            update_revision=update.metadata.name,
            collision_count=collision_count,
        )
        status = count_status(status, pods, self.mrs, self.now, self.current_name, self.update_name)
        start = start_ordinal(sts)
        slots: list[Pod | None] = [None] * sts.spec.replicas
        condemned: list[Pod] = []
        for p in pods:
            o = ordinal_of(p)
            if in_ordinal_range(o, sts):
                slots[o - start] = p
            elif o >= 0:
                condemned.append(p)
        self.replicas = [p if p is not None else self.versioned_pod(start + i) for i, p in enumerate(slots)]
        self.condemned = sorted(condemned, key=ordinal_of, reverse=True)
        self.first_unhealthy = next((p for p in self.replicas if is_unhealthy(p, self.mrs, self.now, self.config)), None)
        if self.first_unhealthy is None:
            self.first_unhealthy = next((p for p in reversed(self.condemned) if is_unhealthy(p, self.mrs, self.now, self.config)), None)
        if sts.metadata.deletion_timestamp is not None:
            return status

        def recount(s: StatefulSetStatus) -> StatefulSetStatus:
            return count_status(s, [*self.replicas, *self.condemned], self.mrs, self.now, self.current_name, self.update_name)

        self.monotonic = sts.spec.pod_management_policy != "Parallel"
        phases = ((len(self.replicas), self.process_replica), (len(self.condemned), self.fix_condemned_claims), (len(self.condemned), self.process_condemned))
        for n, fn in phases:
            stop, err = self.run_for_all(n, fn)
            if stop or err:
                return recount(status)
        status = recount(status)
        if sts.spec.update_strategy.type == "OnDelete":
            return status
        if self.max_unavailable_gate:
            return self.rolling_update_max_unavailable(status)
        return self.rolling_update(status)


class StatefulSetController(KindReconciler):
    """Creates, deletes and updates the pods (and claims) of each StatefulSet."""

    name = NAME
    kind = "StatefulSet"
    sync_class: type[Sync] = Sync  # a deliberately broken variant may plug in another sync

    def __init__(self, max_unavailable_gate: bool | None = None) -> None:
        # None: the feature gate's default for the modelled release (off through 1.34).
        self.max_unavailable_gate = max_unavailable_gate

    def gate_enabled(self, config: ModelConfig) -> bool:
        """Whether MaxUnavailableStatefulSet is on (explicitly, or by default from 1.35)."""
        if self.max_unavailable_gate is not None:
            return self.max_unavailable_gate
        return config.at_least("1.35")

    def reconcile(self, state: ClusterState, obj: object, config: ModelConfig) -> Sequence[apiserver.Request]:
        """One sync of one StatefulSet."""
        sts: StatefulSet = obj  # type: ignore[assignment]
        sync = self.sync_class(state, sts, config, self.gate_enabled(config))
        if not self.adopt_orphan_revisions(sync):
            return ()
        pods = self.claim_pods(sync)
        revisions = history.sort_revisions(list_revisions(state, sts))
        current, update, cc = sync.revisions(revisions)
        status = sync.update_statefulset(current, update, cc, pods)
        status = complete_rolling_update(sts, status)
        if inconsistent_status(sts, status):
            sync.issue(apiserver.Update(replace(sts, status=status), status=True, check_rv=False))
        sync.truncate_history(revisions, pods, current, update)
        return sync.requests

    def adopt_orphan_revisions(self, sync: Sync) -> bool:
        """adoptOrphanRevisions: adopt revisions without a controller; False (the sync fails)
        if there are some while the set is being deleted."""
        sts = sync.sts
        orphans = [r for r in list_revisions(sync.state, sts) if r.metadata.controller_ref() is None]
        if orphans and sts.metadata.deletion_timestamp is not None:
            return False
        for r in orphans:
            adopted = replace(r, metadata=replace(r.metadata, owner_references=r.metadata.owner_references + (controller_ref(sts),)))
            if not sync.issue(apiserver.Update(adopted, check_rv=False)).ok:
                return False
        return True

    def claim_pods(self, sync: Sync) -> list[Pod]:
        """getPodsForStatefulSet: ClaimPods over every pod of the namespace with isMemberOf."""
        sts = sync.sts
        pods = sync.state.pods(sts.metadata.namespace)
        claimed, reqs = claim(sts, sts.spec.selector, pods, extra_match=lambda p: is_member_of(sts, p))
        for r in reqs:
            sync.issue(r)
        return claimed

    def deadlines(self, state: ClusterState, config: ModelConfig) -> Iterable[int]:
        """The minReadySeconds requeue: when a ready pod of a set becomes available."""
        for sts in state.list(self.kind):
            mrs = sts.spec.min_ready_seconds
            if mrs <= 0:
                continue
            for p in state.controlled_by(sts.metadata.uid, "Pod"):
                since = pod_ready_since(p)
                if since is not None and p.active:
                    yield since + mrs + 1
