"""Manifests: real objects load and round-trip; bad input is reported with file,
object and field; unmodelled fields are reported, not silently dropped."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from kmodel.errors import ManifestError
from kmodel.manifests import load_file, load_text
from kmodel.objects.serde import as_list, decode_object, encode_object

SAMPLES = Path(__file__).resolve().parents[2] / "shared" / "samples" / "kubectl-watch"
needs_samples = pytest.mark.skipif(not SAMPLES.exists(), reason="../shared/samples not present")

DEPLOYMENT = """
apiVersion: apps/v1
kind: Deployment
metadata: {name: web, namespace: shop}
spec:
  replicas: 3
  selector: {matchLabels: {app: web}}
  template:
    metadata: {labels: {app: web}}
    spec:
      containers: [{name: web, image: "nginx:1.25", resources: {requests: {cpu: 250m, memory: 64Mi}}}]
"""


@needs_samples
def test_sample_manifests_load() -> None:
    web = load_file(SAMPLES / "deployment-rollout" / "web.yaml")
    (d,) = web.objects
    assert d.kind == "Deployment" and d.spec.replicas == 3
    ru = d.spec.strategy.rolling_update
    assert (ru.max_surge, ru.max_unavailable) == (1, 0)
    deps = load_file(SAMPLES / "gc-propagation-v1.28" / "deps.yaml")
    assert [o.metadata.name for o in deps.objects] == ["fg", "bg", "orphan"]
    (cm,) = load_file(SAMPLES / "gc-propagation-v1.28" / "dep.yaml").objects
    assert cm.kind == "ConfigMap" and len(cm.metadata.owner_references) == 2


@needs_samples
@pytest.mark.parametrize("trace", sorted(p.relative_to(SAMPLES).as_posix() for p in SAMPLES.glob("*/*.jsonl") if p.name != "events.jsonl"))
def test_every_recorded_object_decodes_and_round_trips(trace: str) -> None:
    for line_no, line in enumerate((SAMPLES / trace).read_text().splitlines(), 1):
        raw = json.loads(line)["object"]
        obj, _notes = decode_object(raw, f"{trace}:{line_no}", validate=False)
        again, _ = decode_object(encode_object(obj), "round trip", validate=False)
        assert again == obj, f"{trace}:{line_no} does not round-trip"
        out = encode_object(obj)
        meta = raw["metadata"]
        assert out["metadata"]["name"] == meta["name"]
        assert out["metadata"].get("ownerReferences", []) == meta.get("ownerReferences", [])
        assert out["metadata"].get("labels", {}) == meta.get("labels", {})
        if raw["kind"] == "Pod":
            assert out["spec"].get("nodeName") == raw["spec"].get("nodeName")
            assert out["status"].get("phase") == raw["status"].get("phase")
        if "replicas" in raw.get("spec", {}):
            assert out["spec"]["replicas"] == raw["spec"]["replicas"]


def test_kind_list_is_unwrapped_and_typed_lists_too() -> None:
    text = json.dumps(
        {
            "apiVersion": "v1",
            "kind": "List",
            "items": [
                json.loads(
                    json.dumps(load_text(DEPLOYMENT).objects and {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "a"}, "data": {"k": "v"}})
                )
            ],
        }
    )
    loaded = load_text(text)
    assert [o.kind for o in loaded.objects] == ["ConfigMap"]
    typed = {"apiVersion": "v1", "kind": "ConfigMapList", "items": [{"metadata": {"name": "b"}, "data": {}}]}
    assert [o.metadata.name for o in load_text(json.dumps(typed)).objects] == ["b"]


def test_multi_document_yaml_and_default_namespace() -> None:
    text = DEPLOYMENT + "\n---\napiVersion: v1\nkind: ConfigMap\nmetadata: {name: settings}\n---\n"
    loaded = load_text(text, "app.yaml")
    assert [(o.kind, o.metadata.namespace) for o in loaded.objects] == [("Deployment", "shop"), ("ConfigMap", "default")]


def test_quantities_are_integers_in_model_units() -> None:
    (d,) = load_text(DEPLOYMENT).objects
    req = d.spec.template.spec.containers[0].resources.requests
    assert req["cpu"] == 250 and req["memory"] == 64 * 1024**2
    out = encode_object(d)
    assert out["spec"]["template"]["spec"]["containers"][0]["resources"]["requests"] == {"cpu": "250m", "memory": "64Mi"}


def test_unmodelled_fields_are_reported_and_carried() -> None:
    text = DEPLOYMENT.replace("replicas: 3", "replicas: 3\n  frobnicate: true")
    loaded = load_text(text, "web.yaml")
    assert any("spec.frobnicate" in str(n) and "web.yaml" in str(n) for n in loaded.notes)
    inert = load_text(DEPLOYMENT.replace('image: "nginx:1.25"', 'image: "nginx:1.25", ports: [{containerPort: 80}]'))
    assert inert.notes == []  # known fields without workload semantics are carried silently
    c = inert.objects[0].spec.template.spec.containers[0]
    assert encode_object(inert.objects[0])["spec"]["template"]["spec"]["containers"][0]["ports"] == [{"containerPort": 80}]
    assert c.extra


@pytest.mark.parametrize(
    ("text", "fragments"),
    [
        ("kind: Deployment\nmetadata: {name: x\n", ["bad.yaml:", "invalid YAML"]),
        ("apiVersion: v1\nkind: Frobnitz\nmetadata: {name: x}\n", ["bad.yaml", "Frobnitz x", "kind", "unknown kind 'Frobnitz'"]),
        ("apiVersion: v2\nkind: Pod\nmetadata: {name: x}\nspec: {containers: [{name: c}]}\n", ["apiVersion", "'v2' is not a supported version of Pod"]),
        (DEPLOYMENT.replace("replicas: 3", "replicas: three"), ["bad.yaml", "Deployment shop/web", "spec.replicas", "expected an integer"]),
        (DEPLOYMENT.replace("app: web}}\n  template", "app: api}}\n  template"), ["spec.template.metadata.labels", "does not match"]),
        (DEPLOYMENT.replace("replicas: 3", "replicas: 3\n  strategy: {rollingUpdate: {maxSurge: 0, maxUnavailable: 0}}"), ["maxUnavailable", "may not be 0"]),
        (DEPLOYMENT.replace("cpu: 250m", "cpu: lots"), ["spec.template.spec.containers[0].resources.requests.cpu", "not a quantity"]),
        ("apiVersion: v1\nkind: Pod\nmetadata: {name: x}\nspec: {containers: []}\n", ["Pod default/x", "spec.containers", "at least one container"]),
        ("apiVersion: v1\nkind: Pod\nmetadata: {name: Bad_Name}\nspec: {containers: [{name: c}]}\n", ["metadata.name", "not a valid name"]),
        ("- just\n- a list\n", ["bad.yaml", "expected a Kubernetes object"]),
        ("apiVersion: v1\nkind: Node\nmetadata: {name: n, namespace: x}\n", ["metadata.namespace", "cluster-scoped"]),
    ],
)
def test_bad_input_names_file_object_and_field(text: str, fragments: list[str]) -> None:
    with pytest.raises(ManifestError) as info:
        load_text(text, "bad.yaml")
    message = str(info.value)
    for f in fragments:
        assert f in message, f"{f!r} not in {message!r}"


def test_missing_file_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(ManifestError, match="no such file"):
        load_file(tmp_path / "nope.yaml")


def test_state_prints_as_kubectl_list() -> None:
    (d,) = load_text(DEPLOYMENT).objects
    doc = as_list([d])
    assert doc["kind"] == "List" and doc["apiVersion"] == "v1"
    assert doc["items"][0]["kind"] == "Deployment"
    assert doc["items"][0]["spec"]["strategy"]["rollingUpdate"] == {"maxSurge": "25%", "maxUnavailable": "25%"}
