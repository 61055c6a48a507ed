"""The Job controller against the upstream unit-test tables and documented behaviour.

Sources: pkg/controller/job/job_controller_test.go TestControllerSyncJob (v1.28 and
current), indexed_job_utils_test.go TestFirstPendingIndexes,
backoff_utils_test.go TestGetRemainingBackoffTime / TestNewBackoffRecord /
TestGetFinishedTime, pod_failure_policy_test.go, success_policy_test.go; spec §9.
Pod phases are set directly; end-to-end runs go through the kubelet with ExitContainer.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import pytest

from kmodel import apiserver
from kmodel.actions import AddNode, Apply, DeleteObject, ExitContainer, Patch, Reconcile
from kmodel.config import ModelConfig
from kmodel.controllers import job_indexes as ix
from kmodel.controllers.job import TRACKING_FINALIZER, JobController, JobFeatures
from kmodel.controllers.job_backoff import BackoffRecord, finished_time, new_backoff_record, remaining_time, remaining_time_per_index
from kmodel.controllers.job_policy import match_pod_failure_policy, match_success_policy
from kmodel.frozen import FrozenDict, freeze
from kmodel.model import Model
from kmodel.objects.batch import (
    PodFailurePolicy,
    PodFailurePolicyOnExitCodesRequirement,
    PodFailurePolicyOnPodConditionsPattern,
    PodFailurePolicyRule,
    SuccessPolicy,
    SuccessPolicyRule,
)
from kmodel.objects.meta import Condition, ObjectMeta
from kmodel.objects.pod import ContainerState, ContainerStateRunning, ContainerStatus, Pod, PodStatus
from kmodel.state import ClusterState, empty_state
from tests.builders import node
from tests.jobkit import NEW, NS, OLD, at, booted, create, decode, job_manifest, job_pod, sync, terminated, with_backoff, with_inflight, write

NOW = 1000  # pods in the tables finished at t=1, long ago (upstream testFinishedAt)
V129 = ModelConfig(kubernetes_version="1.29")
V131 = ModelConfig(kubernetes_version="1.31")
V133 = ModelConfig(kubernetes_version="1.33")


# ---- TestControllerSyncJob --------------------------------------------------------------------


def table_state(case: dict[str, Any], config: ModelConfig) -> ClusterState:
    """The Job and pods of a TestControllerSyncJob row (setPodsStatuses, setPodsStatusesWithIndexes)."""
    spec: dict[str, Any] = {}
    if case.get("indexed"):
        spec["completionMode"] = "Indexed"
    if case.get("suspend"):
        spec["suspend"] = True
    if "prp" in case:
        spec["podReplacementPolicy"] = case["prp"]
    if "podFailurePolicy" in case:
        spec["podFailurePolicy"] = case["podFailurePolicy"]
    manifest = job_manifest(parallelism=case["p"], completions=case["c"], backoff_limit=case.get("backoff", 6), **spec)
    s = at(empty_state(), NOW)
    s, job = create(s, decode(manifest), config)
    status = job.status
    if "initial" in case:
        active, succeeded, failed = case["initial"]
        status = replace(status, start_time=NOW, active=active, succeeded=succeeded, failed=failed)
    if case.get("was_suspended"):
        status = replace(status, conditions=(Condition("Suspended", "True", reason="JobSuspended", message="Job suspended", last_transition_time=0),))
    s = write(s, apiserver.Update(replace(job, status=status), status=True), config=config)
    for _ in range(case.get("pending", 0)):
        s, _ = job_pod(s, job, "Pending", config=config)
    for i in range(case.get("active", 0)):
        s, _ = job_pod(s, job, "Running", ready=i < case.get("ready", 0), config=config)
    for _ in range(case.get("succeeded", 0)):
        s, _ = job_pod(s, job, "Succeeded", config=config)
    for _ in range(case.get("failed", 0)):
        s, _ = job_pod(s, job, "Failed", config=config)
    for _ in range(case.get("terminating", 0)):
        s, _ = job_pod(s, job, "Running", terminating=True, config=config)
    for index, phase in case.get("indexes", []):
        s, _ = job_pod(s, job, phase, index=index, config=config)
    if case.get("deleting"):
        s = write(s, apiserver.Delete(job.ref, propagation="Orphan"), config=config)
    if "record" in case:
        s = with_backoff(s, case["record"])
    if case.get("expect_deletion"):
        pod = s.pods()[0]
        s = with_inflight(s, apiserver.Delete(pod.ref))
    if case.get("expect_creation"):
        s = with_inflight(s, apiserver.Create(Pod(metadata=ObjectMeta(generate_name="foobar-", namespace=NS))))
    return s


# (name, row, expected) — expected values may be a {config: value} map where releases differ.
SYNC_JOB: list[tuple[str, dict[str, Any], dict[str, Any]]] = [
    ("job start", dict(p=2, c=5), dict(creations=2, active=2)),
    ("WQ job start", dict(p=2, c=None), dict(creations=2, active=2)),
    ("pending pods", dict(p=2, c=5, pending=2), dict(active=2)),
    ("correct # of pods", dict(p=3, c=5, active=3, ready=2), dict(active=3, ready=2)),
    ("WQ job: correct # of pods", dict(p=2, c=None, active=2), dict(active=2)),
    ("too few active pods", dict(p=2, c=5, active=1, succeeded=1), dict(creations=1, active=2, succeeded=1, patches=1)),
    # with the JobPodReplacementPolicy gate (1.29+): the terminating pod is waited for
    (
        "WQ job: recreate pods when failed",
        dict(p=1, c=None, active=1, failed=1, terminating=1, prp="Failed"),
        dict(active={OLD: 1, NEW: 1}, failed={OLD: 2, NEW: 1}, patches={OLD: 2, NEW: 1}, terminating={OLD: None, NEW: 1}),
    ),
    (
        "WQ job: recreate pods when terminating or failed",
        dict(p=1, c=None, active=1, failed=1, terminating=1, prp="TerminatingOrFailed"),
        dict(active=1, failed=2, patches=2, terminating={OLD: None, NEW: 1}),
    ),
    ("too few active pods and active back-off", dict(p=1, c=1, record=BackoffRecord(1, NOW), initial=(0, 0, 0)), dict(active=0)),
    ("too few active pods and no back-offs", dict(p=1, c=1, record=BackoffRecord(0, NOW)), dict(creations=1, active=1)),
    ("too few active pods with a dynamic job", dict(p=2, c=None, active=1), dict(creations=1, active=2)),
    ("too many active pods", dict(p=2, c=5, active=3), dict(deletions=1, active=2, patches=1)),
    (
        "failed + succeed pods: reset backoff delay",
        dict(p=2, c=5, active=1, succeeded=1, failed=1),
        dict(creations=1, active=2, succeeded=1, failed=1, patches=2),
    ),
    ("new failed pod", dict(p=2, c=5, active=1, failed=1), dict(creations=1, active=2, failed=1, patches=1)),
    ("no new pod; possible finalizer update of failed pod", dict(p=1, c=1, initial=(1, 0, 1), active=1), dict(active=1, failed=1)),
    ("job finish", dict(p=2, c=5, succeeded=5), dict(succeeded=5, patches=5, condition=("Complete", "True", {OLD: "", NEW: "CompletionsReached"}))),
    ("WQ job finishing", dict(p=2, c=None, active=1, succeeded=1), dict(active=1, succeeded=1, patches=1)),
    ("WQ job all finished", dict(p=2, c=None, succeeded=2), dict(succeeded=2, patches=2, condition=("Complete", "True", None))),
    (
        "WQ job all finished despite one failure",
        dict(p=2, c=None, succeeded=1, failed=1),
        dict(succeeded=1, failed=1, patches=2, condition=("Complete", "True", None)),
    ),
    ("more active pods than parallelism", dict(p=2, c=5, active=10), dict(deletions=8, active=2, patches=8)),
    ("more active pods than remaining completions", dict(p=3, c=4, active=3, succeeded=2), dict(deletions=1, active=2, succeeded=2, patches=3)),
    ("status change", dict(p=2, c=5, active=2, succeeded=2), dict(active=2, succeeded=2, patches=2)),
    ("deleting job", dict(p=2, c=5, deleting=True, pending=1, active=1, succeeded=1), dict(active=2, succeeded=1, patches=3)),
    (
        "too many job failures",
        dict(p=2, c=5, deleting=True, failed=1, backoff=0),
        dict(failed=1, patches=1, condition=("Failed", "True", "BackoffLimitExceeded")),
    ),
    ("job failures, unsatisfied expectations", dict(p=2, c=5, deleting=True, failed=1, backoff=0, expect_creation=True), dict(failed=1, patches=1)),
    ("indexed job start", dict(p=2, c=5, indexed=True), dict(creations=2, active=2, indexes={0, 1})),
    (
        "indexed job with some pods deleted, podReplacementPolicy Failed",
        dict(p=2, c=5, indexed=True, terminating=1, prp="Failed"),
        dict(creations={OLD: 2, NEW: 1}, active={OLD: 2, NEW: 1}, indexes={OLD: {0, 1}, NEW: {0}}, terminating={OLD: None, NEW: 1}, patches={OLD: 1, NEW: 0}),
    ),
    (
        "indexed job with some pods deleted, podReplacementPolicy TerminatingOrFailed",
        dict(p=2, c=5, indexed=True, terminating=1, prp="TerminatingOrFailed"),
        dict(creations=2, active=2, indexes={0, 1}, terminating={OLD: None, NEW: 1}, patches=1),
    ),
    (
        "indexed job completed",
        dict(p=2, c=3, indexed=True, indexes=[("0", "Succeeded"), ("1", "Failed"), ("1", "Succeeded"), ("2", "Succeeded")]),
        dict(succeeded=3, failed=1, completed="0-2", patches=4, condition=("Complete", "True", None)),
    ),
    (
        "indexed job repeated completed index",
        dict(p=2, c=3, indexed=True, indexes=[("0", "Succeeded"), ("1", "Succeeded"), ("1", "Succeeded")]),
        dict(creations=1, active=1, succeeded=2, completed="0,1", indexes={2}, patches=3),
    ),
    (
        "indexed job some running and completed pods",
        dict(
            p=8,
            c=20,
            indexed=True,
            indexes=[
                ("0", "Running"),
                ("2", "Succeeded"),
                ("3", "Pending"),
                ("4", "Succeeded"),
                ("5", "Succeeded"),
                ("7", "Succeeded"),
                ("8", "Succeeded"),
                ("9", "Succeeded"),
            ],
        ),
        dict(creations=6, active=8, succeeded=6, completed="2,4,5,7-9", indexes={1, 6, 10, 11, 12, 13}, patches=6),
    ),
    (
        "indexed job some failed pods",
        dict(p=3, c=4, indexed=True, indexes=[("0", "Failed"), ("1", "Pending"), ("2", "Failed")]),
        dict(creations=2, active=3, failed=2, indexes={0, 2}, patches=2),
    ),
    (
        "indexed job some pods without index",
        dict(
            p=2,
            c=5,
            indexed=True,
            active=1,
            succeeded=1,
            failed=1,
            indexes=[
                ("invalid", "Running"),
                ("invalid", "Succeeded"),
                ("invalid", "Failed"),
                ("invalid", "Pending"),
                ("0", "Succeeded"),
                ("1", "Running"),
                ("2", "Running"),
            ],
        ),
        dict(deletions=3, active=2, succeeded=1, completed="0", patches=8),
    ),
    (
        "indexed job repeated indexes",
        dict(
            p=5,
            c=5,
            indexed=True,
            succeeded=1,
            failed=1,
            indexes=[("invalid", "Running"), ("0", "Succeeded"), ("1", "Running"), ("2", "Running"), ("2", "Pending")],
        ),
        dict(deletions=2, active=2, succeeded=1, completed="0", patches=5),
    ),
    (
        "indexed job with indexes outside of range",
        dict(p=2, c=5, indexed=True, indexes=[("0", "Succeeded"), ("5", "Running"), ("6", "Succeeded"), ("7", "Pending"), ("8", "Failed")]),
        dict(deletions=2, succeeded=1, completed="0", patches=5),
    ),
    (
        "suspending a job with satisfied expectations",
        dict(p=2, c=4, suspend=True, active=2),
        dict(deletions=2, patches=2, condition=("Suspended", "True", "JobSuspended")),
    ),
    ("suspending a job with unsatisfied expectations", dict(p=2, c=4, suspend=True, active=3, expect_deletion=True), dict(active=3)),
    ("resuming a suspended job", dict(p=2, c=4, was_suspended=True), dict(creations=2, active=2, condition=("Suspended", "False", "JobResumed"))),
    ("suspending a deleted job", dict(p=2, c=4, suspend=True, deleting=True, active=2), dict(active=2, patches=2)),
]

DEFAULTS = dict(creations=0, deletions=0, active=0, succeeded=0, failed=0, completed="", patches=0, condition=None)


def _pick(value: Any, config: ModelConfig) -> Any:
    if isinstance(value, dict) and set(value) <= {OLD, NEW}:
        return value[config]
    return value


@pytest.mark.parametrize("config", [OLD, NEW], ids=["1.28", "newest"])
@pytest.mark.parametrize("name,case,want", SYNC_JOB, ids=[c[0] for c in SYNC_JOB])
def test_controller_sync_job(name: str, case: dict[str, Any], want: dict[str, Any], config: ModelConfig) -> None:
    s = table_state(case, config)
    out = sync(s, config=config)
    exp = {k: _pick(v, config) for k, v in {**DEFAULTS, **want}.items()}
    st = out.job.status
    got = dict(
        creations=len(out.creates),
        deletions=len(out.deletes),
        active=st.active,
        succeeded=st.succeeded,
        failed=st.failed,
        completed=st.completed_indexes,
        patches=out.patches,
    )
    assert got == {k: exp[k] for k in got}, name
    if "ready" in exp:
        assert st.ready == exp["ready"]
    if "terminating" in exp:
        assert st.terminating == exp["terminating"]
    if "indexes" in exp:
        assert out.created_indexes() == exp["indexes"]
        for p in out.creates:
            i = p.metadata.annotations[ix.COMPLETION_INDEX_ANNOTATION]
            assert p.metadata.labels[ix.COMPLETION_INDEX_ANNOTATION] == i
            assert p.spec.hostname == f"foobar-{i}" and p.metadata.generate_name == f"foobar-{i}-"
            env: Any = p.spec.containers[0].extra["env"]
            assert any(e["name"] == "JOB_COMPLETION_INDEX" for e in env)
    else:
        assert all(p.metadata.generate_name == "foobar-" and not p.spec.hostname for p in out.creates)
    for p in out.creates:
        ref = p.metadata.controller_ref()
        assert ref is not None and (ref.kind, ref.name, ref.api_version) == ("Job", "foobar", "batch/v1") and ref.block_owner_deletion
        assert TRACKING_FINALIZER in p.metadata.finalizers
    cond = exp["condition"]
    if cond is None:
        assert out.true_conditions() == [], out.job.status.conditions
    else:
        type_, status, reason = cond
        c = out.condition(type_)
        assert c.status == status, out.job.status.conditions
        if reason is not None:
            assert c.reason == _pick(reason, config)
    if case.get("suspend"):
        assert st.start_time is None
    else:
        assert st.start_time is not None


def test_interim_conditions_precede_terminal_ones_in_current_releases() -> None:
    # "job finish" / "too many job failures": the interim condition comes first, with the same reason
    s = table_state(dict(p=2, c=5, succeeded=5), NEW)
    out = sync(s, config=NEW)
    assert [c.type for c in out.job.status.conditions] == ["SuccessCriteriaMet", "Complete"]
    assert out.job.status.completion_time == NOW
    s = table_state(dict(p=2, c=5, deleting=True, failed=1, backoff=0), NEW)
    out = sync(s, config=NEW)
    assert [(c.type, c.reason) for c in out.job.status.conditions] == [("FailureTarget", "BackoffLimitExceeded"), ("Failed", "BackoffLimitExceeded")]
    out = sync(table_state(dict(p=2, c=5, deleting=True, failed=1, backoff=0), OLD), config=OLD)
    assert [c.type for c in out.job.status.conditions] == ["Failed"]
    assert out.job.status.completion_time is None


def test_burst_of_500_creations_and_deletions() -> None:
    # MaxPodCreateDeletePerSync (the upstream "limited pods" row injects API errors instead)
    out = sync(table_state(dict(p=600, c=1000), NEW))
    assert len(out.creates) == 500 and out.job.status.active == 500
    out2 = sync(out.after)
    assert len(out2.creates) == 100 and out2.job.status.active == 600


def test_1_28_removes_an_active_pod_for_a_terminating_one() -> None:
    # 1.28.0 rmAtLeast = active + terminating − wantActive when only failed pods are replaced
    # (a pod failure policy in 1.28); fixed by kubernetes#121147
    pfp = {"rules": [{"action": "Count", "onExitCodes": {"operator": "In", "values": [42]}}]}
    case = dict(p=1, c=None, active=1, terminating=1, podFailurePolicy=pfp)
    old = sync(table_state(case, OLD), config=OLD)
    new = sync(table_state(case, NEW), config=NEW)
    assert (len(old.deletes), old.job.status.active) == (1, 0)
    assert (len(new.deletes), new.job.status.active) == (0, 1)


# ---- TestFirstPendingIndexes --------------------------------------------------------------------


def _indexed_ctx_pods(active: list[str]) -> tuple[ClusterState, list[Pod]]:
    s = at(empty_state(), NOW)
    s, job = create(s, decode(job_manifest(parallelism=1, completions=20, completionMode="Indexed")))
    pods = []
    for i in active:
        s, p = job_pod(s, job, "Running", index=i)
        pods.append(p)
    return s, pods


FIRST_PENDING = [
    ("cnt greater than completions", [], [], None, 5, 3, [0, 1, 2]),
    ("cnt less than completions", [], [], None, 2, 5, [0, 1]),
    ("first pods active", ["0", "1"], [], None, 3, 10, [2, 3, 4]),
    ("last pods active or succeeded", ["6"], [(4, 5)], None, 6, 6, [0, 1, 2, 3]),
    ("mixed", ["3", "5", "8", "noindex", "-3"], [(2, 4), (9, 9)], None, 5, 20, [0, 1, 6, 7, 10]),
    ("with failed indexes", ["3", "9"], [(1, 1), (5, 5), (9, 9)], [(2, 2), (6, 7)], 5, 20, [0, 4, 8, 10, 11]),
]


@pytest.mark.parametrize("name,active,succeeded,failed,cnt,completions,want", FIRST_PENDING, ids=[c[0] for c in FIRST_PENDING])
def test_first_pending_indexes(
    name: str, active: list[str], succeeded: list[tuple[int, int]], failed: list[tuple[int, int]] | None, cnt: int, completions: int, want: list[int]
) -> None:
    from kmodel.controllers.job import first_pending_indexes

    s, pods = _indexed_ctx_pods(active)
    job = s.list("Job")[0]
    job = replace(job, spec=replace(job.spec, completions=completions))
    ctx = JobController()._context(s, job, JobFeatures.of(NEW), pods, None, (NS, "foobar"))
    ctx.succeeded_idx = tuple(ix.Interval(a, b) for a, b in succeeded)
    ctx.failed_idx = None if failed is None else tuple(ix.Interval(a, b) for a, b in failed)
    assert first_pending_indexes(ctx, cnt) == want


def test_interval_strings() -> None:
    ivs = ix.parse("0,2-4,5,9,12-13", 20)
    assert ivs == (ix.Interval(0, 0), ix.Interval(2, 5), ix.Interval(9, 9), ix.Interval(12, 13))
    assert ix.to_string(ivs) == "0,2-5,9,12,13"
    assert ix.parse("1-30,40", 10) == (ix.Interval(1, 9),)  # clipped, and past completions ignored
    assert ix.to_string(ix.with_indexes(ivs, [1, 10, 11])) == "0-5,9-13"
    assert ix.total(ivs) == 8 and ix.contains(ivs, 4) and not ix.contains(ivs, 7)


def test_generate_name_with_index_is_cut_to_the_limit() -> None:
    # indexed_job_utils_test.go TestPodGenerateNameWithIndex
    assert ix.generate_name_with_index("hello", 1) == "hello-1-"
    long = "a" * 60
    assert ix.generate_name_with_index(long, 1) == "a" * 55 + "-1-"
    assert len(ix.generate_name_with_index(long, 123456)) == 58


# ---- back-off ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "failures,elapsed,want",
    [(0, 0, 0), (1, 0, 5), (1, 1, 4), (1, 5, 0), (1, 6, 0), (3, 0, 20), (8, 0, 640), (9, 0, 700)],
    ids=["no failures", "one failure now", "one failure +1s", "exactly expired", "expired +1s", "three failures", "eight failures", "nine failures capped"],
)
def test_get_remaining_backoff_time(failures: int, elapsed: int, want: int) -> None:
    # TestGetRemainingBackoffTime (base 5 s, max 700 s)
    t0 = 100
    assert remaining_time(failures, t0 if failures else None, t0 + elapsed, base=5, cap=700) == want


def test_production_backoff_sequence() -> None:
    # DefaultJobPodFailureBackOff 10 s, MaxJobPodFailureBackOff 10 min, the same in 1.28 and current code
    assert [remaining_time(n, 0, 0) for n in range(1, 10)] == [10, 20, 40, 80, 160, 320, 600, 600, 600]


def _finished(phase: str, at_: int) -> Pod:
    cs = ContainerStatus(name="c", state=terminated(0 if phase == "Succeeded" else 1, at_))
    return Pod(metadata=ObjectMeta(name=f"p{at_}"), status=PodStatus(phase=phase, container_statuses=(cs,)))


T = 5000
NEW_BACKOFF_RECORD = [
    ("one new failure", None, [], [T], BackoffRecord(1, T)),
    ("two new failures", None, [], [T, T - 1], BackoffRecord(2, T)),
    ("two failures followed by success", None, [T], [T - 2, T - 1], BackoffRecord(0, None)),
    ("two failures, one success and two more failures", None, [T - 2], [T, T - 4, T - 3, T - 1], BackoffRecord(2, T)),
    ("stored count 2 and one new failure", BackoffRecord(2, None), [], [T], BackoffRecord(3, T)),
    ("success and failure at the same time", None, [T], [T], BackoffRecord(0, None)),
    ("no success or failure", None, [], [], BackoffRecord(0, None)),
    ("one success", None, [T], [], BackoffRecord(0, None)),
]


@pytest.mark.parametrize("name,old,succ,fail,want", NEW_BACKOFF_RECORD, ids=[c[0] for c in NEW_BACKOFF_RECORD])
def test_new_backoff_record(name: str, old: BackoffRecord | None, succ: list[int], fail: list[int], want: BackoffRecord) -> None:
    # TestNewBackoffRecord (milliseconds scaled to the model's seconds; only the order matters)
    got = new_backoff_record(old, [_finished("Succeeded", t) for t in succ], [_finished("Failed", t) for t in fail])
    assert got == want


def test_get_finished_time() -> None:
    # TestGetFinishedTime: all containers terminated → latest; else Ready=False; else deletion − grace; else creation
    two = Pod(
        metadata=ObjectMeta(name="a"),
        status=PodStatus(container_statuses=(ContainerStatus(name="a", state=terminated(0, 99)), ContainerStatus(name="b", state=terminated(0, 100)))),
    )
    assert finished_time(two) == 100
    running = ContainerStatus(name="a", state=ContainerState(running=ContainerStateRunning()))
    deleting = Pod(metadata=ObjectMeta(name="d", deletion_timestamp=100, deletion_grace_period_seconds=30), status=PodStatus(container_statuses=(running,)))
    assert finished_time(deleting) == 70
    not_ready = Pod(
        metadata=ObjectMeta(name="r", deletion_timestamp=200),
        status=PodStatus(container_statuses=(running,), conditions=(Condition("Ready", "False", last_transition_time=150),)),
    )
    assert finished_time(not_ready) == 150
    ready = replace(not_ready, status=replace(not_ready.status, conditions=(Condition("Ready", "True", last_transition_time=150),)))
    assert finished_time(ready) == 200
    assert finished_time(Pod(metadata=ObjectMeta(name="c", creation_timestamp=7))) == 7


def test_remaining_time_per_index() -> None:
    # TestGetRemainingBackoffTimePerIndex: failures so far (counted + ignored) + 1 give the exponent
    def failed(counted: str, ignored: str | None = None) -> Pod:
        ann = {ix.INDEX_FAILURE_COUNT_ANNOTATION: counted}
        if ignored:
            ann[ix.INDEX_IGNORED_FAILURE_COUNT_ANNOTATION] = ignored
        return Pod(metadata=ObjectMeta(name="p", annotations=FrozenDict(ann), deletion_timestamp=100), status=PodStatus(phase="Failed"))

    assert remaining_time_per_index(None, 100, base=5, cap=700) == 0
    assert remaining_time_per_index(failed("2"), 100, base=5, cap=700) == 20
    assert remaining_time_per_index(failed("1", "1"), 100, base=5, cap=700) == 20


def test_backoff_delays_replacement_end_to_end() -> None:
    # a failure at t → the replacement waits 10 s; a second failure → 20 s more
    m = Model()
    s = booted(m, decode(job_manifest(backoff_limit=6)))
    (pod,) = s.pods()
    t0 = s.clock
    s = m.step(s, ExitContainer(NS, pod.metadata.name, "c", 1))
    s = m.settle(s).state
    second = [p for p in s.pods() if p.active]
    assert len(second) == 1 and second[0].metadata.creation_timestamp == t0 + 10
    assert s.recall("job")[f"{NS}/foobar"] == BackoffRecord(1, t0)
    s = m.step(s, ExitContainer(NS, second[0].metadata.name, "c", 1))
    s = m.settle(s).state
    third = [p for p in s.pods() if p.active]
    assert third[0].metadata.creation_timestamp == t0 + 10 + 20
    assert s.list("Job")[0].status.failed == 2


def test_active_is_reported_zero_during_backoff_until_1_34() -> None:
    # manageJob `return 0` while back-off delays a creation (kubernetes#139457)
    case = dict(p=2, c=5, active=1, ready=1, record=BackoffRecord(1, NOW))
    assert sync(table_state(case, OLD), config=OLD).job.status.active == 0
    assert sync(table_state(case, NEW), config=NEW).job.status.active == 1
    # 1.32–1.33: the API server rejects ready > active, so the status write fails
    for config, counted in ((V133, 0), (NEW, 1)):
        s = table_state(case, config)
        s, _ = job_pod(s, s.list("Job")[0], "Failed", finished_at=NOW, config=config)  # a failure just now
        out = sync(s, config=config)
        assert out.creates == []
        assert (out.job.status.failed, out.patches) == (counted, counted)


def test_backoff_record_is_forgotten_when_the_job_finishes_or_goes() -> None:
    s = table_state(dict(p=1, c=1, backoff=0, failed=1), NEW)
    s = sync(s).after
    assert "Failed" in [c.type for c in s.list("Job")[0].status.conditions]
    assert s.recall("job") == FrozenDict({f"{NS}/foobar": BackoffRecord(1, 1)})  # the finishing sync records the failure
    s = sync(s).after
    assert s.recall("job") is None  # a finished Job's record is dropped
    # a success resets the record (the model forgets an all-zero record)
    s1 = sync(table_state(dict(p=1, c=2, succeeded=1, record=BackoffRecord(2, 5)), NEW)).after
    assert s1.recall("job") is None
    s2 = table_state(dict(p=1, c=1, active=1, record=BackoffRecord(2, 5)), NEW)
    s2 = write(s2, apiserver.Delete(s2.list("Job")[0].ref, propagation="Background"))
    assert s2.list("Job") == []
    assert sync(s2).after.recall("job") is None


# ---- backoffLimit ------------------------------------------------------------------------------


def test_backoff_limit_allows_that_many_failures() -> None:
    # failed > backoffLimit fails the Job: 2 failures with backoffLimit 2 continue, the 3rd fails
    case = dict(p=1, c=1, backoff=2, failed=2)
    out = sync(table_state(case, NEW))
    assert out.true_conditions() == [] and out.job.status.failed == 2
    out = sync(table_state(dict(case, failed=3), NEW))
    assert out.condition("Failed").reason == "BackoffLimitExceeded"


def test_on_failure_restarts_count_towards_backoff_limit() -> None:
    # pastBackoffLimitOnFailure: Σ restarts of Pending/Running pods ≥ backoffLimit
    s = at(empty_state(), NOW)
    s, job = create(s, decode(job_manifest(backoff_limit=2, restartPolicy="OnFailure")))
    s, _ = job_pod(s, job, "Running", restarts=1)
    assert sync(s).true_conditions() == []
    s, job = create(at(empty_state(), NOW), decode(job_manifest(backoff_limit=2, restartPolicy="OnFailure")))
    s, _ = job_pod(s, job, "Running", restarts=2)
    out = sync(s)
    assert out.condition("FailureTarget").reason == "BackoffLimitExceeded" and len(out.deletes) == 1


def test_job_fails_end_to_end_after_backoff_limit() -> None:
    m = Model()
    s = booted(m, decode(job_manifest(backoff_limit=1)))
    for _ in range(2):
        pod = next(p for p in s.pods() if p.active)
        s = m.settle(m.step(s, ExitContainer(NS, pod.metadata.name, "c", 1))).state
    job = s.list("Job")[0]
    assert [c.type for c in job.status.conditions] == ["FailureTarget", "Failed"]
    assert job.status.failed == 2 and job.status.active == 0
    assert all(not p.metadata.finalizers for p in s.pods())
    assert m.is_quiescent(s)


# ---- pod failure policy ---------------------------------------------------------------------------


def _pfp(*rules: dict[str, Any]) -> PodFailurePolicy:
    job = decode(job_manifest(podFailurePolicy={"rules": list(rules)}))
    return job.spec.pod_failure_policy


def _failed_pod(code: int = 1, init_code: int | None = None, conditions: tuple[Condition, ...] = (), name: str = "c") -> Pod:
    cs = (ContainerStatus(name="ok", state=terminated(0, 1)), ContainerStatus(name=name, state=terminated(code, 1)))
    init = (ContainerStatus(name="init", state=terminated(init_code, 1)),) if init_code is not None else ()
    status = PodStatus(phase="Failed", container_statuses=cs, init_container_statuses=init, conditions=conditions)
    return Pod(metadata=ObjectMeta(name="p", namespace=NS), status=status)


POLICY = [
    ("FailJob on exit code", [{"action": "FailJob", "onExitCodes": {"operator": "In", "values": [5, 6]}}], _failed_pod(5), ("FailJob", True, True)),
    ("no rule matches: counted", [{"action": "FailJob", "onExitCodes": {"operator": "In", "values": [5]}}], _failed_pod(3), (None, True, False)),
    ("Ignore by exit code", [{"action": "Ignore", "onExitCodes": {"operator": "In", "values": [3]}}], _failed_pod(3), ("Ignore", False, False)),
    ("Count rule", [{"action": "Count", "onExitCodes": {"operator": "In", "values": [3]}}], _failed_pod(3), ("Count", True, False)),
    ("NotIn operator and value 0", [{"action": "FailJob", "onExitCodes": {"operator": "NotIn", "values": [0]}}], _failed_pod(2), ("FailJob", True, True)),
    (
        "successful containers are skipped by the rules",
        [{"action": "FailJob", "onExitCodes": {"containerName": "ok", "operator": "NotIn", "values": [1]}}],
        _failed_pod(3),
        (None, True, False),
    ),
    (
        "init container exit code",
        [{"action": "FailJob", "onExitCodes": {"operator": "In", "values": [7]}}],
        _failed_pod(1, init_code=7),
        ("FailJob", True, True),
    ),
    (
        "first matching rule wins",
        [{"action": "Ignore", "onExitCodes": {"operator": "In", "values": [3]}}, {"action": "FailJob", "onExitCodes": {"operator": "In", "values": [3]}}],
        _failed_pod(3),
        ("Ignore", False, False),
    ),
    (
        "ignore rule matches by the pod condition",
        [{"action": "Ignore", "onPodConditions": [{"type": "DisruptionTarget"}]}],
        _failed_pod(137, conditions=(Condition("DisruptionTarget", "True"),)),
        ("Ignore", False, False),
    ),
    (
        "ignore rule matches by the status=False",
        [{"action": "Ignore", "onPodConditions": [{"type": "DisruptionTarget", "status": "False"}]}],
        _failed_pod(137, conditions=(Condition("DisruptionTarget", "False"),)),
        ("Ignore", False, False),
    ),
    (
        "no match when pattern is False but actual True",
        [{"action": "Ignore", "onPodConditions": [{"type": "DisruptionTarget", "status": "False"}]}],
        _failed_pod(137, conditions=(Condition("DisruptionTarget", "True"),)),
        (None, True, False),
    ),
    ("unknown operator never matches", [{"action": "FailJob", "onExitCodes": {"operator": "Bogus", "values": [1]}}], _failed_pod(1), (None, True, False)),
]


@pytest.mark.parametrize("name,rules,pod,want", POLICY, ids=[c[0] for c in POLICY])
def test_match_pod_failure_policy(name: str, rules: list[dict[str, Any]], pod: Pod, want: tuple[str | None, bool, bool]) -> None:
    m = match_pod_failure_policy(_pfp(*rules), pod, True)
    assert (m.action, m.count_failed, m.fail_job_message is not None) == want


def test_fail_job_message() -> None:
    m = match_pod_failure_policy(_pfp({"action": "FailJob", "onExitCodes": {"operator": "In", "values": [5]}}), _failed_pod(5), True)
    assert m.fail_job_message == "Container c for pod default/p failed with exit code 5 matching FailJob rule at index 0"
    m = match_pod_failure_policy(
        _pfp({"action": "FailJob", "onPodConditions": [{"type": "DisruptionTarget"}]}),
        _failed_pod(1, conditions=(Condition("DisruptionTarget", "True"),)),
        True,
    )
    assert m.fail_job_message == "Pod default/p has condition DisruptionTarget matching FailJob rule at index 0"


def test_fail_index_only_with_per_index_gate() -> None:
    # "FailIndex with the per-index gate disabled": the rule is passed over
    policy = PodFailurePolicy(
        (
            PodFailurePolicyRule("FailIndex", on_exit_codes=PodFailurePolicyOnExitCodesRequirement("In", (3,))),
            PodFailurePolicyRule("Ignore", on_exit_codes=PodFailurePolicyOnExitCodesRequirement("In", (3,))),
        )
    )
    assert match_pod_failure_policy(policy, _failed_pod(3), True).action == "FailIndex"
    assert match_pod_failure_policy(policy, _failed_pod(3), False).action == "Ignore"
    assert PodFailurePolicyOnPodConditionsPattern("X").status == "True"  # API default


def test_fail_job_rule_fails_the_job_end_to_end() -> None:
    m = Model()
    pfp = {"rules": [{"action": "FailJob", "onExitCodes": {"operator": "In", "values": [42]}}]}
    manifest = job_manifest(parallelism=2, completions=2, podFailurePolicy=pfp)
    s = booted(m, decode(manifest))
    assert s.list("Job")[0].spec.pod_replacement_policy == "Failed"  # defaulted with a pod failure policy
    first = s.pods()[0]
    s = m.step(s, ExitContainer(NS, first.metadata.name, "c", 42))
    s = m.settle(s).state
    job = s.list("Job")[0]
    assert [(c.type, c.reason) for c in job.status.conditions] == [("FailureTarget", "PodFailurePolicy"), ("Failed", "PodFailurePolicy")]
    assert "matching FailJob rule at index 0" in job.status.conditions[1].message
    assert job.status.failed == 2  # the failed pod and the deleted sibling
    assert [p.status.phase for p in s.pods()] == ["Failed"]  # the terminated sibling is gone


def test_ignored_failures_do_not_count_towards_backoff_limit() -> None:
    m = Model()
    manifest = job_manifest(backoff_limit=0, podFailurePolicy={"rules": [{"action": "Ignore", "onExitCodes": {"operator": "In", "values": [3]}}]})
    s = booted(m, decode(manifest))
    for _ in range(3):
        pod = next(p for p in s.pods() if p.active)
        s = m.settle(m.step(s, ExitContainer(NS, pod.metadata.name, "c", 3))).state
    job = s.list("Job")[0]
    assert job.status.failed == 0 and not job.status.conditions and job.status.active == 1
    # ignored failures still drive the back-off (newBackoffRecord sees every failed pod)
    assert s.recall("job")[f"{NS}/foobar"].failures_after_last_success == 3


# ---- backoffLimitPerIndex --------------------------------------------------------------------


def test_backoff_limit_per_index_end_to_end() -> None:
    m = Model()
    manifest = job_manifest(parallelism=2, completions=2, backoff_limit=None, completionMode="Indexed", backoffLimitPerIndex=1, maxFailedIndexes=1)
    s = booted(m, decode(manifest))
    job = s.list("Job")[0]
    assert job.spec.backoff_limit == 2**31 - 1

    def pod_of(index: str) -> Pod:
        return next(p for p in s.pods() if p.active and p.metadata.annotations[ix.COMPLETION_INDEX_ANNOTATION] == index)

    p0 = pod_of("0")
    assert p0.metadata.annotations[ix.INDEX_FAILURE_COUNT_ANNOTATION] == "0"
    t0 = s.clock
    s = m.settle(m.step(s, ExitContainer(NS, p0.metadata.name, "c", 1))).state
    replacement = pod_of("0")
    assert replacement.metadata.annotations[ix.INDEX_FAILURE_COUNT_ANNOTATION] == "1"
    assert replacement.metadata.creation_timestamp == t0 + 10  # per-index back-off
    s = m.settle(m.step(s, ExitContainer(NS, replacement.metadata.name, "c", 1))).state
    job = s.list("Job")[0]
    assert job.status.failed_indexes == "0" and job.status.failed == 2
    assert not any(p.active and p.metadata.annotations[ix.COMPLETION_INDEX_ANNOTATION] == "0" for p in s.pods())
    s = m.settle(m.step(s, ExitContainer(NS, pod_of("1").metadata.name, "c", 0))).state
    job = s.list("Job")[0]
    assert job.status.completed_indexes == "1"
    assert [(c.type, c.reason) for c in job.status.conditions] == [("FailureTarget", "FailedIndexes"), ("Failed", "FailedIndexes")]


def test_backoff_limit_per_index_is_ignored_in_1_28() -> None:
    manifest = job_manifest(parallelism=1, completions=2, backoff_limit=None, completionMode="Indexed", backoffLimitPerIndex=0)
    s = at(empty_state(), NOW)
    s, job = create(s, decode(manifest), OLD)
    s, _ = job_pod(s, job, "Failed", index="0", config=OLD)
    old, new = sync(s, config=OLD), sync(s, config=NEW)
    assert old.job.status.failed_indexes is None and old.created_indexes() == {0}
    assert new.job.status.failed_indexes == "0" and new.created_indexes() == {1}


def test_max_failed_indexes_exceeded() -> None:
    manifest = job_manifest(parallelism=3, completions=3, backoff_limit=None, completionMode="Indexed", backoffLimitPerIndex=0, maxFailedIndexes=0)
    s = at(empty_state(), NOW)
    s, job = create(s, decode(manifest))
    s, _ = job_pod(s, job, "Failed", index="0")
    s, _ = job_pod(s, job, "Running", index="1")
    out = sync(s)
    assert out.condition("FailureTarget").reason == "MaxFailedIndexesExceeded" and len(out.deletes) == 1


def test_fail_index_rule() -> None:
    pfp = {"rules": [{"action": "FailIndex", "onExitCodes": {"operator": "In", "values": [9]}}]}
    manifest = job_manifest(parallelism=2, completions=2, backoff_limit=None, completionMode="Indexed", backoffLimitPerIndex=5, podFailurePolicy=pfp)
    s = at(empty_state(), NOW)
    s, job = create(s, decode(manifest))
    s, _ = job_pod(s, job, "Failed", index="0", exit_code=9)
    s, _ = job_pod(s, job, "Running", index="1")
    out = sync(s)
    assert out.job.status.failed_indexes == "0" and out.creates == []


# ---- successPolicy -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "rules,completed,want",
    [
        ([SuccessPolicyRule(succeeded_indexes="1-4", succeeded_count=3)], "1,3,5", None),  # API doc example
        ([SuccessPolicyRule(succeeded_indexes="1-4", succeeded_count=3)], "1-3", "Matched rules at index 0"),
        ([SuccessPolicyRule(succeeded_indexes="0,2")], "0,1", None),
        ([SuccessPolicyRule(succeeded_indexes="0,2")], "0-2", "Matched rules at index 0"),
        ([SuccessPolicyRule(succeeded_count=1), SuccessPolicyRule(succeeded_indexes="0")], "0", "Matched rules at index 0"),
        ([SuccessPolicyRule(succeeded_indexes="7-9"), SuccessPolicyRule(succeeded_count=2)], "3,4", "Matched rules at index 1"),
        ([SuccessPolicyRule(succeeded_count=2)], "", None),
    ],
)
def test_match_success_policy(rules: list[SuccessPolicyRule], completed: str, want: str | None) -> None:
    assert match_success_policy(SuccessPolicy(tuple(rules)), 10, ix.parse(completed, 10)) == want


def test_success_policy_ends_the_job_and_removes_lingering_pods() -> None:
    manifest = job_manifest(parallelism=3, completions=3, completionMode="Indexed", successPolicy={"rules": [{"succeededIndexes": "0"}]})
    m = Model()
    s = booted(m, decode(manifest))
    leader = next(p for p in s.pods() if p.metadata.annotations[ix.COMPLETION_INDEX_ANNOTATION] == "0")
    s = m.step(s, ExitContainer(NS, leader.metadata.name, "c", 0))
    s = m.settle(s).state
    job = s.list("Job")[0]
    assert [(c.type, c.reason, c.message) for c in job.status.conditions] == [
        ("SuccessCriteriaMet", "SuccessPolicy", "Matched rules at index 0"),
        ("Complete", "SuccessPolicy", "Matched rules at index 0"),
    ]
    assert job.status.succeeded == 1 and job.status.failed == 0  # lingering pods are not failures
    assert [p.status.phase for p in s.pods()] == ["Succeeded"]


def test_success_policy_needs_1_31() -> None:
    manifest = job_manifest(parallelism=2, completions=2, completionMode="Indexed", successPolicy={"rules": [{"succeededCount": 1}]})
    for config, finished in ((ModelConfig(kubernetes_version="1.30"), False), (V131, True)):
        s = at(empty_state(), NOW)
        s, job = create(s, decode(manifest), config)
        s, _ = job_pod(s, job, "Succeeded", index="0", config=config)
        s, _ = job_pod(s, job, "Running", index="1", config=config)
        out = sync(s, config=config)
        assert (out.find("SuccessCriteriaMet") is not None) == finished
        assert len(out.deletes) == (1 if finished else 0)


# ---- suspend / resume, activeDeadlineSeconds --------------------------------------------------


def test_suspend_and_resume_end_to_end() -> None:
    m = Model()
    s = booted(m, decode(job_manifest(parallelism=2, completions=4)))
    assert s.list("Job")[0].status.start_time == 0
    s = m.settle(m.step(at(s, 30), Patch("Job", NS, "foobar", freeze({"spec": {"suspend": True}})))).state
    job = s.list("Job")[0]
    assert [p for p in s.pods() if p.active] == [] and job.status.active == 0
    assert job.status.failed == 0  # pods removed for suspension are not failures
    cond = next(c for c in job.status.conditions if c.type == "Suspended")
    assert (cond.status, cond.reason) == ("True", "JobSuspended")
    s = m.settle(m.step(at(s, 500), Patch("Job", NS, "foobar", freeze({"spec": {"suspend": False}})))).state
    job = s.list("Job")[0]
    cond = next(c for c in job.status.conditions if c.type == "Suspended")
    assert (cond.status, cond.reason) == ("False", "JobResumed")
    assert job.status.start_time == 500 and job.status.active == 2  # startTime reset on resume
    assert job.status.conditions == tuple(c for c in job.status.conditions if c.type == "Suspended")


def test_created_suspended_has_no_start_time() -> None:
    out = sync(table_state(dict(p=2, c=2, suspend=True), NEW))
    assert out.job.status.start_time is None and out.creates == []
    assert out.condition("Suspended").status == "True"


def test_active_deadline_seconds_end_to_end() -> None:
    for config, types in ((NEW, ["FailureTarget", "Failed"]), (OLD, ["Failed"])):
        m = Model(config)
        s = m.step(m.step(empty_state(), AddNode(node("n1"))), Apply((decode(job_manifest(parallelism=2, completions=2, activeDeadlineSeconds=60)),)))
        s = m.settle(s, horizon=59).state
        assert len([p for p in s.pods() if p.active]) == 2
        assert s.list("Job")[0].status.conditions == ()
        s = m.settle(s).state
        job = s.list("Job")[0]
        assert [c.type for c in job.status.conditions] == types
        assert job.status.conditions[-1].reason == "DeadlineExceeded"
        assert job.status.conditions[-1].last_transition_time == 60
        assert job.status.failed == 2 and s.pods() == []


def test_deadline_does_not_run_while_suspended() -> None:
    s = table_state(dict(p=1, c=1, suspend=True), NEW)
    job = s.list("Job")[0]
    job = replace(job, spec=replace(job.spec, active_deadline_seconds=5), status=replace(job.status, start_time=0))
    s = write(s, apiserver.Update(job, check_rv=False), apiserver.Update(job, status=True, check_rv=False))
    assert sync(s).true_conditions() == ["Suspended"]


# ---- podReplacementPolicy ------------------------------------------------------------------------


@pytest.mark.parametrize("policy", ["Failed", "TerminatingOrFailed"])
def test_pod_replacement_policy_end_to_end(policy: str) -> None:
    # A deleted pod terminates; its container exits 0 on SIGTERM, so the kubelet reports it
    # Succeeded (1.27+). TerminatingOrFailed counts it failed as soon as it is deleted (and
    # backs off); Failed waits for the terminal phase and so counts a success.
    m = Model()
    s = booted(m, decode(job_manifest(completions=2, podReplacementPolicy=policy, grace=30)))
    (pod,) = s.pods()
    s = write(s, apiserver.Delete(pod.ref))  # the kubelet has not stopped it yet
    out = sync(s)
    assert out.creates == [] and out.job.status.terminating == 1
    assert out.job.status.failed == (0 if policy == "Failed" else 1)
    assert (s.recall("job") is None) and (out.after.recall("job") is None) == (policy == "Failed")
    s = m.settle(out.after).state
    job = s.list("Job")[0]
    assert (job.status.succeeded, job.status.failed) == ((1, 0) if policy == "Failed" else (0, 1))
    assert job.status.terminating == 0 and job.status.active == 1


def test_terminal_condition_waits_for_terminating_pods() -> None:
    # current releases: Failed only once no pod terminates; 1.28: at once
    for config, waits in ((NEW, True), (OLD, False)):
        s = table_state(dict(p=2, c=2, active=2, backoff=0, failed=1), config)
        out = sync(s, config=config)
        assert ("Failed" in out.true_conditions()) == (not waits)
        if waits:
            assert out.true_conditions() == ["FailureTarget"] and out.job.status.terminating == 2
            assert len(out.deletes) == 2


# ---- finalizers, adoption, orphans --------------------------------------------------------------


def test_counts_move_only_once_the_finalizer_is_removed() -> None:
    s = table_state(dict(p=1, c=2, succeeded=1), NEW)
    reqs = list(JobController().requests(s, Reconcile("job", NS, "foobar"), NEW))
    kinds = [(type(r).__name__, getattr(r, "status", None)) for r in reqs]
    # status (uid in uncounted) → finalizer removal → status (counter)
    first_status = next(i for i, r in enumerate(reqs) if isinstance(r, apiserver.Update) and r.status)
    patch = next(i for i, r in enumerate(reqs) if isinstance(r, apiserver.Update) and not r.status)
    assert first_status < patch, kinds
    first = reqs[first_status]
    assert isinstance(first, apiserver.Update)
    flush1 = first.obj.status
    assert flush1.succeeded == 0 and len(flush1.uncounted_terminated_pods.succeeded) == 1
    last = [r for r in reqs if isinstance(r, apiserver.Update) and r.status][-1].obj.status
    assert last.succeeded == 1 and last.uncounted_terminated_pods.succeeded == ()


def test_uncounted_pods_are_capped_at_500_per_sync() -> None:
    s = table_state(dict(p=1, c=700, succeeded=600), NEW)
    out = sync(s)
    assert out.patches == 500 and out.job.status.succeeded == 500
    assert sync(out.after).job.status.succeeded == 600


def test_uncounted_uid_without_finalizer_is_counted_once() -> None:
    s = table_state(dict(p=1, c=3, active=1), NEW)
    job = s.list("Job")[0]
    s, done = job_pod(s, job, "Succeeded")
    s = write(s, apiserver.Update(replace(done, metadata=replace(done.metadata, finalizers=())), check_rv=False))
    from kmodel.objects.batch import UncountedTerminatedPods

    job = s.list("Job")[0]
    unc = UncountedTerminatedPods((done.metadata.uid,))
    s = write(s, apiserver.Update(replace(job, status=replace(job.status, uncounted_terminated_pods=unc)), status=True))
    out = sync(s)
    assert out.job.status.succeeded == 1 and out.job.status.uncounted_terminated_pods.succeeded == ()
    assert sync(out.after).job.status.succeeded == 1


def test_adoption_adds_the_tracking_finalizer_and_release_removes_it() -> None:
    s = table_state(dict(p=2, c=2), NEW)
    job = s.list("Job")[0]
    orphan = Pod(metadata=ObjectMeta(name="orphan", namespace=NS, labels=job.spec.template.metadata.labels), spec=job.spec.template.spec)
    s, _ = create(s, orphan)
    s, mine = job_pod(s, job, "Running")
    s = write(s, apiserver.Update(replace(mine, metadata=replace(mine.metadata, labels=FrozenDict({"x": "y"}))), check_rv=False))
    out = sync(s)
    adopted = out.after.get("Pod", NS, "orphan")
    assert adopted.metadata.controller_ref().uid == job.metadata.uid and TRACKING_FINALIZER in adopted.metadata.finalizers
    released = out.after.get("Pod", NS, mine.metadata.name)
    assert released.metadata.owner_references == () and released.metadata.finalizers == ()
    assert len(out.creates) == 1  # the adopted pod counts as active


def test_orphan_pods_lose_the_finalizer() -> None:
    s = table_state(dict(p=1, c=1, active=1), NEW)
    pod = s.pods()[0]
    s = write(s, apiserver.Delete(s.list("Job")[0].ref, propagation="Background"))
    ctl = JobController()
    (req,) = ctl.requests(s, Reconcile("job", NS, pod.metadata.name, kind="Pod"), NEW)
    assert isinstance(req, apiserver.Update) and req.obj.metadata.finalizers == ()


def test_orphan_worker_keeps_pods_of_unfinished_jobs_and_foreign_owners() -> None:
    from kmodel.objects.meta import OwnerReference

    s = table_state(dict(p=1, c=1, active=1), NEW)
    pod = s.pods()[0]
    ctl = JobController()
    assert ctl.requests(s, Reconcile("job", NS, pod.metadata.name, kind="Pod"), NEW) == ()
    foreign = replace(pod, metadata=replace(pod.metadata, owner_references=(OwnerReference("example.com/v1", "MyJob", "x", "uid-x", controller=True),)))
    s = write(s, apiserver.Update(foreign, check_rv=False))
    assert ctl.requests(s, Reconcile("job", NS, pod.metadata.name, kind="Pod"), NEW) == ()
    assert len(ctl.requests(s, Reconcile("job", NS, pod.metadata.name, kind="Pod"), OLD)) == 1  # 1.28 removes it


def test_job_deletion_with_background_propagation_end_to_end() -> None:
    m = Model()
    s = booted(m, decode(job_manifest(parallelism=2, completions=2)))
    s = m.settle(m.step(s, DeleteObject("Job", NS, "foobar", propagation="Background"))).state
    assert s.list("Job") == [] and s.pods() == []


def test_job_deletion_with_default_orphan_propagation_releases_the_finalizers() -> None:
    m = Model()
    s = booted(m, decode(job_manifest(parallelism=2, completions=2)))
    s = m.settle(m.step(s, DeleteObject("Job", NS, "foobar"))).state
    assert s.list("Job") == []
    assert len(s.pods()) == 2 and all(not p.metadata.finalizers and not p.metadata.owner_references for p in s.pods())


def test_managed_by_another_controller_is_skipped_from_1_32() -> None:
    manifest = job_manifest(parallelism=2, completions=2, managedBy="example.com/kueue")
    for config, created in ((NEW, 0), (ModelConfig(kubernetes_version="1.31"), 2)):
        s = at(empty_state(), NOW)
        s, _ = create(s, decode(manifest), config)
        assert len(sync(s, config=config).creates) == created


# ---- the create hook ------------------------------------------------------------------------------


def test_generate_selector_and_labels() -> None:
    s, job = create(empty_state(), decode(job_manifest()))
    uid = job.metadata.uid
    assert dict(job.spec.selector.match_labels) == {"batch.kubernetes.io/controller-uid": uid}
    assert dict(job.spec.template.metadata.labels) == {
        "batch.kubernetes.io/controller-uid": uid,
        "controller-uid": uid,
        "batch.kubernetes.io/job-name": "foobar",
        "job-name": "foobar",
    }
    assert job.spec.pod_replacement_policy == "TerminatingOrFailed"
    manual = job_manifest(name="manual", manualSelector=True, selector={"matchLabels": {"app": "x"}})
    manual["spec"]["template"]["metadata"] = {"labels": {"app": "x"}}
    s, job2 = create(s, decode(manual))
    assert dict(job2.spec.selector.match_labels) == {"app": "x"} and dict(job2.spec.template.metadata.labels) == {"app": "x"}


def test_job_created_by_a_controller_works() -> None:
    # a CronJob (or any owner) creates the Job with a controllerRef; the Job runs normally
    from kmodel.objects.meta import OwnerReference

    cron = decode(
        {
            "apiVersion": "batch/v1",
            "kind": "CronJob",
            "metadata": {"name": "cron", "namespace": NS},
            "spec": {"schedule": "0 0 1 1 *", "suspend": True, "jobTemplate": {"spec": {"template": job_manifest()["spec"]["template"]}}},
        }
    )
    m = Model()
    s = booted(m, cron)
    cron = s.get("CronJob", NS, "cron")
    owner = OwnerReference("batch/v1", "CronJob", "cron", cron.metadata.uid, controller=True, block_owner_deletion=True)
    job = decode(job_manifest(name="cron-123", parallelism=1, completions=1))
    job = replace(job, metadata=replace(job.metadata, owner_references=(owner,)))
    s = m.settle(write(s, apiserver.Create(job))).state
    (pod,) = s.pods()
    ref = pod.metadata.controller_ref()
    assert ref is not None and ref.kind == "Job"
    s = m.settle(m.step(s, ExitContainer(NS, pod.metadata.name, "c", 0))).state
    assert "Complete" in [c.type for c in s.get("Job", NS, "cron-123").status.conditions]


def test_features_per_release() -> None:
    old, new = JobFeatures.of(OLD), JobFeatures.of(NEW)
    assert not old.pod_replacement_policy and new.pod_replacement_policy
    assert not old.delay_terminal and new.delay_terminal and not JobFeatures.of(ModelConfig(kubernetes_version="1.30")).delay_terminal
    assert old.rm_counts_terminating and not JobFeatures.of(V129).rm_counts_terminating
