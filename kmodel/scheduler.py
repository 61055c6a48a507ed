"""kube-scheduler's default profile, as far as placement validity goes.

Filters (pkg/scheduler/framework/plugins): NodeName, NodeUnschedulable,
NodeResourcesFit (cpu, memory, any requested resource, pod count), NodeAffinity
(nodeSelector and required node affinity), TaintToleration (NoSchedule, NoExecute),
InterPodAffinity (required affinity and anti-affinity, both directions) and
PodTopologySpread (DoNotSchedule constraints).

The scheduler takes pending pods one at a time in queue order (higher priority first,
then FIFO; PrioritySort). Where several nodes pass every filter the choice is left to
exploration: one Schedule action per feasible node, best-scored first (fewest pods of
the same owner, then LeastAllocated), so `settle` follows the usual spreading while the
explorers try every node. The scheduler's pod informer lists only non-terminal pods
(scheduler.go newPodInformer: field selector status.phase!=Succeeded,Failed), so a pod
that reaches Succeeded or Failed stops counting on its node at once, even while its
object remains; a terminating pod still counts (it is only skipped by PodTopologySpread).

Deliberate abstractions: preemption, scoring beyond the tie-break order above, NodePorts,
volume filters other than VolumeBinding, namespaceSelector and matchLabelKeys of affinity/spread terms, and the
nodeAffinityPolicy/nodeTaintsPolicy of spread constraints (their defaults, Honor and
Ignore, are applied) are not modelled.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from kmodel import apiserver
from kmodel.actions import Action, Schedule
from kmodel.config import ModelConfig
from kmodel.objects.node import TAINT_UNSCHEDULABLE, Node
from kmodel.objects.pod import DEFAULT_SCHEDULER, Pod, PodSpec, pod_requests
from kmodel.objects.selectors import PodAffinityTerm, Taint, tolerates_taint, untolerated_taints
from kmodel.state import ClusterState

NAME = "scheduler"
_FILTER_EFFECTS = frozenset({"NoSchedule", "NoExecute"})
# Requests assumed for containers without requests, for scoring only
# (pkg/scheduler/util/pod_resources.go DefaultMilliCPURequest / DefaultMemoryRequest).
_SCORE_DEFAULTS = {"cpu": 100, "memory": 200 * 1024 * 1024}


def node_affinity_matches(spec: PodSpec, node: Node) -> bool:
    """NodeAffinity filter: every nodeSelector entry and the required node affinity match."""
    labels = node.metadata.labels
    for k, v in spec.node_selector.items():
        if labels.get(k) != v:
            return False
    aff = spec.affinity.node_affinity if spec.affinity else None
    req = aff.required_during_scheduling_ignored_during_execution if aff else None
    if req is not None and not req.matches(node.name, labels):
        return False
    return True


def unschedulable_tolerated(spec: PodSpec) -> bool:
    """NodeUnschedulable lets a pod through if it tolerates unschedulable:NoSchedule."""
    return tolerates_taint(spec.tolerations, Taint(key=TAINT_UNSCHEDULABLE, effect="NoSchedule"))


def cached_pods(state: ClusterState, node: str) -> list[Pod]:
    """The pods the scheduler cache holds for `node`: assigned and not terminal
    (scheduler.go newPodInformer filters out Succeeded and Failed pods)."""
    return [p for p in state.pods_on(node) if not p.terminal]


def requested_on(state: ClusterState, node: str, exclude_uid: str = "") -> tuple[int, dict[str, int]]:
    """Pod count and summed requests of the pods assigned to `node` (scheduler cache view)."""
    count = 0
    used: dict[str, int] = {}
    for p in cached_pods(state, node):
        if p.metadata.uid == exclude_uid:
            continue
        count += 1
        for r, v in pod_requests(p.spec).items():
            used[r] = used.get(r, 0) + v
    return count, used


def filter_failures(state: ClusterState, pod: Pod, node: Node) -> list[str]:
    """The names of the filter plugins `node` fails for `pod` (empty: feasible)."""
    spec = pod.spec
    failures: list[str] = []
    if spec.node_name and spec.node_name != node.name:
        failures.append("NodeName")
    if node.spec.unschedulable and not unschedulable_tolerated(spec):
        failures.append("NodeUnschedulable")
    count, used = requested_on(state, node.name, pod.metadata.uid)
    if count + 1 > (node.allocatable_of("pods") or 0):
        failures.append("NodeResourcesFit(pods)")
    for r, v in sorted(pod_requests(spec).items()):
        if v <= 0:
            continue
        alloc = node.allocatable_of(r)
        if alloc is None or v > alloc - used.get(r, 0):
            failures.append(f"NodeResourcesFit({r})")
    if not node_affinity_matches(spec, node):
        failures.append("NodeAffinity")
    if untolerated_taints(node.spec.taints, spec.tolerations, _FILTER_EFFECTS):
        failures.append("TaintToleration")
    failures.extend(_inter_pod_failures(state, pod, node))
    failures.extend(volume_binding_failures(state, pod, node))
    return failures


# ---- VolumeBinding ---------------------------------------------------------------------
# volumebinding/volume_binding.go PreFilter/Filter: claims must exist, not be Lost or
# terminating, Immediate claims must be bound, bound volumes' nodeAffinity must admit the
# node, WaitForFirstConsumer claims need a matching volume or a provisioner. The matching
# rules live with the PV controller (kmodel/controllers/persistentvolume.py).


def volume_binding_failures(state: ClusterState, pod: Pod, node: Node) -> list[str]:
    """The VolumeBinding filter's failure reasons for `pod` on `node` (none without claims)."""
    if not any(v.persistent_volume_claim is not None for v in pod.spec.volumes):
        return []
    from kmodel.controllers.persistentvolume import pod_volume_failures

    return pod_volume_failures(state, pod, node)


