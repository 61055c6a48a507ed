"""Run a catalogue entry (or the reference it breaks) under one engine and measure how
long kmodel takes to catch it.

* Hypothesis: the same exploration `kmodel explore` runs (setup from the scenario, the
  scenario's fault and user-action menu, the same per-chunk seeds), stopped at the first
  counterexample: shrinking is left out, so the time and the number of examples are those
  *to* the counterexample. `explore()` finds the same first counterexample and then
  shrinks it.
* Exhaustive: `kmodel explore --exhaustive` itself (`run_exhaustive`, stopping at the
  first finding), reporting the distinct states visited when the finding was made.
"""

from __future__ import annotations

import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from hypothesis import Phase, settings
from hypothesis import seed as hypothesis_seed
from hypothesis.stateful import run_state_machine_as_test

from invariants.registry import Invariant, Kind, Violation, select
from kmodel.catalogue import Bug, Engine
from kmodel.checking import CheckStats, InvariantViolation
from kmodel.errors import KModelError
from kmodel.exhaustive_run import ExhaustiveOptions, run_exhaustive
from kmodel.explore import _chunk_seed, build_model
from kmodel.machine import MachineSpec, build_machine, default_settings
from kmodel.runner import run_scenario

# explore.ExploreOptions.chunk: examples per Hypothesis run, each with its own seed
CHUNK = 25


@dataclass
class Detection:
    """What one engine found for one implementation (the bug or the reference)."""

    bug: str
    engine: Engine
    implementation: str  # "bug" or "reference"
    caught: bool
    invariants: tuple[str, ...] = ()
    message: str = ""
    seconds: float = 0.0
    examples: int | None = None
    states: int | None = None
    transitions: int | None = None
    complete: bool | None = None
    reproduced: bool | None = None
    notes: list[str] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        """Plain data for results files."""
        return {
            "caught": self.caught,
            "invariants": list(self.invariants),
            "seconds": round(self.seconds, 3),
            "examples": self.examples,
            "states": self.states,
            "transitions": self.transitions,
            "complete": self.complete,
            "reproduced": self.reproduced,
            "message": self.message[:300],
            "notes": self.notes,
        }


def _overrides(bug: Bug, reference: bool) -> list[Any]:
    return [] if reference else [bug.make()]


def _summary(violations: list[Violation]) -> tuple[tuple[str, ...], str]:
    return tuple(sorted({v.invariant for v in violations})), "\n".join(str(v) for v in violations)


def hypothesis_detection(
    bug: Bug,
    *,
    reference: bool = False,
    seed: int | None = None,
    examples: int | None = None,
    steps: int | None = None,
    time_budget: float | None = None,
) -> Detection:
    """Explore the bug's scenario with Hypothesis until the first counterexample (no shrinking)
    or until the budget (`examples` of `steps` steps, defaults from the catalogue entry, and
    `time_budget` seconds, checked between chunks of 25 examples as `kmodel explore --time`
    does) is spent."""
    seed = bug.seed if seed is None else seed
    examples = bug.examples if examples is None else examples
    steps = bug.steps if steps is None else steps
    impl = "reference" if reference else "bug"
    scenario = bug.load_scenario()
    started = time.perf_counter()
    invs = select(scenario.explore.invariants)
    model = build_model(scenario.config, None, _overrides(bug, reference))
    setup = run_scenario(scenario, invariants=invs, model=model)
    if setup.failures:
        raise KModelError(f"{bug.scenario}: the scenario's own expectations fail with the {impl}: {setup.failures}")
    if setup.violations:
        names, message = _summary(setup.violations)
        return Detection(bug.id, "hypothesis", impl, True, names, message, time.perf_counter() - started, examples=0, notes=["found while setting up"])
    stats = CheckStats()
    spec = MachineSpec(
        model=model,
        invariants=invs,
        initial=setup.state,
        user_actions=scenario.explore.user_actions,
        faults=scenario.explore.faults,
        max_faults=scenario.explore.max_faults,
        stats=stats,
    )
    counter = [0]

    def count() -> None:
        counter[0] += 1

    spec.on_example = count
    first: list[int] = []
    base = build_machine(spec)

    class Recording(base):  # type: ignore[misc, valid-type]
        """Notes the example in which the first violation shows up."""

        def _check(self, found: list[Any], where: str) -> None:
            if found and not first:
                first.append(counter[0])
            super()._check(found, where)

    done = 0
    k = 0
    violations: list[Violation] = []
    notes: list[str] = []
    while done < examples:
        if time_budget is not None and time.perf_counter() - started > time_budget:
            notes.append(f"time budget of {time_budget:g}s spent after {counter[0]} examples")
            break
        n = min(CHUNK, examples - done)
        run_settings = settings(default_settings(n, steps), phases=[Phase.explicit, Phase.reuse, Phase.generate])
        try:
            run_state_machine_as_test(hypothesis_seed(_chunk_seed(seed, k))(Recording), settings=run_settings)
        except InvariantViolation as e:
            violations = e.violations
            break
        except Exception as e:  # noqa: BLE001 - a crash in the model (or the bug) is a finding too
            violations = [Violation("model-error", f"{type(e).__name__}: {e}")]
            break
        done += n
        k += 1
    seconds = time.perf_counter() - started
    names, message = _summary(violations)
    found_in = (first[0] if first else counter[0]) if violations else counter[0]
    return Detection(
        bug.id,
        "hypothesis",
        impl,
        bool(violations),
        names,
        message,
        seconds,
        examples=found_in,
        transitions=stats.transitions,
        states=len(stats.states),
        notes=notes,
    )


