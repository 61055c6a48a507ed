"""Pure decision functions of the Deployment controller.

Everything here is a function of API objects only (no state, no clock except where a
`now` is passed in), so each upstream unit-test table can be checked directly. The
controller in `kmodel.controllers.deployment` composes these functions with API writes.

Sources (Kubernetes v1.28): pkg/controller/deployment/util/deployment_util.go,
pkg/controller/deployment/{sync,rolling,recreate,progress}.go,
pkg/controller/controller_utils.go (ComputeHash, ReplicaSet sort orders),
apimachinery pkg/util/rand (SafeEncodeString). Spec: §6 of the semantics catalogue.
"""

from __future__ import annotations

import functools
import json
import math
import re
from collections.abc import Iterable, Sequence
from dataclasses import replace
from typing import NamedTuple

from kmodel.codec import encode_dataclass
from kmodel.frozen import FrozenDict
from kmodel.intstr import scaled_value
from kmodel.objects.meta import Condition, find_condition
from kmodel.objects.pod import PodTemplateSpec
from kmodel.objects.selectors import LabelSelector
from kmodel.objects.workloads import Deployment, DeploymentStatus, ReplicaSet, RollingUpdateDeployment

# ---- annotations and labels (deployment_util.go constants, apps/v1 types.go) -------------

REVISION = "deployment.kubernetes.io/revision"
REVISION_HISTORY = "deployment.kubernetes.io/revision-history"
DESIRED_REPLICAS = "deployment.kubernetes.io/desired-replicas"
MAX_REPLICAS = "deployment.kubernetes.io/max-replicas"
ROLLBACK_TO = "deprecated.deployment.rollback.to"
LAST_APPLIED = "kubectl.kubernetes.io/last-applied-configuration"
POD_TEMPLATE_HASH = "pod-template-hash"  # apps.DefaultDeploymentUniqueLabelKey

# sync.go: the revision-history annotation is bounded to ~2000 characters.
MAX_REV_HISTORY_CHARS = 2000
MAX_INT32 = 2**31 - 1

# Annotations never copied from the Deployment to its new ReplicaSet (deployment_util.go annotationsToSkip).
ANNOTATIONS_TO_SKIP = frozenset({LAST_APPLIED, REVISION, REVISION_HISTORY, DESIRED_REPLICAS, MAX_REPLICAS, ROLLBACK_TO})

# ---- conditions (deployment_util.go reasons) ----------------------------------------------

PROGRESSING = "Progressing"
AVAILABLE = "Available"
REPLICA_FAILURE = "ReplicaFailure"

RS_UPDATED = "ReplicaSetUpdated"
FAILED_RS_CREATE = "ReplicaSetCreateError"
NEW_RS_CREATED = "NewReplicaSetCreated"
FOUND_NEW_RS = "FoundNewReplicaSet"
NEW_RS_AVAILABLE = "NewReplicaSetAvailable"
TIMED_OUT = "ProgressDeadlineExceeded"
PAUSED = "DeploymentPaused"
RESUMED = "DeploymentResumed"
MIN_AVAILABLE = "MinimumReplicasAvailable"
MIN_UNAVAILABLE = "MinimumReplicasUnavailable"

# FNV-1a, 32 bit (hash/fnv).
_FNV32_OFFSET = 2166136261
_FNV32_PRIME = 16777619
# Alphabet of rand.SafeEncodeString (the same as generated name suffixes).
SAFE_ALPHABET = "bcdfghjklmnpqrstvwxz2456789"
_GO_ATOI = re.compile(r"^[+-]?[0-9]+$")


# ---- fence posts ---------------------------------------------------------------------------


def _rolling(d: Deployment) -> RollingUpdateDeployment:
    """spec.strategy.rollingUpdate, defaulted if absent (defaulting always sets it for RollingUpdate)."""
    return d.spec.strategy.rolling_update or RollingUpdateDeployment()


def is_rolling_update(d: Deployment) -> bool:
    """deployment_util.go IsRollingUpdate: strategy type RollingUpdate."""
    return d.spec.strategy.type == "RollingUpdate"


def resolve_fenceposts(max_surge: int | str | None, max_unavailable: int | str | None, desired: int) -> tuple[int, int]:
    """deployment_util.go ResolveFenceposts: (surge, unavailable) for `desired` replicas.

    Surge percentages round up, unavailable percentages round down, a nil value counts
    as 0, and if both resolve to 0 unavailable becomes 1 (so a rollout can always make
    progress). Raises IntOrPercentError for a string that is not a percentage.
    """
    surge = scaled_value(max_surge, desired, round_up=True)
    unavailable = scaled_value(max_unavailable, desired, round_up=False)
    if surge == 0 and unavailable == 0:
        unavailable = 1
    return surge, unavailable