def _topology_value(state: ClusterState, node_name: str, key: str) -> str | None:
    n = state.get("Node", "", node_name)
    return None if n is None else n.metadata.labels.get(key)


def _term_matches(term: PodAffinityTerm, owner: Pod, other: Pod) -> bool:
    """framework.AffinityTerm.Matches: `other` is in the term's namespaces (default: the
    namespace of the pod that carries the term) and matches its selector (nil: nothing)."""
    namespaces = term.namespaces or (owner.metadata.namespace,)
    return other.metadata.namespace in namespaces and term.label_selector is not None and term.label_selector.matches(other.metadata.labels)


def _inter_pod_failures(state: ClusterState, pod: Pod, node: Node) -> list[str]:
    """InterPodAffinity (required terms) and PodTopologySpread (DoNotSchedule)."""
    failures: list[str] = []
    spec = pod.spec
    # Pods in the scheduler's snapshot: assigned to an existing node, not terminal.
    # interpodaffinity/filtering.go counts terminating pods too; only
    # podtopologyspread/common.go countPodsMatchSelector skips them (#87621).
    others = [
        p
        for p in state.pods()
        if p.spec.node_name and not p.terminal and p.metadata.uid != pod.metadata.uid and state.get("Node", "", p.spec.node_name) is not None
    ]
    labels = node.metadata.labels
    # required pod affinity (filtering.go satisfyPodAffinity): every term's topology
    # domain of the node must hold a pod matching all the terms; if no pod anywhere
    # matches them and the pod matches its own terms, it may go anywhere the keys exist.
    aff = spec.affinity.pod_affinity if spec.affinity else None
    aff_terms = aff.required_during_scheduling_ignored_during_execution if aff else ()
    if aff_terms:
        matching = [p for p in others if all(_term_matches(t, pod, p) for t in aff_terms)]
        missing_key = False
        pods_exist = True
        for t in aff_terms:
            value = labels.get(t.topology_key)
            if value is None:
                missing_key = True
                break
            if not any(_topology_value(state, p.spec.node_name, t.topology_key) == value for p in matching):
                pods_exist = False
        if missing_key:
            failures.append("InterPodAffinity(affinity: missing topology key)")
        elif not pods_exist:
            counted = any(_topology_value(state, p.spec.node_name, t.topology_key) is not None for p in matching for t in aff_terms)
            if counted or not all(_term_matches(t, pod, pod) for t in aff_terms):
                failures.append("InterPodAffinity(affinity)")
    # the pod's own required anti-affinity (satisfyPodAntiAffinity)
    anti = spec.affinity.pod_anti_affinity if spec.affinity else None
    for term in anti.required_during_scheduling_ignored_during_execution if anti else ():
        value = labels.get(term.topology_key)
        if value is None:
            continue
        if any(_term_matches(term, pod, p) and _topology_value(state, p.spec.node_name, term.topology_key) == value for p in others):
            failures.append("InterPodAffinity(anti-affinity)")
            break
    # symmetry: existing pods' required anti-affinity terms that match the incoming pod
    # (satisfyExistingPodsAntiAffinity)
    for p in others:
        p_anti = p.spec.affinity.pod_anti_affinity if p.spec.affinity else None
        for term in p_anti.required_during_scheduling_ignored_during_execution if p_anti else ():
            if _term_matches(term, p, pod):
                v = labels.get(term.topology_key)
                if v is not None and _topology_value(state, p.spec.node_name, term.topology_key) == v:
                    failures.append("InterPodAffinity(existing anti-affinity)")
    constraints = [c for c in spec.topology_spread_constraints if c.when_unsatisfiable == "DoNotSchedule"]
    if not constraints:
        return failures
    # podtopologyspread/filtering.go calPreFilterState: only nodes carrying every
    # constraint's topology key and passing the pod's node affinity (nodeAffinityPolicy
    # Honor) count; their non-terminating pods of the pod's namespace are counted.
    eligible = [n for n in state.nodes() if all(c.topology_key in n.metadata.labels for c in constraints) and node_affinity_matches(spec, n)]
    spread_pods = [p for p in others if p.metadata.deletion_timestamp is None and p.metadata.namespace == pod.metadata.namespace]
    for c in constraints:
        value = labels.get(c.topology_key)
        if value is None:
            failures.append("PodTopologySpread(missing topology key)")
            continue
        counts: dict[str, int] = {}
        for n in eligible:
            v = n.metadata.labels[c.topology_key]
            # countPodsMatchSelector: an empty selector counts nothing (a nil one matches nothing)
            sel = c.label_selector
            on_node = 0
            if sel is not None and not sel.empty:
                on_node = sum(1 for p in spread_pods if p.spec.node_name == n.name and sel.matches(p.metadata.labels))
            counts[v] = counts.get(v, 0) + on_node
        min_count = min(counts.values()) if counts else 0
        if c.min_domains is not None and len(counts) < c.min_domains:
            min_count = 0
        self_match = 1 if c.label_selector is not None and c.label_selector.matches(pod.metadata.labels) else 0
        if counts.get(value, 0) + self_match - min_count > c.max_skew:
            failures.append("PodTopologySpread")
    return failures


