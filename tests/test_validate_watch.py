"""kmodel validate on kubectl watch streams: the recorded samples (correct Kubernetes
behaviour) validate clean, and doctored copies are caught at the right file, line and
invariant; indented streams, per-kind merging, BOOKMARK and ERROR events."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from kmodel.validate.source import InputProblem, Marker, RawEvent, merge_by_rv
from kmodel.validate.watch import read_watch
from tests.validatekit import SAMPLES, edit_event, event_at, find_line, lines, names, run, sample, scenario_watch, write_lines

SAMPLE_NAMES = ["deployment-rollout", "gc-propagation-v1.28"]


def _name(ev: dict[str, Any]) -> str:
    return str(ev["object"]["metadata"]["name"])


# ---- the recorded samples are correct --------------------------------------------------------


@pytest.mark.parametrize("name", SAMPLE_NAMES)
def test_recorded_sample_validates_clean(name: str) -> None:
    result = run(SAMPLES / name)
    assert result.findings == [], [f.headline() for f in result.findings]
    assert result.exit_status == 0
    assert result.counts["events"] == sum(len(lines(f)) for f in (SAMPLES / name).glob("*.jsonl"))
    assert result.settled, result.settled_reason
    # not vacuous: the invariants that matter for these traces were judged on real steps
    checked = {n: s.checked for n, s in result.stats.items()}
    for inv in (
        "pod-phase-monotonic",
        "deployment-surge-bound",
        "deployment-unavailability-bound",
        "unique-names-and-uids",
        "replicaset-replicas",
        "gc-completeness",
    ):
        assert checked[inv] > 0, inv


def test_gc_sample_judges_the_garbage_collector() -> None:
    """The GC's deletions in the sample are attributed to it (every owner gone, foreground
    propagation, the orphan finalizer) and judged, without a false alarm."""
    result = run(SAMPLES / "gc-propagation-v1.28")
    assert result.stats["gc-no-live-owner-deletion"].checked >= 8
    assert result.stats["gc-orphan-before-removal"].checked >= 1
    assert result.actors["garbagecollector"] >= 10


def test_deployment_sample_attributes_controller_writes() -> None:
    result = run(SAMPLES / "deployment-rollout")
    assert result.actors["deployment"] > 0 and result.actors["replicaset"] > 0 and result.actors["scheduler"] >= 7
    # every ReplicaSet and Deployment write has a known author (managedFields)
    assert "author of the step unknown" not in result.stats["deployment-surge-bound"].not_judged


# ---- doctored copies are caught ----------------------------------------------------------------


def test_pod_phase_edited_back_to_pending_is_caught(tmp_path: Path) -> None:
    d = sample("deployment-rollout", tmp_path)
    pods = d / "pods.jsonl"
    # the last MODIFIED of web-68595bf6d9-slng8 while it runs (before its deletion starts)
    line = find_line(
        pods,
        lambda e: (
            _name(e) == "web-68595bf6d9-slng8"
            and e["object"]["status"].get("phase") == "Running"
            and "deletionTimestamp" not in e["object"]["metadata"]
            and e["object"]["status"].get("containerStatuses", [{}])[0].get("ready")
        ),
    )
    assert event_at(pods, line)["object"]["status"]["phase"] == "Running"
    later = find_line(pods, lambda e: _name(e) == "web-68595bf6d9-slng8" and "deletionTimestamp" in e["object"]["metadata"])

    def back_to_pending(ev: dict[str, Any]) -> None:
        ev["object"]["status"]["phase"] = "Pending"

    edit_event(pods, later, back_to_pending)
    result = run(d)
    found = [f for f in result.violations if f.invariant == "pod-phase-monotonic"]
    assert len(found) == 1, [f.headline() for f in result.findings]
    f = found[0]
    assert (Path(f.file).name, f.line) == ("pods.jsonl", later)
    assert "Pod scen-a/web-68595bf6d9-slng8" in f.objects and "back from Running to Pending" in f.message
    assert any("status.phase: Running → Pending" in c for c in f.changes)
    assert f.before["Pod scen-a/web-68595bf6d9-slng8"]["status"]["phase"] == "Running"
    assert f.after["Pod scen-a/web-68595bf6d9-slng8"]["status"]["phase"] == "Pending"
    assert result.exit_status == 1


STATEFULSET = {
    "name": "sts",
    "steps": [
        {"addNode": {"name": "n1"}},
        {
            "apply": {
                "apiVersion": "apps/v1",
                "kind": "StatefulSet",
                "metadata": {"name": "web"},
                "spec": {
                    "replicas": 3,
                    "serviceName": "web",
                    "selector": {"matchLabels": {"app": "web"}},
                    "template": {
                        "metadata": {"labels": {"app": "web"}},
                        "spec": {"terminationGracePeriodSeconds": 5, "containers": [{"name": "c", "image": "nginx"}]},
                    },
                },
            }
        },
        {"settle": {}},
    ],
}


def test_statefulset_pod_created_out_of_order_is_caught(tmp_path: Path) -> None:
    files = scenario_watch(STATEFULSET, tmp_path / "sts")
    pods = files["Pod"]
    clean = run(tmp_path / "sts")
    assert clean.findings == [], [f.headline() for f in clean.findings]
    assert clean.stats["statefulset-ordered-ready"].checked >= 3
    # doctor: web-0 never gets Running and Ready before web-1 is created
    created_1 = find_line(pods, lambda e: _name(e) == "web-1" and e["type"] == "ADDED")
    kept = [raw for i, raw in enumerate(lines(pods), 1) if not (i < created_1 and json.loads(raw)["type"] == "MODIFIED" and _name(json.loads(raw)) == "web-0")]
    write_lines(pods, kept)
    line = kept.index(next(x for x in kept if json.loads(x)["type"] == "ADDED" and _name(json.loads(x)) == "web-1")) + 1
    result = run(tmp_path / "sts")
    found = [f for f in result.violations if f.invariant == "statefulset-ordered-ready"]
    assert found, [f.headline() for f in result.findings]
    assert (Path(found[0].file).name, found[0].line) == ("pods.jsonl", line)
    assert "web-1" in found[0].message and "[0]" in found[0].message
    assert "statefulset syncs default/web" in found[0].step


def _created_at(path: Path, name: str, old: str, new: str) -> None:
    """Every event of pod `name` with the times `old` replaced by `new`."""
    write_lines(path, [x.replace(old, new) if _name(json.loads(x)) == name else x for x in lines(path)])


@pytest.mark.parametrize(("created", "caught"), [("2024-01-01T00:00:05Z", False), ("2024-01-01T00:00:04Z", True)])
def test_whole_second_timestamps_are_read_as_the_second_they_name(tmp_path: Path, created: str, caught: bool) -> None:
    """With minReadySeconds 5 and web-0 Ready at t=0, upstream may create web-1 at
    t=5.3 (lastTransitionTime + 5 s < now), which the trace records as 00:00:05: a write
    happened within the second its timestamp names, so that is no violation — t=4 is."""
    sc = json.loads(json.dumps(STATEFULSET))
    sc["steps"][1]["apply"]["spec"]["minReadySeconds"] = 5
    files = scenario_watch(sc, tmp_path / "sts")
    assert run(tmp_path / "sts").findings == []
    _created_at(files["Pod"], "web-1", "2024-01-01T00:00:06Z", created)
    result = run(tmp_path / "sts")
    assert ("statefulset-ordered-ready" in names(result)) is caught, [f.headline() for f in result.findings]
    if not caught:
        assert result.stats["statefulset-ordered-ready"].lag_explained == 1


DAEMONSET = {
    "name": "ds",
    "steps": [
        {"addNode": {"name": "n1", "labels": {"disk": "ssd"}}},
        {"addNode": {"name": "n2"}},
        {
            "apply": {
                "apiVersion": "apps/v1",
                "kind": "DaemonSet",
                "metadata": {"name": "agent"},
                "spec": {
                    "selector": {"matchLabels": {"app": "agent"}},
                    "template": {
                        "metadata": {"labels": {"app": "agent"}},
                        "spec": {"nodeSelector": {"disk": "ssd"}, "containers": [{"name": "c", "image": "agent:1"}]},
                    },
                },
            }
        },
        {"settle": {}},
    ],
}


def test_daemon_pod_created_for_an_ineligible_node_is_caught(tmp_path: Path) -> None:
    """Nodes are in the trace, so the DaemonSet's creations are judged against them; move
    the created pod's target node (its matchFields node affinity) to the node without
    the label the nodeSelector asks for."""
    files = scenario_watch(DAEMONSET, tmp_path / "ds")
    clean = run(tmp_path / "ds")
    assert clean.findings == [], [f.headline() for f in clean.findings]
    assert clean.stats["daemonset-no-ineligible-node"].checked == 1
    pods = files["Pod"]
    created = find_line(pods, lambda e: e["type"] == "ADDED")

    def retarget(ev: dict[str, Any]) -> None:
        terms = ev["object"]["spec"]["affinity"]["nodeAffinity"]["requiredDuringSchedulingIgnoredDuringExecution"]["nodeSelectorTerms"]
        terms[0]["matchFields"][0]["values"] = ["n2"]

    edit_event(pods, created, retarget)
    result = run(tmp_path / "ds")
    found = [f for f in result.violations if f.invariant == "daemonset-no-ineligible-node"]
    assert [(Path(f.file).name, f.line) for f in found] == [("pods.jsonl", created)]
    assert "node n2, where it should not run" in found[0].message and "Node n2" in found[0].objects
    assert found[0].step == "daemonset syncs default/agent (managedFields: kube-controller-manager; created for its owner DaemonSet agent)"


EVICTION = {
    "name": "evict",
    "steps": [
        {"addNode": {"name": "n1"}},
        {"addNode": {"name": "n2"}},
        {
            "apply": {
                "apiVersion": "v1",
                "kind": "Pod",
                "metadata": {"name": "solo"},
                "spec": {"nodeName": "n1", "containers": [{"name": "c", "image": "nginx"}]},
            }
        },
        {"settle": {}},
        {"failNode": "n1"},
        {"settle": {"horizon": "10m"}},
    ],
}


def _eviction_trace(tmp: Path) -> tuple[dict[str, Path], int]:
    files = scenario_watch(EVICTION, tmp / "evict")
    line = find_line(files["Pod"], lambda e: "deletionTimestamp" in e["object"]["metadata"])
    return files, line


def test_taint_eviction_is_judged_and_an_early_one_caught(tmp_path: Path) -> None:
    files, line = _eviction_trace(tmp_path)
    clean = run(tmp_path / "evict")
    assert clean.findings == [] and clean.stats["taint-eviction-timing"].checked == 1
    # the taint (unreachable, NoExecute) came at t=50s; evict at t=170s instead of t=350s
    edit_event(files["Pod"], line, lambda ev: ev["object"]["metadata"].__setitem__("deletionTimestamp", "2024-01-01T00:03:20Z"))
    result = run(tmp_path / "evict")
    found = [f for f in result.violations if f.invariant == "taint-eviction-timing"]
    assert [(Path(f.file).name, f.line) for f in found] == [("pods.jsonl", line)]
    assert "evicted at t=170s" in found[0].message and "taint-eviction" in found[0].step


def test_taint_eviction_after_a_taint_swap_is_not_judged(tmp_path: Path) -> None:
    """Upstream keeps the eviction it scheduled when the node was first tainted; the
    model counts from the current taints' timeAdded. After a swap the step cannot be
    judged on the model's terms, so it is not (instead of a false alarm)."""
    files, line = _eviction_trace(tmp_path)
    nodes = files["Node"]
    tainted = find_line(nodes, lambda e: bool(e["object"]["spec"].get("taints")))
    swap = event_at(nodes, tainted)
    for t in swap["object"]["spec"]["taints"]:
        t["key"], t["timeAdded"] = "node.kubernetes.io/not-ready", "2024-01-01T00:02:00Z"
    swap["object"]["metadata"]["resourceVersion"] = event_at(files["Pod"], line)["object"]["metadata"]["resourceVersion"]
    write_lines(nodes, [*lines(nodes), json.dumps(swap)])
    result = run(tmp_path / "evict")
    assert result.findings == [], [f.headline() for f in result.findings]
    assert list(result.stats["taint-eviction-timing"].not_judged) == [
        "the node's NoExecute taints were replaced since it was first tainted (upstream keeps the first eviction schedule)"
    ]


