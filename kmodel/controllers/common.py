"""Machinery shared by the workload controllers (pkg/controller/controller_utils.go,
controller_ref_manager.go): controller references, pods from templates, adoption and
release, expectations, and the deletion ranking of active pods.
"""

from __future__ import annotations

import functools
import math
from collections.abc import Callable, Sequence
from dataclasses import replace
from typing import Any

from kmodel import apiserver
from kmodel.config import ModelConfig
from kmodel.objects.meta import ObjectMeta, OwnerReference
from kmodel.objects.pod import Pod, PodTemplateSpec, pod_ready_since
from kmodel.objects.selectors import LabelSelector
from kmodel.state import ClusterState

# Per-sync caps (replica_set.go BurstReplicas; daemon BurstReplicas 250; job 500).
BURST_REPLICAS = 500
POD_DELETION_COST = "controller.kubernetes.io/pod-deletion-cost"
_PHASE_ORDINAL = {"Pending": 0, "Unknown": 1, "Running": 2}


def controller_ref(owner: Any) -> OwnerReference:
    """metav1.NewControllerRef: controller and blockOwnerDeletion set."""
    return OwnerReference(
        api_version=owner.api_version,
        kind=owner.kind,
        name=owner.metadata.name,
        uid=owner.metadata.uid,
        controller=True,
        block_owner_deletion=True,
    )


def pod_from_template(owner: Any, template: PodTemplateSpec, *, generate_name: str | None = None, name: str = "") -> Pod:
    """controller.GetPodFromTemplate: labels, annotations and spec from the template,
    generateName `<owner>-`, and a controller reference to the owner."""
    prefix = generate_name if generate_name is not None else f"{owner.metadata.name}-"
    meta = ObjectMeta(
        name=name,
        generate_name="" if name else prefix,
        namespace=owner.metadata.namespace,
        labels=template.metadata.labels,
        annotations=template.metadata.annotations,
        owner_references=(controller_ref(owner),),
    )
    return Pod(metadata=meta, spec=template.spec)


def expectations_satisfied(state: ClusterState, actor: str, key: tuple[str, ...], config: ModelConfig) -> bool:
    """SatisfiedExpectations: no create/delete this controller issued for `key` is still
    unobserved — or it was issued more than the 5-minute expectations timeout ago
    (controller_utils.go isExpired: strictly more, so it expires at issue + 301 s on the
    model's whole-second clock)."""
    for f in state.inflight:
        if f.actor == actor and f.key == key and isinstance(f.request, (apiserver.Create, apiserver.Delete)):
            if state.clock - f.issued_at <= config.expectations_timeout:
                return False
    return True


def claim(
    owner: Any,
    selector: LabelSelector,
    objects: Sequence[Any],
    extra_match: Callable[[Any], bool] | None = None,
) -> tuple[list[Any], list[apiserver.Request]]:
    """ClaimObject over `objects`: keep ours that match, release ours that don't, adopt
    matching orphans (never while the owner is being deleted, never objects being deleted
    or in another namespace). Returns the claimed objects and the patches to issue."""
    uid = owner.metadata.uid
    owner_deleting = owner.metadata.deletion_timestamp is not None
    claimed: list[Any] = []
    reqs: list[apiserver.Request] = []

    def matches(o: Any) -> bool:
        return selector.matches(o.metadata.labels) and (extra_match is None or extra_match(o))

    for o in objects:
        ref = o.metadata.controller_ref()
        if ref is not None:
            if ref.uid != uid:
                continue
            if matches(o):
                claimed.append(o)
            elif not owner_deleting:
                refs = tuple(r for r in o.metadata.owner_references if r.uid != uid)
                # ReleasePod / AdoptPod are strategic-merge patches of ownerReferences
                reqs.append(apiserver.Update(replace(o, metadata=replace(o.metadata, owner_references=refs)), check_rv=False, base=o))
            continue
        if owner_deleting or not matches(o) or o.metadata.deletion_timestamp is not None:
            continue
        if owner.metadata.namespace and owner.metadata.namespace != o.metadata.namespace:
            continue
        refs = o.metadata.owner_references + (controller_ref(owner),)
        adopted = replace(o, metadata=replace(o.metadata, owner_references=refs))
        reqs.append(apiserver.Update(adopted, check_rv=False, base=o))
        claimed.append(adopted)
    return claimed, reqs


