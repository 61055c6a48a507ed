"""The facts of a placement problem that do not depend on where the new pods go,
computed in Python with the scheduler's own predicates (node affinity, taint toleration,
label selectors): which (group, node) pairs a filter rules out, and why; what each node
has left; which existing pods count in which topology domain.

Everything that depends on the assignment of new pods — capacity sums, anti-affinity and
affinity between new pods, topology-spread counts — is left to the Z3 encoding
(`kmodel.placement.encode`).

The rules restate kube-scheduler's filters as the model implements them
(`kmodel.scheduler`), independently of `filter_failures`: NodeName, NodeUnschedulable,
NodeResourcesFit (a resource the node does not have), NodeAffinity, TaintToleration,
InterPodAffinity against pods already placed (both directions), and the static parts of
PodTopologySpread (missing topology key).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from kmodel.objects.node import Node
from kmodel.objects.pod import Pod, pod_requests
from kmodel.objects.selectors import PodAffinityTerm, Taint, TopologySpreadConstraint, untolerated_taints
from kmodel.placement.problem import PlacedPod, PodGroup, Problem
from kmodel.quantity import format_quantity
from kmodel.scheduler import node_affinity_matches, unschedulable_tolerated

FILTER_EFFECTS = frozenset({"NoSchedule", "NoExecute"})


@dataclass(frozen=True)
class Reason:
    """One named constraint: the filter plugin (as `filter_failures` names it) and a
    sentence saying what rules the placement out."""

    plugin: str
    text: str

    def __str__(self) -> str:
        return self.text


def amount(resource: str, value: int | None) -> str:
    """A resource amount as a user reads it: cpu in millicores, memory as a quantity, counts as is."""
    if value is None:
        return "none"
    if resource == "cpu":
        return f"{value}m"
    if resource == "pods":
        return str(value)
    return format_quantity(resource, value)


def taint_text(t: Taint) -> str:
    """key=value:Effect (the value omitted when empty), as kubectl prints taints."""
    return f"{t.key}={t.value}:{t.effect}" if t.value else f"{t.key}:{t.effect}"


def term_selects(term: PodAffinityTerm, owner: Pod, other: Pod) -> bool:
    """An (anti-)affinity term of `owner` selects `other`: `other` is in the term's
    namespaces (default: the owner's namespace) and matches its label selector (a nil
    selector selects nothing)."""
    namespaces = term.namespaces or (owner.metadata.namespace,)
    return other.metadata.namespace in namespaces and term.label_selector is not None and term.label_selector.matches(other.metadata.labels)


def anti_terms(pod: Pod) -> tuple[PodAffinityTerm, ...]:
    """The pod's required anti-affinity terms."""
    a = pod.spec.affinity.pod_anti_affinity if pod.spec.affinity else None
    return a.required_during_scheduling_ignored_during_execution if a else ()


def affinity_terms(pod: Pod) -> tuple[PodAffinityTerm, ...]:
    """The pod's required (positive) pod affinity terms."""
    a = pod.spec.affinity.pod_affinity if pod.spec.affinity else None
    return a.required_during_scheduling_ignored_during_execution if a else ()


def hard_spread(pod: Pod) -> tuple[TopologySpreadConstraint, ...]:
    """The pod's DoNotSchedule topology spread constraints (ScheduleAnyway only scores)."""
    return tuple(c for c in pod.spec.topology_spread_constraints if c.when_unsatisfiable == "DoNotSchedule")


def spread_selects(c: TopologySpreadConstraint, pod: Pod) -> bool:
    """Whether pods like `pod` are counted by constraint `c` (countPodsMatchSelector:
    a nil or empty selector counts nothing)."""
    sel = c.label_selector
    return sel is not None and not sel.empty and sel.matches(pod.metadata.labels)


def self_match(c: TopologySpreadConstraint, pod: Pod) -> bool:
    """The '+1 if the incoming pod matches the selector' term of the skew (a nil selector: no; an empty one: yes)."""
    return c.label_selector is not None and c.label_selector.matches(pod.metadata.labels)