def pending_pods(state: ClusterState) -> list[Pod]:
    """Pods waiting for the default scheduler, in queue order (priority, then FIFO)."""
    pods = [
        p
        for p in state.pods()
        if not p.spec.node_name and p.spec.scheduler_name == DEFAULT_SCHEDULER and p.metadata.deletion_timestamp is None and not p.terminal
    ]
    return sorted(pods, key=lambda p: (-(p.spec.priority or 0), p.metadata.creation_timestamp or 0, p.metadata.namespace, p.metadata.name))


def score(state: ClusterState, pod: Pod, node: Node) -> tuple[int, int]:
    """Higher is better: spread siblings (same controller), then LeastAllocated (cpu, memory)."""
    owner = pod.metadata.controller_ref()
    siblings = 0
    if owner is not None:
        for p in state.pods_on(node.name):
            ref = p.metadata.controller_ref()
            if ref is not None and ref.uid == owner.uid:
                siblings += 1
    _, used = requested_on(state, node.name, pod.metadata.uid)
    req = pod_requests(pod.spec)
    total = 0
    for r in ("cpu", "memory"):
        alloc = node.allocatable_of(r)
        if not alloc:
            continue
        want = req.get(r) or _SCORE_DEFAULTS[r]
        free = alloc - used.get(r, 0) - want
        total += max(free, 0) * 100 // alloc
    return (-siblings, total)


class Scheduler:
    """The default scheduler: binds the first schedulable pod in the queue to a feasible node."""

    name = NAME

    def candidates(self, state: ClusterState, config: ModelConfig) -> Iterable[Action]:
        """One Schedule action per feasible node for the first pod in queue order that fits somewhere."""
        nodes = state.nodes()
        for pod in pending_pods(state):
            feasible = [n for n in nodes if not filter_failures(state, pod, n)]
            if not feasible:
                continue  # unschedulable: stays in the queue with back-off
            feasible.sort(key=lambda n: (tuple(-x for x in score(state, pod, n)), n.name))
            for n in feasible:
                yield Schedule(pod.metadata.namespace, pod.metadata.name, n.name)
            return

    def requests(self, state: ClusterState, action: Action, config: ModelConfig) -> Sequence[apiserver.Request]:
        """The binding, if the pod is still pending and the node still feasible."""
        assert isinstance(action, Schedule)
        pod = state.get("Pod", action.namespace, action.pod)
        node = state.get("Node", "", action.node)
        if pod is None or node is None or pod.spec.node_name or pod.metadata.deletion_timestamp is not None:
            return ()
        if filter_failures(state, pod, node):
            return ()
        return (apiserver.Bind(action.namespace, action.pod, action.node, uid=pod.metadata.uid),)

    def deadlines(self, state: ClusterState, config: ModelConfig) -> Iterable[int]:
        """The scheduler has no timers in the model (back-off only delays retries)."""
        return ()
