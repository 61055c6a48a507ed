"""Job invariants: each holds over correct runs (both releases) and catches a
deliberately broken Job controller or a hand-built bad step."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from invariants.registry import REGISTRY, Invariant, Violation, check_transition, load_all
from kmodel import apiserver
from kmodel.actions import Action, AddNode, Apply, DeleteObject, ExitContainer, Patch, Reconcile
from kmodel.config import ModelConfig
from kmodel.controllers import job as job_mod
from kmodel.controllers.job import TRACKING_FINALIZER, JobController
from kmodel.frozen import freeze
from kmodel.model import Model
from kmodel.objects.batch import Job, UncountedTerminatedPods
from kmodel.objects.meta import Condition
from kmodel.state import ClusterState, empty_state
from kmodel.strategies import jobs
from tests.builders import node
from tests.jobkit import NEW, NS, OLD, at, booted, create, decode, job_manifest, job_pod, set_status, sync, write

load_all()
FAIL_42 = {"operator": "In", "values": [42]}
JOB_INVARIANTS = [
    REGISTRY[n]
    for n in (
        "job-active-bound",
        "job-terminal-exclusive",
        "job-pods-counted-once",
        "job-no-pods-during-backoff-or-suspension",
        "job-terminal-after-tracking",
    )
]


class Collector:
    """Checks the Job invariants on every step and counts the steps they were about."""

    def __init__(self, invs: Sequence[Invariant] = JOB_INVARIANTS) -> None:
        self.invs = list(invs)
        self.violations: list[Violation] = []
        self.job_syncs = 0

    def __call__(self, prev: ClusterState, action: Action, nxt: ClusterState) -> None:
        if isinstance(action, Reconcile) and action.controller == "job":
            self.job_syncs += 1
        self.violations.extend(check_transition(prev, action, nxt, self.invs))

    def step(self, m: Model, s: ClusterState, action: Action) -> ClusterState:
        nxt = m.step(s, action)
        self(s, action, nxt)
        return nxt

    def settle(self, m: Model, s: ClusterState) -> ClusterState:
        return m.settle(s, on_step=self).state

    def names(self) -> set[str]:
        return {v.invariant for v in self.violations}


def exit_first(c: Collector, m: Model, s: ClusterState, code: int, job: str = "foobar") -> ClusterState:
    """The first running pod of `job` exits with `code`, then everything settles."""
    pod = next(p for p in s.pods() if p.active and p.metadata.generate_name.startswith(job) and p.status.phase == "Running")
    return c.settle(m, c.step(m, s, ExitContainer(NS, pod.metadata.name, "c", code)))


def rich_run(config: ModelConfig, controller: JobController | None = None) -> tuple[Collector, ClusterState]:
    """Jobs of every kind run to their end: completions with failures and back-off, a work
    queue, an Indexed Job with a success policy, a FailJob rule, suspension and resumption,
    a deadline, a deleted pod and a deleted Job."""
    c = Collector()
    m = Model(config) if controller is None else Model(config).with_actor(controller)
    jobs = [
        decode(job_manifest("batch", parallelism=2, completions=3, backoff_limit=3)),
        decode(job_manifest("queue", parallelism=2, completions=None)),
        decode(job_manifest("indexed", parallelism=3, completions=3, completionMode="Indexed", successPolicy={"rules": [{"succeededCount": 2}]})),
        decode(job_manifest("policy", parallelism=1, completions=2, podFailurePolicy={"rules": [{"action": "FailJob", "onExitCodes": FAIL_42}]})),
        decode(job_manifest("paused", parallelism=2, completions=2)),
        decode(job_manifest("deadline", parallelism=1, completions=1, activeDeadlineSeconds=400)),
    ]
    s = c.step(m, c.step(m, empty_state(), AddNode(node("n1"))), Apply(tuple(jobs)))
    s = c.settle(m, s)
    s = exit_first(c, m, s, 1, "batch")  # a failure, then back-off
    s = exit_first(c, m, s, 0, "batch")
    s = exit_first(c, m, s, 0, "batch")
    s = exit_first(c, m, s, 0, "batch")
    s = exit_first(c, m, s, 0, "queue")
    s = exit_first(c, m, s, 0, "queue")
    s = exit_first(c, m, s, 0, "indexed")
    s = exit_first(c, m, s, 1, "indexed")
    s = exit_first(c, m, s, 0, "indexed")
    s = exit_first(c, m, s, 42, "policy")
    s = c.settle(m, c.step(m, s, Patch("Job", NS, "paused", freeze({"spec": {"suspend": True}}))))
    s = c.settle(m, c.step(m, s, Patch("Job", NS, "paused", freeze({"spec": {"suspend": False}}))))
    victim = next(p for p in s.pods() if p.active and p.metadata.generate_name == "paused-")
    s = c.settle(m, c.step(m, s, DeleteObject("Pod", NS, victim.metadata.name)))
    s = exit_first(c, m, s, 0, "paused")
    s = c.settle(m, c.step(m, s, DeleteObject("Job", NS, "batch", propagation="Background")))
    return c, s


@pytest.mark.parametrize("config", [OLD, ModelConfig(kubernetes_version="1.30"), NEW], ids=["1.28", "1.30", "newest"])
def test_job_invariants_hold_on_a_rich_run(config: ModelConfig) -> None:
    c, s = rich_run(config)
    assert c.violations == [], "\n".join(map(str, c.violations))
    assert c.job_syncs > 30
    # not vacuous: every Job reached its documented end
    ends = {j.metadata.name: [x.type for x in j.status.conditions if x.status == "True" and x.type in ("Complete", "Failed")] for j in s.list("Job")}
    # the success policy ends the Indexed Job only from 1.31 (JobSuccessPolicy beta); before, index 2 still runs
    indexed = ["Complete"] if config.at_least("1.31") else []
    assert ends == {"queue": ["Complete"], "indexed": indexed, "policy": ["Failed"], "paused": ["Complete"], "deadline": ["Failed"]}
    # suspension removed pods uncounted; the deleted pod exited 0 on SIGTERM before the Job
    # controller saw it terminating, so the kubelet's Succeeded phase counts
    assert (s.get("Job", NS, "paused").status.succeeded, s.get("Job", NS, "paused").status.failed) == (2, 0)


# ---- catching broken controllers --------------------------------------------------------------


class IgnoresParallelism(JobController):
    """Creates pods for every remaining completion regardless of parallelism."""

    def reconcile(self, state: ClusterState, obj: object, config: ModelConfig) -> Sequence[apiserver.Request]:  # noqa: D102
        assert isinstance(obj, Job)
        wide = replace(obj, spec=replace(obj.spec, parallelism=obj.spec.completions or 10))
        return super().reconcile(state, wide, config)


def test_active_bound_catches_ignored_parallelism() -> None:
    inv = REGISTRY["job-active-bound"]
    s = at(empty_state(), 0)
    s, _ = create(s, decode(job_manifest(parallelism=1, completions=3)))
    good = sync(s)
    assert len(good.creates) == 1 and inv.violations(s, Reconcile("job", NS, "foobar"), good.after) == []
    bad = sync(s, controller=IgnoresParallelism())
    assert len(bad.creates) == 3
    found = inv.violations(s, Reconcile("job", NS, "foobar"), bad.after)
    assert found and "3 active pods after creating 3, above 1" in found[0].message


def test_active_bound_allows_terminating_pods_under_terminating_or_failed() -> None:
    # a deleted pod is replaced at once: 1 active + 1 terminating with parallelism 1
    c = Collector([REGISTRY["job-active-bound"]])
    s = at(empty_state(), 1000)
    s, job = create(s, decode(job_manifest(completions=2, podReplacementPolicy="TerminatingOrFailed")))
    s, _ = job_pod(s, job, "Running", terminating=True)
    s = sync(s).after  # counts the failure at time of deletion (now) → back-off
    s = at(s, 1100)
    out = sync(s)
    assert len(out.creates) == 1 and sum(1 for p in out.after.pods() if job_mod.is_terminating(p)) == 1
    c(s, Reconcile("job", NS, "foobar"), out.after)
    assert c.violations == []


class NeverCountsOnce(JobController):
    """Counts succeeded pods into status.succeeded at once and removes no finalizer."""

    def reconcile(self, state: ClusterState, obj: object, config: ModelConfig) -> Sequence[apiserver.Request]:  # noqa: D102
        assert isinstance(obj, Job)
        done = [p for p in state.controlled_by(obj.metadata.uid, "Pod") if p.status.phase == "Succeeded"]
        if not done:
            return super().reconcile(state, obj, config)
        status = replace(obj.status, succeeded=obj.status.succeeded + len(done))
        return [apiserver.Update(replace(obj, status=status), status=True, check_rv=False)]


def test_pods_counted_once_catches_recounting() -> None:
    c = Collector([REGISTRY["job-pods-counted-once"], REGISTRY["job-terminal-exclusive"]])
    m = Model().with_actor(NeverCountsOnce())
    s = booted(m, decode(job_manifest(parallelism=1, completions=3)))
    pod = s.pods()[0]
    s = c.step(m, s, ExitContainer(NS, pod.metadata.name, "c", 0))
    s = c.step(m, s, Reconcile("job", NS, "foobar"))
    s = c.step(m, s, Reconcile("job", NS, "foobar"))
    assert "job-pods-counted-once" in c.names()
    assert s.list("Job")[0].status.succeeded == 2  # one pod, counted twice


def test_pods_counted_once_catches_counting_before_finalizer_removal() -> None:
    c = Collector([REGISTRY["job-pods-counted-once"]])
    s = at(empty_state(), 1000)
    s, job = create(s, decode(job_manifest(completions=3)))
    s, pod = job_pod(s, job, "Succeeded")
    job = s.list("Job")[0]
    with_uid = set_status(s, job, uncounted_terminated_pods=UncountedTerminatedPods((pod.metadata.uid,)))
    job = with_uid.list("Job")[0]
    bad = set_status(with_uid, job, succeeded=1, uncounted_terminated_pods=UncountedTerminatedPods())
    c(with_uid, Reconcile("job", NS, "foobar"), bad)
    assert any("still holds the tracking finalizer" in v.message for v in c.violations)
    # the correct controller removes the finalizer in the same sync
    c2 = Collector([REGISTRY["job-pods-counted-once"]])
    c2(with_uid, Reconcile("job", NS, "foobar"), sync(with_uid).after)
    assert c2.violations == []


def test_terminal_exclusive_catches_both_conditions_and_new_pods() -> None:
    c = Collector([REGISTRY["job-terminal-exclusive"]])
    s = at(empty_state(), 1000)
    s, job = create(s, decode(job_manifest(completions=1)))
    done = (Condition("Complete", "True"),)
    s1 = write(s, apiserver.Update(replace(job, status=replace(job.status, conditions=done, succeeded=1)), status=True, check_rv=False))
    both = set_status(s1, job, conditions=done + (Condition("Failed", "True"),), succeeded=1)
    c(s1, Reconcile("job", NS, "foobar"), both)
    s2, _ = job_pod(s1, s1.list("Job")[0], "Running")
    c(s1, Reconcile("job", NS, "foobar"), s2)
    lost = write(s1, apiserver.Update(replace(job, status=replace(job.status, conditions=(), succeeded=0)), status=True, check_rv=False))
    c(s1, Reconcile("job", NS, "foobar"), lost)
    msgs = [v.message for v in c.violations]
    assert any("both Complete and Failed" in m for m in msgs)
    assert any("got new pods" in m for m in msgs)
    assert any("lost its terminal condition" in m for m in msgs) and any("succeeded decreased" in m for m in msgs)
    # a finished Job is left alone by the real controller
    c2 = Collector([REGISTRY["job-terminal-exclusive"]])
    c2(s1, Reconcile("job", NS, "foobar"), sync(s1).after)
    assert c2.violations == []


def test_no_pods_during_backoff_catches_ignored_backoff(monkeypatch: pytest.MonkeyPatch) -> None:
    inv = REGISTRY["job-no-pods-during-backoff-or-suspension"]
    s = at(empty_state(), 1000)
    s, job = create(s, decode(job_manifest(parallelism=1, completions=2)))
    s, _ = job_pod(s, job, "Failed", finished_at=995)  # failed 5 s ago: 5 s of back-off left
    good = sync(s)
    assert good.creates == [] and inv.violations(s, Reconcile("job", NS, "foobar"), good.after) == []
    monkeypatch.setattr(job_mod, "record_remaining", lambda *a, **k: 0)  # a controller that ignores back-off
    bad = sync(s)
    assert len(bad.creates) == 1
    found = inv.violations(s, Reconcile("job", NS, "foobar"), bad.after)
    assert found and "back-off left" in found[0].message


class IgnoresSuspend(JobController):
    """Treats every Job as running."""

    def reconcile(self, state: ClusterState, obj: object, config: ModelConfig) -> Sequence[apiserver.Request]:  # noqa: D102
        assert isinstance(obj, Job)
        return super().reconcile(state, replace(obj, spec=replace(obj.spec, suspend=False)), config)


def test_no_pods_during_suspension_catches_ignored_suspend() -> None:
    inv = REGISTRY["job-no-pods-during-backoff-or-suspension"]
    s = at(empty_state(), 1000)
    s, job = create(s, decode(job_manifest(parallelism=2, completions=2, suspend=True)))
    good = sync(s)
    assert inv.violations(s, Reconcile("job", NS, "foobar"), good.after) == []
    bad = sync(s, controller=IgnoresSuspend())
    msgs = [v.message for v in inv.violations(s, Reconcile("job", NS, "foobar"), bad.after)]
    assert any("suspended but got 2 new pods" in m for m in msgs) and any("active pods after a sync" in m for m in msgs)


def test_terminal_after_tracking_catches_early_terminal_condition() -> None:
    inv = REGISTRY["job-terminal-after-tracking"]
    s = at(empty_state(), 1000)
    s, job = create(s, decode(job_manifest(parallelism=2, completions=2, backoff_limit=0)))
    s, _ = job_pod(s, job, "Failed")
    s, _ = job_pod(s, job, "Running")
    good = sync(s)  # FailureTarget now, Failed once the deleted pod is gone
    assert good.true_conditions() == ["FailureTarget"]
    assert inv.violations(s, Reconcile("job", NS, "foobar"), good.after) == []
    job = good.job
    early = set_status(good.after, job, conditions=job.status.conditions + (Condition("Failed", "True"),))
    msgs = [v.message for v in inv.violations(good.after, Reconcile("job", NS, "foobar"), early)]
    assert any("terminating" in m for m in msgs)
    # counting not done: uids still uncounted and finalizers held
    s2 = at(empty_state(), 1000)
    s2, job2 = create(s2, decode(job_manifest(completions=1)))
    s2, pod = job_pod(s2, job2, "Succeeded")
    job2 = s2.list("Job")[0]
    unc = UncountedTerminatedPods((pod.metadata.uid,))
    bad = set_status(s2, job2, uncounted_terminated_pods=unc, conditions=(Condition("Complete", "True"),))
    msgs = [v.message for v in inv.violations(s2, Reconcile("job", NS, "foobar"), bad)]
    assert any("still uncounted" in m for m in msgs) and any("tracking finalizer" in m for m in msgs)
    assert TRACKING_FINALIZER in pod.metadata.finalizers


def test_invariants_are_registered_with_statements_and_sources() -> None:
    for inv in JOB_INVARIANTS:
        assert inv.statement and inv.source and "job" in inv.tags
        assert inv.subjects(empty_state()) == 0


# ---- any valid Job -------------------------------------------------------------------------------


@given(jobs(), st.sampled_from(["1.28", "1.34"]), st.lists(st.sampled_from([0, 1, 42]), max_size=4), st.booleans())
@settings(max_examples=15, deadline=None)
def test_any_job_runs_with_every_invariant_held(job: Any, version: str, exits: list[int], toggle_suspend: bool) -> None:
    """The whole control plane over a generated Job: some containers exit (successes,
    failures, a pod failure policy's code), the Job may be suspended or resumed, and the
    cluster settles; every invariant (Job ones and the rest) holds on every step."""
    from invariants.registry import select
    from kmodel.checking import Checker

    m = Model(ModelConfig(kubernetes_version=version))
    checker = Checker(select())
    found: list[Violation] = []

    def on_step(a: ClusterState, action: Action, b: ClusterState) -> None:
        found.extend(checker.transition_(a, action, b))

    s = m.step(m.step(empty_state(), AddNode(node("n1", cpu="8", pods=20))), Apply((job,)))
    s = m.settle(s, horizon=3600, on_step=on_step).state
    for code in exits:
        running = [p for p in s.pods(NS) if p.status.phase == "Running"]
        if running:
            s = m.step(s, ExitContainer(NS, running[0].metadata.name, running[0].spec.containers[0].name, code))
            s = m.settle(s, horizon=s.clock + 3600, on_step=on_step).state
    if toggle_suspend:
        suspend = not bool(s.get("Job", NS, job.metadata.name).spec.suspend)
        s = m.step(s, Patch("Job", NS, job.metadata.name, freeze({"spec": {"suspend": suspend}})))
    result = m.settle(s, horizon=s.clock + 3600, on_step=on_step)
    if result.quiescent:
        found.extend(checker.at_quiescence(result.state))
    assert found == [], "\n".join(map(str, found))
