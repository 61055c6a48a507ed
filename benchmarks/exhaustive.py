"""The exhaustive explorer on a ladder of small scopes.

Two families of rungs, each a Deployment on identical nodes (4 cpu, 8 Gi):

* rollout — the Deployment has just been created; every interleaving of the controllers,
  the scheduler and the kubelets creating, binding and starting its replicas, with the
  clock held at the start (no timer fires). With a fault budget, one node may fail at
  any point (its kubelet stops).
* node failure — the Deployment is settled (every replica running); one node may fail
  and the clock may advance 400 s, through the node lifecycle's grace period, the
  NoExecute taint, the eviction after 300 s and the replacement pods. Without a fault
  budget such a scope is a single state, so this family has faulted rungs only.

Each rung is explored with and without symmetry reduction, and a subset again with two
worker processes. Every rung has a budget of distinct states and of wall time; a rung
that hits either is reported as incomplete with the reason, never as complete. Wall time
is measured next to CPU time (the coordinator's and its workers'), since the machine may
be shared.
"""

from __future__ import annotations

import os
import sys
import time
from dataclasses import dataclass
from typing import Any

from invariants.registry import select
from kmodel.actions import AddNode, Apply
from kmodel.exhaustive import Bounds, explore_exhaustive
from kmodel.model import Model, Scope
from kmodel.objects.serde import decode_object
from kmodel.state import ClusterState, empty_state

# (nodes, replicas): a staircase over nodes 1–5 and replicas 1–6
STAIRCASE = [(1, 1), (1, 2), (2, 2), (2, 3), (3, 3), (3, 4), (4, 4), (4, 5), (5, 5), (5, 6)]
QUICK_STAIRCASE = [(1, 1), (1, 2), (2, 2), (2, 3), (3, 3)]
NODE_FAILURE = [(2, 1), (2, 2), (3, 2), (3, 3), (4, 4), (4, 5), (5, 5), (5, 6)]
QUICK_NODE_FAILURE = [(2, 1), (2, 2), (3, 3)]
# rungs also explored with two worker processes (family, nodes, replicas, faults)
PARALLEL = [("rollout", 2, 3, 1), ("rollout", 3, 3, 1), ("node failure", 3, 3, 1)]
QUICK_PARALLEL = [("rollout", 2, 3, 1)]
HORIZON = 400


def _decode(doc: dict[str, Any]) -> Any:
    obj, _ = decode_object(doc)
    return obj


def _node(name: str) -> Any:
    return _decode(
        {
            "apiVersion": "v1",
            "kind": "Node",
            "metadata": {"name": name, "labels": {"kubernetes.io/hostname": name}},
            "status": {"allocatable": {"cpu": "4", "memory": "8Gi", "pods": "110"}},
        }
    )


def _deployment(replicas: int) -> Any:
    template = {"metadata": {"labels": {"app": "web"}}, "spec": {"containers": [{"name": "app", "image": "nginx:1.25"}]}}
    return _decode(
        {
            "apiVersion": "apps/v1",
            "kind": "Deployment",
            "metadata": {"name": "web", "namespace": "default"},
            "spec": {"replicas": replicas, "selector": {"matchLabels": {"app": "web"}}, "template": template},
        }
    )


def scope(family: str, nodes: int, replicas: int, faults: int) -> tuple[Model, ClusterState]:
    """The model and initial state of one rung."""
    base = Model()
    state = empty_state()
    for i in range(nodes):
        state = base.step(state, AddNode(_node(f"n{i + 1}")))
    state = base.step(state, Apply((_deployment(replicas),)))
    if family == "rollout":
        sc = Scope(faults=("fail",), max_faults=faults, horizon=state.clock)
    elif family == "node failure":
        state = base.settle(state).state
        sc = Scope(faults=("fail",), max_faults=faults, horizon=state.clock + HORIZON)
    else:
        raise ValueError(f"unknown family {family!r}")
    return base.with_scope(sc), state


@dataclass(frozen=True)
class Budget:
    """What one rung may spend."""

    max_states: int
    max_seconds: float


def _cpu() -> float:
    t = os.times()
    return t.user + t.system + t.children_user + t.children_system


def run_rung(family: str, nodes: int, replicas: int, faults: int, symmetry: bool, workers: int, budget: Budget) -> dict[str, Any]:
    """Explore one rung within its budget; the figures for the report."""
    model, initial = scope(family, nodes, replicas, faults)
    cpu0 = _cpu()
    t0 = time.perf_counter()
    r = explore_exhaustive(
        model,
        initial,
        select(),
        Bounds(max_states=budget.max_states, max_seconds=budget.max_seconds, stop_at_first_violation=False),
        symmetry=symmetry,
        workers=workers,
        graph=False,
    )
    wall = time.perf_counter() - t0
    cpu = _cpu() - cpu0
    return {
        "family": family,
        "nodes": nodes,
        "replicas": replicas,
        "max faults": faults,
        "symmetry": symmetry,
        "workers": workers,
        "distinct states": r.distinct_states,
        "transitions": r.transitions,
        "depth": r.depth,
        "fixpoints": r.quiescent_states,
        "merged by symmetry": r.merged_by_symmetry,
        "complete": r.complete,
        "stopped": r.stopped,
        "findings": sorted({v.invariant for f in r.findings for v in f.violations}),
        "wall seconds": round(wall, 3),
        "cpu seconds": round(cpu, 3),
        "distinct states per second": round(r.distinct_states / wall, 1) if wall > 0 else None,
        "transitions per second": round(r.transitions / wall, 1) if wall > 0 else None,
        "distinct states per cpu second": round(r.distinct_states / cpu, 1) if cpu > 0 else None,
        "budget": {"max states": budget.max_states, "max seconds": budget.max_seconds},
    }


