"""The exhaustive small-scope explorer (`kmodel explore --exhaustive`).

Breadth-first over every interleaving of system actions (controllers, scheduler,
kubelet, GC), deliveries, scripted user actions, faults and clock advances that the
scope allows, within bounds on depth and states. States are deduplicated by their
stable fingerprint — or, with symmetry reduction, by the fingerprint of a canonical
representative (kmodel.symmetry). Visited states are kept only as fingerprints with a
parent pointer, so memory holds one BFS level of full states; the shortest path to any
state is rebuilt by replaying the actions from the initial state.

Always-invariants are checked on every new state, transition-invariants on every edge,
quiescence-invariants on every fixpoint. With the state graph (networkx), terminal
strongly connected components that contain a cycle but no quiescent state are reported
as livelocks (controllers fighting forever), and fixpoints that violate a quiescence
invariant while another reachable fixpoint satisfies it as deadlocks.

Work is spread over processes through an `Executor`: the coordinator owns the visited
set; workers expand a chunk of the frontier and check invariants. A distributed engine
can implement the same interface.
"""

from __future__ import annotations

import multiprocessing
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

import networkx as nx

from invariants.registry import Invariant, Violation
from kmodel.actions import Action
from kmodel.checking import Checker, CheckStats
from kmodel.model import Model
from kmodel.state import ClusterState
from kmodel.symmetry import SymmetryInfo, canonical_fingerprint


@dataclass(frozen=True)
class Bounds:
    """Limits of an exhaustive exploration (the scope's own bounds live in Model.scope)."""

    max_depth: int | None = None
    max_states: int | None = 100_000
    stop_at_first_violation: bool = True
    max_seconds: float | None = None  # wall-time budget, checked between batches of a level


@dataclass
class Edge:
    """One explored transition, as a worker reports it.

    `child` is None when the same worker has already reported a state with this key: the
    coordinator has seen that report first (results come back in frontier order), so it
    never needs the state again — worker processes send each state back once."""

    action: Action
    child: ClusterState | None
    key: int
    violations: list[Violation]
    fingerprint: int = 0  # the child's own (not canonical) fingerprint


@dataclass
class Expansion:
    """A state's successors with the invariant results for them."""

    key: int
    edges: list[Edge]
    quiescent: bool
    quiescent_violations: list[Violation]
    stats: CheckStats


@dataclass
class Livelock:
    """A terminal strongly connected component with a cycle and no quiescent state."""

    states: int
    cycle: list[str]
    path_to_cycle: list[Action]


@dataclass
class Finding:
    """A violation with the shortest path that reaches it."""

    violations: list[Violation]
    path: list[Action]
    kind: str = "violation"  # "violation", "deadlock"


@dataclass
class ExhaustiveResult:
    """Counts and findings of an exhaustive exploration."""

    distinct_states: int = 0
    transitions: int = 0
    depth: int = 0
    complete: bool = False
    stopped: str = ""
    findings: list[Finding] = field(default_factory=list)
    livelocks: list[Livelock] = field(default_factory=list)
    quiescent_states: int = 0
    symmetry: bool = True
    merged_by_symmetry: int = 0
    seconds: float = 0.0
    workers: int = 1
    stats: CheckStats = field(default_factory=CheckStats)
    graph: nx.DiGraph | None = None

    @property
    def states_per_second(self) -> float:
        """Distinct states per second of wall time."""
        return self.distinct_states / self.seconds if self.seconds > 0 else 0.0


_CANONICAL_CACHE = 1 << 18
_BATCH = 256  # frontier states expanded between two checks of the time budget (per worker)


