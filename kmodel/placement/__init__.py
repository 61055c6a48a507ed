"""Placement with Z3: can pods be placed, where, and if not, why not.

A second, independent encoding of kube-scheduler's filters (the model's own is
`kmodel.scheduler.filter_failures`), for one pod against the current state or for every
desired pod of a set of workloads against a set of nodes.

* `problem`: the question as data — nodes, pods already placed, and groups of
  interchangeable pods (equal namespace, requests, placement fields and every label a
  selector of the problem reads), so the encoding decides one integer per (group, node);
* `facts`: what the scheduler's predicates decide without looking at the new pods
  (NodeName, NodeUnschedulable, NodeAffinity with nodeSelector, TaintToleration, resources
  a node lacks, anti-affinity against placed pods in both directions, missing topology
  keys), each ruled-out pair with a named `Reason`;
* `encode`: the Z3 part — demand, NodeResourcesFit per node and resource (pods included),
  required anti-affinity and affinity between new pods, PodTopologySpread (DoNotSchedule,
  minDomains); `solve` answers sat (with a placement as witness), unsat (with an unsat
  core of named constraints when explaining) or unknown (time-out or resource limit —
  never a pass). Larger problems are first searched group by group (each group decided
  by Z3 with the earlier groups as placed pods, the result then checked by Z3 against the
  full encoding), then jointly; only the joint search answers unsat;
* `single`: one pod against a `ClusterState` (`check_binding`, `find_node`, `explain_pod`);
* `workloads`: the desired pods of Deployments, ReplicaSets, ReplicationControllers,
  StatefulSets, DaemonSets and bare Pods, built from their templates;
* `analysis`: a whole set — feasible or not (why not: per-pod, per-group and joint
  cores), and fragmentation when the model's greedy scheduler (`Model().settle`) strands
  pods a full placement fits; `kmodel placement` prints it;
* `inputs`: reading the manifests of `kmodel placement`.

Deviations from the scheduler's semantics, and why:

* one pod: none intended — `tests/test_placement.py` checks agreement with
  `filter_failures` node by node on random clusters, including which filter the core
  blames. VolumeBinding is the exception to independence: whether a pod's claims are
  bound, provisionable or pinned to a node is taken from the model's filter
  (`Problem.volume_blocks`), not encoded. What `kmodel.scheduler` leaves out is left out
  here too (preemption, NodePorts, namespaceSelector and matchLabelKeys,
  nodeAffinityPolicy/nodeTaintsPolicy other than their defaults, scoring);
* a set of new pods is judged on its final configuration, as if every pod were checked
  with all the others in place, not in the order the scheduler would bind them.
  Anti-affinity and capacity do not depend on the order. Spread is checked as
  count(D) − min ≤ maxSkew for every domain that receives pods of the group: exact for one
  group whose selector counts only itself (for one pod it coincides with the scheduler's
  count + 1 − min, since maxSkew ≥ 1); when several new groups feed one selector an
  order may be needed that the final state does not show. Required pod affinity counts
  a matching pod of another new group as present, and allows one "first pod" domain per
  term when no placed pod matches — so two groups that each require the other are
  judged placeable although no binding order exists;
* desired pods are the steady state: a Deployment's replicas of its new ReplicaSet (no
  surge pods), a DaemonSet's pod per eligible node without the controller-revision-hash
  label; Jobs and CronJobs, and pods for another scheduler, are left out with a note.
"""

from __future__ import annotations

from kmodel.placement.encode import SAT, UNKNOWN, UNSAT, Outcome, SolverLimits, solve
from kmodel.placement.facts import Reason
from kmodel.placement.problem import DesiredPod, PlacedPod, PodGroup, Problem, group_pods
from kmodel.placement.single import check_binding, explain_pod, find_node, witness_node

__all__ = [
    "SAT",
    "UNKNOWN",
    "UNSAT",
    "DesiredPod",
    "Outcome",
    "PlacedPod",
    "PodGroup",
    "Problem",
    "Reason",
    "SolverLimits",
    "check_binding",
    "explain_pod",
    "find_node",
    "group_pods",
    "solve",
    "witness_node",
]