def test_orphan_finalizer_removed_while_a_dependent_still_references_it_is_caught(tmp_path: Path) -> None:
    """The GC removes the `orphan` finalizer (and with it the Deployment) only after
    removing the ReplicaSet's ownerReference; drop that patch from the recording."""
    d = sample("gc-propagation-v1.28", tmp_path)
    rs = d / "replicasets.jsonl"
    patch = find_line(rs, lambda e: _name(e) == "orphan-6769766c98" and e["type"] == "MODIFIED" and not e["object"]["metadata"].get("ownerReferences"))
    write_lines(rs, [x for i, x in enumerate(lines(rs), 1) if i != patch])
    deps = d / "deployments.jsonl"
    removal = find_line(deps, lambda e: _name(e) == "orphan" and e["type"] == "DELETED")
    result = run(d)
    found = [f for f in result.violations if f.invariant == "gc-orphan-before-removal"]
    assert len(found) == 1, [f.headline() for f in result.findings]
    assert (Path(found[0].file).name, found[0].line) == ("deployments.jsonl", removal)
    assert "ReplicaSet s8-gc/orphan-6769766c98" in found[0].objects
    assert "garbagecollector" in found[0].step


def test_deletion_while_an_owner_lives_without_evidence_of_the_gc_is_not_judged(tmp_path: Path) -> None:
    """A watch shows that `dep` went while owner-b still exists (its deletion dropped from
    the recording), but nothing in a watch says who deleted `dep`: a user may. The step
    is counted as not judged, not reported (the audit log test shows the same change with
    the GC's username caught)."""
    d = sample("gc-propagation-v1.28", tmp_path)
    cms = d / "configmaps.jsonl"
    gone_b = find_line(cms, lambda e: _name(e) == "owner-b" and e["type"] == "DELETED")
    write_lines(cms, [x for i, x in enumerate(lines(cms), 1) if i != gone_b])
    result = run(d)
    assert "gc-no-live-owner-deletion" not in names(result)
    assert result.stats["gc-no-live-owner-deletion"].not_judged["author of the step unknown"] == 1


