"""Shared controller machinery (kmodel.controllers.common) against the upstream tables.

* deletion ranking: pkg/controller/controller_utils_test.go TestSortingActivePods and
  TestSortingActivePodsWithRanks (spec §1.6), replica_set_test.go TestGetPodsToDelete
  (spec §5.3);
* ClaimObject (controller_ref_manager.go, spec §1.5);
* expectations with asynchronous delivery (controller_utils.go SatisfiedExpectations,
  ExpectationsTimeout; spec §1.2).
"""

from __future__ import annotations

import random
from dataclasses import replace
from typing import Any

import pytest

from kmodel import apiserver
from kmodel.actions import Apply, Deliver, Reconcile, Tick
from kmodel.config import ModelConfig
from kmodel.controllers.common import (
    BURST_REPLICAS,
    claim,
    compare_for_deletion,
    controller_ref,
    expectations_satisfied,
    pods_to_delete,
    rank_for_deletion,
)
from kmodel.controllers.replicaset import ReplicaSetController
from kmodel.frozen import FrozenDict
from kmodel.model import Model
from kmodel.objects.meta import Condition, ObjectMeta, OwnerReference
from kmodel.objects.pod import ContainerStatus, Pod, PodSpec, PodStatus
from kmodel.objects.serde import decode_object
from kmodel.state import empty_state

DAY = 24 * 3600
HOUR = 3600
NOW = 400 * DAY  # model clock of the ranking tests
MONTH_AGO = NOW - 30 * DAY  # upstream: now.AddDate(0, -1, 0)


def mkpod(
    name: str,
    node: str = "",
    phase: str = "Pending",
    *,
    ready: bool = False,
    ready_since: int | None = None,
    restarts: tuple[int, ...] = (),
    created: int | None = None,
    annotations: dict[str, str] | None = None,
    uid: str = "",
) -> Pod:
    """A pod shaped like the upstream test fixtures (None times are Go's zero time)."""
    conds = (Condition("Ready", "True", last_transition_time=ready_since),) if ready else ()
    statuses = tuple(ContainerStatus(name=f"c{i}", restart_count=r) for i, r in enumerate(restarts))
    meta = ObjectMeta(name=name, namespace="default", uid=uid, creation_timestamp=created, annotations=FrozenDict(annotations or {}))
    return Pod(metadata=meta, spec=PodSpec(node_name=node), status=PodStatus(phase=phase, conditions=conds, container_statuses=statuses))


def less(a: Pod, ra: int, b: Pod, rb: int, now: int | None = NOW) -> bool:
    """ActivePodsWithRanks.Less(a, b)."""
    return compare_for_deletion((a, ra), (b, rb), now) < 0


# ---- TestSortingActivePods (controller_utils_test.go) ------------------------------------------


def test_sorting_active_pods_upstream_order() -> None:
    # controller_utils_test.go TestSortingActivePods "Sorts by active pod": the plain
    # ActivePods order (no ranks, no logarithmic buckets: `now` None).
    pods = [
        mkpod("unscheduled", "", "Pending"),
        mkpod("scheduledButPending", "bar", "Pending"),
        mkpod("unknownPhase", "foo", "Unknown"),
        mkpod("runningButNotReady", "foo", "Running"),
        mkpod("runningNoLastTransitionTime", "foo", "Running", ready=True, restarts=(3, 0)),
        mkpod("runningWithLastTransitionTime", "foo", "Running", ready=True, ready_since=NOW, restarts=(3, 0)),
        mkpod("runningLongerTime", "foo", "Running", ready=True, ready_since=MONTH_AGO, restarts=(3, 0)),
        mkpod("lowerContainerRestartCount", "foo", "Running", ready=True, ready_since=MONTH_AGO, restarts=(2, 1), created=NOW),
        mkpod("oldest", "foo", "Running", ready=True, ready_since=MONTH_AGO, restarts=(2, 1), created=MONTH_AGO),
    ]
    want = [p.metadata.name for p in pods]
    rng = random.Random(7)
    for _ in range(20):  # upstream sorts 20 random permutations
        shuffled = pods[:]
        rng.shuffle(shuffled)
        got = [p.metadata.name for p in rank_for_deletion(shuffled, [], None)]
        assert got == want


# ---- TestSortingActivePodsWithRanks (controller_utils_test.go) ---------------------------------

