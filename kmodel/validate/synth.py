"""Watch streams of model runs: what `kubectl get --watch --output-watch-events -o json`
would have printed had the model's run happened in a real cluster.

Every object a step changes becomes one event (ADDED, MODIFIED or DELETED) with a fresh
resourceVersion, increasing across kinds like an etcd revision, and managedFields kept
as the API server keeps them: the writer's entry (kube-controller-manager for the
controllers, kubelet, kube-scheduler, kubectl for users) is created or stamped with the
step's time and takes ownership of the fields it changed; deletions, bindings and the
garbage collector's metadata patches leave managedFields alone, as they do upstream.
Used to build test traces (then doctored to contain a fault) and the validation
benchmark's million-event trace.
"""

from __future__ import annotations

import copy
from collections.abc import Iterator
from datetime import datetime
from typing import Any

from kmodel.actions import Deliver, Reconcile, Schedule
from kmodel.objects.serde import encode_object
from kmodel.state import ClusterState
from kmodel.timefmt import to_rfc3339
from kmodel.validate.attribution import changed_paths

Event = tuple[str, dict[str, Any]]  # (kind, {"type": ..., "object": ...})
_NO_MANAGED_FIELDS = frozenset({"garbagecollector", "taint-eviction", "podgc"})


def manager_of(action: Any) -> str | None:
    """The field manager a real cluster records for the author of `action` (None: the
    write leaves managedFields alone)."""
    if isinstance(action, Schedule):
        return None
    actor = action.issuer if isinstance(action, Deliver) else action.controller if isinstance(action, Reconcile) else ""
    if actor == "kubelet":
        return "kubelet"
    if actor == "scheduler":
        return "kube-scheduler"
    if actor in _NO_MANAGED_FIELDS:
        return None
    if actor:
        return "kube-controller-manager"
    category = getattr(action, "category", "")
    return "kubectl-client-side-apply" if category == "user" else None


