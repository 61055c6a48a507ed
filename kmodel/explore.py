"""`kmodel explore`: Hypothesis stateful exploration from a scenario's final state.

The scenario's steps set the cluster up; from the state they reach, the Hypothesis
machine draws user actions, faults, controller steps, clock advances and settles,
checking every selected invariant. A violation is shrunk by Hypothesis, saved as a
`kmodel run` scenario that replays it, replayed to confirm, and reported. The same seed
and inputs give the same exploration and the same report; a time budget can only cut
a run short (reported as such).
"""

from __future__ import annotations

import shlex
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from hypothesis import seed as hypothesis_seed
from hypothesis.errors import HypothesisException
from hypothesis.stateful import run_state_machine_as_test

from invariants.registry import Invariant, Violation, select
from kmodel.actors import Actor
from kmodel.checking import CheckStats, InvariantViolation
from kmodel.config import ModelConfig
from kmodel.diff import describe_changes
from kmodel.errors import KModelError
from kmodel.machine import SETTLE, MachineSpec, build_machine, default_settings
from kmodel.model import Model, default_actors
from kmodel.report import Counterexample, InvariantResult, RunReport, StepRow, write_report
from kmodel.report.write import atomic_write
from kmodel.runner import run_scenario
from kmodel.scenario import ExpectStep, Scenario, SettleStep, load_scenario, scenario_yaml
from kmodel.state import ClusterState, empty_state

ALWAYS_ON = ("scheduler", "kubelet")
DEFAULT_SCENARIO = Path(__file__).parent / "scenarios" / "default.yaml"
EXPLORE_SETTLE = SettleStep()


@dataclass
class ExploreOptions:
    """Budget, seed and selections of one exploration."""

    scenario: Scenario
    examples: int = 100
    steps: int = 30
    seed: int = 0
    time_budget: float | None = None
    invariants: Sequence[str] | None = None
    controllers: Sequence[str] | None = None
    out_dir: Path = Path("reports")
    run_name: str | None = None
    chunk: int = 25
    command: str = ""
    actor_overrides: Sequence[Actor] = ()
    progress: Callable[[int, int], None] | None = None
    coverage: bool = False
    differential: bool = False
    replay_flags: str = ""


@dataclass
class ExploreOutcome:
    """What an exploration found, and where the report is."""

    report: RunReport
    directory: Path
    violations: list[Violation] = field(default_factory=list)


def build_model(config: ModelConfig, controllers: Sequence[str] | None = None, overrides: Sequence[Actor] = ()) -> Model:
    """The reference model, optionally restricted to some controllers, with actors replaced."""
    actors = list(default_actors())
    if controllers is not None:
        known = {a.name for a in actors}
        unknown = [c for c in controllers if c not in known]
        if unknown:
            raise KModelError(f"unknown controller(s): {', '.join(unknown)}; known: {', '.join(sorted(known))}")
        actors = [a for a in actors if a.name in ALWAYS_ON or a.name in controllers]
    model = Model(config, actors)
    for o in overrides:
        model = model.with_actor(o)
    return model


def _scenario_steps(scenario: Scenario) -> list[Any]:
    return [s for s in scenario.steps if not isinstance(s, ExpectStep)]


def _rows(model: Model, steps: Sequence[Any]) -> list[StepRow]:
    rows: list[StepRow] = []
    state = empty_state()
    for i, step in enumerate(steps):
        prev = state
        if step is SETTLE or isinstance(step, SettleStep):
            state = model.settle(prev).state
            label = "settle (run every controller to a fixpoint)"
        else:
            state = model.step(prev, step)
            label = step.describe()
        rows.append(StepRow(i, label, state.clock, describe_changes(prev, state)))
    return rows


def _invariant_results(invs: Sequence[Invariant], stats: CheckStats, violations: Sequence[Violation]) -> list[InvariantResult]:
    out = []
    for inv in invs:
        found = [str(v) for v in violations if v.invariant == inv.name]
        if found:
            status = "violated"
        elif stats.exercised[inv.name] == 0:
            status = "not exercised"
        else:
            status = "held"
        out.append(InvariantResult(inv.name, inv.kind.value, inv.statement, inv.source, status, stats.checked[inv.name], stats.exercised[inv.name], found))
    return out


def _chunk_seed(seed: int, k: int) -> int:
    return seed * 1_000_003 + k


