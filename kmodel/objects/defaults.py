"""API defaulting that depends on other fields (the static defaults live on the dataclasses).

Sources: pkg/apis/apps/v1/defaults.go (Deployment strategy), pkg/apis/core/v1/defaults.go
(ReplicationController selector and labels default to the template labels).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from typing import Any

from kmodel.objects.apps import (
    DaemonSet,
    RollingUpdateDaemonSet,
    RollingUpdateStatefulSetStrategy,
    StatefulSet,
    StatefulSetPersistentVolumeClaimRetentionPolicy,
)
from kmodel.objects.batch import Job
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


@defaulter("StatefulSet")
def _default_statefulset(sts: StatefulSet) -> StatefulSet:
    spec = sts.spec
    us = spec.update_strategy
    if us.type == "RollingUpdate" and us.rolling_update is None:
        # SetDefaults_StatefulSet: a RollingUpdate strategy gets partition 0.
        spec = replace(spec, update_strategy=replace(us, rolling_update=RollingUpdateStatefulSetStrategy(partition=0)))
    if spec.persistent_volume_claim_retention_policy is None:
        # StatefulSetAutoDeletePVC (beta 1.27, GA 1.32): Retain / Retain.
        spec = replace(spec, persistent_volume_claim_retention_policy=StatefulSetPersistentVolumeClaimRetentionPolicy())
    return sts if spec is sts.spec else replace(sts, spec=spec)


@defaulter("DaemonSet")
def _default_daemonset(ds: DaemonSet) -> DaemonSet:
    us = ds.spec.update_strategy
    if us.type != "RollingUpdate":
        return ds
    ru = us.rolling_update or RollingUpdateDaemonSet()
    # SetDefaults_DaemonSet: maxUnavailable 1, maxSurge 0 when unset.
    ru = RollingUpdateDaemonSet(
        max_unavailable=1 if ru.max_unavailable is None else ru.max_unavailable,
        max_surge=0 if ru.max_surge is None else ru.max_surge,
    )
    if ru == us.rolling_update:
        return ds
    return replace(ds, spec=replace(ds.spec, update_strategy=replace(us, rolling_update=ru)))


MAX_INT32 = 2**31 - 1


@defaulter("Job")
def _default_job(job: Job) -> Job:
    """SetDefaults_Job: completions and parallelism, backoffLimit, completionMode, suspend."""
    spec = job.spec
    completions, parallelism = spec.completions, spec.parallelism
    if completions is None and parallelism is None:
        completions, parallelism = 1, 1
    if parallelism is None:
        parallelism = 1
    backoff = spec.backoff_limit
    if backoff is None:
        backoff = MAX_INT32 if spec.backoff_limit_per_index is not None else 6
    new = replace(
        spec,
        completions=completions,
        parallelism=parallelism,
        backoff_limit=backoff,
        completion_mode=spec.completion_mode or "NonIndexed",
        suspend=bool(spec.suspend),
    )
    return job if new == spec else replace(job, spec=new)