def max_unavailable(d: Deployment) -> int:
    """deployment_util.go MaxUnavailable: 0 unless RollingUpdate with replicas > 0; capped at replicas."""
    if not is_rolling_update(d) or d.spec.replicas == 0:
        return 0
    ru = _rolling(d)
    _, unavailable = resolve_fenceposts(ru.max_surge, ru.max_unavailable, d.spec.replicas)
    return min(unavailable, d.spec.replicas)


def min_available(d: Deployment) -> int:
    """deployment_util.go MinAvailable: replicas − MaxUnavailable for RollingUpdate, 0 for Recreate."""
    if not is_rolling_update(d):
        return 0
    return d.spec.replicas - max_unavailable(d)


def max_surge(d: Deployment) -> int:
    """deployment_util.go MaxSurge: the resolved surge (rounded up), 0 for Recreate."""
    if not is_rolling_update(d):
        return 0
    ru = _rolling(d)
    surge, _ = resolve_fenceposts(ru.max_surge, ru.max_unavailable, d.spec.replicas)
    return surge


# ---- sums over ReplicaSets -----------------------------------------------------------------


def replica_count(rss: Iterable[ReplicaSet | None]) -> int:
    """GetReplicaCountForReplicaSets: Σ spec.replicas."""
    return sum(rs.spec.replicas for rs in rss if rs is not None)


def actual_replica_count(rss: Iterable[ReplicaSet | None]) -> int:
    """GetActualReplicaCountForReplicaSets: Σ status.replicas."""
    return sum(rs.status.replicas for rs in rss if rs is not None)


def ready_replica_count(rss: Iterable[ReplicaSet | None]) -> int:
    """GetReadyReplicaCountForReplicaSets: Σ status.readyReplicas."""
    return sum(rs.status.ready_replicas for rs in rss if rs is not None)


def available_replica_count(rss: Iterable[ReplicaSet | None]) -> int:
    """GetAvailableReplicaCountForReplicaSets: Σ status.availableReplicas."""
    return sum(rs.status.available_replicas for rs in rss if rs is not None)


def filter_active(rss: Iterable[ReplicaSet | None]) -> list[ReplicaSet]:
    """controller_utils.go FilterActiveReplicaSets: sets with spec.replicas > 0."""
    return [rs for rs in rss if rs is not None and rs.spec.replicas > 0]


# ---- sort orders (controller_utils.go, deployment_util.go) -----------------------------------


def _creation_key(rs: ReplicaSet) -> tuple[bool, int, str]:
    ts = rs.metadata.creation_timestamp
    return (ts is not None, ts or 0, rs.metadata.name)  # a zero time sorts first


def by_creation(rss: Iterable[ReplicaSet]) -> list[ReplicaSet]:
    """ReplicaSetsByCreationTimestamp: oldest first, ties by name."""
    return sorted(rss, key=_creation_key)


def by_size_older(rss: Iterable[ReplicaSet]) -> list[ReplicaSet]:
    """ReplicaSetsBySizeOlder: largest first; equal sizes oldest first (used when removing replicas)."""
    return sorted(rss, key=lambda rs: (-rs.spec.replicas, _creation_key(rs)))


def by_size_newer(rss: Iterable[ReplicaSet]) -> list[ReplicaSet]:
    """ReplicaSetsBySizeNewer: largest first; equal sizes newest first (used when adding replicas)."""

    def cmp(a: ReplicaSet, b: ReplicaSet) -> int:
        if a.spec.replicas != b.spec.replicas:
            return b.spec.replicas - a.spec.replicas
        ka, kb = _creation_key(a), _creation_key(b)
        return (ka < kb) - (ka > kb)  # reversed creation order

    return sorted(rss, key=functools.cmp_to_key(cmp))


def by_revision(rss: Iterable[ReplicaSet]) -> list[ReplicaSet]:
    """ReplicaSetsByRevision: lowest revision first; unparseable or equal revisions by creation."""

    def cmp(a: ReplicaSet, b: ReplicaSet) -> int:
        ra, rb = revision(a), revision(b)
        if ra is None or rb is None or ra == rb:
            ka, kb = _creation_key(a), _creation_key(b)
            return (ka > kb) - (ka < kb)
        return (ra > rb) - (ra < rb)

    return sorted(rss, key=functools.cmp_to_key(cmp))