UNSCHEDULED = mkpod("unscheduled", "", "Pending")
SCHEDULED_PENDING = mkpod("pending", "node", "Pending")
UNKNOWN_PHASE = mkpod("unknown-phase", "node", "Unknown")
RUNNING_NOT_READY = mkpod("not-ready", "node", "Running")
READY_NO_LTT = mkpod("ready-no-last-transition-time", "node", "Running", ready=True, restarts=(0,))
READY_NOW = mkpod("ready-now", "node", "Running", ready=True, restarts=(0,), ready_since=NOW, created=NOW)
READY_THEN = mkpod("ready-then", "node", "Running", ready=True, restarts=(0,), ready_since=MONTH_AGO, created=MONTH_AGO)
READY_HIGH_RESTARTS = mkpod("ready-high-restarts", "node", "Running", ready=True, restarts=(9001,), ready_since=NOW, created=NOW)
READY_NOW_CREATED_THEN = mkpod("ready-now-created-then", "node", "Running", ready=True, restarts=(0,), ready_since=NOW, created=MONTH_AGO)
COST = "controller.kubernetes.io/pod-deletion-cost"
LOW_COST = mkpod("low-deletion-cost", "node", "Running", ready=True, restarts=(0,), ready_since=NOW, created=MONTH_AGO, annotations={COST: "10"})
HIGH_COST = mkpod("high-deletion-cost", "node", "Running", ready=True, restarts=(0,), ready_since=NOW, created=MONTH_AGO, annotations={COST: "100"})
UNSCHEDULED_5H = mkpod("unscheduled-5-hours", "", "Pending", created=NOW - 5 * HOUR)
UNSCHEDULED_8H = mkpod("unscheduled-10-hours", "", "Pending", created=NOW - 8 * HOUR)
READY_2H = mkpod("ready-2-hours", "", "Running", ready=True, restarts=(0,), ready_since=NOW - 2 * HOUR, created=MONTH_AGO)
READY_5H = mkpod("ready-5-hours", "", "Running", ready=True, restarts=(0,), ready_since=NOW - 5 * HOUR, created=MONTH_AGO)
READY_8H = mkpod("ready-10-hours", "", "Running", ready=True, restarts=(0,), ready_since=NOW - 8 * HOUR, created=MONTH_AGO)


@pytest.mark.parametrize(
    "p1,p2",
    [
        (UNSCHEDULED, UNSCHEDULED),
        (SCHEDULED_PENDING, SCHEDULED_PENDING),
        (UNKNOWN_PHASE, UNKNOWN_PHASE),
        (RUNNING_NOT_READY, RUNNING_NOT_READY),
        (READY_NOW_CREATED_THEN, READY_NOW_CREATED_THEN),
        (READY_NOW, READY_NOW),
        (READY_THEN, READY_THEN),
        (READY_HIGH_RESTARTS, READY_HIGH_RESTARTS),
        # same log2 bucket of age (2^44 ns ≈ 4.9 h .. 9.8 h), equal (empty) uids
        (UNSCHEDULED_5H, UNSCHEDULED_8H),
        (READY_5H, READY_8H),
    ],
    ids=lambda p: p.metadata.name,
)
def test_ranked_equalities(p1: Pod, p2: Pod) -> None:
    # TestSortingActivePodsWithRanks equalityTests (ranks 1 and 1, Now set)
    assert not less(p1, 1, p2, 1) and not less(p2, 1, p1, 1)


@pytest.mark.parametrize(
    "lesser,greater",
    [
        ((UNSCHEDULED, 1), (SCHEDULED_PENDING, 2)),
        ((UNSCHEDULED, 2), (SCHEDULED_PENDING, 1)),  # rank never beats assignment
        ((SCHEDULED_PENDING, 1), (UNKNOWN_PHASE, 2)),
        ((UNKNOWN_PHASE, 1), (RUNNING_NOT_READY, 2)),
        ((RUNNING_NOT_READY, 1), (READY_NO_LTT, 1)),
        ((READY_NO_LTT, 1), (READY_NOW, 1)),  # zero ready time sorts first
        ((READY_NOW, 2), (READY_NO_LTT, 1)),  # rank beats ready time
        ((READY_NOW, 1), (READY_THEN, 1)),
        ((READY_NOW, 2), (READY_THEN, 1)),
        ((READY_HIGH_RESTARTS, 1), (READY_NOW, 1)),
        ((READY_NOW, 2), (READY_HIGH_RESTARTS, 1)),
        ((READY_NOW, 1), (READY_NOW_CREATED_THEN, 1)),
        ((READY_NOW_CREATED_THEN, 2), (READY_NOW, 1)),
        ((LOW_COST, 2), (HIGH_COST, 1)),
        ((LOW_COST, 1), (HIGH_COST, 2)),  # deletion cost beats rank (PodDeletionCost on)
        ((READY_2H, 1), (READY_5H, 1)),  # different log2 buckets
    ],
    ids=lambda pr: f"{pr[0].metadata.name}@{pr[1]}",
)
def test_ranked_inequalities(lesser: tuple[Pod, int], greater: tuple[Pod, int]) -> None:
    # TestSortingActivePodsWithRanks inequalityTests (the disablePodDeletioncost row is
    # left out: the model has no feature gates, PodDeletionCost is on as in v1.28)
    assert less(*lesser, *greater)
    assert not less(*greater, *lesser)


