"""The `kmodel` command line.

Errors in the user's input (files, manifests, scenarios, options) are printed as one
clear message naming the file, object and field, with exit status 2 — never a traceback.
Exit status 1 means an invariant was violated or an expectation failed.
"""

from __future__ import annotations

import json
import shlex
import sys
from pathlib import Path

import typer

from kmodel.errors import KModelError

app = typer.Typer(
    add_completion=False,
    no_args_is_help=True,
    help="kmodel: a property-based model checker for Kubernetes workload semantics.",
    pretty_exceptions_enable=False,
)

EXIT_VIOLATION = 1
EXIT_INPUT = 2


def _fail(message: str) -> None:
    typer.echo(f"kmodel: error: {message}", err=True)
    raise typer.Exit(EXIT_INPUT)


def _replay_flags(plugins: list[str], impls: list[str]) -> str:
    return "".join(f" --plugin {shlex.quote(p)}" for p in plugins) + "".join(f" --impl {shlex.quote(i)}" for i in impls)


def _load_plugins_and_impls(plugins: list[str], impls: list[str]) -> list:
    """Load plugin modules (and installed entry-point plugins), then the --impl actors."""
    from kmodel.plugins import load_entry_point_plugins, load_impl, load_plugin

    try:
        load_entry_point_plugins()
        for p in plugins:
            load_plugin(p)
        return [load_impl(i) for i in impls]
    except KModelError as e:
        _fail(str(e))
        return []


def _split(value: str | None) -> list[str] | None:
    if value is None:
        return None
    return [v.strip() for v in value.split(",") if v.strip()]


