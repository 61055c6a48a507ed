"""A validation result as the standard reports (`kmodel.report`: report.md, report.json,
report.html, junit.xml) plus findings.json with every finding in full (the objects
before and after each violating step), and as text for the terminal."""

from __future__ import annotations

import json
from pathlib import Path

from invariants.registry import Kind
from kmodel.report import Counterexample, InvariantResult, RunReport, StepRow, write_report
from kmodel.report.write import atomic_write
from kmodel.validate.engine import Result


def invariant_status(result: Result, name: str) -> tuple[str, str]:
    """(status, explanation) of one invariant: violated, held, not judged, skipped or not
    exercised."""
    st = result.stats[name]
    p = result.policies[name]
    if st.violated:
        return "violated", f"{st.violated} violation(s)"
    if p.skip:
        return "skipped", f"not judged on traces: {p.skip}"
    not_judged = "; ".join(f"{why}: {n}" for why, n in st.not_judged.most_common())
    lag = f"{st.lag_explained} step(s) explained by observation lag" if st.lag_explained else ""
    extra = "; ".join(x for x in (lag, f"not judged — {not_judged}" if not_judged else "") if x)
    if st.checked:
        return "held", extra
    if st.not_judged:
        return "not judged", extra
    return "not exercised", "no step of the trace concerned it"


def build_report(result: Result, *, command: str, traces: list[str], kubernetes_version: str = "") -> RunReport:
    """The RunReport of a validation."""
    status = "error" if result.counts["input errors"] else "violated" if result.counts["violations"] else "passed"
    invs = []
    for inv in result.invariants:
        s, why = invariant_status(result, inv.name)
        st = result.stats[inv.name]
        statement = inv.statement + (f" [trace: {why}]" if why else "")
        violations = [f.headline() for f in result.findings if f.invariant == inv.name]
        invs.append(InvariantResult(inv.name, inv.kind.value, statement, inv.source, s, checked=st.checked, exercised=st.checked, violations=violations))
    counterexample = None
    first = next((f for f in result.findings if f.kind == "violation"), None)
    if first is not None:
        rows = [StepRow(1, f"{first.where} ({first.event}): {first.step}", first.clock, first.changes + [f"involved: {x}" for x in first.involved])]
        counterexample = Counterexample([first.invariant], first.headline(), rows)
    notes = [f.headline() for f in result.input_errors]
    notes += result.notes
    notes.append(
        "the trace ends settled: QUIESCENT invariants were checked"
        if result.settled
        else f"the trace does not end settled ({result.settled_reason}): QUIESCENT invariants were not checked"
    )
    stats = {
        "events": result.counts["events"],
        "states": result.counts["states"],
        "steps checked": result.counts["steps"],
        "violations": result.counts["violations"],
        "input errors": result.counts["input errors"],
        "objects at end": result.objects_at_end,
        "peak objects": result.peak_objects,
        "trace end settled": result.settled,
    }
    for k, v in sorted(result.counts.items()):
        if k not in ("events", "states", "steps", "violations", "input errors"):
            stats[k] = v
    return RunReport(
        run_name="validate",
        command=command,
        scenario=", ".join(traces),
        engine="validate (observed trace)",
        seed=None,
        status=status,
        kubernetes_version=kubernetes_version or "unknown (not given)",
        stats=stats,
        action_mix=dict(result.actors),
        invariants=invs,
        counterexample=counterexample,
        notes=notes,
        timing={"seconds": round(result.seconds, 3), "events_per_second": round(result.counts["events"] / result.seconds, 1) if result.seconds else 0.0},
    )


def write(result: Result, directory: Path, report: RunReport) -> list[Path]:
    """report.md/.json/.html, junit.xml, timing.json and findings.json in `directory`."""
    written = write_report(report, directory)
    path = directory / "findings.json"
    atomic_write(path, json.dumps([f.to_dict() for f in result.findings], indent=2, sort_keys=True) + "\n")
    return [*written, path]


def text(result: Result, *, verbose: bool = False) -> str:
    """A terminal summary: every finding with where it is, then the invariant table."""
    out: list[str] = []
    for f in result.findings:
        out.append(f.headline())
        if f.kind == "violation":
            out.append(f"    step: {f.step}")
            out.extend(f"    {c}" for c in f.changes[:12])
            out.extend(f"    involved: {x}" for x in f.involved[:6])
    if out:
        out.append("")
    for inv in result.invariants:
        s, why = invariant_status(result, inv.name)
        if s in ("not exercised",) and not verbose:
            continue
        kind = "Q" if inv.kind is Kind.QUIESCENT else "A" if inv.kind is Kind.ALWAYS else "T"
        out.append(f"  {inv.name:36s} {kind} {s:13s} {result.stats[inv.name].checked:7d} {why}")
    c = result.counts
    rate = c["events"] / result.seconds if result.seconds else 0.0
    verdict = "INPUT ERRORS" if c["input errors"] else "VIOLATED" if c["violations"] else "CLEAN"
    out.append(
        f"{verdict}: {c['events'] or c['states']} {'events' if c['events'] else 'states'}, {c['violations']} violation(s), "
        f"{c['input errors']} input error(s); {result.seconds:.2f}s ({rate:,.0f} events/s)"
    )
    return "\n".join(out)
