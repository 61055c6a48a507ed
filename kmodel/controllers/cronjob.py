"""The CronJob controller (pkg/controller/cronjob: cronjob_controllerv2.go, utils.go,
injection.go; k8s v1.28 read locally, newer releases through kubernetes/kubernetes).

One sync of a CronJob (`ControllerV2.sync`):

* list the Jobs of the namespace whose controllerRef *name* is the CronJob's name
  (getJobsToBeReconciled: neither kind nor uid is compared);
* reconcile `status.active` with them: an active Job that finished leaves the list, a
  finished Job may move `lastSuccessfulTime`, an active reference whose Job no longer
  exists (by name) is dropped; an unfinished child that is not in the list is only
  reported (UnexpectedJob);
* stop (status only) when the CronJob is being deleted, its timeZone is unknown, it is
  suspended, or the schedule does not parse or has no next time;
* find the most recent unmet schedule time (mostRecentScheduleTime, with the
  startingDeadlineSeconds floor); none → requeue; later than scheduledTime + SDS → skip
  (MissSchedule); a Job of that time already active, or lastScheduleTime equal to it →
  nothing; Forbid with active Jobs → skip (JobAlreadyActive); Replace → delete every
  active Job (Background) first;
* create the Job `<cronjob>-<scheduled time in Unix minutes>` from the template, with
  the scheduled-timestamp annotation and a controllerRef; AlreadyExists means the time
  was already handled (see the release differences); on success append it to
  `status.active` and set `lastScheduleTime`;
* history cleanup: finished Jobs split into Complete and Failed, the oldest (by
  status.startTime, unset last, then name) beyond each limit deleted with Background
  propagation;
* one status write with the CronJob's resourceVersion (a conflict loses it);
* requeue at the next schedule time (+100 ms).

Schedules follow robfig/cron v3 `ParseStandard`, which the controller uses: exactly five
fields (minute hour dom month dow, `?` as `*`, month and weekday names, `a-b`, `*/n`,
`a/n` meaning a-max/n, no `L`, `W`, `#`, `H`, no weekday 7, no wrapping ranges), the
descriptors @yearly/@annually/@monthly/@weekly/@daily/@midnight/@hourly and
`@every <Go duration>` (a constant delay from the previous time, at least 1 s, whole
seconds), an optional `TZ=`/`CRON_TZ=` prefix, and cron's day rule (day-of-month and
day-of-week are OR-ed unless either was written with `*`/`?`, `*/1` included). croniter
enumerates the candidate instants of the parsed field sets; a candidate whose wall-clock
fields do not match (croniter moves a time that a spring-forward transition skips to the
next valid instant, robfig skips it) is passed over, and no time more than five years
ahead is found (robfig's search limit). `spec.timeZone` becomes a `TZ=` prefix
(formatSchedule). Model time t is `config.epoch + t` seconds.

A consequence worth knowing, reproduced from the upstream table ("with @every schedule,
never ran, is time, past deadline"): @every counts from the time it is given, and the
startingDeadlineSeconds floor gives it now − SDS, so an @every CronJob whose deadline is
shorter than its period never starts a Job when synced at its due time.

Abstractions and deviations:

* Events (UnexpectedJob, SawCompletedJob, MissingJob, MissSchedule, JobAlreadyActive,
  TooManyMissedTimes, ...) and metrics are not modelled.
* Perfect caches: the lister and the live GETs of upstream (GetCronJob for an
  unexpected child, GetJob for active references and for Replace) read the same state.
* Creating a Job and writing the status that records it are two steps, because the
  status needs the uid the API server gives the Job: the sync issues the create (and
  the deletions before it) and remembers the rest of the sync (`PendingCreate`, private
  memory); its continuation, the next Reconcile of that CronJob (no other sync of the
  key runs in between, as with the work queue), writes the status with the new Job's
  reference — exactly what upstream sends after CreateJob returns, with the
  resourceVersion read at the start of the sync, so an update of the CronJob in between
  is a conflict. With asynchronous delivery the continuation waits until the create
  has been delivered. If the Job has been deleted by then, its reference is left out
  (upstream would add it from the create response and drop it as MissingJob on the
  next sync).
* The status write compares the new status with the old instead of tracking
  updateStatus; an unchanged status is a no-op write either way.
* Requeues: the explorers advance the clock to `deadlines()`, the instant of the next
  requeue rounded down to the second (the +100 ms padding is below the model's
  resolution; metav1.Time keeps whole seconds, so the Job's creationTimestamp is the
  same). A requeue in the past (v1.28, below) means continuous re-syncs, reported as
  the next schedule time after now, the first instant at which such a sync can act.
  Errors are retried with rate limiting upstream; the model re-syncs on every state
  change and at the next schedule time.
* The kube-controller-manager's local time zone (used without `timeZone`, and for the
  name `Local`) is UTC.
* An unset creationTimestamp (never the case for stored objects) counts as time 0.

Differences between releases (`config.kubernetes_version`; "1.28" is v1.28.0):

* 1.29 (kubernetes#119776): the history cleanup runs before syncCronJob, also when the
  sync fails, and the status is written once for both. v1.28.0 cleans up after a
  successful sync only, so a failed create (AlreadyExists) also skips the cleanup.
* 1.29 (kubernetes#120649; in a 1.28 patch release through #120809): AlreadyExists on create, for a Job
  this CronJob controls that is not in `status.active`, adds it to the list and sets
  lastScheduleTime. v1.28.0 returns the error and retries: a Job created while the
  status write was lost (a conflict) is never recorded, the same time is tried again
  and again until the next schedule time, and with Forbid the next Job starts while
  the unrecorded one still runs.
* 1.29 (kubernetes#121327; in a 1.28 patch release through #121536): when times were missed but the
  approximation finds none (irregular schedules), the requeue is computed from now;
  v1.28.0 computes it from lastScheduleTime, which lies in the past, and re-syncs
  continuously. Both create the same Jobs at the same times in the model; the >100
  missed starts classification (TooManyMissedTimes) is an event only in every release,
  and the most recent time is scheduled regardless.
* 1.30 (kubernetes#123380): only Complete Jobs move lastSuccessfulTime; before, any
  finished Job's completionTime counted.
* 1.31 (kubernetes#122025): a finished Job that was active leaves `status.active` and
  records its completion in the same sync; before, lastSuccessfulTime waited for a
  later sync (and with successfulJobsHistoryLimit 0 in v1.28.0 the Job was deleted
  first, so it never counted).
* The scheduled-timestamp annotation (CronJobsScheduledAnnotation) is beta and on by
  default in 1.28 and GA later: every supported release sets it.
"""