# ---- the template hash and new/old ReplicaSets -----------------------------------------------


def fnv32a(data: bytes) -> int:
    """The 32-bit FNV-1a hash of `data` (hash/fnv New32a)."""
    h = _FNV32_OFFSET
    for byte in data:
        h ^= byte
        h = (h * _FNV32_PRIME) & 0xFFFFFFFF
    return h


def safe_encode(s: str) -> str:
    """rand.SafeEncodeString: map each character onto the "safe" alphabet by code point."""
    return "".join(SAFE_ALPHABET[ord(ch) % len(SAFE_ALPHABET)] for ch in s)


def canonical_template(template: PodTemplateSpec) -> bytes:
    """A canonical byte encoding of a pod template: its JSON form with sorted keys."""
    return json.dumps(encode_dataclass(template), sort_keys=True, separators=(",", ":")).encode()


def compute_hash(template: PodTemplateSpec, collision_count: int | None) -> str:
    """controller_utils.go ComputeHash: the pod-template-hash of a Deployment's new ReplicaSet.

    FNV-32a over a canonical encoding of the pod template, then, if collisionCount is
    set, its 4-byte little-endian value padded to 8 bytes (upstream writes an 8-byte
    buffer); the decimal value of the hash is rendered in the "safe" alphabet
    `bcdfghjklmnpqrstvwxz2456789`. The value differs from a real cluster's, because
    upstream hashes Go's deep-printing (spew) of the struct, which cannot be
    reproduced; the structure is the same: up to 10 characters from
    {b, c, d, f, 4, 5, 6, 7, 8, 9}, equal templates give equal hashes, and bumping
    collisionCount gives a different one.
    """
    data = canonical_template(template)
    if collision_count is not None:
        data += (collision_count & 0xFFFFFFFF).to_bytes(4, "little") + bytes(4)
    return safe_encode(str(fnv32a(data)))


def _without_hash_label(template: PodTemplateSpec) -> PodTemplateSpec:
    labels = template.metadata.labels
    if POD_TEMPLATE_HASH not in labels:
        return template
    return replace(template, metadata=replace(template.metadata, labels=labels.without(POD_TEMPLATE_HASH)))


def equal_ignore_hash(t1: PodTemplateSpec, t2: PodTemplateSpec) -> bool:
    """deployment_util.go EqualIgnoreHash: templates equal once the pod-template-hash label is dropped."""
    return _without_hash_label(t1) == _without_hash_label(t2)


def template_with_hash(template: PodTemplateSpec, pod_template_hash: str) -> PodTemplateSpec:
    """The new ReplicaSet's template: the Deployment's with the pod-template-hash label added."""
    labels = template.metadata.labels.set(POD_TEMPLATE_HASH, pod_template_hash)
    return replace(template, metadata=replace(template.metadata, labels=labels))


def selector_with_hash(selector: LabelSelector, pod_template_hash: str) -> LabelSelector:
    """labelsutil.CloneSelectorAndAddLabel: the selector with pod-template-hash added to matchLabels."""
    return replace(selector, match_labels=selector.match_labels.set(POD_TEMPLATE_HASH, pod_template_hash))


def template_without_hash(template: PodTemplateSpec) -> PodTemplateSpec:
    """SetFromReplicaSetTemplate: a ReplicaSet's template as a Deployment template (hash label removed)."""
    return _without_hash_label(template)


def find_new_replica_set(d: Deployment, rss: Sequence[ReplicaSet]) -> ReplicaSet | None:
    """deployment_util.go FindNewReplicaSet: the oldest set whose template equals the Deployment's."""
    for rs in by_creation(rss):
        if equal_ignore_hash(rs.spec.template, d.spec.template):
            return rs
    return None


def find_old_replica_sets(d: Deployment, rss: Sequence[ReplicaSet]) -> tuple[list[ReplicaSet], list[ReplicaSet]]:
    """deployment_util.go FindOldReplicaSets: (old sets with replicas, all old sets), oldest first."""
    new = find_new_replica_set(d, rss)
    all_old = [rs for rs in by_creation(rss) if new is None or rs.metadata.uid != new.metadata.uid]
    return [rs for rs in all_old if rs.spec.replicas != 0], all_old


# ---- revisions and annotations ---------------------------------------------------------------


def revision(obj: ReplicaSet | Deployment) -> int | None:
    """deployment_util.go Revision: the revision annotation (0 if absent, None if not an integer)."""
    raw = obj.metadata.annotations.get(REVISION)
    if raw is None:
        return 0
    return _parse_int(raw)


