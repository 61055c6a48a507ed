"""The DaemonSet controller (pkg/controller/daemon/daemon_controller.go, update.go,
util/daemonset_util.go).

One sync of a DaemonSet, as syncDaemonSet does it:

1. nothing for a set with an empty selector or one being deleted;
2. history (constructHistory): claim the ControllerRevisions, find the ones whose data
   equals the current template patch, create one (`<ds>-<hash>`, revision max+1) if
   none, de-duplicate, renumber; the hash of the current revision labels new pods;
3. if the set's own creations and deletions are not all observed (expectations), only
   the status is written (observedGeneration untouched);
4. manage: per node, `podsShouldBeOnNode` from `NodeShouldRunDaemonPod`; unscheduled
   pods whose node is gone are deleted; at most 250 creations and 250 deletions;
5. once manage's creations and deletions are observed (expectations), the RollingUpdate
   step (maxSurge = 0: delete old pods within maxUnavailable; maxSurge > 0: create new
   pods within maxSurge, delete old ones once the new is available);
6. history cleanup (revisions no live pod uses, oldest first, beyond revisionHistoryLimit);
7. status computed from the pods as the sync then sees them.

With atomic delivery the controller observes its own writes at once (as the upstream
unit tests' fake pod control does: it updates the informer store and the expectations),
so steps 5–7 read the state after the earlier steps' writes; with asynchronous delivery
they read the state before them, and step 5 is skipped while manage's requests are in
flight.

Which nodes run a daemon pod (`node_should_run`): the template's nodeName, nodeSelector
and required node affinity must match; then every NoSchedule/NoExecute taint must be
tolerated for shouldRun, every NoExecute taint for shouldContinueRunning — evaluated on
a simulated pod carrying the automatic tolerations (not-ready and unreachable NoExecute
forever; disk-, memory-, pid-pressure and unschedulable NoSchedule; network-unavailable
with hostNetwork). Resources, ports and spec.unschedulable are left to the scheduler.
Created pods carry those tolerations, the labels controller-revision-hash and
pod-template-generation, and a required node affinity replaced by
`matchFields metadata.name In [node]`, so the default scheduler binds them (onto
cordoned nodes too) and the taint manager never evicts them for NotReady/Unreachable.

Failed pods are deleted subject to a back-off per (DaemonSet uid, observedGeneration,
node) — 1 s, doubling, at most 15 min, forgotten after 30 min without failure
(client-go flowcontrol.Backoff with cmd/kube-controller-manager/app/apps.go settings).
It is controller memory (`Remember`); its expiry is reported as a deadline.

Differences between releases (`config.kubernetes_version`; "1.28" is the v1.28.0 tree,
each later version the behaviour its .0 release shipped; the default is the newest):

* Terminal pods with a deletionTimestamp are ignored by manage, rolling update and
  status (#118587, PR #118716, merged June 2023): already in v1.28.0, so no difference
  among the supported versions; cleanupHistory still counts them.
* Rolling update with maxSurge > 0 on nodes that no longer should run the daemon
  (PR #119317, fixing #118823; in v1.29.0, backported to 1.25–1.28 patch releases):
  from 1.29 an unavailable old pod on such a node is deleted instead of being
  surged, and available old pods there are deleted only while more pods are available
  than desired; a node in the pod map that no longer exists makes the rolling update
  fail (nodeLister.Get), which also skips history cleanup. In 1.28 such nodes are
  ordinary surge candidates, so a new pod may be created for a node where shouldRun
  is false (it stays Pending). For a deleted node whose old pod is still bound this
  churns: the pod created for it is unschedulable, the next sync deletes it
  (getUnscheduledPodsWithoutNode) and the rolling update creates it again; upstream
  repeats this until PodGC removes the old pod 40 s later, but model actions take no
  time, so with 1.28 `settle` finds no fixpoint in that situation.
* Rolling update with maxSurge = 0 counts an unavailable old pod (deleted as an
  allowed replacement) against maxUnavailable from 1.31 (PR #123233, fixing #123232;
  merged for v1.31.0, backported to 1.28–1.30 patch releases in October 2024). In
  1.28–1.30 it does not, so repeated broken updates can take every node down.

Deliberate abstractions: upstream iterates nodes and the pod map in informer/map
order (random); the model takes nodes in name order, so one representative order of
the candidates is followed. Slow-start batching is not modelled (model creations do not fail); events
are not modelled; hash values differ from a real cluster's (see deployment_util
compute_hash).
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

from kmodel import apiserver
from kmodel.actors import KindReconciler
from kmodel.codec import encode_dataclass
from kmodel.config import ModelConfig
from kmodel.controllers.common import claim, controller_ref, expectations_satisfied, pod_from_template
from kmodel.controllers.deployment_util import compute_hash
from kmodel.controllers.history import canonical, sort_revisions
from kmodel.frozen import EMPTY, FrozenDict, freeze
from kmodel.intstr import IntOrPercentError, scaled_value
from kmodel.objects.apps import ControllerRevision, DaemonSet, DaemonSetStatus
from kmodel.objects.meta import ObjectMeta
from kmodel.objects.node import (
    TAINT_DISK_PRESSURE,
    TAINT_MEMORY_PRESSURE,
    TAINT_NETWORK_UNAVAILABLE,
    TAINT_NOT_READY,
    TAINT_PID_PRESSURE,
    TAINT_UNREACHABLE,
    TAINT_UNSCHEDULABLE,
    Node,
)
from kmodel.objects.pod import FAILED, SUCCEEDED, Pod, PodSpec, is_pod_available, pod_ready_since
from kmodel.objects.selectors import Affinity, NodeAffinity, NodeSelector, NodeSelectorRequirement, NodeSelectorTerm, Toleration, untolerated_taints
from kmodel.scheduler import node_affinity_matches
from kmodel.state import ClusterState

NAME = "daemonset"
# daemon_controller.go BurstReplicas: at most 250 creations and 250 deletions per sync.
BURST_REPLICAS = 250
# apps/v1 DefaultDaemonSetUniqueLabelKey (= ControllerRevisionHashLabelKey).
REVISION_HASH_LABEL = "controller-revision-hash"
# extensions/v1beta1 DaemonSetTemplateGenerationKey; apps/v1 DeprecatedTemplateGeneration.
TEMPLATE_GENERATION_LABEL = "pod-template-generation"
TEMPLATE_GENERATION_ANNOTATION = "deprecated.daemonset.template.generation"
# cmd/kube-controller-manager/app/apps.go: flowcontrol.NewBackOff(1s, 15min).
BACKOFF_INITIAL = 1
BACKOFF_MAX = 15 * 60
_NO_SCHEDULE_OR_EXECUTE = frozenset({"NoSchedule", "NoExecute"})
_NO_EXECUTE = frozenset({"NoExecute"})

Backoffs = FrozenDict[str, tuple[int, int]]  # key → (current back-off, last update)
FencePosts = Callable[[DaemonSet, int], tuple[int, int]]  # (set, desired) → (maxSurge, maxUnavailable)


# ---- which nodes run a daemon pod ------------------------------------------------------


def daemon_tolerations(spec: PodSpec) -> tuple[Toleration, ...]:
    """util.AddOrUpdateDaemonPodTolerations: the pod's tolerations with the daemon ones
    added, each replacing a toleration with the same key, operator, value and effect
    (helper.AddOrUpdateTolerationInPodSpec, Toleration.MatchToleration)."""
    wanted = [
        Toleration(key=TAINT_NOT_READY, operator="Exists", effect="NoExecute"),
        Toleration(key=TAINT_UNREACHABLE, operator="Exists", effect="NoExecute"),
        Toleration(key=TAINT_DISK_PRESSURE, operator="Exists", effect="NoSchedule"),
        Toleration(key=TAINT_MEMORY_PRESSURE, operator="Exists", effect="NoSchedule"),
        Toleration(key=TAINT_PID_PRESSURE, operator="Exists", effect="NoSchedule"),
        Toleration(key=TAINT_UNSCHEDULABLE, operator="Exists", effect="NoSchedule"),
    ]
    if spec.host_network:
        wanted.append(Toleration(key=TAINT_NETWORK_UNAVAILABLE, operator="Exists", effect="NoSchedule"))
    out = list(spec.tolerations)
    for t in wanted:
        out = _add_or_update_toleration(out, t)
    return tuple(out)


def _add_or_update_toleration(tolerations: list[Toleration], t: Toleration) -> list[Toleration]:
    """AddOrUpdateTolerationInPodSpec: replace every matching toleration by `t`, else append it."""

    def matches(x: Toleration) -> bool:
        return x.key == t.key and x.effect == t.effect and x.operator == t.operator and x.value == t.value

    if any(matches(x) for x in tolerations):
        return [t if matches(x) else x for x in tolerations]
    return [*tolerations, t]


def simulated_pod_spec(ds: DaemonSet, node: str) -> PodSpec:
    """daemon_controller.go NewPod: the template's spec bound to `node`, with the daemon tolerations."""
    spec = ds.spec.template.spec
    return replace(spec, node_name=node, tolerations=daemon_tolerations(spec))


