"""The Hypothesis machine over random clusters: the reference model violates no
invariant; and properties of the model interface it relies on."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.stateful import run_state_machine_as_test

from invariants.registry import select
from kmodel import strategies as ks
from kmodel.machine import MachineSpec, build_machine, initial_state, random_cluster
from kmodel.model import Model
from kmodel.validation import validate_object


def test_reference_model_holds_every_invariant_on_random_clusters() -> None:
    spec = MachineSpec(Model(), select())
    run_state_machine_as_test(build_machine(spec), settings=settings())
    assert spec.stats.transitions > 0
    exercised = {name for name, n in spec.stats.exercised.items() if n}
    assert {"replicaset-replicas", "placement-filters", "node-capacity"} <= exercised


def test_reference_model_holds_with_async_delivery() -> None:
    from kmodel.config import ModelConfig

    spec = MachineSpec(Model(ModelConfig(delivery="async")), select(), faults=("exit",))
    run_state_machine_as_test(build_machine(spec), settings=settings(max_examples=10))
    assert spec.stats.actions["Deliver"] > 0


@given(ks.node_sets(), ks.workload_sets())
def test_strategies_produce_valid_objects(nodes: list, workloads: list) -> None:
    for o in nodes + workloads:
        assert validate_object(o) == [], o


@settings(max_examples=15)
@given(random_cluster(), st.lists(st.integers(0, 10_000), max_size=15))
def test_enabled_system_actions_change_the_state_and_settle_is_deterministic(objects: list, picks: list[int]) -> None:
    model = Model()
    state = initial_state(model, objects)
    for pick in picks:
        succ = model.system_successors(state)
        for action, nxt in succ:
            assert nxt != state, f"{action} is enabled but changes nothing"
        if not succ:
            break
        state = succ[pick % len(succ)][1]
    a = Model().settle(state, lookahead=900)
    b = Model().settle(state, lookahead=900)
    assert a.state == b.state and a.actions == b.actions
    if a.quiescent:
        assert Model().is_quiescent(a.state)