def _parse_int(raw: str) -> int | None:
    """strconv.ParseInt / Atoi: an optionally signed decimal integer, else None."""
    return int(raw) if _GO_ATOI.match(raw) else None


def max_revision(rss: Iterable[ReplicaSet]) -> int:
    """deployment_util.go MaxRevision: the highest parseable revision (0 if none)."""
    return max((v for v in (revision(rs) for rs in rss) if v is not None), default=0)


def last_revision(rss: Iterable[ReplicaSet]) -> int:
    """deployment_util.go LastRevision: the second-highest revision (the one before the current)."""
    top = second = 0
    for rs in rss:
        v = revision(rs)
        if v is None:
            continue
        if v >= top:
            second, top = top, v
        elif v > second:
            second = v
    return second


def copy_deployment_annotations(d: Deployment, annotations: dict[str, str]) -> bool:
    """copyDeploymentAnnotationsToReplicaSet: copy the Deployment's annotations (except the
    skipped ones) into `annotations`; True if anything changed."""
    changed = False
    for k, v in d.metadata.annotations.items():
        if k in ANNOTATIONS_TO_SKIP or annotations.get(k) == v:
            continue
        annotations[k] = v
        changed = True
    return changed


def set_replicas_annotations(annotations: dict[str, str], desired: int, max_replicas: int) -> bool:
    """SetReplicasAnnotations: record desired-replicas and max-replicas; True if either changed."""
    changed = False
    for key, value in ((DESIRED_REPLICAS, str(desired)), (MAX_REPLICAS, str(max_replicas))):
        if annotations.get(key) != value:
            annotations[key] = value
            changed = True
    return changed


def replicas_annotations_need_update(rs: ReplicaSet, desired: int, max_replicas: int) -> bool:
    """ReplicasAnnotationsNeedUpdate: desired-replicas or max-replicas differs from the given values."""
    ann = rs.metadata.annotations
    return ann.get(DESIRED_REPLICAS) != str(desired) or ann.get(MAX_REPLICAS) != str(max_replicas)


def _with_annotations(rs: ReplicaSet, annotations: dict[str, str]) -> ReplicaSet:
    if annotations == rs.metadata.annotations:
        return rs
    return replace(rs, metadata=replace(rs.metadata, annotations=FrozenDict(annotations)))


def set_new_rs_annotations(
    d: Deployment, rs: ReplicaSet, new_revision: str, exists: bool, history_limit_chars: int = MAX_REV_HISTORY_CHARS
) -> tuple[ReplicaSet, bool]:
    """deployment_util.go SetNewReplicaSetAnnotations: the new set's annotations after a sync.

    Copies the Deployment's annotations (except the skipped ones), raises the revision
    to `new_revision` if lower (appending the previous revision to revision-history,
    bounded to `history_limit_chars`, when it is a reused set, e.g. after a rollback),
    and for a set about to be created records desired/max replicas. Returns the set with
    its annotations and whether upstream reports a change (an unparseable old revision
    reports none, although copied annotations are kept).
    """
    ann = dict(rs.metadata.annotations)
    changed = copy_deployment_annotations(d, ann)
    had_revision = REVISION in ann
    old_revision = ann.get(REVISION, "")
    old_int = _parse_int(old_revision)
    if old_int is None:
        if old_revision != "":
            return _with_annotations(rs, ann), False
        old_int = 0
    new_int = int(new_revision)
    if old_int < new_int:
        ann[REVISION] = new_revision
        changed = True
    if had_revision and old_int < new_int:
        _append_revision_history(ann, old_revision, history_limit_chars)
    if not exists and set_replicas_annotations(ann, d.spec.replicas, d.spec.replicas + max_surge(d)):
        changed = True
    return _with_annotations(rs, ann), changed


def _append_revision_history(ann: dict[str, str], old_revision: str, limit: int) -> None:
    """Append `old_revision` to revision-history, dropping the oldest entries beyond `limit` characters."""
    history = ann.get(REVISION_HISTORY, "")
    entries = history.split(",")
    if len(entries[0]) == 0:
        ann[REVISION_HISTORY] = old_revision
        return
    total = len(history) + len(old_revision) + 1
    start = 0
    while total > limit and start < len(entries):
        total -= len(entries[start]) + 1
        start += 1
    if total <= limit:
        ann[REVISION_HISTORY] = ",".join(entries[start:] + [old_revision])


