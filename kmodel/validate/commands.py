"""The `kmodel validate`, `kmodel record` and `kmodel export` commands (registered on the
main Typer app by `register`). Exit status of validate: 0 clean, 1 a violation, 2 an
input error (unreadable, malformed or truncated input; errors name file and line)."""

from __future__ import annotations

import shlex
import sys
from pathlib import Path

import typer

from kmodel.errors import KModelError

EXIT_VIOLATION = 1
EXIT_INPUT = 2


def _fail(message: str) -> None:
    typer.echo(f"kmodel: error: {message}", err=True)
    raise typer.Exit(EXIT_INPUT)


def _split(value: str | None) -> list[str] | None:
    if value is None:
        return None
    return [v.strip() for v in value.split(",") if v.strip()]


def validate_command(
    traces: list[Path] = typer.Argument(..., help="Trace files or directories: kubectl watch streams, audit logs, or one ITF trace."),
    fmt: str = typer.Option("auto", "--format", help="auto, watch, audit or itf."),
    invariants: str | None = typer.Option(None, "--invariants", help="Comma-separated invariant names (default: all)."),
    out: Path | None = typer.Option(None, "--out", help="Report directory (report.md/.json/.html, junit.xml, findings.json)."),
    kubernetes_version: str = typer.Option("", "--kubernetes-version", help="Kubernetes version of the recorded cluster (recorded in the report)."),
    lag: int = typer.Option(5, "--lag", min=0, help="Seconds of observation lag a controller decision may be judged against (0: none)."),
    verbose: bool = typer.Option(False, "--verbose", "-v", help="List every invariant, also those no step concerned."),
) -> None:
    """Check a recorded trace: ALWAYS invariants on every observed state, TRANSITION on every observed step, QUIESCENT where it ends settled."""
    from kmodel.validate.report import build_report, text, write
    from kmodel.validate.run import Options, validate

    try:
        result = validate(traces, Options(format=fmt, invariants=_split(invariants), kubernetes_version=kubernetes_version, lag_seconds=lag))
    except KModelError as e:
        _fail(str(e))
    except KeyError as e:
        _fail(str(e.args[0]) if e.args else str(e))
    typer.echo(text(result, verbose=verbose), err=True)
    if out is not None:
        command = "kmodel " + " ".join(shlex.quote(a) for a in sys.argv[1:])
        report = build_report(result, command=command, traces=[str(t) for t in traces], kubernetes_version=kubernetes_version)
        write(result, out, report)
        typer.echo(f"report in {out}/report.md", err=True)
    raise typer.Exit(result.exit_status)


def record_command(
    kinds: list[str] = typer.Argument(..., help="Kinds to watch, as kubectl names them (pods deployments replicasets nodes ...)."),
    namespace: str | None = typer.Option(None, "--namespace", "-n", help="Namespace (default: all namespaces)."),
    out: Path = typer.Option(..., "--out", help="Directory for the per-kind watch files (<plural>.jsonl)."),
    duration: float | None = typer.Option(None, "--duration", help="Stop after this many seconds (default: until Ctrl-C)."),
    max_events: int | None = typer.Option(None, "--max-events", help="Stop after this many events in all."),
    indent: int | None = typer.Option(None, "--indent", help="Indent each event as kubectl -o json does (default: one event per line)."),
    kubeconfig: str | None = typer.Option(None, "--kubeconfig", help="Path to a kubeconfig (default: $KUBECONFIG or ~/.kube/config)."),
    context: str | None = typer.Option(None, "--context", help="kubeconfig context."),
) -> None:
    """Record the watch stream of a live cluster in the format of kubectl get --watch --output-watch-events -o json (needs kmodel\\[record])."""
    from kmodel.validate.record import record

    try:
        rec = record(kinds, out, namespace=namespace, duration=duration, max_events=max_events, indent=indent, kubeconfig=kubeconfig, context=context)
    except KModelError as e:
        _fail(str(e))
    for err in rec.errors:
        typer.echo(f"kmodel: record: {err}", err=True)
    total = sum(rec.events.values())
    typer.echo(f"recorded {total} events ({', '.join(f'{k}: {n}' for k, n in rec.events.items())}) in {out}; validate with: kmodel validate {out}", err=True)
    raise typer.Exit(EXIT_INPUT if rec.errors else 0)


def export_command(
    scenario: Path = typer.Argument(..., help="Scenario to run."),
    out: Path = typer.Option(..., "--out", help="ITF trace to write (e.g. trace.itf.json)."),
) -> None:
    """Run a scenario and write every state of the run as an ITF trace (clock, objects as Kubernetes JSON keyed by kind/namespace/name, the action taken)."""
    from kmodel.scenario import load_scenario
    from kmodel.validate.export import export_scenario

    try:
        exported = export_scenario(load_scenario(scenario), out)
    except KModelError as e:
        _fail(str(e))
    typer.echo(f"wrote {exported.states} states to {exported.path}", err=True)


def register(app: typer.Typer) -> None:
    """Add validate, record and export to the kmodel command line."""
    app.command("validate")(validate_command)
    app.command("record")(record_command)
    app.command("export")(export_command)
