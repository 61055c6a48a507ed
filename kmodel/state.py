"""The immutable cluster state and the transaction that builds the next one.

A ClusterState holds every API object (by kind, then namespace/name), indexes kept
up to date on every write (objects by uid, dependents by owner uid, pods by node),
the private memory of actors (what a controller remembers between syncs and cannot
read back from the API), facts about the environment (which kubelets are down),
requests issued but not yet applied, and the model clock. A Tx copies only what a
step changes and keeps the fingerprint up to date incrementally.
"""

from __future__ import annotations

import builtins
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any

from kmodel.fingerprint import MASK, object_hash, stable_hash
from kmodel.frozen import EMPTY, FrozenDict
from kmodel.objects.meta import ObjRef
from kmodel.objects.node import Node
from kmodel.objects.pod import Pod

NsName = tuple[str, str]
_EMPTY_SET: frozenset[Any] = frozenset()


@dataclass(frozen=True, slots=True)
class Environment:
    """Facts about the world outside the API: dead kubelets, removed nodes, faults used."""

    down_nodes: FrozenDict[str, int] = EMPTY  # node → model time its kubelet stopped
    removed_nodes: FrozenDict[str, int] = EMPTY  # node → model time the Node object was removed
    faults: int = 0  # node failures and removals so far (bounded by the scope)
    exits: int = 0  # container exits so far (bounded by the scope)
    script_pos: int = 0  # how many of the scope's scripted user actions have happened


@dataclass(frozen=True, slots=True)
class InFlight:
    """A request a controller issued that the API server has not applied yet."""

    actor: str
    key: tuple[str, ...]
    issued_at: int
    request: Any
    # the first request of its sync: a sync's requests run from its opener to the next one
    opens_sync: bool = False
    # the state's next uid when the request was issued: objects with a uid from this one
    # on were created after the decision (invariants judging a delivery use it)
    issued_uid: int = 0