from __future__ import annotations

import functools
import math
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta, tzinfo
from fractions import Fraction
from typing import Any
from zoneinfo import ZoneInfo

from croniter import CroniterError, croniter

from kmodel import apiserver
from kmodel.actions import Action, Reconcile
from kmodel.actors import KindReconciler
from kmodel.config import ModelConfig
from kmodel.controllers.common import controller_ref
from kmodel.frozen import EMPTY, FrozenDict
from kmodel.objects.batch import CronJob, CronJobStatus, Job
from kmodel.objects.meta import ObjectMeta, ObjRef
from kmodel.objects.storage import ObjectReference
from kmodel.state import ClusterState

NAME = "cronjob"
# batch/v1 types.go CronJobScheduledTimestampAnnotation.
SCHEDULED_TIMESTAMP_ANNOTATION = "batch.kubernetes.io/cronjob-scheduled-timestamp"
# utils.go mostRecentScheduleTime: "arbitrarily picked 100".
TOO_MANY_MISSED = 100
NONE_MISSED, FEW_MISSED, MANY_MISSED = "none", "few", "many"
# robfig/cron v3 spec.go Next: no match within five years → the zero time.
SEARCH_YEARS = 5


class ScheduleError(ValueError):
    """A schedule robfig/cron's ParseStandard rejects."""


# ---- schedules (robfig/cron v3 ParseStandard; croniter enumerates the instants) ----------------


@dataclass(frozen=True, slots=True)
class SpecSchedule:
    """A parsed five-field schedule: the allowed values of each field, whether day-of-month
    and day-of-week were written with a star (robfig's starBit), and the IANA location."""

    minutes: frozenset[int]
    hours: frozenset[int]
    doms: frozenset[int]
    months: frozenset[int]
    dows: frozenset[int]
    dom_star: bool
    dow_star: bool
    location: str = ""


@dataclass(frozen=True, slots=True)
class EverySchedule:
    """`@every <duration>`: robfig's ConstantDelaySchedule, next = previous + delay seconds."""

    delay: int
    location: str = ""


Schedule = SpecSchedule | EverySchedule

_MONTH_NAMES = {n: i + 1 for i, n in enumerate(("jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"))}
_DOW_NAMES = {n: i for i, n in enumerate(("sun", "mon", "tue", "wed", "thu", "fri", "sat"))}
# robfig parser.go bounds: (min, max, names) of minute, hour, dom, month, dow.
_BOUNDS: tuple[tuple[int, int, dict[str, int] | None], ...] = (
    (0, 59, None),
    (0, 23, None),
    (1, 31, None),
    (1, 12, _MONTH_NAMES),
    (0, 6, _DOW_NAMES),
)
_ATOI = re.compile(r"[+-]?[0-9]+")


def _parse_int(text: str, names: dict[str, int] | None) -> int:
    """parseIntOrName / mustParseInt: a name of the field, or a non-negative decimal (strconv.Atoi)."""
    if names is not None and text.lower() in names:
        return names[text.lower()]
    if not _ATOI.fullmatch(text):
        raise ScheduleError(f"failed to parse int from {text}")
    n = int(text)
    if n < 0:
        raise ScheduleError(f"negative number ({n}) not allowed: {text}")
    return n


