"""Malformed and truncated input: each problem is reported with its file and line, the
rest of the trace is still checked, and the exit status is 2."""

from __future__ import annotations

import json
from pathlib import Path

from typer.testing import CliRunner

from kmodel.cli import app
from tests.validatekit import edit_event, find_line, lines, names, run, sample, write_lines


def _doctored(tmp: Path) -> tuple[Path, Path, int]:
    """A copy of the deployment sample with a pod phase set back to Pending (a violation
    that must still be found whatever else is wrong with the input)."""
    d = sample("deployment-rollout", tmp)
    pods = d / "pods.jsonl"
    line = find_line(pods, lambda e: e["object"]["metadata"]["name"] == "web-68595bf6d9-slng8" and "deletionTimestamp" in e["object"]["metadata"])
    edit_event(pods, line, lambda ev: ev["object"]["status"].__setitem__("phase", "Pending"))
    return d, pods, line


def _where(result: object) -> list[tuple[str, int]]:
    return [(Path(f.file).name, f.line) for f in result.input_errors]  # type: ignore[attr-defined]


def test_truncated_last_line(tmp_path: Path) -> None:
    d, pods, bad = _doctored(tmp_path)
    rs = d / "replicasets.jsonl"
    ls = lines(rs)
    write_lines(rs, ls[:-1] + [ls[-1][: len(ls[-1]) // 3]])
    result = run(d)
    assert _where(result) == [("replicasets.jsonl", len(ls))]
    assert "truncated" in result.input_errors[0].message
    assert [(f.invariant, f.line) for f in result.violations] == [("pod-phase-monotonic", bad)]
    assert result.exit_status == 2
    assert not result.settled  # the end of the input is not the end of the run


def test_non_json_line_in_the_middle(tmp_path: Path) -> None:
    d, pods, bad = _doctored(tmp_path)
    ls = lines(pods)
    write_lines(pods, ls[:3] + ["this is not JSON"] + ls[3:])
    result = run(d)
    assert _where(result) == [("pods.jsonl", 4)]
    assert "not valid JSON" in result.input_errors[0].message
    assert [(f.invariant, f.line) for f in result.violations] == [("pod-phase-monotonic", bad + 1)]


def test_line_cut_in_the_middle_of_the_file(tmp_path: Path) -> None:
    d, pods, bad = _doctored(tmp_path)
    ls = lines(pods)
    write_lines(pods, ls[:2] + [ls[2][:200]] + ls[3:])
    result = run(d)
    assert _where(result) == [("pods.jsonl", 3)]
    assert [(f.invariant, f.line) for f in result.violations] == [("pod-phase-monotonic", bad)]


def test_event_without_object_and_with_an_unknown_type(tmp_path: Path) -> None:
    d, pods, bad = _doctored(tmp_path)
    ls = lines(pods)
    write_lines(pods, ls[:1] + [json.dumps({"type": "MODIFIED"}), json.dumps({"type": "CHANGED", "object": {}})] + ls[1:])
    result = run(d)
    assert _where(result) == [("pods.jsonl", 2), ("pods.jsonl", 3)]
    assert "without 'object'" in result.input_errors[0].message and "unknown watch event type 'CHANGED'" in result.input_errors[1].message
    assert names(result) == ["pod-phase-monotonic"]


def test_unknown_kind(tmp_path: Path) -> None:
    d, pods, _ = _doctored(tmp_path)
    lease = {
        "type": "ADDED",
        "object": {
            "apiVersion": "coordination.k8s.io/v1",
            "kind": "Lease",
            "metadata": {"name": "node-1", "namespace": "kube-node-lease", "resourceVersion": "346"},
        },
    }
    write_lines(d / "leases.jsonl", [json.dumps(lease)])
    result = run(d)
    assert _where(result) == [("leases.jsonl", 1)]
    assert "unknown kind 'Lease'" in result.input_errors[0].message
    assert names(result) == ["pod-phase-monotonic"]


def test_missing_resource_version_and_bad_field(tmp_path: Path) -> None:
    d, pods, _ = _doctored(tmp_path)
    rs = d / "replicasets.jsonl"
    edit_event(rs, 2, lambda ev: ev["object"]["metadata"].pop("resourceVersion"))
    edit_event(rs, 3, lambda ev: ev["object"]["spec"].__setitem__("replicas", "three"))
    result = run(d)
    assert _where(result) == [("replicasets.jsonl", 2), ("replicasets.jsonl", 3)]
    assert "no valid metadata.resourceVersion" in result.input_errors[0].message
    assert "ReplicaSet scen-a/web-68595bf6d9" in result.input_errors[1].message and "spec.replicas" in result.input_errors[1].message
    assert names(result) == ["pod-phase-monotonic"]


def test_missing_file_is_an_input_error(tmp_path: Path) -> None:
    d, _, _ = _doctored(tmp_path)
    result = run([*sorted(d.glob("*.jsonl")), tmp_path / "nope.jsonl"])
    assert [(Path(f.file).name, "no such file" in f.message) for f in result.input_errors] == [("nope.jsonl", True)]
    assert names(result) == ["pod-phase-monotonic"] and result.exit_status == 2


def test_cli_reports_file_and_line_and_exits_2(tmp_path: Path) -> None:
    d, pods, bad = _doctored(tmp_path)
    ls = lines(pods)
    write_lines(pods, ls + ['{"type": "ADDED", "object": {"kind": "Pod"'])
    out = tmp_path / "report"
    res = CliRunner().invoke(app, ["validate", str(d), "--out", str(out)])
    assert res.exit_code == 2, res.output
    assert f"{pods}:{len(ls) + 1}: [input] truncated" in res.output
    assert f"{pods}:{bad}: [pod-phase-monotonic]" in res.output
    findings = json.loads((out / "findings.json").read_text())
    assert {(f["kind"], f["line"]) for f in findings} == {("input", len(ls) + 1), ("violation", bad)}
    report = json.loads((out / "report.json").read_text())
    assert report["status"] == "error" and report["stats"]["input errors"] == 1
    assert "<testsuite" in (out / "junit.xml").read_text() and (out / "report.html").exists() and (out / "report.md").exists()


def test_cli_exit_status_clean_and_violated(tmp_path: Path) -> None:
    d, _, _ = _doctored(tmp_path)
    runner = CliRunner()
    assert runner.invoke(app, ["validate", str(d)]).exit_code == 1
    from tests.validatekit import SAMPLES

    clean = runner.invoke(app, ["validate", str(SAMPLES / "deployment-rollout"), "--kubernetes-version", "1.20"])
    assert clean.exit_code == 0 and "CLEAN" in clean.output
    assert runner.invoke(app, ["validate", str(d), "--format", "yaml"]).exit_code == 2
    assert runner.invoke(app, ["validate", str(d), "--invariants", "no-such-invariant"]).exit_code == 2
