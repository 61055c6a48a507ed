"""The DaemonSet controller against the upstream tables (TestNodeShouldRunDaemonPod, the
taint tests, TestGetUnavailableNumbers, TestDaemonSetUpdatesPods,
TestDaemonSetUpdatesPodsWithMaxSurge, TestDaemonKillFailedPodsBackoff) and end to end
with the scheduler, kubelet, node lifecycle, taint manager and PodGC."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from kmodel import apiserver
from kmodel.actions import AddNode, Apply, Cordon, DeleteObject, FailNode, LabelNode, Reconcile, RemoveNode, SetImage, TaintNode
from kmodel.config import ModelConfig
from kmodel.controllers.daemonset import (
    BACKOFF_MAX,
    REVISION_HASH_LABEL,
    TEMPLATE_GENERATION_LABEL,
    SyncView,
    current_hash,
    daemon_tolerations,
    desired_node_counts,
    node_should_run,
    nodes_to_daemon_pods,
    target_node,
)
from kmodel.frozen import FrozenDict
from kmodel.model import Model
from kmodel.objects.pod import FAILED
from kmodel.objects.selectors import Toleration
from kmodel.state import ClusterState, empty_state
from kmodel.strategies import daemon_sets, node_sets
from tests.builders import node, obj

NS = "default"
DS_ACTORS_OFF = ("daemonset",)


def daemonset(
    name: str = "ds",
    *,
    image: str = "agent:1",
    strategy: dict[str, Any] | None = None,
    spec: dict[str, Any] | None = None,
    min_ready: int = 0,
    cpu: str | None = None,
) -> Any:
    """An apps/v1 DaemonSet selecting app=<name>; `spec` is merged into the pod spec."""
    container: dict[str, Any] = {"name": "c", "image": image}
    if cpu:
        container["resources"] = {"requests": {"cpu": cpu}}
    pod_spec: dict[str, Any] = {"containers": [container], **(spec or {})}
    ds_spec: dict[str, Any] = {
        "selector": {"matchLabels": {"app": name}},
        "template": {"metadata": {"labels": {"app": name}}, "spec": pod_spec},
        "minReadySeconds": min_ready,
    }
    if strategy is not None:
        ds_spec["updateStrategy"] = strategy
    return obj({"apiVersion": "apps/v1", "kind": "DaemonSet", "metadata": {"name": name, "namespace": NS}, "spec": ds_spec})


def rolling(max_unavailable: int | str | None = None, max_surge: int | str | None = None) -> dict[str, Any]:
    ru: dict[str, Any] = {}
    if max_unavailable is not None:
        ru["maxUnavailable"] = max_unavailable
    if max_surge is not None:
        ru["maxSurge"] = max_surge
    return {"type": "RollingUpdate", "rollingUpdate": ru}


def start(model: Model, nodes: list[Any], *objects: Any, settle: bool = True) -> ClusterState:
    s = empty_state()
    for n in nodes:
        s = model.step(s, AddNode(n))
    if objects:
        s = model.step(s, Apply(tuple(objects)))
    if settle:
        result = model.settle(s)
        assert result.quiescent, result.reason
        s = result.state
    return s


def settle(model: Model, s: ClusterState, horizon: int | None = None) -> ClusterState:
    result = model.settle(s, horizon=horizon)
    assert horizon is not None or result.quiescent, result.reason
    return result.state


def ds_pods(s: ClusterState, name: str = "ds") -> list[Any]:
    d = s.get("DaemonSet", NS, name)
    return s.controlled_by(d.metadata.uid, "Pod")


def active_by_node(s: ClusterState, name: str = "ds") -> dict[str, list[Any]]:
    out: dict[str, list[Any]] = {}
    for p in ds_pods(s, name):
        if p.active:
            out.setdefault(target_node(p) or "", []).append(p)
    return out


def status(s: ClusterState, name: str = "ds") -> Any:
    return s.get("DaemonSet", NS, name).status


def without_daemonset(model: Model) -> Model:
    """The same model with the DaemonSet controller switched off (to let everything else settle)."""
    return Model(model.config, [a for a in model.actors if a.name not in DS_ACTORS_OFF], model.scope)


def sync(model: Model, s: ClusterState, name: str = "ds") -> tuple[ClusterState, int, int]:
    """One DaemonSet sync: the next state and how many pods it created and started deleting."""
    nxt = model.step(s, Reconcile("daemonset", NS, name))
    before = {p.metadata.uid for p in s.pods()}
    deleting_before = {p.metadata.uid for p in s.pods() if p.metadata.deletion_timestamp is not None}
    creates = sum(1 for p in nxt.pods() if p.metadata.uid not in before)
    after = {p.metadata.uid: p for p in nxt.pods()}
    gone = {u for u in before - deleting_before if u not in after or after[u].metadata.deletion_timestamp is not None}
    deletes = len(gone)
    return nxt, creates, deletes


def _affinity(key: str, values: list[str]) -> dict[str, Any]:
    term = {"matchExpressions": [{"key": key, "operator": "In", "values": values}]}
    return {"nodeAffinity": {"requiredDuringSchedulingIgnoredDuringExecution": {"nodeSelectorTerms": [term]}}}


# ---- NodeShouldRunDaemonPod ---------------------------------------------------------------


class TestNodeShouldRunDaemonPod:
    """daemon_controller_test.go TestNodeShouldRunDaemonPod and the taint tests (spec §8.2)."""

    @pytest.mark.parametrize(
        ("case", "spec", "node_kwargs", "expected"),
        [
            ("fits resources", {"containers": [{"name": "c", "image": "a", "resources": {"requests": {"cpu": "50m", "memory": "75M"}}}]}, {}, (True, True)),
            (
                "insufficient resources",
                {"containers": [{"name": "c", "image": "a", "resources": {"requests": {"memory": "200M"}}}]},
                {"memory": "100M"},
                (True, True),
            ),
            ("template nodeName is another node", {"nodeName": "other-node"}, {}, (False, False)),
            ("template nodeName is this node", {"nodeName": "n1"}, {}, (True, True)),
            ("host port in use", {"containers": [{"name": "c", "image": "a", "ports": [{"hostPort": 666, "containerPort": 666}]}]}, {}, (True, True)),
            ("nodeSelector does not match", {"nodeSelector": {"disk": "ssd"}}, {"labels": {"disk": "hdd"}}, (False, False)),
            ("nodeSelector matches", {"nodeSelector": {"disk": "ssd"}}, {"labels": {"disk": "ssd"}}, (True, True)),
            ("required node affinity does not match", {"affinity": _affinity("type", ["production"])}, {"labels": {"type": "test"}}, (False, False)),
            ("required node affinity matches", {"affinity": _affinity("type", ["production"])}, {"labels": {"type": "production"}}, (True, True)),
        ],
    )
    def test_table(self, case: str, spec: dict[str, Any], node_kwargs: dict[str, Any], expected: tuple[bool, bool]) -> None:
        ds = daemonset(spec=spec)
        assert node_should_run(node("n1", **node_kwargs), ds) == expected, case

    def test_unschedulable_node_should_run(self) -> None:
        n = node("n1")
        n = replace(n, spec=replace(n.spec, unschedulable=True))
        assert node_should_run(n, daemonset()) == (True, True)

    @pytest.mark.parametrize(
        ("taint", "tolerate", "expected"),
        [
            ({"key": "dedicated", "value": "gpu", "effect": "NoSchedule"}, False, (False, True)),  # TestNoScheduleTaintedDoesntEvicitRunningIntolerantPod
            ({"key": "dedicated", "value": "gpu", "effect": "NoExecute"}, False, (False, False)),  # TestNoExecuteTaintedDoesEvicitRunningIntolerantPod
            ({"key": "dedicated", "value": "gpu", "effect": "NoSchedule"}, True, (True, True)),  # TestTaintedNodeDaemonLaunchesToleratePod
            ({"key": "dedicated", "value": "gpu", "effect": "PreferNoSchedule"}, False, (True, True)),
            ({"key": "node.kubernetes.io/not-ready", "effect": "NoExecute"}, False, (True, True)),  # TestNotReadyNodeDaemonLaunchesPod
            ({"key": "node.kubernetes.io/unreachable", "effect": "NoExecute"}, False, (True, True)),  # TestUnreachableNodeDaemonLaunchesPod
            ({"key": "node.kubernetes.io/memory-pressure", "effect": "NoSchedule"}, False, (True, True)),  # TestTaintPressureNodeDaemonLaunchesPod
            ({"key": "node.kubernetes.io/disk-pressure", "effect": "NoSchedule"}, False, (True, True)),
            ({"key": "node.kubernetes.io/pid-pressure", "effect": "NoSchedule"}, False, (True, True)),
            ({"key": "node.kubernetes.io/unschedulable", "effect": "NoSchedule"}, False, (True, True)),
            # not-ready:NoSchedule is not among the daemon tolerations: a NotReady node gets no new daemon pod
            ({"key": "node.kubernetes.io/not-ready", "effect": "NoSchedule"}, False, (False, True)),
            ({"key": "node.kubernetes.io/network-unavailable", "effect": "NoSchedule"}, False, (False, True)),
        ],
    )
    def test_taints(self, taint: dict[str, Any], tolerate: bool, expected: tuple[bool, bool]) -> None:
        tolerations = [{"key": "dedicated", "operator": "Equal", "value": "gpu", "effect": taint["effect"]}] if tolerate else []
        ds = daemonset(spec={"tolerations": tolerations})
        assert node_should_run(node("n1", taints=[taint]), ds) == expected

    def test_network_unavailable_tolerated_with_host_network(self) -> None:
        """TestNetworkUnavailableNodeDaemonLaunchesPod: only hostNetwork pods tolerate it."""
        n = node("n1", taints=[{"key": "node.kubernetes.io/network-unavailable", "effect": "NoSchedule"}])
        assert node_should_run(n, daemonset(spec={"hostNetwork": True})) == (True, True)
        assert node_should_run(n, daemonset()) == (False, True)

    def test_daemon_tolerations_replace_matching_ones(self) -> None:
        """AddOrUpdateTolerationInPodSpec replaces a toleration with the same key, operator,
        value and effect (dropping its tolerationSeconds) and keeps the others."""
        ds = daemonset(
            spec={
                "tolerations": [
                    {"key": "node.kubernetes.io/not-ready", "operator": "Exists", "effect": "NoExecute", "tolerationSeconds": 60},
                    {"key": "dedicated", "operator": "Exists"},
                ]
            }
        )
        tol = daemon_tolerations(ds.spec.template.spec)
        assert tol[0] == Toleration(key="node.kubernetes.io/not-ready", operator="Exists", effect="NoExecute")
        assert tol[1] == Toleration(key="dedicated", operator="Exists")
        assert [t.key for t in tol[2:]] == [
            "node.kubernetes.io/unreachable",
            "node.kubernetes.io/disk-pressure",
            "node.kubernetes.io/memory-pressure",
            "node.kubernetes.io/pid-pressure",
            "node.kubernetes.io/unschedulable",
        ]


# ---- TestGetUnavailableNumbers -------------------------------------------------------------


def _view(ds: Any, nodes: list[Any], pods_on: dict[str, str]) -> SyncView:
    """A sync view of `nodes` with one ready pod per entry of `pods_on` (node → 'ready' or 'terminating')."""
    from kmodel.objects.meta import Condition, ObjectMeta
    from kmodel.objects.pod import Pod, PodStatus

    pods = []
    for i, (n, how) in enumerate(sorted(pods_on.items())):
        meta = ObjectMeta(name=f"pod-{i}", namespace=NS, deletion_timestamp=5 if how == "terminating" else None)
        st = PodStatus(phase="Running", conditions=(Condition("Ready", "True", last_transition_time=0),))
        pods.append(Pod(metadata=meta, spec=replace(ds.spec.template.spec, node_name=n), status=st))
    eligibility = {n.name: node_should_run(n, ds) for n in nodes}
    return SyncView(ds, nodes, eligibility, nodes_to_daemon_pods(pods), "h", None, 10)


@pytest.mark.parametrize(
    ("case", "strategy", "n_nodes", "pods_on", "expected"),
    [
        ("no nodes", rolling(max_unavailable=0, max_surge=1), 0, {}, (1, 0, 0)),
        ("two nodes with ready pods", rolling(max_unavailable=1), 2, {"n0": "ready", "n1": "ready"}, (0, 1, 0)),
        ("two nodes, one without pod", rolling(max_unavailable=0, max_surge=0), 2, {"n0": "ready"}, (0, 1, 1)),
        ("two nodes, one without pod, surge 0", rolling(max_surge=0), 2, {"n0": "ready"}, (0, 1, 1)),
        ("two nodes, maxUnavailable 50%", rolling(max_unavailable="50%"), 2, {"n0": "ready", "n1": "ready"}, (0, 1, 0)),
        ("two nodes, maxSurge 50%", rolling(max_unavailable=0, max_surge="50%"), 2, {"n0": "ready", "n1": "ready"}, (1, 0, 0)),
        ("two nodes, maxSurge 100%", rolling(max_unavailable=0, max_surge="100%"), 2, {"n0": "ready", "n1": "ready"}, (2, 0, 0)),
        ("three nodes, one pod terminating, 50%", rolling(max_unavailable="50%"), 3, {"n0": "ready", "n1": "terminating"}, (0, 2, 1)),
    ],
)
def test_get_unavailable_numbers(case: str, strategy: dict[str, Any], n_nodes: int, pods_on: dict[str, str], expected: tuple[int, int, int]) -> None:
    """update_test.go TestGetUnavailableNumbers: (maxSurge, maxUnavailable, empty nodes)."""
    ds = daemonset(strategy=strategy) if not (strategy["rollingUpdate"].get("maxUnavailable") == 0 and not strategy["rollingUpdate"].get("maxSurge")) else None
    if ds is None:
        # maxUnavailable 0 with maxSurge 0 fails validation; upstream builds it directly
        ds = daemonset()
        ru = replace(ds.spec.update_strategy.rolling_update, max_unavailable=0, max_surge=0)
        ds = replace(ds, spec=replace(ds.spec, update_strategy=replace(ds.spec.update_strategy, rolling_update=ru)))
    view = _view(ds, [node(f"n{i}") for i in range(n_nodes)], pods_on)
    max_surge, max_unavailable, _, padded = desired_node_counts(view)
    empty = sum(1 for pods in padded.values() if not pods)
    assert (max_surge, max_unavailable, empty) == expected, case


# ---- end to end ------------------------------------------------------------------------------


class TestLifecycle:
    def test_one_pod_per_node_with_labels_affinity_and_status(self) -> None:
        """TestSimpleDaemonSetLaunchesPods: one pod per node, bound through the scheduler by
        the node-name affinity; labels controller-revision-hash and pod-template-generation."""
        m = Model()
        s = start(m, [node("n1"), node("n2"), node("n3")], daemonset())
        by_node = active_by_node(s)
        assert sorted(by_node) == ["n1", "n2", "n3"] and all(len(v) == 1 for v in by_node.values())
        h = current_hash(s, s.get("DaemonSet", NS, "ds"))
        for n, (p,) in by_node.items():
            assert p.spec.node_name == n and p.status.phase == "Running" and p.ready
            assert p.metadata.labels[REVISION_HASH_LABEL] == h and p.metadata.labels[TEMPLATE_GENERATION_LABEL] == "1"
            term = p.spec.affinity.node_affinity.required_during_scheduling_ignored_during_execution.node_selector_terms
            assert [(r.key, r.operator, r.values) for t in term for r in t.match_fields] == [("metadata.name", "In", (n,))]
        st = status(s)
        assert (st.desired_number_scheduled, st.current_number_scheduled, st.number_ready, st.number_available, st.updated_number_scheduled) == (3, 3, 3, 3, 3)
        assert st.number_misscheduled == 0 and st.number_unavailable == 0 and st.observed_generation == 1
        (rev,) = s.list("ControllerRevision")
        assert rev.metadata.name == f"ds-{h}" and rev.revision == 1

    def test_node_added_gets_a_pod_and_removed_node_left_to_podgc(self) -> None:
        m = Model()
        s = start(m, [node("n1")], daemonset())
        s = settle(m, m.step(s, AddNode(node("n2"))))
        assert sorted(active_by_node(s)) == ["n1", "n2"]
        s = m.step(s, RemoveNode("n2"))
        nxt, creates, deletes = sync(m, s)
        assert (creates, deletes) == (0, 0), "a pod bound to a deleted node is left to PodGC"
        s = settle(m, s, horizon=39)
        assert "n2" in active_by_node(s)
        s = settle(m, s)
        assert sorted(active_by_node(s)) == ["n1"]
        assert status(s).desired_number_scheduled == 1

    def test_unscheduled_pod_for_a_deleted_node_is_deleted_by_the_controller(self) -> None:
        """TestDeleteUnscheduledPodForNotExistingNode: a pod the scheduler could not bind is
        deleted by the DaemonSet controller once its node is gone (PodGC never sees it)."""
        m = Model()
        s = start(m, [node("n1", cpu="1"), node("n2", cpu="4")], daemonset(cpu="2"))
        (pending,) = active_by_node(s)["n1"]
        assert not pending.spec.node_name
        s = m.step(s, RemoveNode("n1"))
        s, creates, deletes = sync(m, s)
        assert (creates, deletes) == (0, 1) and s.get("Pod", NS, pending.metadata.name) is None

    def test_relabelled_node_gains_and_loses_its_pod(self) -> None:
        m = Model()
        ds = daemonset(spec={"nodeSelector": {"disk": "ssd"}})
        s = start(m, [node("n1", labels={"disk": "ssd"}), node("n2", labels={"disk": "hdd"})], ds)
        assert sorted(active_by_node(s)) == ["n1"]
        s = settle(m, m.step(s, LabelNode("n2", FrozenDict({"disk": "ssd"}))))
        assert sorted(active_by_node(s)) == ["n1", "n2"]
        s = settle(m, m.step(s, LabelNode("n1", FrozenDict({"disk": None}))))
        assert sorted(active_by_node(s)) == ["n2"]
        assert status(s).desired_number_scheduled == 1 and status(s).number_misscheduled == 0

    def test_noschedule_taint_keeps_pod_noexecute_removes_it(self) -> None:
        m = Model()
        s = start(m, [node("n1"), node("n2")], daemonset())
        s = settle(m, m.step(s, TaintNode("n1", "dedicated", "NoSchedule", "gpu")))
        assert sorted(active_by_node(s)) == ["n1", "n2"], "an untolerated NoSchedule taint keeps the running pod"
        assert status(s).desired_number_scheduled == 1 and status(s).number_misscheduled == 1
        s = settle(m, m.step(s, TaintNode("n2", "dedicated", "NoExecute", "gpu")))
        assert sorted(active_by_node(s)) == ["n1"]
        # a new node with the NoSchedule taint gets no pod
        s = settle(m, m.step(s, AddNode(node("n3", taints=[{"key": "dedicated", "value": "gpu", "effect": "NoSchedule"}]))))
        assert sorted(active_by_node(s)) == ["n1"]

    def test_noschedule_taint_deleted_pod_not_replaced(self) -> None:
        m = Model()
        s = start(m, [node("n1")], daemonset())
        s = settle(m, m.step(s, TaintNode("n1", "dedicated", "NoSchedule", "gpu")))
        (p,) = active_by_node(s)["n1"]
        s = settle(m, m.step(s, DeleteObject("Pod", NS, p.metadata.name)))
        assert active_by_node(s) == {}

    def test_cordoned_node_gets_a_daemon_pod(self) -> None:
        m = Model()
        s = start(m, [node("n1"), node("n2")])
        s = settle(m, m.step(s, Cordon("n1")))
        assert any(t.key == "node.kubernetes.io/unschedulable" for t in s.get("Node", "", "n1").spec.taints)
        s = settle(m, m.step(s, Apply((daemonset(),))))
        (p,) = active_by_node(s)["n1"]
        assert p.spec.node_name == "n1" and p.ready

    def test_not_ready_node_keeps_its_daemon_pod(self) -> None:
        """The node lifecycle controller taints a silent node unreachable (NoSchedule and
        NoExecute); the ReplicaSet's pod is evicted after 300 s, the daemon pod never."""
        from tests.builders import replicaset

        m = Model()
        s = start(m, [node("n1"), node("n2")], daemonset(), replicaset("web", 2))
        rs_on_n1 = [p for p in s.pods_on("n1") if p.metadata.labels.get("app") == "web"]
        s = settle(m, m.step(s, FailNode("n1")), horizon=2000)
        taints = {(t.key, t.effect) for t in s.get("Node", "", "n1").spec.taints}
        assert ("node.kubernetes.io/unreachable", "NoExecute") in taints
        (p,) = active_by_node(s)["n1"]
        assert p.metadata.deletion_timestamp is None
        assert all(s.get("Pod", NS, q.metadata.name) is None or s.get("Pod", NS, q.metadata.name).metadata.deletion_timestamp is not None for q in rs_on_n1)
        assert rs_on_n1, "the comparison needs a ReplicaSet pod on n1"
        # the unreachable NoSchedule taint makes n1 undesired: no replacement if the pod goes
        assert status(s).desired_number_scheduled == 1


