"""The scheduler's filters, queue order and explorable node choice.

Rules: pkg/scheduler/framework/plugins (nodename, nodeunschedulable, noderesources/fit.go,
nodeaffinity + component-helpers nodeaffinity, tainttoleration, interpodaffinity/filtering.go,
podtopologyspread/filtering.go), queuesort PrioritySort, scheduler.go newPodInformer; spec §4.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import pytest

from kmodel import apiserver
from kmodel.actions import AddNode, Apply, Schedule, Tick
from kmodel.config import ModelConfig
from kmodel.model import Model
from kmodel.objects.selectors import Affinity, NodeAffinity, NodeSelector, NodeSelectorRequirement, NodeSelectorTerm
from kmodel.objects.serde import decode_object
from kmodel.scheduler import Scheduler, filter_failures, pending_pods
from kmodel.state import ClusterState, empty_state

CFG = ModelConfig()


def decode(doc: dict[str, Any]) -> Any:
    obj, _ = decode_object(doc)
    return obj


def node(
    name: str,
    *,
    cpu: str = "4",
    memory: str = "8Gi",
    pods: int = 110,
    labels: dict[str, str] | None = None,
    taints: list[dict[str, Any]] | None = None,
    unschedulable: bool = False,
    extra: dict[str, str] | None = None,
) -> Any:
    return decode(
        {
            "apiVersion": "v1",
            "kind": "Node",
            "metadata": {"name": name, "labels": {"kubernetes.io/hostname": name, **(labels or {})}},
            "spec": {"taints": taints or [], "unschedulable": unschedulable},
            "status": {"allocatable": {"cpu": cpu, "memory": memory, "pods": str(pods), **(extra or {})}},
        }
    )


def pod(name: str, *, cpu: str | None = None, memory: str | None = None, labels: dict[str, str] | None = None, **spec: Any) -> Any:
    requests = {k: v for k, v in (("cpu", cpu), ("memory", memory)) if v is not None}
    container: dict[str, Any] = {"name": "c", "image": "x"}
    if requests:
        container["resources"] = {"requests": requests}
    return decode(
        {
            "apiVersion": "v1",
            "kind": "Pod",
            "metadata": {"name": name, "namespace": "default", "labels": labels or {"app": name}},
            "spec": {"containers": [container], **spec},
        }
    )


def world(nodes: list[Any], pending: list[Any] = (), bound: list[tuple[Any, str]] = ()) -> ClusterState:  # type: ignore[assignment]
    """Nodes, pods bound to nodes (through the binding subresource), and pending pods."""
    m = Model(actors=[])
    s = empty_state()
    for n in nodes:
        s = m.step(s, AddNode(n))
    for p, n in bound:
        s = m.step(s, Apply((p,)))
        tx = s.edit()
        assert apiserver.apply(tx, apiserver.Bind("default", p.metadata.name, n), CFG).ok
        s = tx.commit()
    for p in pending:
        s = m.step(s, Apply((p,)))
    return s


def failures(s: ClusterState, pod_name: str, node_name: str) -> list[str]:
    return filter_failures(s, s.get("Pod", "default", pod_name), s.get("Node", "", node_name))


def set_status(s: ClusterState, name: str, **status: Any) -> ClusterState:
    p = s.get("Pod", "default", name)
    tx = s.edit()
    assert apiserver.apply(tx, apiserver.Update(replace(p, status=replace(p.status, **status)), status=True), CFG).ok
    return tx.commit()


def start_deleting(s: ClusterState, name: str) -> ClusterState:
    p = s.get("Pod", "default", name)
    tx = s.edit()
    assert apiserver.apply(tx, apiserver.Delete(p.ref), CFG).ok
    s = tx.commit()
    assert s.get("Pod", "default", name).metadata.deletion_timestamp is not None
    return s


# ---- NodeName, NodeUnschedulable --------------------------------------------------------------


def test_node_name() -> None:
    s = world([node("n1"), node("n2")], pending=[pod("p", nodeName="n2")])
    assert failures(s, "p", "n1") == ["NodeName"]
    assert failures(s, "p", "n2") == []
    assert pending_pods(s) == []  # a pod with spec.nodeName bypasses the scheduler


def test_node_unschedulable_and_its_toleration() -> None:
    tol = [{"key": "node.kubernetes.io/unschedulable", "operator": "Exists", "effect": "NoSchedule"}]
    s = world([node("n1", unschedulable=True), node("n2")], pending=[pod("plain"), pod("tolerant", tolerations=tol)])
    assert failures(s, "plain", "n1") == ["NodeUnschedulable"]
    assert failures(s, "plain", "n2") == []
    assert failures(s, "tolerant", "n1") == []


# ---- NodeResourcesFit ---------------------------------------------------------------------------


def test_cpu_and_memory_fit_against_requests_of_bound_pods() -> None:
    s = world(
        [node("n1", cpu="1", memory="1Gi")],
        bound=[(pod("old", cpu="800m", memory="512Mi"), "n1")],
        pending=[pod("exact", cpu="200m", memory="512Mi"), pod("cpu-over", cpu="201m"), pod("mem-over", memory="513Mi"), pod("none")],
    )
    assert failures(s, "exact", "n1") == []  # request ≤ allocatable − requested
    assert failures(s, "cpu-over", "n1") == ["NodeResourcesFit(cpu)"]
    assert failures(s, "mem-over", "n1") == ["NodeResourcesFit(memory)"]
    assert failures(s, "none", "n1") == []


def test_pod_count_limit_and_zero_request_pods() -> None:
    s = world([node("n1", pods=2)], bound=[(pod("a"), "n1"), (pod("b"), "n1")], pending=[pod("c")])
    assert failures(s, "c", "n1") == ["NodeResourcesFit(pods)"]  # zero requests: only the count is checked


def test_terminal_pods_leave_the_scheduler_cache_but_terminating_ones_count() -> None:
    # scheduler.go newPodInformer: status.phase!=Succeeded,status.phase!=Failed
    s = world([node("n1", pods=2, cpu="1")], bound=[(pod("done", cpu="600m"), "n1"), (pod("going", cpu="300m"), "n1")], pending=[pod("new", cpu="600m")])
    assert failures(s, "new", "n1") == ["NodeResourcesFit(pods)", "NodeResourcesFit(cpu)"]
    s = set_status(s, "done", phase="Succeeded")
    assert failures(s, "new", "n1") == []
    s2 = world([node("n1", pods=1)], bound=[(pod("going"), "n1")], pending=[pod("new")])
    s2 = start_deleting(s2, "going")
    assert failures(s2, "new", "n1") == ["NodeResourcesFit(pods)"]


def test_extended_resource_and_init_container_requests() -> None:
    gpu_pod = decode(
        {
            "apiVersion": "v1",
            "kind": "Pod",
            "metadata": {"name": "gpu", "namespace": "default"},
            "spec": {"containers": [{"name": "c", "image": "x", "resources": {"requests": {"example.com/gpu": "1"}}}]},
        }
    )
    init_pod = decode(
        {
            "apiVersion": "v1",
            "kind": "Pod",
            "metadata": {"name": "init", "namespace": "default"},
            "spec": {
                "initContainers": [{"name": "i", "image": "x", "resources": {"requests": {"cpu": "2"}}}],
                "containers": [{"name": "c", "image": "x", "resources": {"requests": {"cpu": "500m"}}}],
            },
        }
    )
    s = world([node("plain", cpu="1"), node("gpu-node", extra={"example.com/gpu": "1"})], pending=[gpu_pod, init_pod])
    assert failures(s, "gpu", "plain") == ["NodeResourcesFit(example.com/gpu)"]
    assert failures(s, "gpu", "gpu-node") == []
    # effective request = max(sum of containers, largest init container) = 2 cpu
    assert failures(s, "init", "plain") == ["NodeResourcesFit(cpu)"]


# ---- NodeAffinity -------------------------------------------------------------------------------


def required(*terms: dict[str, Any]) -> dict[str, Any]:
    return {"nodeAffinity": {"requiredDuringSchedulingIgnoredDuringExecution": {"nodeSelectorTerms": list(terms)}}}


def expr(key: str, op: str, *values: str) -> dict[str, Any]:
    return {"matchExpressions": [{"key": key, "operator": op, "values": list(values)}]}


NODES = [node("ssd-8", labels={"disk": "ssd", "cores": "8"}), node("hdd-2", labels={"disk": "hdd", "cores": "2"}), node("bare")]


@pytest.mark.parametrize(
    "affinity,expected",
    [
        (required(expr("disk", "In", "ssd", "nvme")), {"ssd-8"}),
        (required(expr("disk", "NotIn", "ssd")), {"hdd-2", "bare"}),  # NotIn matches a missing label
        (required(expr("disk", "Exists")), {"ssd-8", "hdd-2"}),
        (required(expr("disk", "DoesNotExist")), {"bare"}),
        (required(expr("cores", "Gt", "4")), {"ssd-8"}),
        (required(expr("cores", "Lt", "4")), {"hdd-2"}),
        (required(expr("cores", "Gt", "8")), set()),  # strictly greater
        (required({"matchFields": [{"key": "metadata.name", "operator": "In", "values": ["bare"]}]}), {"bare"}),
        (required({"matchFields": [{"key": "metadata.name", "operator": "NotIn", "values": ["bare"]}]}), {"ssd-8", "hdd-2"}),
        (required(expr("disk", "In", "ssd"), expr("disk", "In", "hdd")), {"ssd-8", "hdd-2"}),  # terms are ORed
        (required({"matchExpressions": [{"key": "disk", "operator": "Exists"}, {"key": "cores", "operator": "Gt", "values": ["4"]}]}), {"ssd-8"}),  # ANDed
        (required({}), set()),  # an empty term matches nothing
        (required(), set()),  # an empty term list matches nothing
    ],
)
def test_required_node_affinity(affinity: dict[str, Any], expected: set[str]) -> None:
    s = world(NODES, pending=[pod("p", affinity=affinity)])
    feasible = {n.name for n in s.nodes() if not failures(s, "p", n.name)}
    assert feasible == expected
    assert all(failures(s, "p", n.name) == ["NodeAffinity"] for n in s.nodes() if n.name not in expected)


def test_gt_lt_need_decimal_integers() -> None:
    # labels.Requirement.Matches parses with strconv.ParseInt(v, 10, 64): "1_0" is not a number
    odd = node("odd", labels={"cores": "1_0"})
    s = world([odd], pending=[pod("p", affinity=required(expr("cores", "Gt", "4")))])
    assert failures(s, "p", "odd") == ["NodeAffinity"]


def test_node_selector_and_affinity_must_both_match() -> None:
    s = world(NODES, pending=[pod("p", nodeSelector={"disk": "ssd"}), pod("q", nodeSelector={"disk": "ssd"}, affinity=required(expr("cores", "Lt", "4")))])
    assert {n.name for n in s.nodes() if not failures(s, "p", n.name)} == {"ssd-8"}
    assert {n.name for n in s.nodes() if not failures(s, "q", n.name)} == set()


def test_empty_node_selector_term_at_the_selector_level() -> None:
    assert not NodeSelector((NodeSelectorTerm(),)).matches("n", {"a": "b"})
    assert not NodeSelector(()).matches("n", {})
    term = NodeSelectorTerm(match_fields=(NodeSelectorRequirement("metadata.name", "In", ("n",)),))
    assert NodeSelector((NodeSelectorTerm(), term)).matches("n", {})
    spec = replace(pod("p").spec, affinity=Affinity(node_affinity=NodeAffinity(NodeSelector((NodeSelectorTerm(),)))))
    s = world(NODES, pending=[replace(pod("p"), spec=spec)])
    assert all(failures(s, "p", n.name) == ["NodeAffinity"] for n in s.nodes())


# ---- TaintToleration ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    "effect,tolerations,fails",
    [
        ("NoSchedule", [], True),
        ("NoExecute", [], True),
        ("PreferNoSchedule", [], False),  # scoring only, never filters
        ("NoSchedule", [{"key": "dedicated", "operator": "Equal", "value": "db", "effect": "NoSchedule"}], False),
        ("NoSchedule", [{"key": "dedicated", "operator": "Equal", "value": "web", "effect": "NoSchedule"}], True),  # value differs
        ("NoSchedule", [{"key": "dedicated", "operator": "Exists"}], False),  # empty effect matches all
        ("NoExecute", [{"key": "dedicated", "operator": "Exists", "effect": "NoSchedule"}], True),  # effect differs
        ("NoExecute", [{"operator": "Exists"}], False),  # empty key with Exists tolerates everything
        ("NoExecute", [{"key": "dedicated", "operator": "Equal", "value": "db", "effect": "NoExecute", "tolerationSeconds": 10}], False),
    ],
)
def test_taint_toleration(effect: str, tolerations: list[dict[str, Any]], fails: bool) -> None:
    tainted = node("tainted", taints=[{"key": "dedicated", "value": "db", "effect": effect}])
    s = world([tainted], pending=[pod("p", tolerations=tolerations)])
    assert failures(s, "p", "tainted") == (["TaintToleration"] if fails else [])


# ---- InterPodAffinity -----------------------------------------------------------------------------

HOSTNAME_WEB = {"topologyKey": "kubernetes.io/hostname", "labelSelector": {"matchLabels": {"app": "web"}}}
ANTI_WEB = {"podAntiAffinity": {"requiredDuringSchedulingIgnoredDuringExecution": [HOSTNAME_WEB]}}


def test_required_anti_affinity_by_hostname() -> None:
    s = world([node("n1"), node("n2")], bound=[(pod("web-1", labels={"app": "web"}), "n1")], pending=[pod("web-2", labels={"app": "web"}, affinity=ANTI_WEB)])
    assert failures(s, "web-2", "n1") == ["InterPodAffinity(anti-affinity)"]
    assert failures(s, "web-2", "n2") == []


def test_existing_pods_anti_affinity_is_symmetric() -> None:
    s = world([node("n1"), node("n2")], bound=[(pod("web-1", labels={"app": "web"}, affinity=ANTI_WEB), "n1")], pending=[pod("web-2", labels={"app": "web"})])
    assert failures(s, "web-2", "n1") == ["InterPodAffinity(existing anti-affinity)"]
    assert failures(s, "web-2", "n2") == []


def test_anti_affinity_counts_terminating_but_not_terminal_pods() -> None:
    # interpodaffinity/filtering.go has no deletionTimestamp check; terminal pods are not in the cache
    s = world([node("n1")], bound=[(pod("web-1", labels={"app": "web"}), "n1")], pending=[pod("web-2", labels={"app": "web"}, affinity=ANTI_WEB)])
    s = start_deleting(s, "web-1")
    assert failures(s, "web-2", "n1") == ["InterPodAffinity(anti-affinity)"]
    s = set_status(s, "web-1", phase="Succeeded")
    assert failures(s, "web-2", "n1") == []


def test_anti_affinity_is_per_namespace_by_default() -> None:
    meta = {"name": "web-x", "namespace": "other", "labels": {"app": "web"}}
    other = decode({"apiVersion": "v1", "kind": "Pod", "metadata": meta, "spec": {"containers": [{"name": "c"}]}})
    s = world([node("n1")], pending=[pod("web-2", labels={"app": "web"}, affinity=ANTI_WEB)])
    s = Model(actors=[]).step(s, Apply((other,)))
    tx = s.edit()
    assert apiserver.apply(tx, apiserver.Bind("other", "web-x", "n1"), CFG).ok
    s = tx.commit()
    assert failures(s, "web-2", "n1") == []


AFF_DB_ZONE = {"podAffinity": {"requiredDuringSchedulingIgnoredDuringExecution": [{"topologyKey": "zone", "labelSelector": {"matchLabels": {"app": "db"}}}]}}


def test_required_pod_affinity() -> None:
    zones = [node("a1", labels={"zone": "a"}), node("a2", labels={"zone": "a"}), node("b1", labels={"zone": "b"}), node("nozone")]
    s = world(zones, bound=[(pod("db", labels={"app": "db"}), "a1")], pending=[pod("app", labels={"app": "app"}, affinity=AFF_DB_ZONE)])
    assert {n.name for n in s.nodes() if not failures(s, "app", n.name)} == {"a1", "a2"}  # same zone as a db pod
    assert failures(s, "app", "nozone") == ["InterPodAffinity(affinity: missing topology key)"]
    assert failures(s, "app", "b1") == ["InterPodAffinity(affinity)"]


def test_required_pod_affinity_first_pod_of_a_group() -> None:
    # satisfyPodAffinity: no matching pod anywhere and the pod matches its own terms → allowed
    zones = [node("a1", labels={"zone": "a"}), node("nozone")]
    s = world(zones, pending=[pod("db-0", labels={"app": "db"}, affinity=AFF_DB_ZONE), pod("app", labels={"app": "app"}, affinity=AFF_DB_ZONE)])
    assert failures(s, "db-0", "a1") == []
    assert failures(s, "db-0", "nozone") == ["InterPodAffinity(affinity: missing topology key)"]
    assert failures(s, "app", "a1") == ["InterPodAffinity(affinity)"]  # does not match its own term


# ---- PodTopologySpread ----------------------------------------------------------------------------


def spread(max_skew: int = 1, key: str = "zone", min_domains: int | None = None) -> list[dict[str, Any]]:
    c: dict[str, Any] = {"maxSkew": max_skew, "topologyKey": key, "whenUnsatisfiable": "DoNotSchedule", "labelSelector": {"matchLabels": {"app": "web"}}}
    if min_domains is not None:
        c["minDomains"] = min_domains
    return [c]


ZONED = [node("a1", labels={"zone": "a"}), node("a2", labels={"zone": "a"}), node("b1", labels={"zone": "b"}), node("nozone")]


def test_topology_spread_max_skew() -> None:
    web = {"app": "web"}
    s = world(
        ZONED,
        bound=[(pod("w1", labels=web), "a1"), (pod("w2", labels=web), "a2"), (pod("w3", labels=web), "b1")],
        pending=[pod("new", labels=web, topologySpreadConstraints=spread(1)), pod("loose", labels=web, topologySpreadConstraints=spread(2))],
    )
    # zone a: 2, zone b: 1, min 1 → a: 2+1-1 = 2 > 1; b: 1+1-1 = 1
    assert failures(s, "new", "a1") == ["PodTopologySpread"]
    assert failures(s, "new", "b1") == []
    assert failures(s, "new", "nozone") == ["PodTopologySpread(missing topology key)"]
    assert failures(s, "loose", "a1") == []


def test_topology_spread_ignores_terminating_pods_and_honours_min_domains() -> None:
    web = {"app": "web"}
    one_each = [(pod("w1", labels=web), "a1"), (pod("w2", labels=web), "b1")]
    s = world(ZONED, bound=one_each, pending=[pod("new", labels=web, topologySpreadConstraints=spread(1))])
    assert failures(s, "new", "a1") == []
    s = start_deleting(s, "w2")  # countPodsMatchSelector skips terminating pods (#87621)
    assert failures(s, "new", "a1") == ["PodTopologySpread"]
    # minDomains 3 with only 2 zones: the global minimum is taken as 0
    s3 = world(ZONED, bound=one_each, pending=[pod("new", labels=web, topologySpreadConstraints=spread(1, min_domains=3))])
    assert failures(s3, "new", "a1") == ["PodTopologySpread"]


def test_topology_spread_counts_only_nodes_passing_node_affinity() -> None:
    # calPreFilterState with nodeAffinityPolicy Honor (the default): only nodes matching the
    # pod's nodeSelector are counted — both as domains and for the pods they hold
    web = {"app": "web"}
    nodes = [
        node("a1", labels={"zone": "a", "pool": "x"}),
        node("a-y", labels={"zone": "a", "pool": "y"}),
        node("b1", labels={"zone": "b", "pool": "y"}),
        node("c1", labels={"zone": "c", "pool": "x"}),
    ]
    s = world(
        nodes,
        bound=[(pod("w1", labels=web), "a1"), (pod("w3", labels=web), "a-y"), (pod("w2", labels=web), "c1")],
        pending=[pod("new", labels=web, nodeSelector={"pool": "x"}, topologySpreadConstraints=spread(1))],
    )
    # counted: a = 1 (w3 sits on an ineligible node), c = 1; zone b (0 pods) is not a domain
    assert failures(s, "new", "a1") == []
    assert failures(s, "new", "c1") == []


def test_topology_spread_nodes_need_every_constraints_key() -> None:
    web = {"app": "web"}
    both = spread(1) + spread(1, key="rack")
    nodes = [node("a1", labels={"zone": "a", "rack": "r1"}), node("a2", labels={"zone": "a"}), node("b1", labels={"zone": "b", "rack": "r2"})]
    s = world(nodes, bound=[(pod("w1", labels=web), "a2"), (pod("w2", labels=web), "a2")], pending=[pod("new", labels=web, topologySpreadConstraints=both)])
    # a2 lacks "rack": its pods count for neither constraint, and it cannot take the pod
    assert failures(s, "new", "a1") == []
    assert failures(s, "new", "a2") == ["PodTopologySpread(missing topology key)"]


# ---- queue order and the explorable choice of node -------------------------------------------------


def test_queue_order_priority_then_fifo() -> None:
    m = Model(actors=[])
    s = world([node("n1")])
    for name, prio in [("low-early", 0), ("high-late", 100), ("low-late", 0), ("mid", 10)]:
        s = m.step(m.step(s, Apply((pod(name, priority=prio),))), Tick(1))
    assert [p.metadata.name for p in pending_pods(s)] == ["high-late", "mid", "low-early", "low-late"]
    assert {a.pod for a in Scheduler().candidates(s, CFG)} == {"high-late"}
    s = m.step(s, Apply((pod("urgent", priority=1000),)))
    assert {a.pod for a in Scheduler().candidates(s, CFG)} == {"urgent"}


def test_a_pod_that_fits_nowhere_does_not_block_the_queue() -> None:
    s = world([node("n1", cpu="1")], pending=[pod("huge", cpu="2", priority=100), pod("small", cpu="100m")])
    assert [a.pod for a in Scheduler().candidates(s, CFG)] == ["small"]


def test_every_feasible_node_is_offered_as_its_own_action() -> None:
    nodes = [node("n1"), node("n2"), node("n3", taints=[{"key": "k", "effect": "NoSchedule"}]), node("n4")]
    s = world(nodes, pending=[pod("p")])
    acts = list(Scheduler().candidates(s, CFG))
    assert all(isinstance(a, Schedule) and a.pod == "p" for a in acts)
    assert sorted(a.node for a in acts) == ["n1", "n2", "n4"]
    m = Model(actors=[Scheduler()])
    bound_to = {nxt.get("Pod", "default", "p").spec.node_name for a, nxt in m.successors(s)}
    assert bound_to == {"n1", "n2", "n4"}
    # binding re-checks the filters in the state it is taken in
    s2 = s.edit()
    assert apiserver.apply(s2, apiserver.Update(replace(s.get("Node", "", "n1"), spec=replace(s.get("Node", "", "n1").spec, unschedulable=True))), CFG).ok
    assert Scheduler().requests(s2.commit(), Schedule("default", "p", "n1"), CFG) == ()
