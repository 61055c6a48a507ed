"""Running a scenario: every step through the model, invariants checked along the way
(always-invariants on every state, transition-invariants on every step including those
inside `settle`, quiescence-invariants whenever a settle reaches a fixpoint), and the
scenario's expectations evaluated."""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from invariants.registry import Invariant, Violation, select
from kmodel.actions import Action
from kmodel.checking import Checker
from kmodel.model import Model
from kmodel.objects.serde import encode_object
from kmodel.scenario import ExpectStep, Scenario, SettleStep
from kmodel.state import ClusterState, empty_state

_SEGMENT = re.compile(r"^([^\[\]]+)((?:\[[^\]]+\])*)$")
_INDEX = re.compile(r"\[([^\]]+)\]")
_MISSING = object()


@dataclass
class StepResult:
    """What happened at one scenario step."""

    index: int
    description: str
    clock: int
    actions: int = 1
    violations: list[Violation] = field(default_factory=list)
    failures: list[str] = field(default_factory=list)
    quiescent: bool | None = None


@dataclass
class RunResult:
    """The outcome of a scenario run."""

    scenario: Scenario
    state: ClusterState
    steps: list[StepResult]
    checker: Checker
    trace: list[Any] = field(default_factory=list)

    @property
    def violations(self) -> list[Violation]:
        """Every invariant violation found."""
        return [v for s in self.steps for v in s.violations]

    @property
    def failures(self) -> list[str]:
        """Every failed expectation."""
        return [f for s in self.steps for f in s.failures]

    @property
    def ok(self) -> bool:
        """No violation and no failed expectation."""
        return not self.violations and not self.failures


def lookup(doc: Any, path: str) -> Any:
    """Follow a dotted path through JSON: `status.availableReplicas`,
    `status.conditions[type=Available].status`, `spec.containers[0].image`; a dot inside
    a key is escaped: `metadata.annotations.deployment\\.kubernetes\\.io/revision`.
    Returns a sentinel (see `is_missing`) when the path does not exist."""
    cur = doc
    for raw in re.split(r"(?<!\\)\.", path):
        part = raw.replace("\\.", ".")
        m = _SEGMENT.match(part)
        if m is None:
            return _MISSING
        key, idx = m.group(1), m.group(2)
        if not isinstance(cur, dict) or key not in cur:
            return _MISSING
        cur = cur[key]
        for sel in _INDEX.findall(idx):
            if not isinstance(cur, list):
                return _MISSING
            if "=" in sel:
                k, v = sel.split("=", 1)
                found = [x for x in cur if isinstance(x, dict) and str(x.get(k)) == v]
                if not found:
                    return _MISSING
                cur = found[0]
            else:
                try:
                    cur = cur[int(sel)]
                except (ValueError, IndexError):
                    return _MISSING
    return cur


def is_missing(value: Any) -> bool:
    """Whether `lookup` found nothing."""
    return value is _MISSING


def evaluate(expectation: dict[str, Any], state: ClusterState, model: Model, checker: Checker) -> list[str]:
    """Failure messages for one expectation (empty when it holds)."""
    epoch = model.config.epoch
    if "invariants" in expectation:
        found = checker.state(state)
        if model.is_quiescent(state):
            found += checker.at_quiescence(state)
        return [f"invariants do not hold: {v}" for v in found]
    if "clock" in expectation and "kind" not in expectation:
        want = expectation["clock"]
        return [] if state.clock == want else [f"clock is {state.clock}s, expected {want}s"]
    kind = expectation["kind"]
    ns = str(expectation.get("namespace", "default" if kind != "Node" else ""))
    if "name" in expectation:
        name = str(expectation["name"])
        obj = state.get(kind, "" if kind == "Node" else ns, name)
        label = f"{kind} {ns + '/' if ns and kind != 'Node' else ''}{name}"
        if "exists" in expectation and "path" not in expectation:
            exists = obj is not None
            return [] if exists == bool(expectation["exists"]) else [f"{label} {'exists' if exists else 'does not exist'}"]
        if obj is None:
            return [f"{label} does not exist"]
        doc = encode_object(obj, epoch)
        path = str(expectation.get("path", ""))
        value = lookup(doc, path) if path else doc
        if "exists" in expectation:
            present = not is_missing(value)
            return [] if present == bool(expectation["exists"]) else [f"{label} {path} {'is set' if present else 'is not set'}"]
        if "equals" in expectation:
            want = expectation["equals"]
            got = None if is_missing(value) else value
            return [] if got == want else [f"{label} {path} is {got!r}, expected {want!r}"]
        return []
    selector = expectation.get("selector") or {}
    where = expectation.get("where") or {}
    objs = state.list(kind, None if kind == "Node" else ns)
    matched = []
    for o in objs:
        if any(o.metadata.labels.get(k) != str(v) for k, v in selector.items()):
            continue
        if where:
            doc = encode_object(o, epoch)
            if any(lookup(doc, p) != v for p, v in where.items()):
                continue
        matched.append(o)
    if "count" in expectation:
        want = int(expectation["count"])
        if len(matched) != want:
            desc = f"{kind} objects" + (f" with labels {selector}" if selector else "") + (f" where {where}" if where else "")
            return [f"{len(matched)} {desc}, expected {want}: {', '.join(o.metadata.name for o in matched) or 'none'}"]
    return []


def _collector(checker: Checker, found: list[Violation]) -> Any:
    def on_step(a: ClusterState, action: Any, b: ClusterState) -> None:
        found.extend(checker.transition_(a, action, b))

    return on_step


def run_scenario(scenario: Scenario, *, invariants: Sequence[Invariant] | None = None, model: Model | None = None) -> RunResult:
    """Run every step of `scenario` and check invariants and expectations."""
    model = model or Model(scenario.config)
    invs = list(invariants) if invariants is not None else select()
    checker = Checker(invs)
    state = empty_state()
    results: list[StepResult] = []
    trace: list[Any] = []
    for i, step in enumerate(scenario.steps):
        if isinstance(step, ExpectStep):
            r = StepResult(i, "expect", state.clock, actions=0)
            for e in step.expectations:
                r.failures.extend(f"{step.line}: {msg}" for msg in evaluate(e, state, model, checker))
            results.append(r)
            continue
        if isinstance(step, SettleStep):
            found: list[Violation] = []
            outcome = model.settle(state, max_steps=step.max_steps, horizon=step.horizon, on_step=_collector(checker, found))
            state = outcome.state
            trace.append(step)
            r = StepResult(i, "settle", state.clock, actions=len(outcome.actions), violations=found, quiescent=outcome.quiescent)
            if outcome.quiescent:
                r.violations.extend(checker.at_quiescence(state))
            elif step.horizon is None:
                r.failures.append(f"settle: {outcome.reason}")
            results.append(r)
            continue
        action: Action = step
        prev = state
        state = model.step(prev, action)
        trace.append(action)
        results.append(StepResult(i, action.describe(), state.clock, violations=checker.transition_(prev, action, state)))
    return RunResult(scenario, state, results, checker, trace)
