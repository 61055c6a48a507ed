"""kmodel.placement: the Z3 encoding of the scheduler's filters.

* single pods, one constraint kind at a time, feasible and infeasible, and in agreement
  with kmodel.scheduler.filter_failures;
* the same agreement on random small clusters (Hypothesis), including which filter the
  unsat core blames;
* unsat cores naming the constraints;
* whole sets of workloads: desired pods from templates, grouping, infeasibility
  explanations, and a fragmentation example where the greedy scheduler strands a pod;
* solver limits give "unknown", never a pass;
* the `kmodel placement` command: output, exit codes, input errors.
"""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

from kmodel import apiserver
from kmodel.actions import AddNode, Apply
from kmodel.cli import app
from kmodel.config import ModelConfig
from kmodel.model import Model
from kmodel.objects.serde import decode_object
from kmodel.placement.analysis import analyse_workloads
from kmodel.placement.encode import SAT, UNKNOWN, UNSAT, SolverLimits, solve
from kmodel.placement.problem import PodGroup, Problem
from kmodel.placement.single import check_binding, explain_pod, find_node, witness_node
from kmodel.placement.workloads import collect
from kmodel.scheduler import filter_failures
from kmodel.state import ClusterState, empty_state

CFG = ModelConfig()
HOST = "kubernetes.io/hostname"
ZONE = "topology.kubernetes.io/zone"
runner = CliRunner()


# ---- builders -----------------------------------------------------------------------------------------


def decode(doc: dict[str, Any]) -> Any:
    obj, _ = decode_object(doc)
    return obj


def node_doc(
    name: str,
    *,
    cpu: str = "4",
    memory: str = "8Gi",
    pods: int = 110,
    labels: dict[str, str] | None = None,
    taints: list[dict[str, Any]] | None = None,
    unschedulable: bool = False,
    extra: dict[str, str] | None = None,
) -> dict[str, Any]:
    return {
        "apiVersion": "v1",
        "kind": "Node",
        "metadata": {"name": name, "labels": {HOST: name, **(labels or {})}},
        "spec": {"taints": taints or [], "unschedulable": unschedulable},
        "status": {"allocatable": {"cpu": cpu, "memory": memory, "pods": str(pods), **(extra or {})}},
    }


def node(name: str, **kw: Any) -> Any:
    return decode(node_doc(name, **kw))


def pod_spec(cpu: str | None = None, memory: str | None = None, extra: dict[str, str] | None = None, **spec: Any) -> dict[str, Any]:
    requests = {k: v for k, v in (("cpu", cpu), ("memory", memory)) if v is not None} | (extra or {})
    container: dict[str, Any] = {"name": "c", "image": "x"}
    if requests:
        container["resources"] = {"requests": requests}
    return {"containers": [container], **spec}


def pod(
    name: str,
    *,
    labels: dict[str, str] | None = None,
    cpu: str | None = None,
    memory: str | None = None,
    extra: dict[str, str] | None = None,
    namespace: str = "default",
    **spec: Any,
) -> Any:
    return decode(
        {
            "apiVersion": "v1",
            "kind": "Pod",
            "metadata": {"name": name, "namespace": namespace, "labels": labels or {"app": name}},
            "spec": pod_spec(cpu, memory, extra, **spec),
        }
    )


def world(nodes: list[Any], pending: list[Any] = (), bound: list[tuple[Any, str]] = ()) -> ClusterState:  # type: ignore[assignment]
    """Nodes, pods bound through the binding subresource, and pending pods."""
    m = Model(actors=[])
    s = empty_state()
    for n in nodes:
        s = m.step(s, AddNode(n))
    for p, n in bound:
        s = m.step(s, Apply((p,)))
        tx = s.edit()
        assert apiserver.apply(tx, apiserver.Bind(p.metadata.namespace, p.metadata.name, n), CFG).ok
        s = tx.commit()
    for p in pending:
        s = m.step(s, Apply((p,)))
    return s


def anti(selector: dict[str, str], key: str = HOST) -> dict[str, Any]:
    return {"podAntiAffinity": {"requiredDuringSchedulingIgnoredDuringExecution": [{"topologyKey": key, "labelSelector": {"matchLabels": selector}}]}}


def affinity(selector: dict[str, str], key: str = HOST) -> dict[str, Any]:
    return {"podAffinity": {"requiredDuringSchedulingIgnoredDuringExecution": [{"topologyKey": key, "labelSelector": {"matchLabels": selector}}]}}


def spread(selector: dict[str, str], key: str = ZONE, max_skew: int = 1, **extra: Any) -> list[dict[str, Any]]:
    return [{"maxSkew": max_skew, "topologyKey": key, "whenUnsatisfiable": "DoNotSchedule", "labelSelector": {"matchLabels": selector}, **extra}]


