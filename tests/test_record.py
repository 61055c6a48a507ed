"""kmodel record against a fake Kubernetes client: the list-then-watch protocol, the
kubectl output format, relisting after an expired watch, and the message when the
optional client is missing. (No live cluster here.)"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest
from typer.testing import CliRunner

from kmodel.cli import app
from kmodel.errors import KModelError
from kmodel.validate.record import kind_spec, load_client, record
from tests.validatekit import SAMPLES, lines, run


class FakeClient:
    """Scripted list responses and watch streams per client method name."""

    def __init__(self, lists: dict[str, list[dict[str, Any]]], streams: dict[str, list[list[dict[str, Any]]]]) -> None:
        self.lists = lists
        self.streams = streams
        self.calls: list[tuple[str, dict[str, Any]]] = []
        fake = self

        class Api:
            def __getattr__(self, name: str) -> Any:
                def fn(**kwargs: Any) -> Any:
                    fake.calls.append((name, kwargs))
                    listing = fake.lists[name].pop(0) if len(fake.lists[name]) > 1 else fake.lists[name][0]
                    return SimpleNamespace(data=json.dumps(listing).encode())

                fn.__name__ = name
                return fn

        class Watch:
            def stream(self, fn: Any, **kwargs: Any) -> Any:
                fake.calls.append((f"watch {fn.__name__}", kwargs))
                queue = fake.streams[fn.__name__]
                events = queue.pop(0) if queue else []
                for ev in events:
                    yield {"type": ev["type"], "object": object(), "raw_object": ev["object"]}

            def stop(self) -> None:
                pass

        self.client = SimpleNamespace(CoreV1Api=Api, AppsV1Api=Api, BatchV1Api=Api)
        self.watch = SimpleNamespace(Watch=Watch)


def _sample_events(name: str) -> list[dict[str, Any]]:
    return [json.loads(x) for x in lines(SAMPLES / "deployment-rollout" / name)]


def test_record_writes_kubectl_watch_files_that_validate(tmp_path: Path) -> None:
    pods, rss = _sample_events("pods.jsonl"), _sample_events("replicasets.jsonl")
    fake = FakeClient(
        lists={
            "list_namespaced_pod": [{"kind": "PodList", "apiVersion": "v1", "metadata": {"resourceVersion": "343"}, "items": []}],
            "list_namespaced_replica_set": [{"kind": "ReplicaSetList", "apiVersion": "apps/v1", "metadata": {"resourceVersion": "343"}, "items": []}],
        },
        streams={"list_namespaced_pod": [pods], "list_namespaced_replica_set": [rss]},
    )
    rec = record(["po", "replicasets"], tmp_path / "rec", namespace="scen-a", client=fake, duration=5, max_events=len(pods) + len(rss))
    assert rec.errors == []
    assert rec.events == {"pods": len(pods), "replicasets": len(rss)}
    written = [json.loads(x) for x in lines(tmp_path / "rec" / "pods.jsonl")]
    assert written == pods  # exactly what the API server sent, one event per line
    assert (
        "watch list_namespaced_pod",
        {"resource_version": "343", "timeout_seconds": 300, "allow_watch_bookmarks": True, "namespace": "scen-a"},
    ) in fake.calls
    result = run(tmp_path / "rec")
    assert result.findings == [] and result.counts["events"] == len(pods) + len(rss)


def test_record_lists_existing_objects_first_and_relists_after_an_expired_watch(tmp_path: Path) -> None:
    pods = _sample_events("pods.jsonl")
    first = {k: v for k, v in pods[0]["object"].items()}
    first.pop("kind")
    first.pop("apiVersion")  # list items come without kind and apiVersion
    expired = {
        "type": "ERROR",
        "object": {"kind": "Status", "apiVersion": "v1", "status": "Failure", "reason": "Expired", "code": 410, "message": "too old resource version"},
    }
    fake = FakeClient(
        lists={
            "list_pod_for_all_namespaces": [
                {"kind": "PodList", "apiVersion": "v1", "metadata": {"resourceVersion": "348"}, "items": [first]},
                {"kind": "PodList", "apiVersion": "v1", "metadata": {"resourceVersion": "360"}, "items": [first]},
            ]
        },
        streams={"list_pod_for_all_namespaces": [[pods[1], expired], pods[2:5]]},
    )
    rec = record(["pods"], tmp_path / "rec", client=fake, duration=5, max_events=7, indent=2)
    out = tmp_path / "rec" / "pods.jsonl"
    text = out.read_text()
    assert text.startswith('{\n  "type": "ADDED",')  # --indent: as kubectl -o json prints
    from kmodel.validate.jsonstream import iter_values

    events = [v for _, v in iter_values(text.splitlines(keepends=True))]  # type: ignore[misc]
    assert [e["type"] for e in events] == ["ADDED", "MODIFIED", "ERROR", "ADDED", "ADDED", "ADDED", "MODIFIED"]
    assert events[0]["object"]["kind"] == "Pod" and events[0]["object"]["apiVersion"] == "v1"
    assert [c[0] for c in fake.calls].count("list_pod_for_all_namespaces") == 2
    assert rec.events == {"pods": 7}
    result = run(out)
    assert [f.message.split(";")[0] for f in result.input_errors] == [
        "the watch ended with an error from the API server (410 Expired: too old resource version)"
    ]


def test_kind_names_as_kubectl_accepts_them() -> None:
    assert kind_spec("deploy").kind == "Deployment"
    assert kind_spec("Pod").plural == "pods" and kind_spec("pod").plural == "pods"
    assert kind_spec("statefulsets").api == "AppsV1Api"
    assert kind_spec("nodes").namespaced is False
    with pytest.raises(KModelError, match="unknown kind 'widgets'"):
        kind_spec("widgets")


def test_missing_client_gives_a_clear_message(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setitem(sys.modules, "kubernetes", None)
    with pytest.raises(KModelError, match=r"pip install 'kmodel\[record\]'"):
        load_client()
    res = CliRunner().invoke(app, ["record", "pods", "--namespace", "default", "--out", str(tmp_path / "x")])
    assert res.exit_code == 2 and "Kubernetes Python client" in res.output


def test_record_extra_is_declared() -> None:
    import tomllib

    pyproject = tomllib.loads((Path(__file__).resolve().parents[1] / "pyproject.toml").read_text())
    assert any(dep.startswith("kubernetes>=29") for dep in pyproject["project"]["optional-dependencies"]["record"])