class _Expander:
    """Expands states: successors, canonical keys, invariant checks (runs in workers too)."""

    def __init__(
        self,
        model: Model,
        invariants: Sequence[Invariant],
        symmetry: SymmetryInfo | None,
        at_fixpoint: Callable[[ClusterState], list[Violation]] | None = None,
    ) -> None:
        self.model = model
        self.checker = Checker(invariants)
        self.symmetry = symmetry
        self.at_fixpoint = at_fixpoint
        # fingerprint → canonical fingerprint: a state reached along several edges, and a
        # frontier state expanded after being found as a child, is canonicalised once
        self._canonical: dict[int, int] = {}
        # fingerprint → violations of the always-invariants: equal fingerprints are equal
        # states, so a state reached along several edges is checked once
        self._always: dict[int, list[Violation]] = {}

    def key(self, state: ClusterState) -> int:
        """The dedup key: canonical fingerprint with symmetry, plain fingerprint without."""
        if self.symmetry is None:
            return state.fingerprint
        fp = state.fingerprint
        key = self._canonical.get(fp)
        if key is None:
            if len(self._canonical) >= _CANONICAL_CACHE:
                self._canonical.clear()
            key = self._canonical[fp] = canonical_fingerprint(state, self.symmetry)
        return key

    def always(self, state: ClusterState) -> list[Violation]:
        """The always-invariants' violations on `state`, checked once per distinct state."""
        fp = state.fingerprint
        found = self._always.get(fp)
        if found is None:
            if len(self._always) >= _CANONICAL_CACHE:
                self._always.clear()
            found = self._always[fp] = self.checker.state(state)
        return found

    def expand(self, state: ClusterState, sent: set[int] | None = None) -> Expansion:
        """Every successor of `state` with its invariant results. With `sent` (the keys
        this worker has reported a child state for), a child is reported once."""
        self.checker.stats = CheckStats()
        edges = []
        for action, child in self.model.successors(state):
            found = self.checker.edge(state, action, child)
            found.extend(self.always(child))
            key = self.key(child)
            if sent is None:
                edges.append(Edge(action, child, key, found, child.fingerprint))
            elif key in sent:
                edges.append(Edge(action, None, key, found, child.fingerprint))
            else:
                sent.add(key)
                edges.append(Edge(action, child, key, found, child.fingerprint))
        quiescent = self.model.is_quiescent(state)
        qv = self.checker.at_quiescence(state) if quiescent else []
        if quiescent and self.at_fixpoint is not None:
            qv = qv + self.at_fixpoint(state)
        return Expansion(self.key(state), edges, quiescent, qv, self.checker.stats)


class Executor(Protocol):
    """Expands a batch of frontier states; serial, process pool, or distributed."""

    workers: int

    def expand_all(self, states: list[ClusterState]) -> list[Expansion]:
        """Expansions of `states`, in order."""
        ...

    def close(self) -> None:
        """Release resources."""
        ...


class SerialExecutor:
    """Expands in the calling process."""

    workers = 1

    def __init__(self, expander: _Expander) -> None:
        self.expander = expander

    def expand_all(self, states: list[ClusterState]) -> list[Expansion]:  # noqa: D102
        return [self.expander.expand(s) for s in states]

    def close(self) -> None:  # noqa: D102
        pass


_WORKER: _Expander | None = None
_SENT: set[int] = set()  # keys this worker process has sent a child state for


def _init_worker(model: Model, invariants: Sequence[Invariant], symmetry: SymmetryInfo | None, at_fixpoint: Any) -> None:
    global _WORKER
    _WORKER = _Expander(model, invariants, symmetry, at_fixpoint)
    _SENT.clear()


def _expand_chunk(states: list[ClusterState]) -> list[Expansion]:
    assert _WORKER is not None
    return [_WORKER.expand(s, _SENT) for s in states]