def verdicts(s: ClusterState, name: str) -> dict[str, tuple[bool, bool, list[str]]]:
    """Per node: (Z3 says feasible, filter_failures says feasible, Z3's reasons)."""
    p = s.get("Pod", "default", name)
    out = {}
    for n in s.nodes():
        o = check_binding(s, p, n.name)
        assert o.status in (SAT, UNSAT), o.unknown
        out[n.name] = (o.status == SAT, not filter_failures(s, p, n), [r.text for r in o.reasons()])
    return out


def feasible_nodes(s: ClusterState, name: str) -> set[str]:
    """Nodes Z3 accepts for the pod, after checking that filter_failures agrees on every node."""
    v = verdicts(s, name)
    for n, (z, f, why) in v.items():
        assert z == f, f"node {n}: z3 {z}, filter_failures {f}: {why}"
    return {n for n, (z, _, _) in v.items() if z}


# ---- single pods, one constraint kind at a time -----------------------------------------------------------


def test_node_name_and_unschedulable() -> None:
    tol = [{"key": "node.kubernetes.io/unschedulable", "operator": "Exists", "effect": "NoSchedule"}]
    s = world([node("n1", unschedulable=True), node("n2"), node("n3")], pending=[pod("pinned", nodeName="n3"), pod("plain"), pod("tolerant", tolerations=tol)])
    assert feasible_nodes(s, "pinned") == {"n3"}
    assert feasible_nodes(s, "plain") == {"n2", "n3"}
    assert feasible_nodes(s, "tolerant") == {"n1", "n2", "n3"}
    assert verdicts(s, "plain")["n1"][2] == ["node n1: unschedulable (cordoned)"]
    assert verdicts(s, "pinned")["n1"][2] == ["node n1: the pod names node n3 in spec.nodeName"]


def test_resources_cpu_memory_pods_and_extended() -> None:
    s = world(
        [node("n1", cpu="1", memory="1Gi"), node("n2", cpu="4", pods=1), node("n3", extra={"example.com/gpu": "1"}), node("n4")],
        pending=[pod("big", cpu="2", memory="512Mi"), pod("gpu", extra={"example.com/gpu": "1"}), pod("mem", memory="2Gi")],
        bound=[(pod("old", cpu="800m"), "n1"), (pod("filler"), "n2")],
    )
    assert feasible_nodes(s, "big") == {"n3", "n4"}
    assert feasible_nodes(s, "gpu") == {"n3"}
    assert feasible_nodes(s, "mem") == {"n3", "n4"}
    why = verdicts(s, "big")
    assert "node n1: insufficient cpu (request 2000m, free 200m)" in why["n1"][2]
    assert why["n2"][2] == ["node n2: too many pods (allocatable 1, already 1)"]
    assert verdicts(s, "gpu")["n4"][2] == ["node n4: no allocatable example.com/gpu (request 1)"]
    assert verdicts(s, "mem")["n1"][2] == ["node n1: insufficient memory (request 2Gi, free 1Gi)"]


def test_node_selector_and_required_node_affinity() -> None:
    req = {
        "nodeAffinity": {
            "requiredDuringSchedulingIgnoredDuringExecution": {
                "nodeSelectorTerms": [
                    {"matchExpressions": [{"key": "gen", "operator": "Gt", "values": ["3"]}]},
                    {"matchFields": [{"key": "metadata.name", "operator": "In", "values": ["n1"]}]},
                ]
            }
        }
    }
    s = world(
        [node("n1", labels={"disk": "hdd"}), node("n2", labels={"disk": "ssd", "gen": "5"}), node("n3", labels={"gen": "2"})],
        pending=[pod("ssd", nodeSelector={"disk": "ssd"}), pod("modern", affinity=req)],
    )
    assert feasible_nodes(s, "ssd") == {"n2"}
    assert feasible_nodes(s, "modern") == {"n1", "n2"}
    assert verdicts(s, "ssd")["n1"][2] == ["node n1: nodeSelector disk=ssd does not match (disk=hdd)"]
    assert verdicts(s, "ssd")["n3"][2] == ["node n3: nodeSelector disk=ssd does not match (no label disk)"]
    assert verdicts(s, "modern")["n3"][2] == ["node n3: required node affinity does not match"]


def test_taints_and_tolerations() -> None:
    s = world(
        [
            node("n1", taints=[{"key": "dedicated", "value": "gpu", "effect": "NoSchedule"}]),
            node("n2", taints=[{"key": "evict", "effect": "NoExecute"}]),
            node("n3", taints=[{"key": "meh", "effect": "PreferNoSchedule"}]),
        ],
        pending=[
            pod("plain"),
            pod("gpu", tolerations=[{"key": "dedicated", "operator": "Equal", "value": "gpu", "effect": "NoSchedule"}]),
            pod("all", tolerations=[{"operator": "Exists"}]),
        ],
    )
    assert feasible_nodes(s, "plain") == {"n3"}  # PreferNoSchedule never filters
    assert feasible_nodes(s, "gpu") == {"n1", "n3"}
    assert feasible_nodes(s, "all") == {"n1", "n2", "n3"}
    assert verdicts(s, "plain")["n1"][2] == ["node n1: untolerated taint dedicated=gpu:NoSchedule"]
    assert verdicts(s, "plain")["n2"][2] == ["node n2: untolerated taint evict:NoExecute"]