@dataclass(frozen=True, slots=True, eq=False)
class ClusterState:
    """An immutable snapshot of the whole cluster at one model time."""

    clock: int = 0
    objects: FrozenDict[str, FrozenDict[NsName, Any]] = EMPTY
    uids: FrozenDict[str, ObjRef] = EMPTY
    dependents: FrozenDict[str, frozenset[ObjRef]] = EMPTY
    pods_by_node: FrozenDict[str, frozenset[NsName]] = EMPTY
    memory: FrozenDict[str, Any] = EMPTY
    env: Environment = Environment()
    inflight: tuple[InFlight, ...] = ()
    next_uid: int = 1
    next_rv: int = 1
    # The fingerprint is computed lazily: until then a state knows its parent and the
    # objects the step replaced, and adds their hashes to the parent's on first use.
    _object_fp: int | None = field(default=0, repr=False)
    _fingerprint: int | None = field(default=None, repr=False)
    _parent: ClusterState | None = field(default=None, repr=False)
    _delta: tuple[tuple[Any, Any], ...] = field(default=(), repr=False)

    @property
    def object_fp(self) -> int:
        """Sum of the stable hashes of every object (mod 2^64)."""
        fp = self._object_fp
        if fp is None:
            # walk up to the nearest ancestor that knows its object fingerprint
            chain: list[ClusterState] = []
            node: ClusterState | None = self
            while node is not None and node._object_fp is None:
                chain.append(node)
                node = node._parent
            fp = node._object_fp if node is not None else 0
            assert fp is not None
            for st in reversed(chain):
                for old, new in st._delta:
                    if old is not None:
                        fp -= object_hash(old)
                    if new is not None:
                        fp += object_hash(new)
                fp &= MASK
                object.__setattr__(st, "_object_fp", fp)
                object.__setattr__(st, "_parent", None)
                object.__setattr__(st, "_delta", ())
        return fp

    @property
    def fingerprint(self) -> int:
        """A stable 64-bit digest of the state's meaning (see __eq__)."""
        fp = self._fingerprint
        if fp is None:
            fp = (self.object_fp + _aux_hash(self.clock, self.memory, self.env, self.inflight)) & MASK
            object.__setattr__(self, "_fingerprint", fp)
        return fp

    # ---- reads -------------------------------------------------------------------
    def get(self, kind: str, namespace: str, name: str) -> Any:
        """The object of `kind` named namespace/name, or None."""
        m = self.objects.get(kind)
        return None if m is None else m.get((namespace, name))

    def get_ref(self, ref: ObjRef) -> Any:
        """The object identified by `ref`, or None."""
        return self.get(ref.kind, ref.namespace, ref.name)

    def by_uid(self, uid: str) -> Any:
        """The live object with `uid`, or None."""
        ref = self.uids.get(uid)
        return None if ref is None else self.get_ref(ref)

    def list(self, kind: str, namespace: str | None = None) -> builtins.list[Any]:
        """Objects of `kind` (optionally in one namespace), sorted by namespace and name."""
        m = self.objects.get(kind)
        if not m:
            return []
        keys = sorted(m) if namespace is None else sorted(k for k in m if k[0] == namespace)
        return [m[k] for k in keys]

    def count(self, kind: str) -> int:
        """Number of objects of `kind`."""
        m = self.objects.get(kind)
        return len(m) if m else 0

    def kinds(self) -> builtins.list[str]:
        """Kinds with at least one object, sorted."""
        return sorted(k for k, m in self.objects.items() if m)

    def all_objects(self) -> Iterator[Any]:
        """Every object, ordered by kind, namespace and name."""
        for kind in self.kinds():
            yield from self.list(kind)

    def nodes(self) -> builtins.list[Node]:
        """All nodes, sorted by name."""
        return self.list("Node")

    def pods(self, namespace: str | None = None) -> builtins.list[Pod]:
        """All pods (optionally of one namespace), sorted."""
        return self.list("Pod", namespace)

    def pods_on(self, node: str) -> builtins.list[Pod]:
        """Pods whose spec.nodeName is `node`, sorted."""
        names = self.pods_by_node.get(node, _EMPTY_SET)
        m = self.objects.get("Pod", EMPTY)
        return [m[k] for k in sorted(names)]

    def dependents_of(self, uid: str, kind: str | None = None) -> builtins.list[Any]:
        """Objects with an ownerReference to `uid` (optionally of one kind), sorted."""
        refs = self.dependents.get(uid, _EMPTY_SET)
        return [self.get_ref(r) for r in sorted(refs) if kind is None or r.kind == kind]

    def controlled_by(self, uid: str, kind: str | None = None) -> builtins.list[Any]:
        """Objects whose controller ownerReference points at `uid`."""
        out = []
        for o in self.dependents_of(uid, kind):
            c = o.metadata.controller_ref()
            if c is not None and c.uid == uid:
                out.append(o)
        return out

    def recall(self, actor: str, default: Any = None) -> Any:
        """An actor's private memory."""
        return self.memory.get(actor, default)

    # ---- identity ----------------------------------------------------------------
    def __hash__(self) -> int:
        return self.fingerprint

    def __eq__(self, other: object) -> bool:
        """Two states are equal when their fingerprints are: same objects (resourceVersion
        aside), clock, actor memory, environment and requests in flight. The uid and
        resourceVersion counters are not part of a state's meaning."""
        if not isinstance(other, ClusterState):
            return NotImplemented
        return self is other or self.fingerprint == other.fingerprint

    def edit(self) -> Tx:
        """Start a transaction that produces the next state."""
        return Tx(self)


def _aux_hash(clock: int, memory: FrozenDict[str, Any], env: Environment, inflight: tuple[InFlight, ...]) -> int:
    return stable_hash((clock, memory, env, inflight))


def empty_state(clock: int = 0) -> ClusterState:
    """A cluster with no objects at time `clock`."""
    return ClusterState(clock=clock)