class TestRollingUpdate:
    def test_updates_pods_max_unavailable_2(self) -> None:
        """update_test.go TestDaemonSetUpdatesPods: 5 nodes, maxUnavailable 2: per round
        delete 2 then create 2; then 2 and 2; then the last 1."""
        m = Model()
        others = without_daemonset(m)
        s = start(m, [node(f"n{i}") for i in range(5)], daemonset(strategy=rolling(max_unavailable=2)))
        s = m.step(s, SetImage("DaemonSet", NS, "ds", "agent:2"))
        rounds = []
        for _ in range(7):
            s = settle(others, s)
            s, creates, deletes = sync(m, s)
            rounds.append((creates, deletes))
        assert rounds == [(0, 2), (2, 0), (0, 2), (2, 0), (0, 1), (1, 0), (0, 0)]
        s = settle(m, s)
        h = current_hash(s, s.get("DaemonSet", NS, "ds"))
        assert all(p.metadata.labels[REVISION_HASH_LABEL] == h for pods in active_by_node(s).values() for p in pods)
        assert status(s).updated_number_scheduled == 5 and status(s).number_available == 5
        assert s.get("DaemonSet", NS, "ds").metadata.annotations["deprecated.daemonset.template.generation"] == "2"
        assert len(s.list("ControllerRevision")) == 2

    def test_updates_pods_with_max_surge_2(self) -> None:
        """update_test.go TestDaemonSetUpdatesPodsWithMaxSurge: create 2; once ready create 2
        and delete 2; then create 1 (5 mod 2) and delete 2; finally delete the last old."""
        m = Model()
        others = without_daemonset(m)
        s = start(m, [node(f"n{i}") for i in range(5)], daemonset(strategy=rolling(max_unavailable=0, max_surge=2)))
        s = m.step(s, SetImage("DaemonSet", NS, "ds", "agent:2"))
        rounds = []
        for _ in range(4):
            s, c1, d1 = sync(m, s)
            s, c2, d2 = sync(m, s)  # nothing more until the new pods are available
            rounds.append(((c1, d1), (c2, d2)))
            s = settle(others, s)
        assert rounds == [((2, 0), (0, 0)), ((2, 2), (0, 0)), ((1, 2), (0, 0)), ((0, 1), (0, 0))]
        assert max(len(v) for v in active_by_node(settle(m, s)).values()) == 1

    def test_surge_replaces_unready_old_pod_at_once(self) -> None:
        """TestSurgeDeletesUnreadyOldPods: an old pod that is not available gets its
        replacement regardless of maxSurge, and the old pod goes once the new one exists."""
        m = Model()
        s = start(m, [node("n1"), node("n2")], daemonset(strategy=rolling(max_unavailable=0, max_surge=1)))
        old = active_by_node(s)["n1"][0]
        from kmodel.kubelet import record_container_exit

        broken = record_container_exit(old, "c", 1, s.clock)
        tx = s.edit()
        apiserver.apply(tx, apiserver.Update(broken, status=True, check_rv=False), m.config)
        s = m.step(tx.commit(), SetImage("DaemonSet", NS, "ds", "agent:2"))
        s, creates, deletes = sync(m, s)
        assert (creates, deletes) == (2, 0), "n1 (old unavailable) plus one surge candidate (n2)"
        s, creates, deletes = sync(m, s)
        assert (creates, deletes) == (0, 1), "the not-ready old pod on n1 is deleted beside the new one"

    def test_on_delete_updates_only_deleted_pods(self) -> None:
        """OnDelete: a template change touches nothing until a pod is deleted; its
        replacement has the new revision; status counts one updated pod."""
        m = Model()
        s = start(m, [node("n1"), node("n2")], daemonset(strategy={"type": "OnDelete"}))
        before = {p.metadata.uid for p in ds_pods(s)}
        s = settle(m, m.step(s, SetImage("DaemonSet", NS, "ds", "agent:2")))
        assert {p.metadata.uid for p in ds_pods(s)} == before
        assert status(s).updated_number_scheduled == 0 and status(s).observed_generation == 2
        (victim,) = active_by_node(s)["n1"]
        s = settle(m, m.step(s, DeleteObject("Pod", NS, victim.metadata.name)))
        (new,) = active_by_node(s)["n1"]
        assert new.spec.containers[0].image == "agent:2" and new.metadata.labels[TEMPLATE_GENERATION_LABEL] == "2"
        assert active_by_node(s)["n2"][0].metadata.uid in before
        assert status(s).updated_number_scheduled == 1

    def test_rollback_reuses_the_old_revision_without_restarts(self) -> None:
        """Conformance 'DaemonSet-Rollback should rollback without unnecessary restarts':
        back to the old template, pods of the old hash count as updated again."""
        m = Model()
        others = without_daemonset(m)
        s = start(m, [node("n1"), node("n2"), node("n3")], daemonset(strategy=rolling(max_unavailable=1)))
        first = current_hash(s, s.get("DaemonSet", NS, "ds"))
        s = m.step(s, SetImage("DaemonSet", NS, "ds", "agent:2"))
        s = settle(others, sync(m, s)[0])  # one old pod replaced by a new one
        s = settle(others, sync(m, s)[0])
        kept = {p.metadata.uid for p in ds_pods(s) if p.metadata.labels[REVISION_HASH_LABEL] == first and p.active}
        assert len(kept) == 2
        s = settle(m, m.step(s, SetImage("DaemonSet", NS, "ds", "agent:1")))
        d = s.get("DaemonSet", NS, "ds")
        assert current_hash(s, d) == first
        assert kept <= {p.metadata.uid for p in ds_pods(s)}, "pods of the restored revision are not restarted"
        revs = sorted(s.list("ControllerRevision"), key=lambda r: r.revision)
        assert [r.metadata.labels[REVISION_HASH_LABEL] for r in revs][-1] == first and revs[-1].revision == 3

    def test_history_cleanup_keeps_revision_history_limit(self) -> None:
        m = Model()
        ds = daemonset(strategy=rolling(max_unavailable=1))
        ds = replace(ds, spec=replace(ds.spec, revision_history_limit=1))
        s = start(m, [node("n1")], ds)
        for image in ("agent:2", "agent:3", "agent:4"):
            s = settle(m, m.step(s, SetImage("DaemonSet", NS, "ds", image)))
        revs = sorted(s.list("ControllerRevision"), key=lambda r: r.revision)
        assert [r.revision for r in revs] == [3, 4]