@app.command()
def explore(
    scenario: Path | None = typer.Argument(None, help="Scenario to start from (default: the built-in scenario)."),
    examples: int = typer.Option(100, "--examples", "-n", min=1, help="Number of random runs (Hypothesis examples)."),
    steps: int = typer.Option(30, "--steps", min=1, help="Steps per run."),
    seed: int = typer.Option(0, "--seed", help="Seed; the same seed and inputs give the same exploration and report."),
    time_budget: float | None = typer.Option(None, "--time", help="Stop after this many seconds (cuts the run short)."),
    invariants: str | None = typer.Option(None, "--invariants", help="Comma-separated invariant names (default: all)."),
    controllers: str | None = typer.Option(None, "--controllers", help="Comma-separated controllers to run (default: all)."),
    out: Path = typer.Option(Path("reports"), "--out", help="Directory for reports."),
    run_name: str | None = typer.Option(None, "--run-name", help="Report sub-directory (default: <scenario>-seed<seed>)."),
    profile: str | None = typer.Option(None, "--profile", help="Budget preset: ci, dev or thorough (overrides --examples/--steps)."),
    exhaustive: bool = typer.Option(False, "--exhaustive", help="Explore every interleaving within the scenario's declared scope (breadth-first)."),
    max_depth: int | None = typer.Option(None, "--max-depth", help="Exhaustive: depth bound."),
    max_states: int | None = typer.Option(None, "--max-states", help="Exhaustive: distinct-state budget."),
    horizon: int | None = typer.Option(None, "--horizon", help="Exhaustive: model seconds the clock may advance."),
    workers: int = typer.Option(1, "--workers", min=1, help="Exhaustive: worker processes."),
    no_symmetry: bool = typer.Option(False, "--no-symmetry", help="Exhaustive: disable symmetry reduction."),
    no_graph: bool = typer.Option(False, "--no-graph", help="Exhaustive: keep fingerprints only (no state graph, no livelock analysis)."),
    coverage: bool = typer.Option(True, "--coverage/--no-coverage", help="Report which lines and branches of each actor the run exercised."),
    impl: list[str] = typer.Option([], "--impl", help="Replace a reference actor: NAME=package.module:Class (repeatable)."),
    plugin: list[str] = typer.Option([], "--plugin", help="Load a plugin module registering kinds, controllers, invariants (repeatable)."),
    differential: bool = typer.Option(False, "--differential", help="With --impl: compare every fixpoint with the reference controllers."),
) -> None:
    """Explore interleavings from a scenario (random with Hypothesis, or --exhaustive) and write reports/<run>/."""
    from kmodel.explore import ExploreOptions, default_scenario, main_progress
    from kmodel.explore import explore as run_explore
    from kmodel.profiles import PROFILES
    from kmodel.scenario import load_scenario

    overrides = _load_plugins_and_impls(plugin, impl)
    if exhaustive:
        _explore_exhaustive(
            scenario,
            max_depth,
            max_states,
            horizon,
            workers,
            not no_symmetry,
            not no_graph,
            invariants,
            controllers,
            out,
            run_name,
            coverage,
            overrides,
            differential,
            _replay_flags(plugin, impl),
        )
        return
    try:
        if profile is not None:
            if profile not in PROFILES:
                _fail(f"unknown profile {profile!r}; use one of {', '.join(PROFILES)}")
            examples, steps = PROFILES[profile]
        sc = load_scenario(scenario) if scenario is not None else default_scenario()
        opts = ExploreOptions(
            scenario=sc,
            examples=examples,
            steps=steps,
            seed=seed,
            time_budget=time_budget,
            invariants=_split(invariants),
            controllers=_split(controllers),
            out_dir=out,
            run_name=run_name,
            command="kmodel " + " ".join(shlex.quote(a) for a in sys.argv[1:]),
            progress=main_progress(examples),
            coverage=coverage,
            actor_overrides=overrides,
            differential=differential,
            replay_flags=_replay_flags(plugin, impl),
        )
        outcome = run_explore(opts)
    except KModelError as e:
        _fail(str(e))
    except KeyError as e:
        _fail(str(e.args[0]) if e.args else str(e))
    if sys.stderr.isatty():
        sys.stderr.write("\n")
    r = outcome.report
    typer.echo(
        f"{r.status.upper()}: {r.stats.get('examples run')} examples, {r.stats.get('transitions')} transitions, "
        f"{r.stats.get('distinct states')} distinct states; report in {outcome.directory}/report.md",
        err=True,
    )
    if r.counterexample is not None:
        typer.echo(r.counterexample.message, err=True)
        typer.echo(f"replay with: {r.counterexample.replay_command}", err=True)
    raise typer.Exit(EXIT_VIOLATION if r.status == "violated" else 130 if r.status == "interrupted" else 0)


def _explore_exhaustive(
    scenario: Path | None,
    max_depth: int | None,
    max_states: int | None,
    horizon: int | None,
    workers: int,
    symmetry: bool,
    graph: bool,
    invariants: str | None,
    controllers: str | None,
    out: Path,
    run_name: str | None,
    coverage: bool,
    overrides: list,
    differential: bool,
    replay_flags: str,
) -> None:
    from kmodel.exhaustive_run import ExhaustiveOptions, run_exhaustive
    from kmodel.explore import default_scenario
    from kmodel.scenario import load_scenario

    try:
        sc = load_scenario(scenario) if scenario is not None else default_scenario()
        report, directory, _ = run_exhaustive(
            ExhaustiveOptions(
                scenario=sc,
                max_depth=max_depth,
                max_states=max_states,
                horizon=horizon,
                workers=workers,
                symmetry=symmetry,
                graph=graph,
                invariants=_split(invariants),
                controllers=_split(controllers),
                out_dir=out,
                run_name=run_name,
                command="kmodel " + " ".join(shlex.quote(a) for a in sys.argv[1:]),
                progress=True,
                coverage=coverage,
                actor_overrides=overrides,
                differential=differential,
                replay_flags=replay_flags,
            )
        )
    except KModelError as e:
        _fail(str(e))
    except KeyError as e:
        _fail(str(e.args[0]) if e.args else str(e))
    s = report.stats
    typer.echo(
        f"{report.status.upper()}: {s.get('distinct states')} distinct states, {s.get('transitions')} transitions, depth {s.get('depth')}, "
        f"complete: {s.get('complete')}; report in {directory}/report.md",
        err=True,
    )
    if report.counterexample is not None:
        typer.echo(report.counterexample.message, err=True)
        typer.echo(f"replay with: {report.counterexample.replay_command}", err=True)
    raise typer.Exit(EXIT_VIOLATION if report.status == "violated" else 130 if report.status == "interrupted" else 0)