def _saving(with_sym: dict[str, Any], without: dict[str, Any]) -> dict[str, Any]:
    """States symmetry reduction saves on a rung: exact when both explorations completed."""
    if with_sym["complete"] and without["complete"]:
        plain, reduced = without["distinct states"], with_sym["distinct states"]
        return {"exact": True, "states without": plain, "states with": reduced, "saved fraction": round(1 - reduced / plain, 3) if plain else 0.0}
    return {"exact": False, "note": "an exploration did not complete; no saving is claimed"}


def exhaustive_ladder(quick: bool = False, progress: bool = True) -> dict[str, Any]:
    """Every rung of the ladder (smaller and with tighter budgets with `quick`)."""
    budget = Budget(max_states=20_000, max_seconds=3.0) if quick else Budget(max_states=100_000, max_seconds=15.0)
    plan: list[tuple[str, int, int, int]] = []
    for nodes, replicas in QUICK_STAIRCASE if quick else STAIRCASE:
        plan += [("rollout", nodes, replicas, 0), ("rollout", nodes, replicas, 1)]
    for nodes, replicas in QUICK_NODE_FAILURE if quick else NODE_FAILURE:
        plan.append(("node failure", nodes, replicas, 1))
    rungs: list[dict[str, Any]] = []
    started = time.perf_counter()
    run_rung("rollout", 1, 1, 0, True, 1, budget)  # warm-up: imports and first-use caches (the solver, encoders)
    for family, nodes, replicas, faults in plan:
        pair = {}
        for symmetry in (True, False):
            row = run_rung(family, nodes, replicas, faults, symmetry, 1, budget)
            pair[symmetry] = row
            rungs.append(row)
            if progress:
                _show(row)
        pair[True]["symmetry saving"] = _saving(pair[True], pair[False])
    for family, nodes, replicas, faults in QUICK_PARALLEL if quick else PARALLEL:
        row = run_rung(family, nodes, replicas, faults, True, 2, budget)
        serial = next(r for r in rungs if _rung_id(r) == (family, nodes, replicas, faults, True, 1))
        row["speed-up over 1 worker"] = (
            round(row["distinct states per second"] / serial["distinct states per second"], 2) if serial["distinct states per second"] else None
        )
        if row["complete"] and serial["complete"]:
            row["same counts as 1 worker"] = (row["distinct states"], row["transitions"], row["depth"]) == (
                serial["distinct states"],
                serial["transitions"],
                serial["depth"],
            )
        rungs.append(row)
        if progress:
            _show(row)
    complete = [r for r in rungs if r["complete"]]
    total_states = sum(r["distinct states"] for r in rungs if r["workers"] == 1)
    total_wall = sum(r["wall seconds"] for r in rungs if r["workers"] == 1)
    return {
        "budget per rung": {"max states": budget.max_states, "max seconds": budget.max_seconds},
        "rungs": rungs,
        "summary": {
            "rungs": len(rungs),
            "complete": len(complete),
            "incomplete": len(rungs) - len(complete),
            "largest complete rung (states)": max((r["distinct states"] for r in complete), default=0),
            "distinct states per second, 1 worker, all rungs": round(total_states / total_wall, 1) if total_wall else None,
            "seconds": round(time.perf_counter() - started, 1),
        },
    }


def _rung_id(r: dict[str, Any]) -> tuple[Any, ...]:
    return (r["family"], r["nodes"], r["replicas"], r["max faults"], r["symmetry"], r["workers"])


def _show(row: dict[str, Any]) -> None:
    status = "complete" if row["complete"] else f"INCOMPLETE ({row['stopped']})"
    sys.stderr.write(
        f"  {row['family']:12} n={row['nodes']} r={row['replicas']} faults={row['max faults']} sym={'on ' if row['symmetry'] else 'off'} "
        f"w={row['workers']}: {row['distinct states']} states, {row['transitions']} transitions, depth {row['depth']}, "
        f"{row['wall seconds']} s ({row['distinct states per second']} states/s), {status}\n"
    )


def table(result: dict[str, Any]) -> str:
    """A Markdown table of the ladder (for docs/benchmarks.md)."""
    lines = [
        "| family | nodes | replicas | faults | symmetry | workers | states | transitions | depth | wall s | cpu s "
        "| states/s | transitions/s | states/cpu s | complete | symmetry saving |",
        "|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for r in result["rungs"]:
        saving = r.get("symmetry saving")
        sv = "" if saving is None else (f"{saving['saved fraction']:.0%}" if saving["exact"] else "n/a (incomplete)")
        done = "yes" if r["complete"] else f"no: {r['stopped']}"
        lines.append(
            f"| {r['family']} | {r['nodes']} | {r['replicas']} | {r['max faults']} | {'on' if r['symmetry'] else 'off'} | {r['workers']} | "
            f"{r['distinct states']} | {r['transitions']} | {r['depth']} | {r['wall seconds']} | {r['cpu seconds']} | "
            f"{r['distinct states per second']} | {r['transitions per second']} | {r['distinct states per cpu second']} | {done} | {sv} |"
        )
    return "\n".join(lines)


if __name__ == "__main__":
    import json

    out = exhaustive_ladder(quick="--quick" in sys.argv)
    print(json.dumps(out["summary"], indent=2))
    print(table(out))
