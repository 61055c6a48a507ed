"""Whole-set placement analysis: can every desired pod of a set of workloads run on the
nodes at all (Z3), does the model's greedy scheduler get there (the model run to
quiescence with `Model().settle`), and if not, why.

* infeasible: some pods can never be placed — per group, the unsat core of one pod alone
  names, node by node, the constraint that rules it out; a group whose pods do not all
  fit even without the other groups gets the core of that problem; otherwise the core of
  the whole problem names the capacities and rules that conflict;
* fragmentation: Z3 places every pod but the greedy scheduler (one pod at a time, in
  queue order, best-scored node first) strands some — Z3's placement is the witness.
"""

from __future__ import annotations

import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

from kmodel.placement.encode import SAT, UNKNOWN, UNSAT, Outcome, SolverLimits, solve
from kmodel.placement.facts import Reason, amount, analyse
from kmodel.placement.problem import Problem
from kmodel.placement.workloads import Workloads, collect, describe


@dataclass
class ModelRun:
    """Where the model's scheduler put the desired pods (after settling)."""

    placed: dict[str, int]  # workload → pods bound to a node
    nodes: dict[str, dict[str, int]]  # node → workload → pods
    pending: list[str]  # pods left Pending (namespace/name)
    quiescent: bool
    seconds: float
    reason: str = ""


@dataclass
class GroupExplanation:
    """Why a group's pods cannot run: `never` (not even one pod alone) or `alone` (not all
    its pods, even without the other groups)."""

    group: str
    kind: str
    reasons: list[Reason]


@dataclass
class Report:
    """The outcome of `analyse_workloads`."""

    workloads: Workloads
    problem: Problem
    outcome: Outcome
    explanations: list[GroupExplanation] = field(default_factory=list)
    joint: list[Reason] = field(default_factory=list)
    model: ModelRun | None = None

    @property
    def desired(self) -> int:
        """Pods the workloads want running."""
        return self.problem.pods_to_place

    @property
    def stranded(self) -> dict[str, int]:
        """Workload → pods the model's scheduler did not place."""
        if self.model is None:
            return {}
        want = self.workloads.desired_by_workload()
        return {w: n - self.model.placed.get(w, 0) for w, n in want.items() if n > self.model.placed.get(w, 0)}

    @property
    def fragmentation(self) -> bool:
        """The greedy scheduler strands pods although a full placement exists."""
        return self.outcome.status == SAT and bool(self.stranded)

    @property
    def verdict(self) -> str:
        """'ok', 'infeasible', 'fragmentation' or 'unknown'."""
        if self.outcome.status == UNKNOWN:
            return "unknown"
        if self.outcome.status == UNSAT:
            return "infeasible"
        return "fragmentation" if self.fragmentation else "ok"


def analyse_workloads(objects: Iterable[Any], *, limits: SolverLimits | None = None, run_model: bool = True) -> Report:
    """Decide the placement of every desired pod, explain an infeasible one, and compare
    with the model's greedy scheduler."""
    objs = list(objects)
    wl = collect(objs)
    problem = wl.problem()
    facts = analyse(problem)
    outcome = solve(problem, limits=limits, facts=facts)
    report = Report(wl, problem, outcome)
    if outcome.status == UNSAT:
        explain(report, limits)
    if run_model:
        report.model = run_the_model(objs, wl)
    return report


def explain(report: Report, limits: SolverLimits | None) -> None:
    """Fill in why the problem is unsat: groups that can never place one pod, groups that
    cannot place all their pods alone, else the core of the whole problem."""
    problem = report.problem
    for g in problem.groups:
        one = replace(problem, groups=(replace(g, count=1),), _node_index={})
        out = solve(one, limits=limits)
        if out.status == UNSAT:
            core = solve(one, limits=limits, track=True)
            report.explanations.append(GroupExplanation(g.name, "never", core.reasons()))
            continue
        if g.count > 1:
            alone = replace(problem, groups=(g,), _node_index={})
            if solve(alone, limits=limits).status == UNSAT:
                core = solve(alone, limits=limits, track=True)
                report.explanations.append(GroupExplanation(g.name, "alone", core.core))
    if not report.explanations:
        report.joint = solve(problem, limits=limits, track=True).core


def run_the_model(objects: Sequence[Any], wl: Workloads) -> ModelRun:
    """Register the nodes, apply everything else, and settle the whole model."""
    from kmodel.actions import AddNode, Apply
    from kmodel.model import Model
    from kmodel.scheduler import pending_pods
    from kmodel.state import empty_state

    t0 = time.perf_counter()
    model = Model()
    state = empty_state()
    for n in wl.nodes:
        state = model.step(state, AddNode(n))
    rest = tuple(o for o in objects if o.kind != "Node")
    if rest:
        state = model.step(state, Apply(rest))
    result = model.settle(state)
    state = result.state
    workloads = set(wl.workloads)
    placed: dict[str, int] = {}
    nodes: dict[str, dict[str, int]] = {}
    for p in state.pods():
        if not p.spec.node_name or not p.active:
            continue
        w = _workload_of(state, p)
        if w is None or w not in workloads:
            continue
        placed[w] = placed.get(w, 0) + 1
        per = nodes.setdefault(p.spec.node_name, {})
        per[w] = per.get(w, 0) + 1
    pending = [f"{p.metadata.namespace}/{p.metadata.name}" for p in pending_pods(state)]
    return ModelRun(placed, nodes, pending, result.quiescent, time.perf_counter() - t0, result.reason)