def node_should_run(node: Node, ds: DaemonSet) -> tuple[bool, bool]:
    """NodeShouldRunDaemonPod: (shouldRun, shouldContinueRunning) for `ds` on `node`."""
    template_node = ds.spec.template.spec.node_name
    # nodeName of the template must be empty or this node
    if template_node and template_node != node.name:
        return False, False
    spec = simulated_pod_spec(ds, node.name)
    # predicates: GetRequiredNodeAffinity (nodeSelector and required node affinity)
    if not node_affinity_matches(spec, node):
        return False, False
    # taints: any untolerated NoSchedule/NoExecute taint stops new pods; only an
    # untolerated NoExecute taint removes a running one
    if untolerated_taints(node.spec.taints, spec.tolerations, _NO_SCHEDULE_OR_EXECUTE):
        return False, not untolerated_taints(node.spec.taints, spec.tolerations, _NO_EXECUTE)
    return True, True


# ---- pods of a daemon set ------------------------------------------------------------------


def target_node(pod: Pod) -> str | None:
    """util.GetTargetNodeName: spec.nodeName, else the single value of the first
    `matchFields metadata.name In` requirement of the required node affinity."""
    if pod.spec.node_name:
        return pod.spec.node_name
    aff = pod.spec.affinity.node_affinity if pod.spec.affinity else None
    req = aff.required_during_scheduling_ignored_during_execution if aff else None
    if req is None:
        return None
    for term in req.node_selector_terms:
        for r in term.match_fields:
            if r.key == "metadata.name" and r.operator == "In":
                return r.values[0] if len(r.values) == 1 else None
    return None


