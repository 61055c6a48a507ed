"""`kmodel reference`: the reference report of the model itself (reports/reference/).

The reference model is explored from the built-in scenarios (kmodel/scenarios/default.yaml
and kmodel/scenarios/reference/*.yaml), which together exercise every registered invariant
and every actor: Hypothesis explorations with fixed seeds and small exhaustive scopes, all
with per-actor coverage. Each run writes its own report under runs/<run>/ (named like
`kmodel explore` names runs: <scenario>-seed<seed>, <scenario>-exhaustive); the combined
report — index.html, report.md, report.json, junit.xml — merges them: per invariant its
result over all runs, the states it was checked on and those with its subject, and the
runs that exercised it; the union of the runs' coverage; the runs' summed action mix.

Runs are independent: each runs in a fresh process (at most `jobs` at a time), so
neither the order nor the number of processes changes a result, and the same command
writes byte-identical report files. Wall-clock figures go to timing.json only.
"""

from __future__ import annotations

import multiprocessing
import shutil
import sys
import time
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from kmodel.report import InvariantResult, RunReport
from kmodel.report.coverage_probe import RawCoverage, collect_raw, summarise_raw
from kmodel.report.write import atomic_write, render_json, render_junit, render_markdown

SCENARIOS = Path(__file__).parent / "scenarios"
DEFAULT_OUT = Path("reports") / "reference"


@dataclass(frozen=True)
class RunSpec:
    """One run of the reference: a built-in scenario, an engine and its budget.

    `scenario` is relative to kmodel/scenarios/. Hypothesis runs use `examples` and
    `steps` with `seed`; exhaustive runs the scenario's declared scope with `max_states`.
    The `quick_*` budgets are for tests (`kmodel reference --quick`).
    """

    scenario: str
    engine: str = "hypothesis"
    seed: int = 1
    examples: int = 0
    steps: int = 0
    max_states: int | None = None
    quick_examples: int = 2
    quick_steps: int = 5
    quick_max_states: int = 40

    @property
    def stem(self) -> str:
        """The scenario's file name without .yaml."""
        return Path(self.scenario).stem

    @property
    def name(self) -> str:
        """The run's name, as `kmodel explore` names it."""
        return f"{self.stem}-exhaustive" if self.engine == "exhaustive" else f"{self.stem}-seed{self.seed}"

    @property
    def source(self) -> str:
        """The scenario's path from the repository root."""
        return f"kmodel/scenarios/{self.scenario}"

    def budget(self, quick: bool) -> tuple[int, int, int | None]:
        """(examples, steps, max states) for this mode."""
        if quick:
            return self.quick_examples, self.quick_steps, self.quick_max_states
        return self.examples, self.steps, self.max_states

    def command(self, quick: bool) -> str:
        """The `kmodel explore` command that repeats this run on its own."""
        examples, steps, max_states = self.budget(quick)
        path = "" if self.scenario == "default.yaml" else f" {self.source}"
        if self.engine == "exhaustive":
            return f"kmodel explore{path} --exhaustive" + (f" --max-states {max_states}" if max_states is not None else "")
        return f"kmodel explore{path} --seed {self.seed} -n {examples} --steps {steps}"


# The reference runs, in report order (the heavier Hypothesis runs first, so that two
# processes finish close together).
RUNS: tuple[RunSpec, ...] = (
    RunSpec("default.yaml", seed=1, examples=100, steps=30),
    RunSpec("reference/cronjobs.yaml", seed=1, examples=30, steps=20),
    RunSpec("reference/daemonset.yaml", seed=1, examples=60, steps=20),
    RunSpec("reference/jobs.yaml", seed=1, examples=200, steps=30),
    RunSpec("reference/statefulset.yaml", seed=1, examples=80, steps=25),
    RunSpec("reference/recreate.yaml", seed=1, examples=80, steps=25),
    RunSpec("reference/async.yaml", seed=1, examples=60, steps=25),
    RunSpec("reference/statefulset-rollout.yaml", engine="exhaustive", max_states=5000),
    RunSpec("reference/recreate-rollout.yaml", engine="exhaustive", max_states=5000),
)


