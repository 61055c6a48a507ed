"""The Hypothesis engine: a RuleBasedStateMachine over the model.

Rules draw user actions, faults, controller steps and clock advances, step the pure
model, and check the always- and transition-invariants after every step; the settle
rule runs every controller fairly to a fixpoint and then checks the quiescence
invariants. Every rule only calls the model; every check only calls `invariants`.
The steps taken are recorded so that a (shrunk) failing run can be saved as a
`kmodel run` scenario that replays it.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, initialize, precondition, rule

from invariants.registry import Invariant
from kmodel import strategies as ks
from kmodel.actions import (
    Action,
    AddNode,
    Apply,
    Cordon,
    DeleteObject,
    ExitContainer,
    FailNode,
    LabelNode,
    Patch,
    Performed,
    RecoverNode,
    RemoveNode,
    Scale,
    SetImage,
    TaintNode,
    Tick,
)
from kmodel.checking import Checker, CheckStats, InvariantViolation
from kmodel.frozen import FrozenDict
from kmodel.model import Model
from kmodel.state import ClusterState, empty_state

WORKLOAD_KINDS = ("Deployment", "ReplicaSet", "ReplicationController", "StatefulSet", "DaemonSet", "Job", "CronJob")
SCALABLE = frozenset({"Deployment", "ReplicaSet", "ReplicationController", "StatefulSet"})
SUSPENDABLE = frozenset({"Job", "CronJob"})
PROPAGATIONS = (None, "Orphan", "Background", "Foreground")


@dataclass(frozen=True)
class SettleStep:
    """The settle rule, recorded in a trace."""

    def describe(self) -> str:
        """A one-line description."""
        return "settle"


SETTLE = SettleStep()


@dataclass
class Recording:
    """The initial objects and the steps of the most recent run of the machine."""

    initial: list[Any] = field(default_factory=list)
    steps: list[Any] = field(default_factory=list)


@dataclass
class MachineSpec:
    """What a machine explores: the model, the invariants, the setup and the action menu."""

    model: Model
    invariants: Sequence[Invariant]
    # Draws the initial objects (nodes first); None draws a random cluster...
    setup: Callable[[], st.SearchStrategy[list[Any]]] | None = None
    # ...unless the exploration starts from a given state (e.g. a settled scenario).
    initial: ClusterState | None = None
    user_actions: bool = True
    faults: tuple[str, ...] = ("fail", "recover", "remove", "add", "exit")
    max_faults: int = 2
    max_settle_steps: int = 5000
    # timers further away than this when the cluster goes idle count as "later" (15 min:
    # longer than any back-off; shorter than a cron schedule that recurs for ever)
    settle_lookahead: int = 900
    stats: CheckStats = field(default_factory=CheckStats)
    recording: Recording = field(default_factory=Recording)
    on_example: Callable[[], None] | None = None
    # extra checks at every fixpoint (differential comparison with a reference model)
    at_fixpoint: Callable[[ClusterState], list[Any]] | None = None


def _workload_makers() -> list[Any]:
    """Strategies for every workload kind the model has."""
    names = ["deployments", "replica_sets", "replication_controllers", "daemon_sets", "stateful_sets", "jobs", "cron_jobs"]
    return [getattr(ks, n) for n in names if hasattr(ks, n)]


@st.composite
def random_cluster(draw: st.DrawFn, max_workloads: int = 2) -> list[Any]:
    """Nodes and up to `max_workloads` workloads of any kind, with distinct names."""
    nodes = draw(ks.node_sets())
    makers = _workload_makers()
    workloads = []
    for i in range(draw(st.integers(1, max_workloads))):
        maker = draw(st.sampled_from(makers))
        workloads.append(draw(maker(name=f"w{i}")))
    return [*nodes, *workloads]


def initial_state(model: Model, objects: Sequence[Any]) -> ClusterState:
    """Nodes register (Ready), then the other objects are applied."""
    state = empty_state()
    for obj in objects:
        if obj.kind == "Node":
            state = model.step(state, AddNode(obj))
    others = tuple(o for o in objects if o.kind != "Node")
    if others:
        state = model.step(state, Apply(others))
    return state


@st.composite
def user_action(draw: st.DrawFn, state: ClusterState) -> Performed:
    """A user action aimed at something that exists in `state`."""
    workloads = [o for k in WORKLOAD_KINDS for o in state.list(k)]
    choices: list[str] = []
    if workloads:
        choices += ["scale", "image", "delete", "pause"]
    if state.nodes():
        choices += ["cordon", "label", "taint"]
    if state.pods():
        choices.append("delete-pod")
    if not choices:
        return Tick(1)
    what = draw(st.sampled_from(choices))
    if what == "cordon":
        node = draw(st.sampled_from(state.nodes()))
        return Cordon(node.name, not node.spec.unschedulable)
    if what == "label":
        node = draw(st.sampled_from(state.nodes()))
        value = draw(st.sampled_from(["ssd", "hdd", None]))
        return LabelNode(node.name, FrozenDict({"disktype": value}))
    if what == "taint":
        node = draw(st.sampled_from(state.nodes()))
        effect = draw(st.sampled_from(["NoSchedule", "NoExecute"]))
        present = any(t.key == "dedicated" and t.effect == effect for t in node.spec.taints)
        return TaintNode(node.name, "dedicated", effect, "gpu", remove=present)
    if what == "delete-pod":
        pod = draw(st.sampled_from(state.pods()))
        return DeleteObject("Pod", pod.metadata.namespace, pod.metadata.name, grace_period=draw(st.sampled_from([None, 0])))
    w = draw(st.sampled_from(workloads))
    ns, name = w.metadata.namespace, w.metadata.name
    if what == "scale" and w.kind in SCALABLE:
        return Scale(w.kind, ns, name, draw(st.integers(0, 5)))
    if what == "scale" and w.kind == "Job":
        return Patch(w.kind, ns, name, FrozenDict({"spec": FrozenDict({"parallelism": draw(st.integers(0, 3))})}))
    if what == "image" and w.kind != "CronJob":
        return SetImage(w.kind, ns, name, draw(st.sampled_from(ks.IMAGES)))
    if what == "pause" and w.kind == "Deployment":
        return Patch(w.kind, ns, name, FrozenDict({"spec": FrozenDict({"paused": not w.spec.paused})}))
    if what == "pause" and w.kind in SUSPENDABLE:
        return Patch(w.kind, ns, name, FrozenDict({"spec": FrozenDict({"suspend": not w.spec.suspend})}))
    return DeleteObject(w.kind, ns, name, propagation=draw(st.sampled_from(PROPAGATIONS)))


@st.composite
def fault_action(draw: st.DrawFn, state: ClusterState, kinds: tuple[str, ...], budget_left: bool) -> Performed | None:
    """A fault the environment may inflict on `state`."""
    options: list[Performed] = []
    nodes = state.nodes()
    down = state.env.down_nodes
    if budget_left:
        if "fail" in kinds:
            options += [FailNode(n.name) for n in nodes if n.name not in down]
        if "remove" in kinds:
            options += [RemoveNode(n.name) for n in nodes]
        if "add" in kinds:
            taken = {n.name for n in nodes}
            free = next(f"n{i}" for i in range(1, 100) if f"n{i}" not in taken)
            options.append(AddNode(draw(ks.nodes(name=free))))
    if "recover" in kinds:
        options += [RecoverNode(n) for n in sorted(down)]
    if "exit" in kinds:
        for pod in state.pods():
            if pod.spec.node_name and pod.spec.node_name not in down:
                for cs in pod.status.container_statuses:
                    if cs.state.running is not None:
                        options.append(ExitContainer(pod.metadata.namespace, pod.metadata.name, cs.name, draw(st.sampled_from([0, 1]))))
    if not options:
        return None
    return draw(st.sampled_from(options))


def build_machine(spec: MachineSpec) -> type[RuleBasedStateMachine]:
    """A RuleBasedStateMachine class exploring `spec`."""
    model = spec.model
    checker = Checker(spec.invariants, spec.stats)

    class ClusterMachine(RuleBasedStateMachine):
        """Random interleavings of user actions, faults, controller steps and time."""

        def __init__(self) -> None:
            super().__init__()
            self.state: ClusterState = empty_state()
            spec.recording.initial = []
            spec.recording.steps = []
            if spec.on_example is not None:
                spec.on_example()

        def _check(self, found: list[Any], where: str) -> None:
            if found:
                raise InvariantViolation(found, where)

        def _do(self, action: Action) -> None:
            prev = self.state
            self.state = model.step(prev, action)
            spec.recording.steps.append(action)
            self._check(checker.transition_(prev, action, self.state), f"after {action.describe()}")

        @initialize(objects=st.just([]) if spec.initial is not None else (spec.setup() if spec.setup is not None else random_cluster()))
        def setup(self, objects: list[Any]) -> None:
            spec.recording.initial = list(objects)
            self.state = spec.initial if spec.initial is not None else initial_state(model, objects)
            self._check(checker.state(self.state), "in the initial state")

        @precondition(lambda self: bool(model.system_successors(self.state)))
        @rule(data=st.data())
        def controller_step(self, data: st.DataObject) -> None:
            """One enabled controller, scheduler, kubelet or GC step."""
            options = model.system_successors(self.state)
            i = data.draw(st.integers(0, len(options) - 1), label="which system action")
            self._do(options[i][0])

        @precondition(lambda self: bool(self.state.inflight))
        @rule(data=st.data())
        def deliver(self, data: st.DataObject) -> None:
            """The API server applies one request in flight (async delivery)."""
            options = model.deliveries(self.state)
            self._do(data.draw(st.sampled_from(options), label="delivery"))

        @precondition(lambda self: spec.user_actions)
        @rule(data=st.data())
        def user(self, data: st.DataObject) -> None:
            """A user action."""
            action = data.draw(user_action(self.state), label="user action")
            self._do(action)

        @precondition(lambda self: bool(spec.faults))
        @rule(data=st.data())
        def fault(self, data: st.DataObject) -> None:
            """A node failure, recovery, removal, addition or a container exit."""
            budget = self.state.env.faults < spec.max_faults
            action = data.draw(fault_action(self.state, spec.faults, budget), label="fault")
            if action is not None:
                self._do(action)

        @precondition(lambda self: not self.state.inflight)  # writes land in the second they are made
        @rule(data=st.data())
        def tick(self, data: st.DataObject) -> None:
            """Time passes: to the next timer of some actor, or by a drawn amount."""
            d = model.next_deadline(self.state)
            choices = [d - self.state.clock] if d is not None else []
            use_deadline = bool(choices) and data.draw(st.booleans(), label="to the next timer")
            seconds = data.draw(st.sampled_from(choices) if use_deadline else st.integers(1, 400), label="seconds")
            self._do(Tick(seconds))

        @rule()
        def settle(self) -> None:
            """Run every actor fairly to a fixpoint, then check the quiescence invariants."""
            prev = self.state
            found: list[Any] = []

            def on_step(a: ClusterState, action: Any, b: ClusterState) -> None:
                found.extend(checker.transition_(a, action, b))

            result = model.settle(prev, max_steps=spec.max_settle_steps, lookahead=spec.settle_lookahead, on_step=on_step)
            self.state = result.state
            spec.recording.steps.append(SETTLE)
            self._check(found, "while settling")
            if result.quiescent:
                self._check(checker.at_quiescence(self.state), "at quiescence")
                if spec.at_fixpoint is not None:
                    self._check(spec.at_fixpoint(self.state), "at quiescence (differential)")
            else:
                from invariants.registry import Violation

                raise InvariantViolation([Violation("settles", result.reason)], "while settling")

    ClusterMachine.__name__ = "ClusterMachine"
    ClusterMachine.__qualname__ = "ClusterMachine"
    return ClusterMachine


def default_settings(max_examples: int, steps: int, *, derandomize: bool = False) -> settings:
    """Settings for exploration runs: no deadline, no example database, one bug reported."""
    return settings(
        max_examples=max_examples,
        stateful_step_count=steps,
        deadline=None,
        database=None,
        derandomize=derandomize,
        report_multiple_bugs=False,
        suppress_health_check=list(HealthCheck),
        print_blob=False,
    )
