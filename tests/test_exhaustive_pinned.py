"""Pinned sizes of small exhaustive scopes: distinct states, transitions and BFS depth.

The exhaustive explorer visits every interleaving a scope allows, so these counts move
whenever the model's behaviour does — a controller that writes one more time, a
fingerprint that tells apart two states that used to be equal (or conflates two that
were not), a symmetry reduction that merges more or less. A change that moves them by
accident fails here; a deliberate model change updates the literals below. Print the
current values with

    .venv/bin/python -m tests.test_exhaustive_pinned

and copy them into PINNED after checking the change explains the difference.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from invariants.registry import select
from kmodel.exhaustive import Bounds, ExhaustiveResult, explore_exhaustive
from kmodel.model import Model, Scope
from kmodel.state import ClusterState
from tests.builders import cluster, node, obj, replicaset, template

NS = "default"


def deployment(name: str, replicas: int) -> Any:
    """A Deployment selecting app=<name> (default RollingUpdate strategy)."""
    return obj(
        {
            "apiVersion": "apps/v1",
            "kind": "Deployment",
            "metadata": {"name": name, "namespace": NS},
            "spec": {"replicas": replicas, "selector": {"matchLabels": {"app": name}}, "template": template(name)},
        }
    )


def daemonset(name: str) -> Any:
    """A DaemonSet selecting app=<name>."""
    return obj(
        {
            "apiVersion": "apps/v1",
            "kind": "DaemonSet",
            "metadata": {"name": name, "namespace": NS},
            "spec": {"selector": {"matchLabels": {"app": name}}, "template": template(name)},
        }
    )


def statefulset(name: str, replicas: int) -> Any:
    """A StatefulSet without claim templates (OrderedReady)."""
    return obj(
        {
            "apiVersion": "apps/v1",
            "kind": "StatefulSet",
            "metadata": {"name": name, "namespace": NS},
            "spec": {"replicas": replicas, "serviceName": name, "selector": {"matchLabels": {"app": name}}, "template": template(name, grace=5)},
        }
    )


def _nodes(n: int) -> list[Any]:
    return [node(f"n{i + 1}") for i in range(n)]


def deployment_node_failure() -> tuple[Model, ClusterState]:
    """A Deployment of 2 replicas just created on 2 nodes; one node may fail at any point
    of the rollout; the clock stays at 0 (no timer fires)."""
    m = Model(scope=Scope(faults=("fail",), max_faults=1, horizon=0))
    return m, cluster(m, _nodes(2), [deployment("web", 2)], settle=False)


def replicaset_container_exit() -> tuple[Model, ClusterState]:
    """A ReplicaSet of 2 replicas just created on 1 node; one container may exit (code 1)
    at any point; the clock may advance up to 400 s."""
    m = Model(scope=Scope(faults=("exit",), max_exits=1, horizon=400))
    return m, cluster(m, _nodes(1), [replicaset("web", 2)], settle=False)


def daemonset_node_failure() -> tuple[Model, ClusterState]:
    """A DaemonSet just created on 2 nodes; one node may fail; the clock stays at 0."""
    m = Model(scope=Scope(faults=("fail",), max_faults=1, horizon=0))
    return m, cluster(m, _nodes(2), [daemonset("agent")], settle=False)


def statefulset_rollout() -> tuple[Model, ClusterState]:
    """A StatefulSet of 2 replicas just created on 1 node; no faults, no clock."""
    m = Model(scope=Scope(horizon=0))
    return m, cluster(m, _nodes(1), [statefulset("db", 2)], settle=False)


SCOPES: dict[str, Callable[[], tuple[Model, ClusterState]]] = {
    "deployment-2x2-node-failure": deployment_node_failure,
    "replicaset-2x1-container-exit": replicaset_container_exit,
    "daemonset-2-nodes-node-failure": daemonset_node_failure,
    "statefulset-2x1-rollout": statefulset_rollout,
}

# (scope, symmetry reduction) → (distinct states, transitions, maximum BFS depth)
PINNED: dict[tuple[str, bool], tuple[int, int, int]] = {
    ("daemonset-2-nodes-node-failure", False): (93, 176, 11),
    ("daemonset-2-nodes-node-failure", True): (91, 174, 11),
    ("deployment-2x2-node-failure", False): (1524, 4289, 14),
    ("deployment-2x2-node-failure", True): (766, 2162, 14),
    ("replicaset-2x1-container-exit", False): (139, 332, 12),
    ("replicaset-2x1-container-exit", True): (139, 332, 12),
    ("statefulset-2x1-rollout", False): (22, 29, 11),
    ("statefulset-2x1-rollout", True): (22, 29, 11),
}


def explore(scope: str, symmetry: bool, workers: int = 1) -> ExhaustiveResult:
    """Explore one pinned scope to completion with every invariant."""
    model, initial = SCOPES[scope]()
    return explore_exhaustive(
        model, initial, select(), Bounds(max_states=50_000, stop_at_first_violation=False), symmetry=symmetry, workers=workers, graph=False
    )


def counts(r: ExhaustiveResult) -> tuple[int, int, int]:
    """The pinned triple of a result."""
    return (r.distinct_states, r.transitions, r.depth)


@pytest.mark.parametrize(("scope", "symmetry"), sorted(PINNED))
def test_pinned_counts(scope: str, symmetry: bool) -> None:
    r = explore(scope, symmetry)
    assert r.complete, r.stopped
    assert not r.findings and not r.livelocks
    assert counts(r) == PINNED[scope, symmetry]


def test_symmetry_saves_states_on_the_deployment_scope() -> None:
    reduced = PINNED["deployment-2x2-node-failure", True]
    plain = PINNED["deployment-2x2-node-failure", False]
    assert reduced[0] < plain[0] and reduced[1] < plain[1]
    assert reduced[2] == plain[2], "symmetry reduction keeps the depth of a breadth-first search"


def test_serial_and_two_processes_agree() -> None:
    r = explore("daemonset-2-nodes-node-failure", True, workers=2)
    assert r.complete
    assert counts(r) == PINNED["daemonset-2-nodes-node-failure", True]


def current() -> dict[tuple[str, bool], tuple[int, int, int]]:
    """The counts the model gives now, for every pinned scope."""
    return {(scope, symmetry): counts(explore(scope, symmetry)) for scope in sorted(SCOPES) for symmetry in (False, True)}


if __name__ == "__main__":
    for key, value in current().items():
        print(f"    {key!r}: {value!r},")
