"""`kmodel explore --exhaustive`: the exhaustive explorer from a scenario, with reports.

The scenario's steps set the cluster up; the scenario's `explore` section declares the
scope (scripted user actions, fault and exit budgets, clock horizon, depth and state
bounds). Findings (violations, deadlocks, livelocks) come with the shortest path that
reaches them, saved as a `kmodel run` scenario and replayed to confirm.
"""

from __future__ import annotations

import shlex
import sys
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from invariants.registry import select
from kmodel.actors import Actor
from kmodel.errors import KModelError
from kmodel.exhaustive import Bounds, ExhaustiveResult, explore_exhaustive, scope_summary
from kmodel.explore import _invariant_results, _rows, _scenario_steps, build_model
from kmodel.model import Scope
from kmodel.report import Counterexample, RunReport, write_report
from kmodel.report.write import atomic_write
from kmodel.runner import run_scenario
from kmodel.scenario import Scenario, load_scenario, scenario_yaml


@dataclass
class ExhaustiveOptions:
    """Bounds and selections of one exhaustive exploration."""

    scenario: Scenario
    max_depth: int | None = None
    max_states: int | None = None
    horizon: int | None = None
    workers: int = 1
    symmetry: bool = True
    graph: bool = True
    invariants: Sequence[str] | None = None
    controllers: Sequence[str] | None = None
    out_dir: Path = Path("reports")
    run_name: str | None = None
    command: str = ""
    actor_overrides: Sequence[Actor] = ()
    progress: bool = False
    coverage: bool = False
    differential: bool = False
    replay_flags: str = ""


def run_exhaustive(opts: ExhaustiveOptions) -> tuple[RunReport, Path, ExhaustiveResult | None]:
    """Set the scenario up, explore exhaustively, write the report."""
    sc = opts.scenario
    ex = sc.explore
    invs = select(opts.invariants if opts.invariants is not None else ex.invariants)
    base = build_model(sc.config, opts.controllers, opts.actor_overrides)
    setup = run_scenario(sc, invariants=invs, model=base)
    start = setup.state
    horizon_rel = opts.horizon if opts.horizon is not None else ex.horizon
    scope = Scope(
        script=ex.script,
        faults=ex.faults,
        max_faults=ex.max_faults,
        max_exits=ex.max_exits,
        exit_codes=ex.exit_codes,
        add_nodes=ex.add_nodes,
        horizon=None if horizon_rel is None else start.clock + horizon_rel,
    )
    model = base.with_scope(scope)
    run_name = opts.run_name or f"{sc.name}-exhaustive"
    directory = opts.out_dir / run_name
    notes = [f"scenario expectation failed: {f}" for f in setup.failures]
    bounds = Bounds(
        max_depth=opts.max_depth if opts.max_depth is not None else ex.max_depth,
        max_states=opts.max_states if opts.max_states is not None else ex.max_states,
    )

    series: list[tuple[int, int]] = []
    show = opts.progress and sys.stderr.isatty()

    def progress(depth: int, states: int, transitions: int) -> None:
        series.append((transitions, states))
        if show:
            sys.stderr.write(f"\r  depth {depth}: {states} distinct states, {transitions} transitions")
            sys.stderr.flush()

    started = time.monotonic()
    coverage_results: dict = {}
    result: ExhaustiveResult | None = None
    violations = list(setup.violations)
    status = "violated" if violations else "passed"
    path: list = []
    names: list[str] = []
    message = ""
    if not violations:
        try:
            from kmodel.report.coverage_probe import measure

            at_fixpoint = None
            if opts.differential and opts.actor_overrides:
                from kmodel.differential import Differential

                reference = build_model(sc.config, opts.controllers).with_scope(scope)
                at_fixpoint = Differential(reference, tuple(a.name for a in opts.actor_overrides)).check
            with measure(opts.coverage and opts.workers == 1) as coverage_results:
                result = explore_exhaustive(
                    model,
                    start,
                    invs,
                    bounds,
                    symmetry=opts.symmetry,
                    workers=opts.workers,
                    graph=opts.graph,
                    progress=progress,
                    at_fixpoint=at_fixpoint,
                )
        except KeyboardInterrupt:
            status = "interrupted"
            notes.append("interrupted by the user")
        if result is not None:
            if show:
                sys.stderr.write("\n")
            if result.findings:
                f = result.findings[0]
                violations = f.violations
                path = f.path
                status = "violated"
                message = "\n".join(str(v) for v in f.violations)
                if f.kind == "deadlock":
                    message = "deadlock: a fixpoint misses the desired state that another interleaving reaches\n" + message
            elif result.livelocks:
                lv = result.livelocks[0]
                status = "violated"
                path = lv.path_to_cycle
                from invariants.registry import Violation

                violations = [Violation("livelock", f"{lv.states} states form a terminal cycle with no fixpoint: " + " → ".join(lv.cycle))]
                message = str(violations[0])
            if not result.complete:
                notes.append(f"exploration incomplete: {result.stopped}; livelock analysis needs a complete exploration")
    names = sorted({v.invariant for v in violations})
    counterexample = None
    if violations:
        steps = _scenario_steps(sc) + list(path)
        text = scenario_yaml(
            f"{run_name}-counterexample",
            steps,
            sc.config,
            description=f"Shortest counterexample found by `kmodel explore --exhaustive` violating {', '.join(names)}.",
        )
        cpath = directory / "counterexample.yaml"
        atomic_write(cpath, text)
        reproduced = None
        if "livelock" not in names:
            try:
                replay = run_scenario(load_scenario(cpath), invariants=invs, model=build_model(sc.config, opts.controllers, opts.actor_overrides))
                reproduced = any(v.invariant in names for v in replay.violations) or bool(replay.failures)
            except KModelError as e:
                notes.append(f"could not replay the counterexample: {e}")
        counterexample = Counterexample(
            invariants=names,
            message=message or "\n".join(map(str, violations)),
            steps=_rows(model, steps),
            scenario_file=str(cpath),
            replay_command=f"kmodel run {shlex.quote(str(cpath))}{opts.replay_flags}",
            reproduced=reproduced,
        )
    elapsed = time.monotonic() - started
    stats = result.stats if result is not None else setup.checker.stats
    report = RunReport(
        run_name=run_name,
        command=opts.command or "kmodel explore --exhaustive",
        scenario=sc.source,
        engine="exhaustive" + (" (symmetry reduction)" if opts.symmetry else ""),
        seed=None,
        status=status,
        kubernetes_version=sc.config.kubernetes_version,
        budget={"max depth": bounds.max_depth, "max states": bounds.max_states, **{f"scope: {k}": v for k, v in scope_summary(model).items()}},
        stats={}
        if result is None
        else {
            "distinct states": result.distinct_states,
            "transitions": result.transitions,
            "depth": result.depth,
            "complete": result.complete,
            "fixpoints": result.quiescent_states,
            "states merged by symmetry": result.merged_by_symmetry,
            "livelocks": len(result.livelocks),
        },
        action_mix=dict(sorted(stats.actions.items())),
        invariants=_invariant_results(invs, stats, violations),
        counterexample=counterexample,
        notes=notes,
        coverage=coverage_results,
        progress=series,
        timing={
            "seconds": round(elapsed, 3),
            **({"distinct states per second": round(result.states_per_second, 1), "workers": result.workers} if result else {}),
        },
    )
    write_report(report, directory)
    return report, directory, result
