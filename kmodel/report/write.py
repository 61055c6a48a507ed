"""Rendering a RunReport as report.md, report.json and junit.xml, written atomically.

Wall-clock figures go to timing.json only, so the same seed and inputs give
byte-identical reports.
"""

from __future__ import annotations

import json
import os
import tempfile
import xml.etree.ElementTree as ET
from pathlib import Path

from kmodel.report.model import RunReport


def atomic_write(path: Path, text: str) -> None:
    """Write `text` to `path` via a temporary file and rename (readers never see half a file)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            f.write(text)
        os.replace(tmp, path)
    except BaseException:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        raise


def render_json(report: RunReport) -> str:
    """The report as JSON (without timing)."""
    return json.dumps(report.to_dict(with_timing=False), indent=2, sort_keys=True) + "\n"


def render_markdown(report: RunReport) -> str:
    """The report as Markdown."""
    r = report
    out = [f"# kmodel report: {r.run_name}", ""]
    verdict = {"passed": "PASSED: no invariant violated", "violated": "VIOLATED", "interrupted": "INTERRUPTED (partial results)", "error": "ERROR"}[r.status]
    out += [f"**Result: {verdict}**", ""]
    out += ["| | |", "|---|---|", f"| command | `{r.command}` |", f"| scenario | {r.scenario} |", f"| engine | {r.engine} |"]
    out += [f"| seed | {'—' if r.seed is None else r.seed} |", f"| Kubernetes behaviour | {r.kubernetes_version} |"]
    for k, v in r.budget.items():
        out.append(f"| budget: {k} | {v} |")
    for k, v in r.stats.items():
        out.append(f"| {k.replace('_', ' ')} | {v} |")
    out.append("")
    if r.runs:
        out += ["## Runs", "", "| run | engine | scenario | seed | result | transitions | distinct states |", "|---|---|---|---|---|---|---|"]
        for run in r.runs:
            link = run.get("markdown") or run.get("report")
            name = f"[{run.get('name')}]({link})" if link else str(run.get("name"))
            stats = run.get("stats") or {}
            out.append(
                f"| {name} | {run.get('engine')} | {run.get('scenario')} | {'—' if run.get('seed') is None else run.get('seed')} | {run.get('status')} | "
                f"{stats.get('transitions', '')} | {stats.get('distinct states', '')} |"
            )
        out.append("")
    if r.counterexample is not None:
        c = r.counterexample
        out += ["## Counterexample", "", f"Violated: {', '.join(c.invariants)}", "", "```", c.message, "```", ""]
        if c.replay_command:
            out += [
                f"Replay: `{c.replay_command}`"
                + (" (replay reproduces the violation)" if c.reproduced else " (replay did NOT reproduce it)" if c.reproduced is False else ""),
                "",
            ]
        out += ["| # | t (s) | step | objects changed |", "|---|---|---|---|"]
        for row in c.steps:
            changed = "<br>".join(row.changed[:12]) + (f"<br>… {len(row.changed) - 12} more" if len(row.changed) > 12 else "")
            out.append(f"| {row.index} | {row.clock} | {row.step} | {changed} |")
        out.append("")
    combined = bool(r.runs) or any(inv.exercised_in for inv in r.invariants)
    out += ["## Invariants", ""]
    if r.invariants:
        out += [r.invariant_summary(), ""]
    out += [
        "*states checked*: states (for transition invariants, steps) the invariant was checked on; *with subject*: how many of",
        "those held an object it is about. *not exercised*: the subject never existed, so the pass is vacuous.",
        "",
    ]
    if combined:
        out += ["| invariant | kind | result | states checked | with subject | exercised in runs |", "|---|---|---|---|---|---|"]
    else:
        out += ["| invariant | kind | result | states checked | with subject |", "|---|---|---|---|---|"]
    for inv in r.invariants:
        runs = f" {', '.join(inv.exercised_in) or '—'} |" if combined else ""
        out.append(f"| {inv.name} | {inv.kind} | {inv.status} | {inv.checked} | {inv.exercised} |{runs}")
    out.append("")
    for inv in r.invariants:
        out += [f"### {inv.name}", "", inv.statement, "", f"Source: {inv.source}", ""]
        for v in inv.violations[:5]:
            out.append(f"- {v}")
        if inv.violations:
            out.append("")
    if r.coverage:
        out += ["## Controller coverage", "", "Rules (functions and methods), lines and branch exits of each actor module that the run executed.", ""]
        out += ["| actor module | actors | rules run | lines | branches | rules never run |", "|---|---|---|---|---|---|"]
        for mod, cov in r.coverage.items():
            never = [n for n, x in (cov.get("rules") or {}).items() if str(x.get("lines", "")).startswith("0/")]
            shown = ", ".join(never[:8]) + (f", … {len(never) - 8} more" if len(never) > 8 else "")
            actors = ", ".join(cov.get("actors", [])) or "(shared helpers)"
            out.append(f"| {mod} | {actors} | {cov.get('rules run', '')} | {cov.get('lines')} | {cov.get('branches')} | {shown} |")
        out.append("")
    if r.action_mix:
        out += ["## Action mix", "", "| action | count |", "|---|---|"]
        for k, v in sorted(r.action_mix.items(), key=lambda kv: (-kv[1], kv[0])):
            out.append(f"| {k} | {v} |")
        out.append("")
    if r.notes:
        out += ["## Notes", ""] + [f"- {n}" for n in r.notes] + [""]
    return "\n".join(out)


def render_junit(report: RunReport) -> str:
    """The report as JUnit XML: one test case per invariant."""
    suite = ET.Element(
        "testsuite",
        name=f"kmodel.{report.run_name}",
        tests=str(len(report.invariants)),
        failures=str(sum(1 for i in report.invariants if i.status == "violated")),
        skipped=str(sum(1 for i in report.invariants if i.status in ("not exercised", "skipped", "not judged"))),
    )
    for inv in report.invariants:
        case = ET.SubElement(suite, "testcase", classname=f"kmodel.invariants.{inv.kind}", name=inv.name)
        if inv.status == "violated":
            msg = inv.violations[0] if inv.violations else "violated"
            fail = ET.SubElement(case, "failure", message=msg)
            body = "\n".join(inv.violations)
            if report.counterexample is not None and inv.name in report.counterexample.invariants:
                body += "\n\nReplay: " + report.counterexample.replay_command
            fail.text = body
        elif inv.status == "not exercised":
            ET.SubElement(case, "skipped", message="no state of the run had a subject for this invariant")
        elif inv.status in ("skipped", "not judged"):
            ET.SubElement(case, "skipped", message=f"{inv.status} (trace validation: see the statement)")
    ET.indent(suite)
    return '<?xml version="1.0" encoding="utf-8"?>\n' + ET.tostring(suite, encoding="unicode") + "\n"


def write_report(report: RunReport, directory: Path) -> list[Path]:
    """Write report.html, report.md, report.json, junit.xml (and timing.json) into `directory`."""
    from kmodel.report.html import render_html

    files = {
        "report.html": render_html(report),
        "report.md": render_markdown(report),
        "report.json": render_json(report),
        "junit.xml": render_junit(report),
        "timing.json": json.dumps(report.timing, indent=2, sort_keys=True) + "\n",
    }
    written = []
    for name, text in files.items():
        p = directory / name
        atomic_write(p, text)
        written.append(p)
    return written
