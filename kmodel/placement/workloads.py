"""The pods a set of workloads wants running, built from their templates and replica
counts the way their controllers build them, and the placement problem they pose.

* Deployment: `replicas` pods of the new ReplicaSet's template (the pod-template-hash
  label added; deployment_util.go), the steady state after a rollout (no surge pods);
* ReplicaSet, ReplicationController: `replicas` pods of the template;
* StatefulSet: one pod per ordinal in [start, start + replicas) with its identity labels
  (stateful_set_utils.go newStatefulSetPod);
* DaemonSet: one pod per node that should run it (NodeShouldRunDaemonPod), with the daemon
  tolerations and the node-name affinity (daemon_controller.go, util.CreatePodTemplate);
  the controller-revision-hash label is left out (no selector of the problem can know it);
* a bare Pod without spec.nodeName is one pod to place; with spec.nodeName on a node of
  the problem it is already placed.

Pods for another scheduler (spec.schedulerName) are not the default scheduler's to place
and are left out with a note; so are kinds whose pods are not modelled here (Job, CronJob).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from kmodel.objects.node import Node
from kmodel.objects.pod import DEFAULT_SCHEDULER, Pod
from kmodel.placement.problem import DesiredPod, PlacedPod, Problem, group_pods

WORKLOAD_KINDS = ("Deployment", "ReplicaSet", "ReplicationController", "StatefulSet", "DaemonSet", "Pod")


def describe(obj: Any) -> str:
    """'Kind namespace/name' (or 'Kind name' when cluster-scoped)."""
    ns = obj.metadata.namespace
    return f"{obj.kind} {ns}/{obj.metadata.name}" if ns else f"{obj.kind} {obj.metadata.name}"


def deployment_pods(d: Any) -> list[Pod]:
    """The pods of a Deployment's new ReplicaSet once the rollout is complete."""
    from kmodel.controllers.common import pod_from_template
    from kmodel.controllers.deployment_util import compute_hash, template_with_hash

    h = compute_hash(d.spec.template, d.status.collision_count)
    tpl = template_with_hash(d.spec.template, h)
    return [pod_from_template(d, tpl, generate_name=f"{d.metadata.name}-{h}-") for _ in range(d.spec.replicas)]


def replicated_pods(obj: Any) -> list[Pod]:
    """`replicas` pods of a ReplicaSet's or ReplicationController's template."""
    from kmodel.controllers.common import pod_from_template

    return [pod_from_template(obj, obj.spec.template) for _ in range(obj.spec.replicas)]


def statefulset_pods(sts: Any) -> list[Pod]:
    """One pod per ordinal of a StatefulSet, with its identity."""
    from kmodel.controllers.statefulset import new_pod, start_ordinal

    start = start_ordinal(sts)
    return [new_pod(sts, sts.spec.template, i) for i in range(start, start + sts.spec.replicas)]


def daemonset_pods(ds: Any, nodes: Sequence[Node]) -> list[tuple[str, Pod]]:
    """(node, pod) for every node that should run the DaemonSet's pod."""
    from kmodel.controllers.daemonset import daemon_pod, node_should_run

    out: list[tuple[str, Pod]] = []
    for n in nodes:
        should_run, _ = node_should_run(n, ds)
        if should_run:
            out.append((n.name, daemon_pod(ds, n.name, "", None)))
    return out


@dataclass
class Workloads:
    """What a set of objects asks for: the nodes, the pods to place (per workload), the
    pods already on nodes, and notes on what was left out."""

    nodes: list[Node] = field(default_factory=list)
    desired: list[DesiredPod] = field(default_factory=list)
    placed: list[PlacedPod] = field(default_factory=list)
    workloads: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    def problem(self) -> Problem:
        """The placement problem: every desired pod, grouped, on the nodes."""
        return Problem(nodes=tuple(self.nodes), placed=tuple(self.placed), groups=group_pods(self.desired, self.placed))

    def desired_by_workload(self) -> dict[str, int]:
        """Workload name → number of pods it wants running."""
        out = {w: 0 for w in self.workloads}
        for d in self.desired:
            out[d.workload] = out.get(d.workload, 0) + 1
        return out


def collect(objects: Iterable[Any]) -> Workloads:
    """Sort objects into nodes, desired pods and placed pods."""
    objs = list(objects)
    out = Workloads(nodes=sorted((o for o in objs if o.kind == "Node"), key=lambda n: n.name))
    names = {n.name for n in out.nodes}
    for o in objs:
        if o.kind == "Node":
            continue
        if o.kind not in WORKLOAD_KINDS:
            if o.kind in ("Job", "CronJob"):
                out.notes.append(f"{describe(o)}: the pods of a {o.kind} are not included in the placement")
            continue
        what = describe(o)
        if o.kind == "Pod" and o.spec.node_name:
            if o.spec.node_name in names and not o.terminal:
                out.placed.append(PlacedPod(o, o.spec.node_name))
            else:
                out.notes.append(f"{what}: spec.nodeName {o.spec.node_name} is not one of the nodes; left out")
            continue
        template_spec = o.spec if o.kind == "Pod" else o.spec.template.spec
        if template_spec.scheduler_name != DEFAULT_SCHEDULER:
            out.notes.append(f"{what}: schedulerName {template_spec.scheduler_name} is not the default scheduler; left out")
            continue
        out.workloads.append(what)
        out.desired.extend(_desired(o, out.nodes, what))
    return out


def _desired(o: Any, nodes: Sequence[Node], what: str) -> list[DesiredPod]:
    if o.kind == "Pod":
        return [DesiredPod(what, o)]
    if o.kind == "Deployment":
        return [DesiredPod(what, p) for p in deployment_pods(o)]
    if o.kind in ("ReplicaSet", "ReplicationController"):
        return [DesiredPod(what, p) for p in replicated_pods(o)]
    if o.kind == "StatefulSet":
        return [DesiredPod(what, p) for p in statefulset_pods(o)]
    return [DesiredPod(what, p, f"on {node}") for node, p in daemonset_pods(o, nodes)]