def test_anti_affinity_by_hostname_and_zone_both_directions() -> None:
    nodes = [node("a1", labels={ZONE: "a"}), node("a2", labels={ZONE: "a"}), node("b1", labels={ZONE: "b"}), node("c1")]
    s = world(
        nodes,
        pending=[
            pod("web", labels={"app": "web"}, affinity=anti({"app": "web"})),
            pod("zonal", labels={"app": "zonal"}, affinity=anti({"app": "web"}, ZONE)),
            pod("victim", labels={"app": "db"}),
        ],
        bound=[(pod("w0", labels={"app": "web"}), "a1"), (pod("guard", labels={"app": "guard"}, affinity=anti({"app": "db"}, ZONE)), "b1")],
    )
    assert feasible_nodes(s, "web") == {"a2", "b1", "c1"}
    assert feasible_nodes(s, "zonal") == {"b1", "c1"}  # c1 has no zone label: the term does not apply there
    assert feasible_nodes(s, "victim") == {"a1", "a2", "c1"}  # the placed guard's term blocks zone b
    assert verdicts(s, "web")["a1"][2] == [f"node a1: anti-affinity with pod default/w0 on {HOST}=a1"]
    assert verdicts(s, "victim")["b1"][2] == [f"node b1: pod default/guard has anti-affinity to this pod on {ZONE}=b"]


def test_anti_affinity_counts_terminating_pods_but_not_terminal_ones() -> None:
    s = world(
        [node("n1"), node("n2")],
        pending=[pod("web", labels={"app": "web"}, affinity=anti({"app": "web"}))],
        bound=[(pod("old", labels={"app": "web"}), "n1"), (pod("done", labels={"app": "web"}), "n2")],
    )
    tx = s.edit()
    assert apiserver.apply(tx, apiserver.Delete(s.get("Pod", "default", "old").ref), CFG).ok
    done = s.get("Pod", "default", "done")
    from dataclasses import replace

    assert apiserver.apply(tx, apiserver.Update(replace(done, status=replace(done.status, phase="Succeeded")), status=True), CFG).ok
    s = tx.commit()
    assert feasible_nodes(s, "web") == {"n2"}


def test_topology_spread_max_skew() -> None:
    nodes = [node("a1", labels={ZONE: "a"}), node("a2", labels={ZONE: "a"}), node("b1", labels={ZONE: "b"}), node("nozone")]
    bound = [(pod(f"w{i}", labels={"app": "web"}), "a1") for i in range(2)]
    s = world(
        nodes,
        pending=[
            pod("web", labels={"app": "web"}, topologySpreadConstraints=spread({"app": "web"})),
            pod("loose", labels={"app": "web"}, topologySpreadConstraints=spread({"app": "web"}, max_skew=3)),
            pod("other", labels={"app": "other"}, topologySpreadConstraints=spread({"app": "web"})),
        ],
        bound=bound,
    )
    assert feasible_nodes(s, "web") == {"b1"}  # zone a: 2 + 1 − 0 > 1; nozone lacks the key
    assert feasible_nodes(s, "loose") == {"a1", "a2", "b1"}  # 2 + 1 − 0 ≤ 3
    assert feasible_nodes(s, "other") == {"b1"}  # it does not match its own selector, still a: 2 − 0 > 1
    why = verdicts(s, "web")
    assert why["nozone"][2] == [f"node nozone: lacks topology key {ZONE} (topology spread)"]
    assert why["a2"][2] == [f"node a2: topology spread on {ZONE} (maxSkew 1) exceeded: {ZONE}=a holds 2 matching pod(s) + 1, the least loaded domain 0"]


def test_topology_spread_min_domains_makes_the_minimum_zero() -> None:
    nodes = [node("a1", labels={ZONE: "a"}), node("b1", labels={ZONE: "b"})]
    bound = [(pod("w0", labels={"app": "web"}), "a1"), (pod("w1", labels={"app": "web"}), "a1"), (pod("w2", labels={"app": "web"}), "b1")]
    s = world(
        nodes,
        pending=[
            pod("plain", labels={"app": "web"}, topologySpreadConstraints=spread({"app": "web"}, max_skew=2)),
            pod("md", labels={"app": "web"}, topologySpreadConstraints=spread({"app": "web"}, max_skew=2, minDomains=3)),
        ],
        bound=bound,
    )
    assert feasible_nodes(s, "plain") == {"a1", "b1"}  # a: 2 + 1 − 1 ≤ 2
    assert feasible_nodes(s, "md") == {"b1"}  # 2 domains < minDomains 3: minimum 0, a: 2 + 1 − 0 > 2