class ProcessExecutor:
    """Expands chunks of the frontier in a pool of worker processes."""

    def __init__(self, model: Model, invariants: Sequence[Invariant], symmetry: SymmetryInfo | None, workers: int, at_fixpoint: Any = None) -> None:
        self.workers = workers
        ctx = multiprocessing.get_context("fork") if "fork" in multiprocessing.get_all_start_methods() else multiprocessing.get_context()
        self.pool = ctx.Pool(workers, initializer=_init_worker, initargs=(model, list(invariants), symmetry, at_fixpoint))

    def expand_all(self, states: list[ClusterState]) -> list[Expansion]:  # noqa: D102
        if len(states) < 2 * self.workers:
            return _SerialFallback.expand(self, states)
        size = max(1, len(states) // (self.workers * 4))
        chunks = [states[i : i + size] for i in range(0, len(states), size)]
        out: list[Expansion] = []
        for part in self.pool.map(_expand_chunk, chunks):
            out.extend(part)
        return out

    def close(self) -> None:  # noqa: D102
        self.pool.close()
        self.pool.join()


class _SerialFallback:
    """Small frontiers are cheaper to expand in the pool's first worker than to scatter."""

    @staticmethod
    def expand(ex: ProcessExecutor, states: list[ClusterState]) -> list[Expansion]:
        if not states:
            return []
        return ex.pool.apply(_expand_chunk, (states,))


def explore_exhaustive(
    model: Model,
    initial: ClusterState,
    invariants: Sequence[Invariant],
    bounds: Bounds | None = None,
    *,
    symmetry: bool = True,
    workers: int = 1,
    graph: bool = True,
    progress: Callable[[int, int, int], None] | None = None,
    on_state: Callable[[ClusterState], None] | None = None,
    at_fixpoint: Callable[[ClusterState], list[Violation]] | None = None,
) -> ExhaustiveResult:
    """Breadth-first exploration of every interleaving from `initial` (see module docstring).

    `at_fixpoint` adds checks at every fixpoint (e.g. a differential comparison)."""
    bounds = bounds or Bounds()
    sym = SymmetryInfo.for_exploration(initial, model.scope) if symmetry else None
    expander = _Expander(model, invariants, sym, at_fixpoint)
    executor: Executor = ProcessExecutor(model, invariants, sym, workers, at_fixpoint) if workers > 1 else SerialExecutor(expander)
    result = ExhaustiveResult(symmetry=symmetry, workers=workers)
    g: nx.DiGraph | None = nx.DiGraph() if graph else None
    started = time.monotonic()
    root = expander.key(initial)
    parents: dict[int, tuple[int, Action] | None] = {root: None}
    raw_seen: set[int] = {initial.fingerprint} if symmetry else set()
    quiescent_keys: set[int] = set()
    good_fixpoint = False
    bad_fixpoints: list[tuple[int, list[Violation]]] = []
    first = expander.checker.state(initial)
    result.stats.merge(expander.checker.stats)
    if first:
        result.findings.append(Finding(first, []))
    frontier = [initial]
    if on_state is not None:
        on_state(initial)
    depth = 0
    stop = False  # a bound or the first violation ends the search

    def out_of_time() -> bool:
        return bounds.max_seconds is not None and time.monotonic() - started >= bounds.max_seconds

    try:
        while frontier and not (result.findings and bounds.stop_at_first_violation):
            if bounds.max_depth is not None and depth >= bounds.max_depth:
                result.stopped = f"depth bound {bounds.max_depth} reached"
                stop = True
                break
            next_frontier: list[ClusterState] = []
            batch = _BATCH * executor.workers
            for start in range(0, len(frontier), batch):
                if start and out_of_time():
                    result.stopped = f"time bound {bounds.max_seconds:g} s reached"
                    stop = True
                    break
                for exp in executor.expand_all(frontier[start : start + batch]):
                    result.stats.merge(exp.stats)
                    if exp.quiescent:
                        quiescent_keys.add(exp.key)
                        if exp.quiescent_violations:
                            bad_fixpoints.append((exp.key, exp.quiescent_violations))
                        else:
                            good_fixpoint = True
                    if g is not None:
                        g.add_node(exp.key)
                    for e in exp.edges:
                        result.transitions += 1
                        if g is not None:
                            g.add_edge(exp.key, e.key, action=e.action)
                        if e.key not in parents:
                            if e.child is None:  # pragma: no cover - a broken executor
                                raise RuntimeError("a worker omitted a state the coordinator has not seen")
                            parents[e.key] = (exp.key, e.action)
                            next_frontier.append(e.child)
                            if on_state is not None:
                                on_state(e.child)
                            if symmetry:
                                raw_seen.add(e.fingerprint)
                        elif symmetry and e.fingerprint not in raw_seen:
                            result.merged_by_symmetry += 1
                            raw_seen.add(e.fingerprint)
                        if e.violations and not any(f.violations == e.violations for f in result.findings):
                            result.findings.append(Finding(e.violations, _path(parents, exp.key) + [e.action]))
                            if bounds.stop_at_first_violation:
                                break
                    if result.findings and bounds.stop_at_first_violation:
                        break
                if result.findings and bounds.stop_at_first_violation:
                    break
            frontier = next_frontier
            if frontier:
                depth += 1
            result.distinct_states = len(parents)
            if progress is not None:
                progress(depth, result.distinct_states, result.transitions)
            if stop:
                break
            if bounds.max_states is not None and len(parents) >= bounds.max_states and frontier:
                result.stopped = f"state bound {bounds.max_states} reached"
                stop = True
                break
            if frontier and out_of_time():
                result.stopped = f"time bound {bounds.max_seconds:g} s reached"
                stop = True
                break
        if not frontier and not stop:
            result.complete = True
    finally:
        executor.close()
    result.depth = depth
    result.distinct_states = len(parents)
    result.quiescent_states = len(quiescent_keys)
    result.seconds = time.monotonic() - started
    for key, viols in bad_fixpoints:
        if good_fixpoint:
            result.findings.append(Finding(viols, _path(parents, key), kind="deadlock"))
        elif not any(f.violations == viols for f in result.findings):
            result.findings.append(Finding(viols, _path(parents, key)))
    if g is not None and result.complete:
        result.livelocks = find_livelocks(g, quiescent_keys, parents)
    result.graph = g
    return result


def _path(parents: dict[int, tuple[int, Action] | None], key: int) -> list[Action]:
    out: list[Action] = []
    cur = parents.get(key)
    while cur is not None:
        parent, action = cur
        out.append(action)
        cur = parents.get(parent)
    out.reverse()
    return out


def find_livelocks(g: nx.DiGraph, quiescent: set[int], parents: dict[int, tuple[int, Action] | None]) -> list[Livelock]:
    """Terminal SCCs that contain a cycle but no quiescent state, each with one cycle."""
    out: list[Livelock] = []
    condensed = nx.condensation(g)
    members = nx.get_node_attributes(condensed, "members")
    for comp in condensed.nodes:
        if condensed.out_degree(comp) != 0:
            continue
        states = members[comp]
        has_cycle = len(states) > 1 or any(g.has_edge(s, s) for s in states)
        if not has_cycle or states & quiescent:
            continue
        sub = g.subgraph(states)
        cycle_edges = nx.find_cycle(sub)
        cycle = [g.edges[u, v]["action"].describe() for u, v, *_ in cycle_edges]
        entry = min(states, key=lambda s: len(_path(parents, s)))
        out.append(Livelock(len(states), cycle, _path(parents, entry)))
    return out


def replay(model: Model, initial: ClusterState, path: Iterable[Action]) -> list[ClusterState]:
    """The states along `path` from `initial` (for rendering counterexamples)."""
    states = [initial]
    for a in path:
        states.append(model.step(states[-1], a))
    return states


def scope_summary(model: Model) -> dict[str, Any]:
    """The exploration scope as plain data for reports."""
    s = model.scope
    return {
        "script": [a.describe() for a in s.script],
        "faults": list(s.faults),
        "max faults": s.max_faults,
        "max container exits": s.max_exits,
        "horizon (s)": s.horizon,
    }