@dataclass
class RunResult:
    """What one run produced, sent back from its process."""

    spec: RunSpec
    report: RunReport
    raw_coverage: RawCoverage = field(default_factory=dict)


def execute(spec: RunSpec, quick: bool, runs_dir: Path) -> RunResult:
    """Run one reference run and write its report under runs_dir/<run>/ (no timing.json:
    its wall-clock figures travel back in the result)."""
    from kmodel.scenario import load_scenario

    scenario = replace(load_scenario(SCENARIOS / spec.scenario), source=spec.source)
    examples, steps, max_states = spec.budget(quick)
    with collect_raw() as raws:
        if spec.engine == "exhaustive":
            from kmodel.exhaustive_run import ExhaustiveOptions, run_exhaustive

            report, directory, _ = run_exhaustive(
                ExhaustiveOptions(
                    scenario=scenario,
                    max_states=max_states,
                    out_dir=runs_dir,
                    run_name=spec.name,
                    command=spec.command(quick),
                    coverage=True,
                )
            )
        else:
            from kmodel.explore import ExploreOptions, explore

            outcome = explore(
                ExploreOptions(
                    scenario=scenario,
                    examples=examples,
                    steps=steps,
                    seed=spec.seed,
                    out_dir=runs_dir,
                    run_name=spec.name,
                    command=spec.command(quick),
                    coverage=True,
                )
            )
            report, directory = outcome.report, outcome.directory
    (directory / "timing.json").unlink(missing_ok=True)
    raw: RawCoverage = {}
    for r in raws:
        for rel, (lines, arcs) in r.items():
            old = raw.get(rel, ([], []))
            raw[rel] = (sorted({*old[0], *lines}), sorted({*old[1], *arcs}))
    return RunResult(spec, report, raw)


def _execute_args(args: tuple[RunSpec, bool, Path]) -> RunResult:
    return execute(*args)


def _merge_invariants(reports: Sequence[tuple[str, RunReport]]) -> list[InvariantResult]:
    merged: dict[str, InvariantResult] = {}
    for run, rep in reports:
        for inv in rep.invariants:
            m = merged.get(inv.name)
            if m is None:
                m = merged[inv.name] = InvariantResult(inv.name, inv.kind, inv.statement, inv.source, "not exercised")
            m.checked += inv.checked
            m.exercised += inv.exercised
            if inv.exercised:
                m.exercised_in.append(run)
            m.violations.extend(f"{run}: {v}" for v in inv.violations)
    for m in merged.values():
        m.status = "violated" if m.violations else "held" if m.exercised else "not exercised"
    return list(merged.values())


def combine(results: Sequence[RunResult], *, quick: bool) -> RunReport:
    """The combined report of the runs (in the order given)."""
    reports = [(res.spec.name, res.report) for res in results]
    statuses = [rep.status for _, rep in reports]
    status = "violated" if "violated" in statuses else "interrupted" if "interrupted" in statuses else "error" if "error" in statuses else "passed"
    actions: Counter[str] = Counter()
    progress: list[tuple[int, int]] = [(0, 0)]
    transitions = states = 0
    examples = quiescent = 0
    notes: list[str] = []
    runs: list[dict[str, Any]] = []
    for res in results:
        rep, name = res.report, res.spec.name
        actions.update(rep.action_mix)
        for t, s in rep.progress:
            progress.append((transitions + t, states + s))
        transitions += int(rep.stats.get("transitions", 0) or 0)
        states += int(rep.stats.get("distinct states", 0) or 0)
        progress.append((transitions, states))
        examples += int(rep.stats.get("examples run", 0) or 0)
        quiescent += int(rep.stats.get("quiescent states checked", rep.stats.get("fixpoints", 0)) or 0)
        notes.extend(f"{name}: {n}" for n in rep.notes)
        runs.append(
            {
                "name": name,
                "engine": rep.engine,
                "scenario": rep.scenario,
                "seed": rep.seed,
                "status": rep.status,
                "command": rep.command,
                "budget": rep.budget,
                "stats": rep.stats,
                "report": f"runs/{name}/report.html",
                "markdown": f"runs/{name}/report.md",
            }
        )
    counterexample = next((rep.counterexample for _, rep in reports if rep.counterexample is not None), None)
    if quick:
        notes.insert(0, "quick mode (kmodel reference --quick): tiny budgets, for tests; not the reference report")
    versions = sorted({rep.kubernetes_version for _, rep in reports})
    engines = Counter(res.spec.engine for res in results)
    return RunReport(
        run_name="reference",
        command="kmodel reference" + (" --quick" if quick else ""),
        scenario=", ".join(dict.fromkeys(rep.scenario for _, rep in reports)),
        engine=", ".join(f"{e} ({n} run{'s' if n > 1 else ''})" for e, n in sorted(engines.items())),
        seed=None,
        status=status,
        kubernetes_version=", ".join(versions),
        budget={"mode": "quick" if quick else "full", "runs": len(results)},
        stats={
            "runs passed": f"{statuses.count('passed')}/{len(statuses)}",
            "examples run": examples,
            "transitions": transitions,
            "distinct states (summed over runs)": states,
            "fixpoints checked": quiescent,
        },
        action_mix=dict(sorted(actions.items())),
        invariants=_merge_invariants(reports),
        counterexample=counterexample,
        notes=notes,
        coverage=summarise_raw([res.raw_coverage for res in results if res.raw_coverage]),
        progress=progress,
        runs=runs,
    )


