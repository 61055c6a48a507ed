"""The one result structure every renderer reads."""

from __future__ import annotations

from collections import Counter
from dataclasses import asdict, dataclass, field
from typing import Any


@dataclass
class InvariantResult:
    """How one invariant fared in a run."""

    name: str
    kind: str
    statement: str
    source: str
    status: str  # "held", "violated" or "not exercised"
    checked: int = 0
    exercised: int = 0
    violations: list[str] = field(default_factory=list)
    # in a combined report: the runs in which some checked state had a subject
    exercised_in: list[str] = field(default_factory=list)


@dataclass
class StepRow:
    """One step of a counterexample, with the objects it changed."""

    index: int
    step: str
    clock: int
    changed: list[str] = field(default_factory=list)


@dataclass
class Counterexample:
    """A (shrunk) sequence of steps that ends in a violation, and how to replay it."""

    invariants: list[str]
    message: str
    steps: list[StepRow]
    scenario_file: str = ""
    replay_command: str = ""
    reproduced: bool | None = None


@dataclass
class RunReport:
    """Everything a run found, independent of how it is rendered."""

    run_name: str
    command: str
    scenario: str
    engine: str
    seed: int | None
    status: str  # "passed", "violated", "interrupted", "error"
    kubernetes_version: str
    budget: dict[str, Any] = field(default_factory=dict)
    stats: dict[str, Any] = field(default_factory=dict)
    action_mix: dict[str, int] = field(default_factory=dict)
    invariants: list[InvariantResult] = field(default_factory=list)
    counterexample: Counterexample | None = None
    notes: list[str] = field(default_factory=list)
    # per actor module: {"actors": [...], "lines": "87%", "branches": "75%", "rules run": "12/14",
    # "missing_lines": [...], "rules": {"Class.method": {"lines": "5/7", "branches": "2/4"}, ...}}
    coverage: dict[str, dict[str, Any]] = field(default_factory=dict)
    # (transitions, distinct states) samples: exploration progress, deterministic
    progress: list[tuple[int, int]] = field(default_factory=list)
    timing: dict[str, float] = field(default_factory=dict)
    # in a combined report: one summary per run (name, engine, scenario, status, seed,
    # budget, stats, and the relative path of its own report)
    runs: list[dict[str, Any]] = field(default_factory=list)

    def invariant_summary(self) -> str:
        """One line counting the invariants by result ("41 invariants: 39 held, 0 violated, 2 never exercised.")."""
        counts = Counter(i.status for i in self.invariants)
        parts = [f"{counts.pop('held', 0)} held", f"{counts.pop('violated', 0)} violated", f"{counts.pop('not exercised', 0)} never exercised"]
        parts += [f"{n} {s}" for s, n in sorted(counts.items())]
        return f"{len(self.invariants)} invariants: " + ", ".join(parts) + "."

    def to_dict(self, *, with_timing: bool = True) -> dict[str, Any]:
        """A JSON-ready dict (timing is left out when deterministic output is wanted)."""
        d = asdict(self)
        if not with_timing:
            d.pop("timing", None)
        return d