@app.command()
def run(
    scenario: Path = typer.Argument(..., help="Scenario file to run."),
    output: Path | None = typer.Option(None, "--output", "-o", help="Write the final objects here instead of stdout."),
    invariants: str | None = typer.Option(None, "--invariants", help="Comma-separated invariant names (default: all)."),
    quiet: bool = typer.Option(False, "--quiet", "-q", help="Print only problems on stderr."),
    impl: list[str] = typer.Option([], "--impl", help="Replace a reference actor: NAME=package.module:Class (repeatable)."),
    plugin: list[str] = typer.Option([], "--plugin", help="Load a plugin module registering kinds, controllers, invariants (repeatable)."),
) -> None:
    """Run a scenario; print the final objects as a Kubernetes List (JSON) and the invariant results."""
    from invariants.registry import select
    from kmodel.objects.serde import as_list
    from kmodel.report.write import atomic_write
    from kmodel.runner import run_scenario
    from kmodel.scenario import load_scenario

    overrides = _load_plugins_and_impls(plugin, impl)
    try:
        sc = load_scenario(scenario)
        invs = select(_split(invariants))
        from kmodel.explore import build_model

        result = run_scenario(sc, invariants=invs, model=build_model(sc.config, None, overrides))
    except KModelError as e:
        _fail(str(e))
    except KeyError as e:
        _fail(str(e.args[0]) if e.args else str(e))
    doc = as_list(list(result.state.all_objects()), sc.config.epoch)
    text = json.dumps(doc, indent=2) + "\n"
    if output is not None:
        atomic_write(output, text)
    else:
        sys.stdout.write(text)
    stats = result.checker.stats
    if not quiet:
        typer.echo(f"scenario {sc.name}: {len(sc.steps)} steps, t={result.state.clock}s, {stats.transitions} transitions checked", err=True)
        for inv in invs:
            n_viol = sum(1 for v in result.violations if v.invariant == inv.name)
            state = "VIOLATED" if n_viol else ("held" if stats.exercised[inv.name] else "not exercised")
            typer.echo(f"  {inv.name:32s} {state}", err=True)
    for v in result.violations:
        typer.echo(f"VIOLATION {v}", err=True)
    for f in result.failures:
        typer.echo(f"EXPECTATION FAILED {f}", err=True)
    raise typer.Exit(0 if result.ok else EXIT_VIOLATION)


EXIT_UNKNOWN = 3


@app.command()
def placement(
    manifests: list[Path] = typer.Argument(..., help="Manifest files (YAML/JSON) with the Nodes and the workloads."),
    timeout: float = typer.Option(30.0, "--timeout", min=0.001, help="Seconds the solver may take per question."),
    no_model: bool = typer.Option(False, "--no-model", help="Do not run the model's scheduler (no fragmentation check)."),
    as_json: bool = typer.Option(False, "--json", help="Print the report as JSON."),
) -> None:
    """Can every desired pod of the workloads run on the Nodes (Z3)? Explains why not, and reports
    fragmentation when the model's greedy scheduler strands pods a full placement fits.

    Exit status: 0 all desired pods can run and the model places them; 1 infeasible or fragmented;
    2 bad input; 3 the solver could not decide.
    """
    from kmodel.placement.analysis import analyse_workloads, render, to_json
    from kmodel.placement.encode import SolverLimits
    from kmodel.placement.inputs import load_manifests

    try:
        objects, _ = load_manifests(manifests)
        report = analyse_workloads(objects, limits=SolverLimits(timeout_ms=int(timeout * 1000)), run_model=not no_model)
    except KModelError as e:
        _fail(str(e))
    sys.stdout.write(json.dumps(to_json(report), indent=2, sort_keys=True) + "\n" if as_json else render(report))
    verdict = report.verdict
    raise typer.Exit({"ok": 0, "unknown": EXIT_UNKNOWN}.get(verdict, EXIT_VIOLATION))