def nodes_to_daemon_pods(pods: Iterable[Pod], include_deleted_terminal: bool = False) -> dict[str, list[Pod]]:
    """getNodesToDaemonPods: claimed pods grouped by target node; terminal pods with a
    deletionTimestamp are left out unless asked for (PR #118716), pods without a target skipped."""
    out: dict[str, list[Pod]] = {}
    for p in pods:
        if not include_deleted_terminal and p.terminal and p.metadata.deletion_timestamp is not None:
            continue
        node = target_node(p)
        if node is not None:
            out.setdefault(node, []).append(p)
    return out


def _creation_order(a: Pod, b: Pod) -> int:
    """podByCreationTimestampAndPhase: scheduled first, then older, then by name."""
    sa, sb = bool(a.spec.node_name), bool(b.spec.node_name)
    if sa != sb:
        return -1 if sa else 1
    ta, tb = a.metadata.creation_timestamp or 0, b.metadata.creation_timestamp or 0
    if ta != tb:
        return -1 if ta < tb else 1
    return (a.metadata.name > b.metadata.name) - (a.metadata.name < b.metadata.name)


def oldest_first(pods: Iterable[Pod]) -> list[Pod]:
    """Pods sorted by podByCreationTimestampAndPhase."""
    return sorted(pods, key=functools.cmp_to_key(_creation_order))


def template_generation(ds: DaemonSet) -> int | None:
    """util.GetTemplateGeneration: the deprecated annotation as an integer (None if absent or invalid)."""
    raw = ds.metadata.annotations.get(TEMPLATE_GENERATION_ANNOTATION)
    if raw is None:
        return None
    try:
        return int(raw)
    except ValueError:
        return None


def is_pod_updated(pod: Pod, hash_: str, generation: int | None) -> bool:
    """util.IsPodUpdated: the revision hash label matches, or the template generation label does."""
    labels = pod.metadata.labels
    by_generation = generation is not None and labels.get(TEMPLATE_GENERATION_LABEL) == str(generation)
    return (bool(hash_) and labels.get(REVISION_HASH_LABEL) == hash_) or by_generation


# ---- rolling update numbers -----------------------------------------------------------


def surge_count(ds: DaemonSet, number: int) -> int:
    """util.SurgeCount: maxSurge scaled over `number`, rounded up (0 without RollingUpdate)."""
    us = ds.spec.update_strategy
    if us.type != "RollingUpdate" or us.rolling_update is None or us.rolling_update.max_surge is None:
        return 0
    return scaled_value(us.rolling_update.max_surge, number, round_up=True)


def unavailable_count(ds: DaemonSet, number: int) -> int:
    """util.UnavailableCount: maxUnavailable scaled over `number`, rounded up."""
    us = ds.spec.update_strategy
    if us.type != "RollingUpdate" or us.rolling_update is None:
        return 0
    return scaled_value(us.rolling_update.max_unavailable, number, round_up=True)


def allows_surge(ds: DaemonSet) -> bool:
    """util.AllowsSurge: maxSurge resolves above 0 for one node."""
    try:
        return surge_count(ds, 1) > 0
    except IntOrPercentError:
        return False


def max_surge_and_unavailable(ds: DaemonSet, desired: int) -> tuple[int, int]:
    """updatedDesiredNodeCounts: (maxSurge, maxUnavailable) over the desired node count,
    percentages rounded up; with nodes to run on, both 0 means maxUnavailable 1."""
    max_unavailable = unavailable_count(ds, desired)
    max_surge = surge_count(ds, desired)
    if desired > 0 and max_unavailable == 0 and max_surge == 0:
        max_unavailable = 1
    return max_surge, max_unavailable