def test_same_log_bucket_ties_are_broken_by_uid() -> None:
    # ActivePodsWithRanks.Less: same logarithmic rank → s.Pods[i].UID < s.Pods[j].UID
    five = replace(READY_5H, metadata=replace(READY_5H.metadata, uid="bbbb"))
    eight = replace(READY_8H, metadata=replace(READY_8H.metadata, uid="aaaa"))
    assert less(eight, 1, five, 1) and not less(five, 1, eight, 1)
    # without logarithmic scaling (Now zero) the more recent one goes first, whatever the uids
    assert less(five, 1, eight, 1, now=None) and not less(eight, 1, five, 1, now=None)
    # different buckets: the uid does not matter
    two = replace(READY_2H, metadata=replace(READY_2H.metadata, uid="zzzz"))
    assert less(two, 1, eight, 1)
    u5 = replace(UNSCHEDULED_5H, metadata=replace(UNSCHEDULED_5H.metadata, uid="2"))
    u8 = replace(UNSCHEDULED_8H, metadata=replace(UNSCHEDULED_8H.metadata, uid="1"))
    assert less(u8, 0, u5, 0) and not less(u5, 0, u8, 0)


def test_invalid_deletion_cost_counts_as_zero() -> None:
    bad = replace(LOW_COST, metadata=replace(LOW_COST.metadata, annotations=FrozenDict({COST: "many"})))
    assert less(bad, 1, HIGH_COST, 1)  # 0 < 100
    assert less(LOW_COST, 1, READY_NOW_CREATED_THEN, 1) is False  # 10 > 0


# ---- TestGetPodsToDelete (replica_set_test.go) -----------------------------------------------

U = mkpod("unscheduled-pending-pod", "", "Pending")
P = mkpod("scheduled-pending-pod", "fake-node", "Pending")
NR = replace(mkpod("scheduled-running-not-ready-pod", "fake-node", "Running"), status=PodStatus(phase="Running", conditions=(Condition("Ready", "False"),)))
R1 = mkpod("scheduled-running-ready-pod-on-node-1", "fake-node-1", "Running", ready=True)
R2 = mkpod("scheduled-running-ready-pod-on-node-2", "fake-node-2", "Running", ready=True)


@pytest.mark.parametrize(
    "pods,related,diff,expected",
    [
        ([], None, 0, []),
        ([NR, R1], None, 2, [NR, R1]),  # diff = len(pods): no sorting
        ([R1, NR], None, 1, [NR]),
        ([R1, R1, R2, NR, P, U], None, 6, [R1, R1, R2, NR, P, U]),
        ([R1, R1, R2, NR, P, U], [], 6, [R1, R1, R2, NR, P, U]),
        ([P, U], None, 1, [U]),
        ([R1, NR, NR], None, 2, [NR, NR]),
        ([R1, R2], [R1, R2, R2], 1, [R2]),  # node-2 is doubled up
        ([P, NR], None, 1, [P]),
        ([R1, R2, NR, P, U], None, 3, [U, P, NR]),
    ],
)
def test_get_pods_to_delete(pods: list[Pod], related: list[Pod] | None, diff: int, expected: list[Pod]) -> None:
    got = pods_to_delete(pods, pods if related is None else related, diff, NOW)
    assert [p.metadata.name for p in got] == [p.metadata.name for p in expected]


def test_co_location_rank_counts_only_active_related_pods() -> None:
    # getPodsRankedByRelatedPodsOnSameNode counts IsPodActive related pods per node
    terminating = replace(R2, metadata=replace(R2.metadata, name="terminating", deletion_timestamp=NOW))
    failed = replace(R2, metadata=replace(R2.metadata, name="failed"), status=replace(R2.status, phase="Failed"))
    other = replace(R1, metadata=replace(R1.metadata, name="other-on-node-1"))
    # node-2 has two related pods, but neither extra one is active; node-1 has an active one
    assert [p.metadata.name for p in pods_to_delete([R1, R2], [R1, R2, terminating, failed, other], 1, NOW)] == [R1.metadata.name]


