"""Model throughput on a standard mix: random walks from the built-in scenario's settled
state, taking enabled system actions, user actions, faults and clock steps.

Reports transitions per second (successor states computed), steps per second (actions
taken) and distinct states per second.
"""

from __future__ import annotations

import random
import time
from typing import Any

from kmodel.actions import FailNode, RecoverNode, Scale, SetImage, Tick
from kmodel.explore import default_scenario
from kmodel.model import Model
from kmodel.runner import run_scenario


def model_walks(seconds: float = 5.0, seed: int = 0, walk_length: int = 60) -> dict[str, Any]:
    """Random walks over the standard mix for about `seconds`."""
    scenario = default_scenario()
    model = Model(scenario.config)
    start_state = run_scenario(scenario, model=model).state
    rng = random.Random(seed)
    user = [Scale("Deployment", "default", "web", n) for n in (1, 3, 5)] + [SetImage("Deployment", "default", "web", f"nginx:1.{v}") for v in (25, 26, 27)]
    user += [Scale("ReplicaSet", "default", "cache", n) for n in (0, 2, 4)]
    seen: set[int] = set()
    steps = 0
    walks = 0
    model.transitions = 0
    t0 = time.perf_counter()
    while time.perf_counter() - t0 < seconds:
        state = start_state
        walks += 1
        for _ in range(walk_length):
            succ = model.system_successors(state)
            r = rng.random()
            if succ and r < 0.85:
                action: Any = rng.choice(succ)[0]
            elif r < 0.93:
                action = rng.choice(user)
            elif r < 0.97:
                down = sorted(state.env.down_nodes)
                action = RecoverNode(down[0]) if down else FailNode(rng.choice(["node-1", "node-2", "node-3"]))
            else:
                d = model.next_deadline(state)
                action = Tick(d - state.clock if d is not None else 60)
            state = model.step(state, action)
            steps += 1
            seen.add(state.fingerprint)
    elapsed = time.perf_counter() - t0
    return {
        "seconds": round(elapsed, 2),
        "walks": walks,
        "steps": steps,
        "transitions": model.transitions,
        "distinct_states": len(seen),
        "transitions_per_second": round(model.transitions / elapsed, 1),
        "steps_per_second": round(steps / elapsed, 1),
        "distinct_states_per_second": round(len(seen) / elapsed, 1),
    }


def hypothesis_speed(examples: int = 60, steps: int = 30, seed: int = 0) -> dict[str, Any]:
    """The Hypothesis machine from the built-in scenario: steps and transitions per second."""
    from hypothesis import seed as hseed
    from hypothesis.stateful import run_state_machine_as_test

    from invariants.registry import select
    from kmodel.machine import MachineSpec, build_machine, default_settings

    scenario = default_scenario()
    model = Model(scenario.config)
    start_state = run_scenario(scenario, model=model).state
    spec = MachineSpec(model, select(), initial=start_state)
    machine = build_machine(spec)
    t0 = time.perf_counter()
    run_state_machine_as_test(hseed(seed)(machine), settings=default_settings(examples, steps))
    elapsed = time.perf_counter() - t0
    return {
        "examples": examples,
        "seconds": round(elapsed, 2),
        "checked_steps": spec.stats.transitions,
        "steps_per_second": round(spec.stats.transitions / elapsed, 1),
        "distinct_states": len(spec.stats.states),
    }