def find_updated_pods_on_node(pods: Sequence[Pod], hash_: str, generation: int | None) -> tuple[Pod | None, Pod | None, bool]:
    """findUpdatedPodsOnNode: the (new, old) pod among the node's non-deleted pods, and
    False when there is more than one of either."""
    new: Pod | None = None
    old: Pod | None = None
    for p in pods:
        if p.metadata.deletion_timestamp is not None:
            continue
        if is_pod_updated(p, hash_, generation):
            if new is not None:
                return None, None, False
            new = p
        else:
            if old is not None:
                return None, None, False
            old = p
    return new, old, True


# ---- history ------------------------------------------------------------------------------


def revision_patch(ds: DaemonSet) -> FrozenDict[str, Any]:
    """update.go getPatch: {"spec": {"template": <template with "$patch": "replace">}}."""
    tpl = encode_dataclass(ds.spec.template)
    tpl["$patch"] = "replace"
    data: FrozenDict[str, Any] = freeze({"spec": {"template": tpl}})
    return data


def matches_revision(ds: DaemonSet, rev: ControllerRevision) -> bool:
    """update.go Match: the revision stores exactly the set's current template patch."""
    return canonical(rev.data) == canonical(revision_patch(ds))


def new_revision(ds: DaemonSet, revision: int) -> ControllerRevision:
    """update.go snapshot: `<ds>-<ComputeHash(template, collisionCount)>`, the template
    labels plus controller-revision-hash, the set's annotations and a controller ref."""
    hash_ = compute_hash(ds.spec.template, ds.status.collision_count)
    meta = ObjectMeta(
        name=f"{ds.metadata.name}-{hash_}",
        namespace=ds.metadata.namespace,
        labels=ds.spec.template.metadata.labels.set(REVISION_HASH_LABEL, hash_),
        annotations=ds.metadata.annotations,
        owner_references=(controller_ref(ds),),
    )
    return ControllerRevision(metadata=meta, data=revision_patch(ds), revision=revision)


def current_hash(state: ClusterState, ds: DaemonSet) -> str | None:
    """The hash label of the set's current revision (the owned revision matching its
    template with the highest revision number), or None if it has none yet."""
    cur = [r for r in state.controlled_by(ds.metadata.uid, "ControllerRevision") if matches_revision(ds, r)]
    if not cur:
        return None
    keep = sort_revisions(cur)[-1]
    return keep.metadata.labels.get(REVISION_HASH_LABEL, keep.metadata.name)


@dataclass
class History:
    """What constructHistory found and decided: the current revision's hash, the old
    revisions, the requests to issue, and whether the sync must stop (a hash collision)."""

    hash: str
    old: list[ControllerRevision]
    requests: list[apiserver.Request]
    stop: bool = False


def construct_history(state: ClusterState, ds: DaemonSet, claimed_pods: Sequence[Pod]) -> History:
    """constructHistory (with controlledHistories, dedupCurHistories and snapshot)."""
    ns = ds.metadata.namespace
    revisions, reqs = claim(ds, ds.spec.selector, state.list("ControllerRevision", ns))
    current: list[ControllerRevision] = []
    old: list[ControllerRevision] = []
    for rev in revisions:
        if REVISION_HASH_LABEL not in rev.metadata.labels:
            # add the unique label, using the revision's name as its value
            rev = replace(rev, metadata=replace(rev.metadata, labels=rev.metadata.labels.set(REVISION_HASH_LABEL, rev.metadata.name)))
            reqs.append(apiserver.Update(rev, check_rv=False))
        (current if matches_revision(ds, rev) else old).append(rev)
    next_number = max((r.revision for r in old), default=0) + 1
    if not current:
        rev = new_revision(ds, next_number)
        existing = state.get("ControllerRevision", ns, rev.metadata.name)
        if existing is not None and not matches_revision(ds, existing):
            # snapshot: a name collision bumps status.collisionCount and fails the sync
            count = (ds.status.collision_count or 0) + 1
            reqs.append(apiserver.Update(replace(ds, status=replace(ds.status, collision_count=count)), status=True))
            return History("", old, reqs, stop=True)
        if existing is None:
            reqs.append(apiserver.Create(rev))
        else:
            rev = existing
        return History(rev.metadata.labels[REVISION_HASH_LABEL], old, reqs)
    keep = current[0]
    for rev in current:
        if rev.revision >= keep.revision:
            keep = rev
    keep_hash = keep.metadata.labels[REVISION_HASH_LABEL]
    for rev in current:
        if rev.metadata.name == keep.metadata.name:
            continue
        # dedupCurHistories: relabel pods to the kept hash, then delete the duplicate
        for p in claimed_pods:
            if p.metadata.labels.get(REVISION_HASH_LABEL) != keep_hash:
                relabelled = replace(p, metadata=replace(p.metadata, labels=p.metadata.labels.set(REVISION_HASH_LABEL, keep_hash)))
                reqs.append(apiserver.Update(relabelled, check_rv=False))
        reqs.append(apiserver.Delete(rev.ref))
    if keep.revision < next_number:
        reqs.append(apiserver.Update(replace(keep, revision=next_number), check_rv=False))
    return History(keep_hash, old, reqs)