class TestVersionDifferences:
    def _broken_updates(self, version: str) -> ClusterState:
        """Issue #123232: two successive updates whose pods can never be placed."""
        m = Model(ModelConfig(kubernetes_version=version))
        s = start(m, [node(f"n{i}", cpu="1") for i in range(3)], daemonset(strategy=rolling(max_unavailable=1)))
        for big in ("2", "3"):
            d = s.get("DaemonSet", NS, "ds")
            c = d.spec.template.spec.containers[0]
            c = replace(c, resources=replace(c.resources, requests=FrozenDict({"cpu": int(big) * 1000})))
            tpl = replace(d.spec.template, spec=replace(d.spec.template.spec, containers=(c,)))
            s = settle(m, m.step(s, Apply((replace(d, spec=replace(d.spec, template=tpl)),))))
        return s

    def test_unavailable_old_pods_count_against_max_unavailable_from_1_31(self) -> None:
        s = self._broken_updates("1.34")
        assert status(s).number_available == 2
        s = self._broken_updates("1.30")
        assert status(s).number_available == 1, "PR #123233 is not in 1.30.0: a second broken update takes another node"

    def test_surge_skips_nodes_that_should_not_run_from_1_29(self) -> None:
        """PR #119317: with maxSurge, a node whose taint the new template no longer tolerates
        gets no surge pod (1.28 creates one that stays Pending and blocks the update)."""
        tolerating = daemonset(strategy=rolling(max_unavailable=0, max_surge=1), spec={"tolerations": [{"key": "dedicated", "operator": "Exists"}]})
        nodes = [node("n1"), node("n2", taints=[{"key": "dedicated", "value": "x", "effect": "NoSchedule"}])]
        results = {}
        for version in ("1.28", "1.29"):
            m = Model(ModelConfig(kubernetes_version=version))
            s = start(m, nodes, tolerating)
            d = s.get("DaemonSet", NS, "ds")
            c = replace(d.spec.template.spec.containers[0], image="agent:2")
            tpl = replace(d.spec.template, spec=replace(d.spec.template.spec, tolerations=(), containers=(c,)))
            s = settle(m, m.step(s, Apply((replace(d, spec=replace(d.spec, template=tpl)),))))
            results[version] = {n: sorted(p.spec.node_name or "pending" for p in ps) for n, ps in active_by_node(s).items()}
        assert results["1.28"]["n2"] == ["n2", "pending"]
        assert "n2" not in results["1.29"] and results["1.29"]["n1"] == ["n1"]


