"""Release differences (docs/versions.md) that no other test shows on both sides of the
boundary, and behaviours that docs/versions.md lists as the same in every release."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest

from kmodel import apiserver
from kmodel.actions import Reconcile
from kmodel.config import SUPPORTED_VERSIONS, ModelConfig
from kmodel.controllers.job import TRACKING_FINALIZER, JobController
from kmodel.controllers.job_backoff import MAX_BACKOFF, BackoffRecord
from kmodel.objects.meta import Condition
from kmodel.runner import run_scenario
from kmodel.scenario import load_scenario
from kmodel.state import ClusterState, empty_state
from tests.jobkit import NS, at, create, decode, job_manifest, job_pod, sync, with_backoff, write

NOW = 1000
SCENARIOS = Path(__file__).parent / "scenarios"


def cfg(version: str) -> ModelConfig:
    return ModelConfig(kubernetes_version=version)


# ---- Job -----------------------------------------------------------------------------------------


@pytest.mark.parametrize(("version", "ready", "terminating"), [("1.30", 3, 0), ("1.31", 2, 1)])
def test_deleted_pods_leave_ready_and_join_terminating_in_the_same_sync_from_1_31(version: str, ready: int, terminating: int) -> None:
    """kubernetes#125546 / #125175 (1.31): a surplus pod deleted by manageJob is subtracted
    from status.ready and added to status.terminating in that sync; in 1.30 both wait for
    the informer to see the deletion."""
    c = cfg(version)
    s = at(empty_state(), NOW)
    s, job = create(s, decode(job_manifest(parallelism=2, completions=5)), c)
    for _ in range(3):
        s, _ = job_pod(s, job, "Running", ready=True, config=c)
    out = sync(s, config=c)
    assert len(out.deletes) == 1 and out.job.status.active == 2
    assert (out.job.status.ready, out.job.status.terminating) == (ready, terminating)


def _finished_job_with_a_tracked_pod(c: ModelConfig) -> tuple[ClusterState, str]:
    s = at(empty_state(), NOW)
    s, job = create(s, decode(job_manifest()), c)
    s, pod = job_pod(s, job, "Running", config=c)
    job = s.get("Job", NS, "foobar")
    complete = (Condition("Complete", "True", last_transition_time=NOW),)
    s = write(s, apiserver.Update(replace(job, status=replace(job.status, conditions=complete)), status=True, check_rv=False), config=c)
    return s, pod.metadata.name


@pytest.mark.parametrize(("version", "cleaned"), [("1.28", False), ("1.29", True), ("1.34", True)])
def test_orphan_worker_cleans_pods_of_finished_jobs_from_1_29(version: str, cleaned: bool) -> None:
    """From 1.29 a pod of a finished Job that still holds the tracking finalizer loses it at
    once; in v1.28.0 only a deletion of the pod sends it to the orphan worker."""
    c = cfg(version)
    s, name = _finished_job_with_a_tracked_pod(c)
    reqs = JobController().requests(s, Reconcile("job", NS, name, kind="Pod"), c)
    assert bool(reqs) == cleaned
    if cleaned:
        (req,) = reqs
        assert isinstance(req, apiserver.Update) and TRACKING_FINALIZER not in req.obj.metadata.finalizers
    # a deleted pod is cleaned up in every release
    s = write(s, apiserver.Delete(s.get("Pod", NS, name).ref), config=c)
    assert len(JobController().requests(s, Reconcile("job", NS, name, kind="Pod"), c)) == 1


@pytest.mark.parametrize(("version", "conditions", "terminating"), [("1.30", ["Failed"], 0), ("1.31", ["FailureTarget"], 2)])
def test_terminal_condition_waits_for_terminating_pods_from_1_31(version: str, conditions: list[str], terminating: int) -> None:
    """kubernetes#125510 (1.31): a failure is recorded as FailureTarget and Failed waits until
    the deleted pods have terminated; 1.30 sets Failed in the sync that deletes them."""
    c = cfg(version)
    s = at(empty_state(), NOW)
    s, job = create(s, decode(job_manifest(parallelism=2, completions=2, backoff_limit=0)), c)
    for _ in range(2):
        s, _ = job_pod(s, job, "Running", config=c)
    s, _ = job_pod(s, job, "Failed", config=c)
    out = sync(s, config=c)
    assert len(out.deletes) == 2
    assert out.true_conditions() == conditions and out.job.status.terminating == terminating


@pytest.mark.parametrize("version", SUPPORTED_VERSIONS)
def test_pod_failure_back_off_is_capped_at_ten_minutes_in_every_release(version: str) -> None:
    """DefaultJobPodFailureBackOff 10 s, MaxJobPodFailureBackOff 10 min in v1.28.0 and current
    code: after nine failures (10 s × 2^8 = 2560 s uncapped) the replacement waits 600 s."""
    assert MAX_BACKOFF == 600
    c = cfg(version)
    for now, creations in ((NOW + MAX_BACKOFF - 1, 0), (NOW + MAX_BACKOFF, 1)):
        s = at(empty_state(), NOW)
        s, _ = create(s, decode(job_manifest()), c)
        s = with_backoff(at(s, now), BackoffRecord(9, NOW))
        assert len(sync(s, config=c).creates) == creations


# ---- StatefulSet ---------------------------------------------------------------------------------


@pytest.mark.parametrize("version", SUPPORTED_VERSIONS)
def test_partition_counts_from_the_start_ordinal_in_every_release(version: str) -> None:
    sc = load_scenario(SCENARIOS / "statefulset-partition-start-ordinal.yaml")
    result = run_scenario(replace(sc, config=replace(sc.config, kubernetes_version=version)))
    assert result.failures == [] and result.violations == []
