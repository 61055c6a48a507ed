"""Checking an observed trace against the model's invariants.

The engine consumes the merged sequence of observed writes (or ITF states) one at a
time and holds only the current cluster (`View`), the previous raw version of each live
object (for incremental decoding and actor attribution) and a bounded history of recent
changes — never the events or the states of the trace. For each step it:

1. decodes the new version of the object (`ObjectDecoder`);
2. decides whether it is a transition at all: an object first seen without being
   created (a watch's initial listing, or a watch that started late) is added to the
   view and checked by the ALWAYS invariants, but no TRANSITION invariant judges its
   "creation";
3. selects the invariants the step can matter to (`kmodel.validate.policy`): an
   invariant that judges a given actor is judged only on steps whose author the
   evidence names (`kmodel.validate.attribution`); one whose author is unknown is
   counted as not judged;
4. evaluates each on the part of the cluster it reads, as a small ClusterState
   before the step and the same with the step applied;
5. re-judges a violation of a decision-judging invariant against the states of the
   last few seconds (`lag_seconds`) before the step: a controller that read a lagging
   cache decided on such a state, which is the model's asynchronous delivery (a
   request issued in one state and applied in a later one). Only a step that no recent
   state justifies is reported.

At the end of the trace the QUIESCENT invariants are checked on the whole cluster if
the trace ends settled (see `settled`).
"""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Any

from invariants.registry import Invariant, Kind, Violation
from kmodel.actions import Reconcile, Schedule
from kmodel.errors import ManifestError
from kmodel.objects.kinds import KINDS
from kmodel.objects.serde import encode_object
from kmodel.state import ClusterState, Environment
from kmodel.validate.attribution import Attributor
from kmodel.validate.decode import ObjectDecoder, strip_managed_fields
from kmodel.validate.observed import UNKNOWN, Observed, Origin, is_known
from kmodel.validate.policy import TracePolicy, policy_for, relevant
from kmodel.validate.source import ADDED, BIND, DELETED, EVICT, SCALE, SYNC, InputProblem, Marker, RawEvent
from kmodel.validate.view import Change, Key, Scope, View, build_state

MAX_FINDINGS_PER_INVARIANT = 100
# passed to checks that do not read the action (their policy says reads_action=False)
_NOT_ATTRIBUTED = Observed(category=UNKNOWN, evidence="not attributed: no check on this step reads its author")
MAX_INPUT_FINDINGS = 1000
_SYNCED_KIND = {
    "deployment": "Deployment",
    "replicaset": "ReplicaSet",
    "replicationcontroller": "ReplicationController",
    "statefulset": "StatefulSet",
    "daemonset": "DaemonSet",
    "job": "Job",
    "cronjob": "CronJob",
    "ttlafterfinished": "Job",
    "kubelet": "Pod",
    "taint-eviction": "Pod",
    "podgc": "Pod",
}
_WORKLOADS = ("Deployment", "ReplicaSet", "ReplicationController", "StatefulSet", "DaemonSet")


