"""The self-contained HTML report: one file, inline CSS and SVG, no external assets."""

from __future__ import annotations

from html import escape
from typing import Any

from kmodel.report.charts import bar_chart, line_chart
from kmodel.report.model import RunReport

_CSS = """
body{font-family:system-ui,-apple-system,Segoe UI,Roboto,sans-serif;margin:2rem auto;max-width:1100px;color:#222;line-height:1.45}
h1{font-size:1.6rem}h2{border-bottom:1px solid #ddd;padding-bottom:.2rem;margin-top:2rem}
table{border-collapse:collapse;margin:.6rem 0;width:100%}td,th{border:1px solid #ddd;padding:.3rem .5rem;vertical-align:top;text-align:left;font-size:.92rem}
th{background:#f4f4f4}.verdict{font-size:1.2rem;padding:.6rem 1rem;border-radius:6px;display:inline-block}
.passed{background:#e3f4e1;color:#1d5e17}.violated{background:#fbe3e1;color:#8a1c12}.interrupted,.error{background:#fff3d6;color:#7a5700}
.held{color:#1d5e17;font-weight:600}.violated-s{color:#8a1c12;font-weight:700}.notex{color:#7a5700;font-weight:600}
td.num{text-align:right;font-variant-numeric:tabular-nums}tr.never td{color:#8a1c12}
code,pre{background:#f6f6f6;border-radius:4px}pre{padding:.6rem;overflow:auto;white-space:pre-wrap}
.changed{font-family:ui-monospace,monospace;font-size:.82rem;white-space:pre-wrap}details{margin:.4rem 0}
"""

_STATUS_CLASS = {"held": "held", "violated": "violated-s", "not exercised": "notex", "passed": "held", "interrupted": "notex", "error": "violated-s"}
_RUN_STATS = ("examples run", "transitions", "distinct states", "complete")


def _seed(seed: object) -> str:
    return "—" if seed is None else str(seed)


def _runs(report: RunReport) -> list[str]:
    out = ["<h2>Runs</h2><p>Each run explores one built-in scenario; its own report (same renderers) is linked.</p>"]
    out.append(
        "<table><tr><th>run</th><th>engine</th><th>scenario</th><th>seed</th><th>budget</th><th>result</th>"
        + "".join(f"<th>{escape(s)}</th>" for s in _RUN_STATS)
        + "</tr>"
    )
    for run in report.runs:
        name = escape(str(run.get("name", "")))
        link = run.get("report")
        cell = f"<a href='{escape(str(link))}'>{name}</a>" if link else name
        budget = ", ".join(f"{k} {v}" for k, v in (run.get("budget") or {}).items() if not str(k).startswith("scope"))
        status = str(run.get("status", ""))
        stats = run.get("stats") or {}
        out.append(
            f"<tr><td>{cell}</td><td>{escape(str(run.get('engine', '')))}</td><td>{escape(str(run.get('scenario', '')))}</td>"
            f"<td>{escape(_seed(run.get('seed')))}</td><td>{escape(budget)}</td><td class='{_STATUS_CLASS.get(status, '')}'>{escape(status)}</td>"
            + "".join(f"<td class='num'>{escape(str(stats.get(s, '')))}</td>" for s in _RUN_STATS)
            + "</tr>"
        )
    out.append("</table>")
    return out


def _coverage(report: RunReport) -> list[str]:
    out = [
        "<h2>Controller coverage</h2>",
        "<p>For each actor module: the actors it implements, how many of its rules (functions and methods) ran, and the "
        "lines and branch exits of rule bodies the run executed (coverage.py). Expand a module for every rule; rules that "
        "never ran are marked.</p>",
    ]
    out.append("<table><tr><th>actor module</th><th>actors</th><th>rules run</th><th>lines</th><th>branches</th><th>lines never run (first)</th></tr>")
    for mod, cov in report.coverage.items():
        missing = ", ".join(str(x) for x in cov.get("missing_lines", [])[:12])
        actors = ", ".join(cov.get("actors", [])) or "(shared helpers)"
        out.append(
            f"<tr><td>{escape(mod)}</td><td>{escape(actors)}</td><td class='num'>{escape(str(cov.get('rules run', '')))}</td>"
            f"<td class='num'>{cov.get('lines', '')}</td><td class='num'>{cov.get('branches', '')}</td><td>{escape(missing)}</td></tr>"
        )
    out.append("</table>")
    for mod, cov in report.coverage.items():
        rules: dict[str, Any] = cov.get("rules") or {}
        if not rules:
            continue
        never = [n for n, r in rules.items() if str(r.get("lines", "")).startswith("0/")]
        out.append(
            f"<details><summary><code>{escape(mod)}</code> — {len(rules) - len(never)} of {len(rules)} rules run"
            + (f", never run: {escape(', '.join(never[:6]))}{' …' if len(never) > 6 else ''}" if never else "")
            + "</summary>"
        )
        out.append("<table><tr><th>rule</th><th>statements run</th><th>branch exits taken</th></tr>")
        for name, r in rules.items():
            cls = " class='never'" if name in never else ""
            out.append(
                f"<tr{cls}><td><code>{escape(name)}</code></td><td class='num'>{escape(str(r.get('lines', '')))}</td>"
                f"<td class='num'>{escape(str(r.get('branches', '')))}</td></tr>"
            )
        out.append("</table></details>")
    items = [(m.rsplit("/", 1)[-1], int(float(str(c.get("lines", "0")).rstrip("%")))) for m, c in report.coverage.items()]
    out.append(bar_chart(items, title="line coverage per actor module (%)"))
    return out


