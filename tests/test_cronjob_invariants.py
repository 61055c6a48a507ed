"""The CronJob and TTL invariants hold on correct runs and catch broken controllers
(or hand-built states where no plausible controller bug produces the breach)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import invariants.cronjob  # noqa: F401  (registers the invariants)
import invariants.ttl  # noqa: F401
from invariants.registry import REGISTRY, Kind, Violation, select
from kmodel import apiserver
from kmodel.actions import Action, AddNode, Apply, ExitContainer, Patch, Reconcile, Tick
from kmodel.checking import Checker
from kmodel.config import ModelConfig
from kmodel.controllers.common import controller_ref
from kmodel.controllers.cronjob import CronJobController, EverySchedule, next_sync_time, parse_standard
from kmodel.controllers.garbagecollector import GarbageCollector
from kmodel.controllers.ttlafterfinished import TTLAfterFinishedController
from kmodel.frozen import freeze
from kmodel.model import Model
from kmodel.objects.batch import CronJob, Job, JobSpec, JobStatus
from kmodel.objects.meta import Condition, ObjectMeta
from kmodel.objects.storage import ObjectReference
from kmodel.state import ClusterState, empty_state
from kmodel.strategies import cron_jobs
from tests.builders import node
from tests.test_cronjob import NS, T, cronjob, finish, minutes

H, M = 3600, 60
CRONJOB_INVARIANTS = (
    "cronjob-one-job-per-schedule",
    "cronjob-forbid-no-overlap",
    "cronjob-replace-removes-first",
    "cronjob-no-late-start",
    "cronjob-history-limits",
)
TTL_INVARIANTS = ("ttl-never-early", "ttl-eventually-deleted")


class Recorder:
    """Runs steps and settles, checking one invariant on every state, step and fixpoint."""

    def __init__(self, name: str, model: Model) -> None:
        self.inv = REGISTRY[name]
        self.model = model
        self.violations: list[Violation] = []
        self.subjects = 0
        self.quiescent_checks = 0

    def _state(self, s: ClusterState) -> None:
        self.subjects = max(self.subjects, self.inv.subjects(s))
        if self.inv.kind is Kind.ALWAYS:
            self.violations += self.inv.violations(s)

    def _transition(self, a: ClusterState, action: Action, b: ClusterState) -> None:
        if self.inv.kind is Kind.TRANSITION:
            self.violations += self.inv.violations(a, action, b)
        self._state(b)

    def step(self, s: ClusterState, action: Action) -> ClusterState:
        nxt = self.model.step(s, action)
        self._transition(s, action, nxt)
        return nxt

    def settle(self, s: ClusterState, horizon: int | None = None) -> ClusterState:
        result = self.model.settle(s, horizon=horizon, on_step=self._transition)
        if result.quiescent:
            self.quiescent_checks += 1
            if self.inv.kind is Kind.QUIESCENT:
                self.violations += self.inv.violations(result.state)
        return result.state

    def names(self) -> set[str]:
        return {v.invariant for v in self.violations}


def cron_model(controller: Any = None, version: str = "1.34", gc: bool = False) -> Model:
    actors: list[Any] = [controller or CronJobController()]
    if gc:
        actors.append(GarbageCollector())
    return Model(ModelConfig(kubernetes_version=version, epoch=T), actors=actors)


def boot(r: Recorder, *objs: Any) -> ClusterState:
    return r.step(empty_state(), Apply(objs))


def test_every_cronjob_and_ttl_invariant_is_registered_with_a_statement_and_source() -> None:
    for name in CRONJOB_INVARIANTS + TTL_INVARIANTS:
        inv = REGISTRY[name]
        assert inv.statement and inv.source and len(inv.statement) > 80
    assert {REGISTRY[n].kind for n in ("cronjob-replace-removes-first", "ttl-never-early")} == {Kind.TRANSITION}
    assert {REGISTRY[n].kind for n in ("cronjob-history-limits", "ttl-eventually-deleted")} == {Kind.QUIESCENT}


# ---- broken controllers ----------------------------------------------------------------------


class WithSpec(CronJobController):
    """A controller that reads a changed spec (the bug is in what it ignores)."""

    def __init__(self, **spec: Any) -> None:
        self.spec = spec

    def reconcile(self, state: ClusterState, cj: CronJob, config: ModelConfig) -> Sequence[apiserver.Request]:  # type: ignore[override]
        return super().reconcile(state, replace(cj, spec=replace(cj.spec, **self.spec)), config)


class GeneratedNames(CronJobController):
    """Names Jobs with generateName and never records them: every sync starts the due time again."""

    def reconcile(self, state: ClusterState, cj: CronJob, config: ModelConfig) -> Sequence[apiserver.Request]:  # type: ignore[override]
        out: list[apiserver.Request] = []
        for r in super().reconcile(state, cj, config):
            if isinstance(r, apiserver.Create):
                meta = r.obj.metadata
                out.append(apiserver.Create(replace(r.obj, metadata=replace(meta, name="", generate_name=f"{cj.metadata.name}-"))))
        return out


# ---- cronjob-one-job-per-schedule ------------------------------------------------------------


def test_one_job_per_schedule_holds() -> None:
    r = Recorder("cronjob-one-job-per-schedule", cron_model())
    s = r.settle(boot(r, cronjob()), horizon=3 * H)
    s = r.step(s, Reconcile("cronjob", NS, "mycronjob"))  # re-syncs do not duplicate
    assert len(s.list("Job")) == 3 and r.subjects == 1
    assert r.violations == []


def test_one_job_per_schedule_catches_generated_names() -> None:
    r = Recorder("cronjob-one-job-per-schedule", cron_model(GeneratedNames()))
    s = r.step(boot(r, cronjob()), Tick(H))
    s = r.step(s, Reconcile("cronjob", NS, "mycronjob"))
    s = r.step(s, Reconcile("cronjob", NS, "mycronjob"))
    assert len(s.list("Job")) == 2
    assert r.names() == {"cronjob-one-job-per-schedule"}
    assert f"Unix minute {minutes(H)}" in r.violations[0].message


# ---- cronjob-forbid-no-overlap ---------------------------------------------------------------


def test_forbid_no_overlap_holds() -> None:
    r = Recorder("cronjob-forbid-no-overlap", cron_model())
    s = r.settle(boot(r, cronjob(concurrencyPolicy="Forbid")), horizon=2 * H + 30 * M)
    s = finish(r.model, s, f"mycronjob-{minutes(H)}")
    s = r.settle(s, horizon=4 * H)
    assert len(s.list("Job")) == 2 and r.violations == []


def test_forbid_no_overlap_catches_a_controller_ignoring_forbid() -> None:
    r = Recorder("cronjob-forbid-no-overlap", cron_model(WithSpec(concurrency_policy="Allow")))
    r.settle(boot(r, cronjob(concurrencyPolicy="Forbid")), horizon=2 * H)
    assert r.names() == {"cronjob-forbid-no-overlap"}
    assert f"mycronjob-{minutes(H)} still ran" in r.violations[0].message


def lost_status_write(r: Recorder) -> ClusterState:
    s = r.step(boot(r, cronjob(concurrencyPolicy="Forbid")), Tick(H))
    s = r.step(s, Reconcile("cronjob", NS, "mycronjob"))
    s = r.step(s, Patch("CronJob", NS, "mycronjob", freeze({"metadata": {"labels": {"edited": "yes"}}})))
    s = r.step(s, Reconcile("cronjob", NS, "mycronjob"))  # the status write conflicts
    return r.settle(s, horizon=2 * H)


def test_forbid_no_overlap_finds_the_v1_28_lost_status_write() -> None:
    """A real v1.28.0 behaviour (fixed by kubernetes#120649): a Job whose status write was lost
    is never recorded, so Forbid does not see it at the next schedule time."""
    old = Recorder("cronjob-forbid-no-overlap", cron_model(version="1.28"))
    lost_status_write(old)
    assert old.names() == {"cronjob-forbid-no-overlap"}
    new = Recorder("cronjob-forbid-no-overlap", cron_model(version="1.34"))
    lost_status_write(new)
    assert new.violations == []


# ---- cronjob-replace-removes-first -----------------------------------------------------------


def test_replace_removes_first_holds() -> None:
    r = Recorder("cronjob-replace-removes-first", cron_model(gc=True))
    s = r.settle(boot(r, cronjob(concurrencyPolicy="Replace")), horizon=3 * H)
    assert [j.metadata.name for j in s.list("Job")] == [f"mycronjob-{minutes(3 * H)}"]
    assert r.violations == []


def test_replace_removes_first_catches_a_controller_that_keeps_the_old_job() -> None:
    r = Recorder("cronjob-replace-removes-first", cron_model(WithSpec(concurrency_policy="Allow")))
    r.settle(boot(r, cronjob(concurrencyPolicy="Replace")), horizon=2 * H)
    assert r.names() == {"cronjob-replace-removes-first"}
    assert f"earlier mycronjob-{minutes(H)} was not deleted" in r.violations[0].message


# ---- cronjob-no-late-start -------------------------------------------------------------------


def test_no_late_start_holds() -> None:
    r = Recorder("cronjob-no-late-start", cron_model())
    s = r.settle(boot(r, cronjob(startingDeadlineSeconds=600, concurrencyPolicy="Forbid")), horizon=2 * H + 5 * M)
    s = finish(r.model, s, f"mycronjob-{minutes(H)}")
    s = r.settle(s, horizon=3 * H)  # 12:00 still inside its deadline at 12:05: a late but allowed start
    late = s.get("Job", NS, f"mycronjob-{minutes(2 * H)}")
    assert late is not None and late.metadata.creation_timestamp == 2 * H + 5 * M
    s = r.step(s, Patch("CronJob", NS, "mycronjob", freeze({"spec": {"suspend": True}})))
    s = r.settle(s, horizon=6 * H)
    assert len(s.list("Job")) == 2 and r.violations == []


def test_no_late_start_catches_a_controller_ignoring_the_deadline() -> None:
    r = Recorder("cronjob-no-late-start", cron_model(WithSpec(starting_deadline_seconds=None)))
    s = r.step(boot(r, cronjob(startingDeadlineSeconds=60)), Tick(H + 5 * M))
    r.settle(s, horizon=s.clock)
    assert r.names() == {"cronjob-no-late-start"}
    assert "startingDeadlineSeconds 60" in r.violations[0].message


def test_no_late_start_catches_a_controller_ignoring_suspend() -> None:
    r = Recorder("cronjob-no-late-start", cron_model(WithSpec(suspend=False)))
    s = r.step(boot(r, cronjob(suspend=True)), Tick(H))
    r.step(s, Reconcile("cronjob", NS, "mycronjob"))
    assert r.names() == {"cronjob-no-late-start"}
    assert "while it is suspended" in r.violations[0].message


def with_status(m: Model, s: ClusterState, **status: Any) -> ClusterState:
    cj: CronJob = s.get("CronJob", NS, "mycronjob")
    tx = s.edit()
    apiserver.apply(tx, apiserver.Update(replace(cj, status=replace(cj.status, **status)), status=True, check_rv=False), m.config)
    return tx.commit()


def test_no_late_start_catches_an_early_start_and_a_backwards_record() -> None:
    """Hand-built steps: the CronJob records a Job created before its scheduled time, and a
    lastScheduleTime that moves back."""
    m = cron_model()
    s = m.step(empty_state(), Apply((cronjob(),)))
    job = Job(ObjectMeta(name=f"mycronjob-{minutes(H)}", namespace=NS, owner_references=(controller_ref(s.get("CronJob", NS, "mycronjob")),)))
    s = m.step(s, Apply((job,)))  # created at t=0 for 11:00
    created = s.get("Job", NS, job.metadata.name)
    ref = ObjectReference("Job", NS, created.metadata.name, created.metadata.uid, "batch/v1")
    check = REGISTRY["cronjob-no-late-start"].violations
    action = Reconcile("cronjob", NS, "mycronjob")
    early = with_status(m, s, active=(ref,), last_schedule_time=H)
    assert [v.message for v in check(s, action, early)] == [f"Job {NS}/{created.metadata.name} was created at t=0s, before its scheduled time t={H}s"]
    before = with_status(m, s, last_schedule_time=H)
    back = with_status(m, before, active=(ref,), last_schedule_time=0)
    assert [v.message for v in check(before, action, back)] == [f"CronJob {NS}/mycronjob lastScheduleTime moved back from t={H}s to t=0s"]
    assert check(early, action, early) == []  # nothing newly recorded


# ---- cronjob-history-limits ------------------------------------------------------------------


def history_run(r: Recorder) -> ClusterState:
    s = boot(r, cronjob(successfulJobsHistoryLimit=1, failedJobsHistoryLimit=1))
    for h, kind in enumerate(["Complete", "Complete", "Failed", "Failed"], start=1):
        s = r.settle(s, horizon=h * H)
        s = finish(r.model, s, f"mycronjob-{minutes(h * H)}", kind)
    s = r.step(s, Patch("CronJob", NS, "mycronjob", freeze({"spec": {"suspend": True}})))
    return r.settle(s)


def test_history_limits_hold() -> None:
    r = Recorder("cronjob-history-limits", cron_model())
    s = history_run(r)
    assert r.quiescent_checks == 1 and len(s.list("Job")) == 2
    assert r.violations == []


def test_history_limits_catch_a_controller_that_keeps_everything() -> None:
    r = Recorder("cronjob-history-limits", cron_model(WithSpec(successful_jobs_history_limit=100, failed_jobs_history_limit=100)))
    history_run(r)
    assert r.quiescent_checks == 1
    assert r.names() == {"cronjob-history-limits"} and len(r.violations) == 2


# ---- TTL -------------------------------------------------------------------------------------


class EagerTTL(TTLAfterFinishedController):
    """Deletes any Job with a TTL as soon as it exists."""

    def reconcile(self, state: ClusterState, job: Job, config: ModelConfig) -> Sequence[apiserver.Request]:  # type: ignore[override]
        if job.metadata.deletion_timestamp is None and job.spec.ttl_seconds_after_finished is not None:
            return [apiserver.Delete(job.ref, uid=job.metadata.uid, propagation="Foreground")]
        return ()


class LazyTTL(TTLAfterFinishedController):
    """Never deletes (but keeps reporting its timers)."""

    def reconcile(self, state: ClusterState, job: Job, config: ModelConfig) -> Sequence[apiserver.Request]:  # type: ignore[override]
        return ()


def ttl_model(controller: Any = None) -> Model:
    return Model(ModelConfig(), actors=[controller or TTLAfterFinishedController(), GarbageCollector()])


def ttl_job(name: str, ttl: int | None = 100) -> Job:
    return Job(ObjectMeta(name=name, namespace=NS), spec=JobSpec(ttl_seconds_after_finished=ttl))


def finish_job(m: Model, s: ClusterState, name: str) -> ClusterState:
    job: Job = s.get("Job", NS, name)
    tx = s.edit()
    done = JobStatus(conditions=(Condition("Complete", "True", last_transition_time=s.clock),), completion_time=s.clock)
    apiserver.apply(tx, apiserver.Update(replace(job, status=done), status=True), m.config)
    return tx.commit()


@pytest.mark.parametrize("name", TTL_INVARIANTS)
def test_ttl_invariants_hold(name: str) -> None:
    r = Recorder(name, ttl_model())
    s = boot(r, ttl_job("a"), ttl_job("b", None), ttl_job("c"))
    s = r.step(s, Tick(10))
    s = finish_job(r.model, s, "a")
    s = finish_job(r.model, s, "b")
    s = r.settle(s)
    assert r.quiescent_checks == 1 and r.subjects == 2
    assert s.clock == 110 and s.get("Job", NS, "a") is None and s.get("Job", NS, "b") is not None and s.get("Job", NS, "c") is not None
    assert r.violations == []


def test_ttl_never_early_catches_an_eager_controller() -> None:
    r = Recorder("ttl-never-early", ttl_model(EagerTTL()))
    s = boot(r, ttl_job("running"), ttl_job("done"))
    s = r.step(s, Tick(10))
    s = finish_job(r.model, s, "done")
    r.settle(s)
    messages = sorted(v.message for v in r.violations)
    assert messages == [
        f"the TTL controller deleted Job {NS}/done although it finished at t=10s with a TTL of 100s, so it expires at t=110s, not t=10s",
        f"the TTL controller deleted Job {NS}/running although it has not finished",
    ]


def test_ttl_eventually_deleted_catches_a_lazy_controller() -> None:
    r = Recorder("ttl-eventually-deleted", ttl_model(LazyTTL()))
    s = r.step(boot(r, ttl_job("done")), Tick(10))
    r.settle(finish_job(r.model, s, "done"))
    assert r.quiescent_checks == 1
    assert [v.message for v in r.violations] == [f"Job {NS}/done finished at t=10s and its TTL of 100s expired at t=110s, but it was not deleted"]


def test_ttl_eventually_deleted_does_not_judge_unexpired_jobs() -> None:
    """A fixpoint reached with a look-ahead (timers beyond it count as later) may hold a Job
    whose TTL is still running: not a violation."""
    inv = REGISTRY["ttl-eventually-deleted"]
    m = ttl_model()
    s = finish_job(m, m.step(empty_state(), Apply((ttl_job("done"),))), "done")
    assert inv.violations(s) == []
    assert [v.invariant for v in inv.violations(m.step(s, Tick(100)))] == ["ttl-eventually-deleted"]


# ---- any valid CronJob, end to end -----------------------------------------------------------


@given(cron_jobs(), st.sampled_from(["1.28", "1.34"]), st.lists(st.sampled_from([0, 1]), min_size=0, max_size=3))
@settings(max_examples=8)
def test_any_cronjob_runs_with_every_invariant_held(cj: Any, version: str, exits: list[int]) -> None:
    """The whole control plane (scheduler, kubelet, Job, CronJob, TTL, GC) over two hours of a
    generated CronJob, with some of its pods' containers exiting, checked against every
    invariant on every step; at the end the CronJob is suspended and the cluster settles."""
    m = Model(ModelConfig(kubernetes_version=version, epoch=T))
    checker = Checker(select())
    found: list[Violation] = []
    jobs_seen: set[str] = set()

    def on_step(a: ClusterState, action: Action, b: ClusterState) -> None:
        found.extend(checker.transition_(a, action, b))
        jobs_seen.update(j.metadata.name for j in b.list("Job"))

    s = m.step(empty_state(), AddNode(node("n1")))
    s = m.step(s, Apply((cj,)))
    first = next_sync_time(s.get("CronJob", NS, cj.metadata.name), 0, m.config)
    for i, code in enumerate(exits):
        s = m.settle(s, horizon=(i + 1) * 40 * M, on_step=on_step).state
        running = [p for p in s.pods(NS) if p.status.phase == "Running"]
        if running:
            s = m.step(s, ExitContainer(NS, running[0].metadata.name, running[0].spec.containers[0].name, code))
    s = m.settle(s, horizon=2 * H, on_step=on_step).state
    s = m.step(s, Patch("CronJob", NS, cj.metadata.name, freeze({"spec": {"suspend": True}})))
    result = m.settle(s, horizon=4 * H, on_step=on_step)
    if result.quiescent:
        found.extend(checker.at_quiescence(result.state))
    assert found == [], "\n".join(map(str, found))
    # not vacuous: a CronJob due within the two hours started Jobs — except an @every schedule
    # with startingDeadlineSeconds below its period, whose chain restarts at now − SDS on every
    # sync (see test_cronjob.test_every_with_a_short_starting_deadline_never_starts)
    sched, sds = parse_standard(cj.spec.schedule), cj.spec.starting_deadline_seconds
    restarts = isinstance(sched, EverySchedule) and sds is not None and sds < sched.delay
    assert bool(jobs_seen) == (first is not None and first <= 2 * H and not restarts), (first, sorted(jobs_seen))
