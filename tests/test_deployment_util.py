"""The Deployment controller's pure decisions against the upstream unit-test tables
(spec §6.3, §6.6, §6.8, §6.9, §6.10; pkg/controller/deployment/*_test.go, util/deployment_util_test.go)."""

from __future__ import annotations

from dataclasses import replace

import pytest

from kmodel.controllers import deployment_util as du
from kmodel.frozen import FrozenDict
from kmodel.intstr import IntOrPercentError
from kmodel.objects.meta import Condition, ObjectMeta
from kmodel.objects.pod import Container, PodSpec, PodTemplateSpec, TemplateMeta
from kmodel.objects.selectors import LabelSelector
from kmodel.objects.workloads import (
    Deployment,
    DeploymentSpec,
    DeploymentStatus,
    DeploymentStrategy,
    ReplicaSet,
    ReplicaSetSpec,
    ReplicaSetStatus,
    RollingUpdateDeployment,
)

SELECTOR = {"foo": "bar"}
T_OLDER, T_OLD, T_NEW = 0, 3600, 7200  # creation times (s) of the TestScale fixtures


def template(labels: dict[str, str] | None = None, image: str = "foo/bar") -> PodTemplateSpec:
    return PodTemplateSpec(TemplateMeta(labels=FrozenDict(labels or {})), PodSpec(containers=(Container("c", image=image),)))


def deployment(
    replicas: int,
    max_surge: int | str | None = 0,
    max_unavailable: int | str | None = 0,
    *,
    strategy: str = "RollingUpdate",
    revision_history_limit: int | None = None,
    status: DeploymentStatus | None = None,
    pds: int | None = 600,
) -> Deployment:
    """upstream newDeployment: RollingUpdate with maxSurge/maxUnavailable 0 unless given."""
    ru = RollingUpdateDeployment(max_surge=max_surge, max_unavailable=max_unavailable) if strategy == "RollingUpdate" else None
    return Deployment(
        metadata=ObjectMeta(name="foo", namespace="default", uid="dep-uid"),
        spec=DeploymentSpec(
            selector=LabelSelector(match_labels=FrozenDict(SELECTOR)),
            template=template(SELECTOR),
            replicas=replicas,
            strategy=DeploymentStrategy(type=strategy, rolling_update=ru),
            revision_history_limit=revision_history_limit,
            progress_deadline_seconds=pds,
        ),
        status=status or DeploymentStatus(),
    )


def rs(
    name: str,
    replicas: int,
    created: int | None = None,
    *,
    available: int = 0,
    status_replicas: int = 0,
    annotations: dict[str, str] | None = None,
    generation: int = 0,
    observed: int = 0,
) -> ReplicaSet:
    """upstream rs(): a ReplicaSet with a size, a creation time and optional status."""
    return ReplicaSet(
        metadata=ObjectMeta(
            name=name,
            namespace="default",
            uid=f"uid-{name}",
            creation_timestamp=created,
            annotations=FrozenDict(annotations or {}),
            generation=generation,
        ),
        spec=ReplicaSetSpec(replicas=replicas),
        status=ReplicaSetStatus(replicas=status_replicas, available_replicas=available, observed_generation=observed),
    )


def apply_ops(sets: list[ReplicaSet], ops: list[tuple[ReplicaSet, int]]) -> dict[str, int]:
    sizes = {s.metadata.name: s.spec.replicas for s in sets}
    for s, n in ops:
        sizes[s.metadata.name] = n
    return sizes


# ---- fence posts (§6.3, §18) ----------------------------------------------------------------


@pytest.mark.parametrize(
    ("surge", "unavailable", "desired", "expected"),
    [
        ("0%", "0%", 0, (0, 1)),
        ("39%", "39%", 10, (4, 3)),
        (None, "39%", 10, (0, 3)),
        ("39%", None, 10, (4, 0)),
        (None, None, 10, (0, 1)),
        # derived defaults 25%/25%
        ("25%", "25%", 1, (1, 0)),
        ("25%", "25%", 3, (1, 0)),
        ("25%", "25%", 4, (1, 1)),
        ("25%", "25%", 10, (3, 2)),
    ],
)
def test_resolve_fenceposts(surge: str | None, unavailable: str | None, desired: int, expected: tuple[int, int]) -> None:
    assert du.resolve_fenceposts(surge, unavailable, desired) == expected


