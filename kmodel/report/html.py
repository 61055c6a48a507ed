"""The self-contained HTML report: one file, inline CSS and SVG, no external assets."""

from __future__ import annotations

from html import escape

from kmodel.report.charts import bar_chart, line_chart
from kmodel.report.model import RunReport

_CSS = """
body{font-family:system-ui,-apple-system,Segoe UI,Roboto,sans-serif;margin:2rem auto;max-width:1100px;color:#222;line-height:1.45}
h1{font-size:1.6rem}h2{border-bottom:1px solid #ddd;padding-bottom:.2rem;margin-top:2rem}
table{border-collapse:collapse;margin:.6rem 0;width:100%}td,th{border:1px solid #ddd;padding:.3rem .5rem;vertical-align:top;text-align:left;font-size:.92rem}
th{background:#f4f4f4}.verdict{font-size:1.2rem;padding:.6rem 1rem;border-radius:6px;display:inline-block}
.passed{background:#e3f4e1;color:#1d5e17}.violated{background:#fbe3e1;color:#8a1c12}.interrupted,.error{background:#fff3d6;color:#7a5700}
.held{color:#1d5e17;font-weight:600}.violated-s{color:#8a1c12;font-weight:700}.notex{color:#7a5700;font-weight:600}
code,pre{background:#f6f6f6;border-radius:4px}pre{padding:.6rem;overflow:auto;white-space:pre-wrap}
.changed{font-family:ui-monospace,monospace;font-size:.82rem;white-space:pre-wrap}details{margin:.4rem 0}
"""

_STATUS_CLASS = {"held": "held", "violated": "violated-s", "not exercised": "notex"}


def render_html(report: RunReport) -> str:
    """The report as one self-contained HTML page."""
    r = report
    out = ["<!DOCTYPE html><html lang='en'><head><meta charset='utf-8'>", f"<title>kmodel report: {escape(r.run_name)}</title>", f"<style>{_CSS}</style></head><body>"]
    out.append(f"<h1>kmodel report: {escape(r.run_name)}</h1>")
    verdict = {"passed": "Passed: no invariant violated", "violated": "Violated", "interrupted": "Interrupted: partial results", "error": "Error"}[r.status]
    out.append(f"<p class='verdict {r.status}'>{escape(verdict)}</p>")
    rows = [("command", f"<code>{escape(r.command)}</code>"), ("scenario", escape(r.scenario)), ("engine", escape(r.engine)), ("seed", escape(str(r.seed))), ("Kubernetes behaviour", escape(r.kubernetes_version))]
    rows += [(f"budget: {k}", escape(str(v))) for k, v in r.budget.items()]
    rows += [(k, escape(str(v))) for k, v in r.stats.items()]
    out.append("<table>" + "".join(f"<tr><th>{escape(k)}</th><td>{v}</td></tr>" for k, v in rows) + "</table>")
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
    out.append("<h2>Invariants</h2><table><tr><th>invariant</th><th>kind</th><th>result</th><th>states checked</th><th>with subject</th></tr>")
    for inv in r.invariants:
        cls = _STATUS_CLASS.get(inv.status, "")
        out.append(f"<tr><td><a href='#inv-{escape(inv.name)}'>{escape(inv.name)}</a></td><td>{escape(inv.kind)}</td><td class='{cls}'>{escape(inv.status)}</td><td>{inv.checked}</td><td>{inv.exercised}</td></tr>")
    out.append("</table>")
    for inv in r.invariants:
        out.append(f"<details id='inv-{escape(inv.name)}'><summary><strong>{escape(inv.name)}</strong> — {escape(inv.status)}</summary><p>{escape(inv.statement)}</p><p><em>Source:</em> {escape(inv.source)}</p>")
        if inv.violations:
            out.append("<ul>" + "".join(f"<li>{escape(v)}</li>" for v in inv.violations[:10]) + "</ul>")
        out.append("</details>")
    if r.coverage:
        out.append("<h2>Controller coverage</h2><p>Lines and branches of each actor's module the run executed (coverage.py).</p>")
        out.append("<table><tr><th>actor module</th><th>lines</th><th>branches</th><th>rules not exercised (first lines)</th></tr>")
        for mod, cov in r.coverage.items():
            missing = ", ".join(str(x) for x in cov.get("missing_lines", [])[:12])
            out.append(f"<tr><td>{escape(mod)}</td><td>{cov.get('lines', '')}</td><td>{cov.get('branches', '')}</td><td>{escape(missing)}</td></tr>")
        out.append("</table>")
        items = [(m.rsplit('/', 1)[-1], int(float(str(c.get("lines", "0")).rstrip("%")))) for m, c in r.coverage.items()]
        out.append(bar_chart(items, title="line coverage per actor (%)"))
    if r.progress:
        out.append("<h2>Exploration progress</h2>")
        out.append(line_chart([(float(t), float(s)) for t, s in r.progress], x_label="transitions", y_label="distinct states", title="distinct states explored"))
    if r.action_mix:
        out.append("<h2>Action mix</h2>")
        items = sorted(r.action_mix.items(), key=lambda kv: (-kv[1], kv[0]))[:25]
        out.append(bar_chart(items, title="actions taken, by actor or kind"))
    if r.notes:
        out.append("<h2>Notes</h2><ul>" + "".join(f"<li>{escape(n)}</li>" for n in r.notes) + "</ul>")
    out.append("</body></html>\n")
    return "".join(out)
