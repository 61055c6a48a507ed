"""The validator's picture of the cluster: one mutable current view, and small frozen
states cut out of it for the invariants.

An invariant is a function of a `ClusterState`. Building a full immutable state for
every observed event costs time proportional to the cluster (a `Tx` copies each
changed kind's dict and the indexes), so the validator instead keeps a mutable `View`
(objects by kind, and the same indexes ClusterState keeps: by uid, dependents by owner
uid, pods by node) updated in place, and for each step cuts out only the part of the
cluster an invariant reads — a `Scope`: the changed objects, their owners, their
ownership family, the node they are on and the pods there, whole kinds, or everything
— as a genuine `ClusterState` built directly (no Tx). The state after the step is the
state before it with the step's changes applied through a `Tx`, which is cheap on a
small state.

A short history of recent changes (bounded) lets a step be re-judged against the
states shortly before it, for observations that lag (see `kmodel.validate.engine`).
"""

from __future__ import annotations

from collections import deque
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import Any

from kmodel.frozen import EMPTY, FrozenDict
from kmodel.objects.meta import ObjRef
from kmodel.state import ClusterState, Environment

Key = tuple[str, str, str]  # kind, namespace, name

# Scope parts (see `Scope`).
SELF, UID, OWNERS, FAMILY, DEPENDENTS, NODE, FULL = "self", "uid", "owners", "family", "dependents", "node", "full"
PLACEMENT = "placement"
_STORAGE = ("PersistentVolumeClaim", "PersistentVolume", "StorageClass")
_MAX_DEPTH = 6


@dataclass(frozen=True, slots=True)
class Scope:
    """Which objects an invariant reads around a step.

    * `self`: the changed objects; `uid`: objects sharing a uid with them;
    * `owners`: the objects their ownerReferences name, transitively;
    * `family`: the top controller above them (following controller references) and
      everything owned by it, transitively — optionally only objects of `family_kinds`;
    * `dependents`: objects whose ownerReferences name a changed object;
    * `node`: for pods the node they are (or were) bound to and every pod bound there;
      for nodes, the node's pods;
    * `kinds`: every object of these kinds; `namespace_kinds`: every object of these
      kinds in the changed objects' namespaces;
    * `placement`: what the scheduler's filters read for a pod: its node, the pods
      there and the storage objects — the whole cluster when the pod, or any pod,
      has pod (anti-)affinity or topology spread constraints;
    * `full`: the whole cluster.
    """

    parts: frozenset[str] = frozenset({SELF})
    kinds: frozenset[str] = frozenset()
    namespace_kinds: frozenset[str] = frozenset()
    family_kinds: frozenset[str] = frozenset()

    @property
    def full(self) -> bool:
        """Whether the scope is the whole cluster."""
        return FULL in self.parts

    def __or__(self, other: Scope) -> Scope:
        fk = (
            frozenset()
            if (FAMILY in self.parts and not self.family_kinds) or (FAMILY in other.parts and not other.family_kinds)
            else self.family_kinds | other.family_kinds
        )
        return Scope(self.parts | other.parts, self.kinds | other.kinds, self.namespace_kinds | other.namespace_kinds, fk)


def scope(*parts: str, kinds: Iterable[str] = (), namespace_kinds: Iterable[str] = (), family_kinds: Iterable[str] = ()) -> Scope:
    """A Scope from part names and kind sets."""
    return Scope(frozenset(parts) | {SELF}, frozenset(kinds), frozenset(namespace_kinds), frozenset(family_kinds))


def key_of(obj: Any) -> Key:
    """(kind, namespace, name) of a model object."""
    m = obj.metadata
    return (obj.kind, m.namespace, m.name)


def has_pod_affinity(obj: Any) -> bool:
    """A pod whose placement depends on pods on other nodes (or constrains theirs)."""
    if obj is None or obj.kind != "Pod":
        return False
    spec = obj.spec
    aff = spec.affinity
    return bool(spec.topology_spread_constraints) or (aff is not None and (aff.pod_affinity is not None or aff.pod_anti_affinity is not None))


def _node_of(obj: Any) -> str:
    if obj is not None and obj.kind == "Pod":
        return str(obj.spec.node_name or "")
    return ""


def build_state(objects: Iterable[Any], clock: int, env: Environment | None = None) -> ClusterState:
    """A ClusterState holding exactly `objects`, with its indexes, built directly."""
    by_kind: dict[str, dict[tuple[str, str], Any]] = {}
    uids: dict[str, ObjRef] = {}
    deps: dict[str, set[ObjRef]] = {}
    by_node: dict[str, set[tuple[str, str]]] = {}
    delta = []
    for o in objects:
        m = o.metadata
        nk = (m.namespace, m.name)
        kind = o.kind
        by_kind.setdefault(kind, {})[nk] = o
        ref = ObjRef(kind, m.namespace, m.name)
        if m.uid:
            uids[m.uid] = ref
        for r in m.owner_references:
            deps.setdefault(r.uid, set()).add(ref)
        if kind == "Pod" and o.spec.node_name:
            by_node.setdefault(o.spec.node_name, set()).add(nk)
        delta.append((None, o))
    return ClusterState(
        clock=clock,
        objects=FrozenDict({k: FrozenDict(v) for k, v in by_kind.items()}) if by_kind else EMPTY,
        uids=FrozenDict(uids) if uids else EMPTY,
        dependents=FrozenDict({k: frozenset(v) for k, v in deps.items()}) if deps else EMPTY,
        pods_by_node=FrozenDict({k: frozenset(v) for k, v in by_node.items()}) if by_node else EMPTY,
        env=env or Environment(),
        _object_fp=None,
        _delta=tuple(delta),
    )


