"""Invariant checking shared by every engine, with the statistics reports need:
how often each invariant was checked, on how many states its subject existed, and what
it found."""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from invariants.registry import Invariant, Kind, Violation
from kmodel.state import ClusterState


class InvariantViolation(AssertionError):
    """Raised by engines when an invariant is violated."""

    def __init__(self, violations: Sequence[Violation], where: str = "") -> None:
        self.violations = list(violations)
        self.where = where
        lines = [f"{len(self.violations)} invariant violation(s){' ' + where if where else ''}:"]
        lines.extend(f"  - {v}" for v in self.violations)
        super().__init__("\n".join(lines))


@dataclass
class CheckStats:
    """Counts gathered while checking invariants over an exploration."""

    checked: Counter[str] = field(default_factory=Counter)
    exercised: Counter[str] = field(default_factory=Counter)
    violated: Counter[str] = field(default_factory=Counter)
    actions: Counter[str] = field(default_factory=Counter)
    states: set[int] = field(default_factory=set)
    transitions: int = 0
    quiescent_states: int = 0
    progress: list[tuple[int, int]] = field(default_factory=list)

    def sample(self, every: int = 200) -> None:
        """Record (transitions, distinct states) every `every` transitions."""
        if self.transitions % every == 0:
            self.progress.append((self.transitions, len(self.states)))

    def merge(self, other: CheckStats) -> None:
        """Add another run's counts to these."""
        self.checked.update(other.checked)
        self.exercised.update(other.exercised)
        self.violated.update(other.violated)
        self.actions.update(other.actions)
        self.states |= other.states
        self.transitions += other.transitions
        self.quiescent_states += other.quiescent_states


class Checker:
    """Checks a selection of invariants and keeps statistics."""

    def __init__(self, invariants: Sequence[Invariant], stats: CheckStats | None = None) -> None:
        self.invariants = list(invariants)
        self.always = [i for i in self.invariants if i.kind is Kind.ALWAYS]
        self.quiescent = [i for i in self.invariants if i.kind is Kind.QUIESCENT]
        self.transition = [i for i in self.invariants if i.kind is Kind.TRANSITION]
        self.stats = stats if stats is not None else CheckStats()

    def _run(self, inv: Invariant, state: ClusterState, *args: Any) -> list[Violation]:
        self.stats.checked[inv.name] += 1
        if inv.subjects(state) > 0:
            self.stats.exercised[inv.name] += 1
        found = inv.violations(*args)
        if found:
            self.stats.violated[inv.name] += len(found)
        return found

    def state(self, state: ClusterState) -> list[Violation]:
        """ALWAYS invariants on one state."""
        self.stats.states.add(state.fingerprint)
        out: list[Violation] = []
        for inv in self.always:
            out.extend(self._run(inv, state, state))
        return out

    def edge(self, prev: ClusterState, action: Any, nxt: ClusterState) -> list[Violation]:
        """TRANSITION invariants over one step (counted in the statistics)."""
        self.stats.transitions += 1
        self.stats.actions[action_label(action)] += 1
        self.stats.sample()
        out: list[Violation] = []
        for inv in self.transition:
            out.extend(self._run(inv, prev, prev, action, nxt))
        return out

    def transition_(self, prev: ClusterState, action: Any, nxt: ClusterState) -> list[Violation]:
        """TRANSITION invariants over one step, then ALWAYS invariants on the new state."""
        out = self.edge(prev, action, nxt)
        if nxt is not prev:
            out.extend(self.state(nxt))
        return out

    def at_quiescence(self, state: ClusterState) -> list[Violation]:
        """QUIESCENT invariants on a fixpoint."""
        self.stats.quiescent_states += 1
        out: list[Violation] = []
        for inv in self.quiescent:
            out.extend(self._run(inv, state, state))
        return out


def action_label(action: Any) -> str:
    """A coarse label for the action mix: the actor for system actions, else the action type."""
    actor = getattr(action, "actor", None)
    if actor:
        return str(actor)
    return type(action).__name__
