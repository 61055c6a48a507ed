"""Observed steps as action values the invariants can read.

TRANSITION invariants look at the action of a step: its `actor` (`invariants.util.
actor_of`), its `category`, and for controller syncs and bindings its type
(`Reconcile(controller, namespace, name)`, `Schedule(namespace, pod, node)`). An
observed write attributed to a controller's sync of an object therefore becomes an
`ObservedReconcile` — a `Reconcile` carrying where it was read and the evidence for the
attribution — and a binding by the scheduler an `ObservedSchedule`. Every other write
(a user's, the kubelet's, or one whose author is unknown) is an `Observed`, whose
`actor` is the model actor's name or "" when unknown.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from kmodel.actions import Action, Reconcile, Schedule

USER, SYSTEM, UNKNOWN = "user", "system", "unknown"


@dataclass(frozen=True, slots=True)
class Origin:
    """Where a step was read: file and line (for ITF, the state's index), the
    resourceVersion and the event type."""

    file: str
    line: int
    rv: int | None = None
    event: str = ""

    def __str__(self) -> str:
        return f"{self.file}:{self.line}"


@dataclass(frozen=True, slots=True)
class Observed(Action):
    """An observed write by a user, the kubelet, or an unknown author (actor "")."""

    actor: str = ""
    category: str = UNKNOWN  # type: ignore[misc]
    who: str = ""  # the username or field manager that the input names
    evidence: str = ""
    origin: Origin | None = field(default=None, compare=False)

    def describe(self) -> str:  # noqa: D102
        who = self.actor or self.who or "an unknown writer"
        return f"observed write by {who}" + (f" ({self.evidence})" if self.evidence else "")


@dataclass(frozen=True, slots=True)
class ObservedReconcile(Reconcile):
    """An observed write attributed to one controller's sync of one object."""

    who: str = ""
    evidence: str = ""
    origin: Origin | None = field(default=None, compare=False)

    def describe(self) -> str:  # noqa: D102
        return Reconcile.describe(self) + (f" ({self.evidence})" if self.evidence else "")


@dataclass(frozen=True, slots=True)
class ObservedSchedule(Schedule):
    """An observed binding of a pod to a node by the scheduler."""

    who: str = ""
    evidence: str = ""
    origin: Origin | None = field(default=None, compare=False)

    def describe(self) -> str:  # noqa: D102
        return Schedule.describe(self) + (f" ({self.evidence})" if self.evidence else "")


def is_known(action: object) -> bool:
    """Whether the step's author is known (a model actor, or a user)."""
    if isinstance(action, (Reconcile, Schedule)):
        return True
    return bool(getattr(action, "actor", "")) or getattr(action, "category", "") not in (UNKNOWN, "")