# ---- formats ---------------------------------------------------------------------------------


def _indent(src: Path, dst: Path) -> list[int]:
    """Rewrite a one-event-per-line file as kubectl prints it (indented, concatenated);
    returns the first line of each event."""
    out: list[str] = []
    starts = []
    for raw in lines(src):
        starts.append(len(out) + 1)
        out.extend(json.dumps(json.loads(raw), indent=4).splitlines())
    write_lines(dst, out)
    return starts


def test_indented_watch_stream_validates_like_the_compact_one(tmp_path: Path) -> None:
    d = tmp_path / "indented"
    d.mkdir()
    for f in (SAMPLES / "deployment-rollout").glob("*.jsonl"):
        _indent(f, d / f.name)
    compact = run(SAMPLES / "deployment-rollout")
    indented = run(d)
    assert indented.findings == []
    assert indented.counts == compact.counts
    assert {n: s.checked for n, s in indented.stats.items()} == {n: s.checked for n, s in compact.stats.items()}


def test_doctored_indented_stream_names_the_events_first_line(tmp_path: Path) -> None:
    d = sample("deployment-rollout", tmp_path)
    pods = d / "pods.jsonl"
    later = find_line(pods, lambda e: _name(e) == "web-68595bf6d9-slng8" and "deletionTimestamp" in e["object"]["metadata"])
    edit_event(pods, later, lambda ev: ev["object"]["status"].__setitem__("phase", "Pending"))
    starts = _indent(pods, pods)
    result = run(d)
    found = [f for f in result.violations if f.invariant == "pod-phase-monotonic"]
    assert [(Path(f.file).name, f.line) for f in found] == [("pods.jsonl", starts[later - 1])]
    assert starts[later - 1] > later  # the indented file has many lines per event