def _fields(paths: list[tuple[str, ...]]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for path in paths:
        cur = out
        for p in path:
            cur = cur.setdefault(f"f:{p}", {})
    return out


def _remove(fields: dict[str, Any], path: tuple[str, ...]) -> None:
    cur = fields
    for p in path[:-1]:
        cur = cur.get(f"f:{p}", {})
    cur.pop(f"f:{path[-1]}", None)


def _merge(a: dict[str, Any], b: dict[str, Any]) -> dict[str, Any]:
    out = dict(a)
    for k, v in b.items():
        out[k] = _merge(out.get(k, {}), v) if isinstance(v, dict) and v else out.get(k, v)
    return out


class WatchTrace:
    """Turns model steps into watch events, keeping resourceVersions and managedFields."""

    def __init__(self, epoch: datetime, rv_start: int = 1000) -> None:
        self.epoch = epoch
        self.rv = rv_start
        self.raw: dict[tuple[str, str, str], dict[str, Any]] = {}

    def _stamp(self, raw: dict[str, Any], key: tuple[str, str, str], old: dict[str, Any] | None, manager: str | None, when: str, created: bool) -> None:
        self.rv += 1
        meta = raw.setdefault("metadata", {})
        meta["resourceVersion"] = str(self.rv)
        if created:
            mf = [
                {
                    "apiVersion": raw.get("apiVersion"),
                    "fieldsType": "FieldsV1",
                    "fieldsV1": _fields(changed_paths({}, _strip(raw))),
                    "manager": manager or "kube-controller-manager",
                    "operation": "Update",
                    "time": meta.get("creationTimestamp", when),
                }
            ]
        else:
            mf = copy.deepcopy((old or {}).get("metadata", {}).get("managedFields", []))
            if manager is not None and old is not None:
                paths = changed_paths(_strip(old), _strip(raw))
                for e in mf:
                    if e["manager"] != manager:
                        for p in paths:
                            _remove(e["fieldsV1"], p)
                entry = next((e for e in mf if e["manager"] == manager), None)
                if entry is None:
                    entry = {
                        "apiVersion": raw.get("apiVersion"),
                        "fieldsType": "FieldsV1",
                        "fieldsV1": {},
                        "manager": manager,
                        "operation": "Update",
                        "time": when,
                    }
                    mf.append(entry)
                entry["fieldsV1"] = _merge(entry["fieldsV1"], _fields(paths))
                entry["time"] = when
        meta["managedFields"] = mf

    def initial(self, state: ClusterState) -> Iterator[Event]:
        """ADDED events for every object of a starting state (as a watch's initial list)."""
        when = to_rfc3339(state.clock, self.epoch)
        for o in state.all_objects():
            key = (o.kind, o.metadata.namespace, o.metadata.name)
            raw = encode_object(o, self.epoch)
            self._stamp(raw, key, None, "kube-controller-manager" if o.metadata.owner_references else "kubectl-client-side-apply", when, True)
            self.raw[key] = raw
            yield o.kind, {"type": "ADDED", "object": raw}

    def step(self, prev: ClusterState, action: Any, nxt: ClusterState) -> Iterator[Event]:
        """The events of one model step."""
        manager = manager_of(action)
        when = to_rfc3339(nxt.clock, self.epoch)
        changes = []
        for kind in sorted(set(prev.objects) | set(nxt.objects)):
            a: dict[Any, Any] = prev.objects.get(kind, {})
            b: dict[Any, Any] = nxt.objects.get(kind, {})
            if a is b:
                continue
            for nk in set(a) | set(b):
                old, new = a.get(nk), b.get(nk)
                if old is not new and old != new:
                    # a removal has no resourceVersion in the model; `write_steps` splits a
                    # step into its requests, so a step rarely holds more than one write
                    changes.append((new.metadata.resource_version if new is not None else 1 << 62, kind, nk, old, new))
        for _rv, kind, nk, old, new in sorted(changes, key=lambda c: (c[0], c[1], c[2])):
            key = (kind, nk[0], nk[1])
            prev_raw = self.raw.get(key)
            if new is None:
                if prev_raw is None:
                    continue
                raw = copy.deepcopy(prev_raw)
                self.rv += 1
                raw["metadata"]["resourceVersion"] = str(self.rv)
                del self.raw[key]
                yield kind, {"type": "DELETED", "object": raw}
                continue
            raw = encode_object(new, self.epoch)
            replaced = old is not None and old.metadata.uid != new.metadata.uid
            if replaced and prev_raw is not None:
                self.rv += 1
                gone = copy.deepcopy(prev_raw)
                gone["metadata"]["resourceVersion"] = str(self.rv)
                yield kind, {"type": "DELETED", "object": gone}
            created = old is None or replaced
            writer = manager
            if not created and old is not None and (old.metadata.deletion_timestamp is None) != (new.metadata.deletion_timestamp is None):
                writer = None  # a DELETE request: no managedFields change
            self._stamp(raw, key, None if created else prev_raw, writer, when, created)
            self.raw[key] = raw
            yield kind, {"type": "ADDED" if created else "MODIFIED", "object": raw}


def _strip(raw: dict[str, Any]) -> dict[str, Any]:
    meta = {k: v for k, v in raw.get("metadata", {}).items() if k not in ("managedFields", "resourceVersion")}
    return {**raw, "metadata": meta}


def write_steps(model: Any, prev: ClusterState, action: Any, nxt: ClusterState) -> list[tuple[ClusterState, ClusterState]]:
    """A model step as the API writes it took, in order: a system action's requests
    applied one at a time (a real controller's writes are separate watch events, in the
    order it sends them); the whole step when it cannot be split (or the split does not
    reach `nxt`)."""
    from kmodel import apiserver
    from kmodel.actions import SYSTEM

    if getattr(action, "category", "") != SYSTEM or model.config.delivery != "atomic":
        return [(prev, nxt)]
    try:
        requests = model.actor(action.actor).requests(prev, action, model.config)
    except (KeyError, AttributeError):
        return [(prev, nxt)]
    out = []
    cur = prev
    for r in requests:
        tx = cur.edit()
        apiserver.apply(tx, r, model.config)
        after = tx.commit()
        if after is not cur:
            out.append((cur, after))
        cur = after
    if cur != nxt:
        return [(prev, nxt)]
    return out or [(prev, nxt)]


def run_scenario_events(scenario: Any, model: Any = None) -> Iterator[Event]:
    """The watch events of a whole scenario run (every step, inside settles too, each
    split into its writes)."""
    from kmodel.model import Model
    from kmodel.scenario import ExpectStep, SettleStep
    from kmodel.state import empty_state

    model = model or Model(scenario.config)
    trace = WatchTrace(scenario.config.epoch)
    out: list[Event] = []
    state = empty_state()

    def on_step(prev: ClusterState, action: Any, nxt: ClusterState) -> None:
        for a, b in write_steps(model, prev, action, nxt):
            out.extend(trace.step(a, action, b))

    for step in scenario.steps:
        if isinstance(step, ExpectStep):
            continue
        if isinstance(step, SettleStep):
            state = model.settle(state, max_steps=step.max_steps, horizon=step.horizon, on_step=on_step).state
        else:
            nxt = model.step(state, step)
            if nxt is not state:
                on_step(state, step, nxt)
            state = nxt
        yield from out
        out.clear()