def deletion_cost(pod: Pod) -> int:
    """The pod-deletion-cost annotation (0 if absent or invalid)."""
    raw = pod.metadata.annotations.get(POD_DELETION_COST)
    if raw is None:
        return 0
    try:
        return int(raw)
    except ValueError:
        return 0


def _log_bucket(t: int, now: int) -> int:
    d = (now - t) * 1_000_000_000  # Go compares durations in nanoseconds
    return int(math.log2(d)) if d > 0 else -1


def _after_or_zero(t1: int | None, t2: int | None) -> bool:
    if t1 is None or t2 is None:
        return t1 is None
    return t1 > t2


def _max_restarts(pod: Pod) -> int:
    return max((c.restart_count for c in pod.status.container_statuses), default=0)


def compare_for_deletion(a: tuple[Pod, int], b: tuple[Pod, int], now: int | None) -> int:
    """ActivePodsWithRanks.Less as a comparison: negative if `a` is deleted before `b`.

    Order: unassigned < assigned; Pending < Unknown < Running; not ready < ready; lower
    deletion cost < higher; more co-located siblings < fewer; ready more recently <
    ready longer (log2 buckets of age, ties by uid); more restarts < fewer; newer < older
    (log2 buckets, ties by uid). With `now` None the plain (non-logarithmic) order is used.
    """

    def less(x: tuple[Pod, int], y: tuple[Pod, int]) -> bool:
        (p1, r1), (p2, r2) = x, y
        n1, n2 = p1.spec.node_name, p2.spec.node_name
        if n1 != n2 and (not n1 or not n2):
            return not n1
        o1, o2 = _PHASE_ORDINAL.get(p1.status.phase, 0), _PHASE_ORDINAL.get(p2.status.phase, 0)
        if o1 != o2:
            return o1 < o2
        if p1.ready != p2.ready:
            return not p1.ready
        c1, c2 = deletion_cost(p1), deletion_cost(p2)
        if c1 != c2:
            return c1 < c2
        if r1 != r2:
            return r1 > r2
        if p1.ready and p2.ready:
            t1, t2 = pod_ready_since(p1), pod_ready_since(p2)
            if t1 != t2:
                if now is None or t1 is None or t2 is None:
                    return _after_or_zero(t1, t2)
                diff = _log_bucket(t1, now) - _log_bucket(t2, now)
                if diff == 0:
                    return p1.metadata.uid < p2.metadata.uid
                return diff < 0
        m1, m2 = _max_restarts(p1), _max_restarts(p2)
        if m1 != m2:
            return m1 > m2
        t1, t2 = p1.metadata.creation_timestamp, p2.metadata.creation_timestamp
        if t1 != t2:
            if now is None or t1 is None or t2 is None:
                return _after_or_zero(t1, t2)
            diff = _log_bucket(t1, now) - _log_bucket(t2, now)
            if diff == 0:
                return p1.metadata.uid < p2.metadata.uid
            return diff < 0
        return False

    if less(a, b):
        return -1
    if less(b, a):
        return 1
    return 0


def rank_for_deletion(pods: Sequence[Pod], related: Sequence[Pod], now: int | None) -> list[Pod]:
    """Pods sorted deletion-first, ranked by co-located active related pods
    (replica_set.go getPodsRankedByRelatedPodsOnSameNode). Ties keep name order."""
    per_node: dict[str, int] = {}
    for p in related:
        if p.active:
            per_node[p.spec.node_name] = per_node.get(p.spec.node_name, 0) + 1
    ranked = [(p, per_node.get(p.spec.node_name, 0)) for p in pods]

    def cmp(x: tuple[Pod, int], y: tuple[Pod, int]) -> int:
        return compare_for_deletion(x, y, now)

    ranked.sort(key=functools.cmp_to_key(cmp))
    return [p for p, _ in ranked]


def pods_to_delete(pods: Sequence[Pod], related: Sequence[Pod], diff: int, now: int | None) -> list[Pod]:
    """getPodsToDelete: no sorting when every pod goes; else the first `diff` in rank order."""
    if diff >= len(pods):
        return list(pods)[:diff]
    return rank_for_deletion(pods, related, now)[:diff]
