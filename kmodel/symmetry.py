"""Symmetry reduction: one canonical fingerprint for states that differ only by a
renaming of interchangeable nodes and interchangeable pods.

* Nodes are interchangeable when they have the same labels (hostname aside), taints,
  capacity and spec, and no object names them (a pod's nodeSelector or affinity on the
  hostname, a preset nodeName in a template, a PersistentVolume's node affinity...).
* Pods are interchangeable when they were named by generateName (a random suffix), are
  not referenced by uid or name from another object, and have the same content apart
  from name and uid.

The canonical form renames interchangeable nodes in the order of a name-free key (their
own content plus the multiset of the pods they run) and interchangeable pods in the
order of their name-free content, then hashes the renamed state. States in the same
orbit get the same canonical fingerprint, so the explorer visits one representative.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from kmodel.fingerprint import MASK, mix, object_hash, stable_hash, string_hash
from kmodel.objects.node import Node
from kmodel.objects.pod import Pod
from kmodel.state import ClusterState

HOSTNAME = "kubernetes.io/hostname"


def _mentioned_strings(obj: Any, out: set[str]) -> None:
    """Every string value reachable inside `obj` (spec fields, labels, selectors, refs)."""
    if isinstance(obj, str):
        out.add(obj)
    elif isinstance(obj, dict):
        for k, v in obj.items():
            _mentioned_strings(k, out)
            _mentioned_strings(v, out)
    elif isinstance(obj, (tuple, list, frozenset)):
        for v in obj:
            _mentioned_strings(v, out)
    elif hasattr(obj, "__dataclass_fields__"):
        for name in obj.__dataclass_fields__:
            if name in ("_fp", "metadata") or name == "status" and isinstance(obj, (Pod, Node)):
                continue
            _mentioned_strings(getattr(obj, name), out)


class SymmetryInfo:
    """What in a state may be renamed: computed once per exploration from the initial
    state and the scope (names mentioned by objects or actions are pinned)."""

    def __init__(self, pinned_names: set[str]) -> None:
        self.pinned = pinned_names

    @classmethod
    def for_exploration(cls, initial: ClusterState, extra: Any = ()) -> SymmetryInfo:
        """Pin every node name mentioned by a non-node object, or by the scope's actions."""
        mentioned: set[str] = set()
        for obj in initial.all_objects():
            if obj.kind in ("Node", "Pod"):
                continue
            _mentioned_strings(obj, mentioned)
            for r in obj.metadata.owner_references:
                mentioned.add(r.name)
        _mentioned_strings(extra, mentioned)
        for pod in initial.pods():
            # a pod pinned to a node by name pins the node
            _mentioned_strings(pod.spec.node_selector, mentioned)
            if pod.spec.affinity is not None:
                _mentioned_strings(pod.spec.affinity, mentioned)
        return cls(mentioned)


def _cached(obj: Any, compute: Any) -> int:
    h: int = obj._sym
    if h == 0:
        h = compute() or 1
        object.__setattr__(obj, "_sym", h)
    return h


def node_static_hash(node: Node) -> int:
    """Hash of a node without its name (labels other than hostname, taints, capacity, status)."""

    def compute() -> int:
        labels = tuple(sorted((k, v) for k, v in node.metadata.labels.items() if k != HOSTNAME))
        return stable_hash((labels, node.spec, node.status, node.metadata.annotations, node.metadata.finalizers, node.metadata.deletion_timestamp))

    return _cached(node, compute)


def _spec_without_node(spec: Any) -> int:
    return _cached(spec, lambda: stable_hash(replace(spec, node_name="")))


def pod_body_hash(pod: Pod) -> int:
    """Hash of a pod without its name, uid and node (the node is added as an alias)."""

    def compute() -> int:
        m = pod.metadata
        meta = (
            m.namespace,
            m.generate_name,
            m.generation,
            m.creation_timestamp,
            m.deletion_timestamp,
            m.deletion_grace_period_seconds,
            m.labels,
            m.annotations,
            m.owner_references,
            m.finalizers,
            m.extra,
        )
        return mix(stable_hash(meta), _spec_without_node(pod.spec), object_hash(pod.status))

    return _cached(pod, compute)


def _renameable_pod(pod: Pod, referenced: set[str]) -> bool:
    meta = pod.metadata
    return bool(meta.generate_name) and meta.name.startswith(meta.generate_name) and meta.uid not in referenced


def canonical_fingerprint(state: ClusterState, info: SymmetryInfo) -> int:
    """The fingerprint of the canonical representative of `state`'s symmetry orbit."""
    pods = state.pods()
    # uids other objects refer to (owner references to pods, Job uncounted pods, ...)
    referenced: set[str] = set()
    for kind, m in state.objects.items():
        if kind == "Node":
            continue
        for obj in m.values():
            for r in obj.metadata.owner_references:
                if r.kind == "Pod":
                    referenced.add(r.uid)
            if kind == "Job":
                u = obj.status.uncounted_terminated_pods
                if u is not None:
                    referenced.update(u.succeeded)
                    referenced.update(u.failed)
    down = state.env.down_nodes
    removed = state.env.removed_nodes
    nodes = state.nodes()
    movable = [n for n in nodes if n.name not in info.pinned]
    node_alias: dict[str, str] = {n.name: n.name for n in nodes if n.name in info.pinned}
    keyed = []
    for n in movable:
        pods_here = tuple(sorted(pod_body_hash(p) for p in state.pods_on(n.name)))
        keyed.append(((node_static_hash(n), down.get(n.name, -1), removed.get(n.name, -1), pods_here), n))
    keyed.sort(key=lambda kn: kn[0])
    total = 0
    for i, (key, n) in enumerate(keyed):
        alias = f"@node{i}"
        node_alias[n.name] = alias
        total += mix(1, string_hash(alias), key[0], key[1], key[2])
    for n in nodes:
        if n.name in info.pinned:
            total += mix(2, object_hash(n), down.get(n.name, -1), removed.get(n.name, -1))
    # pods: renameable ones are hashed without their names. Deletion ranking breaks ties
    # by uid (controller_utils.go ActivePodsWithRanks), so a pod's uid order among the
    # pods of its controller stays part of its canonical form.
    by_owner: dict[str, list[Pod]] = {}
    for pod in pods:
        ref = pod.metadata.controller_ref()
        by_owner.setdefault(ref.uid if ref else "", []).append(pod)
    uid_rank: dict[str, int] = {}
    for group in by_owner.values():
        if len(group) > 1:
            for i, p in enumerate(sorted(group, key=lambda p: p.metadata.uid)):
                uid_rank[p.metadata.uid] = i
    for pod in pods:
        alias = node_alias.get(pod.spec.node_name, pod.spec.node_name)
        if _renameable_pod(pod, referenced):
            total += mix(3, uid_rank.get(pod.metadata.uid, 0), pod_body_hash(pod), string_hash(alias))
        else:
            total += mix(4, string_hash(pod.metadata.name), string_hash(pod.metadata.uid), pod_body_hash(pod), string_hash(alias))
    for kind, m in state.objects.items():
        if kind in ("Pod", "Node"):
            continue
        for obj in m.values():
            total += object_hash(obj)
    env = (
        tuple(sorted((node_alias.get(k, k), v) for k, v in down.items())),
        tuple(sorted((node_alias.get(k, k), v) for k, v in removed.items())),
        state.env.faults,
        state.env.exits,
        state.env.script_pos,
    )
    total += stable_hash(("rest", state.clock, state.memory, env, state.inflight))
    return total & MASK