@dataclass
class Finding:
    """A violation (kind "violation") or unusable input (kind "input"), with where it was
    read and, for violations, the objects before and after the step."""

    kind: str
    message: str
    file: str
    line: int
    invariant: str = ""
    rv: int | None = None
    event: str = ""
    step: str = ""
    objects: tuple[str, ...] = ()
    changes: list[str] = field(default_factory=list)
    before: dict[str, Any] = field(default_factory=dict)
    after: dict[str, Any] = field(default_factory=dict)
    involved: list[str] = field(default_factory=list)
    clock: int = 0  # model seconds of the step

    @property
    def where(self) -> str:
        """file:line."""
        return f"{self.file}:{self.line}" if self.line else self.file

    def headline(self) -> str:
        """One line: where, which invariant, what."""
        inv = f"[{self.invariant}] " if self.invariant else "[input] "
        return f"{self.where}: {inv}{self.message}"

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready."""
        return {
            "kind": self.kind,
            "file": self.file,
            "line": self.line,
            "invariant": self.invariant,
            "message": self.message,
            "rv": self.rv,
            "event": self.event,
            "step": self.step,
            "objects": list(self.objects),
            "changes": self.changes,
            "before": self.before,
            "after": self.after,
            "involved": self.involved,
            "clock": self.clock,
        }


@dataclass
class InvariantStats:
    """How often one invariant was evaluated, violated, or could not be judged."""

    checked: int = 0
    violated: int = 0
    lag_explained: int = 0
    not_judged: Counter[str] = field(default_factory=Counter)


@dataclass
class Result:
    """Everything a validation found."""

    findings: list[Finding]
    stats: dict[str, InvariantStats]
    invariants: list[Invariant]
    policies: dict[str, TracePolicy]
    counts: Counter[str]
    actors: Counter[str]
    settled: bool
    settled_reason: str
    final_clock: int
    epoch: datetime | None
    seconds: float
    objects_at_end: int
    peak_objects: int
    notes: list[str] = field(default_factory=list)

    @property
    def violations(self) -> list[Finding]:
        """The violation findings."""
        return [f for f in self.findings if f.kind == "violation"]

    @property
    def input_errors(self) -> list[Finding]:
        """The input findings."""
        return [f for f in self.findings if f.kind == "input"]

    @property
    def exit_status(self) -> int:
        """2 if any input was unusable, else 1 if any invariant was violated, else 0."""
        if self.counts["input errors"]:
            return 2
        if self.counts["violations"]:
            return 1
        return 0


def actor_name(action: Any) -> str:
    """The model actor behind an action ('' if unknown or a user)."""
    if isinstance(action, Reconcile):
        return action.controller
    if isinstance(action, Schedule):
        return "scheduler"
    return str(getattr(action, "actor", "") or getattr(action, "issuer", "") or "")


def _label(action: Any) -> str:
    if not is_known(action):
        return "unknown"
    name = actor_name(action)
    return name or str(getattr(action, "category", "") or type(action).__name__)


def settled(view: View) -> tuple[bool, str]:
    """Whether the cluster at the end of a trace is settled, conservatively:

    * no object is being deleted (deletionTimestamp set);
    * every pod is Succeeded or Failed, or Running with Ready=True;
    * every workload's controller has observed its latest spec
      (status.observedGeneration ≥ metadata.generation) and reports that it has
      caught up: ReplicaSets, ReplicationControllers and StatefulSets have
      status.replicas = readyReplicas = spec.replicas; Deployments status.replicas =
      updatedReplicas = availableReplicas = spec.replicas; DaemonSets
      desiredNumberScheduled = currentNumberScheduled = updatedNumberScheduled =
      numberAvailable and numberMisscheduled = 0.

    Returns (settled, the first reason it is not)."""
    for o in view.all_objects():
        ref = f"{o.kind} {o.metadata.namespace + '/' if o.metadata.namespace else ''}{o.metadata.name}"
        if o.metadata.deletion_timestamp is not None:
            return False, f"{ref} is being deleted"
        if o.kind == "Pod":
            if o.status.phase in ("Succeeded", "Failed"):
                continue
            if o.status.phase != "Running" or not o.ready:
                return False, f"{ref} is {o.status.phase}{'' if o.status.phase != 'Running' else ' and not Ready'}"
        elif o.kind in _WORKLOADS:
            st = o.status
            if st.observed_generation < o.metadata.generation:
                return False, f"{ref}: status.observedGeneration {st.observed_generation} < generation {o.metadata.generation}"
            why = _workload_behind(o)
            if why:
                return False, f"{ref}: {why}"
    return True, ""


def _workload_behind(o: Any) -> str:
    st = o.status
    if o.kind in ("ReplicaSet", "ReplicationController", "StatefulSet"):
        if not st.replicas == st.ready_replicas == o.spec.replicas:
            return f"status.replicas {st.replicas}, readyReplicas {st.ready_replicas}, spec.replicas {o.spec.replicas}"
    elif o.kind == "Deployment":
        if not st.replicas == st.updated_replicas == st.available_replicas == o.spec.replicas:
            return f"status replicas/updated/available {st.replicas}/{st.updated_replicas}/{st.available_replicas}, spec.replicas {o.spec.replicas}"
    elif o.kind == "DaemonSet":
        if not st.desired_number_scheduled == st.current_number_scheduled == st.updated_number_scheduled == st.number_available or st.number_misscheduled:
            return "status counts differ (desired/current/updated/available/misscheduled)"
    return ""


def _flatten(doc: Any, prefix: str = "") -> dict[str, Any]:
    out: dict[str, Any] = {}
    if isinstance(doc, dict):
        for k, v in doc.items():
            out.update(_flatten(v, f"{prefix}.{k}" if prefix else str(k)))
    elif isinstance(doc, list) and doc:
        keyed = all(isinstance(x, dict) and ("type" in x or "name" in x) for x in doc)
        for i, x in enumerate(doc):
            tag = f"[{'type' if 'type' in x else 'name'}={x.get('type', x.get('name'))}]" if keyed else f"[{i}]"
            out.update(_flatten(x, f"{prefix}{tag}"))
    else:
        out[prefix] = doc
    return out


def json_diff(before: dict[str, Any] | None, after: dict[str, Any] | None, limit: int = 30) -> list[str]:
    """'path: old → new' lines between two JSON documents (resourceVersion left out)."""
    a, b = _flatten(before or {}), _flatten(after or {})
    out = []
    for path in sorted(set(a) | set(b)):
        if path == "metadata.resourceVersion" or a.get(path, "∅") == b.get(path, "∅"):
            continue
        out.append(f"{path}: {a.get(path, '∅')} → {b.get(path, '∅')}")
    if len(out) > limit:
        out = out[:limit] + [f"… {len(out) - limit} more"]
    return out


def summary(obj: Any) -> str:
    """One line about an object for a finding."""
    ref = str(obj.ref)
    bits = []
    if obj.kind == "Pod":
        bits += [f"phase={obj.status.phase}", f"ready={obj.ready}", f"node={obj.spec.node_name or '-'}"]
    elif hasattr(obj, "spec") and hasattr(obj.spec, "replicas"):
        bits.append(f"spec.replicas={obj.spec.replicas}")
        st = getattr(obj, "status", None)
        for f in ("replicas", "ready_replicas", "available_replicas"):
            if st is not None and hasattr(st, f):
                bits.append(f"status.{f}={getattr(st, f)}")
    if obj.metadata.deletion_timestamp is not None:
        bits.append("deleting")
    if obj.metadata.finalizers:
        bits.append(f"finalizers={list(obj.metadata.finalizers)}")
    owners = [f"{r.kind}/{r.name}" for r in obj.metadata.owner_references]
    if owners:
        bits.append(f"owners={owners}")
    return f"{ref}: {' '.join(bits)}"


class Engine:
    """Validates one trace; feed it items, then call `finish`."""

    def __init__(
        self,
        invariants: Iterable[Invariant],
        *,
        epoch: datetime | None = None,
        lag_seconds: int = 5,
        lag_steps: int = 200,
        history: int = 4096,
    ) -> None:
        self.invariants = list(invariants)
        self.policies = {i.name: policy_for(i) for i in self.invariants}
        self.always = [i for i in self.invariants if i.kind is Kind.ALWAYS]
        self.transition = [i for i in self.invariants if i.kind is Kind.TRANSITION]
        self.quiescent = [i for i in self.invariants if i.kind is Kind.QUIESCENT]
        self.stats = {i.name: InvariantStats() for i in self.invariants}
        self.view = View(history=history)
        self.epoch = epoch
        self.decoder: ObjectDecoder | None = ObjectDecoder(epoch) if epoch is not None else None
        self.attributor: Attributor | None = Attributor(self.view, epoch) if epoch is not None else None
        self.managed: dict[Key, Any] = {}
        self.pending_evictor: dict[Key, str] = {}
        self.lag_seconds = lag_seconds
        self.lag_steps = lag_steps
        self.findings: list[Finding] = []
        self.counts: Counter[str] = Counter()
        self.actors: Counter[str] = Counter()
        self._seen_always: set[tuple[str, str]] = set()
        self._stored: Counter[str] = Counter()
        self._started = time.perf_counter()
        self.peak_objects = 0
        self.notes: list[str] = []
        self._by_kinds: dict[tuple[frozenset[str], bool], list[Invariant]] = {}

    # ---- input ---------------------------------------------------------------------
    def feed(self, item: RawEvent | InputProblem | Marker) -> None:
        """Take one item of the merged sequence."""
        if isinstance(item, InputProblem):
            self.input_problem(item.file, item.line, item.message)
        elif isinstance(item, Marker):
            self.counts[item.type.lower() + "s"] += 1
        else:
            self.event(item)

    def input_problem(self, file: str, line: int, message: str) -> None:
        """Record unusable input (kept up to a cap; always counted)."""
        self.counts["input errors"] += 1
        if self._stored["input"] < MAX_INPUT_FINDINGS:
            self._stored["input"] += 1
            self.findings.append(Finding("input", message, file, line))

    def _ensure_epoch(self, raw: dict[str, Any] | None) -> None:
        if self.epoch is not None:
            return
        from kmodel.timefmt import DEFAULT_EPOCH, parse_rfc3339

        epoch = DEFAULT_EPOCH
        meta = raw.get("metadata") if isinstance(raw, dict) else None
        stamp = meta.get("creationTimestamp") if isinstance(meta, dict) else None
        if isinstance(stamp, str):
            try:
                epoch = parse_rfc3339(stamp).replace(second=0, microsecond=0)
            except ValueError:
                pass
        self.set_epoch(epoch)

    def set_epoch(self, epoch: datetime) -> None:
        """Fix model time 0 (before the first object is decoded)."""
        self.epoch = epoch
        self.decoder = ObjectDecoder(epoch)
        self.attributor = Attributor(self.view, epoch)

    # ---- observed writes (watch, audit) --------------------------------------------
    def event(self, ev: RawEvent) -> None:
        """Apply and check one observed write."""
        self.counts["events"] += 1
        self._ensure_epoch(ev.obj if ev.obj is not None else self.view.raw.get((ev.kind, ev.namespace, ev.name)))
        assert self.decoder is not None and self.attributor is not None and self.epoch is not None
        info = KINDS.get(ev.kind)
        if info is None:
            known = ", ".join(sorted(KINDS))
            self.input_problem(
                ev.file, ev.line, f"unknown kind {ev.kind!r} ({ev.namespace + '/' if ev.namespace else ''}{ev.name}); kinds the model knows: {known}"
            )
            return
        ns = ev.namespace if info.namespaced else ""
        if info.namespaced and not ns:
            ns = "default"
        key: Key = (info.kind, ns, ev.name)
        old = self.view.get(key)
        if ev.type == EVICT:
            self.pending_evictor[key] = ev.username
            self.counts["evictions"] += 1
            return
        raw = ev.obj
        if ev.type in (BIND, SCALE):
            raw = self._synthesise(ev, key)
            if raw is None:
                return
        cur_rv = self.view.rvs.get(key)
        if ev.type != DELETED and ev.rv is not None and cur_rv is not None and ev.rv <= cur_rv and old is not None:
            self.counts["stale or repeated events skipped"] += 1
            return
        origin = Origin(ev.file, ev.line, ev.rv, ev.type)
        old_raw = self.view.raw.get(key)
        old_mf = self.managed.get(key)
        if ev.type == DELETED:
            if old is None:
                self.counts["deletions of objects never seen"] += 1
                return
            change = Change(key, old, None, old_raw, None)
            new_mf = old_mf
        else:
            assert raw is not None
            stripped, new_mf = strip_managed_fields(raw)
            if old is not None and old_raw is not None and _same_but_rv(stripped, old_raw):
                # a write that changed nothing but the resourceVersion (and managedFields)
                self.counts["events that change nothing the model sees"] += 1
                self.view.raw[key] = stripped
                self.view.rvs[key] = ev.rv or self.view.rvs.get(key, 0)
                self.managed[key] = new_mf
                return
            try:
                new = self.decoder.decode(stripped, ev.where)
            except ManifestError as e:
                self.input_problem(ev.file, ev.line, str(e).removeprefix(f"{ev.where}: "))
                return
            change = Change(key, old, new, old_raw, stripped)
        first_sight = old is None and not self._is_creation(ev, change, new_mf)
        evictor = self.pending_evictor.pop(key, "") if change.started_deletion else ""
        if evictor and not ev.username:
            ev.username = evictor
        attributor = self.attributor
        t = attributor.step_time(ev, change, old_mf, new_mf)
        clock = max(self.view.clock, t) if t is not None else self.view.clock
        cache: list[Any] = []

        def action() -> Any:
            if not cache:
                cache.append(attributor.attribute(ev, change, old_mf, new_mf, origin))
            return cache[0]

        if ev.username:
            action()  # cheap with a username: always attribute (the report's action mix)
        if first_sight:
            self.counts["objects first seen without their creation"] += 1
        self.check_step([change], action, origin, clock, transitions=not first_sight)
        if cache:
            self.actors[_label(cache[0])] += 1
        else:
            self.actors["not attributed (no invariant needed it)"] += 1
        self._apply(change, clock, new_mf)

    def _is_creation(self, ev: RawEvent, change: Change, mf: Any) -> bool:
        """An ADDED object that is as it was created (one managedFields entry, stamped at
        its creation), or an audit create; anything else is a first sight of an object
        that existed before the trace began."""
        if ev.verb:
            return ev.verb == "create"
        if ev.type not in (ADDED, SYNC) or change.new is None or change.new.metadata.deletion_timestamp is not None:
            return False
        if not isinstance(mf, list):
            return ev.type == ADDED
        if len(mf) > 1:
            return False
        if not mf:
            return True
        stamp = change.new_raw.get("metadata", {}).get("creationTimestamp") if change.new_raw else None
        return not isinstance(mf[0], dict) or mf[0].get("time") in (None, stamp)

    def _synthesise(self, ev: RawEvent, key: Key) -> dict[str, Any] | None:
        """The object after a binding or a scale write (the audit log gives no object)."""
        cur = self.view.raw.get(key)
        if cur is None:
            self.counts[f"{ev.type.lower()} of objects never seen"] += 1
            return None
        raw = dict(cur)
        meta = dict(raw.get("metadata", {}))
        if ev.rv is not None:
            meta["resourceVersion"] = str(ev.rv)
        raw["metadata"] = meta
        if ev.type == BIND:
            spec = dict(raw.get("spec", {}))
            spec["nodeName"] = ev.detail.get("node", "")
            raw["spec"] = spec
            status = dict(raw.get("status", {}))
            stamp = _rfc3339(ev.time) if ev.time is not None else None
            cond = {"type": "PodScheduled", "status": "True", **({"lastTransitionTime": stamp} if stamp else {})}
            status["conditions"] = [c for c in status.get("conditions", []) if c.get("type") != "PodScheduled"] + [cond]
            raw["status"] = status
        else:
            spec = dict(raw.get("spec", {}))
            spec["replicas"] = ev.detail.get("replicas", spec.get("replicas"))
            raw["spec"] = spec
        if self.managed.get(key) is not None:
            meta["managedFields"] = self.managed[key]
        return raw

    def _apply(self, change: Change, clock: int, mf: Any) -> None:
        assert self.decoder is not None
        self.view.apply(change, clock)
        self.view.clock = clock
        if change.new is None:
            self.managed.pop(change.key, None)
            self.decoder.forget(change.key)
        else:
            self.managed[change.key] = mf
        n = self.view.count()
        if n > self.peak_objects:
            self.peak_objects = n

    # ---- ITF states --------------------------------------------------------------------
    def state(self, index: int, clock: int, objects: dict[Key, dict[str, Any]], action: Any, origin: Origin, down_nodes: dict[str, int] | None = None) -> None:
        """Check one state of an ITF trace against the previous one (the first is the
        initial state: checked, but not a transition)."""
        assert self.decoder is not None
        self.counts["states"] += 1
        changes: list[Change] = []
        for key, raw in objects.items():
            if self.view.raw.get(key) == raw and self.view.get(key) is not None:
                continue
            if key[0] not in KINDS:
                self.input_problem(origin.file, origin.line, f"state {index}: unknown kind {key[0]!r}")
                continue
            try:
                new = self.decoder.decode(raw, f"{origin.file}:{origin.line} (state {index})")
            except ManifestError as e:
                self.input_problem(origin.file, origin.line, f"state {index}: {e}")
                continue
            changes.append(Change(key, self.view.get(key), new, self.view.raw.get(key), raw))
        for m in list(self.view.objects.values()):
            for obj in list(m.values()):
                k = (obj.kind, obj.metadata.namespace, obj.metadata.name)
                if k not in objects:
                    changes.append(Change(k, obj, None, self.view.raw.get(k), None))
        env = Environment(down_nodes=_frozen(down_nodes)) if down_nodes else Environment()
        env_changed = env != self.view.env
        if not changes and clock == self.view.clock and not env_changed:
            return
        prev_env = self.view.env
        if changes:
            self.actors[_label(action)] += 1
            self.check_step(changes, lambda: action, origin, clock, transitions=index > 0, env=(prev_env, env))
        for c in changes:
            self._apply(c, clock, None)
        self.view.env = env
        self.view.clock = clock

    # ---- checking ------------------------------------------------------------------
    def check_step(
        self,
        changes: list[Change],
        action: Callable[[], Any],
        origin: Origin,
        clock: int,
        *,
        transitions: bool = True,
        env: tuple[Environment, Environment] | None = None,
    ) -> None:
        """Evaluate every invariant the step can matter to, on its scope."""
        self.counts["steps"] += 1
        kinds = frozenset(c.key[0] for c in changes)
        groups: dict[Scope, list[Invariant]] = {}
        for inv in self._candidates(kinds, transitions):
            p = self.policies[inv.name]
            if p.gate is not None and not p.gate(changes):
                continue
            st = self.stats[inv.name]
            if inv.kind is Kind.TRANSITION and p.actors is not None:
                act = action()
                if not is_known(act):
                    st.not_judged["author of the step unknown"] += 1
                    continue
                if actor_name(act) not in p.actors:
                    continue
            if p.needs is not None:
                reason = p.needs(self.view, changes)
                if reason:
                    st.not_judged[reason] += 1
                    continue
            groups.setdefault(p.scope, []).append(inv)
        for sc, invs in groups.items():
            keys = self.view.scope_keys(sc, changes)
            before = self.view.objects_of_keys(keys)
            prev = build_state(before, clock, env[0] if env is not None else self.view.env)
            nxt = build_state(_after(before, changes), clock, env[1] if env is not None else self.view.env)
            for inv in invs:
                st = self.stats[inv.name]
                st.checked += 1
                if inv.kind is Kind.ALWAYS:
                    found = [v for v in inv.violations(nxt) if (inv.name, v.message) not in self._seen_always]
                    for v in found:
                        self._seen_always.add((inv.name, v.message))
                else:
                    act = action() if self.policies[inv.name].reads_action else _NOT_ATTRIBUTED
                    found = inv.violations(prev, act, nxt)
                    if found and self.policies[inv.name].lag and self._explained_by_lag(inv, sc, keys, changes, act, clock):
                        st.lag_explained += 1
                        found = []
                for v in found:
                    self._violation(inv, v, changes, action, origin, prev, nxt)

    def _candidates(self, kinds: frozenset[str], transitions: bool) -> list[Invariant]:
        """The invariants (not skipped) that changes of `kinds` can matter to, cached."""
        key = (kinds, transitions)
        hit = self._by_kinds.get(key)
        if hit is None:
            hit = [
                inv
                for inv in self.always + (self.transition if transitions else [])
                if not self.policies[inv.name].skip and relevant(replace(self.policies[inv.name], gate=None), [], set(kinds))
            ]
            self._by_kinds[key] = hit
        return hit

    def _explained_by_lag(self, inv: Invariant, sc: Scope, keys: set[Key] | None, changes: list[Change], act: Any, clock: int) -> bool:
        """Whether the step's decision is valid at the end of the second its timestamp
        names, or in some state of the last `lag_seconds` before it (the region the
        invariant reads, rolled back change by change)."""
        if self.lag_seconds <= 0:
            return False
        region: dict[Key, Any] = {}
        if keys is None:
            for o in self.view.all_objects():
                region[(o.kind, o.metadata.namespace, o.metadata.name)] = o
        else:
            for k in keys:
                o = self.view.get(k)
                if o is not None:
                    region[k] = o
        # timestamps are whole seconds: the write happened within the second its time
        # names, and a decision's "now" (time.Now() upstream) may be up to a second later
        now = clock + 1
        if not inv.violations(build_state(region.values(), now, self.view.env), act, build_state(_after(list(region.values()), changes), now, self.view.env)):
            return True
        clock = now
        uids = {o.metadata.uid for o in region.values()}
        namespaces = {c.key[1] for c in changes}
        protected = self._decision_subjects(changes, act)
        tried = 0
        for _seq, t, key, before, after in reversed(self.view.history):
            if t < clock - self.lag_seconds or tried >= self.lag_steps:
                break
            if before is None and key in protected:
                break  # no earlier state has the object the decision is about
            touched = key in region or keys is None or key[0] in sc.kinds or (key[0] in sc.namespace_kinds and key[1] in namespaces)
            if not touched:
                for o in (before, after):
                    if o is not None and any(r.uid in uids for r in o.metadata.owner_references):
                        touched = True
            if not touched:
                continue
            if before is None:
                region.pop(key, None)
            else:
                region[key] = before
                uids.add(before.metadata.uid)
            tried += 1
            prev = build_state(region.values(), clock, self.view.env)
            nxt = build_state(_after(list(region.values()), changes), clock, self.view.env)
            if not inv.violations(prev, act, nxt):
                return True
        return False

    def _decision_subjects(self, changes: list[Change], act: Any) -> set[Key]:
        """The objects a decision is about: the synced object of a controller, and the
        owners of the changed objects. A state before they existed cannot justify it."""
        out: set[Key] = set()
        for c in changes:
            for o in (c.old, c.new):
                if o is not None:
                    self.view._owner_keys(o, out)
        if isinstance(act, Reconcile):
            kind = _SYNCED_KIND.get(act.controller, act.kind)
            if kind:
                out.add((kind, act.namespace, act.name))
        return out

    def _violation(
        self, inv: Invariant, v: Violation, changes: list[Change], action: Callable[[], Any], origin: Origin, prev: ClusterState, nxt: ClusterState
    ) -> None:
        st = self.stats[inv.name]
        st.violated += 1
        self.counts["violations"] += 1
        if self._stored[inv.name] >= MAX_FINDINGS_PER_INVARIANT:
            return
        self._stored[inv.name] += 1
        epoch = self.epoch
        assert epoch is not None
        before = {str(c.old.ref): encode_object(c.old, epoch) for c in changes if c.old is not None}
        after = {str(c.new.ref): encode_object(c.new, epoch) for c in changes if c.new is not None}
        diff: list[str] = []
        for c in changes:
            ref = str((c.new or c.old).ref)
            if c.old is None:
                diff.append(f"+ {ref} (created)")
            elif c.new is None:
                diff.append(f"- {ref} (removed)")
            else:
                diff += [f"~ {ref} {line}" for line in json_diff(before.get(ref), after.get(ref))]
        involved = []
        for name in v.objects:
            obj = _find(nxt, name) or _find(prev, name)
            if obj is not None:
                involved.append(summary(obj))
        self.findings.append(
            Finding(
                "violation",
                v.message,
                origin.file,
                origin.line,
                invariant=inv.name,
                rv=origin.rv,
                event=origin.event,
                step=action().describe() if hasattr(action(), "describe") else repr(action()),
                objects=v.objects,
                changes=diff,
                before=before,
                after=after,
                involved=involved,
                clock=nxt.clock,
            )
        )

    # ---- the end ---------------------------------------------------------------------
    def finish(self) -> Result:
        """Check the QUIESCENT invariants if the trace ends settled; the result."""
        ok, why = settled(self.view)
        if self.counts["input errors"] and ok:
            ok, why = False, "the input had errors, so the end of the trace may not be the end of the run"
        if ok and self.quiescent and self.epoch is not None:
            state = self.view.state_of_keys(None, self.view.clock)
            for inv in self.quiescent:
                p = self.policies[inv.name]
                st = self.stats[inv.name]
                if p.skip:
                    continue
                reason = p.final_needs(self.view) if p.final_needs is not None else None
                if reason:
                    st.not_judged[reason] += 1
                    continue
                st.checked += 1
                for v in inv.violations(state):
                    self._violation(inv, v, [], lambda: Observed(category=UNKNOWN, evidence="end of the trace"), Origin("(end of trace)", 0), state, state)
        elif self.quiescent:
            for inv in self.quiescent:
                self.stats[inv.name].not_judged[f"trace does not end settled: {why}"] += 1
        return Result(
            findings=self.findings,
            stats=self.stats,
            invariants=self.invariants,
            policies=self.policies,
            counts=self.counts,
            actors=self.actors,
            settled=ok,
            settled_reason=why,
            final_clock=self.view.clock,
            epoch=self.epoch,
            seconds=time.perf_counter() - self._started,
            objects_at_end=self.view.count(),
            peak_objects=self.peak_objects,
            notes=self.notes,
        )


def _same_but_rv(a: dict[str, Any], b: dict[str, Any]) -> bool:
    """Two raw versions of an object are equal apart from metadata.resourceVersion."""
    if a.keys() != b.keys():
        return False
    for k, v in a.items():
        if k != "metadata" and v != b[k]:
            return False
    ma, mb = a.get("metadata"), b.get("metadata")
    return isinstance(ma, dict) and isinstance(mb, dict) and {**ma, "resourceVersion": None} == {**mb, "resourceVersion": None}


def _frozen(d: dict[str, int]) -> Any:
    from kmodel.frozen import FrozenDict

    return FrozenDict(d)


def _after(before: list[Any], changes: list[Change]) -> list[Any]:
    """The objects of a region after the step: the changed ones replaced, removed or added."""
    keys = {c.key for c in changes}
    out = [o for o in before if (o.kind, o.metadata.namespace, o.metadata.name) not in keys]
    out.extend(c.new for c in changes if c.new is not None)
    return out


def _find(state: ClusterState, name: str) -> Any:
    """The object a violation names ('Kind ns/name' or 'Kind name') in `state`."""
    kind, _, rest = name.partition(" ")
    ns, _, n = rest.rpartition("/")
    return state.get(kind, ns, n)


def _rfc3339(t: float) -> str:
    from datetime import UTC

    return datetime.fromtimestamp(t, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