# ---- ClaimObject (controller_ref_manager.go) ----------------------------------------------------


TEMPLATE = {"metadata": {"labels": {"app": "web"}}, "spec": {"containers": [{"name": "c", "image": "x"}]}}


def rs_manifest(replicas: int, name: str = "web", ns: str = "default") -> Any:
    obj, _ = decode_object(
        {
            "apiVersion": "apps/v1",
            "kind": "ReplicaSet",
            "metadata": {"name": name, "namespace": ns},
            "spec": {"replicas": replicas, "selector": {"matchLabels": {"app": "web"}}, "template": TEMPLATE},
        }
    )
    return obj


def rs_obj(name: str = "web", ns: str = "default", uid: str = "rs-uid", deleting: bool = False) -> Any:
    obj = rs_manifest(1, name, ns)
    return replace(obj, metadata=replace(obj.metadata, uid=uid, deletion_timestamp=5 if deleting else None))


def labelled(name: str, labels: dict[str, str], *, ns: str = "default", owners: tuple[OwnerReference, ...] = (), deleting: bool = False) -> Pod:
    meta = ObjectMeta(
        name=name, namespace=ns, uid=f"uid-{name}", labels=FrozenDict(labels), owner_references=owners, deletion_timestamp=3 if deleting else None
    )
    return Pod(metadata=meta, spec=PodSpec(node_name="n1"))


OTHER = OwnerReference("apps/v1", "ReplicaSet", "other", "other-uid", controller=True, block_owner_deletion=True)
MATCH = {"app": "web"}


def run_claim(owner: Any, pods: list[Pod]) -> tuple[list[str], list[apiserver.Request]]:
    claimed, reqs = claim(owner, owner.label_selector, pods)
    return [p.metadata.name for p in claimed], reqs


def test_claim_keeps_own_matching_pods_and_ignores_pods_of_other_controllers() -> None:
    rs = rs_obj()
    mine = labelled("mine", MATCH, owners=(controller_ref(rs),))
    theirs = labelled("theirs", MATCH, owners=(OTHER,))
    names, reqs = run_claim(rs, [mine, theirs])
    assert names == ["mine"] and reqs == []


def test_claim_releases_own_pod_that_stopped_matching() -> None:
    rs = rs_obj()
    stray = labelled("stray", {"app": "other"}, owners=(controller_ref(rs), replace(OTHER, controller=False)))
    names, reqs = run_claim(rs, [stray])
    assert names == []
    assert len(reqs) == 1 and isinstance(reqs[0], apiserver.Update)
    released = reqs[0].obj
    assert [r.uid for r in released.metadata.owner_references] == ["other-uid"]  # only our reference goes
    assert released.metadata.uid == stray.metadata.uid  # uid precondition (ReleasePod patch)


def test_claim_while_owner_is_being_deleted() -> None:
    rs = rs_obj(deleting=True)
    mine = labelled("mine", MATCH, owners=(controller_ref(rs),))
    stray = labelled("stray", {"app": "other"}, owners=(controller_ref(rs),))
    orphan = labelled("orphan", MATCH)
    names, reqs = run_claim(rs, [mine, stray, orphan])
    # ours and matching: still claimed; not matching: ignored, not released; orphans: not adopted
    assert names == ["mine"] and reqs == []


def test_claim_adopts_matching_orphans_only() -> None:
    rs = rs_obj()
    orphan = labelled("orphan", MATCH, owners=(replace(OTHER, controller=False),))
    unmatched = labelled("unmatched", {"app": "nope"})
    terminating = labelled("terminating", MATCH, deleting=True)
    elsewhere = labelled("elsewhere", MATCH, ns="other-ns")
    names, reqs = run_claim(rs, [orphan, unmatched, terminating, elsewhere])
    assert names == ["orphan"]
    assert len(reqs) == 1 and isinstance(reqs[0], apiserver.Update)
    adopted = reqs[0].obj.metadata
    assert adopted.name == "orphan"
    assert adopted.controller_ref() == controller_ref(rs)  # controller and blockOwnerDeletion set
    assert replace(OTHER, controller=False) in adopted.owner_references  # existing references are kept


# ---- expectations (controller_utils.go) with asynchronous delivery --------------------------------


SYNC = Reconcile("replicaset", "default", "web")
KEY = ("default", "web")


def creates_in_flight(state: Any) -> int:
    return sum(1 for f in state.inflight if isinstance(f.request, apiserver.Create))