@app.command()
def prove(
    theory: list[str] = typer.Option(None, "--theory", help="deployment, daemonset or statefulset (repeatable; default: all)."),
    timeout: float = typer.Option(60.0, "--timeout", min=0.001, help="Seconds the solver may take per property."),
    samples: int = typer.Option(300, "--samples", min=1, help="Random inputs for the cross-check against the Python functions."),
    seed: int = typer.Option(0, "--seed", help="Seed of the cross-check sample."),
) -> None:
    """Prove the rollout arithmetic (Deployment fence posts, DaemonSet and StatefulSet maxUnavailable/maxSurge)
    for every parameter within its bounds, with Z3; print each property and its verdict.

    Exit status: 0 every property proved and the encoding agrees with the Python functions; 1 a property
    is false (a counterexample is printed) or the encoding disagrees; 2 bad input; 3 the solver gave up.
    """
    from kmodel.prove import FALSE, UNKNOWN, prove_theory, render, select_theories

    try:
        theories = select_theories(theory or None)
    except KeyError as e:
        _fail(str(e.args[0]) if e.args else str(e))
    results = [prove_theory(t, timeout_ms=int(timeout * 1000), samples=samples, seed=seed) for t in theories]
    sys.stdout.write(render(results))
    statuses = {r.status for r in results}
    raise typer.Exit(EXIT_VIOLATION if FALSE in statuses else EXIT_UNKNOWN if UNKNOWN in statuses else 0)


@app.command("reference")
def reference_report(
    out: Path = typer.Option(Path("reports/reference"), "--out", help="Directory of the reference report (its runs/ is rewritten)."),
    quick: bool = typer.Option(False, "--quick", help="Tiny budgets (for tests): every run, far fewer states; not the reference."),
    jobs: int = typer.Option(2, "--jobs", "-j", min=1, help="Runs in parallel (processes); results do not depend on it."),
) -> None:
    """Regenerate the reference report of the model (reports/reference/): explore every built-in
    scenario with fixed seeds and small exhaustive scopes, with per-actor coverage, and write the
    combined report (index.html, report.md, report.json, junit.xml) and each run's report under runs/.

    The same command writes byte-identical reports; wall-clock figures go to timing.json only.
    Exit status: 0 every run passed; 1 some invariant was violated.
    """
    from kmodel.reference import main_progress, reference

    try:
        report = reference(out, quick=quick, jobs=jobs, progress=main_progress())
    except KModelError as e:
        _fail(str(e))
    typer.echo(
        f"{report.status.upper()}: {report.invariant_summary()} {report.stats.get('transitions')} transitions in {report.budget.get('runs')} runs "
        f"({report.timing.get('seconds', 0):.0f} s); report in {out}/index.html",
        err=True,
    )
    raise typer.Exit(EXIT_VIOLATION if report.status == "violated" else 130 if report.status == "interrupted" else 0)


@app.command("invariants")
def list_invariants() -> None:
    """List the registered invariants with their statements."""
    from invariants.registry import load_all

    for inv in load_all().values():
        typer.echo(f"{inv.name} ({inv.kind.value})\n    {inv.statement}\n    source: {inv.source}\n")


def _register_trace_commands() -> None:
    """kmodel validate / record / export (kmodel.validate.commands)."""
    from kmodel.validate.commands import register

    register(app)


_register_trace_commands()


def main() -> None:
    """Entry point of the `kmodel` console script."""
    try:
        app()
    except KModelError as e:  # pragma: no cover - commands catch their own
        typer.echo(f"kmodel: error: {e}", err=True)
        sys.exit(EXIT_INPUT)


if __name__ == "__main__":
    main()
