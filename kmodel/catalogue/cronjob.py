"""Broken CronJob controllers (kmodel.controllers.cronjob)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace

from kmodel import apiserver
from kmodel.config import ModelConfig
from kmodel.controllers.cronjob import MANY_MISSED, CronJobController, PendingCreate, cronjob_schedule, most_recent_schedule_time
from kmodel.objects.batch import CronJob
from kmodel.state import ClusterState


class GivesUpAfterTooManyMissed(CronJobController):
    """Starts nothing once more than 100 schedule times have been missed.

    Reproduces kubernetes/kubernetes#42649: the first CronJob controller listed every
    missed start time since lastScheduleTime (or creation) and, beyond 100, gave up with
    "Cannot determine if job needs to be started: too many missed start time (> 100)".
    As nothing was started, lastScheduleTime never moved and the CronJob stayed stuck
    until someone set startingDeadlineSeconds. The v2 controller (1.21+) only warns and
    starts the most recent time (utils.go mostRecentScheduleTime).

    Expected to be caught by a liveness invariant ("a due schedule time within the
    deadline eventually gets a Job"), but the CronJob invariants are all safety
    properties. Witness: `stuck`.
    """

    def reconcile(self, state: ClusterState, cj: CronJob, config: ModelConfig) -> Sequence[apiserver.Request]:  # type: ignore[override]
        """Nothing at all while more than 100 start times were missed, else the reference sync."""
        sched = cronjob_schedule(cj)
        if sched is not None and not cj.spec.suspend:
            if most_recent_schedule_time(cj, state.clock, sched, config.epoch, include_sds=True).missed == MANY_MISSED:
                return ()
        return super().reconcile(state, cj, config)


def stuck(state: ClusterState) -> bool:
    """A CronJob that is not suspended, has never started a Job, and has missed more than
    100 schedule times (times relative to the default epoch, as in the catalogue scenarios)."""
    for cj in state.list("CronJob"):
        sched = cronjob_schedule(cj)
        if cj.spec.suspend or sched is None or cj.status.last_schedule_time is not None:
            continue
        if most_recent_schedule_time(cj, state.clock, sched, ModelConfig().epoch, include_sds=True).missed == MANY_MISSED:
            return True
    return False


class GeneratedJobNames(CronJobController):
    """Creates each Job with generateName and records the start in the same sync.

    A classic mistake: a non-idempotent create. The ScheduledJob proposal
    (kubernetes/kubernetes#25595) warns that "two jobs might be created" for one time; the
    controller's deterministic names (utils.go getJobName, `<cronjob>-<Unix minutes>`)
    make it rare: a sync that reads the CronJob before the previous sync's status write
    starts the same scheduled time again, and with a random name the second create
    succeeds where a deterministic name fails with AlreadyExists.

    Caught by `cronjob-one-job-per-schedule`: two Jobs of the CronJob carry the same
    scheduled time.
    """

    def reconcile(self, state: ClusterState, cj: CronJob, config: ModelConfig) -> Sequence[apiserver.Request]:  # type: ignore[override]
        """The reference sync with a generated Job name and the status written at once."""
        out: list[apiserver.Request] = []
        pending: PendingCreate | None = None
        for r in super().reconcile(state, cj, config):
            if isinstance(r, apiserver.Remember):
                key = f"{cj.metadata.namespace}/{cj.metadata.name}"
                pending = r.value.get(key) if r.value is not None else None
                continue
            if isinstance(r, apiserver.Create) and r.obj.kind == "Job":
                meta = r.obj.metadata
                r = apiserver.Create(replace(r.obj, metadata=replace(meta, name="", generate_name=f"{cj.metadata.name}-")))
            out.append(r)
        if pending is not None:
            status = replace(pending.status, last_schedule_time=pending.scheduled)
            out.append(apiserver.Update(replace(cj, status=status), status=True))
        return out
