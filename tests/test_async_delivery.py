"""Asynchronous delivery: a controller acts on a view that misses its own writes.

A sync's first write that fails with a conflict ends the sync (its later requests are
never sent); the Job controller's status writes carry the resourceVersion they read; and
from 1.33 the Job controller skips a Job whose finishing write it has not observed yet
(kubernetes/kubernetes#130103, fixed by #130333).
"""

from __future__ import annotations

from dataclasses import replace

from invariants.registry import select
from kmodel import apiserver
from kmodel.actions import Deliver, ExitContainer, Reconcile
from kmodel.checking import Checker
from kmodel.config import ModelConfig
from kmodel.model import Model
from kmodel.state import ClusterState, InFlight
from tests.jobkit import booted, decode, job_manifest


def _job_succeeded_once(version: str) -> tuple[Model, ClusterState]:
    model = Model(ModelConfig(kubernetes_version=version, delivery="async"))
    state = booted(model, decode(job_manifest("once", completions=1, parallelism=1)))
    (pod,) = state.pods()
    assert pod.status.phase == "Running"
    return model, model.step(state, ExitContainer("default", pod.metadata.name, "c", 0))


def _two_syncs_then_settle(model: Model, state: ClusterState) -> tuple[list[str], ClusterState]:
    """Two Job syncs before any of the first one's writes land, then everything settles;
    returns the transition-invariant violations on the way and the final state."""
    checker = Checker(select(["job-terminal-exclusive"]))
    found: list[str] = []
    sync = Reconcile("job", "default", "once")
    for action in (sync, sync):
        nxt = model.step(state, action)
        found += [v.message for v in checker.transition_(state, action, nxt)]
        state = nxt

    def on_step(a: ClusterState, action: object, b: ClusterState) -> None:
        found.extend(v.message for v in checker.transition_(a, action, b))

    return found, model.settle(state, on_step=on_step).state


def test_a_stale_job_sync_is_skipped_from_1_33() -> None:
    model, state = _job_succeeded_once("1.34")
    found, end = _two_syncs_then_settle(model, state)
    assert found == []
    (job,) = end.list("Job")
    assert [c.type for c in job.status.conditions if c.status == "True"] == ["SuccessCriteriaMet", "Complete"]
    assert job.status.succeeded == 1 and len(end.pods()) == 1


def test_before_1_33_a_stale_sync_starts_a_pod_for_a_finished_job() -> None:
    # kubernetes/kubernetes#130103: the second sync counts from the stale status, skips the
    # pod whose finalizer removal it expects and creates a replacement; its status write
    # conflicts, so the Job stays Complete — with a new pod.
    model, state = _job_succeeded_once("1.32")
    found, end = _two_syncs_then_settle(model, state)
    (job,) = end.list("Job")
    assert any(c.type == "Complete" and c.status == "True" for c in job.status.conditions)
    assert job.status.succeeded == 1, "the stale status write must conflict, not roll the Job back"
    assert len(end.pods()) == 2
    assert any("is Complete but got new pods" in m for m in found)
    assert not any("lost its terminal condition" in m for m in found)


def test_a_conflict_drops_the_rest_of_its_sync_only() -> None:
    model, state = _job_succeeded_once("1.34")
    (job,) = state.list("Job")
    stale = apiserver.Update(job, status=True, check_rv=True)
    later = apiserver.Update(job, status=True, check_rv=False)
    other = apiserver.Delete(state.pods()[0].ref)
    tx = state.edit()
    # a newer write lands first, so the stale one conflicts
    tx.set_inflight(
        (
            InFlight("job", ("default", "once"), 0, stale, True),
            InFlight("kubelet", ("default", "x"), 0, other, True),
            InFlight("job", ("default", "once"), 0, later, False),
            InFlight("job", ("default", "once"), 0, later, True),
        )
    )
    newer = replace(job, status=replace(job.status, failed=job.status.failed + 1))
    assert apiserver.apply(tx, apiserver.Update(newer, status=True, check_rv=False), model.config).ok
    state = tx.commit()
    after = model.step(state, Deliver("job"))
    assert [(f.actor, f.opens_sync) for f in after.inflight] == [("kubelet", True), ("job", True)]


def test_a_patch_lands_on_the_object_as_stored() -> None:
    """A patch built from a stale read (the Job's finalizer removal, adoption, the
    collector's ownerReference patches) changes only what it patches: the pod bound and
    relabelled meanwhile keeps its node and labels, and loses only the finalizer."""
    from kmodel.controllers.job import TRACKING_FINALIZER, remove_finalizer_request
    from kmodel.objects.meta import OwnerReference

    model, state = _job_succeeded_once("1.34")
    (stale,) = state.pods()
    assert TRACKING_FINALIZER in stale.metadata.finalizers
    owner = OwnerReference(api_version="v1", kind="ConfigMap", name="extra", uid="u-extra")
    newer = replace(
        stale,
        metadata=replace(
            stale.metadata,
            labels=stale.metadata.labels.set("tier", "gold"),
            finalizers=(*stale.metadata.finalizers, "example.com/keep"),
            owner_references=(*stale.metadata.owner_references, owner),
        ),
    )
    tx = state.edit()
    assert apiserver.apply(tx, apiserver.Update(newer, check_rv=False), model.config).ok
    assert apiserver.apply(tx, remove_finalizer_request(stale), model.config).ok
    pod = tx.commit().get("Pod", "default", stale.metadata.name)
    assert pod.metadata.finalizers == ("example.com/keep",)
    assert pod.metadata.labels["tier"] == "gold" and pod.spec.node_name == stale.spec.node_name
    assert owner in pod.metadata.owner_references


def test_the_clock_waits_for_requests_in_flight() -> None:
    """Writes land in the second they are decided: the exhaustive explorer offers no clock
    advance while a request is in flight, and does once it has landed."""
    from kmodel.actions import FailNode, Tick
    from kmodel.model import Scope

    model, state = _job_succeeded_once("1.34")
    model = model.with_scope(Scope(horizon=10_000))
    state = model.step(state, FailNode("n1"))  # the node lifecycle's grace period is a timer
    assert model.next_deadline(state) is not None
    busy = model.step(state, Reconcile("job", "default", "once"))
    assert busy.inflight
    assert not any(isinstance(a, Tick) for a in model.environment_actions(busy))
    while busy.inflight:
        busy = model.step(busy, Deliver(busy.inflight[0].actor))
    assert any(isinstance(a, Tick) for a in model.environment_actions(busy))
