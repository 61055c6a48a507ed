"""The TTL-after-finished controller: TestTimeLeft (ttlafterfinished_controller_test.go),
deletion at finish + TTL with Foreground propagation and a uid precondition, a TTL changed
after the Job finished, and the Job's pods going through the garbage collector."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import pytest

from kmodel import apiserver
from kmodel.actions import Apply, Deliver, Patch, Reconcile, Tick
from kmodel.config import ModelConfig
from kmodel.controllers.garbagecollector import GarbageCollector
from kmodel.controllers.ttlafterfinished import CleanupError, TTLAfterFinishedController, time_left
from kmodel.frozen import freeze
from kmodel.model import Model
from kmodel.objects.batch import Job, JobSpec, JobStatus
from kmodel.objects.meta import FINALIZER_FOREGROUND, Condition, ObjectMeta
from kmodel.state import ClusterState, empty_state
from tests.builders import obj

NS = "default"
NOW = 1000


def job_with(completed: int | None = None, failed: int | None = None, ttl: int | None = None) -> Job:
    """newJob of the upstream test: Complete and/or Failed conditions at the given times."""
    conds = []
    if completed is not None:
        conds.append(Condition("Complete", "True", last_transition_time=completed))
    if failed is not None:
        conds.append(Condition("Failed", "True", last_transition_time=failed))
    return Job(ObjectMeta(name="test", namespace=NS), spec=JobSpec(ttl_seconds_after_finished=ttl), status=JobStatus(conditions=tuple(conds)))


# (name, completed, failed, ttl, since, error substring, time left, expire at)
TIME_LEFT = [
    ("Error case: Job unfinished", None, None, 100, NOW, "should not be cleaned up", None, None),
    ("Error case: Job completed now, no TTL", NOW, None, None, NOW, "should not be cleaned up", None, None),
    ("Job completed now, 0s TTL", NOW, None, 0, NOW, "", 0, NOW),
    ("Job completed now, 10s TTL", NOW, None, 10, NOW, "", 10, NOW + 10),
    ("Job completed 10s ago, 15s TTL", NOW - 10, None, 15, NOW, "", 5, NOW + 5),
    ("Error case: Job failed now, no TTL", None, NOW, None, NOW, "should not be cleaned up", None, None),
    ("Job failed now, 0s TTL", None, NOW, 0, NOW, "", 0, NOW),
    ("Job failed now, 10s TTL", None, NOW, 10, NOW, "", 10, NOW + 10),
    ("Job failed 10s ago, 15s TTL", None, NOW - 10, 15, NOW, "", 5, NOW + 5),
]


@pytest.mark.parametrize("row", TIME_LEFT, ids=[r[0] for r in TIME_LEFT])
def test_time_left(row: tuple[Any, ...]) -> None:
    _, completed, failed, ttl, since, err, left, expire = row
    job = job_with(completed, failed, ttl)
    if err:
        with pytest.raises(CleanupError, match=err):
            time_left(job, since)
        return
    assert time_left(job, since) == (left, expire)


def test_finish_time_must_be_known() -> None:
    job = Job(ObjectMeta(name="x", namespace=NS), spec=JobSpec(ttl_seconds_after_finished=5), status=JobStatus(conditions=(Condition("Complete", "True"),)))
    with pytest.raises(CleanupError, match="unable to find the time"):
        time_left(job, 0)


# ---- the controller in the model -------------------------------------------------------------


def model(delivery: str = "atomic") -> Model:
    return Model(ModelConfig(delivery=delivery), actors=[TTLAfterFinishedController(), GarbageCollector()])


def new_job(name: str = "work", ttl: int | None = 100) -> Any:
    spec: dict[str, Any] = {"template": {"spec": {"restartPolicy": "Never", "containers": [{"name": "c", "image": "busybox"}]}}}
    if ttl is not None:
        spec["ttlSecondsAfterFinished"] = ttl
    return obj({"apiVersion": "batch/v1", "kind": "Job", "metadata": {"name": name, "namespace": NS}, "spec": spec})


def pod_of(job: Job, name: str) -> Any:
    ref = {"apiVersion": "batch/v1", "kind": "Job", "name": job.metadata.name, "uid": job.metadata.uid, "controller": True, "blockOwnerDeletion": True}
    return obj(
        {
            "apiVersion": "v1",
            "kind": "Pod",
            "metadata": {"name": name, "namespace": NS, "ownerReferences": [ref]},
            "spec": {"containers": [{"name": "c", "image": "busybox"}]},
        }
    )


def finish(m: Model, s: ClusterState, name: str = "work", kind: str = "Complete") -> ClusterState:
    job: Job = s.get("Job", NS, name)
    cond = Condition(kind, "True", last_transition_time=s.clock)
    st = replace(job.status, conditions=job.status.conditions + (cond,), completion_time=s.clock if kind == "Complete" else None)
    tx = s.edit()
    assert apiserver.apply(tx, apiserver.Update(replace(job, status=st), status=True), m.config).ok
    return tx.commit()


def setup(m: Model, ttl: int | None = 100, pods: int = 2) -> ClusterState:
    s = m.step(empty_state(), Apply((new_job(ttl=ttl),)))
    job = s.get("Job", NS, "work")
    return m.step(s, Apply(tuple(pod_of(job, f"work-{i}") for i in range(pods))))


@pytest.mark.parametrize("kind", ["Complete", "Failed"])
def test_finished_job_is_deleted_at_finish_plus_ttl_with_its_pods(kind: str) -> None:
    m = model()
    s = m.step(setup(m), Tick(50))
    s = finish(m, s, kind=kind)  # finished at t=50, expires at t=150
    assert list(TTLAfterFinishedController().deadlines(s, m.config)) == [150]
    s = m.settle(s, horizon=149).state
    assert s.get("Job", NS, "work") is not None and s.get("Job", NS, "work").metadata.deletion_timestamp is None
    job = s.get("Job", NS, "work")
    s = m.step(m.step(s, Tick(1)), Reconcile("ttlafterfinished", NS, "work"))
    deleting = s.get("Job", NS, "work")
    # Foreground: the Job stays, marked, until the garbage collector has deleted its pods
    assert deleting.metadata.deletion_timestamp == 150 and FINALIZER_FOREGROUND in deleting.metadata.finalizers
    assert deleting.metadata.uid == job.metadata.uid
    result = m.settle(s)
    assert result.quiescent
    assert result.state.get("Job", NS, "work") is None and result.state.pods(NS) == []


def test_zero_ttl_deletes_as_soon_as_finished() -> None:
    m = model()
    s = finish(m, m.step(setup(m, ttl=0), Tick(7)))
    s = m.step(s, Reconcile("ttlafterfinished", NS, "work"))
    assert s.get("Job", NS, "work").metadata.deletion_timestamp == 7


@pytest.mark.parametrize(("ttl", "pods"), [(None, 0), (100, 0)])
def test_unfinished_or_ttl_less_jobs_are_never_deleted(ttl: int | None, pods: int) -> None:
    m = model()
    s = setup(m, ttl=ttl, pods=pods)
    if ttl is None:
        s = finish(m, s)
    assert list(TTLAfterFinishedController().deadlines(s, m.config)) == []
    result = m.settle(m.step(s, Tick(10_000)))
    assert result.quiescent and result.state.get("Job", NS, "work").metadata.deletion_timestamp is None


def test_ttl_extended_after_the_job_finished_is_honoured() -> None:
    m = model()
    s = finish(m, setup(m, pods=0))  # finished at 0, expires at 100
    s = m.step(s, Tick(60))
    s = m.step(s, Patch("Job", NS, "work", freeze({"spec": {"ttlSecondsAfterFinished": 300}})))
    assert list(TTLAfterFinishedController().deadlines(s, m.config)) == [300]
    s = m.settle(s, horizon=299).state
    assert s.get("Job", NS, "work") is not None
    s = m.settle(s, horizon=300).state
    assert s.get("Job", NS, "work") is None


def test_ttl_shortened_after_expiry_deletes_at_once() -> None:
    m = model()
    s = m.step(finish(m, setup(m, ttl=1000, pods=0)), Tick(60))
    assert m.step(s, Reconcile("ttlafterfinished", NS, "work")) is s
    s = m.step(s, Patch("Job", NS, "work", freeze({"spec": {"ttlSecondsAfterFinished": 30}})))
    s = m.step(s, Reconcile("ttlafterfinished", NS, "work"))
    assert s.get("Job", NS, "work").metadata.deletion_timestamp == 60  # expired by the new TTL (0 + 30)


def test_finish_time_in_the_future_defers_cleanup() -> None:
    m = model()
    s = setup(m, ttl=0, pods=0)
    job: Job = s.get("Job", NS, "work")
    st = replace(job.status, conditions=(Condition("Complete", "True", last_transition_time=500),))
    tx = s.edit()
    apiserver.apply(tx, apiserver.Update(replace(job, status=st), status=True), m.config)
    s = tx.commit()
    assert m.step(s, Reconcile("ttlafterfinished", NS, "work")) is s
    assert list(TTLAfterFinishedController().deadlines(s, m.config)) == [500]


def test_uid_precondition_protects_a_recreated_job() -> None:
    m = model(delivery="async")
    s = m.step(finish(m, setup(m, ttl=10, pods=0)), Tick(10))
    s = m.step(s, Reconcile("ttlafterfinished", NS, "work"))
    assert len(s.inflight) == 1
    # the Job is deleted and recreated under the same name before the DELETE is applied
    tx = s.edit()
    apiserver.apply(tx, apiserver.Delete(s.get("Job", NS, "work").ref, propagation="Background"), m.config)
    apiserver.apply(tx, apiserver.Create(new_job(ttl=10)), m.config)
    s = tx.commit()
    fresh = s.get("Job", NS, "work")
    s = m.step(s, Deliver("ttlafterfinished"))
    assert s.get("Job", NS, "work") == fresh  # Conflict: the UID in the precondition does not match
