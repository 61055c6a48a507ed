"""The placement problem as plain data: nodes, pods already placed on them, and groups of
interchangeable pods still to place.

Pods that no filter can tell apart are grouped, and the encoding decides one integer
per (group, node) — how many of the group's pods go there — instead of one boolean per
(pod, node). Two pods are interchangeable when they have the same namespace, the same
requests, the same placement fields of their spec, and agree on every label key that
some label selector of the problem reads (a selector only looks at the keys of its
matchLabels and matchExpressions, so labels outside that set cannot matter).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

from kmodel.objects.node import Node
from kmodel.objects.pod import Pod, pod_requests
from kmodel.objects.selectors import LabelSelector
from kmodel.state import ClusterState


@dataclass(frozen=True)
class PlacedPod:
    """A pod the scheduler's snapshot already holds on `node` (assigned, not terminal)."""

    pod: Pod
    node: str


@dataclass(frozen=True)
class PodGroup:
    """`count` interchangeable pods like `pod`, still to be placed.

    `name` is what reports show ("Deployment default/web", "Pod default/p");
    `members` are the pod names when they are known (bare pods, StatefulSet ordinals);
    `workload` is the object the pods belong to (defaults to `name`).
    """

    name: str
    pod: Pod
    count: int
    members: tuple[str, ...] = ()
    workload: str = ""

    @property
    def owner(self) -> str:
        """The workload the group's pods belong to."""
        return self.workload or self.name

    @property
    def requests(self) -> dict[str, int]:
        """The effective requests of one pod of the group (NodeResourcesFit's view)."""
        return pod_requests(self.pod.spec)


@dataclass(frozen=True)
class Problem:
    """Where `groups` could go on `nodes`, given the pods in `placed`."""

    nodes: tuple[Node, ...]
    placed: tuple[PlacedPod, ...] = ()
    groups: tuple[PodGroup, ...] = ()
    # (group, node name, why): pairs ruled out by a filter that reads objects other than
    # nodes and pods — VolumeBinding, decided by the model's claims and volumes
    volume_blocks: tuple[tuple[int, str, str], ...] = ()
    # caches filled lazily by the encoder (not part of equality)
    _node_index: dict[str, int] = field(default_factory=dict, compare=False, repr=False)

    def node_index(self) -> dict[str, int]:
        """Node name → position in `nodes`."""
        if not self._node_index:
            self._node_index.update({n.name: i for i, n in enumerate(self.nodes)})
        return self._node_index

    @property
    def pods_to_place(self) -> int:
        """How many pods the groups hold in total."""
        return sum(g.count for g in self.groups)


def snapshot_pods(state: ClusterState, exclude_uids: Iterable[str] = ()) -> tuple[PlacedPod, ...]:
    """The scheduler snapshot's assigned pods: bound to an existing node and not terminal
    (scheduler.go newPodInformer drops Succeeded/Failed pods; terminating pods stay)."""
    skip = set(exclude_uids)
    names = {n.name for n in state.nodes()}
    return tuple(PlacedPod(p, p.spec.node_name) for p in state.pods() if p.spec.node_name in names and not p.terminal and p.metadata.uid not in skip)


def single_pod_problem(state: ClusterState, pod: Pod) -> Problem:
    """One pod against the current state: every node, every other pod where it is."""
    uid = pod.metadata.uid
    placed = tuple(pp for pp in snapshot_pods(state) if not (uid and pp.pod.metadata.uid == uid) and pp.pod is not pod)
    group = PodGroup(f"Pod {pod.metadata.namespace}/{pod.metadata.name}", pod, 1, (pod.metadata.name,))
    nodes = tuple(state.nodes())
    return Problem(nodes=nodes, placed=placed, groups=(group,), volume_blocks=volume_blocks(state, pod, nodes))


def volume_blocks(state: ClusterState, pod: Pod, nodes: Iterable[Node], group: int = 0) -> tuple[tuple[int, str, str], ...]:
    """The nodes the VolumeBinding filter rules out for `pod` (volumebinding: unbound
    immediate claims, a bound volume's node affinity, a missing claim). Claims are state,
    not counts, so this filter is taken from the model (`kmodel.scheduler.volume_binding_failures`)
    rather than encoded."""
    from kmodel.scheduler import volume_binding_failures

    out: list[tuple[int, str, str]] = []
    for n in nodes:
        for why in volume_binding_failures(state, pod, n):
            out.append((group, n.name, why))
    return tuple(out)


# ---- grouping interchangeable pods ------------------------------------------------------------


def _selector_keys(sel: LabelSelector | None) -> set[str]:
    if sel is None:
        return set()
    return set(sel.match_labels) | {r.key for r in sel.match_expressions}


def referenced_label_keys(pods: Iterable[Pod]) -> frozenset[str]:
    """Every label key read by a pod (anti-)affinity term or spread constraint selector of `pods`."""
    keys: set[str] = set()
    for p in pods:
        aff = p.spec.affinity
        if aff is not None:
            for pa in (aff.pod_affinity, aff.pod_anti_affinity):
                for t in pa.required_during_scheduling_ignored_during_execution if pa else ():
                    keys |= _selector_keys(t.label_selector)
        for c in p.spec.topology_spread_constraints:
            keys |= _selector_keys(c.label_selector)
    return frozenset(keys)


def placement_signature(pod: Pod, keys: frozenset[str]) -> tuple[object, ...]:
    """What the filters can see of `pod`: namespace, requests, placement fields of the spec
    and the labels some selector reads. Equal signatures mean interchangeable pods."""
    s = pod.spec
    labels = tuple(sorted((k, v) for k, v in pod.metadata.labels.items() if k in keys))
    return (
        pod.metadata.namespace,
        tuple(sorted(pod_requests(s).items())),
        s.node_name,
        tuple(sorted(s.node_selector.items())),
        s.affinity,
        s.tolerations,
        s.topology_spread_constraints,
        s.scheduler_name,
        labels,
    )


@dataclass(frozen=True)
class DesiredPod:
    """A pod some workload wants running: the workload's name ("Deployment default/web"),
    the pod, and a label telling its pods apart in reports ("on node n1" for a daemon pod)."""

    workload: str
    pod: Pod
    label: str = ""


def group_pods(desired: Sequence[DesiredPod], placed: Sequence[PlacedPod] = ()) -> tuple[PodGroup, ...]:
    """Group desired pods into PodGroups of interchangeable pods of one workload (and
    label), in first-appearance order; a workload whose pods differ gets one group per variant."""
    keys = referenced_label_keys([d.pod for d in desired] + [pp.pod for pp in placed])
    order: list[tuple[str, str, tuple[object, ...]]] = []
    members: dict[tuple[str, str, tuple[object, ...]], list[Pod]] = {}
    for d in desired:
        k = (d.workload, d.label, placement_signature(d.pod, keys))
        if k not in members:
            members[k] = []
            order.append(k)
        members[k].append(d.pod)
    variants: dict[tuple[str, str], int] = {}
    for k in order:
        variants[k[:2]] = variants.get(k[:2], 0) + 1
    seen: dict[tuple[str, str], int] = {}
    out: list[PodGroup] = []
    for k in order:
        workload, label, _ = k
        pods = members[k]
        name = f"{workload} {label}" if label else workload
        if variants[k[:2]] > 1:
            seen[k[:2]] = seen.get(k[:2], 0) + 1
            name = f"{name} [variant {seen[k[:2]]}]"
        names = tuple(p.metadata.name for p in pods if p.metadata.name)
        out.append(PodGroup(name, pods[0], len(pods), names if len(names) == len(pods) else (), workload=workload))
    return tuple(out)