def render_html(report: RunReport) -> str:
    """The report as one self-contained HTML page."""
    r = report
    out = [
        "<!DOCTYPE html><html lang='en'><head><meta charset='utf-8'>",
        f"<title>kmodel report: {escape(r.run_name)}</title>",
        f"<style>{_CSS}</style></head><body>",
    ]
    out.append(f"<h1>kmodel report: {escape(r.run_name)}</h1>")
    verdict = {"passed": "Passed: no invariant violated", "violated": "Violated", "interrupted": "Interrupted: partial results", "error": "Error"}[r.status]
    out.append(f"<p class='verdict {r.status}'>{escape(verdict)}</p>")
    if r.invariants:
        out.append(f"<p>{escape(r.invariant_summary())}</p>")
    rows = [
        ("command", f"<code>{escape(r.command)}</code>"),
        ("scenario", escape(r.scenario)),
        ("engine", escape(r.engine)),
        ("seed", escape(_seed(r.seed))),
        ("Kubernetes behaviour", escape(r.kubernetes_version)),
    ]
    rows += [(f"budget: {k}", escape(str(v))) for k, v in r.budget.items()]
    rows += [(k, escape(str(v))) for k, v in r.stats.items()]
    out.append("<table>" + "".join(f"<tr><th>{escape(k)}</th><td>{v}</td></tr>" for k, v in rows) + "</table>")
    if r.runs:
        out.extend(_runs(r))
    if r.counterexample is not None:
        c = r.counterexample
        out.append("<h2>Counterexample</h2>")
        out.append(f"<p>Violated: <strong>{escape(', '.join(c.invariants))}</strong></p><pre>{escape(c.message)}</pre>")
        if c.replay_command:
            note = " — the replay reproduces it" if c.reproduced else " — the replay did NOT reproduce it" if c.reproduced is False else ""
            out.append(f"<p>Replay: <code>{escape(c.replay_command)}</code>{escape(note)}</p>")
        out.append("<table><tr><th>#</th><th>t (s)</th><th>step</th><th>objects changed</th></tr>")
        for row in c.steps:
            changed = "\n".join(row.changed)
            out.append(f"<tr><td>{row.index}</td><td>{row.clock}</td><td>{escape(row.step)}</td><td class='changed'>{escape(changed)}</td></tr>")
        out.append("</table>")
    combined = any(inv.exercised_in for inv in r.invariants) or bool(r.runs)
    out.append("<h2>Invariants</h2>")
    out.append(
        "<p><em>states checked</em>: the states (for transition invariants, the steps) the invariant was checked on; "
        "<em>with subject</em>: how many of those held an object the invariant is about. An invariant whose subject never "
        "existed is reported as <span class='notex'>not exercised</span>: its pass is vacuous.</p>"
    )
    out.append(
        "<table><tr><th>invariant</th><th>kind</th><th>result</th><th>states checked</th><th>with subject</th>"
        + ("<th>exercised in runs</th>" if combined else "")
        + "</tr>"
    )
    for inv in r.invariants:
        cls = _STATUS_CLASS.get(inv.status, "")
        runs = f"<td>{escape(', '.join(inv.exercised_in)) or '—'}</td>" if combined else ""
        out.append(
            f"<tr><td><a href='#inv-{escape(inv.name)}'>{escape(inv.name)}</a></td><td>{escape(inv.kind)}</td><td class='{cls}'>{escape(inv.status)}</td>"
            f"<td class='num'>{inv.checked}</td><td class='num'>{inv.exercised}</td>{runs}</tr>"
        )
    out.append("</table>")
    for inv in r.invariants:
        out.append(f"<details id='inv-{escape(inv.name)}'><summary><strong>{escape(inv.name)}</strong> — {escape(inv.status)}</summary>")
        out.append(f"<p>{escape(inv.statement)}</p><p><em>Source:</em> {escape(inv.source)}</p>")
        if inv.violations:
            out.append("<ul>" + "".join(f"<li>{escape(v)}</li>" for v in inv.violations[:10]) + "</ul>")
        out.append("</details>")
    if r.coverage:
        out.extend(_coverage(r))
    if r.progress:
        out.append("<h2>Exploration progress</h2>")
        x_label = "transitions taken (all runs, one after another)" if r.runs else "transitions taken"
        y_label = "distinct states (summed over runs)" if r.runs else "distinct states"
        out.append(
            line_chart(
                [(float(t), float(s)) for t, s in r.progress], x_label=x_label, y_label=y_label, title="distinct states explored as the exploration proceeds"
            )
        )
    if r.action_mix:
        out.append("<h2>Action mix</h2>")
        items = sorted(r.action_mix.items(), key=lambda kv: (-kv[1], kv[0]))[:25]
        out.append(bar_chart(items, title="actions taken, by actor or kind"))
    if r.notes:
        out.append("<h2>Notes</h2><ul>" + "".join(f"<li>{escape(n)}</li>" for n in r.notes) + "</ul>")
    out.append("</body></html>\n")
    return "".join(out)