class Tx:
    """A copy-on-write builder of the next ClusterState.

    Reads see the transaction's own writes. Indexes and the object fingerprint are
    updated with each put/remove, so committing costs only what changed.
    """

    def __init__(self, base: ClusterState) -> None:
        self.base = base
        self.clock = base.clock
        self._objects: dict[str, dict[NsName, Any]] | None = None
        self._copied_kinds: set[str] = set()
        self._uids: dict[str, ObjRef] | None = None
        self._dependents: dict[str, frozenset[ObjRef]] | None = None
        self._pods_by_node: dict[str, frozenset[NsName]] | None = None
        self._memory: dict[str, Any] | None = None
        self.env = base.env
        self.inflight = base.inflight
        self.next_uid = base.next_uid
        self.next_rv = base.next_rv
        self._delta: list[tuple[Any, Any]] = []
        self.changed = False

    # ---- reads -------------------------------------------------------------------
    def get(self, kind: str, namespace: str, name: str) -> Any:
        """The object as of this transaction."""
        if self._objects is None:
            return self.base.get(kind, namespace, name)
        m = self._objects.get(kind)
        return None if m is None else m.get((namespace, name))

    def get_ref(self, ref: ObjRef) -> Any:
        """The object identified by `ref` as of this transaction."""
        return self.get(ref.kind, ref.namespace, ref.name)

    def by_uid(self, uid: str) -> Any:
        """The live object with `uid` as of this transaction."""
        uids = self._uids if self._uids is not None else self.base.uids
        ref = uids.get(uid)
        return None if ref is None else self.get_ref(ref)

    def list(self, kind: str, namespace: str | None = None) -> builtins.list[Any]:
        """Objects of `kind` as of this transaction, sorted."""
        if self._objects is None:
            return self.base.list(kind, namespace)
        m = self._objects.get(kind)
        if not m:
            return []
        keys = sorted(m) if namespace is None else sorted(k for k in m if k[0] == namespace)
        return [m[k] for k in keys]

    def dependents_of(self, uid: str) -> builtins.list[Any]:
        """Objects with an ownerReference to `uid` as of this transaction."""
        deps = self._dependents if self._dependents is not None else self.base.dependents
        return [self.get_ref(r) for r in sorted(deps.get(uid, _EMPTY_SET))]

    def pods_on(self, node: str) -> builtins.list[Pod]:
        """Pods bound to `node` as of this transaction."""
        idx = self._pods_by_node if self._pods_by_node is not None else self.base.pods_by_node
        return [self.get("Pod", ns, n) for ns, n in sorted(idx.get(node, _EMPTY_SET))]

    def recall(self, actor: str, default: Any = None) -> Any:
        """An actor's memory as of this transaction."""
        mem = self._memory if self._memory is not None else self.base.memory
        return mem.get(actor, default)

    # ---- writes ------------------------------------------------------------------
    def _kind_map(self, kind: str) -> dict[NsName, Any]:
        if self._objects is None:
            self._objects = dict(self.base.objects)
        if kind not in self._copied_kinds:
            self._objects[kind] = dict(self._objects.get(kind, EMPTY))
            self._copied_kinds.add(kind)
        return self._objects[kind]

    def _indexes(self) -> tuple[dict[str, ObjRef], dict[str, frozenset[ObjRef]], dict[str, frozenset[NsName]]]:
        if self._uids is None:
            self._uids = dict(self.base.uids)
            self._dependents = dict(self.base.dependents)
            self._pods_by_node = dict(self.base.pods_by_node)
        assert self._dependents is not None and self._pods_by_node is not None
        return self._uids, self._dependents, self._pods_by_node

    def put(self, obj: Any) -> None:
        """Insert or replace an object, keeping indexes and fingerprint current."""
        meta = obj.metadata
        key = (meta.namespace, meta.name)
        m = self._kind_map(obj.kind)
        old = m.get(key)
        if old is obj:
            return
        m[key] = obj
        self.changed = True
        self._reindex(old, obj)
        self._delta.append((old, obj))

    def remove(self, ref: ObjRef) -> Any:
        """Remove an object from the API (no-op if absent); returns the removed object."""
        m = self._kind_map(ref.kind)
        old = m.pop((ref.namespace, ref.name), None)
        if old is None:
            return None
        self.changed = True
        self._reindex(old, None)
        self._delta.append((old, None))
        return old

    def _reindex(self, old: Any, new: Any) -> None:
        uids, deps, by_node = self._indexes()
        ref = (new or old).ref
        old_uid = old.metadata.uid if old is not None else ""
        new_uid = new.metadata.uid if new is not None else ""
        if old_uid != new_uid:
            if old_uid and uids.get(old_uid) == ref:
                del uids[old_uid]
            if new_uid:
                uids[new_uid] = ref
        old_owners = {r.uid for r in old.metadata.owner_references} if old is not None else set()
        new_owners = {r.uid for r in new.metadata.owner_references} if new is not None else set()
        for uid in old_owners - new_owners:
            rest = deps.get(uid, _EMPTY_SET) - {ref}
            if rest:
                deps[uid] = rest
            else:
                deps.pop(uid, None)
        for uid in new_owners - old_owners:
            deps[uid] = deps.get(uid, _EMPTY_SET) | {ref}
        if ref.kind == "Pod":
            old_node = old.spec.node_name if old is not None else ""
            new_node = new.spec.node_name if new is not None else ""
            if old_node != new_node:
                key = (ref.namespace, ref.name)
                if old_node:
                    rest_n = by_node.get(old_node, _EMPTY_SET) - {key}
                    if rest_n:
                        by_node[old_node] = rest_n
                    else:
                        by_node.pop(old_node, None)
                if new_node:
                    by_node[new_node] = by_node.get(new_node, _EMPTY_SET) | {key}

    def remember(self, actor: str, value: Any) -> None:
        """Replace an actor's private memory (None forgets it)."""
        if self._memory is None:
            self._memory = dict(self.base.memory)
        if value is None:
            if actor in self._memory:
                del self._memory[actor]
                self.changed = True
            return
        if self._memory.get(actor) != value:
            self._memory[actor] = value
            self.changed = True

    def set_env(self, env: Environment) -> None:
        """Replace the environment facts."""
        if env != self.env:
            self.env = env
            self.changed = True

    def set_clock(self, clock: int) -> None:
        """Move the model clock."""
        if clock != self.clock:
            self.clock = clock
            self.changed = True

    def set_inflight(self, inflight: tuple[InFlight, ...]) -> None:
        """Replace the queue of requests in flight."""
        if inflight != self.inflight:
            self.inflight = inflight
            self.changed = True

    def take_uid(self) -> int:
        """Allocate a fresh uid counter value."""
        n = self.next_uid
        self.next_uid += 1
        return n

    def take_rv(self) -> int:
        """Allocate the next resourceVersion."""
        n = self.next_rv
        self.next_rv += 1
        return n

    def commit(self) -> ClusterState:
        """Freeze the transaction into the next ClusterState (the base itself if nothing changed)."""
        b = self.base
        if not self.changed:
            return b
        objects: FrozenDict[str, FrozenDict[NsName, Any]]
        if self._objects is not None:
            objects = FrozenDict({k: (FrozenDict(v) if k in self._copied_kinds else v) for k, v in self._objects.items() if v})
        else:
            objects = b.objects
        memory = FrozenDict(self._memory) if self._memory is not None else b.memory
        uids: FrozenDict[str, ObjRef]
        deps: FrozenDict[str, frozenset[ObjRef]]
        by_node: FrozenDict[str, frozenset[NsName]]
        if self._uids is not None:
            assert self._dependents is not None and self._pods_by_node is not None
            uids, deps, by_node = FrozenDict(self._uids), FrozenDict(self._dependents), FrozenDict(self._pods_by_node)
        else:
            uids, deps, by_node = b.uids, b.dependents, b.pods_by_node
        return ClusterState(
            clock=self.clock,
            objects=objects,
            uids=uids,
            dependents=deps,
            pods_by_node=by_node,
            memory=memory,
            env=self.env,
            inflight=self.inflight,
            next_uid=self.next_uid,
            next_rv=self.next_rv,
            _object_fp=None if self._delta else b._object_fp,
            _parent=b if self._delta or b._object_fp is None else None,
            _delta=tuple(self._delta),
        )


def state_of(objects: Iterable[Any], clock: int = 0) -> ClusterState:
    """A state holding `objects` exactly as given (no API-server processing)."""
    tx = empty_state(clock).edit()
    for o in objects:
        tx.put(o)
    return tx.commit()