def deployment_annotations_from(d: Deployment, rs: ReplicaSet) -> FrozenDict[str, str]:
    """SetDeploymentAnnotationsTo (rollback): keep the Deployment's skipped annotations, take the rest from `rs`."""
    kept = {k: v for k, v in d.metadata.annotations.items() if k in ANNOTATIONS_TO_SKIP}
    kept.update({k: v for k, v in rs.metadata.annotations.items() if k not in ANNOTATIONS_TO_SKIP})
    return FrozenDict(kept)


def desired_replicas_annotation(rs: ReplicaSet) -> int | None:
    """GetDesiredReplicasAnnotation: the desired-replicas annotation, None if absent or invalid."""
    raw = rs.metadata.annotations.get(DESIRED_REPLICAS)
    return None if raw is None else _parse_int(raw)


def max_replicas_annotation(rs: ReplicaSet) -> int | None:
    """getMaxReplicasAnnotation: the max-replicas annotation, None if absent or invalid."""
    raw = rs.metadata.annotations.get(MAX_REPLICAS)
    return None if raw is None else _parse_int(raw)


def rollback_to(d: Deployment) -> int | None:
    """rollback.go getRollbackTo: the revision in the legacy rollback annotation (None if absent or invalid)."""
    raw = d.metadata.annotations.get(ROLLBACK_TO, "")
    return _parse_int(raw) if raw else None


# ---- scaling ---------------------------------------------------------------------------------


def new_rs_new_replicas(d: Deployment, all_rss: Sequence[ReplicaSet | None], new_rs: ReplicaSet) -> int:
    """deployment_util.go NewRSNewReplicas: the size the new ReplicaSet may grow to now.

    RollingUpdate: with maxTotal = replicas + maxSurge (rounded up) and current = Σ
    spec.replicas of all sets, unchanged if current ≥ maxTotal, else grown by
    min(maxTotal − current, replicas − new). Recreate: replicas.
    """
    if d.spec.strategy.type == "Recreate":
        return d.spec.replicas
    surge = scaled_value(_rolling(d).max_surge, d.spec.replicas, round_up=True)
    current = replica_count(all_rss)
    max_total = d.spec.replicas + surge
    if current >= max_total:
        return new_rs.spec.replicas
    return new_rs.spec.replicas + min(max_total - current, d.spec.replicas - new_rs.spec.replicas)


def new_rs_target(d: Deployment, all_rss: Sequence[ReplicaSet | None], new_rs: ReplicaSet) -> int:
    """rolling.go reconcileNewReplicaSet: the new set's size after this step (its current size if unchanged).

    Equal to replicas: unchanged; above replicas: scaled down to replicas; else NewRSNewReplicas.
    """
    if new_rs.spec.replicas >= d.spec.replicas:
        return d.spec.replicas
    return new_rs_new_replicas(d, all_rss, new_rs)


def max_scaled_down(d: Deployment, all_rss: Sequence[ReplicaSet | None], new_rs: ReplicaSet) -> int:
    """rolling.go reconcileOldReplicaSets: how many old replicas this step may remove at most.

    Σ spec.replicas − minAvailable − (new set's spec.replicas − its availableReplicas), so
    that unavailable new pods are never counted on to replace available old ones.
    """
    new_unavailable = new_rs.spec.replicas - new_rs.status.available_replicas
    return replica_count(all_rss) - min_available(d) - new_unavailable


class CleanupPlan(NamedTuple):
    """What cleanupUnhealthyReplicas does: the (set, new size) updates in order, and the set at
    which it stops with an error, if any (one whose status reports more available replicas than
    its spec, e.g. a scale-down its ReplicaSet controller has not carried out yet)."""

    ops: list[tuple[ReplicaSet, int]]
    fails_at: ReplicaSet | None = None


def cleanup_unhealthy_plan(old_rss: Sequence[ReplicaSet], max_cleanup: int) -> CleanupPlan:
    """rolling.go cleanupUnhealthyReplicas: old sets scaled down by their unavailable replicas.

    Oldest first, each set with spec.replicas ≠ availableReplicas loses
    min(spec − available, what is left of `max_cleanup`). A set with more available
    replicas than its spec would be "scaled down" to a larger size: upstream rejects that
    ("invalid request to scale down") and the whole scale-down of old sets stops there.
    """
    ops: list[tuple[ReplicaSet, int]] = []
    total = 0
    for rs in by_creation(old_rss):
        if total >= max_cleanup:
            break
        if rs.spec.replicas == 0 or rs.spec.replicas == rs.status.available_replicas:
            continue
        count = min(max_cleanup - total, rs.spec.replicas - rs.status.available_replicas)
        if count < 0:
            return CleanupPlan(ops, fails_at=rs)
        ops.append((rs, rs.spec.replicas - count))
        total += count
    return CleanupPlan(ops)