def cleanup_history(ds: DaemonSet, old: Sequence[ControllerRevision], claimed_pods: Sequence[Pod]) -> list[apiserver.Request]:
    """cleanupHistory: delete old revisions no pod uses (terminal deleted pods included),
    lowest revision first, until at most revisionHistoryLimit old ones remain."""
    limit = ds.spec.revision_history_limit if ds.spec.revision_history_limit is not None else 10
    to_kill = len(old) - limit
    if to_kill <= 0:
        return []
    live = {
        h
        for pods in nodes_to_daemon_pods(claimed_pods, include_deleted_terminal=True).values()
        for p in pods
        if (h := p.metadata.labels.get(REVISION_HASH_LABEL))
    }
    reqs: list[apiserver.Request] = []
    for rev in sort_revisions(old):
        if to_kill <= 0:
            break
        if rev.metadata.labels.get(REVISION_HASH_LABEL) in live:
            continue
        reqs.append(apiserver.Delete(rev.ref))
        to_kill -= 1
    return reqs


# ---- failed-pod back-off (controller memory) ------------------------------------------


def backoff_key(ds: DaemonSet, node: str) -> str:
    """failedPodsBackoffKey: `<uid>/<status.observedGeneration>/<node>`."""
    return f"{ds.metadata.uid}/{ds.status.observed_generation}/{node}"


def _expired(now: int, last: int) -> bool:
    """flowcontrol hasExpired: more than twice the maximum since the last update."""
    return now - last > 2 * BACKOFF_MAX


def in_backoff(backoffs: Backoffs, key: str, now: int) -> bool:
    """Backoff.IsInBackOffSinceUpdate: an unexpired entry whose delay has not elapsed."""
    entry = backoffs.get(key)
    if entry is None or _expired(now, entry[1]):
        return False
    delay, last = entry
    return now - last < delay


def next_backoff(backoffs: Backoffs, key: str, now: int) -> Backoffs:
    """Backoff.Next: start at 1 s (or restart after expiry), else double up to 15 min."""
    entry = backoffs.get(key)
    if entry is None or _expired(now, entry[1]):
        delay = BACKOFF_INITIAL
    else:
        delay = min(entry[0] * 2, BACKOFF_MAX)
    return backoffs.set(key, (delay, now))


def prune_backoffs(backoffs: Backoffs, now: int) -> Backoffs:
    """Backoff.GC: forget entries not updated for twice the maximum (they behave as absent anyway)."""
    stale = [k for k, (_, last) in backoffs.items() if _expired(now, last)]
    return backoffs.without(*stale) if stale else backoffs


# ---- the controller ---------------------------------------------------------------------


@dataclass
class SyncView:
    """What one sync reads: the set, the nodes with their (shouldRun,
    shouldContinueRunning), its claimed pods by node, the current hash."""

    ds: DaemonSet
    nodes: list[Node]
    eligibility: dict[str, tuple[bool, bool]]
    by_node: dict[str, list[Pod]]
    hash: str
    generation: int | None
    now: int
    pods: list[Pod] = field(default_factory=list)

    def should_run(self, node: str) -> bool:
        """shouldRun for an existing node (False for a node that does not exist)."""
        return self.eligibility.get(node, (False, False))[0]


def desired_node_counts(view: SyncView, fence_posts: FencePosts | None = None) -> tuple[int, int, int, dict[str, list[Pod]]]:
    """updatedDesiredNodeCounts: (maxSurge, maxUnavailable, desiredNumberScheduled, the
    pod map with an empty entry for every node that should run the daemon but has no pod)."""
    by_node = {n: list(ps) for n, ps in view.by_node.items()}
    desired = 0
    for node in view.nodes:
        if view.should_run(node.name):
            desired += 1
            by_node.setdefault(node.name, [])
    max_surge, max_unavailable = (fence_posts or max_surge_and_unavailable)(view.ds, desired)
    return max_surge, max_unavailable, desired, by_node