def test_spread_ignores_terminating_pods_and_other_namespaces() -> None:
    nodes = [node("a1", labels={ZONE: "a"}), node("b1", labels={ZONE: "b"})]
    s = world(
        nodes,
        pending=[pod("web", labels={"app": "web"}, topologySpreadConstraints=spread({"app": "web"}))],
        bound=[(pod("x", labels={"app": "web"}, namespace="other"), "a1"), (pod("y", labels={"app": "web"}), "a1")],
    )
    assert feasible_nodes(s, "web") == {"b1"}
    tx = s.edit()
    assert apiserver.apply(tx, apiserver.Delete(s.get("Pod", "default", "y").ref), CFG).ok
    assert feasible_nodes(tx.commit(), "web") == {"a1", "b1"}


def test_required_pod_affinity_and_the_first_pod_rule() -> None:
    nodes = [node("a1", labels={ZONE: "a"}), node("b1", labels={ZONE: "b"}), node("nozone")]
    s = world(
        nodes,
        pending=[
            pod("follower", labels={"app": "f"}, affinity=affinity({"app": "cache"}, ZONE)),
            pod("first", labels={"app": "solo"}, affinity=affinity({"app": "solo"}, ZONE)),
        ],
        bound=[(pod("cache", labels={"app": "cache"}), "b1")],
    )
    assert feasible_nodes(s, "follower") == {"b1"}
    assert feasible_nodes(s, "first") == {"a1", "b1"}  # no pod matches and it matches itself: anywhere with the key
    assert verdicts(s, "follower")["a1"][2] == [f"node a1: pod affinity on {ZONE}: no matching pod in {ZONE}=a"]
    assert verdicts(s, "first")["nozone"][2] == [f"node nozone: lacks topology key {ZONE} (pod affinity)"]


# ---- agreement with filter_failures on random clusters ------------------------------------------------------


LABELS = st.sampled_from([{"app": "web"}, {"app": "db"}, {"app": "web", "tier": "x"}])
SELECTORS = st.sampled_from([{"app": "web"}, {"app": "db"}, {"tier": "x"}])
KEYS = st.sampled_from([HOST, ZONE])
TAINTS = st.sampled_from(
    [
        [],
        [{"key": "dedicated", "value": "gpu", "effect": "NoSchedule"}],
        [{"key": "evict", "effect": "NoExecute"}],
        [{"key": "soft", "effect": "PreferNoSchedule"}],
    ]
)


@st.composite
def clusters(draw: st.DrawFn) -> dict[str, Any]:
    """A small cluster as plain data (nodes, bound pods, one pending pod), built by `build`."""
    n_nodes = draw(st.integers(2, 4))
    nodes = []
    for i in range(n_nodes):
        zone = draw(st.sampled_from(["a", "b", None]))
        labels = {ZONE: zone} if zone else {}
        if draw(st.booleans()):
            labels["disk"] = draw(st.sampled_from(["ssd", "hdd"]))
        nodes.append(
            {
                "name": f"n{i}",
                "cpu": draw(st.sampled_from(["1", "2", "4"])),
                "pods": draw(st.integers(1, 4)),
                "labels": labels,
                "taints": draw(TAINTS),
                "unschedulable": draw(st.booleans()) and draw(st.booleans()),
            }
        )
    bound = []
    for j in range(draw(st.integers(0, 5))):
        spec: dict[str, Any] = {}
        if draw(st.booleans()) and draw(st.booleans()):
            spec["affinity"] = anti(draw(SELECTORS), draw(KEYS))
        bound.append(
            {
                "name": f"b{j}",
                "labels": draw(LABELS),
                "cpu": draw(st.sampled_from([None, "300m", "900m"])),
                "tolerations": [{"operator": "Exists"}],
                **spec,
                "node": f"n{draw(st.integers(0, n_nodes - 1))}",
            }
        )
    spec = {}
    kind = draw(st.sampled_from(["none", "anti", "spread", "affinity", "selector", "tolerate", "mixed"]))
    if kind in ("anti", "mixed"):
        spec["affinity"] = anti(draw(SELECTORS), draw(KEYS))
    if kind == "affinity":
        spec["affinity"] = affinity(draw(SELECTORS), draw(KEYS))
    if kind in ("spread", "mixed"):
        extra = {"minDomains": draw(st.integers(1, 3))} if draw(st.booleans()) else {}
        spec["topologySpreadConstraints"] = spread(draw(SELECTORS), draw(KEYS), draw(st.integers(1, 2)), **extra)
    if kind in ("selector", "mixed"):
        spec["nodeSelector"] = {"disk": "ssd"}
    if kind in ("tolerate", "mixed"):
        spec["tolerations"] = [{"key": "dedicated", "operator": "Exists"}, {"key": "node.kubernetes.io/unschedulable", "operator": "Exists"}]
    pending = {"name": "p", "labels": draw(LABELS), "cpu": draw(st.sampled_from([None, "500m", "1500m"])), **spec}
    return {"nodes": nodes, "bound": bound, "pending": pending}