def _parse_range(expr: str, lo: int, hi: int, names: dict[str, int] | None) -> tuple[set[int], bool]:
    """getRange: `*`/`?`, `n`, `a-b`, each with an optional `/step`; the star flag survives
    only a step of 1 (robfig: `if step > 1 { extra = 0 }`)."""
    range_and_step = expr.split("/")
    low_high = range_and_step[0].split("-")
    single = len(low_high) == 1
    star = False
    if low_high[0] in ("*", "?"):
        start, end, star = lo, hi, True
    else:
        start = _parse_int(low_high[0], names)
        if len(low_high) == 1:
            end = start
        elif len(low_high) == 2:
            end = _parse_int(low_high[1], names)
        else:
            raise ScheduleError(f"too many hyphens: {expr}")
    if len(range_and_step) == 1:
        step = 1
    elif len(range_and_step) == 2:
        step = _parse_int(range_and_step[1], None)
        if single:
            end = hi  # "N/step" means N-max/step
        if step > 1:
            star = False
    else:
        raise ScheduleError(f"too many slashes: {expr}")
    if start < lo:
        raise ScheduleError(f"beginning of range ({start}) below minimum ({lo}): {expr}")
    if end > hi:
        raise ScheduleError(f"end of range ({end}) above maximum ({hi}): {expr}")
    if start > end:
        raise ScheduleError(f"beginning of range ({start}) beyond end of range ({end}): {expr}")
    if step == 0:
        raise ScheduleError(f"step of range should be a positive number: {expr}")
    return set(range(start, end + 1, step)), star


def _parse_field(field: str, lo: int, hi: int, names: dict[str, int] | None) -> tuple[frozenset[int], bool]:
    """getField: the union of comma-separated ranges (empty items ignored, strings.FieldsFunc)."""
    values: set[int] = set()
    star = False
    for part in (p for p in field.split(",") if p):
        got, s = _parse_range(part, lo, hi, names)
        values |= got
        star = star or s
    return frozenset(values), star


_ALL = {i: frozenset(range(lo, hi + 1)) for i, (lo, hi, _) in enumerate(_BOUNDS)}


