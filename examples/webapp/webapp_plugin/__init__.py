"""A complete kmodel plugin: the `WebApp` custom resource (example.com/v1), its operator,
and its invariants.

A WebApp asks for `spec.replicas` copies of `spec.image`. The operator keeps a
Deployment of the same name (controlled by the WebApp, so deleting the WebApp lets the
garbage collector delete the Deployment, its ReplicaSets and pods) and reports
`status.readyReplicas` from the Deployment's status.

    kmodel run examples/webapp/scenario.yaml --plugin webapp_plugin
    kmodel explore examples/webapp/scenario.yaml --plugin webapp_plugin
"""

from __future__ import annotations

from kmodel.objects.kinds import KindInfo
from kmodel.plugins import PluginRegistry
from webapp_plugin.controller import WebAppController


def register(registry: PluginRegistry) -> None:
    """Register the WebApp kind, its controller and its invariants."""
    registry.kind(KindInfo("WebApp", ("example.com/v1",), None, tracks_generation=True))
    registry.controller(WebAppController())
    registry.invariant_module("webapp_plugin.invariants")
