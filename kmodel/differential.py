"""Differential checking of a user's controller against the reference.

At every fixpoint that the model with the user's implementation reaches, the reference
model (identical but for the replaced actors) is allowed to settle from the same state.
If the reference would change any object, the two implementations disagree about what
the desired state is: that is reported as a divergence, with what the reference would
do. Clock advances alone (timers the reference keeps and the implementation does not)
are not a divergence unless they lead the reference to change an object.
"""

from __future__ import annotations

from dataclasses import dataclass

from invariants.registry import Violation
from kmodel.diff import describe_changes
from kmodel.model import Model
from kmodel.state import ClusterState

NAME = "differential"


@dataclass
class Differential:
    """Compares fixpoints of an implementation model with the reference model."""

    reference: Model
    replaced: tuple[str, ...]
    max_steps: int = 5000

    def check(self, state: ClusterState) -> list[Violation]:
        """A violation if the reference would change some object of this fixpoint."""
        result = self.reference.settle(state, max_steps=self.max_steps)
        after = result.state
        if after.object_fp == state.object_fp:
            return []
        acted = [a.describe() for a in result.actions if getattr(a, "actor", None)][:8]
        changes = describe_changes(state, after)[:12]
        who = ", ".join(self.replaced)
        return [
            Violation(
                NAME,
                f"at a fixpoint reached with the implementation of {who}, the reference would still act: "
                + "; ".join(acted)
                + " — changing "
                + "; ".join(changes),
                tuple(c.split(" (")[0][2:] for c in changes if c[:1] in "+-~±"),
            )
        ]
