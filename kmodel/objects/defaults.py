"""API defaulting that depends on other fields (the static defaults live on the dataclasses).

Sources: pkg/apis/apps/v1/defaults.go (Deployment strategy), pkg/apis/core/v1/defaults.go
(ReplicationController selector and labels default to the template labels).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from typing import Any

from kmodel.objects.kinds import APIObject
from kmodel.objects.workloads import Deployment, ReplicationController, RollingUpdateDeployment

Defaulter = Callable[[Any], Any]
DEFAULTERS: dict[str, Defaulter] = {}


def defaulter(kind: str) -> Callable[[Defaulter], Defaulter]:
    """Register a defaulting function for `kind`."""

    def register(fn: Defaulter) -> Defaulter:
        DEFAULTERS[kind] = fn
        return fn

    return register


def apply_defaults(obj: APIObject) -> APIObject:
    """Apply the registered defaulting for the object's kind."""
    fn = DEFAULTERS.get(obj.kind)
    return fn(obj) if fn else obj


@defaulter("Deployment")
def _default_deployment(d: Deployment) -> Deployment:
    strategy = d.spec.strategy
    if strategy.type == "RollingUpdate" and strategy.rolling_update is None:
        strategy = replace(strategy, rolling_update=RollingUpdateDeployment())
    elif strategy.type == "RollingUpdate" and strategy.rolling_update is not None:
        ru = strategy.rolling_update
        # SetDefaults_Deployment: a nil maxSurge/maxUnavailable becomes 25%.
        if ru.max_surge is None or ru.max_unavailable is None:
            ru = RollingUpdateDeployment(
                max_surge="25%" if ru.max_surge is None else ru.max_surge,
                max_unavailable="25%" if ru.max_unavailable is None else ru.max_unavailable,
            )
            strategy = replace(strategy, rolling_update=ru)
    if strategy is d.spec.strategy:
        return d
    return replace(d, spec=replace(d.spec, strategy=strategy))


@defaulter("ReplicationController")
def _default_rc(rc: ReplicationController) -> ReplicationController:
    labels = rc.spec.template.metadata.labels
    if labels and not rc.spec.selector:
        rc = replace(rc, spec=replace(rc.spec, selector=labels))
    if labels and not rc.metadata.labels:
        rc = replace(rc, metadata=replace(rc.metadata, labels=labels))
    return rc