@pytest.mark.parametrize(("surge", "unavailable"), [("oops", "39%"), ("55%", "urg")])
def test_resolve_fenceposts_rejects_non_percent_strings(surge: str, unavailable: str) -> None:
    with pytest.raises(IntOrPercentError):
        du.resolve_fenceposts(surge, unavailable, 10)


@pytest.mark.parametrize(
    ("replicas", "mu", "expected"),
    [(10, 5, 5), (10, 10, 10), (5, 10, 5), (0, 10, 0), (10, "50%", 5), (10, "100%", 10), (5, "100%", 5)],
)
def test_max_unavailable(replicas: int, mu: int | str, expected: int) -> None:
    assert du.max_unavailable(deployment(replicas, 1, mu)) == expected


@pytest.mark.parametrize(
    ("replicas", "mu", "expected"),
    [(10, 5, 5), (10, 10, 0), (5, 10, 0), (0, 10, 0), (10, "60%", 4), (10, "100%", 0), (5, "100%", 0)],
)
def test_min_available(replicas: int, mu: int | str, expected: int) -> None:
    assert du.min_available(deployment(replicas, 1, mu)) == expected


def test_recreate_has_no_fenceposts() -> None:
    d = deployment(10, strategy="Recreate")
    assert (du.max_unavailable(d), du.min_available(d), du.max_surge(d)) == (0, 0, 0)


def test_surge_rounds_up_and_unavailable_rounds_down() -> None:
    d = deployment(10, "25%", "25%")
    assert (du.max_surge(d), du.max_unavailable(d), du.min_available(d)) == (3, 2, 8)


# ---- NewRSNewReplicas and reconcileNewReplicaSet (§6.6) ---------------------------------------


@pytest.mark.parametrize(
    ("strategy", "dep", "new", "surge", "expected"),
    [("RollingUpdate", 1, 5, 1, 5), ("RollingUpdate", 6, 2, 10, 6), ("Recreate", 3, 1, 1, 3)],
)
def test_new_rs_new_replicas(strategy: str, dep: int, new: int, surge: int, expected: int) -> None:
    d = replace(deployment(dep), spec=replace(deployment(dep).spec, strategy=DeploymentStrategy(strategy, RollingUpdateDeployment(surge, 1))))
    new_rs = rs("new", new)
    assert du.new_rs_new_replicas(d, [rs("other", 5)], new_rs) == expected


@pytest.mark.parametrize(
    ("replicas", "surge", "old", "new", "expected"),
    [(10, 0, 10, 0, 0), (10, 2, 10, 0, 2), (10, 2, 5, 0, 7), (10, 2, 10, 2, 2), (10, 2, 2, 11, 10)],
)
def test_reconcile_new_replica_set_target(replicas: int, surge: int, old: int, new: int, expected: int) -> None:
    d = deployment(replicas, surge, 0)
    new_rs = rs("foo-v2", new)
    assert du.new_rs_target(d, [new_rs, rs("foo-v1", old)], new_rs) == expected


# ---- reconcileOldReplicaSets pieces (§6.6) -----------------------------------------------------


@pytest.mark.parametrize(("max_cleanup", "available", "expected"), [(1, 8, 1), (3, 8, 2), (0, 8, 0), (3, 10, 0)])
def test_cleanup_unhealthy_replicas(max_cleanup: int, available: int, expected: int) -> None:
    old = rs("foo-v2", 10, available=available)
    ops = du.cleanup_unhealthy_plan([old], max_cleanup).ops
    assert sum(s.spec.replicas - n for s, n in ops) == expected
    assert all(n >= available for _, n in ops)  # never below the set's available replicas


@pytest.mark.parametrize(
    ("replicas", "mu", "available", "old", "expected"),
    [(10, 0, 10, 10, 9), (10, 2, 10, 10, 8), (10, 2, 8, 10, None), (10, 2, 10, 0, None), (10, 2, 1, 10, None)],
)
def test_scale_down_old_replica_sets_for_rolling_update(replicas: int, mu: int, available: int, old: int, expected: int | None) -> None:
    d = deployment(replicas, 0, mu)
    old_rs = rs("foo-v2", old, available=available)
    ops = du.scale_down_old_plan(d, [old_rs], [old_rs])
    if expected is None:
        assert ops == []
    else:
        assert [(s.metadata.name, n) for s, n in ops] == [("foo-v2", expected)]


