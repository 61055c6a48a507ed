"""Invariants of the WebApp operator, registered with kmodel's invariant registry."""

from __future__ import annotations

from typing import Iterable

from invariants.registry import Kind, Violation, invariant
from kmodel.state import ClusterState


@invariant(
    "webapp-deployment",
    Kind.QUIESCENT,
    """When nothing is left to do, every WebApp that is not being deleted has a Deployment
    of the same name that it controls, with the replicas and image the WebApp asks for,
    and its status.readyReplicas equals the Deployment's readyReplicas.""",
    subjects=lambda s: s.count("WebApp"),
    source="examples/webapp operator contract",
    tags=("plugin",),
)
def webapp_deployment(state: ClusterState) -> Iterable[Violation]:
    for app in state.list("WebApp"):
        if app.metadata.deletion_timestamp is not None:
            continue
        d = state.get("Deployment", app.metadata.namespace, app.metadata.name)
        ref = str(app.ref)
        if d is None:
            yield Violation("webapp-deployment", f"{ref} has no Deployment", (ref,))
            continue
        owner = d.metadata.controller_ref()
        if owner is None or owner.uid != app.metadata.uid:
            yield Violation("webapp-deployment", f"{d.ref} is not controlled by {ref}", (ref, str(d.ref)))
        spec = app.body.get("spec", {})
        if d.spec.replicas != spec.get("replicas", 1):
            yield Violation("webapp-deployment", f"{d.ref} has {d.spec.replicas} replicas, {ref} wants {spec.get('replicas', 1)}", (ref, str(d.ref)))
        status = app.body.get("status", {})
        if status.get("readyReplicas", 0) != d.status.ready_replicas:
            yield Violation("webapp-deployment", f"{ref} reports {status.get('readyReplicas', 0)} ready, the Deployment {d.status.ready_replicas}", (ref,))


@invariant(
    "webapp-no-leftovers",
    Kind.QUIESCENT,
    """When nothing is left to do, no Deployment labelled webapp=<name> outlives its WebApp:
    the operator's objects are garbage-collected with it.""",
    subjects=lambda s: s.count("Deployment"),
    source="examples/webapp operator contract; garbage collection of controlled objects",
    tags=("plugin",),
)
def webapp_no_leftovers(state: ClusterState) -> Iterable[Violation]:
    for d in state.list("Deployment"):
        name = d.metadata.labels.get("webapp")
        if name is not None and state.get("WebApp", d.metadata.namespace, name) is None:
            yield Violation("webapp-no-leftovers", f"{d.ref} outlives WebApp {d.metadata.namespace}/{name}", (str(d.ref),))