@dataclass(slots=True)
class Change:
    """One object's change in a step: the versions before and after (None: absent)."""

    key: Key
    old: Any
    new: Any
    old_raw: dict[str, Any] | None = None
    new_raw: dict[str, Any] | None = None

    @property
    def created(self) -> bool:
        """A new object (or a new uid under the same name)."""
        return self.new is not None and (self.old is None or self.old.metadata.uid != self.new.metadata.uid)

    @property
    def removed(self) -> bool:
        """The object is gone after the step."""
        return self.new is None and self.old is not None

    @property
    def started_deletion(self) -> bool:
        """The step removed the object or set its deletionTimestamp (it had none before)."""
        if self.old is None or self.old.metadata.deletion_timestamp is not None:
            return False
        return self.new is None or self.new.metadata.uid != self.old.metadata.uid or self.new.metadata.deletion_timestamp is not None

    @property
    def kind(self) -> str:
        """The kind of the changed object."""
        return self.key[0]


class View:
    """The current objects, mutable, with the indexes a ClusterState keeps."""

    def __init__(self, history: int = 4096) -> None:
        self.objects: dict[str, dict[tuple[str, str], Any]] = {}
        self.uids: dict[str, Key] = {}
        self.dependents: dict[str, set[Key]] = {}
        self.pods_by_node: dict[str, set[tuple[str, str]]] = {}
        self.raw: dict[Key, dict[str, Any]] = {}
        self.rvs: dict[Key, int] = {}
        self.clock = 0
        self.env = Environment()
        self.kinds_seen: set[str] = set()
        # (sequence number, clock, key, version before, version after) of recent changes
        self.history: deque[tuple[int, int, Key, Any, Any]] = deque(maxlen=history)
        self.seq = 0
        self.affinity_pods: set[Key] = set()
        # node → the earliest timeAdded (or first sight) of the NoExecute taints it has
        # carried without interruption
        self.noexecute_since: dict[str, int] = {}

    # ---- reads -------------------------------------------------------------------
    def get(self, key: Key) -> Any:
        """The current object at `key`, or None."""
        m = self.objects.get(key[0])
        return None if m is None else m.get((key[1], key[2]))

    def by_uid(self, uid: str) -> Any:
        """The current object with `uid`, or None."""
        k = self.uids.get(uid)
        return None if k is None else self.get(k)

    def count(self) -> int:
        """Number of objects."""
        return sum(len(m) for m in self.objects.values())

    def all_objects(self) -> Iterator[Any]:
        """Every current object."""
        for m in self.objects.values():
            yield from m.values()

    # ---- writes ------------------------------------------------------------------
    def apply(self, change: Change, clock: int) -> None:
        """Replace the object at change.key by change.new (None removes it)."""
        kind, ns, name = change.key
        m = self.objects.setdefault(kind, {})
        old = m.get((ns, name))
        if change.new is None:
            m.pop((ns, name), None)
            self.raw.pop(change.key, None)
            self.rvs.pop(change.key, None)
        else:
            m[(ns, name)] = change.new
            self.kinds_seen.add(kind)
            if change.new_raw is not None:
                self.raw[change.key] = change.new_raw
            self.rvs[change.key] = change.new.metadata.resource_version
        self._reindex(change.key, old, change.new)
        if kind == "Node":
            self._track_noexecute(name, change.new, clock)
        self.seq += 1
        self.history.append((self.seq, clock, change.key, old, change.new))

    def _track_noexecute(self, node: str, obj: Any, clock: int) -> None:
        """Remember since when a node has had NoExecute taints without a break."""
        taints = [t for t in obj.spec.taints if t.effect == "NoExecute"] if obj is not None else []
        if not taints:
            self.noexecute_since.pop(node, None)
            return
        start = min((t.time_added if t.time_added is not None else clock) for t in taints)
        self.noexecute_since[node] = min(self.noexecute_since.get(node, start), start)

    def _reindex(self, key: Key, old: Any, new: Any) -> None:
        old_uid = old.metadata.uid if old is not None else ""
        new_uid = new.metadata.uid if new is not None else ""
        if old_uid != new_uid:
            if old_uid and self.uids.get(old_uid) == key:
                del self.uids[old_uid]
            if new_uid:
                self.uids[new_uid] = key
        old_owners = {r.uid for r in old.metadata.owner_references} if old is not None else set()
        new_owners = {r.uid for r in new.metadata.owner_references} if new is not None else set()
        for uid in old_owners - new_owners:
            s = self.dependents.get(uid)
            if s is not None:
                s.discard(key)
                if not s:
                    del self.dependents[uid]
        for uid in new_owners - old_owners:
            self.dependents.setdefault(uid, set()).add(key)
        if key[0] == "Pod":
            if has_pod_affinity(new):
                self.affinity_pods.add(key)
            else:
                self.affinity_pods.discard(key)
            a, b = _node_of(old), _node_of(new)
            if a != b:
                nk = (key[1], key[2])
                if a:
                    s2 = self.pods_by_node.get(a)
                    if s2 is not None:
                        s2.discard(nk)
                        if not s2:
                            del self.pods_by_node[a]
                if b:
                    self.pods_by_node.setdefault(b, set()).add(nk)

    # ---- scopes ------------------------------------------------------------------
    def _owner_keys(self, obj: Any, out: set[Key], depth: int = 0) -> None:
        if obj is None or depth > _MAX_DEPTH:
            return
        for r in obj.metadata.owner_references:
            k = self.uids.get(r.uid)
            if k is not None and k not in out:
                out.add(k)
                self._owner_keys(self.get(k), out, depth + 1)

    def _top_controller(self, obj: Any) -> Any:
        cur = obj
        for _ in range(_MAX_DEPTH):
            ref = cur.metadata.controller_ref()
            owner = self.by_uid(ref.uid) if ref is not None else None
            if owner is None:
                return cur
            cur = owner
        return cur

    def _family(self, root: Any, kinds: frozenset[str], out: set[Key]) -> None:
        """Add `root` and everything it owns, transitively (only `kinds`, if given)."""
        frontier = [root]
        depth = 0
        while frontier and depth <= _MAX_DEPTH:
            nxt = []
            for o in frontier:
                k = key_of(o)
                if k in out or (kinds and k[0] not in kinds and o is not root):
                    continue
                if not kinds or k[0] in kinds:
                    out.add(k)
                for dk in self.dependents.get(o.metadata.uid, ()):
                    if dk not in out and (not kinds or dk[0] in kinds):
                        d = self.get(dk)
                        if d is not None:
                            nxt.append(d)
            frontier = nxt
            depth += 1

    def scope_keys(self, sc: Scope, changes: list[Change]) -> set[Key] | None:
        """The keys of the objects (as they are now, before the step) that `sc` covers
        around `changes`; None for the whole cluster."""
        if sc.full:
            return None
        out: set[Key] = set()
        parts = sc.parts
        versions = [o for c in changes for o in (c.old, c.new) if o is not None]
        namespaces = {c.key[1] for c in changes}
        for c in changes:
            if self.get(c.key) is not None:
                out.add(c.key)
        if UID in parts:
            for o in versions:
                k = self.uids.get(o.metadata.uid)
                if k is not None:
                    out.add(k)
        if OWNERS in parts or FAMILY in parts:
            owners: set[Key] = set()
            for o in versions:
                self._owner_keys(o, owners)
            out |= owners
        if FAMILY in parts:
            roots = []
            for o in versions:
                ref = o.metadata.controller_ref()
                owner = self.by_uid(ref.uid) if ref is not None else None
                roots.append(self._top_controller(owner) if owner is not None else o)
            fam: set[Key] = set()
            for r in roots:
                self._family(r, sc.family_kinds, fam)
            out |= {k for k in fam if self.get(k) is not None}
        if DEPENDENTS in parts:
            for o in versions:
                out |= self.dependents.get(o.metadata.uid, set())
        if PLACEMENT in parts:
            if self.affinity_pods or any(has_pod_affinity(o) for o in versions):
                return None
            parts = parts | {NODE}
            for kind in _STORAGE:
                for ns, name in self.objects.get(kind, {}):
                    out.add((kind, ns, name))
        if NODE in parts:
            nodes = set()
            for o in versions:
                if o.kind == "Pod" and o.spec.node_name:
                    nodes.add(o.spec.node_name)
                elif o.kind == "Node":
                    nodes.add(o.metadata.name)
            for n in nodes:
                if self.get(("Node", "", n)) is not None:
                    out.add(("Node", "", n))
                for ns, name in self.pods_by_node.get(n, ()):
                    out.add(("Pod", ns, name))
        for kind in sc.kinds:
            for ns, name in self.objects.get(kind, {}):
                out.add((kind, ns, name))
        for kind in sc.namespace_kinds:
            for ns, name in self.objects.get(kind, {}):
                if ns in namespaces:
                    out.add((kind, ns, name))
        return out

    def objects_of_keys(self, keys: set[Key] | None) -> list[Any]:
        """The current objects at `keys` (every object if None)."""
        if keys is None:
            return list(self.all_objects())
        out = []
        for k in keys:
            o = self.get(k)
            if o is not None:
                out.append(o)
        return out

    def state_of_keys(self, keys: set[Key] | None, clock: int) -> ClusterState:
        """A ClusterState of the current objects at `keys` (every object if None)."""
        if keys is None:
            return build_state(self.all_objects(), clock, self.env)
        objs = []
        for k in keys:
            o = self.get(k)
            if o is not None:
                objs.append(o)
        return build_state(objs, clock, self.env)