def _prepare() -> None:
    """Import the engines and parse the actor modules once, before the runs' processes are
    forked from this one (they inherit the work instead of repeating it)."""
    import kmodel.exhaustive_run  # noqa: F401
    import kmodel.explore  # noqa: F401
    from invariants.registry import load_all
    from kmodel.report.coverage_probe import warm

    load_all()
    warm()
    try:  # Hypothesis collects the constants of the project's modules on its first draw
        from hypothesis.internal.conjecture.providers import _get_local_constants

        _get_local_constants()
    except ImportError:  # pragma: no cover - another Hypothesis version: each run collects them
        pass


def _context() -> Any:
    methods = multiprocessing.get_all_start_methods()
    return multiprocessing.get_context("fork" if "fork" in methods else "spawn")


def reference(
    out: Path = DEFAULT_OUT,
    *,
    quick: bool = False,
    jobs: int = 2,
    runs: Sequence[RunSpec] = RUNS,
    progress: Callable[[str], None] | None = None,
) -> RunReport:
    """Run the reference runs and write the combined report (and each run's) into `out`."""
    started = time.monotonic()
    runs_dir = out / "runs"
    if runs_dir.exists():
        shutil.rmtree(runs_dir)
    tasks = [(spec, quick, runs_dir) for spec in runs]
    _prepare()
    done: dict[str, RunResult] = {}
    with _context().Pool(processes=max(1, min(jobs, len(tasks))), maxtasksperchild=1) as pool:
        for res in pool.imap_unordered(_execute_args, tasks, chunksize=1):
            done[res.spec.name] = res
            if progress is not None:
                st = res.report.stats
                progress(
                    f"[{len(done)}/{len(tasks)}] {res.spec.name}: {res.report.status}, {st.get('transitions')} transitions, "
                    f"{st.get('distinct states')} distinct states ({res.report.timing.get('seconds', 0):.1f} s)"
                )
    results = [done[spec.name] for spec in runs]
    report = combine(results, quick=quick)
    from kmodel.report.html import render_html

    files = {
        "index.html": render_html(report),
        "report.md": render_markdown(report),
        "report.json": render_json(report),
        "junit.xml": render_junit(report),
    }
    for name, text in files.items():
        atomic_write(out / name, text)
    elapsed = time.monotonic() - started
    report.timing = {"seconds": round(elapsed, 3), "jobs": float(jobs)}
    timing = {"seconds": round(elapsed, 3), "jobs": jobs, "runs": {res.spec.name: res.report.timing for res in results}}
    import json

    atomic_write(out / "timing.json", json.dumps(timing, indent=2, sort_keys=True) + "\n")
    return report


def main_progress() -> Callable[[str], None]:
    """Progress lines on stderr."""

    def show(line: str) -> None:
        sys.stderr.write(f"  {line}\n")
        sys.stderr.flush()

    return show