def test_per_kind_files_merge_by_resource_version(tmp_path: Path) -> None:
    """Files are interleaved by resourceVersion, whatever their order on the command line;
    one file holding every kind gives the same validation (each file's disorder within a
    window of 256 events is sorted out; here the kinds simply follow one another)."""
    src = SAMPLES / "deployment-rollout"
    files = sorted(src.glob("*.jsonl"))
    merged = [x.rv or 0 for x in merge_by_rv([read_watch(f) for f in reversed(files)]) if isinstance(x, RawEvent)]
    assert merged == sorted(merged) and len(merged) == sum(len(lines(f)) for f in files)
    one = tmp_path / "all.jsonl"
    write_lines(one, [x for f in files for x in lines(f)])  # kinds one after another: far out of order
    a = run(files)
    b = run(list(reversed(files)))
    assert a.counts == b.counts and a.findings == b.findings == []
    c = run(one)
    assert c.findings == [] and c.counts["events"] == a.counts["events"]


def test_merging_orders_events_across_kinds_by_resource_version() -> None:
    def ev(rv: int, f: str) -> RawEvent:
        return RawEvent("ADDED", "ConfigMap", "ns", f"cm{rv}", rv, {}, f, rv)

    pods: list[RawEvent | InputProblem | Marker] = [ev(3, "a"), ev(7, "a"), ev(9, "a")]
    rss: list[RawEvent | InputProblem | Marker] = [ev(1, "b"), ev(8, "b"), InputProblem("b", 99, "bad"), ev(10, "b")]
    out = list(merge_by_rv([pods, rss]))
    # a problem keeps its place right after the event before it in its file
    assert [x.rv if isinstance(x, RawEvent) else "problem" for x in out] == [1, 3, 7, 8, "problem", 9, 10]