class DaemonSetController(KindReconciler):
    """Runs one pod of each DaemonSet on every node that should run it."""

    name = NAME
    kind = "DaemonSet"

    # ---- sync ------------------------------------------------------------------------------
    def reconcile(self, state: ClusterState, ds: Any, config: ModelConfig) -> Sequence[apiserver.Request]:
        """One syncDaemonSet."""
        if ds.spec.selector.empty or ds.metadata.deletion_timestamp is not None:
            return ()  # SelectingAll event / status of a set being deleted cannot be trusted
        claimed, requests = claim(ds, ds.spec.selector, state.pods(ds.metadata.namespace))
        history = construct_history(state, ds, claimed)
        requests.extend(history.requests)
        if history.stop:
            return requests
        key = (ds.metadata.namespace, ds.metadata.name)
        if not expectations_satisfied(state, self.name, key, config):
            # only status; observedGeneration stays, the generation was not processed
            requests.extend(self.status_requests(self.view(state, ds, history.hash), update_observed_generation=False))
            return requests
        seen = observe(state, requests, config)
        backoffs: Backoffs = state.recall(self.name, EMPTY)
        managed, new_backoffs = self.manage(self.view(seen, ds, history.hash), backoffs)
        requests.extend(managed)
        seen = observe(seen, managed, config)
        rolled_ok = True
        # updateDaemonSet: the rolling update runs once manage's creations and deletions
        # are observed (expectations): at once with atomic delivery, not while in flight
        if ds.spec.update_strategy.type == "RollingUpdate" and (config.delivery == "atomic" or not managed):
            rolled, rolled_ok = self.rolling_update(self.view(seen, ds, history.hash), config)
            requests.extend(rolled)
            seen = observe(seen, rolled, config)
        if rolled_ok:
            cleanup = cleanup_history(ds, history.old, self.view(seen, ds, history.hash).pods)
            requests.extend(cleanup)
            seen = observe(seen, cleanup, config)
        requests.extend(self.status_requests(self.view(seen, ds, history.hash), update_observed_generation=True))
        if new_backoffs != backoffs:
            requests.append(apiserver.Remember(self.name, prune_backoffs(new_backoffs, state.clock) or None))
        return requests

    def view(self, state: ClusterState, ds: DaemonSet, hash_: str) -> SyncView:
        """What a sync step reads from the (informer) state: nodes, eligibility, claimed pods."""
        pods, _ = claim(ds, ds.spec.selector, state.pods(ds.metadata.namespace))
        nodes = state.nodes()
        eligibility = {n.name: self.should_run(n, ds) for n in nodes}
        return SyncView(ds, nodes, eligibility, nodes_to_daemon_pods(pods), hash_, template_generation(ds), state.clock, pods)

    # ---- decisions a deliberately broken variant may override ----------------------------
    def should_run(self, node: Node, ds: DaemonSet) -> tuple[bool, bool]:
        """NodeShouldRunDaemonPod for this controller."""
        return node_should_run(node, ds)

    def fence_posts(self, ds: DaemonSet, desired: int) -> tuple[int, int]:
        """(maxSurge, maxUnavailable) over the desired node count."""
        return max_surge_and_unavailable(ds, desired)

    # ---- manage ----------------------------------------------------------------------------
    def manage(self, view: SyncView, backoffs: Backoffs) -> tuple[list[apiserver.Request], Backoffs]:
        """manage + syncNodes: creations and deletions per node, capped at 250 each."""
        create_on: list[str] = []
        delete: list[Pod] = []
        for node in view.nodes:
            c, d, backoffs = self.pods_should_be_on_node(view, node, backoffs)
            create_on.extend(c)
            delete.extend(d)
        delete.extend(unscheduled_pods_without_node(view.nodes, view.by_node))
        return sync_nodes(view, delete, create_on), backoffs

    def pods_should_be_on_node(self, view: SyncView, node: Node, backoffs: Backoffs) -> tuple[list[str], list[Pod], Backoffs]:
        """podsShouldBeOnNode: the node needing a pod and the pods to delete on it."""
        ds = view.ds
        should_run, should_continue = view.eligibility[node.name]
        pods = view.by_node.get(node.name, [])
        if should_run and not pods:
            return [node.name], [], backoffs
        if not should_continue:
            # delete every daemon pod that is not already being deleted
            return [], [p for p in pods if p.metadata.deletion_timestamp is None], backoffs
        delete: list[Pod] = []
        running: list[Pod] = []
        for p in pods:
            if p.metadata.deletion_timestamp is not None:
                continue
            if p.status.phase == FAILED:
                # back off deleting failed pods, not to fight a kubelet that rejects them
                key = backoff_key(ds, node.name)
                if in_backoff(backoffs, key, view.now):
                    continue
                backoffs = next_backoff(backoffs, key, view.now)
                delete.append(p)
            elif p.status.phase == SUCCEEDED:
                delete.append(p)
            else:
                running.append(p)
        if not allows_surge(ds):
            # without surge keep only the oldest running pod
            delete.extend(oldest_first(running)[1:])
            return [], delete, backoffs
        if not running:
            return ([node.name] if should_run else []), delete, backoffs
        if len(running) == 1:
            return [], delete, backoffs
        # with surge keep the oldest pod of the current hash and the oldest other one;
        # the old one goes when it is not ready or the new one is available
        oldest_new: Pod | None = None
        oldest_old: Pod | None = None
        for p in oldest_first(running):
            if p.metadata.labels.get(REVISION_HASH_LABEL) == view.hash:
                if oldest_new is None:
                    oldest_new = p
                    continue
            elif oldest_old is None:
                oldest_old = p
                continue
            delete.append(p)
        if oldest_new is not None and oldest_old is not None:
            if not oldest_old.ready or is_pod_available(oldest_new, ds.spec.min_ready_seconds, view.now):
                delete.append(oldest_old)
        return [], delete, backoffs

    # ---- rolling update --------------------------------------------------------------------
    def rolling_update(self, view: SyncView, config: ModelConfig) -> tuple[list[apiserver.Request], bool]:
        """rollingUpdate: the requests, and False when the update failed (no cleanup then)."""
        try:
            max_surge, max_unavailable, desired, by_node = desired_node_counts(view, self.fence_posts)
        except IntOrPercentError:
            return [], False
        if max_surge == 0:
            return self._replace_within_unavailable(view, by_node, max_unavailable, config), True
        return self._surge(view, by_node, max_surge, desired, config)

    def _available(self, view: SyncView, pod: Pod) -> bool:
        return is_pod_available(pod, view.ds.spec.min_ready_seconds, view.now)

    def _replace_within_unavailable(self, view: SyncView, by_node: dict[str, list[Pod]], max_unavailable: int, config: ModelConfig) -> list[apiserver.Request]:
        """maxSurge = 0: delete unavailable old pods, and available old ones while fewer
        than maxUnavailable nodes are unavailable; manage creates the new pods later."""
        num_unavailable = 0
        allowed: list[Pod] = []
        candidates: list[Pod] = []
        for name in sorted(by_node):
            new, old, ok = find_updated_pods_on_node(by_node[name], view.hash, view.generation)
            if not ok or (old is None) == (new is None):
                # excess pods, no pod, or old and new: manage handles it; counts as unavailable
                num_unavailable += 1
            elif new is not None:
                if not self._available(view, new):
                    num_unavailable += 1
            elif old is not None:
                if not self._available(view, old):
                    allowed.append(old)
                    # PR #123233 (1.31): the replaced old pod counts against maxUnavailable
                    if config.at_least("1.31"):
                        num_unavailable += 1
                elif num_unavailable < max_unavailable:
                    candidates.append(old)
        remaining = min(max(max_unavailable - num_unavailable, 0), len(candidates))
        return sync_nodes(view, allowed + candidates[:remaining], [])

    def _surge(self, view: SyncView, by_node: dict[str, list[Pod]], max_surge: int, desired: int, config: ModelConfig) -> tuple[list[apiserver.Request], bool]:
        """maxSurge > 0: create new pods beside old ones (at once where the old pod is
        unavailable, else up to maxSurge at a time) and delete an old pod once the new
        one is available."""
        sunset = config.at_least("1.29")  # PR #119317: nodes that no longer should run
        to_delete: list[Pod] = []
        should_not_run: list[Pod] = []
        candidates: list[str] = []
        allowed: list[str] = []
        num_surge = 0
        num_available = 0
        for name in sorted(by_node):
            new, old, ok = find_updated_pods_on_node(by_node[name], view.hash, view.generation)
            if not ok:
                num_surge += 1
                continue
            counted = old if old is not None else new
            if counted is not None and self._available(view, counted):
                num_available += 1
            if old is None:
                continue  # manage creates a pod where there is none
            if new is not None:
                if not self._available(view, new):
                    num_surge += 1
                else:
                    to_delete.append(old)
                continue
            if sunset:
                if name not in view.eligibility:
                    return [], False  # nodeLister.Get fails: the rolling update errors out
                if not view.should_run(name):
                    (to_delete if not self._available(view, old) else should_not_run).append(old)
                    continue
            if not self._available(view, old):
                allowed.append(name)
            elif num_surge < max_surge:
                candidates.append(name)
        if sunset:
            # keep full availability: delete on sunset nodes only what exceeds the desired count
            deletable = min(num_available - desired, len(should_not_run))
            if deletable > 0:
                to_delete.extend(should_not_run[:deletable])
        remaining = min(max(max_surge - num_surge, 0), len(candidates))
        return sync_nodes(view, to_delete, allowed + candidates[:remaining]), True

    # ---- status ----------------------------------------------------------------------------
    def status_requests(self, view: SyncView, update_observed_generation: bool) -> list[apiserver.Request]:
        """updateDaemonSetStatus + storeDaemonSetStatus: write only what changed."""
        ds = view.ds
        status = calculate_status(view)
        if update_observed_generation:
            status = replace(status, observed_generation=ds.metadata.generation)
        unchanged = replace(status, observed_generation=ds.status.observed_generation) == ds.status
        if unchanged and ds.status.observed_generation >= ds.metadata.generation:
            return []
        if status == ds.status:
            return []
        return [apiserver.Update(replace(ds, status=status), status=True)]

    # ---- timers ----------------------------------------------------------------------------
    def deadlines(self, state: ClusterState, config: ModelConfig) -> Iterable[int]:
        """When a ready daemon pod becomes available (minReadySeconds), and when the
        back-off of a failed daemon pod's node ends."""
        backoffs: Backoffs = state.recall(self.name, EMPTY)
        for ds in state.list(self.kind):
            mrs = ds.spec.min_ready_seconds
            for p in state.controlled_by(ds.metadata.uid, "Pod"):
                if p.metadata.deletion_timestamp is not None:
                    continue
                since = pod_ready_since(p)
                if mrs > 0 and since is not None and not p.terminal:
                    yield since + mrs + 1
                if p.status.phase == FAILED and p.spec.node_name:
                    key = backoff_key(ds, p.spec.node_name)
                    if in_backoff(backoffs, key, state.clock):
                        delay, last = backoffs[key]
                        yield last + delay