def test_max_scaled_down_counts_unavailable_new_pods() -> None:
    # rolling.go worked example: 10 replicas, mu 2, surge 3: new 5 (crash-looping), old 8 → nothing to remove
    d = deployment(10, 3, 2)
    old, new = rs("old", 8, available=8), rs("new", 5, available=0)
    assert du.max_scaled_down(d, [old, new], new) == 0
    # rolling back makes the broken set "old": new (old template) 1 unavailable → 4 may go
    back = rs("back", 1, available=0)
    assert du.max_scaled_down(d, [old, new, back], back) == 14 - 8 - 1


def test_cleanup_unhealthy_goes_oldest_first() -> None:
    older, newer = rs("a", 4, created=10, available=2), rs("b", 4, created=5, available=0)
    plan = du.cleanup_unhealthy_plan([older, newer], 5)
    assert [(s.metadata.name, n) for s, n in plan.ops] == [("b", 0), ("a", 3)] and plan.fails_at is None


def test_cleanup_unhealthy_fails_on_a_set_reporting_more_available_than_its_spec() -> None:
    # rolling.go: min(budget, spec − available) < 0 would "scale down" upwards: an error that ends the scale-down
    unhealthy, lagging, later = rs("a", 4, created=1, available=3), rs("b", 1, created=2, available=2), rs("c", 4, created=3, available=0)
    plan = du.cleanup_unhealthy_plan([later, lagging, unhealthy], 5)
    assert [(s.metadata.name, n) for s, n in plan.ops] == [("a", 3)] and plan.fails_at is lagging
    # once the budget is spent, later sets are not looked at
    assert du.cleanup_unhealthy_plan([unhealthy, lagging], 1) == du.CleanupPlan([(unhealthy, 3)])


# ---- proportional scaling: TestScale (§6.8) ------------------------------------------------------


def annotated(name: str, replicas: int, created: int, old_d: Deployment, desired: int | None = None) -> ReplicaSet:
    """A set annotated with desired/max replicas of the Deployment before the scaling event."""
    n = old_d.spec.replicas if desired is None else desired
    ann: dict[str, str] = {}
    du.set_replicas_annotations(ann, n, n + du.max_surge(old_d))
    return rs(name, replicas, created, annotations=ann, available=replicas)


SCALE_CASES = [
    # name, new d (replicas, surge), old d, new rs, old rss, expected sizes
    ("10 -> 12", (12, 0), (10, 0), ("foo-v1", 10), [], {"foo-v1": 12}),
    ("10 -> 5", (5, 0), (10, 0), ("foo-v1", 10), [], {"foo-v1": 5}),
    ("5 -> 10", (10, 0), (5, 0), ("foo-v2", 2), [("foo-v1", 3, T_OLD)], {"foo-v2": 4, "foo-v1": 6}),
    ("5 -> 3", (3, 0), (5, 0), ("foo-v2", 2), [("foo-v1", 3, T_OLD)], {"foo-v2": 1, "foo-v1": 2}),
    ("9 -> 4", (4, 0), (9, 0), ("foo-v2", 8), [("foo-v1", 1, T_OLD)], {"foo-v2": 4, "foo-v1": 0}),
    ("7 -> 10", (10, 0), (7, 0), ("foo-v3", 2), [("foo-v2", 3, T_OLD), ("foo-v1", 2, T_OLDER)], {"foo-v3": 3, "foo-v2": 4, "foo-v1": 3}),
    ("13 -> 8", (8, 0), (13, 0), ("foo-v3", 2), [("foo-v2", 8, T_OLD), ("foo-v1", 3, T_OLDER)], {"foo-v3": 1, "foo-v2": 5, "foo-v1": 2}),
    ("leftover 3 -> 4", (4, 0), (3, 0), ("foo-v3", 1), [("foo-v2", 1, T_OLD), ("foo-v1", 1, T_OLDER)], {"foo-v3": 2, "foo-v2": 1, "foo-v1": 1}),
    ("leftover 3 -> 2", (2, 0), (3, 0), ("foo-v3", 1), [("foo-v2", 1, T_OLD), ("foo-v1", 1, T_OLDER)], {"foo-v3": 1, "foo-v2": 1, "foo-v1": 0}),
    ("no new rs 4 -> 5", (5, 0), (4, 0), None, [("foo-v2", 2, T_OLD), ("foo-v1", 2, T_OLDER)], {"foo-v2": 3, "foo-v1": 2}),
    ("6 -> 0", (0, 0), (6, 0), ("foo-v3", 3), [("foo-v2", 2, T_OLD), ("foo-v1", 1, T_OLDER)], {"foo-v3": 0, "foo-v2": 0, "foo-v1": 0}),
    ("0 -> 6", (6, 0), (6, 0), ("foo-v3", 0), [("foo-v2", 0, T_OLD), ("foo-v1", 0, T_OLDER)], {"foo-v3": 6, "foo-v2": 0, "foo-v1": 0}),
    ("surge 10 -> 20", (20, 2), (10, 2), ("foo-v2", 6), [("foo-v1", 6, T_OLD)], {"foo-v2": 11, "foo-v1": 11}),
    ("surge and size", (50, 6), (10, 3), ("foo-v2", 5), [("foo-v1", 8, T_OLD)], {"foo-v2": 22, "foo-v1": 34}),
]