@dataclass
class NodeFacts:
    """A node's labels, what is left of each resource and of its pod slots."""

    node: Node
    used: dict[str, int] = field(default_factory=dict)
    pods: int = 0

    @property
    def name(self) -> str:
        """The node name."""
        return self.node.name

    def free(self, resource: str) -> int | None:
        """Allocatable minus what placed pods request (None: the node does not offer it)."""
        if resource == "pods":
            return (self.node.allocatable_of("pods") or 0) - self.pods
        alloc = self.node.allocatable_of(resource)
        return None if alloc is None else alloc - self.used.get(resource, 0)


@dataclass
class Facts:
    """Static facts of a problem: node capacities and per-(group, node) reasons a filter
    rules the pair out regardless of where the other new pods go."""

    problem: Problem
    nodes: list[NodeFacts]
    blocked: dict[tuple[int, int], list[Reason]]
    labels: list[dict[str, str]]

    def allowed(self, g: int, n: int) -> bool:
        """No static filter rules out a pod of group `g` on node `n`."""
        return (g, n) not in self.blocked

    def domain_of(self, n: int, key: str) -> str | None:
        """The node's value of topology key `key` (None: the node does not carry it)."""
        return self.labels[n].get(key)


def node_facts(problem: Problem) -> list[NodeFacts]:
    """Per node, the sum of the placed pods' requests and their number."""
    out = [NodeFacts(n) for n in problem.nodes]
    index = problem.node_index()
    for pp in problem.placed:
        i = index.get(pp.node)
        if i is None:
            continue
        nf = out[i]
        nf.pods += 1
        for r, v in pod_requests(pp.pod.spec).items():
            nf.used[r] = nf.used.get(r, 0) + v
    return out


def analyse(problem: Problem) -> Facts:
    """Compute the static facts of `problem`."""
    nodes = node_facts(problem)
    labels = [dict(n.metadata.labels) for n in problem.nodes]
    facts = Facts(problem, nodes, {}, labels)
    for gi, g in enumerate(problem.groups):
        _node_filters(facts, gi, g)
        _placed_anti_affinity(facts, gi, g)
        _topology_keys(facts, gi, g)
    index = problem.node_index()
    for gi, node, why in problem.volume_blocks:
        ni = index.get(node)
        if ni is not None:
            _block(facts, gi, ni, Reason("VolumeBinding", f"node {node}: {why}"))
    return facts


def one_group_facts(problem: Problem, nodes: list[NodeFacts], labels: list[dict[str, str]], static: dict[int, list[Reason]]) -> Facts:
    """The facts of a one-group problem whose node usage (`nodes`) and node-filter reasons
    (`static`: node → reasons, from an earlier analysis of the same group) are known; only
    anti-affinity against the placed pods is worked out again."""
    facts = Facts(problem, nodes, {(0, n): list(r) for n, r in static.items()}, labels)
    _placed_anti_affinity(facts, 0, problem.groups[0])
    return facts


def _block(facts: Facts, g: int, n: int, reason: Reason) -> None:
    facts.blocked.setdefault((g, n), []).append(reason)


def _node_filters(facts: Facts, gi: int, g: PodGroup) -> None:
    """NodeName, NodeUnschedulable, NodeAffinity, TaintToleration and resources a node lacks."""
    spec = g.pod.spec
    requests = {r: v for r, v in pod_requests(spec).items() if v > 0}
    tolerates_cordon = unschedulable_tolerated(spec)
    for ni, nf in enumerate(facts.nodes):
        node = nf.node
        name = node.name
        if spec.node_name and spec.node_name != name:
            _block(facts, gi, ni, Reason("NodeName", f"node {name}: the pod names node {spec.node_name} in spec.nodeName"))
        if node.spec.unschedulable and not tolerates_cordon:
            _block(facts, gi, ni, Reason("NodeUnschedulable", f"node {name}: unschedulable (cordoned)"))
        for r, v in sorted(requests.items()):
            if node.allocatable_of(r) is None:
                _block(facts, gi, ni, Reason(f"NodeResourcesFit({r})", f"node {name}: no allocatable {r} (request {amount(r, v)})"))
        if not node_affinity_matches(spec, node):
            _block(facts, gi, ni, Reason("NodeAffinity", f"node {name}: {_affinity_mismatch(g.pod, node)}"))
        for t in untolerated_taints(node.spec.taints, spec.tolerations, FILTER_EFFECTS):
            _block(facts, gi, ni, Reason("TaintToleration", f"node {name}: untolerated taint {taint_text(t)}"))


