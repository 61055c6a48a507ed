"""One pod against the current cluster state: can it go to a given node, can it go
anywhere, and if not, why not.

The other pods stay where they are (the scheduler snapshot: assigned to an existing node
and not terminal), so this is the filter question kube-scheduler asks for one pod,
answered by the Z3 encoding instead of `kmodel.scheduler.filter_failures`.
"""

from __future__ import annotations

from kmodel.objects.pod import Pod
from kmodel.placement.encode import UNSAT, Outcome, SolverLimits, solve
from kmodel.placement.facts import Reason
from kmodel.placement.problem import single_pod_problem
from kmodel.state import ClusterState


def check_binding(state: ClusterState, pod: Pod, node: str, limits: SolverLimits | None = None) -> Outcome:
    """Whether `pod` may be bound to `node` in `state`; when it may not, the unsat core
    names every constraint of that node it breaks (or enough of them to rule it out)."""
    problem = single_pod_problem(state, pod)
    n = problem.node_index().get(node)
    if n is None:
        return Outcome(UNSAT, core=[Reason("NodeExists", f"node {node}: does not exist")])
    quick = solve(problem, limits=limits, scope=[node], force={(0, n): 1})
    if quick.status != UNSAT:
        return quick
    return solve(problem, limits=limits, track=True, scope=[node], force={(0, n): 1})


def find_node(state: ClusterState, pod: Pod, limits: SolverLimits | None = None) -> Outcome:
    """Whether some node can take `pod` now; when sat, `placement` names one (the witness)."""
    return solve(single_pod_problem(state, pod), limits=limits)


def explain_pod(state: ClusterState, pod: Pod, limits: SolverLimits | None = None) -> Outcome:
    """Like `find_node`, but when no node can take the pod the unsat core says, node by
    node, which constraint rules it out."""
    return solve(single_pod_problem(state, pod), limits=limits, track=True)


def witness_node(outcome: Outcome) -> str | None:
    """The node a sat single-pod outcome places the pod on."""
    if not outcome.placement:
        return None
    (nodes,) = outcome.placement.values()
    return next(iter(nodes))