@pytest.mark.parametrize(("name", "new_d", "old_d", "new", "olds", "expected"), SCALE_CASES, ids=[c[0] for c in SCALE_CASES])
def test_scale(
    name: str, new_d: tuple[int, int], old_d: tuple[int, int], new: tuple[str, int] | None, olds: list[tuple[str, int, int]], expected: dict[str, int]
) -> None:
    d, before = deployment(new_d[0], new_d[1], 0), deployment(old_d[0], old_d[1], 0)
    new_rs = annotated(new[0], new[1], T_NEW, before) if new else None
    old_rss = [annotated(n, r, t, before) for n, r, t in olds]
    sets = ([new_rs] if new_rs else []) + old_rss
    steps = du.scale_plan(d, new_rs, old_rss)
    assert apply_ops(sets, [(s.rs, s.replicas) for s in steps]) == expected


def test_scale_up_from_zero_touches_only_the_newest() -> None:
    d, before = deployment(6), deployment(6)
    new_rs = annotated("foo-v3", 0, T_NEW, before)
    olds = [annotated("foo-v2", 0, T_OLD, before), annotated("foo-v1", 0, T_OLDER, before)]
    assert [(s.rs.metadata.name, s.replicas) for s in du.scale_plan(d, new_rs, olds)] == [("foo-v3", 6)]


def test_scale_with_template_and_size_change() -> None:
    # "change both size and template": no new RS yet, v2 (newer) = 7, v1 = 3, 10 → 14
    d, before = deployment(14), deployment(10)
    olds = [annotated("foo-v2", 7, T_NEW, before), annotated("foo-v1", 3, T_OLD, before)]
    steps = du.scale_plan(d, None, olds)
    assert apply_ops(olds, [(s.rs, s.replicas) for s in steps]) == {"foo-v2": 10, "foo-v1": 4}


def test_saturated_but_broken_new_rs_does_not_affect_old_pods() -> None:
    d = deployment(2, 1, 1)
    new_rs = replace(annotated("foo-v2", 2, T_NEW, d), status=ReplicaSetStatus(available_replicas=0))
    old = annotated("foo-v1", 1, T_OLD, d)
    steps = du.scale_plan(d, new_rs, [old])
    assert apply_ops([new_rs, old], [(s.rs, s.replicas) for s in steps]) == {"foo-v2": 2, "foo-v1": 1}
    # annotations only: every active set is rewritten with desired/max (scaleReplicaSet)
    assert all(s.annotate for s in steps)


def test_saturated_new_rs_scales_old_sets_to_zero() -> None:
    d = deployment(2, 1, 1)
    new_rs = annotated("foo-v2", 2, T_NEW, d)  # available 2
    old = annotated("foo-v1", 1, T_OLD, d)
    assert [(s.rs.metadata.name, s.replicas) for s in du.scale_plan(d, new_rs, [old])] == [("foo-v1", 0)]


def test_proportion_order_ties() -> None:
    # equal sizes: newer first when adding, older first when removing (7 -> 10 worked arithmetic)
    a, b = rs("a", 2, created=1), rs("b", 2, created=2)
    assert [s.metadata.name for s in du.by_size_newer([a, b])] == ["b", "a"]
    assert [s.metadata.name for s in du.by_size_older([b, a])] == ["a", "b"]
    assert du.round_half_away(2.5) == 3 and du.round_half_away(-2.5) == -3 and du.round_half_away(4.2857) == 4


