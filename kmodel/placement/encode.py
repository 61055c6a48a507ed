"""The Z3 encoding of placement: one integer x[g, n] per (group, node) — how many pods of
group g go to node n — and linear constraints over them.

* demand: Σ_n x[g, n] = count(g);
* NodeResourcesFit: for every node and resource, Σ_g request(g, r) · x[g, n] ≤ free(n, r),
  and Σ_g x[g, n] ≤ free pod slots (pods already placed use their share);
* required pod anti-affinity between new pods: in every topology domain of the term's key,
  a group whose term selects its own pods has at most one pod, and two groups of which
  one selects the other are never both present;
* PodTopologySpread (DoNotSchedule): for every domain D that receives a pod of g,
  count(D) − min over eligible domains ≤ maxSkew, where count(D) is the matching pods on
  D's eligible nodes (placed ones plus new ones of every group the selector matches),
  and the minimum is 0 when there are fewer eligible domains than minDomains;
* required pod affinity: every node that receives a pod of g lies, for every term, in a
  domain holding a matching pod (placed, or new of another matching group), except one
  "seed" domain per term when no placed pod matches and g matches its own terms
  (the first pod of a group);
* everything a filter decides without looking at the new pods (`kmodel.placement.facts`)
  removes the variable (or, when explaining, pins it to 0 under a named assumption).

The final-state reading of spread and affinity is exact for one pod; for several new
groups it checks the final configuration (see `kmodel/placement/__init__.py`).

Solving. Z3's linear integer arithmetic has no primal heuristics: on a loose 1,000-pod
problem the joint search can branch for minutes on fractional counts. Three things keep
it fast: every variable is bounded by what its node has room for alone (a valid cut that
keeps the relaxation tight); the plain SMT core is used (the QF_LIA tactic portfolio
stalled even on single-group problems); and larger problems are first searched group by
group (`staged_placement`), the result then checked by Z3 against the full encoding with
every variable fixed. If that search gets stuck, the joint problem gets the time left —
so a placement found either way satisfies the full encoding, and unsat always comes
from the joint search.

Every constraint carries a `Reason` so that, when explaining, it is asserted under an
assumption literal and an unsat core names the constraints that conflict. A solver that
gives up (time-out, resource limit) yields status "unknown", never "sat" or "unsat".
"""

from __future__ import annotations

import functools
import math
import time
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace

import z3

from kmodel.objects.selectors import TopologySpreadConstraint
from kmodel.placement.facts import (
    Facts,
    NodeFacts,
    Reason,
    affinity_terms,
    amount,
    analyse,
    anti_terms,
    hard_spread,
    one_group_facts,
    self_match,
    spread_selects,
    term_selects,
)
from kmodel.placement.problem import PlacedPod, Problem
from kmodel.scheduler import node_affinity_matches

SAT, UNSAT, UNKNOWN = "sat", "unsat", "unknown"
DEMAND = "demand"
DEFAULT_TIMEOUT_MS = 30_000
STAGED_FROM = 150  # variables above which the group-by-group search is tried first
STAGE_SECONDS = 5.0  # time limit of one attempt of the group-by-group search


@dataclass(frozen=True)
class SolverLimits:
    """How long Z3 may try: wall-clock milliseconds and (optionally) Z3's deterministic
    resource limit (rlimit). Running out of either gives status "unknown"."""

    timeout_ms: int = DEFAULT_TIMEOUT_MS
    rlimit: int | None = None


@dataclass
class Outcome:
    """What the solver decided.

    `placement` (when sat) maps group name → node → number of pods; `core` (when unsat
    and explaining) lists the named constraints of an unsat core; `unknown` says why
    the solver gave up.
    """

    status: str
    placement: dict[str, dict[str, int]] | None = None
    core: list[Reason] = field(default_factory=list)
    unknown: str = ""
    build_seconds: float = 0.0
    solve_seconds: float = 0.0
    variables: int = 0
    constraints: int = 0
    strategy: str = ""

    @property
    def feasible(self) -> bool:
        """Sat: a placement exists (a witness is in `placement`)."""
        return self.status == SAT

    def reasons(self) -> list[Reason]:
        """The core without the demand constraints (what rules the pods out)."""
        return [r for r in self.core if r.plugin != DEMAND]