def _workload_of(state: Any, pod: Any) -> str | None:
    """The workload a pod belongs to: itself if bare, else its controller (a ReplicaSet's
    controlling Deployment when there is one)."""
    ref = pod.metadata.controller_ref()
    if ref is None:
        return describe(pod)
    owner = state.by_uid(ref.uid)
    if owner is None:
        return None
    up = owner.metadata.controller_ref()
    if owner.kind == "ReplicaSet" and up is not None and up.kind == "Deployment":
        d = state.by_uid(up.uid)
        if d is not None:
            return describe(d)
    return describe(owner)


# ---- rendering ---------------------------------------------------------------------------------


def usage_lines(problem: Problem, placement: dict[str, dict[str, int]]) -> list[str]:
    """One line per node of a placement: the groups' pods there and what they request."""
    facts = analyse(problem)
    by_node: dict[str, list[tuple[str, int]]] = {}
    for g, per in placement.items():
        for node, k in per.items():
            by_node.setdefault(node, []).append((g, k))
    requests = {g.name: g.requests for g in problem.groups}
    lines = []
    for nf in facts.nodes:
        here = by_node.get(nf.name)
        if not here:
            continue
        pods = ", ".join(f"{g} ×{k}" for g, k in sorted(here))
        use = []
        for r in ("cpu", "memory"):
            total = sum(requests[g].get(r, 0) * k for g, k in here) + nf.used.get(r, 0)
            alloc = nf.node.allocatable_of(r)
            if total:
                use.append(f"{r} {amount(r, total)}/{amount(r, alloc)}")
        lines.append(f"node {nf.name}: {pods}" + (f"  ({', '.join(use)})" if use else ""))
    return lines


def render(report: Report) -> str:
    """A plain-text report."""
    p = report.problem
    o = report.outcome
    lines = [f"placement: {len(p.nodes)} node(s), {len(report.workloads.workloads)} workload(s), {report.desired} desired pod(s)"]
    lines.extend(f"note: {n}" for n in report.workloads.notes)
    timing = f"(Z3: {o.variables} variables, build {o.build_seconds:.2f} s, solve {o.solve_seconds:.2f} s)"
    if o.status == UNKNOWN:
        lines.append(f"UNKNOWN: the solver could not decide whether all desired pods can run ({o.unknown}) {timing}")
    elif o.status == UNSAT:
        lines.append(f"INFEASIBLE: the desired pods cannot all run on these nodes {timing}")
        for e in report.explanations:
            head = "no pod of it can ever be placed" if e.kind == "never" else "its pods do not all fit, even without the other workloads"
            lines.append(f"  {e.group}: {head}:")
            lines.extend(f"    - {r}" for r in e.reasons)
        if report.joint:
            lines.append("  every workload fits alone, but not all together; conflicting constraints (unsat core):")
            lines.extend(f"    - {r}" for r in report.joint)
    else:
        lines.append(f"FEASIBLE: all {report.desired} desired pod(s) can run {timing}")
    m = report.model
    if m is not None:
        placed = sum(m.placed.values())
        state = "quiescent" if m.quiescent else f"not quiescent: {m.reason}"
        lines.append(f"model: the scheduler placed {placed} of {report.desired} pod(s) ({state}, {m.seconds:.1f} s)")
        for w, k in sorted(report.stranded.items()):
            lines.append(f"  {w}: {k} pod(s) not placed")
        if report.fragmentation:
            lines.append(f"FRAGMENTATION: the greedy scheduler strands {sum(report.stranded.values())} pod(s) that a full placement fits.")
            lines.append("  Z3 placement (witness):")
            lines.extend(f"    {line}" for line in usage_lines(p, o.placement or {}))
            lines.append("  model placement:")
            for node, per in sorted(m.nodes.items()):
                lines.append(f"    node {node}: " + ", ".join(f"{w} ×{k}" for w, k in sorted(per.items())))
    elif o.status == SAT:
        lines.append("  Z3 placement (witness):")
        lines.extend(f"    {line}" for line in usage_lines(p, o.placement or {}))
    return "\n".join(lines) + "\n"


def to_json(report: Report) -> dict[str, Any]:
    """The report as JSON-ready data."""
    o = report.outcome
    m = report.model
    return {
        "verdict": report.verdict,
        "status": o.status,
        "desired": report.desired,
        "nodes": len(report.problem.nodes),
        "groups": {g.name: g.count for g in report.problem.groups},
        "placement": o.placement,
        "unknown": o.unknown,
        "never": {e.group: [r.text for r in e.reasons] for e in report.explanations if e.kind == "never"},
        "alone": {e.group: [r.text for r in e.reasons] for e in report.explanations if e.kind == "alone"},
        "joint": [r.text for r in report.joint],
        "model": None if m is None else {"placed": m.placed, "nodes": m.nodes, "pending": m.pending, "quiescent": m.quiescent},
        "stranded": report.stranded,
        "notes": report.workloads.notes,
        "seconds": {"build": round(o.build_seconds, 4), "solve": round(o.solve_seconds, 4)},
    }