def build(case: dict[str, Any]) -> ClusterState:
    nodes = [node(n["name"], **{k: v for k, v in n.items() if k != "name"}) for n in case["nodes"]]
    bound = [(pod(b["name"], **{k: v for k, v in b.items() if k not in ("name", "node")}), b["node"]) for b in case["bound"]]
    p = case["pending"]
    return world(nodes, pending=[pod(p["name"], **{k: v for k, v in p.items() if k != "name"})], bound=bound)


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(clusters())
def test_z3_agrees_with_filter_failures_on_random_clusters(case: dict[str, Any]) -> None:
    s = build(case)
    p = s.get("Pod", "default", "p")
    for n in s.nodes():
        failures = filter_failures(s, p, n)
        o = check_binding(s, p, n.name)
        assert (o.status == SAT) == (not failures), (n.name, failures, [r.text for r in o.reasons()])
        if failures:
            # every constraint the core blames is one of the filters that fail
            blamed = {r.plugin for r in o.reasons()}
            assert blamed and blamed <= set(failures), (n.name, failures, blamed)
    anywhere = find_node(s, p)
    assert (anywhere.status == SAT) == any(not filter_failures(s, p, n) for n in s.nodes())
    if anywhere.status == SAT:
        assert not filter_failures(s, p, s.get("Node", "", witness_node(anywhere)))


# ---- unsat cores --------------------------------------------------------------------------------------------


def test_unsat_core_names_one_reason_per_node() -> None:
    s = world(
        [node("n1", cpu="2"), node("n2", taints=[{"key": "dedicated", "value": "gpu", "effect": "NoSchedule"}]), node("n3")],
        pending=[pod("p", labels={"app": "web"}, cpu="2", affinity=anti({"app": "web"}))],
        bound=[(pod("busy", cpu="1500m", labels={"app": "busy"}), "n1"), (pod("x", labels={"app": "web"}), "n3")],
    )
    o = explain_pod(s, s.get("Pod", "default", "p"))
    assert o.status == UNSAT
    assert sorted(r.text for r in o.reasons()) == [
        "node n1: insufficient cpu (request 2000m, free 500m)",
        "node n2: untolerated taint dedicated=gpu:NoSchedule",
        f"node n3: anti-affinity with pod default/x on {HOST}=n3",
    ]
    assert {r.plugin for r in o.core} == {"demand", "NodeResourcesFit(cpu)", "TaintToleration", "InterPodAffinity(anti-affinity)"}


# ---- whole sets of workloads --------------------------------------------------------------------------------


def deployment(name: str, replicas: int, cpu: str = "1", **spec: Any) -> dict[str, Any]:
    return {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {"name": name, "namespace": "default"},
        "spec": {
            "replicas": replicas,
            "selector": {"matchLabels": {"app": name}},
            "template": {"metadata": {"labels": {"app": name}}, "spec": pod_spec(cpu, **spec)},
        },
    }


def statefulset(name: str, replicas: int, cpu: str = "1", **spec: Any) -> dict[str, Any]:
    return {
        "apiVersion": "apps/v1",
        "kind": "StatefulSet",
        "metadata": {"name": name, "namespace": "default"},
        "spec": {
            "replicas": replicas,
            "serviceName": name,
            "selector": {"matchLabels": {"app": name}},
            "template": {"metadata": {"labels": {"app": name}}, "spec": pod_spec(cpu, **spec)},
        },
    }


def daemonset(name: str, cpu: str = "100m", **spec: Any) -> dict[str, Any]:
    return {
        "apiVersion": "apps/v1",
        "kind": "DaemonSet",
        "metadata": {"name": name, "namespace": "default"},
        "spec": {"selector": {"matchLabels": {"app": name}}, "template": {"metadata": {"labels": {"app": name}}, "spec": pod_spec(cpu, **spec)}},
    }


def objects(*docs: dict[str, Any]) -> list[Any]:
    return [decode(d) for d in docs]


def test_desired_pods_from_templates_and_grouping() -> None:
    objs = objects(
        node_doc("n1"),
        node_doc("n2", unschedulable=True),
        node_doc("n3", labels={"role": "edge"}, taints=[{"key": "dedicated", "effect": "NoSchedule"}]),
        node_doc("n4"),
        deployment("web", 5, cpu="500m"),
        statefulset("db", 2, affinity=anti({"app": "db"})),
        daemonset("agent"),
        daemonset("edge", nodeSelector={"role": "edge"}),
    )
    wl = collect(objs)
    # daemon pods tolerate the cordon (node.kubernetes.io/unschedulable) but not the dedicated taint
    assert wl.desired_by_workload() == {"Deployment default/web": 5, "StatefulSet default/db": 2, "DaemonSet default/agent": 3, "DaemonSet default/edge": 0}
    problem = wl.problem()
    groups = {g.name: g.count for g in problem.groups}
    # interchangeable pods share one group; daemon pods are pinned per node
    assert groups == {
        "Deployment default/web": 5,
        "StatefulSet default/db": 2,
        "DaemonSet default/agent on n1": 1,
        "DaemonSet default/agent on n2": 1,
        "DaemonSet default/agent on n4": 1,
    }
    db = next(g for g in problem.groups if g.name == "StatefulSet default/db")
    assert db.members == ("db-0", "db-1")
    web = next(g for g in problem.groups if g.name == "Deployment default/web")
    assert "pod-template-hash" in web.pod.metadata.labels
    out = solve(problem)
    assert out.status == SAT and out.placement is not None
    assert out.placement["DaemonSet default/agent on n2"] == {"n2": 1}
    assert set(out.placement["Deployment default/web"]) <= {"n1", "n4"}  # n2 is cordoned, n3 tainted
    assert out.placement["StatefulSet default/db"] == {"n1": 1, "n4": 1}  # one per hostname