class Encoder:
    """Builds the constraints of one problem into a Z3 solver.

    `track`: assert every named constraint under an assumption literal (for unsat cores)
    and keep a variable for statically ruled-out pairs, pinned to 0 by their reasons.
    `scope`: the only nodes that may receive new pods (the others still count as
    topology domains). `force`: (group, node) → exact number of pods there.
    """

    def __init__(
        self,
        problem: Problem,
        *,
        track: bool = False,
        scope: Iterable[str] | None = None,
        force: Mapping[tuple[int, int], int] | None = None,
        facts: Facts | None = None,
    ) -> None:
        self.problem = problem
        self.facts = facts if facts is not None else analyse(problem)
        self.track = track
        index = problem.node_index()
        self.scope = set(range(len(problem.nodes))) if scope is None else {index[n] for n in scope if n in index}
        self.force = dict(force or {})
        self.solver = _new_solver(len(problem.groups) * len(self.scope))
        self.literals: list[z3.BoolRef] = []
        self.reasons: list[Reason] = []
        self.x: dict[tuple[int, int], z3.ArithRef] = {}
        self.by_node: dict[int, list[int]] = {}
        self.constraints = 0
        self.single = len(problem.groups) == 1 and problem.groups[0].count == 1

    # ---- plumbing ---------------------------------------------------------------------------
    def add(self, constraint: z3.BoolRef, reason: Reason | None) -> None:
        """Assert `constraint`, under a fresh assumption literal named by `reason` when tracking."""
        self.constraints += 1
        if self.track and reason is not None:
            lit = z3.Bool(f"a{len(self.literals)}")
            self.literals.append(lit)
            self.reasons.append(reason)
            self.solver.add(z3.Implies(lit, constraint))
        else:
            _assert(self.solver, constraint)

    def var(self, g: int, n: int) -> z3.ArithRef | None:
        """x[g, n], or None if group g can never have a pod on node n here."""
        return self.x.get((g, n))

    def sum_on(self, g: int, nodes: Iterable[int]) -> z3.ArithRef | None:
        """Σ x[g, n] over `nodes` (None when no such variable exists)."""
        terms = [v for n in nodes if (v := self.x.get((g, n))) is not None]
        return _sum(terms) if terms else None

    # ---- the encoding -----------------------------------------------------------------------
    def build(self) -> Encoder:
        """Create the variables and every constraint."""
        self._variables()
        self._demand()
        self._capacity()
        self._anti_affinity()
        self._spread()
        self._affinity()
        self._forced()
        return self

    def _variables(self) -> None:
        """x[g, n] ∈ [0, count(g)] for every pair in scope no static filter rules out
        (tracking: for every pair in scope, pinned to 0 by each static reason).

        Without tracking, the upper bound is also what the node's free capacity allows for
        pods of g alone, ⌊free / request⌋ per resource — implied by the capacity
        constraints for integers, but it keeps the linear relaxation tight, without which
        Z3 can spend minutes branching on fractional counts."""
        for g, grp in enumerate(self.problem.groups):
            if grp.count <= 0:
                continue
            requests = {r: v for r, v in grp.requests.items() if v > 0}
            for n in sorted(self.scope):
                blocked = self.facts.blocked.get((g, n))
                if blocked and not self.track:
                    continue
                v = z3.Int(f"x_{g}_{n}")
                self.x[(g, n)] = v
                self.by_node.setdefault(n, []).append(g)
                for atom in _between(v, 0, grp.count if self.track else self._room(n, grp.count, requests)):
                    _assert(self.solver, atom)
                for r in blocked or ():
                    self.add(v == 0, r)

    def _room(self, n: int, count: int, requests: Mapping[str, int]) -> int:
        """How many pods with `requests` node n has room for alone (at most `count`)."""
        nf = self.facts.nodes[n]
        room = min(count, max(nf.free("pods") or 0, 0))
        for r, v in requests.items():
            free = nf.free(r)
            room = min(room, max(free or 0, 0) // v)
        return room

    def _demand(self) -> None:
        """Every group places all its pods (a tracked reason when explaining)."""
        for g, grp in enumerate(self.problem.groups):
            if grp.count <= 0:
                continue
            total = self.sum_on(g, self.scope)
            what = "pod" if grp.count == 1 else "pods"
            demand = (total == grp.count) if total is not None else z3.BoolVal(False)
            if self.track:
                self.add(demand, Reason(DEMAND, f"{grp.name}: {grp.count} {what} to place"))
                continue
            self.add(demand, None)

    def _capacity(self) -> None:
        """NodeResourcesFit: pod slots and every requested resource, per node."""
        groups = self.problem.groups
        requests = [grp.requests for grp in groups]
        for n, gs in sorted(self.by_node.items()):
            if len(gs) == 1 and not self.track:
                continue  # one group here: its variable's bound (`_room`) is this constraint
            nf = self.facts.nodes[n]
            # an over-committed node (placed pods beyond allocatable) takes no new pod: bound at 0, not below
            slots = nf.free("pods") or 0
            why = self._capacity_reason(n, "pods", 1, slots) if self.track else None
            self.add(_le(_sum([self.x[(g, n)] for g in gs]), max(slots, 0)), why)
            resources = sorted({r for g in gs for r, v in requests[g].items() if v > 0})
            for r in resources:
                free = nf.free(r)
                terms = [(requests[g].get(r, 0), self.x[(g, n)]) for g in gs if requests[g].get(r, 0) > 0]
                if free is None:
                    continue  # the node does not offer r: a static reason rules these pairs out
                req = terms[0][0] if len(terms) == 1 else 0
                # divided by the gcd of the requests (exact for integer counts: Σ c·x ≤ F ⟺
                # Σ (c/d)·x ≤ ⌊F/d⌋), which keeps byte-sized coefficients out of the simplex
                d = functools.reduce(math.gcd, (c for c, _ in terms))
                scaled = _sum([_times(c // d, v) for c, v in terms])
                self.add(_le(scaled, max(free, 0) // d), self._capacity_reason(n, r, req, free) if self.track else None)

    def _capacity_reason(self, n: int, r: str, request: int, free: int) -> Reason:
        nf = self.facts.nodes[n]
        plugin = f"NodeResourcesFit({r})"
        if r == "pods":
            alloc = nf.node.allocatable_of("pods") or 0
            if self.single:
                return Reason(plugin, f"node {nf.name}: too many pods (allocatable {alloc}, already {nf.pods})")
            return Reason(plugin, f"node {nf.name}: {max(free, 0)} free pod slot(s) (allocatable {alloc})")
        if self.single:
            return Reason(plugin, f"node {nf.name}: insufficient {r} (request {amount(r, request)}, free {amount(r, free)})")
        return Reason(plugin, f"node {nf.name}: {amount(r, free)} of {r} free (allocatable {amount(r, nf.node.allocatable_of(r))})")

    def _domains(self, key: str, nodes: Iterable[int]) -> dict[str, list[int]]:
        """Topology domains of `key` over `nodes`: value → nodes carrying it."""
        out: dict[str, list[int]] = {}
        for n in nodes:
            v = self.facts.domain_of(n, key)
            if v is not None:
                out.setdefault(v, []).append(n)
        return out

    def _anti_affinity(self) -> None:
        """Required anti-affinity between new pods, per topology domain of the term's key."""
        groups = self.problem.groups
        for g, grp in enumerate(groups):
            for term in anti_terms(grp.pod):
                key = term.topology_key
                domains = self._domains(key, self.scope)
                for h, other in enumerate(groups):
                    if other.count <= 0 or not term_selects(term, grp.pod, other.pod):
                        continue
                    for value, nodes in sorted(domains.items()):
                        mine = self.sum_on(g, nodes)
                        if mine is None:
                            continue
                        if h == g:
                            if grp.count > 1:
                                text = f"{grp.name}: anti-affinity on {key}: at most one pod in {key}={value}"
                                self.add(mine <= 1, Reason("InterPodAffinity(anti-affinity)", text))
                            continue
                        theirs = self.sum_on(h, nodes)
                        if theirs is not None:
                            self.add(
                                z3.Or(mine == 0, theirs == 0),
                                Reason("InterPodAffinity(anti-affinity)", f"{grp.name} and {other.name}: anti-affinity on {key}={value}"),
                            )

    def _spread(self) -> None:
        """PodTopologySpread, DoNotSchedule constraints."""
        problem = self.problem
        for g, grp in enumerate(problem.groups):
            constraints = hard_spread(grp.pod)
            if grp.count <= 0 or not constraints:
                continue
            keys = {c.topology_key for c in constraints}
            eligible = [n for n, node in enumerate(problem.nodes) if keys <= self.facts.labels[n].keys() and node_affinity_matches(grp.pod.spec, node)]
            for ci, c in enumerate(constraints):
                if c.label_selector is None or c.label_selector.empty:
                    continue  # counts are all 0: skew = self ≤ maxSkew (maxSkew < 1 is static)
                self._spread_constraint(g, ci, c, eligible)

    def _spread_constraint(self, g: int, ci: int, c: TopologySpreadConstraint, eligible: list[int]) -> None:
        """One constraint of group g: count(D) − min ≤ maxSkew wherever g places a pod."""
        problem = self.problem
        grp = problem.groups[g]
        ns = grp.pod.metadata.namespace
        key = c.topology_key
        domains = self._domains(key, eligible)
        eligible_set = set(eligible)
        index = problem.node_index()
        existing: dict[str, int] = {v: 0 for v in domains}
        for pp in problem.placed:
            n = index.get(pp.node)
            if n is None or n not in eligible_set:
                continue
            p = pp.pod
            if p.metadata.deletion_timestamp is None and p.metadata.namespace == ns and spread_selects(c, p):
                existing[self.facts.labels[n][key]] += 1
        counted = [h for h, other in enumerate(problem.groups) if other.count > 0 and other.pod.metadata.namespace == ns and spread_selects(c, other.pod)]
        count: dict[str, z3.ArithRef] = {}
        for v, nodes in domains.items():
            terms = [self.x[(h, n)] for h in counted for n in nodes if (h, n) in self.x]
            count[v] = _sum([z3.IntVal(existing[v]), *terms])
        low = z3.Int(f"min_{g}_{ci}")
        for v in sorted(count):
            self.solver.add(low <= count[v])
        if c.min_domains is not None and len(domains) < c.min_domains:
            self.solver.add(low <= 0)  # fewer eligible domains than minDomains: the minimum is 0
        if not self.track and counted == [g] and not any(existing.values()):
            # only this group's pods count: a domain without them has count 0 ≤ min + maxSkew
            # anyway, so "count(D) − min ≤ maxSkew" may hold for every domain — linear, no case split
            for v in sorted(count):
                self.add(count[v] - low <= c.max_skew, None)
            return
        own = 1 if self_match(c, grp.pod) else 0
        least = min(existing.values()) if existing else 0
        if c.min_domains is not None and len(domains) < c.min_domains:
            least = 0
        for n in sorted(self.scope):
            xv = self.x.get((g, n))
            value = self.facts.domain_of(n, key)
            if xv is None or value is None:
                continue
            # a node outside the eligible set adds nothing to its domain's count, but the pod's own +1 applies
            here = count.get(value, z3.IntVal(0)) + (own if n not in eligible_set else 0)
            if self.single:
                text = (
                    f"node {problem.nodes[n].name}: topology spread on {key} (maxSkew {c.max_skew}) exceeded: "
                    f"{key}={value} holds {existing.get(value, 0)} matching pod(s) + {own}, the least loaded domain {least}"
                )
            else:
                text = f"{grp.name}: topology spread on {key}={value} (maxSkew {c.max_skew})"
            self.add(z3.Implies(xv >= 1, here - low <= c.max_skew), Reason("PodTopologySpread", text))

    def _affinity(self) -> None:
        """Required pod affinity: a matching pod in each term's domain, or the seed domain."""
        problem = self.problem
        index = problem.node_index()
        for g, grp in enumerate(problem.groups):
            terms = affinity_terms(grp.pod)
            if grp.count <= 0 or not terms:
                continue
            matching = [pp for pp in problem.placed if pp.node in index and all(term_selects(t, grp.pod, pp.pod) for t in terms)]
            counted = any(self.facts.domain_of(index[pp.node], t.topology_key) is not None for pp in matching for t in terms)
            seed_ok = not counted and all(term_selects(t, grp.pod, grp.pod) for t in terms)
            helpers = [h for h, o in enumerate(problem.groups) if h != g and o.count > 0 and all(term_selects(t, grp.pod, o.pod) for t in terms)]
            for ti, t in enumerate(terms):
                key = t.topology_key
                held = {self.facts.domain_of(index[pp.node], key) for pp in matching} - {None}
                domains = self._domains(key, range(len(problem.nodes)))
                seeds: dict[str, z3.BoolRef] = {}
                for n in sorted(self.scope):
                    xv = self.x.get((g, n))
                    value = self.facts.domain_of(n, key)
                    if xv is None or value is None or value in held:
                        continue
                    support: list[z3.BoolRef] = []
                    for h in helpers:
                        s = self.sum_on(h, domains[value])
                        if s is not None:
                            support.append(s >= 1)
                    if seed_ok:
                        if value not in seeds:
                            seeds[value] = z3.Bool(f"seed_{g}_{ti}_{len(seeds)}")
                        support.append(seeds[value])
                    self.add(
                        z3.Implies(xv >= 1, z3.Or(*support) if support else z3.BoolVal(False)),
                        Reason("InterPodAffinity(affinity)", f"node {problem.nodes[n].name}: pod affinity on {key}: no matching pod in {key}={value}"),
                    )
                if len(seeds) > 1:
                    self.solver.add(z3.AtMost(*seeds.values(), 1))

    def _forced(self) -> None:
        """Pin chosen (group, node) counts (e.g. the node a binding names)."""
        for (g, n), k in self.force.items():
            v = self.x.get((g, n))
            self.solver.add(v == k if v is not None else z3.BoolVal(k == 0))

    # ---- solving ----------------------------------------------------------------------------
    def solve(self, limits: SolverLimits) -> Outcome:
        """Check the constraints; a model gives the placement, an unsat core the reasons."""
        self._limit(limits, time.perf_counter() + limits.timeout_ms / 1000)
        if self.track:
            self.solver.set("core.minimize", True)
        t0 = time.perf_counter()
        result = self.solver.check(*self.literals)
        out = Outcome(UNKNOWN, solve_seconds=time.perf_counter() - t0, variables=len(self.x), constraints=self.constraints, strategy="joint")
        if result == z3.sat:
            out.status = SAT
            out.placement = self._placement(self.solver.model())
        elif result == z3.unsat:
            out.status = UNSAT
            if self.track:
                where = {lit.get_id(): i for i, lit in enumerate(self.literals)}
                picked = sorted(where[c.get_id()] for c in self.solver.unsat_core())
                out.core = [self.reasons[i] for i in picked]
        else:
            out.unknown = self.solver.reason_unknown() or "unknown"
        return out

    def _limit(self, limits: SolverLimits, deadline: float) -> None:
        self.solver.set("timeout", max(1, int((deadline - time.perf_counter()) * 1000)))
        if limits.rlimit is not None:
            self.solver.set("rlimit", int(limits.rlimit))

    def satisfied_by(self, placement: Mapping[str, Mapping[str, int]], limits: SolverLimits, deadline: float) -> bool | None:
        """Whether Z3 accepts `placement` (group name → node → pods) for this encoding, every
        variable fixed to it (None: undecided in time)."""
        names = {grp.name: g for g, grp in enumerate(self.problem.groups)}
        index = self.problem.node_index()
        want = {(names[gn], index[nn]): k for gn, per in placement.items() for nn, k in per.items() if k}
        if any(key not in self.x for key in want):
            return False
        self.solver.push()
        try:
            for key, v in self.x.items():
                self.solver.add(v == want.get(key, 0))
            self._limit(limits, deadline)
            result = self.solver.check(*self.literals)
        finally:
            self.solver.pop()
        return True if result == z3.sat else False if result == z3.unsat else None

    def _placement(self, model: z3.ModelRef) -> dict[str, dict[str, int]]:
        """Group name → node → pods, read from a model (variables it leaves out are 0)."""
        values: dict[str, int] = {}
        for d in model.decls():
            name = d.name()
            if name.startswith("x_"):
                values[name] = model[d].as_long()
        out: dict[str, dict[str, int]] = {}
        for (g, n), v in sorted(self.x.items()):
            k = values.get(str(v), 0)
            if k > 0:
                out.setdefault(self.problem.groups[g].name, {})[self.problem.nodes[n].name] = k
        return out


def _new_solver(size: int) -> z3.Solver:
    """Z3's SMT core without the QF_LIA tactic portfolio: the portfolio's preprocessing
    made even single-group placements with tight bounds time out (minutes, where the plain
    core answers in a tenth of a second)."""
    return z3.SimpleSolver()


def _sum(terms: list[z3.ArithRef]) -> z3.ArithRef:
    """Σ terms, built with the C API (z3.Sum type-checks every term in Python, which
    dominates the encoding time of large problems)."""
    if not terms:
        return z3.IntVal(0)
    if len(terms) == 1:
        return terms[0]
    ctx = terms[0].ctx
    arr = (z3.Ast * len(terms))(*(t.as_ast() for t in terms))
    return z3.ArithRef(z3.Z3_mk_add(ctx.ref(), len(terms), arr), ctx)


@functools.lru_cache(maxsize=1 << 16)
def _int(value: int) -> z3.IntNumRef:
    """An integer constant of the main context, shared (building numerals is costly)."""
    return z3.IntVal(value)


def _assert(solver: z3.Solver, constraint: z3.BoolRef) -> None:
    """solver.add(constraint) through the C API (Solver.add casts every argument in Python)."""
    z3.Z3_solver_assert(constraint.ctx.ref(), solver.solver, constraint.as_ast())


def _le(a: z3.ArithRef, bound: int) -> z3.BoolRef:
    """a ≤ bound, built with the C API."""
    ctx = a.ctx
    b = _int(bound)
    return z3.BoolRef(z3.Z3_mk_le(ctx.ref(), a.as_ast(), b.as_ast()), ctx)


def _times(c: int, v: z3.ArithRef) -> z3.ArithRef:
    """c · v (c a Python integer), built with the C API."""
    if c == 1:
        return v
    ctx = v.ctx
    k = _int(c)
    arr = (z3.Ast * 2)(k.as_ast(), v.as_ast())
    return z3.ArithRef(z3.Z3_mk_mul(ctx.ref(), 2, arr), ctx)


def _between(v: z3.ArithRef, lo: int, hi: int) -> list[z3.BoolRef]:
    """lo ≤ v ≤ hi, as two atoms built with the C API (each wrapped at once, so Z3's
    reference counting keeps it alive)."""
    ctx = v.ctx
    lo_v, hi_v = _int(lo), _int(hi)
    ge = z3.BoolRef(z3.Z3_mk_ge(ctx.ref(), v.as_ast(), lo_v.as_ast()), ctx)
    le = z3.BoolRef(z3.Z3_mk_le(ctx.ref(), v.as_ast(), hi_v.as_ast()), ctx)
    return [ge, le]


def solve(
    problem: Problem,
    *,
    limits: SolverLimits | None = None,
    track: bool = False,
    scope: Iterable[str] | None = None,
    force: Mapping[tuple[int, int], int] | None = None,
    facts: Facts | None = None,
    staged: bool | None = None,
) -> Outcome:
    """Decide whether every group of `problem` can be placed; see `Encoder` for the options.

    `staged` (default: for problems of more than STAGED_FROM variables that are neither
    explained, scoped nor forced) first searches group by group (`staged_placement`),
    and Z3 then checks the whole placement against the full encoding; if that search gets
    stuck, the joint problem is solved with the time left. Only the joint search can
    answer unsat.
    """
    limits = limits or SolverLimits()
    t0 = time.perf_counter()
    deadline = t0 + limits.timeout_ms / 1000
    facts = facts if facts is not None else analyse(problem)
    if staged is None:
        pairs = sum(1 for g, grp in enumerate(problem.groups) if grp.count > 0 for n in range(len(problem.nodes)) if facts.allowed(g, n))
        staged = not track and scope is None and not force and pairs > STAGED_FROM
    candidate = staged_placement(problem, facts, limits, deadline) if staged else None
    t1 = time.perf_counter()
    enc = Encoder(problem, track=track, scope=scope, force=force, facts=facts).build()
    built = time.perf_counter() - t1
    if candidate is not None:
        ok = enc.satisfied_by(candidate, limits, deadline)
        if ok:
            return Outcome(
                SAT,
                candidate,
                build_seconds=built,
                solve_seconds=time.perf_counter() - t0 - built,
                variables=len(enc.x),
                constraints=enc.constraints,
                strategy="staged",
            )
    out = enc.solve(replace(limits, timeout_ms=max(1, int((deadline - time.perf_counter()) * 1000))))
    out.build_seconds = built
    out.solve_seconds = time.perf_counter() - t0 - built
    if staged:
        out.strategy = "staged, then joint"
    return out


def staged_placement(problem: Problem, facts: Facts, limits: SolverLimits, deadline: float) -> dict[str, dict[str, int]] | None:
    """Place the groups one at a time, each decided by Z3 on a fresh problem where the
    groups before it are pods already placed — the most constrained group first (fewest
    nodes), then the largest pods (first-fit decreasing). Each group is first asked to
    spread evenly over its nodes (at most ⌈count/nodes⌉ + 1 per node, as the scheduler's
    sibling spreading would), then freely. This is the scheduler's sequential semantics
    by group; None when a group does not fit or time runs out."""
    live = [g for g, grp in enumerate(problem.groups) if grp.count > 0]
    nodes = {g: [n for n in range(len(problem.nodes)) if facts.allowed(g, n)] for g in live}
    req = {g: problem.groups[g].requests for g in live}
    order = sorted(live, key=lambda g: (len(nodes[g]), -req[g].get("cpu", 0), -req[g].get("memory", 0), g))
    placed = list(problem.placed)
    usage = [NodeFacts(nf.node, dict(nf.used), nf.pods) for nf in facts.nodes]
    out: dict[str, dict[str, int]] = {}
    for g in order:
        grp = problem.groups[g]
        if not nodes[g]:
            return None
        sub = Problem(nodes=problem.nodes, placed=tuple(placed), groups=(grp,), _node_index=problem.node_index())
        static = {n: reasons for (h, n), reasons in facts.blocked.items() if h == g}
        enc = Encoder(sub, facts=one_group_facts(sub, usage, facts.labels, static)).build()
        got: dict[str, int] | None = None
        for even in (True, False):
            if time.perf_counter() >= deadline:
                return None
            if even:
                cap = -(-grp.count // len(nodes[g])) + 1
                enc.solver.push()
                for v in enc.x.values():
                    _assert(enc.solver, _le(v, cap))
            step = min(deadline, time.perf_counter() + STAGE_SECONDS)
            one = enc.solve(replace(limits, timeout_ms=max(1, int((step - time.perf_counter()) * 1000))))
            if even:
                enc.solver.pop()
            if one.status == SAT and one.placement is not None:
                got = one.placement.get(grp.name, {})
                break
        if got is None:
            return None
        out[grp.name] = got
        index = problem.node_index()
        for node, k in got.items():
            placed.extend([PlacedPod(grp.pod, node)] * k)
            nf = usage[index[node]]
            nf.pods += k
            for r, v in req[g].items():
                nf.used[r] = nf.used.get(r, 0) + v * k
    return out
