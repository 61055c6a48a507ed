"""The model: initial state, the actions enabled in a state, and the next state for an action.

Every engine (Hypothesis machine, exhaustive explorer, trace validator, scenario runner)
is a thin consumer of this one shape:

* `Model.enabled(state)`: actions in a fixed, deterministic order;
* `Model.step(state, action)`: the next state (the same state if nothing happens);
* `Model.settle(state)`: run every actor fairly to a fixpoint, advancing the clock to
  the next timer when nothing else is enabled.

System actions (controllers, scheduler, kubelet, node lifecycle, GC) are enabled only
when they would change the state, so a quiescent state has no system action enabled.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field, replace

from kmodel import apiserver
from kmodel.actions import (
    DELIVERY,
    SYSTEM,
    Action,
    AddNode,
    Deliver,
    ExitContainer,
    FailNode,
    Performed,
    RecoverNode,
    RemoveNode,
    Tick,
)
from kmodel.actors import Actor
from kmodel.config import ModelConfig
from kmodel.objects.node import Node
from kmodel.state import ClusterState, InFlight

FAULT_KINDS = ("fail", "recover", "remove", "add", "exit")


@dataclass(frozen=True)
class Scope:
    """What users and the environment may do during an exploration.

    `script` is a sequence of user actions that happen in order, interleaved with
    everything else. Faults are bounded by `max_faults` (node failures and removals) and
    `max_exits` (container exits). Time advances to the next timer of some actor, never
    beyond `horizon`.
    """

    script: tuple[Performed, ...] = ()
    faults: tuple[str, ...] = ()
    max_faults: int = 0
    max_exits: int = 0
    exit_codes: tuple[int, ...] = (1,)
    add_nodes: tuple[Node, ...] = ()
    horizon: int | None = None
    time: bool = True

    def __post_init__(self) -> None:
        unknown = set(self.faults) - set(FAULT_KINDS)
        if unknown:
            raise ValueError(f"unknown fault kinds {sorted(unknown)}; use {', '.join(FAULT_KINDS)}")


@dataclass
class SettleResult:
    """The outcome of running every actor to a fixpoint."""

    state: ClusterState
    actions: list[Action] = field(default_factory=list)
    quiescent: bool = True
    reason: str = ""


def default_actors() -> tuple[Actor, ...]:
    """The reference actors of the control plane and nodes, in settle order."""
    from kmodel.controllers import all_controllers
    from kmodel.kubelet import Kubelet
    from kmodel.plugins import plugin_actors
    from kmodel.scheduler import Scheduler

    return (Scheduler(), Kubelet(), *all_controllers(), *plugin_actors())


class Model:
    """A cluster model: actors, configuration and the exploration scope."""

    def __init__(
        self,
        config: ModelConfig | None = None,
        actors: Sequence[Actor] | None = None,
        scope: Scope | None = None,
        *,
        cache_size: int = 4096,
    ) -> None:
        self.config = config or ModelConfig()
        self.actors: tuple[Actor, ...] = tuple(actors) if actors is not None else default_actors()
        self.scope = scope or Scope()
        self._by_name = {a.name: a for a in self.actors}
        if len(self._by_name) != len(self.actors):
            raise ValueError("actor names must be unique")
        self._cache: OrderedDict[ClusterState, list[tuple[Action, ClusterState]]] = OrderedDict()
        self._cache_size = cache_size
        self.transitions = 0

    def __getstate__(self) -> dict[str, object]:
        """Pickle without the successor cache (models are sent to worker processes)."""
        d = dict(self.__dict__)
        d["_cache"] = OrderedDict()
        return d

    # ---- configuration -------------------------------------------------------------
    def with_actor(self, actor: Actor) -> Model:
        """A copy of the model with `actor` replacing the actor of the same name (or added)."""
        actors = [actor if a.name == actor.name else a for a in self.actors]
        if actor.name not in self._by_name:
            actors.append(actor)
        return Model(self.config, actors, self.scope)

    def with_scope(self, scope: Scope) -> Model:
        """A copy of the model with another exploration scope."""
        return Model(self.config, self.actors, scope)

    def actor(self, name: str) -> Actor:
        """The actor called `name`."""
        return self._by_name[name]

    # ---- system actions ------------------------------------------------------------
    def _actor_of(self, action: Action) -> Actor:
        name = getattr(action, "actor", None)
        if name is None or name not in self._by_name:
            raise KeyError(f"no actor for {action!r}")
        return self._by_name[name]

    def _apply_system(self, state: ClusterState, action: Action) -> ClusterState:
        actor = self._actor_of(action)
        reqs = actor.requests(state, action, self.config)
        if not reqs:
            return state
        tx = state.edit()
        if self.config.delivery == "atomic":
            for r in reqs:
                apiserver.apply(tx, r, self.config)
            return tx.commit()
        # async delivery: memory writes happen now, API requests wait in flight
        # An identical request already in flight is not queued twice (a repeated update or
        # delete is idempotent) — except a create with generateName: every such POST
        # makes a new object (apiserver names.SimpleNameGenerator), which is exactly the
        # double creation expectations exist to prevent.
        queued = {(f.actor, f.request) for f in state.inflight if not _generates_name(f.request)}
        key = (getattr(action, "namespace", ""), getattr(action, "name", getattr(action, "pod", "")))
        new_inflight = list(state.inflight)
        opens = True
        for r in reqs:
            if isinstance(r, apiserver.Remember):
                apiserver.apply(tx, r, self.config)
            elif (actor.name, r) not in queued and _changes(state, r, self.config):
                new_inflight.append(InFlight(actor.name, key, state.clock, r, opens, state.next_uid))
                opens = False
        tx.set_inflight(tuple(new_inflight))
        return tx.commit()

    def _deliver(self, state: ClusterState, issuer: str) -> ClusterState:
        """Apply the oldest request `issuer` has in flight. A request that fails with a
        conflict ends its sync: a controller returns on the first write that fails with
        an error it does not handle (the sync is retried from a fresh read), so the rest
        of that sync's requests are never sent."""
        for i, f in enumerate(state.inflight):
            if f.actor == issuer:
                rest = list(state.inflight[i + 1 :])
                tx = state.edit()
                outcome = apiserver.apply(tx, f.request, self.config)
                if outcome.error.startswith("Conflict"):
                    rest = _drop_rest_of_sync(rest, issuer)
                tx.set_inflight(state.inflight[:i] + tuple(rest))
                return tx.commit()
        return state

    def system_successors(self, state: ClusterState) -> list[tuple[Action, ClusterState]]:
        """Every enabled system action with its successor, in actor order then candidate order."""
        cached = self._cache.get(state)
        if cached is not None:
            self._cache.move_to_end(state)
            return cached
        out: list[tuple[Action, ClusterState]] = []
        for actor in self.actors:
            for action in actor.candidates(state, self.config):
                nxt = self._apply_system(state, action)
                self.transitions += 1
                if nxt is not state:
                    out.append((action, nxt))
        self._cache[state] = out
        if len(self._cache) > self._cache_size:
            self._cache.popitem(last=False)
        return out

    def deliveries(self, state: ClusterState) -> list[Deliver]:
        """One Deliver action per actor with requests in flight."""
        seen: list[str] = []
        for f in state.inflight:
            if f.actor not in seen:
                seen.append(f.actor)
        return [Deliver(a) for a in seen]

    # ---- environment and users -----------------------------------------------------
    def environment_actions(self, state: ClusterState) -> list[Performed]:
        """Scripted user action, faults and time steps the scope allows in `state`."""
        scope = self.scope
        env = state.env
        out: list[Performed] = []
        if env.script_pos < len(scope.script):
            out.append(scope.script[env.script_pos])
        faults = set(scope.faults)
        if env.faults < scope.max_faults:
            for n in state.nodes():
                if "fail" in faults and n.name not in env.down_nodes:
                    out.append(FailNode(n.name))
                if "remove" in faults:
                    out.append(RemoveNode(n.name))
            if "add" in faults:
                out.extend(AddNode(n) for n in scope.add_nodes if state.get("Node", "", n.name) is None)
        if "recover" in faults:
            out.extend(RecoverNode(n) for n in sorted(env.down_nodes))
        if "exit" in faults and env.exits < scope.max_exits:
            for pod in state.pods():
                if not pod.spec.node_name or pod.spec.node_name in env.down_nodes:
                    continue
                for cs in pod.status.init_container_statuses + pod.status.container_statuses:
                    if cs.state.running is not None:
                        for code in scope.exit_codes:
                            out.append(ExitContainer(pod.metadata.namespace, pod.metadata.name, cs.name, code))
        # The clock does not move while requests are in flight: an API request completes
        # in milliseconds, so a decision lands in the second it was made. Asynchronous
        # delivery models the order in which writes are observed, not write latency.
        if scope.time and not state.inflight:
            d = self.next_deadline(state)
            if d is not None and (scope.horizon is None or d <= scope.horizon):
                out.append(Tick(d - state.clock))
        return [a for a in out if a.applicable(state)]

    def next_deadline(self, state: ClusterState) -> int | None:
        """The earliest future time at which some actor has something new to do."""
        best: int | None = None
        for actor in self.actors:
            for t in actor.deadlines(state, self.config):
                if t > state.clock and (best is None or t < best):
                    best = t
        for f in state.inflight:
            # expectations expire strictly after the timeout (controllers.common.expectations_satisfied)
            t = f.issued_at + self.config.expectations_timeout + 1
            if t > state.clock and (best is None or t < best):
                best = t
        return best

    # ---- the model interface -------------------------------------------------------
    def enabled(self, state: ClusterState) -> list[Action]:
        """All actions enabled in `state`: system, deliveries, then user/environment/time."""
        actions: list[Action] = [a for a, _ in self.system_successors(state)]
        actions.extend(self.deliveries(state))
        actions.extend(self.environment_actions(state))
        return actions

    def successors(self, state: ClusterState) -> list[tuple[Action, ClusterState]]:
        """Every enabled action with its successor state."""
        out = list(self.system_successors(state))
        for d in self.deliveries(state):
            out.append((d, self._deliver(state, d.issuer)))
        for a in self.environment_actions(state):
            out.append((a, self.step(state, a)))
        return out

    def step(self, state: ClusterState, action: Action) -> ClusterState:
        """The state after `action` (the same state if it changes nothing)."""
        if isinstance(action, Deliver):
            return self._deliver(state, action.issuer)
        if isinstance(action, Performed):
            nxt = action.perform(state, self.config)
            if action.category == "user" and state.env.script_pos < len(self.scope.script) and self.scope.script[state.env.script_pos] == action:
                tx = nxt.edit()
                tx.set_env(replace(tx.env, script_pos=tx.env.script_pos + 1))
                nxt = tx.commit()
            return nxt
        if action.category == SYSTEM:
            for a, nxt in self.system_successors(state):
                if a == action:
                    return nxt
            return self._apply_system(state, action)
        if action.category == DELIVERY:  # pragma: no cover - Deliver handled above
            return state
        raise TypeError(f"cannot step {action!r}")

    def is_quiescent(self, state: ClusterState) -> bool:
        """No system action enabled, nothing in flight, no pending timer."""
        return not self.system_successors(state) and not state.inflight and self.next_deadline(state) is None

    def settle(
        self,
        state: ClusterState,
        *,
        max_steps: int = 20000,
        horizon: int | None = None,
        lookahead: int | None = None,
        on_step: Callable[[ClusterState, Action, ClusterState], None] | None = None,
    ) -> SettleResult:
        """Run every actor fairly (round-robin, one action each) to a fixpoint.

        When nothing is enabled, the clock jumps to the next timer. With a `horizon` the
        run stops at that model time (the clock ends there). With a `lookahead`, a state
        where nothing is enabled and every timer lies more than `lookahead` seconds after
        the start counts as a fixpoint (timers that recur for ever, like a CronJob's
        schedule, never leave a timer-free state); the clock is not advanced to them.
        Stops at a fixpoint, at the horizon, or after `max_steps` actions (a suspected
        livelock). `on_step(prev, action, next)` is called for every step taken.
        """
        result = SettleResult(state)
        steps = 0
        start = state.clock
        while steps < max_steps:
            progressed = False
            for actor in self.actors:
                for action in actor.candidates(state, self.config):
                    nxt = self._apply_system(state, action)
                    if nxt is not state:
                        if on_step is not None:
                            on_step(state, action, nxt)
                        state = nxt
                        result.actions.append(action)
                        steps += 1
                        progressed = True
                        break
            while state.inflight:
                delivery = Deliver(state.inflight[0].actor)
                nxt = self._deliver(state, delivery.issuer)
                if on_step is not None:
                    on_step(state, delivery, nxt)
                state = nxt
                result.actions.append(delivery)
                steps += 1
                progressed = True
            if progressed:
                continue
            d = self.next_deadline(state)
            if d is None and horizon is None:
                result.state = state
                result.quiescent = True
                return result
            if d is not None and lookahead is not None and d > start + lookahead and (horizon is None or d <= horizon):
                result.state = state
                result.quiescent = True
                result.reason = f"idle; the next timer (t={d}s) is more than {lookahead}s away"
                return result
            if horizon is not None and (d is None or d > horizon):
                if horizon > state.clock:
                    tick = Tick(horizon - state.clock)
                    nxt = tick.perform(state, self.config)
                    if on_step is not None:
                        on_step(state, tick, nxt)
                    state = nxt
                    result.actions.append(tick)
                result.state = state
                result.quiescent = d is None
                result.reason = "" if d is None else f"next timer at t={d}s is beyond the horizon t={horizon}s"
                return result
            assert d is not None
            tick = Tick(d - state.clock)
            nxt = tick.perform(state, self.config)
            if on_step is not None:
                on_step(state, tick, nxt)
            state = nxt
            result.actions.append(tick)
        result.state = state
        result.quiescent = False
        result.reason = (
            f"no fixpoint after {max_steps} actions (controllers may be fighting, or timers keep firing — "
            "a CronJob's schedule never ends: give settle a horizon)"
        )
        return result

    def run(self, state: ClusterState, actions: Iterable[Action]) -> ClusterState:
        """Apply a sequence of actions."""
        for a in actions:
            state = self.step(state, a)
        return state


def _drop_rest_of_sync(rest: list[InFlight], issuer: str) -> list[InFlight]:
    """`rest` without the requests of `issuer` that belong to the sync of a failed one
    (those before the issuer's next sync opener)."""
    out: list[InFlight] = []
    dropping = True
    for f in rest:
        if f.actor == issuer and dropping:
            if f.opens_sync:
                dropping = False
            else:
                continue
        out.append(f)
    return out


def _generates_name(request: apiserver.Request) -> bool:
    return isinstance(request, apiserver.Create) and not request.obj.metadata.name and bool(request.obj.metadata.generate_name)


def _changes(state: ClusterState, request: apiserver.Request, config: ModelConfig) -> bool:
    tx = state.edit()
    apiserver.apply(tx, request, config)
    return tx.commit() is not state