def test_scaling_event_detection() -> None:
    d = deployment(5)
    assert du.is_scaling_event(d, [rs("a", 3, annotations={du.DESIRED_REPLICAS: "3"})])
    assert not du.is_scaling_event(d, [rs("a", 5, annotations={du.DESIRED_REPLICAS: "5"})])
    assert not du.is_scaling_event(d, [rs("a", 0, annotations={du.DESIRED_REPLICAS: "3"})])  # inactive sets do not count
    assert not du.is_scaling_event(d, [rs("a", 3)])  # no annotation


# ---- cleanupDeployment (§6.9) ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("sets", "limit", "expected"),
    [
        ([(0, 0), (0, 0), (0, 0)], 1, 2),
        ([(0, 0), (0, 1), (1, 0), (1, 1)], 0, 1),
        ([(0, 0), (0, 0)], 0, 2),
        ([(1, 1), (1, 1)], 0, 0),
        ([(0, 0), (0, 0), (0, 0)], du.MAX_INT32, 0),
    ],
)
def test_cleanup_deployment(sets: list[tuple[int, int]], limit: int, expected: int) -> None:
    olds = [rs(f"foo-{i}", spec, status_replicas=st) for i, (spec, st) in enumerate(sets, 1)]
    assert len(du.history_to_delete(deployment(1, revision_history_limit=limit), olds)) == expected


def test_cleanup_skips_sets_already_being_deleted_and_unobserved_generations() -> None:
    deleting = replace(rs("foo-1", 0), metadata=replace(rs("foo-1", 0).metadata, deletion_timestamp=5))
    assert du.history_to_delete(deployment(1, revision_history_limit=0), [deleting]) == []
    unobserved = rs("foo-2", 0, generation=3, observed=2)
    assert du.history_to_delete(deployment(1, revision_history_limit=0), [unobserved]) == []


def test_cleanup_deployment_without_limit_keeps_everything() -> None:
    assert du.history_to_delete(deployment(1, revision_history_limit=None), [rs("a", 0), rs("b", 0)]) == []


@pytest.mark.parametrize(
    ("sets", "limit", "expected"),
    [
        ([("foo-1", 0, -60, "1"), ("foo-2", 0, 0, "2")], 1, {"foo-1"}),
        ([("foo-1", 0, -60, "2"), ("foo-2", 0, 0, "1")], 1, {"foo-2"}),
        ([("foo-1", 0, -60, "1"), ("foo-2", 0, 0, "")], 1, {"foo-2"}),
        ([("foo-1", 0, -60, ""), ("foo-2", 0, 0, "2")], 1, {"foo-1"}),
        ([("foo-1", 1, -60, "1"), ("foo-2", 0, 0, "2"), ("foo-3", 0, 60, "3")], 1, {"foo-2"}),
        ([("foo-1", 1, -60, "1"), ("foo-2", 1, 0, "2"), ("foo-3", 0, 60, "3")], 1, set()),
        ([("foo-1", 0, -60, "3"), ("foo-2", 0, 0, "1"), ("foo-3", 0, 60, "4"), ("foo-4", 0, 120, "2")], 2, {"foo-2", "foo-4"}),
    ],
)
def test_cleanup_deployment_order(sets: list[tuple[str, int, int, str]], limit: int, expected: set[str]) -> None:
    olds = [rs(name, n, created=1000 + t, status_replicas=n, annotations={du.REVISION: r} if r else {}) for name, n, t, r in sets]
    deleted = du.history_to_delete(deployment(1, revision_history_limit=limit), olds)
    assert {s.metadata.name for s in deleted} == expected


# ---- status (§6.10) ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("desired", "current", "updated", "available", "mu", "surge", "expected"),
    [
        (5, 5, 5, 4, 1, 0, False),
        (5, 5, 5, 3, 1, 0, False),
        (5, 5, 5, 5, 0, 0, True),
        (5, 5, 4, 5, 0, 0, False),
        (1, 2, 1, 1, 0, 1, False),
        (1, 1, 1, 0, 1, 1, False),
    ],
)
def test_deployment_complete(desired: int, current: int, updated: int, available: int, mu: int, surge: int, expected: bool) -> None:
    st = DeploymentStatus(replicas=current, updated_replicas=updated, available_replicas=available)
    d = deployment(desired, surge, mu, status=st)
    assert du.deployment_complete(d, d.status) is expected