def _affinity_mismatch(pod: Pod, node: Node) -> str:
    """Which part of the NodeAffinity filter `node` fails."""
    labels = node.metadata.labels
    for k, v in sorted(pod.spec.node_selector.items()):
        if labels.get(k) != v:
            have = f"{k}={labels[k]}" if k in labels else f"no label {k}"
            return f"nodeSelector {k}={v} does not match ({have})"
    return "required node affinity does not match"


def _placed_anti_affinity(facts: Facts, gi: int, g: PodGroup) -> None:
    """InterPodAffinity against pods already placed: the group's own required anti-affinity
    terms (satisfyPodAntiAffinity) and the placed pods' terms selecting the group's pods
    (satisfyExistingPodsAntiAffinity). Terminating pods count here."""
    problem = facts.problem
    index = problem.node_index()
    for term in anti_terms(g.pod):
        key = term.topology_key
        holders: dict[str, PlacedPod] = {}
        for pp in problem.placed:
            ni = index.get(pp.node)
            if ni is None or not term_selects(term, g.pod, pp.pod):
                continue
            v = facts.domain_of(ni, key)
            if v is not None and v not in holders:
                holders[v] = pp
        if holders:
            for ni in range(len(facts.nodes)):
                v = facts.domain_of(ni, key)
                if v is not None and v in holders:
                    other = holders[v].pod
                    _block(
                        facts,
                        gi,
                        ni,
                        Reason(
                            "InterPodAffinity(anti-affinity)",
                            f"node {facts.nodes[ni].name}: anti-affinity with pod {other.metadata.namespace}/{other.metadata.name} on {key}={v}",
                        ),
                    )
    for pp in problem.placed:
        pi = index.get(pp.node)
        if pi is None:
            continue
        for term in anti_terms(pp.pod):
            if not term_selects(term, pp.pod, g.pod):
                continue
            v = facts.domain_of(pi, term.topology_key)
            if v is None:
                continue
            for ni in range(len(facts.nodes)):
                if facts.domain_of(ni, term.topology_key) == v:
                    holder = f"{pp.pod.metadata.namespace}/{pp.pod.metadata.name}"
                    text = f"node {facts.nodes[ni].name}: pod {holder} has anti-affinity to this pod on {term.topology_key}={v}"
                    _block(facts, gi, ni, Reason("InterPodAffinity(existing anti-affinity)", text))


def _topology_keys(facts: Facts, gi: int, g: PodGroup) -> None:
    """Nodes without a topology key a required affinity term or a DoNotSchedule spread
    constraint needs, and spread constraints no matching pod can ever satisfy."""
    aff = affinity_terms(g.pod)
    spread = hard_spread(g.pod)
    # skew = count + self − min ≥ self (the node's domain holds at least the minimum)
    impossible = [c for c in spread if c.max_skew < 0 or (c.max_skew < 1 and self_match(c, g.pod))]
    for ni, nf in enumerate(facts.nodes):
        labels = facts.labels[ni]
        missing = sorted({t.topology_key for t in aff if t.topology_key not in labels})
        if missing:
            _block(facts, gi, ni, Reason("InterPodAffinity(affinity: missing topology key)", f"node {nf.name}: lacks topology key {missing[0]} (pod affinity)"))
        for c in spread:
            if c.topology_key not in labels:
                text = f"node {nf.name}: lacks topology key {c.topology_key} (topology spread)"
                _block(facts, gi, ni, Reason("PodTopologySpread(missing topology key)", text))
        for c in impossible:
            if c.topology_key in labels:
                text = f"node {nf.name}: topology spread on {c.topology_key} with maxSkew {c.max_skew} admits no such pod"
                _block(facts, gi, ni, Reason("PodTopologySpread", text))
