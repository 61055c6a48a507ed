"""The command line: exit codes, output formats, and clear errors without tracebacks."""

from __future__ import annotations

import json
from pathlib import Path

from typer.testing import CliRunner

from kmodel.cli import app

runner = CliRunner()
SCENARIO = """
name: tiny
steps:
  - addNode: {name: n1}
  - apply:
      apiVersion: apps/v1
      kind: ReplicaSet
      metadata: {name: web}
      spec:
        replicas: 2
        selector: {matchLabels: {app: web}}
        template:
          metadata: {labels: {app: web}}
          spec: {containers: [{name: c, image: nginx}]}
  - settle: {}
  - expect:
      - {kind: Pod, selector: {app: web}, count: 2, where: {status.phase: Running}}
      - {kind: ReplicaSet, name: web, path: status.readyReplicas, equals: 2}
"""


def _write(tmp_path: Path, text: str, name: str = "s.yaml") -> Path:
    p = tmp_path / name
    p.write_text(text)
    return p


def test_run_prints_a_kubernetes_list_and_invariant_results(tmp_path: Path) -> None:
    result = runner.invoke(app, ["run", str(_write(tmp_path, SCENARIO))])
    assert result.exit_code == 0, result.output
    doc = json.loads(result.stdout)
    assert doc["kind"] == "List"
    kinds = sorted(i["kind"] for i in doc["items"])
    assert kinds == ["Node", "Pod", "Pod", "ReplicaSet"]
    assert "replicaset-replicas" in result.stderr and "held" in result.stderr


def test_run_fails_on_a_failed_expectation(tmp_path: Path) -> None:
    text = SCENARIO.replace("equals: 2", "equals: 3")
    result = runner.invoke(app, ["run", str(_write(tmp_path, text))])
    assert result.exit_code == 1
    assert "EXPECTATION FAILED" in result.stderr and "status.readyReplicas is 2, expected 3" in result.stderr


def test_run_writes_output_file(tmp_path: Path) -> None:
    out = tmp_path / "final.json"
    result = runner.invoke(app, ["run", str(_write(tmp_path, SCENARIO)), "-o", str(out), "-q"])
    assert result.exit_code == 0
    assert json.loads(out.read_text())["kind"] == "List"


def test_bad_inputs_get_one_clear_message_and_exit_2(tmp_path: Path) -> None:
    cases = {
        "missing.yaml": None,
        "syntax.yaml": "steps: [\n",
        "unknown-step.yaml": "steps:\n  - frobnicate: {}\n",
        "bad-kind.yaml": "steps:\n  - apply: {apiVersion: v1, kind: Widget, metadata: {name: w}}\n",
        "bad-field.yaml": SCENARIO.replace("replicas: 2", "replicas: two"),
        "bad-version.yaml": "kubernetesVersion: '1.9'\nsteps: []\n",
    }
    for name, text in cases.items():
        path = tmp_path / name if text is None else _write(tmp_path, text, name)
        result = runner.invoke(app, ["run", str(path)])
        assert result.exit_code == 2, (name, result.output)
        assert "Traceback" not in result.output
        assert name in result.stderr, (name, result.stderr)
    bad_field = runner.invoke(app, ["run", str(tmp_path / "bad-field.yaml")])
    assert "ReplicaSet default/web" in bad_field.stderr and "spec.replicas" in bad_field.stderr


def test_unknown_invariant_and_controller_are_input_errors(tmp_path: Path) -> None:
    result = runner.invoke(app, ["run", str(_write(tmp_path, SCENARIO)), "--invariants", "no-such-thing"])
    assert result.exit_code == 2 and "unknown invariant" in result.stderr
    result = runner.invoke(app, ["explore", str(_write(tmp_path, SCENARIO)), "--controllers", "nope", "--out", str(tmp_path)])
    assert result.exit_code == 2 and "unknown controller" in result.stderr


def test_explore_writes_the_three_reports(tmp_path: Path) -> None:
    result = runner.invoke(app, ["explore", str(_write(tmp_path, SCENARIO)), "-n", "5", "--steps", "8", "--out", str(tmp_path / "r")])
    assert result.exit_code == 0, result.output
    run_dir = tmp_path / "r" / "tiny-seed0"
    for f in ("report.md", "report.json", "junit.xml"):
        assert (run_dir / f).exists()


def test_invariants_command_lists_statements() -> None:
    result = runner.invoke(app, ["invariants"])
    assert result.exit_code == 0
    assert "taint-eviction-timing" in result.stdout and "source:" in result.stdout