def test_deployment_complete_needs_the_generation_observed() -> None:
    st = DeploymentStatus(replicas=5, updated_replicas=5, available_replicas=5, observed_generation=1)
    d = deployment(5, status=st)
    d = replace(d, metadata=replace(d.metadata, generation=2))
    assert not du.deployment_complete(d, d.status)


@pytest.mark.parametrize(
    ("old", "new", "expected"),
    [
        ((10, 4, 4, 4), (10, 6, 4, 4), True),
        ((10, 4, 4, 4), (10, 4, 4, 4), False),
        ((10, 4, 6, 6), (8, 4, 6, 6), True),
        ((10, 7, 3, 3), (10, 6, 3, 3), False),
        ((10, 4, 7, 7), (8, 8, 5, 5), True),
        ((10, 10, 9, 8), (10, 10, 10, 8), True),
        ((10, 10, 10, 9), (10, 10, 10, 10), True),
    ],
)
def test_deployment_progressing(old: tuple[int, int, int, int], new: tuple[int, int, int, int], expected: bool) -> None:
    def status(t: tuple[int, int, int, int]) -> DeploymentStatus:
        return DeploymentStatus(replicas=t[0], updated_replicas=t[1], ready_replicas=t[2], available_replicas=t[3])

    assert du.deployment_progressing(deployment(10, status=status(old)), status(new)) is expected


@pytest.mark.parametrize(
    ("pds", "reason", "last_update", "now", "expected"),
    [
        (None, "", 69, 80, False),
        (du.MAX_INT32, "", 69, 80, False),
        (10, "", 69, 80, True),
        (10, "", 71, 80, False),
        (None, du.NEW_RS_AVAILABLE, 0, 80, False),
        (10, du.NEW_RS_AVAILABLE, 0, 80, False),
        (10, du.TIMED_OUT, 79, 80, True),
    ],
)
def test_deployment_timed_out(pds: int | None, reason: str, last_update: int, now: int, expected: bool) -> None:
    cond = Condition(du.PROGRESSING, "True", reason=reason, last_update_time=last_update)
    d = deployment(1, pds=pds, status=DeploymentStatus(conditions=(cond,)))
    assert du.deployment_timed_out(d, d.status, now) is expected


def test_timed_out_boundary_is_strict() -> None:
    cond = Condition(du.PROGRESSING, "True", reason=du.RS_UPDATED, last_update_time=100)
    d = deployment(1, pds=10, status=DeploymentStatus(conditions=(cond,)))
    assert not du.deployment_timed_out(d, d.status, 110)
    assert du.deployment_timed_out(d, d.status, 111)
    assert du.progress_check_time(d) == 111  # requeue at lastUpdateTime + pds + 1 s


def test_set_condition_keeps_same_status_and_reason_and_transition_time() -> None:
    old = Condition(du.AVAILABLE, "True", reason=du.MIN_AVAILABLE, last_update_time=1, last_transition_time=1)
    other = Condition(du.PROGRESSING, "True", reason=du.RS_UPDATED, last_update_time=1, last_transition_time=1)
    conds = (old, other)
    assert du.set_deployment_condition(conds, du.new_condition(du.AVAILABLE, "True", du.MIN_AVAILABLE, "", 9)) == conds
    moved = du.set_deployment_condition(conds, du.new_condition(du.AVAILABLE, "True", "Other", "", 9))
    assert [c.type for c in moved] == [du.PROGRESSING, du.AVAILABLE]  # replaced at the end
    assert moved[1].last_transition_time == 1 and moved[1].last_update_time == 9
    flipped = du.set_deployment_condition(conds, du.new_condition(du.AVAILABLE, "False", du.MIN_UNAVAILABLE, "", 9))
    assert flipped[1].last_transition_time == 9


def test_calculate_status_counts_from_replica_set_status() -> None:
    old = replace(rs("old", 1), status=ReplicaSetStatus(replicas=2, ready_replicas=2, available_replicas=2))
    new = replace(rs("new", 3), status=ReplicaSetStatus(replicas=2, ready_replicas=1, available_replicas=1))
    st = du.calculate_status([old, new], new, replace(deployment(3, 1, 0), metadata=replace(deployment(3).metadata, generation=4)), 7)
    assert (st.replicas, st.updated_replicas, st.ready_replicas, st.available_replicas, st.unavailable_replicas) == (4, 2, 3, 3, 1)
    assert st.observed_generation == 4
    avail = [c for c in st.conditions if c.type == du.AVAILABLE]
    assert avail and avail[0].status == "True" and avail[0].reason == du.MIN_AVAILABLE  # 3 ≥ 3 − 0


