"""kmodel validate on kube-apiserver audit logs (audit.k8s.io/v1 Events, RequestResponse
level). tests/data/audit-gc.log is written by hand in the format of
staging/src/k8s.io/apiserver/pkg/apis/audit/v1/types.go: a user creates a ReplicaSet, the
replicaset-controller service account creates its pod, kube-scheduler binds it
(pods/binding), the kubelet patches its status; a read, a lease renewal, a request still
at RequestReceived and a failed (409) status update are in the log too; finally the
generic-garbage-collector deletes the pod while its ReplicaSet is alive."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from kmodel.validate.audit import AuditReader
from kmodel.validate.source import BIND, DELETED, RawEvent
from tests.validatekit import lines, names, run, write_lines

LOG = Path(__file__).parent / "data" / "audit-gc.log"
GC_DELETE_LINE = 10


def _copy(tmp: Path, content: list[str]) -> Path:
    p = tmp / "audit.log"
    write_lines(p, content)
    return p


def test_gc_deleting_a_pod_whose_replicaset_lives_is_caught_at_its_line() -> None:
    result = run(LOG)
    found = [f for f in result.violations if f.invariant == "gc-no-live-owner-deletion"]
    assert [(Path(f.file).name, f.line) for f in found] == [("audit-gc.log", GC_DELETE_LINE)]
    f = found[0]
    assert "Pod demo/web-7xk2p" in f.objects and "ReplicaSet demo/web" in f.objects
    assert "generic-garbage-collector" in f.step
    assert any("metadata.deletionTimestamp" in c for c in f.changes)
    assert any(x.startswith("ReplicaSet demo/web:") for x in f.involved)
    assert result.exit_status == 1


def test_the_same_deletion_after_the_owner_is_gone_is_legitimate(tmp_path: Path) -> None:
    ls = lines(LOG)
    delete_rs = {
        "kind": "Event",
        "apiVersion": "audit.k8s.io/v1",
        "level": "RequestResponse",
        "auditID": "0b4c1a52-0d6e-4b2c-9d53-1f0a2c7f0010",
        "stage": "ResponseComplete",
        "requestURI": "/apis/apps/v1/namespaces/demo/replicasets/web",
        "verb": "delete",
        "user": {"username": "kubernetes-admin", "groups": ["system:masters", "system:authenticated"]},
        "objectRef": {"resource": "replicasets", "namespace": "demo", "name": "web", "apiGroup": "apps", "apiVersion": "v1"},
        "responseStatus": {"metadata": {}, "status": "Success", "code": 200},
        "responseObject": {
            "kind": "Status",
            "apiVersion": "v1",
            "metadata": {},
            "status": "Success",
            "details": {"name": "web", "group": "apps", "kind": "replicasets", "uid": "5e0c0e1a-7f3d-4a55-9b0e-6a1f2d3c4b01"},
        },
        "requestReceivedTimestamp": "2026-11-21T21:30:08.000000Z",
        "stageTimestamp": "2026-11-21T21:30:08.010000Z",
    }
    p = _copy(tmp_path, ls[: GC_DELETE_LINE - 1] + [json.dumps(delete_rs)] + ls[GC_DELETE_LINE - 1 :])
    result = run(p)
    assert result.findings == [], [f.headline() for f in result.findings]
    assert result.stats["gc-no-live-owner-deletion"].checked == 1  # judged, and it held


def test_usernames_name_the_actors() -> None:
    result = run(LOG)
    assert result.actors["scheduler"] == 1 and result.actors["kubelet"] == 1
    assert result.actors["replicaset"] == 2 and result.actors["garbagecollector"] == 1 and result.actors["user"] == 1
    # the binding reached the scheduler's invariants, which need the Node (not in this log)
    assert result.stats["placement-filters"].not_judged == {"no Node objects in the trace": 1}


def test_reader_keeps_completed_writes_only() -> None:
    reader = AuditReader(LOG)
    events = [x for x in reader if isinstance(x, RawEvent)]
    assert [(e.type, e.kind, e.line) for e in events] == [
        ("ADDED", "ReplicaSet", 2),
        ("ADDED", "Pod", 3),
        (BIND, "Pod", 5),
        ("MODIFIED", "Pod", 7),
        ("MODIFIED", "ReplicaSet", 9),
        ("MODIFIED", "Pod", 10),
    ]
    assert events[2].detail == {"node": "node-1"} and events[2].username == "system:kube-scheduler"
    assert reader.skipped == {"not ResponseComplete": 1, "reads": 1, "resource leases (not modelled)": 1, "failed requests": 1}
    assert events[0].time is not None and events[-1].time is not None and events[-1].time - events[0].time > 8


def test_binding_sets_the_node_and_the_scheduled_condition() -> None:
    from invariants.registry import select
    from kmodel.validate.engine import Engine

    engine = Engine(select())
    for item in AuditReader(LOG):
        engine.feed(item)
        if isinstance(item, RawEvent) and item.type == BIND:
            break
    pod = engine.view.get(("Pod", "demo", "web-7xk2p"))
    assert pod.spec.node_name == "node-1"
    assert [(c.type, c.status) for c in pod.status.conditions] == [("PodScheduled", "True")]


def test_delete_responses_tell_removal_from_graceful_deletion(tmp_path: Path) -> None:
    ls = lines(LOG)
    gc = json.loads(ls[GC_DELETE_LINE - 1])
    graceful = AuditReader(LOG).entry(gc, 1)
    assert [e.type for e in graceful if isinstance(e, RawEvent)] == ["MODIFIED"]  # 30 s grace: still there
    gc["responseObject"]["metadata"]["deletionGracePeriodSeconds"] = 0
    assert [e.type for e in AuditReader(LOG).entry(gc, 1) if isinstance(e, RawEvent)] == [DELETED]
    gc["responseObject"] = {"kind": "Status", "apiVersion": "v1", "status": "Success", "code": 200}
    assert [e.type for e in AuditReader(LOG).entry(gc, 1) if isinstance(e, RawEvent)] == [DELETED]


def test_metadata_level_entries_are_input_errors_and_the_rest_is_checked(tmp_path: Path) -> None:
    ls = lines(LOG)
    ev: dict[str, Any] = json.loads(ls[6])  # the kubelet's status patch
    ev.pop("responseObject")
    ev["level"] = "Metadata"
    p = _copy(tmp_path, ls[:6] + [json.dumps(ev)] + ls[7:])
    result = run(p)
    assert [(f.line, "without responseObject" in f.message) for f in result.input_errors] == [(7, True)]
    assert names(result) == ["gc-no-live-owner-deletion"]
    assert result.exit_status == 2


def test_not_an_audit_event_is_an_input_error(tmp_path: Path) -> None:
    ls = lines(LOG)
    p = _copy(tmp_path, ls[:3] + [json.dumps({"kind": "Pod", "apiVersion": "v1"})] + ls[3:])
    result = run(p, format="audit")
    assert [(f.line, "not an audit.k8s.io Event" in f.message) for f in result.input_errors] == [(4, True)]