def test_1_28_surge_churns_for_a_deleted_node_until_podgc() -> None:
    """v1.28.0 surges onto a deleted node whose old pod is still bound (create, delete as
    unscheduled without node, create again); from 1.29 the node lookup fails and the
    rolling update waits for PodGC (40 s), then completes."""
    outcome = {}
    for version in ("1.28", "1.29"):
        m = Model(ModelConfig(kubernetes_version=version))
        s = start(m, [node("n1"), node("n2")], daemonset(strategy=rolling(max_unavailable=0, max_surge=1)))
        s = m.step(m.step(s, RemoveNode("n2")), SetImage("DaemonSet", NS, "ds", "agent:2"))
        result = m.settle(s, max_steps=400)
        outcome[version] = (result.quiescent, sorted((p.spec.node_name, p.spec.containers[0].image) for p in result.state.pods()))
    assert outcome["1.28"][0] is False
    assert outcome["1.29"] == (True, [("n1", "agent:2")])


class TestFailedPodBackoff:
    def _fail(self, m: Model, s: ClusterState, node_name: str) -> ClusterState:
        (p,) = active_by_node(s)[node_name]
        tx = s.edit()
        apiserver.apply(tx, apiserver.Update(replace(p, status=replace(p.status, phase=FAILED, reason="Evicted")), status=True, check_rv=False), m.config)
        return tx.commit()

    def test_failed_pod_deleted_with_doubling_backoff(self) -> None:
        """TestDaemonKillFailedPodsBackoff: the first failed pod is deleted at once (back-off
        1 s); a second failure within the window waits for it, the next delay is 2 s."""
        m = Model()
        others = without_daemonset(m)
        s = start(m, [node("n1")], daemonset())
        t0 = s.clock
        s, creates, deletes = sync(m, self._fail(m, s, "n1"))
        assert (creates, deletes) == (0, 1)
        ((key, (delay, last)),) = s.recall("daemonset").items()
        assert key.endswith("/1/n1") and (delay, last) == (1, t0)
        s = settle(others, s)  # the kubelet removes the failed pod
        s, creates, deletes = sync(m, s)
        assert (creates, deletes) == (1, 0), "a terminal pod with deletionTimestamp no longer blocks a replacement"
        s = settle(others, s)
        s = self._fail(m, s, "n1")
        s, creates, deletes = sync(m, s)
        assert (creates, deletes) == (0, 0), "still within the 1 s back-off"
        assert m.next_deadline(s) == t0 + 1
        s = settle(m, s)
        assert s.recall("daemonset")[key] == (2, t0 + 1)
        assert [p.ready for p in active_by_node(s)["n1"]] == [True]

    def test_backoff_capped_at_15_minutes(self) -> None:
        from kmodel.controllers.daemonset import next_backoff

        b: FrozenDict[str, tuple[int, int]] = FrozenDict()
        delays = []
        for t in range(12):
            b = next_backoff(b, "k", t)
            delays.append(b["k"][0])
        assert delays[:4] == [1, 2, 4, 8] and delays[-1] == BACKOFF_MAX
        assert next_backoff(b, "k", 11 + 2 * BACKOFF_MAX + 1)["k"][0] == 1, "forgotten after twice the maximum"


