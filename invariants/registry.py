"""The registry of named invariants.

Each invariant has a name, a kind, a one-paragraph statement, the source of the rule,
and a check that returns violations naming the objects involved:

* ALWAYS invariants hold in every reachable state: `check(state)`;
* QUIESCENT invariants hold whenever no actor has anything left to do: `check(state)`;
* TRANSITION invariants hold over every step of a trace: `check(prev, action, next)`.

`subjects(state)` counts the objects an invariant is about, so a report can tell a
vacuous pass (never exercised) from a real one.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from enum import Enum
from typing import Any

from kmodel.state import ClusterState


class Kind(str, Enum):
    """When an invariant must hold."""

    ALWAYS = "always"
    QUIESCENT = "quiescent"
    TRANSITION = "transition"


@dataclass(frozen=True)
class Violation:
    """One breach of an invariant, naming the objects involved."""

    invariant: str
    message: str
    objects: tuple[str, ...] = ()

    def __str__(self) -> str:
        return f"[{self.invariant}] {self.message}"


StateCheck = Callable[[ClusterState], Iterable[Violation]]
TransitionCheck = Callable[[ClusterState, Any, ClusterState], Iterable[Violation]]


@dataclass(frozen=True)
class Invariant:
    """A named, documented property of the model."""

    name: str
    kind: Kind
    statement: str
    check: Callable[..., Iterable[Violation]]
    subjects: Callable[[ClusterState], int] = field(default=lambda s: 1)
    source: str = ""
    tags: tuple[str, ...] = ()

    def violations(self, *args: Any) -> list[Violation]:
        """Run the check and return its violations as a list."""
        return list(self.check(*args))


REGISTRY: dict[str, Invariant] = {}


def invariant(
    name: str,
    kind: Kind,
    statement: str,
    *,
    subjects: Callable[[ClusterState], int] | None = None,
    source: str = "",
    tags: tuple[str, ...] = (),
) -> Callable[[Callable[..., Iterable[Violation]]], Invariant]:
    """Register the decorated check as invariant `name`."""

    def register(fn: Callable[..., Iterable[Violation]]) -> Invariant:
        if name in REGISTRY:
            raise ValueError(f"invariant {name!r} registered twice")
        inv = Invariant(
            name=name,
            kind=kind,
            statement=" ".join(statement.split()),
            check=fn,
            subjects=subjects or (lambda s: 1),
            source=source,
            tags=tags,
        )
        REGISTRY[name] = inv
        return inv

    return register


def load_all() -> dict[str, Invariant]:
    """Import every invariant module and return the registry."""
    import importlib
    import pkgutil

    import invariants

    for mod in pkgutil.iter_modules(invariants.__path__):
        if mod.name not in ("registry",):
            importlib.import_module(f"invariants.{mod.name}")
    return REGISTRY


def select(names: Iterable[str] | None = None, kinds: Iterable[Kind] | None = None) -> list[Invariant]:
    """Invariants by name (all if None) and kind, in registry order; unknown names are an error."""
    reg = load_all()
    if names is not None:
        names = list(names)
        unknown = [n for n in names if n not in reg]
        if unknown:
            raise KeyError(f"unknown invariant(s): {', '.join(unknown)}; known: {', '.join(sorted(reg))}")
        chosen = [reg[n] for n in names]
    else:
        chosen = list(reg.values())
    if kinds is not None:
        ks = set(kinds)
        chosen = [i for i in chosen if i.kind in ks]
    return chosen


def check_state(state: ClusterState, invs: Iterable[Invariant], *, quiescent: bool = False) -> list[Violation]:
    """Violations of the ALWAYS invariants (and the QUIESCENT ones if `quiescent`)."""
    out: list[Violation] = []
    for inv in invs:
        if inv.kind is Kind.ALWAYS or (quiescent and inv.kind is Kind.QUIESCENT):
            out.extend(inv.check(state))
    return out


def check_transition(prev: ClusterState, action: Any, nxt: ClusterState, invs: Iterable[Invariant]) -> list[Violation]:
    """Violations of the TRANSITION invariants over one step."""
    out: list[Violation] = []
    for inv in invs:
        if inv.kind is Kind.TRANSITION:
            out.extend(inv.check(prev, action, nxt))
    return out
