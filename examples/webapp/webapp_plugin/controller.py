"""The WebApp operator: one Deployment per WebApp, and the WebApp's status."""

from __future__ import annotations

from dataclasses import replace
from typing import Any, Sequence

from kmodel import apiserver
from kmodel.actors import KindReconciler
from kmodel.config import ModelConfig
from kmodel.controllers.common import controller_ref
from kmodel.frozen import FrozenDict, freeze, thaw
from kmodel.objects.serde import decode_object
from kmodel.state import ClusterState


def desired_deployment(webapp: Any) -> Any:
    """The Deployment a WebApp asks for, controlled by the WebApp."""
    name = webapp.metadata.name
    spec = thaw(webapp.body.get("spec", {}))
    manifest = {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {"name": name, "namespace": webapp.metadata.namespace, "labels": {"webapp": name}},
        "spec": {
            "replicas": int(spec.get("replicas", 1)),
            "selector": {"matchLabels": {"webapp": name}},
            "template": {
                "metadata": {"labels": {"webapp": name}},
                "spec": {"containers": [{"name": "app", "image": str(spec.get("image", "nginx"))}]},
            },
        },
    }
    deployment, _ = decode_object(manifest, f"WebApp {name}")
    return replace(deployment, metadata=replace(deployment.metadata, owner_references=(controller_ref(webapp),)))


class WebAppController(KindReconciler):
    """Creates or updates the WebApp's Deployment and mirrors its readiness."""

    name = "webapp"
    kind = "WebApp"
    set_owner = True  # the buggy variant forgets the owner reference

    def reconcile(self, state: ClusterState, webapp: Any, config: ModelConfig) -> Sequence[apiserver.Request]:
        """One sync of a WebApp."""
        if webapp.metadata.deletion_timestamp is not None:
            return ()
        want = desired_deployment(webapp)
        if not self.set_owner:
            want = replace(want, metadata=replace(want.metadata, owner_references=()))
        have = state.get("Deployment", webapp.metadata.namespace, webapp.metadata.name)
        requests: list[apiserver.Request] = []
        if have is None:
            requests.append(apiserver.Create(want))
        elif have.spec.replicas != want.spec.replicas or have.spec.template != want.spec.template:
            requests.append(apiserver.Update(replace(have, spec=replace(have.spec, replicas=want.spec.replicas, template=want.spec.template))))
        ready = have.status.ready_replicas if have is not None else 0
        status = dict(thaw(webapp.body.get("status", {})))
        if status.get("readyReplicas") != ready:
            status["readyReplicas"] = ready
            body = FrozenDict(dict(webapp.body) | {"status": freeze(status)})
            requests.append(apiserver.Update(replace(webapp, body=body), status=True, check_rv=False))
        return requests