def test_statefulset_pods_split_when_a_selector_reads_their_identity_label() -> None:
    # a pod-name-specific selector makes every ordinal distinguishable
    objs = objects(
        node_doc("n1"), node_doc("n2"), statefulset("db", 2), deployment("pin", 1, affinity=affinity({"statefulset.kubernetes.io/pod-name": "db-1"}))
    )
    problem = collect(objs).problem()
    assert sorted(g.name for g in problem.groups) == ["Deployment default/pin", "StatefulSet default/db [variant 1]", "StatefulSet default/db [variant 2]"]
    out = solve(problem)
    assert out.status == SAT and out.placement is not None
    (pin_node,) = out.placement["Deployment default/pin"]
    assert out.placement["StatefulSet default/db [variant 2]"] == {pin_node: 1}


def test_large_replica_counts_are_one_variable_per_node() -> None:
    objs = objects(*(node_doc(f"n{i}", cpu="64", pods=200) for i in range(10)), deployment("web", 1000, cpu="500m"))
    out = solve(collect(objs).problem())
    assert out.status == SAT and out.variables == 10
    assert sum(out.placement["Deployment default/web"].values()) == 1000  # type: ignore[index]
    assert all(k <= 128 for k in out.placement["Deployment default/web"].values())  # type: ignore[index]  # 64 cpu / 500m


def mid_size(replicas: int, cpu: str = "1") -> list[Any]:
    """12 nodes in 3 zones and 20 workloads (240 variables): large enough for the group-by-group search."""
    docs: list[dict[str, Any]] = [node_doc(f"n{i:02d}", cpu="8", labels={ZONE: "abc"[i % 3]}) for i in range(12)]
    for i in range(20):
        extra: dict[str, Any] = {}
        if i % 4 == 1:
            extra["affinity"] = anti({"app": f"w{i}"})
        if i % 4 == 2:
            extra["topologySpreadConstraints"] = spread({"app": f"w{i}"})
        docs.append(deployment(f"w{i}", replicas, cpu=cpu, **extra))
    return objects(*docs)


def test_group_by_group_search_is_checked_against_the_full_encoding() -> None:
    problem = collect(mid_size(3, cpu="1")).problem()  # 60 pods of 1 cpu on 96 cpu
    out = solve(problem)
    assert out.status == SAT and out.strategy == "staged" and out.placement is not None
    # the witness satisfies the full encoding, and a corrupted one does not
    from kmodel.placement.encode import Encoder

    enc = Encoder(problem).build()
    assert enc.satisfied_by(out.placement, SolverLimits(), time.perf_counter() + 30) is True
    bad = {g: dict(per) for g, per in out.placement.items()}
    web = "Deployment default/w1"  # one pod per hostname: put two on one node
    (first, *_rest) = bad[web]
    bad[web] = {first: 3}
    assert enc.satisfied_by(bad, SolverLimits(), time.perf_counter() + 30) is False
    # the same answer as the joint search
    assert solve(problem, staged=False).status == SAT


def test_group_by_group_search_never_answers_unsat() -> None:
    problem = collect(mid_size(5, cpu="1")).problem()  # 100 cpu asked of 96
    out = solve(problem)
    assert out.status == UNSAT and out.strategy == "staged, then joint"


def test_infeasible_set_explains_pods_that_can_never_be_placed() -> None:
    objs = objects(
        node_doc("n1", cpu="4"),
        node_doc("n2", cpu="4", taints=[{"key": "dedicated", "value": "gpu", "effect": "NoSchedule"}]),
        deployment("huge", 1, cpu="8"),
        deployment("ok", 1),
    )
    r = analyse_workloads(objs, run_model=False)
    assert r.verdict == "infeasible"
    (e,) = r.explanations
    assert e.group == "Deployment default/huge" and e.kind == "never"
    # one true reason per node (n2 fails two filters; the core may name either)
    by_node = {x.text.split(":")[0]: x.text for x in e.reasons}
    assert by_node["node n1"] == "node n1: insufficient cpu (request 8000m, free 4000m)"
    assert by_node["node n2"] in ("node n2: untolerated taint dedicated=gpu:NoSchedule", "node n2: insufficient cpu (request 8000m, free 4000m)")
    assert len(e.reasons) == 2