def exhaustive_detection(bug: Bug, *, reference: bool = False, max_states: int | None = None, out_dir: Path | None = None) -> Detection:
    """`kmodel explore --exhaustive` on the bug's scenario (its declared scope), stopping at
    the first finding; reports go to `out_dir` (a temporary directory by default)."""
    impl = "reference" if reference else "bug"
    scenario = bug.load_scenario()
    started = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="kmodel-catalogue-") as tmp:
        opts = ExhaustiveOptions(
            scenario=scenario,
            max_states=max_states,
            out_dir=out_dir or Path(tmp),
            run_name=f"{bug.id}-{impl}",
            actor_overrides=_overrides(bug, reference),
        )
        report, _, result = run_exhaustive(opts)
    seconds = time.perf_counter() - started
    failed = [n for n in report.notes if n.startswith("scenario expectation failed")]
    if failed:
        raise KModelError(f"{bug.scenario}: the scenario's own expectations fail with the {impl}: {failed}")
    violated = [i.name for i in report.invariants if i.status == "violated"]
    # (run_exhaustive notes "exploration incomplete" with an empty reason when it stopped at a finding)
    notes = [n for n in report.notes if not n.startswith("exploration incomplete: ;")]
    message = report.counterexample.message if report.counterexample is not None else ""
    if report.counterexample is not None and "livelock" in report.counterexample.invariants:
        violated.append("livelock")
    reproduced: bool | None = None
    if report.status == "violated" and result is not None and result.findings:
        # Confirm the first finding on a fresh model (no exploration scope, empty caches): the
        # report's own replay does not check quiescence invariants at the end of the path, so
        # it reports a deadlock as not reproduced; and a finding that only exists inside the
        # exploration (states conflated by a fingerprint defect, as before e948405) is rejected.
        confirmed = confirm_finding(scenario, _overrides(bug, reference), result.findings[0].path)
        reproduced = bool(confirmed)
        if not confirmed:
            notes.append(f"finding not reproduced by replaying its path on a fresh model: {message[:200]}")
        violated = sorted(confirmed)
    caught = report.status == "violated" and reproduced is not False
    if result is None:
        notes.append("found while setting up")
    return Detection(
        bug.id,
        "exhaustive",
        impl,
        caught,
        tuple(sorted(set(violated))),
        message,
        seconds,
        states=result.distinct_states if result is not None else 0,
        transitions=result.transitions if result is not None else 0,
        complete=result.complete if result is not None else None,
        reproduced=reproduced,
        notes=notes,
    )


def confirm_finding(scenario: Any, overrides: list[Any], path: list[Any]) -> set[str]:
    """The invariants violated when `path` is replayed from the scenario's setup on a fresh
    model: transition and always-invariants along the path, quiescence-invariants at its end
    if that is a fixpoint."""
    from kmodel.checking import Checker

    invs = select(scenario.explore.invariants)
    model = build_model(scenario.config, None, overrides)
    state = run_scenario(scenario, invariants=invs, model=model).state
    checker = Checker(invs)
    found: list[Violation] = []
    for action in path:
        nxt = model.step(state, action)
        found.extend(checker.transition_(state, action, nxt))
        state = nxt
    if model.is_quiescent(state):
        found.extend(checker.at_quiescence(state))
    return {v.invariant for v in found}


def detect(bug: Bug, engine: Engine | None = None, *, reference: bool = False) -> Detection:
    """Run `engine` (the bug's own engine by default) on the bug or on the reference."""
    engine = engine or bug.engine
    if engine == "hypothesis":
        return hypothesis_detection(bug, reference=reference)
    return exhaustive_detection(bug, reference=reference)


__all__ = ["Detection", "WitnessSearch", "confirm_finding", "detect", "exhaustive_detection", "hypothesis_detection", "witness_search"]


@dataclass
class WitnessSearch:
    """Whether an exhaustive exploration reaches a state showing a known miss's misbehaviour."""

    bug: str
    implementation: str
    witnessed: bool
    states: int
    complete: bool


def witness_search(bug: Bug, *, reference: bool = False, max_states: int | None = None) -> WitnessSearch:
    """Explore the bug's scenario exhaustively (its scope, no invariants) and report whether
    some state satisfies the entry's `witness` predicate (`package.module:function`)."""
    from kmodel.exhaustive import Bounds, explore_exhaustive
    from kmodel.model import Scope
    from kmodel.plugins import load_object

    if not bug.witness:
        raise KModelError(f"{bug.id} has no witness")
    predicate = load_object(bug.witness)
    scenario = bug.load_scenario()
    model = build_model(scenario.config, None, _overrides(bug, reference))
    setup = run_scenario(scenario, invariants=[], model=model)
    ex = scenario.explore
    start = setup.state
    scope = Scope(
        script=ex.script,
        faults=ex.faults,
        max_faults=ex.max_faults,
        max_exits=ex.max_exits,
        exit_codes=ex.exit_codes,
        add_nodes=ex.add_nodes,
        horizon=None if ex.horizon is None else start.clock + ex.horizon,
    )

    def found(state: Any) -> list[Violation]:
        return [Violation("witness", f"{bug.witness} holds")] if predicate(state) else []

    witness = Invariant("witness", Kind.ALWAYS, f"{bug.witness} does not hold", found)
    bound = max_states if max_states is not None else ex.max_states
    result = explore_exhaustive(model.with_scope(scope), start, [witness], Bounds(max_depth=ex.max_depth, max_states=bound), graph=False)
    return WitnessSearch(bug.id, "reference" if reference else "bug", bool(result.findings), result.distinct_states, result.complete)
