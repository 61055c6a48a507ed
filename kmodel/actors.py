"""The interface every actor (controller, scheduler, kubelet, node lifecycle, GC) implements.

An actor is pure: from a state it proposes candidate actions, and for one action it
returns the API requests it would issue. The model applies them through the API server.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Protocol

from kmodel.config import ModelConfig
from kmodel.state import ClusterState

if TYPE_CHECKING:
    from kmodel.actions import Action
    from kmodel.apiserver import Request


class Actor(Protocol):
    """A component of the control plane or node, as a pure function of the state."""

    name: str

    def candidates(self, state: ClusterState, config: ModelConfig) -> Iterable[Action]:
        """Actions this actor might take now, in a deterministic order (may include no-ops)."""
        ...

    def requests(self, state: ClusterState, action: Action, config: ModelConfig) -> Sequence[Request]:
        """The requests the action issues when taken in `state` (empty: nothing to do)."""
        ...

    def deadlines(self, state: ClusterState, config: ModelConfig) -> Iterable[int]:
        """Future model times at which this actor may have something new to do."""
        ...


@dataclass(frozen=True, slots=True)
class ReconcileKey:
    """What one reconcile targets: an object of some kind."""

    namespace: str
    name: str


class KindReconciler:
    """Base for controllers that reconcile one object of a kind per action."""

    name: str = ""
    kind: str = ""

    def candidates(self, state: ClusterState, config: ModelConfig) -> Iterable[Action]:
        """One Reconcile per object of the watched kind."""
        from kmodel.actions import Reconcile

        for obj in state.list(self.kind):
            yield Reconcile(self.name, obj.metadata.namespace, obj.metadata.name)

    def requests(self, state: ClusterState, action: Action, config: ModelConfig) -> Sequence[Request]:
        """Look up the object and delegate to `reconcile`."""
        obj = state.get(self.kind, action.namespace, action.name)  # type: ignore[attr-defined]
        if obj is None:
            return ()
        return self.reconcile(state, obj, config)

    def reconcile(self, state: ClusterState, obj: object, config: ModelConfig) -> Sequence[Request]:
        """The requests one sync of `obj` issues."""
        raise NotImplementedError

    def deadlines(self, state: ClusterState, config: ModelConfig) -> Iterable[int]:
        """No timers by default."""
        return ()