def scale_down_old_plan(d: Deployment, all_rss: Sequence[ReplicaSet | None], old_rss: Sequence[ReplicaSet]) -> list[tuple[ReplicaSet, int]]:
    """rolling.go scaleDownOldReplicaSetsForRollingUpdate: (set, new size) for old sets scaled down for availability.

    If Σ availableReplicas of all sets exceeds minAvailable, remove the excess from old
    sets, oldest first, each down to at most 0.
    """
    available = available_replica_count(all_rss)
    minimum = min_available(d)
    if available <= minimum:
        return []
    budget = available - minimum
    plan: list[tuple[ReplicaSet, int]] = []
    total = 0
    for rs in by_creation(old_rss):
        if total >= budget:
            break
        if rs.spec.replicas == 0:
            continue
        count = min(rs.spec.replicas, budget - total)
        plan.append((rs, rs.spec.replicas - count))
        total += count
    return plan


def is_saturated(d: Deployment, rs: ReplicaSet | None) -> bool:
    """deployment_util.go IsSaturated: the set has replicas, desired-replicas and available all equal to the Deployment's replicas."""
    if rs is None:
        return False
    desired = desired_replicas_annotation(rs)
    if desired is None:
        return False
    n = d.spec.replicas
    return rs.spec.replicas == n and desired == n and rs.status.available_replicas == n


def find_active_or_latest(new_rs: ReplicaSet | None, old_rss: Sequence[ReplicaSet]) -> ReplicaSet | None:
    """deployment_util.go FindActiveOrLatest: the only active set; with none active the new set, else
    the newest old set; None when several are active (then scaling is proportional)."""
    if new_rs is None and not old_rss:
        return None
    newest_first = list(reversed(by_creation(old_rss)))
    active = filter_active([*newest_first, new_rs])
    if not active:
        return new_rs if new_rs is not None else newest_first[0]
    if len(active) == 1:
        return active[0]
    return None


def is_scaling_event(d: Deployment, rss: Iterable[ReplicaSet | None]) -> bool:
    """sync.go isScalingEvent: some active set's desired-replicas annotation differs from spec.replicas."""
    for rs in filter_active(rss):
        desired = desired_replicas_annotation(rs)
        if desired is not None and desired != d.spec.replicas:
            return True
    return False


def round_half_away(x: float) -> int:
    """k8s.io/utils/integer RoundToInt32: round half away from zero."""
    return math.floor(x + 0.5) if x >= 0 else -math.floor(-x + 0.5)


def replica_set_fraction(rs: ReplicaSet, d: Deployment) -> int:
    """deployment_util.go getReplicaSetFraction: how many replicas `rs` gains (or loses) proportionally.

    round(rs.replicas × (replicas + maxSurge) / annotated max-replicas) − rs.replicas,
    with the Deployment's status.replicas when the annotation is missing; −rs.replicas
    when the Deployment scales to 0. (Upstream divides by zero if that denominator is
    0; the model then gives the set no proportion and leaves the difference to the
    leftover rule.)
    """
    if d.spec.replicas == 0:
        return -rs.spec.replicas
    deployment_replicas = d.spec.replicas + max_surge(d)
    annotated = max_replicas_annotation(rs)
    if annotated is None:
        annotated = d.status.replicas
    if annotated == 0:
        return 0
    return round_half_away(rs.spec.replicas * deployment_replicas / annotated) - rs.spec.replicas


def get_proportion(rs: ReplicaSet | None, d: Deployment, to_add: int, added: int) -> int:
    """deployment_util.go GetProportion: the set's fraction, clamped so the running total never passes `to_add`."""
    if rs is None or rs.spec.replicas == 0 or to_add == 0 or to_add == added:
        return 0
    fraction = replica_set_fraction(rs, d)
    allowed = to_add - added
    return min(fraction, allowed) if to_add > 0 else max(fraction, allowed)


def proportional_sizes(d: Deployment, active_rss: Sequence[ReplicaSet]) -> list[tuple[ReplicaSet, int]]:
    """sync.go scale (proportional branch): (set, new size) for every active set, in update order.

    allowed = replicas + maxSurge (0 when scaling to 0); toAdd = allowed − Σ spec.replicas.
    Sets are ordered largest first, equal sizes newest first when adding and oldest
    first when removing; each gets its proportion, and the leftover goes to the first
    set (floored at 0).
    """
    allowed = d.spec.replicas + max_surge(d) if d.spec.replicas > 0 else 0
    to_add = allowed - replica_count(active_rss)
    if to_add > 0:
        ordered = by_size_newer(active_rss)
    elif to_add < 0:
        ordered = by_size_older(active_rss)
    else:
        ordered = list(active_rss)
    sizes: list[int] = []
    added = 0
    for rs in ordered:
        proportion = get_proportion(rs, d, to_add, added) if to_add != 0 else 0
        sizes.append(rs.spec.replicas + proportion)
        added += proportion
    if ordered and to_add != 0:
        sizes[0] = max(0, sizes[0] + to_add - added)
    return list(zip(ordered, sizes))


