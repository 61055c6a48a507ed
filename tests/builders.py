"""Small builders for test objects (valid manifests decoded through the real codec)."""

from __future__ import annotations

from typing import Any

from kmodel.actions import AddNode, Apply
from kmodel.model import Model
from kmodel.objects.serde import decode_object
from kmodel.state import ClusterState, empty_state


def obj(manifest: dict[str, Any]) -> Any:
    """Decode one manifest (defaults and validation applied)."""
    o, _ = decode_object(manifest)
    return o


def node(
    name: str, cpu: str = "4", memory: str = "8Gi", pods: int = 110, labels: dict[str, str] | None = None, taints: list[dict[str, Any]] | None = None
) -> Any:
    """A node with allocatable resources."""
    return obj(
        {
            "apiVersion": "v1",
            "kind": "Node",
            "metadata": {"name": name, "labels": {"kubernetes.io/hostname": name, **(labels or {})}},
            "spec": {"taints": taints or []},
            "status": {"allocatable": {"cpu": cpu, "memory": memory, "pods": str(pods)}},
        }
    )


def template(app: str, image: str = "nginx:1.25", cpu: str | None = None, grace: int = 30, restart: str = "Always") -> dict[str, Any]:
    """A pod template manifest."""
    container: dict[str, Any] = {"name": "app", "image": image}
    if cpu:
        container["resources"] = {"requests": {"cpu": cpu}}
    return {"metadata": {"labels": {"app": app}}, "spec": {"containers": [container], "terminationGracePeriodSeconds": grace, "restartPolicy": restart}}


def replicaset(name: str, replicas: int, **tpl: Any) -> Any:
    """A ReplicaSet selecting app=<name>."""
    return obj(
        {
            "apiVersion": "apps/v1",
            "kind": "ReplicaSet",
            "metadata": {"name": name, "namespace": "default"},
            "spec": {"replicas": replicas, "selector": {"matchLabels": {"app": name}}, "template": template(name, **tpl)},
        }
    )


def cluster(model: Model, nodes: list[Any], objects: list[Any], settle: bool = True) -> ClusterState:
    """Register nodes, apply objects, and (by default) settle."""
    s = empty_state()
    for n in nodes:
        s = model.step(s, AddNode(n))
    if objects:
        s = model.step(s, Apply(tuple(objects)))
    return model.settle(s).state if settle else s