def test_infeasible_set_explains_a_group_that_does_not_fit_alone() -> None:
    objs = objects(node_doc("n1"), node_doc("n2"), deployment("web", 3, cpu="100m", affinity=anti({"app": "web"})))
    r = analyse_workloads(objs, run_model=False)
    (e,) = r.explanations
    assert e.kind == "alone"
    texts = {x.text for x in e.reasons}
    assert "Deployment default/web: 3 pods to place" in texts
    assert {
        f"Deployment default/web: anti-affinity on {HOST}: at most one pod in {HOST}=n1",
        f"Deployment default/web: anti-affinity on {HOST}: at most one pod in {HOST}=n2",
    } <= texts


def test_infeasible_set_explains_a_joint_capacity_conflict() -> None:
    objs = objects(node_doc("n1", cpu="4"), node_doc("n2", cpu="4"), deployment("a", 3, cpu="2"), deployment("b", 2, cpu="2"))
    r = analyse_workloads(objs, run_model=False)
    assert r.verdict == "infeasible" and r.explanations == []
    texts = {x.text for x in r.joint}
    assert {"node n1: 4000m of cpu free (allocatable 4000m)", "node n2: 4000m of cpu free (allocatable 4000m)"} <= texts
    assert {"Deployment default/a: 3 pods to place", "Deployment default/b: 2 pods to place"} <= texts


def test_zone_spread_over_the_whole_set() -> None:
    nodes = [node_doc("a1", cpu="10", labels={ZONE: "a"}), node_doc("b1", cpu="2", labels={ZONE: "b"})]
    ok = analyse_workloads(objects(*nodes, deployment("web", 4, topologySpreadConstraints=spread({"app": "web"}, max_skew=2))), run_model=False)
    assert ok.verdict == "ok" and ok.outcome.placement is not None
    got = ok.outcome.placement["Deployment default/web"]
    a, b = got.get("a1", 0), got.get("b1", 0)
    assert a + b == 4 and b <= 2 and abs(a - b) <= 2
    tight = analyse_workloads(objects(*nodes, deployment("web", 6, topologySpreadConstraints=spread({"app": "web"}))), run_model=False)
    assert tight.verdict == "infeasible"  # zone b holds at most 2 pods, so zone a at most 3: 5 < 6
    (e,) = tight.explanations
    assert e.kind == "alone" and any(x.plugin == "PodTopologySpread" for x in e.reasons)
    assert "node b1: 2000m of cpu free (allocatable 2000m)" in {x.text for x in e.reasons}


def test_fragmentation_greedy_strands_a_pod_that_a_full_placement_fits() -> None:
    objs = objects(node_doc("n1", cpu="4"), node_doc("n2", cpu="4"), deployment("api", 2, cpu="2"), deployment("batch", 1, cpu="4"))
    r = analyse_workloads(objs)
    assert r.outcome.status == SAT
    assert r.model is not None and r.model.quiescent
    # the scheduler spreads the api pods (sibling spreading, LeastAllocated), leaving no node with 4 cpu
    assert r.model.nodes == {"n1": {"Deployment default/api": 1}, "n2": {"Deployment default/api": 1}}
    assert r.stranded == {"Deployment default/batch": 1}
    assert r.fragmentation and r.verdict == "fragmentation"
    # the witness places everything within capacity
    placement = r.outcome.placement
    assert placement is not None
    assert sorted(placement["Deployment default/api"].values()) == [2] and sorted(placement["Deployment default/batch"].values()) == [1]
    assert set(placement["Deployment default/api"]) != set(placement["Deployment default/batch"])


# ---- solver limits ------------------------------------------------------------------------------------------


PRIMES = [101, 103, 107, 109, 113, 127, 131, 137, 139, 149, 151, 157, 163, 167, 173, 179, 181, 191, 193, 197, 199, 211, 223, 227]


def hard_packing() -> Problem:
    """24 pods of distinct prime sizes on 4 nodes with a quarter of the total each (+1m): hard bin packing."""
    nodes = tuple(node(f"n{i}", cpu=f"{sum(PRIMES) // 4 + 1}m") for i in range(4))
    return Problem(nodes=nodes, groups=tuple(PodGroup(f"g{i}", pod(f"g{i}", cpu=f"{c}m"), 1) for i, c in enumerate(PRIMES)))


def test_timeouts_and_resource_limits_give_unknown_never_a_verdict() -> None:
    out = solve(hard_packing(), limits=SolverLimits(timeout_ms=1))
    assert out.status == UNKNOWN and out.placement is None and out.core == [] and out.unknown
    s = world([node("n1"), node("n2")], pending=[pod("p", cpu="1")])
    p = s.get("Pod", "default", "p")
    assert check_binding(s, p, "n1", SolverLimits(rlimit=1)).status == UNKNOWN
    assert find_node(s, p, SolverLimits(rlimit=1)).status == UNKNOWN
    assert find_node(s, p).status == SAT  # the same question, decided without the limit