def test_no_new_creations_while_own_creations_are_in_flight() -> None:
    cfg = ModelConfig(delivery="async")
    rsc = ReplicaSetController()
    model = Model(cfg, actors=[rsc])
    s = model.step(empty_state(), Apply((rs_manifest(2),)))
    s = model.step(s, SYNC)
    assert creates_in_flight(s) == 2 and s.count("Pod") == 0
    assert not expectations_satisfied(s, "replicaset", KEY, cfg)
    # a second sync sees no pods but must not create: the sync is not even enabled
    assert not any(isinstance(r, apiserver.Create) for r in rsc.requests(s, SYNC, cfg))
    assert model.step(s, SYNC) is s
    s = model.step(s, Deliver("replicaset"))
    assert s.count("Pod") == 1 and not expectations_satisfied(s, "replicaset", KEY, cfg)
    assert not any(isinstance(r, apiserver.Create) for r in rsc.requests(s, SYNC, cfg))
    s = model.step(s, Deliver("replicaset"))
    assert s.count("Pod") == 2 and expectations_satisfied(s, "replicaset", KEY, cfg)
    assert not any(isinstance(r, (apiserver.Create, apiserver.Delete)) for r in rsc.requests(s, SYNC, cfg))


def test_deletions_in_flight_block_the_next_sync_too() -> None:
    cfg = ModelConfig(delivery="async")
    rsc = ReplicaSetController()
    model = Model(cfg, actors=[rsc])
    s = model.settle(model.step(empty_state(), Apply((rs_manifest(3),)))).state
    assert s.count("Pod") == 3 and not s.inflight
    s = model.step(s, Apply((rs_manifest(1),)))
    s = model.step(s, SYNC)
    assert sum(1 for f in s.inflight if isinstance(f.request, apiserver.Delete)) == 2
    assert not expectations_satisfied(s, "replicaset", KEY, cfg)
    assert not any(isinstance(r, apiserver.Delete) for r in rsc.requests(s, SYNC, cfg))


def test_expectations_expire_after_five_minutes() -> None:
    cfg = ModelConfig(delivery="async")
    rsc = ReplicaSetController()
    model = Model(cfg, actors=[rsc])
    s = model.step(empty_state(), Apply((rs_manifest(2),)))
    s = model.step(s, SYNC)
    issued = s.clock
    assert model.next_deadline(s) == issued + cfg.expectations_timeout + 1
    at_timeout = model.step(s, Tick(cfg.expectations_timeout))
    # isExpired is Since(timestamp) > ExpectationsTimeout: not yet at exactly 5 minutes
    assert not expectations_satisfied(at_timeout, "replicaset", KEY, cfg)
    assert not any(isinstance(r, apiserver.Create) for r in rsc.requests(at_timeout, SYNC, cfg))
    expired = model.step(at_timeout, Tick(1))
    assert expectations_satisfied(expired, "replicaset", KEY, cfg)
    # treated as satisfied: the controller, still seeing no pods, creates again (the
    # known over-creation hazard when the informer lags past the timeout, spec §1.2)
    again = model.step(expired, SYNC)
    assert creates_in_flight(again) == 4


def test_expectations_are_per_controller_and_key() -> None:
    cfg = ModelConfig(delivery="async")
    model = Model(cfg, actors=[ReplicaSetController()])
    other = rs_manifest(1, name="api")
    s = model.step(empty_state(), Apply((rs_manifest(1), other)))
    s = model.step(s, SYNC)
    assert not expectations_satisfied(s, "replicaset", KEY, cfg)
    assert expectations_satisfied(s, "replicaset", ("default", "api"), cfg)
    assert expectations_satisfied(s, "replicationcontroller", KEY, cfg)
    s = model.step(s, Reconcile("replicaset", "default", "api"))
    assert creates_in_flight(s) == 2


def test_burst_limit_per_sync() -> None:
    # replica_set.go manageReplicas: at most burstReplicas (500) creations per sync (spec §1.4)
    cfg = ModelConfig()
    rsc = ReplicaSetController()
    model = Model(cfg, actors=[rsc])
    s = model.step(empty_state(), Apply((rs_manifest(BURST_REPLICAS + 20),)))
    reqs = rsc.requests(s, SYNC, cfg)
    assert sum(1 for r in reqs if isinstance(r, apiserver.Create)) == BURST_REPLICAS
    s = model.step(s, SYNC)
    reqs = rsc.requests(s, SYNC, cfg)
    assert sum(1 for r in reqs if isinstance(r, apiserver.Create)) == 20