def test_bookmark_events_are_counted_and_change_nothing(tmp_path: Path) -> None:
    d = sample("deployment-rollout", tmp_path)
    pods = d / "pods.jsonl"
    ls = lines(pods)
    bookmark = json.dumps({"type": "BOOKMARK", "object": {"kind": "Pod", "apiVersion": "v1", "metadata": {"resourceVersion": "400"}}})
    write_lines(pods, ls[:10] + [bookmark] + ls[10:])
    result = run(d)
    assert result.findings == [] and result.counts["bookmarks"] == 1
    assert result.counts["events"] == run(SAMPLES / "deployment-rollout").counts["events"]
    items = list(read_watch(pods))
    assert isinstance(items[10], Marker) and items[10].rv == 400 and items[10].line == 11


def test_error_event_is_an_input_error_and_the_rest_is_still_checked(tmp_path: Path) -> None:
    d = sample("deployment-rollout", tmp_path)
    pods = d / "pods.jsonl"
    later = find_line(pods, lambda e: _name(e) == "web-68595bf6d9-slng8" and "deletionTimestamp" in e["object"]["metadata"])
    edit_event(pods, later, lambda ev: ev["object"]["status"].__setitem__("phase", "Pending"))
    ls = lines(pods)
    error = json.dumps(
        {
            "type": "ERROR",
            "object": {
                "kind": "Status",
                "apiVersion": "v1",
                "status": "Failure",
                "message": "too old resource version: 345 (400)",
                "reason": "Expired",
                "code": 410,
            },
        }
    )
    write_lines(pods, ls[:5] + [error] + ls[5:])
    result = run(d)
    inputs = result.input_errors
    assert [(Path(f.file).name, f.line) for f in inputs] == [("pods.jsonl", 6)]
    assert "410 Expired" in inputs[0].message and "too old resource version" in inputs[0].message
    # the violation after the error is still found, one line further down
    assert [(f.invariant, f.line) for f in result.violations] == [("pod-phase-monotonic", later + 1)]
    assert result.exit_status == 2


def test_objects_first_seen_mid_trace_are_not_judged_as_creations(tmp_path: Path) -> None:
    """A watch started late lists existing objects as ADDED; an object whose
    managedFields show later writers was not created there, so creation-judging
    invariants do not judge it (the doctored start would otherwise look like pods
    created out of nowhere)."""
    d = sample("deployment-rollout", tmp_path)
    for f in d.glob("*.jsonl"):
        ls = lines(f)
        # start every watch at its 5th event, presenting it as an ADDED listing
        first = json.loads(ls[4])
        first["type"] = "ADDED"
        write_lines(f, [json.dumps(first)] + ls[5:])
    result = run(d)
    assert result.counts["objects first seen without their creation"] >= 1
    assert result.exit_status == 0, [f.headline() for f in result.findings]


MODEL_RUNS = ["cascading-deletion", "recreate", "rollout-fence-posts", "statefulset-ordered-scale", "daemonset-surge", "cronjob-replace"]


@pytest.mark.parametrize("name", MODEL_RUNS)
def test_watch_traces_of_correct_model_runs_validate_clean(name: str, tmp_path: Path) -> None:
    """The model's own runs, written as a cluster would have sent them (each controller
    write its own event, in the order of its requests), raise no alarm."""
    from kmodel.scenario import load_scenario
    from kmodel.validate.synth import run_scenario_events
    from tests.validatekit import write_watch

    path = Path(__file__).parent / "scenarios" / f"{name}.yaml"
    if not path.exists():
        pytest.skip(f"scenario {name} is gone")
    write_watch(run_scenario_events(load_scenario(path)), tmp_path / name)
    result = run(tmp_path / name)
    assert result.findings == [], [f.headline() for f in result.findings]
    assert sum(s.checked for s in result.stats.values()) > 20