class ScaleStep(NamedTuple):
    """One ReplicaSet update of `scale`: the set, its new size, and whether the write happens
    even when only the desired/max-replicas annotations differ (scaleReplicaSet) or only
    when the size changes (scaleReplicaSetAndRecordEvent)."""

    rs: ReplicaSet
    replicas: int
    annotate: bool


def scale_plan(d: Deployment, new_rs: ReplicaSet | None, old_rss: Sequence[ReplicaSet]) -> list[ScaleStep]:
    """sync.go scale: the updates for a scaling event or a paused Deployment, in order.

    At most one active set: that set (or, with none, the new set or else the newest old
    set) gets spec.replicas. A saturated new set: every active old set goes to 0.
    Otherwise, for RollingUpdate, every active set is scaled proportionally.
    """
    target = find_active_or_latest(new_rs, old_rss)
    if target is not None:
        if target.spec.replicas == d.spec.replicas:
            return []
        return [ScaleStep(target, d.spec.replicas, annotate=False)]
    newest_first = list(reversed(by_creation(old_rss)))
    if is_saturated(d, new_rs):
        return [ScaleStep(rs, 0, annotate=False) for rs in filter_active(newest_first)]
    if is_rolling_update(d):
        active = filter_active([*newest_first, new_rs])
        return [ScaleStep(rs, size, annotate=True) for rs, size in proportional_sizes(d, active)]
    return []


# ---- history cleanup -------------------------------------------------------------------------


def has_revision_history_limit(d: Deployment) -> bool:
    """HasRevisionHistoryLimit: revisionHistoryLimit set and not MaxInt32."""
    limit = d.spec.revision_history_limit
    return limit is not None and limit != MAX_INT32


def history_to_delete(d: Deployment, old_rss: Sequence[ReplicaSet]) -> list[ReplicaSet]:
    """sync.go cleanupDeployment: the old sets to delete, in order.

    Of the old sets not being deleted, the (count − revisionHistoryLimit) with the lowest
    revisions are candidates; a candidate is deleted only if spec.replicas and
    status.replicas are 0 and its status has observed its generation (others are skipped,
    not replaced by the next one).
    """
    if not has_revision_history_limit(d):
        return []
    assert d.spec.revision_history_limit is not None
    cleanable = [rs for rs in old_rss if rs.metadata.deletion_timestamp is None]
    diff = len(cleanable) - d.spec.revision_history_limit
    if diff <= 0:
        return []
    out = []
    for rs in by_revision(cleanable)[:diff]:
        if rs.status.replicas != 0 or rs.spec.replicas != 0 or rs.metadata.generation > rs.status.observed_generation:
            continue
        out.append(rs)
    return out


# ---- status and conditions -------------------------------------------------------------------


def has_progress_deadline(d: Deployment) -> bool:
    """HasProgressDeadline: progressDeadlineSeconds set and not MaxInt32."""
    pds = d.spec.progress_deadline_seconds
    return pds is not None and pds != MAX_INT32


def new_condition(type_: str, status: str, reason: str, message: str, now: int) -> Condition:
    """NewDeploymentCondition: lastUpdateTime and lastTransitionTime are now."""
    return Condition(type_, status, reason=reason, message=message, last_update_time=now, last_transition_time=now)


def set_deployment_condition(conditions: tuple[Condition, ...], cond: Condition) -> tuple[Condition, ...]:
    """SetDeploymentCondition: no change if a condition of that type has the same status and
    reason; else replace it (moved to the end), keeping lastTransitionTime if the status is unchanged."""
    current = find_condition(conditions, cond.type)
    if current is not None and current.status == cond.status and current.reason == cond.reason:
        return conditions
    if current is not None and current.status == cond.status:
        cond = replace(cond, last_transition_time=current.last_transition_time)
    return tuple(c for c in conditions if c.type != cond.type) + (cond,)


def remove_deployment_condition(conditions: tuple[Condition, ...], type_: str) -> tuple[Condition, ...]:
    """RemoveDeploymentCondition: drop the condition of `type_`."""
    return tuple(c for c in conditions if c.type != type_)