def explore(opts: ExploreOptions) -> ExploreOutcome:
    """Run an exploration and write its report; see the module docstring."""
    scenario = opts.scenario
    invs = select(opts.invariants if opts.invariants is not None else scenario.explore.invariants)
    model = build_model(scenario.config, opts.controllers, opts.actor_overrides)
    run_name = opts.run_name or f"{scenario.name}-seed{opts.seed}"
    directory = opts.out_dir / run_name
    started = time.monotonic()
    stats = CheckStats()
    notes: list[str] = []
    violations: list[Violation] = []
    recorded: list[Any] = []
    status = "passed"
    examples_run = 0

    from kmodel.report.coverage_probe import measure

    probe = measure(opts.coverage)
    coverage_results = probe.__enter__()
    setup = run_scenario(scenario, invariants=invs, model=model)
    stats.merge(setup.checker.stats)
    notes.extend(f"scenario expectation failed: {f}" for f in setup.failures)
    base_steps = _scenario_steps(scenario)
    if setup.violations:
        violations = setup.violations
        status = "violated"
    else:
        spec = MachineSpec(
            model=model,
            invariants=invs,
            initial=setup.state,
            user_actions=scenario.explore.user_actions,
            faults=scenario.explore.faults,
            max_faults=scenario.explore.max_faults,
            stats=stats,
        )

        def count() -> None:
            nonlocal examples_run
            examples_run += 1
            if opts.progress is not None:
                opts.progress(examples_run, opts.examples)

        spec.on_example = count
        if opts.differential and opts.actor_overrides:
            from kmodel.differential import Differential

            reference = build_model(scenario.config, opts.controllers)
            spec.at_fixpoint = Differential(reference, tuple(a.name for a in opts.actor_overrides)).check
        machine = build_machine(spec)
        k = 0
        done = 0
        try:
            while done < opts.examples:
                if opts.time_budget is not None and time.monotonic() - started > opts.time_budget:
                    notes.append(f"time budget of {opts.time_budget:g}s reached after {done} of {opts.examples} example batches' worth")
                    break
                n = min(opts.chunk, opts.examples - done)
                try:
                    run_state_machine_as_test(hypothesis_seed(_chunk_seed(opts.seed, k))(machine), settings=default_settings(n, opts.steps))
                except InvariantViolation as e:
                    violations = e.violations
                    recorded = list(spec.recording.steps)
                    status = "violated"
                    break
                except HypothesisException:
                    raise
                except Exception as e:  # noqa: BLE001 - a crash in the model is a finding too
                    violations = [Violation("model-error", f"{type(e).__name__}: {e}")]
                    recorded = list(spec.recording.steps)
                    status = "violated"
                    break
                done += n
                k += 1
        except KeyboardInterrupt:
            status = "interrupted"
            notes.append("interrupted by the user; the report holds what was found so far")

    probe.__exit__(None, None, None)
    counterexample = None
    if violations:
        steps = base_steps + [EXPLORE_SETTLE if s is SETTLE else s for s in recorded]
        names = sorted({v.invariant for v in violations})
        yaml_text = scenario_yaml(
            f"{run_name}-counterexample",
            steps,
            scenario.config,
            description=f"Counterexample found by `kmodel explore` (seed {opts.seed}) violating {', '.join(names)}.",
        )
        path = directory / "counterexample.yaml"
        atomic_write(path, yaml_text)
        reproduced = None
        try:
            replay = run_scenario(load_scenario(path), invariants=invs, model=build_model(scenario.config, opts.controllers, opts.actor_overrides))
            reproduced = any(v.invariant in names for v in replay.violations)
        except KModelError as e:
            notes.append(f"could not replay the counterexample: {e}")
        counterexample = Counterexample(
            invariants=names,
            message="\n".join(str(v) for v in violations),
            steps=_rows(model, steps),
            scenario_file=str(path),
            replay_command=f"kmodel run {shlex.quote(str(path))}{opts.replay_flags}",
            reproduced=reproduced,
        )
    elapsed = time.monotonic() - started
    report = RunReport(
        run_name=run_name,
        command=opts.command or "kmodel explore",
        scenario=scenario.source,
        engine="hypothesis",
        seed=opts.seed,
        status=status,
        kubernetes_version=scenario.config.kubernetes_version,
        budget={"examples": opts.examples, "steps per example": opts.steps, **({"time (s)": opts.time_budget} if opts.time_budget else {})},
        stats={
            "examples run": examples_run,
            "transitions": stats.transitions,
            "distinct states": len(stats.states),
            "quiescent states checked": stats.quiescent_states,
        },
        action_mix=dict(sorted(stats.actions.items())),
        invariants=_invariant_results(invs, stats, violations),
        counterexample=counterexample,
        notes=notes,
        coverage=coverage_results,
        progress=stats.progress + [(stats.transitions, len(stats.states))],
        timing={"seconds": round(elapsed, 3), "transitions per second": round(stats.transitions / elapsed, 1) if elapsed > 0 else 0.0},
    )
    write_report(report, directory)
    return ExploreOutcome(report, directory, violations)


def default_scenario() -> Scenario:
    """The built-in scenario `kmodel explore` uses when none is given."""
    return load_scenario(DEFAULT_SCENARIO)


def main_progress(total: int) -> Callable[[int, int], None] | None:
    """A progress callback writing to stderr when it is a terminal."""
    if not sys.stderr.isatty():
        return None

    def show(done: int, _total: int) -> None:
        width = 30
        filled = min(width, done * width // max(total, 1))
        sys.stderr.write(f"\r  exploring [{'#' * filled}{'.' * (width - filled)}] {done}/{total} examples")
        sys.stderr.flush()

    return show


__all__ = ["ExploreOptions", "ExploreOutcome", "build_model", "default_scenario", "explore", "ClusterState"]