def _descriptor(spec: str, location: str) -> Schedule:
    """parseDescriptor: the @-macros of robfig/cron (exact, case-sensitive matches)."""
    zero = frozenset({0})
    one = frozenset({1})
    if spec in ("@yearly", "@annually"):
        return SpecSchedule(zero, zero, one, one, _ALL[4], False, True, location)
    if spec == "@monthly":
        return SpecSchedule(zero, zero, one, _ALL[3], _ALL[4], False, True, location)
    if spec == "@weekly":
        return SpecSchedule(zero, zero, _ALL[2], _ALL[3], zero, True, False, location)
    if spec in ("@daily", "@midnight"):
        return SpecSchedule(zero, zero, _ALL[2], _ALL[3], _ALL[4], True, True, location)
    if spec == "@hourly":
        return SpecSchedule(zero, _ALL[1], _ALL[2], _ALL[3], _ALL[4], True, True, location)
    if spec.startswith("@every "):
        nanos = parse_go_duration(spec[len("@every ") :])
        # constantdelay.go Every: at least one second, rounded down to whole seconds.
        return EverySchedule(max(nanos, 10**9) // 10**9, location)
    raise ScheduleError(f"unrecognized descriptor: {spec}")


_DURATION_UNITS = {"ns": 1, "us": 10**3, "µs": 10**3, "μs": 10**3, "ms": 10**6, "s": 10**9, "m": 60 * 10**9, "h": 3600 * 10**9}
_DURATION_PART = re.compile(r"([0-9]*(?:\.[0-9]*)?)([a-zµμ]+)")


def parse_go_duration(text: str) -> int:
    """time.ParseDuration in nanoseconds: `[-+]` then number-unit pairs (`1h30m`, `1.5h`,
    `90s`, `300ms`); a bare `0` is allowed, any other number needs a unit."""
    s = text
    sign = 1
    if s[:1] in ("-", "+"):
        sign = -1 if s[0] == "-" else 1
        s = s[1:]
    if s == "0":
        return 0
    if not s:
        raise ScheduleError(f"failed to parse duration {text!r}")
    total = Fraction(0)
    pos = 0
    while pos < len(s):
        m = _DURATION_PART.match(s, pos)
        if m is None or m.group(1) in ("", ".") or m.group(2) not in _DURATION_UNITS:
            raise ScheduleError(f"failed to parse duration {text!r}")
        total += Fraction(m.group(1)) * _DURATION_UNITS[m.group(2)]
        pos = m.end()
    return sign * math.floor(total)


@functools.lru_cache(maxsize=4096)
def parse_standard(spec: str) -> Schedule:
    """cron.ParseStandard: an optional TZ=/CRON_TZ= prefix, then a descriptor or exactly
    five fields. Raises ScheduleError for what robfig rejects."""
    if not spec:
        raise ScheduleError("empty spec string")
    location = ""
    if spec.startswith("TZ=") or spec.startswith("CRON_TZ="):
        space = spec.find(" ")
        if space < 0:
            raise ScheduleError(f"provided bad location in {spec!r}")
        name = spec[spec.find("=") + 1 : space]
        if load_location(name) is None:
            raise ScheduleError(f"provided bad location {name}")
        location = name
        spec = spec[space:].strip()
    if spec.startswith("@"):
        return _descriptor(spec, location)
    fields = spec.split()
    if len(fields) != 5:
        raise ScheduleError(f"expected exactly 5 fields, found {len(fields)}: {spec}")
    parsed = [_parse_field(f, lo, hi, names) for f, (lo, hi, names) in zip(fields, _BOUNDS)]
    (mins, _), (hours, _), (doms, dom_star), (months, _), (dows, dow_star) = parsed
    return SpecSchedule(mins, hours, doms, months, dows, dom_star, dow_star, location)


@functools.lru_cache(maxsize=256)
def load_location(name: str) -> tzinfo | None:
    """time.LoadLocation: "" and "UTC" are UTC, "Local" is the controller manager's zone
    (UTC in the model), anything else an IANA zone; None if unknown."""
    if name in ("", "UTC", "Local"):
        return UTC
    try:
        return ZoneInfo(name)
    except Exception:  # ZoneInfoNotFoundError, ValueError (malformed key), OSError (a directory)
        return None


def _tz(location: str) -> tzinfo:
    return load_location(location) or UTC


def _cron_expression(s: SpecSchedule) -> str:
    return " ".join(",".join(str(v) for v in sorted(vals)) for vals in (s.minutes, s.hours, s.doms, s.months, s.dows))


def _wall_clock_matches(s: SpecSchedule, dt: datetime) -> bool:
    """spec.go: minute, hour, month and dayMatches (OR of dom and dow unless either had a star)."""
    if dt.minute not in s.minutes or dt.hour not in s.hours or dt.month not in s.months:
        return False
    dom_ok = dt.day in s.doms
    dow_ok = dt.isoweekday() % 7 in s.dows
    if s.dom_star or s.dow_star:
        return dom_ok and dow_ok
    return dom_ok or dow_ok


@functools.lru_cache(maxsize=65536)
def _next_spec(s: SpecSchedule, t: int, epoch: datetime) -> int | None:
    if not (s.minutes and s.hours and s.doms and s.months and s.dows):
        return None  # an empty field (e.g. ",") never matches
    start = (epoch + timedelta(seconds=t)).astimezone(_tz(s.location))
    limit = start.year + SEARCH_YEARS
    try:
        it = croniter(_cron_expression(s), start, day_or=not (s.dom_star or s.dow_star))
        while True:
            cand = it.get_next(datetime)
            if cand.year > limit:
                return None
            if _wall_clock_matches(s, cand):
                return math.floor((cand - epoch).total_seconds())
    except CroniterError:
        return None


def next_time(s: Schedule, t: int, epoch: datetime) -> int | None:
    """schedule.Next: the first activation strictly after model time t, None for the zero time."""
    if isinstance(s, EverySchedule):
        return t + s.delay  # constantdelay.go Next (model times are whole seconds)
    return _next_spec(s, t, epoch)


def is_activation(s: Schedule, t: int, epoch: datetime) -> bool | None:
    """Whether model time t is an activation of a five-field schedule (None for @every,
    whose activations depend on where the chain started)."""
    if isinstance(s, EverySchedule):
        return None
    return next_time(s, t - 1, epoch) == t


def format_schedule(cj: CronJob) -> str:
    """formatSchedule: a schedule mentioning TZ is used as written, otherwise a valid
    spec.timeZone becomes a TZ= prefix."""
    if "TZ" in cj.spec.schedule:
        return cj.spec.schedule
    tz = cj.spec.time_zone
    if tz is not None and load_location(tz) is not None:
        return f"TZ={tz} {cj.spec.schedule}"
    return cj.spec.schedule


def cronjob_schedule(cj: CronJob) -> Schedule | None:
    """The CronJob's parsed schedule, or None if it does not parse (UnparseableSchedule)."""
    try:
        return parse_standard(format_schedule(cj))
    except ScheduleError:
        return None


def rfc3339(t: int, location: str, epoch: datetime) -> str:
    """time.Format(time.RFC3339) of model time t in a location: `Z` for a zero offset."""
    dt = (epoch + timedelta(seconds=t)).astimezone(_tz(location))
    off = dt.utcoffset() or timedelta(0)
    if off == timedelta(0):
        return dt.strftime("%Y-%m-%dT%H:%M:%SZ")
    sign = "-" if off < timedelta(0) else "+"
    minutes = abs(int(off.total_seconds())) // 60
    return dt.strftime("%Y-%m-%dT%H:%M:%S") + f"{sign}{minutes // 60:02d}:{minutes % 60:02d}"


def unix_seconds(t: int, epoch: datetime) -> int:
    """time.Unix of model time t."""
    return math.floor(epoch.timestamp()) + t


# ---- schedule arithmetic (utils.go) ------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class MostRecent:
    """mostRecentScheduleTime's results: the earliest time considered, the most recent
    activation not after now (None if none), the missed-schedules classification, and
    whether the schedule is unusable (two activations less than a second apart, or none)."""

    earliest: int
    time: int | None
    missed: str = NONE_MISSED
    error: bool = False


def most_recent_schedule_time(cj: CronJob, now: int, sched: Schedule, epoch: datetime, include_sds: bool) -> MostRecent:
    """utils.go mostRecentScheduleTime.

    earliest = lastScheduleTime, else creationTimestamp, raised to now − SDS when asked;
    t1, t2 = the next two activations; now < t1 → none; now < t2 → t1; otherwise the
    number of missed times is approximated as (now − t1) / (t2 − t1) + 1 and the latest
    activation not after now is searched from t1 + (missed − 2)·(t2 − t1) — which misses
    it for irregular schedules (kubernetes#118724's approximation). Missed > 100 is
    "many" (the TooManyMissedTimes warning), else "few".
    """
    earliest = cj.status.last_schedule_time
    if earliest is None:
        earliest = cj.metadata.creation_timestamp or 0
    sds = cj.spec.starting_deadline_seconds
    if include_sds and sds is not None and now - sds > earliest:
        earliest = now - sds  # "controller is not going to schedule anything below this point"
    t1 = next_time(sched, earliest, epoch)
    if t1 is None:
        return MostRecent(earliest, None, error=True)  # the zero time: t2 − t1 = 0
    if now < t1:
        return MostRecent(earliest, None)
    t2 = next_time(sched, t1, epoch)
    if t2 is None or t2 - t1 < 1:
        return MostRecent(earliest, None, error=True)
    if now < t2:
        return MostRecent(earliest, t1)
    interval = t2 - t1
    missed = (now - t1) // interval + 1
    most_recent: int | None = None
    t = next_time(sched, t1 + (missed - 2) * interval, epoch)
    while t is not None and t <= now:
        most_recent = t
        t = next_time(sched, t, epoch)
    return MostRecent(earliest, most_recent, MANY_MISSED if missed > TOO_MANY_MISSED else FEW_MISSED)


def next_schedule_time(cj: CronJob, now: int, sched: Schedule, epoch: datetime) -> MostRecent:
    """utils.go nextScheduleTime: mostRecentScheduleTime with the startingDeadlineSeconds floor
    (TooManyMissedTimes is an event only: the most recent time is returned anyway)."""
    return most_recent_schedule_time(cj, now, sched, epoch, include_sds=True)


def requeue_base(cj: CronJob, now: int, sched: Schedule, config: ModelConfig) -> int | None:
    """nextScheduleTimeDuration without the padding: the activation the controller requeues
    for, i.e. Next(base) with base = the most recent time (no SDS floor), or on error now,
    or when none was found: lastScheduleTime/creation — from 1.29 (kubernetes#121327) now
    instead when times were missed. None for the zero time."""
    mr = most_recent_schedule_time(cj, now, sched, config.epoch, include_sds=False)
    if mr.error:
        base = now
    elif mr.time is None:
        base = mr.earliest if (mr.missed == NONE_MISSED or not config.at_least("1.29")) else now
    else:
        base = mr.time
    return next_time(sched, base, config.epoch)


def requeue_after(cj: CronJob, now: int, sched: Schedule, config: ModelConfig) -> float | None:
    """nextScheduleTimeDuration in seconds (+100 ms padding); negative in v1.28 when times were
    missed but none was found (an immediate requeue)."""
    base = requeue_base(cj, now, sched, config)
    return None if base is None else base + 0.1 - now


# ---- Jobs --------------------------------------------------------------------------------------


def finished_condition(job: Job) -> str | None:
    """getFinishedStatus: the type of the first Complete or Failed condition that is True."""
    for c in job.status.conditions:
        if c.type in ("Complete", "Failed") and c.status == "True":
            return c.type
    return None


def is_finished(job: Job) -> bool:
    """IsJobFinished: Complete or Failed is True."""
    return finished_condition(job) is not None


def is_succeeded(job: Job) -> bool:
    """IsJobSucceeded: Complete is True."""
    return any(c.type == "Complete" and c.status == "True" for c in job.status.conditions)


def jobs_to_be_reconciled(state: ClusterState, cj: CronJob) -> list[Job]:
    """getJobsToBeReconciled: Jobs of the namespace whose controllerRef names the CronJob
    (kind and uid are not compared), in name order."""
    out = []
    for job in state.list("Job", cj.metadata.namespace):
        ref = job.metadata.controller_ref()
        if ref is not None and ref.name == cj.metadata.name:
            out.append(job)
    return out


def controlled_by(obj: Any, owner: Any) -> bool:
    """metav1.IsControlledBy: the controllerRef's uid is the owner's."""
    ref = obj.metadata.controller_ref()
    return ref is not None and ref.uid == owner.metadata.uid


def job_name(cj: CronJob, scheduled: int, epoch: datetime) -> str:
    """getJobName: `<cronjob>-<scheduled time in Unix minutes>`."""
    return f"{cj.metadata.name}-{unix_seconds(scheduled, epoch) // 60}"


def job_from_template(cj: CronJob, scheduled: int, epoch: datetime) -> Job:
    """getJobFromTemplate2: the template's labels, annotations and spec, the deterministic
    name, the scheduled-timestamp annotation (RFC 3339 in spec.timeZone, UTC if unset) and
    a controllerRef to the CronJob."""
    tpl = cj.spec.job_template
    stamp = rfc3339(scheduled, cj.spec.time_zone or "", epoch)
    annotations: FrozenDict[str, str] = tpl.metadata.annotations.set(SCHEDULED_TIMESTAMP_ANNOTATION, stamp)
    meta = ObjectMeta(
        name=job_name(cj, scheduled, epoch),
        namespace=cj.metadata.namespace,
        labels=tpl.metadata.labels,
        annotations=annotations,
        owner_references=(controller_ref(cj),),
    )
    return Job(metadata=meta, spec=tpl.spec)


def job_reference(job: Job) -> ObjectReference:
    """getRef: the ObjectReference recorded in status.active."""
    meta = job.metadata
    return ObjectReference(
        kind="Job", namespace=meta.namespace, name=meta.name, uid=meta.uid, api_version=job.api_version, resource_version=str(meta.resource_version)
    )


def by_start_time(jobs: Iterable[Job]) -> list[Job]:
    """byJobStartTime: earliest status.startTime first, unset last, ties by name."""
    return sorted(jobs, key=lambda j: (j.status.start_time is None, j.status.start_time or 0, j.metadata.name))


def without_active(status: CronJobStatus, uid: str) -> CronJobStatus:
    """deleteFromActiveList."""
    return replace(status, active=tuple(r for r in status.active if r.uid != uid))


def _delete_job(job_ref: ObjRef) -> apiserver.Request:
    """injection.go realJobControl.DeleteJob: Background propagation, no preconditions."""
    return apiserver.Delete(job_ref, propagation="Background")


def history_victims(cj: CronJob, jobs: Sequence[Job]) -> list[Job]:
    """cleanupFinishedJobs / removeOldestJobs: the oldest finished Jobs beyond
    successfulJobsHistoryLimit (Complete) and failedJobsHistoryLimit (Failed)."""
    victims: list[Job] = []
    for kind, limit in (("Complete", cj.spec.successful_jobs_history_limit), ("Failed", cj.spec.failed_jobs_history_limit)):
        finished = [j for j in jobs if finished_condition(j) == kind]
        victims.extend(by_start_time(finished)[: max(len(finished) - limit, 0)])
    return victims


def cleanup_finished_jobs(cj: CronJob, status: CronJobStatus, jobs: Sequence[Job]) -> tuple[CronJobStatus, list[apiserver.Request]]:
    """cleanupFinishedJobs: delete the history victims (Background) and drop them from status.active."""
    requests: list[apiserver.Request] = []
    for job in history_victims(cj, jobs):
        requests.append(_delete_job(job.ref))
        status = without_active(status, job.metadata.uid)
    return status, requests


# ---- one sync ----------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class SyncResult:
    """What syncCronJob decided: the new status, the Replace deletions, the Job to create
    (with its scheduled time), and whether it ended in an error."""

    status: CronJobStatus
    deletes: tuple[apiserver.Request, ...] = ()
    create: Job | None = None
    scheduled: int | None = None
    error: bool = False


def _record_success(status: CronJobStatus, job: Job) -> CronJobStatus:
    """lastSuccessfulTime: taken from the Job's completionTime when unset (even if that is
    unset too), then moved forward to a later completionTime."""
    done = job.status.completion_time
    last = status.last_successful_time
    if last is None:
        last = done
    if done is not None and last is not None and done > last:
        last = done
    return replace(status, last_successful_time=last)


def reconcile_active(state: ClusterState, status: CronJobStatus, jobs: Sequence[Job], config: ModelConfig) -> CronJobStatus:
    """The first part of syncCronJob: finished active Jobs leave status.active, finished Jobs
    move lastSuccessfulTime, and references to Jobs that no longer exist are dropped."""
    one_pass = config.at_least("1.31")  # kubernetes#122025
    counts = is_succeeded if config.at_least("1.30") else is_finished  # kubernetes#123380
    children = set()
    for job in jobs:
        uid = job.metadata.uid
        children.add(uid)
        found = any(r.uid == uid for r in status.active)
        finished = is_finished(job)
        if not found and not finished:
            continue  # UnexpectedJob: reported only (the re-read CronJob is the same here)
        if found and finished:
            status = without_active(status, uid)  # SawCompletedJob
            if one_pass and counts(job):
                status = _record_success(status, job)
        elif finished and counts(job):
            status = _record_success(status, job)
    for ref in status.active:
        if ref.uid not in children and state.get("Job", ref.namespace, ref.name) is None:
            status = without_active(status, ref.uid)  # MissingJob
    return status


def sync_cronjob(state: ClusterState, cj: CronJob, status: CronJobStatus, jobs: Sequence[Job], config: ModelConfig) -> SyncResult:
    """syncCronJob: everything but the history cleanup and the status write."""
    now, epoch = state.clock, config.epoch
    status = reconcile_active(state, status, jobs, config)
    if cj.metadata.deletion_timestamp is not None:
        return SyncResult(status)
    if cj.spec.time_zone is not None and load_location(cj.spec.time_zone) is None:
        return SyncResult(status)  # UnknownTimeZone
    if cj.spec.suspend:
        return SyncResult(status)
    sched = cronjob_schedule(cj)
    if sched is None:
        return SyncResult(status)  # UnparseableSchedule
    mr = next_schedule_time(replace(cj, status=status), now, sched, epoch)
    if mr.error or mr.time is None:
        return SyncResult(status)  # InvalidSchedule, or no unmet time yet (requeue)
    scheduled = mr.time
    sds = cj.spec.starting_deadline_seconds
    if sds is not None and scheduled + sds < now:
        return SyncResult(status)  # MissSchedule
    name = job_name(cj, scheduled, epoch)
    ns = cj.metadata.namespace
    if any(r.name == name and r.namespace == ns for r in status.active) or status.last_schedule_time == scheduled:
        return SyncResult(status)  # already processed
    if cj.spec.concurrency_policy == "Forbid" and status.active:
        return SyncResult(status)  # JobAlreadyActive
    deletes: list[apiserver.Request] = []
    if cj.spec.concurrency_policy == "Replace":
        for ref in status.active:
            job = state.get("Job", ref.namespace, ref.name)
            if job is None:
                return SyncResult(status, tuple(deletes), error=True)  # FailedGet
            deletes.append(_delete_job(job.ref))
            status = without_active(status, job.metadata.uid)
    existing = state.get("Job", ns, name)
    if existing is None:
        return SyncResult(status, tuple(deletes), job_from_template(cj, scheduled, epoch), scheduled)
    # AlreadyExists.
    if not config.at_least("1.29"):
        return SyncResult(status, tuple(deletes), error=True)  # v1.28.0: an error, retried
    if not controlled_by(existing, cj) or any(r.uid == existing.metadata.uid for r in status.active):
        return SyncResult(status, tuple(deletes))  # kubernetes#120649
    status = replace(status, active=status.active + (job_reference(existing),), last_schedule_time=scheduled)
    return SyncResult(status, tuple(deletes))


@dataclass(frozen=True, slots=True)
class PendingCreate:
    """The rest of a sync that created a Job, waiting for the API server's answer: the
    CronJob as read (its resourceVersion guards the status write), the status computed so
    far, the Job and its scheduled time, and (v1.28) the history cleanup that follows a
    successful create, as (name, uid) pairs."""

    cronjob: CronJob
    status: CronJobStatus
    job_name: str
    scheduled: int
    cleanup: tuple[tuple[str, str], ...] = ()


def _key(namespace: str, name: str) -> str:
    return f"{namespace}/{name}"


def _status_update(cj: CronJob, status: CronJobStatus) -> apiserver.Request:
    """cronJobControl.UpdateStatus with the copy read at the start of the sync."""
    return apiserver.Update(replace(cj, status=status), status=True)


class CronJobController(KindReconciler):
    """Creates Jobs on a CronJob's schedule and keeps its status and history."""

    name = NAME
    kind = "CronJob"

    # ---- private memory: syncs waiting for their create -----------------------------------
    def pending(self, state: ClusterState) -> FrozenDict[str, PendingCreate]:
        """Syncs of this controller that issued a create and have not written the status yet."""
        mem: FrozenDict[str, PendingCreate] = state.recall(self.name, EMPTY)
        return mem

    def _remember(self, state: ClusterState, key: str, value: PendingCreate | None) -> apiserver.Request:
        mem = self.pending(state)
        new = mem.without(key) if value is None else mem.set(key, value)
        return apiserver.Remember(self.name, new if new else None)

    # ---- the actor interface -------------------------------------------------------------
    def candidates(self, state: ClusterState, config: ModelConfig) -> Iterable[Action]:
        """One Reconcile per CronJob, and per pending sync whose CronJob is gone."""
        yield from super().candidates(state, config)
        for key in sorted(self.pending(state)):
            ns, name = key.split("/", 1)
            if state.get(self.kind, ns, name) is None:
                yield Reconcile(self.name, ns, name)

    def requests(self, state: ClusterState, action: Action, config: ModelConfig) -> Sequence[apiserver.Request]:
        """A pending sync is continued; otherwise one sync of the CronJob."""
        if not isinstance(action, Reconcile):
            return ()
        pending = self.pending(state).get(_key(action.namespace, action.name))
        if pending is not None:
            return self.finish_create(state, pending, config)
        cj = state.get(self.kind, action.namespace, action.name)
        return () if cj is None else self.reconcile(state, cj, config)

    def reconcile(self, state: ClusterState, cj: CronJob, config: ModelConfig) -> Sequence[apiserver.Request]:  # type: ignore[override]
        """ControllerV2.sync up to the create (or to the status write if nothing is created)."""
        jobs = jobs_to_be_reconciled(state, cj)
        key = _key(cj.metadata.namespace, cj.metadata.name)
        if config.at_least("1.29"):
            # kubernetes#119776: cleanup first, whatever the sync does.
            status, requests = cleanup_finished_jobs(cj, cj.status, jobs)
            result = sync_cronjob(state, cj, status, jobs, config)
            requests.extend(result.deletes)
            if result.create is not None:
                assert result.scheduled is not None
                pending = PendingCreate(cj, result.status, result.create.metadata.name, result.scheduled)
                return [*requests, apiserver.Create(result.create), self._remember(state, key, pending)]
            if result.status != cj.status:
                requests.append(_status_update(cj, result.status))
            return requests
        # v1.28.0: sync first; on error only the status write; cleanup after a successful sync.
        result = sync_cronjob(state, cj, cj.status, jobs, config)
        requests = list(result.deletes)
        if result.error:
            return [*requests, _status_update(cj, result.status)] if result.status != cj.status else requests
        if result.create is not None:
            assert result.scheduled is not None
            victims = tuple((j.metadata.name, j.metadata.uid) for j in history_victims(cj, jobs))
            pending = PendingCreate(cj, result.status, result.create.metadata.name, result.scheduled, victims)
            return [*requests, apiserver.Create(result.create), self._remember(state, key, pending)]
        status, cleanup = cleanup_finished_jobs(cj, result.status, jobs)
        requests.extend(cleanup)
        if status != cj.status:
            requests.append(_status_update(cj, status))
        return requests

    def finish_create(self, state: ClusterState, pending: PendingCreate, config: ModelConfig) -> Sequence[apiserver.Request]:
        """The rest of the sync once CreateJob has returned: record the Job in status.active
        and lastScheduleTime (then, in v1.28, the history cleanup) and write the status."""
        cj = pending.cronjob
        ns = cj.metadata.namespace
        if any(
            f.actor == self.name and isinstance(f.request, apiserver.Create) and f.request.obj.ref == ObjRef("Job", ns, pending.job_name)
            for f in state.inflight
        ):
            return ()  # the create has not been answered yet
        forget = self._remember(state, _key(ns, cj.metadata.name), None)
        job = state.get("Job", ns, pending.job_name)
        if job is not None and not controlled_by(job, cj):
            # AlreadyExists for another owner's Job: no record; the status changes so far are written.
            return [_status_update(cj, pending.status), forget] if pending.status != cj.status else [forget]
        status = pending.status
        if job is not None:
            status = replace(status, active=status.active + (job_reference(job),))
        status = replace(status, last_schedule_time=pending.scheduled)
        requests: list[apiserver.Request] = []
        for name, uid in pending.cleanup:
            requests.append(_delete_job(ObjRef("Job", ns, name)))
            status = without_active(status, uid)
        return [*requests, _status_update(cj, status), forget]

    def deadlines(self, state: ClusterState, config: ModelConfig) -> Iterable[int]:
        """When each CronJob's requeue is due (see next_sync_time)."""
        pending = self.pending(state)
        for cj in state.list(self.kind):
            if _key(cj.metadata.namespace, cj.metadata.name) in pending:
                continue
            t = next_sync_time(cj, state.clock, config)
            if t is not None:
                yield t


def next_sync_time(cj: CronJob, now: int, config: ModelConfig) -> int | None:
    """The model time of the CronJob's next requeue: the schedule time nextScheduleTimeDuration
    aims for; None where the sync returns without a requeue (being deleted, unknown time
    zone, suspended, unparseable or unusable schedule). A requeue not after now (v1.28's
    continuous re-syncs) is reported as the next activation after now."""
    if cj.metadata.deletion_timestamp is not None or cj.spec.suspend:
        return None
    if cj.spec.time_zone is not None and load_location(cj.spec.time_zone) is None:
        return None
    sched = cronjob_schedule(cj)
    if sched is None:
        return None
    if next_schedule_time(cj, now, sched, config.epoch).error:
        return None
    t = requeue_base(cj, now, sched, config)
    if t is not None and t <= now:
        t = next_time(sched, now, config.epoch)
    return t