def observe(state: ClusterState, requests: Sequence[apiserver.Request], config: ModelConfig) -> ClusterState:
    """The controller's view after issuing `requests`: with atomic delivery they are applied
    and observed at once (as upstream's unit tests assume: the fake pod control updates
    the informer store and the expectations); in flight they are not seen yet."""
    if config.delivery != "atomic" or not requests:
        return state
    tx = state.edit()
    for r in requests:
        if not isinstance(r, apiserver.Remember):
            apiserver.apply(tx, r, config)
    return tx.commit()


def unscheduled_pods_without_node(nodes: Sequence[Node], by_node: dict[str, list[Pod]]) -> list[Pod]:
    """getUnscheduledPodsWithoutNode: unbound pods whose target node does not exist
    (PodGC would never see them); pods bound to a deleted node are left to PodGC."""
    names = {n.name for n in nodes}
    return [p for node, pods in sorted(by_node.items()) if node not in names for p in pods if not p.spec.node_name]


def sync_nodes(view: SyncView, delete: Sequence[Pod], create_on: Sequence[str]) -> list[apiserver.Request]:
    """syncNodes: create a pod for each node and delete the pods, at most 250 of each."""
    reqs: list[apiserver.Request] = [apiserver.Create(daemon_pod(view.ds, node, view.hash, view.generation)) for node in create_on[:BURST_REPLICAS]]
    reqs.extend(apiserver.Delete(p.ref) for p in delete[:BURST_REPLICAS])
    return reqs