# ---- hash, templates, revisions (§1.7, §6.5) ---------------------------------------------------


def test_compute_hash_structure() -> None:
    t = template({"app": "web"})
    h = du.compute_hash(t, None)
    assert h == du.compute_hash(template({"app": "web"}), None)  # deterministic
    assert 1 <= len(h) <= 10 and set(h) <= set("bcdf456789")  # decimal digits in the safe alphabet
    assert du.compute_hash(t, 1) != h and du.compute_hash(t, 1) != du.compute_hash(t, 2)
    assert du.compute_hash(template({"app": "web"}, image="other"), None) != h


def test_fnv32a_and_safe_encoding() -> None:
    assert du.fnv32a(b"") == 0x811C9DC5 and du.fnv32a(b"a") == 0xE40C292C  # published FNV-1a test vectors
    assert du.safe_encode("0123456789") == "456789bcdf"
    # a real pod-template-hash decodes back to a uint32 through the same mapping
    digits = {du.safe_encode(str(i)): str(i) for i in range(10)}
    assert int("".join(digits[c] for c in "68595bf6d9")) < 2**32


def test_equal_ignore_hash_and_find_new_replica_set() -> None:
    d = deployment(3)
    hashed = du.template_with_hash(d.spec.template, "abc")
    assert du.equal_ignore_hash(hashed, d.spec.template)
    assert not du.equal_ignore_hash(template(SELECTOR, image="x"), d.spec.template)
    same_older = replace(rs("a", 1, created=1), spec=ReplicaSetSpec(template=hashed))
    same_newer = replace(rs("b", 1, created=2), spec=ReplicaSetSpec(template=d.spec.template))
    other = replace(rs("c", 1, created=0), spec=ReplicaSetSpec(template=template(SELECTOR, image="x")))
    assert du.find_new_replica_set(d, [same_newer, other, same_older]) is same_older  # the oldest equal one
    required, all_old = du.find_old_replica_sets(d, [same_newer, other, replace(same_older, spec=replace(same_older.spec, replicas=1))])
    assert [s.metadata.name for s in all_old] == ["c", "b"]


def test_revisions() -> None:
    sets = [rs("a", 0, annotations={du.REVISION: "3"}), rs("b", 0, annotations={du.REVISION: "x"}), rs("c", 0), rs("d", 0, annotations={du.REVISION: "5"})]
    assert du.revision(sets[2]) == 0 and du.revision(sets[1]) is None
    assert du.max_revision(sets) == 5 and du.last_revision(sets) == 3


def test_new_rs_annotations_on_reuse_append_history() -> None:
    d = replace(deployment(3, 1, 0), metadata=replace(deployment(3).metadata, annotations=FrozenDict({"team": "a", du.REVISION: "9"})))
    reused = rs("a", 0, annotations={du.REVISION: "2", du.REVISION_HISTORY: "1"})
    out, changed = du.set_new_rs_annotations(d, reused, "5", exists=True)
    ann = out.metadata.annotations
    assert changed and ann[du.REVISION] == "5" and ann[du.REVISION_HISTORY] == "1,2" and ann["team"] == "a"
    assert du.DESIRED_REPLICAS not in ann  # replicas annotations only for a set being created
    fresh, _ = du.set_new_rs_annotations(d, rs("n", 0), "5", exists=False)
    assert fresh.metadata.annotations[du.DESIRED_REPLICAS] == "3" and fresh.metadata.annotations[du.MAX_REPLICAS] == "4"
    assert du.REVISION_HISTORY not in fresh.metadata.annotations
    same, changed_again = du.set_new_rs_annotations(d, out, "5", exists=True)
    assert not changed_again and same == out


def test_revision_history_is_bounded() -> None:
    long_history = ",".join(str(i) for i in range(1, 400))
    reused = rs("a", 0, annotations={du.REVISION: "400", du.REVISION_HISTORY: long_history})
    out, _ = du.set_new_rs_annotations(deployment(1), reused, "401", exists=True, history_limit_chars=50)
    hist = out.metadata.annotations[du.REVISION_HISTORY]
    assert len(hist) <= 50 and hist.endswith(",399,400")