# ---- property: any valid DaemonSet on any small cluster ----------------------------------------


@given(ds=daemon_sets(), nodes=node_sets(max_nodes=3), image=st.sampled_from(["agent:9", "nginx:1.25"]))
def test_any_daemonset_settles_with_every_invariant_held(ds: Any, nodes: list[Any], image: str) -> None:
    """Every generated DaemonSet (daemon_sets strategy) on every small cluster settles,
    also after a template change, with every invariant held on every step and at rest."""
    from invariants.registry import check_state, check_transition, load_all

    invs = list(load_all().values())
    m = Model()
    trace: list[tuple[ClusterState, Any, ClusterState]] = []
    s = empty_state()
    for n in nodes:
        s = m.step(s, AddNode(n))
    for action in (Apply((ds,)), SetImage("DaemonSet", NS, ds.metadata.name, image)):
        s = m.step(s, action)
        result = m.settle(s, on_step=lambda p, a, n: trace.append((p, a, n)), max_steps=3000)
        assert result.quiescent, result.reason
        s = result.state
        assert check_state(s, invs, quiescent=True) == []
    assert [v for p, a, n in trace for v in check_transition(p, a, n, invs)] == []
    d = s.get("DaemonSet", NS, ds.metadata.name)
    assert d.status.observed_generation == d.metadata.generation


def test_burst_of_250_creations_and_deletions_per_sync() -> None:
    """daemon_controller.go BurstReplicas: syncNodes caps creations and deletions at 250 each."""
    from kmodel.controllers.daemonset import BURST_REPLICAS, sync_nodes

    ds = daemonset()
    view = _view(ds, [], {})
    pods = [replace(p, metadata=replace(p.metadata, name=f"p{i}")) for i, p in enumerate([_view(ds, [node("x")], {"x": "ready"}).by_node["x"][0]] * 300)]
    reqs = sync_nodes(view, pods, [f"n{i}" for i in range(300)])
    creates = [r for r in reqs if isinstance(r, apiserver.Create)]
    deletes = [r for r in reqs if isinstance(r, apiserver.Delete)]
    assert BURST_REPLICAS == 250 and (len(creates), len(deletes)) == (250, 250)
    assert target_node(creates[-1].obj) == "n249" and deletes[-1].ref.name == "p249"