def node_name_affinity(affinity: Affinity | None, node: str) -> Affinity:
    """util.ReplaceDaemonSetPodNodeNameNodeAffinity: the required node affinity becomes the
    single term `matchFields metadata.name In [node]`; other affinity is kept."""
    term = NodeSelectorTerm(match_fields=(NodeSelectorRequirement(key="metadata.name", operator="In", values=(node,)),))
    selector = NodeSelector(node_selector_terms=(term,))
    if affinity is None:
        return Affinity(node_affinity=NodeAffinity(required_during_scheduling_ignored_during_execution=selector))
    na = affinity.node_affinity or NodeAffinity()
    return replace(affinity, node_affinity=replace(na, required_during_scheduling_ignored_during_execution=selector))


def daemon_pod(ds: DaemonSet, node: str, hash_: str, generation: int | None) -> Pod:
    """util.CreatePodTemplate + GetPodFromTemplate: the pod for `node`, with the daemon
    tolerations, the pod-template-generation and controller-revision-hash labels, and
    node affinity naming the node."""
    tpl = ds.spec.template
    labels = tpl.metadata.labels
    if generation is not None:
        labels = labels.set(TEMPLATE_GENERATION_LABEL, str(generation))
    if hash_:
        labels = labels.set(REVISION_HASH_LABEL, hash_)
    spec = replace(tpl.spec, tolerations=daemon_tolerations(tpl.spec), affinity=node_name_affinity(tpl.spec.affinity, node))
    tpl = replace(tpl, metadata=replace(tpl.metadata, labels=labels), spec=spec)
    return pod_from_template(ds, tpl)


def calculate_status(view: SyncView) -> DaemonSetStatus:
    """updateDaemonSetStatus: per node that should run the daemon, desired; with pods,
    current, and from its oldest pod ready, available and updated; pods on other nodes
    are misscheduled; unavailable = desired − available."""
    ds = view.ds
    desired = current = misscheduled = ready = available = updated = 0
    for node in view.nodes:
        should_run = view.should_run(node.name)
        pods = view.by_node.get(node.name, [])
        if not should_run:
            if pods:
                misscheduled += 1
            continue
        desired += 1
        if not pods:
            continue
        current += 1
        pod = oldest_first(pods)[0]
        if pod.ready:
            ready += 1
            if is_pod_available(pod, ds.spec.min_ready_seconds, view.now):
                available += 1
        if is_pod_updated(pod, view.hash, view.generation):
            updated += 1
    return replace(
        ds.status,
        desired_number_scheduled=desired,
        current_number_scheduled=current,
        number_misscheduled=misscheduled,
        number_ready=ready,
        number_available=available,
        updated_number_scheduled=updated,
        number_unavailable=desired - available,
    )