def calculate_status(all_rss: Sequence[ReplicaSet | None], new_rs: ReplicaSet | None, d: Deployment, now: int) -> DeploymentStatus:
    """sync.go calculateStatus: the Deployment status from its sets' *status* fields.

    replicas/ready/available are sums of the sets' status; updatedReplicas is the new
    set's status.replicas; unavailableReplicas = max(0, Σ spec.replicas − available);
    observedGeneration = generation; the Available condition is True iff available ≥
    replicas − MaxUnavailable. Other conditions are carried over.
    """
    available = available_replica_count(all_rss)
    if available >= d.spec.replicas - max_unavailable(d):
        cond = new_condition(AVAILABLE, "True", MIN_AVAILABLE, "Deployment has minimum availability.", now)
    else:
        cond = new_condition(AVAILABLE, "False", MIN_UNAVAILABLE, "Deployment does not have minimum availability.", now)
    return DeploymentStatus(
        observed_generation=d.metadata.generation,
        replicas=actual_replica_count(all_rss),
        updated_replicas=actual_replica_count([new_rs]),
        ready_replicas=ready_replica_count(all_rss),
        available_replicas=available,
        unavailable_replicas=max(0, replica_count(all_rss) - available),
        conditions=set_deployment_condition(d.status.conditions, cond),
        collision_count=d.status.collision_count,
        extra=d.status.extra,
    )


def deployment_complete(d: Deployment, status: DeploymentStatus) -> bool:
    """deployment_util.go DeploymentComplete: all replicas updated and available, no old pods, generation observed."""
    n = d.spec.replicas
    return status.updated_replicas == n and status.replicas == n and status.available_replicas == n and status.observed_generation >= d.metadata.generation


def deployment_progressing(d: Deployment, new_status: DeploymentStatus) -> bool:
    """deployment_util.go DeploymentProgressing: compared with the current status, more updated
    replicas, fewer old replicas, more ready or more available replicas."""
    old = d.status
    return (
        new_status.updated_replicas > old.updated_replicas
        or (new_status.replicas - new_status.updated_replicas) < (old.replicas - old.updated_replicas)
        or new_status.ready_replicas > old.ready_replicas
        or new_status.available_replicas > old.available_replicas
    )


def deployment_timed_out(d: Deployment, new_status: DeploymentStatus, now: int) -> bool:
    """deployment_util.go DeploymentTimedOut: the Progressing condition's lastUpdateTime is more than
    progressDeadlineSeconds in the past (strictly), unless the last rollout completed; already
    timed out stays timed out."""
    if not has_progress_deadline(d):
        return False
    cond = find_condition(new_status.conditions, PROGRESSING)
    if cond is None or cond.reason == NEW_RS_AVAILABLE:
        return False
    if cond.reason == TIMED_OUT:
        return True
    assert d.spec.progress_deadline_seconds is not None
    since = cond.last_update_time if cond.last_update_time is not None else 0
    return since + d.spec.progress_deadline_seconds < now


def progress_check_time(d: Deployment) -> int | None:
    """progress.go requeueStuckDeployment: when a rolling-out Deployment must be re-synced to
    check its progress deadline (lastUpdateTime + progressDeadlineSeconds + 1 s), or None."""
    if not has_progress_deadline(d) or d.spec.paused or d.metadata.deletion_timestamp is not None:
        return None
    cond = find_condition(d.status.conditions, PROGRESSING)
    if cond is None or cond.reason in (NEW_RS_AVAILABLE, TIMED_OUT) or cond.last_update_time is None:
        return None
    if deployment_complete(d, d.status):
        return None
    assert d.spec.progress_deadline_seconds is not None
    return cond.last_update_time + d.spec.progress_deadline_seconds + 1


def replica_failure_conditions(all_rss: Sequence[ReplicaSet | None], new_rs: ReplicaSet | None) -> list[Condition]:
    """progress.go getReplicaFailures: ReplicaFailure conditions of the new set, else of any set,
    as Deployment conditions (lastUpdateTime = the set condition's lastTransitionTime)."""

    def of(rs: ReplicaSet | None) -> list[Condition]:
        if rs is None:
            return []
        return [
            replace(c, last_update_time=c.last_transition_time, last_heartbeat_time=None, last_probe_time=None)
            for c in rs.status.conditions
            if c.type == REPLICA_FAILURE
        ]

    found = of(new_rs)
    if found:
        return found
    return [c for rs in all_rss for c in of(rs)]