def test_unknown_whole_set_is_reported_as_unknown(tmp_path: Path) -> None:
    docs = [node_doc(f"n{i}", cpu=f"{sum(PRIMES) // 4 + 1}m") for i in range(4)]
    docs += [
        {
            **deployment(f"g{i}", 1),
            "spec": {**deployment(f"g{i}", 1)["spec"], "template": {"metadata": {"labels": {"app": f"g{i}"}}, "spec": pod_spec(f"{c}m")}},
        }
        for i, c in enumerate(PRIMES)
    ]
    f = tmp_path / "hard.yaml"
    f.write_text(yaml.safe_dump_all(docs))
    result = runner.invoke(app, ["placement", str(f), "--timeout", "0.05", "--no-model"])
    assert result.exit_code == 3, result.output
    assert "UNKNOWN" in result.stdout


# ---- the command --------------------------------------------------------------------------------------------


def write(tmp_path: Path, name: str, *docs: dict[str, Any]) -> Path:
    p = tmp_path / name
    p.write_text(yaml.safe_dump_all(list(docs)))
    return p


def test_cli_reports_fragmentation_with_the_witness(tmp_path: Path) -> None:
    f = write(tmp_path, "frag.yaml", node_doc("n1", cpu="4"), node_doc("n2", cpu="4"), deployment("api", 2, cpu="2"), deployment("batch", 1, cpu="4"))
    result = runner.invoke(app, ["placement", str(f)])
    assert result.exit_code == 1, result.output
    out = result.stdout
    assert "FEASIBLE: all 3 desired pod(s) can run" in out
    assert "FRAGMENTATION: the greedy scheduler strands 1 pod(s)" in out
    assert "Deployment default/batch ×1  (cpu 4000m/4000m)" in out and "Deployment default/api ×2  (cpu 4000m/4000m)" in out


def test_cli_ok_infeasible_and_json(tmp_path: Path) -> None:
    ok = write(tmp_path, "ok.yaml", node_doc("n1"), deployment("web", 2))
    result = runner.invoke(app, ["placement", str(ok)])
    assert result.exit_code == 0, result.output
    assert "model: the scheduler placed 2 of 2 pod(s)" in result.stdout
    bad = write(tmp_path, "bad.yaml", node_doc("n1", cpu="1"), deployment("web", 1, cpu="2"))
    result = runner.invoke(app, ["placement", str(bad), "--json", "--no-model"])
    assert result.exit_code == 1
    doc = json.loads(result.stdout)
    assert doc["verdict"] == "infeasible"
    assert doc["never"] == {"Deployment default/web": ["node n1: insufficient cpu (request 2000m, free 1000m)"]}


def test_cli_input_errors_name_file_object_and_field(tmp_path: Path) -> None:
    result = runner.invoke(app, ["placement", str(tmp_path / "missing.yaml")])
    assert result.exit_code == 2 and "missing.yaml: no such file" in result.stderr
    nodes_only = write(tmp_path, "nodes.yaml", node_doc("n1"))
    result = runner.invoke(app, ["placement", str(nodes_only)])
    assert result.exit_code == 2 and "nodes.yaml: kind: no workloads to place" in result.stderr
    no_nodes = write(tmp_path, "web.yaml", deployment("web", 1))
    result = runner.invoke(app, ["placement", str(no_nodes)])
    assert result.exit_code == 2 and "web.yaml: kind: no Node objects" in result.stderr
    twice = write(tmp_path, "twice.yaml", deployment("web", 1))
    result = runner.invoke(app, ["placement", str(nodes_only), str(no_nodes), str(twice)])
    assert result.exit_code == 2
    assert f"{twice}: Deployment default/web: metadata.name: defined twice (first in {no_nodes})" in result.stderr
    broken = write(tmp_path, "broken.yaml", {**deployment("web", 1), "spec": {**deployment("web", 1)["spec"], "replicas": "many"}})
    result = runner.invoke(app, ["placement", str(nodes_only), str(broken)])
    assert result.exit_code == 2 and "broken.yaml" in result.stderr and "Deployment default/web" in result.stderr and "spec.replicas" in result.stderr
    assert "Traceback" not in result.output


@pytest.mark.parametrize("kind", ["Job"])
def test_unmodelled_workloads_are_noted(kind: str) -> None:
    job = {
        "apiVersion": "batch/v1",
        "kind": kind,
        "metadata": {"name": "j", "namespace": "default"},
        "spec": {"template": {"spec": {**pod_spec("1"), "restartPolicy": "Never"}}},
    }
    wl = collect(objects(node_doc("n1"), deployment("web", 1), job))
    assert wl.notes == [f"{kind} default/j: the pods of a {kind} are not included in the placement"]
