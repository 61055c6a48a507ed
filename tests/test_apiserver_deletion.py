"""The API server's DELETE semantics (store.go Delete / updateForGracefulDeletionAndFinalizers /
deletionFinalizersForGarbageCollection / markAsDeleting, rest/delete.go BeforeDelete,
pod strategy CheckGracefulDelete) and the removal of objects when their last finalizer
goes (store.go ShouldDeleteDuringUpdate)."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import pytest

from kmodel import apiserver
from kmodel.config import ModelConfig
from kmodel.objects.kinds import KINDS
from kmodel.objects.meta import FINALIZER_FOREGROUND, FINALIZER_ORPHAN, ObjRef
from kmodel.objects.serde import decode_object
from kmodel.state import ClusterState, Tx, empty_state

CONFIG = ModelConfig()
NS = "default"
NOW = 1000


def manifest(kind: str, name: str, **meta: Any) -> dict[str, Any]:
    """A minimal valid manifest of `kind`."""
    api_version = KINDS[kind].api_version
    md: dict[str, Any] = {"name": name, **meta}
    if KINDS[kind].namespaced:
        md.setdefault("namespace", NS)
    doc: dict[str, Any] = {"apiVersion": api_version, "kind": kind, "metadata": md}
    containers = [{"name": "c", "image": "nginx"}]
    template: dict[str, Any] = {"metadata": {"labels": {"app": name}}, "spec": {"containers": containers}}
    if kind in ("ReplicaSet", "Deployment"):
        doc["spec"] = {"replicas": 1, "selector": {"matchLabels": {"app": name}}, "template": template}
    elif kind == "ReplicationController":
        doc["spec"] = {"replicas": 1, "selector": {"app": name}, "template": template}
    elif kind == "Job":
        tpl = {**template, "spec": {"containers": containers, "restartPolicy": "Never"}}
        doc["spec"] = {"template": tpl}
    elif kind == "Pod":
        doc["spec"] = {"terminationGracePeriodSeconds": meta.pop("grace", 30), "containers": [{"name": "c", "image": "nginx"}]}
        md.pop("grace", None)
    return doc


def created(kind: str, name: str = "obj", **meta: Any) -> tuple[ClusterState, Any]:
    """A state at time NOW holding one object created through the API server."""
    obj, _ = decode_object(manifest(kind, name, **meta))
    tx = empty_state(NOW).edit()
    out = apiserver.apply(tx, apiserver.Create(obj), CONFIG)
    assert out.ok, out.error
    return tx.commit(), out.obj


def scheduled_pod(grace: int = 30, finalizers: tuple[str, ...] = ()) -> tuple[ClusterState, Any]:
    """A pod bound to node n1 (the API server's binding subresource)."""
    state, pod = created("Pod", "p", grace=grace, finalizers=list(finalizers))
    tx = state.edit()
    out = apiserver.apply(tx, apiserver.Bind(NS, "p", "n1"), CONFIG)
    assert out.ok, out.error
    return tx.commit(), out.obj


def delete(state: ClusterState, obj: Any, **kw: Any) -> tuple[ClusterState, apiserver.Outcome]:
    """Apply one DELETE to `obj` and return the next state and the outcome."""
    tx = state.edit()
    out = apiserver.apply(tx, apiserver.Delete(obj.ref, **kw), CONFIG)
    return tx.commit(), out


def update(state: ClusterState, obj: Any, **kw: Any) -> tuple[ClusterState, apiserver.Outcome]:
    """Apply one PUT of `obj`."""
    tx = state.edit()
    out = apiserver.apply(tx, apiserver.Update(obj, **kw), CONFIG)
    return tx.commit(), out


def with_finalizers(obj: Any, finalizers: tuple[str, ...]) -> Any:
    return replace(obj, metadata=replace(obj.metadata, finalizers=finalizers))


def at(state: ClusterState, t: int) -> ClusterState:
    tx: Tx = state.edit()
    tx.set_clock(t)
    return tx.commit()


# ---- propagation policies -----------------------------------------------------------------


@pytest.mark.parametrize("kind", ["ConfigMap", "ReplicaSet", "Deployment", "ReplicationController"])
def test_background_removes_an_object_without_finalizers_at_once(kind: str) -> None:
    state, obj = created(kind)
    nxt, out = delete(state, obj, propagation="Background")
    assert out.ok and out.obj is None
    assert nxt.get_ref(obj.ref) is None
    assert obj.metadata.uid not in nxt.uids


@pytest.mark.parametrize(("policy", "finalizer"), [("Foreground", FINALIZER_FOREGROUND), ("Orphan", FINALIZER_ORPHAN)])
def test_foreground_and_orphan_keep_the_object_marked_for_deletion(policy: str, finalizer: str) -> None:
    state, rs = created("ReplicaSet", finalizers=["example.com/keep"])
    nxt, out = delete(state, rs, propagation=policy)
    assert out.ok
    got = nxt.get_ref(rs.ref)
    assert got is not None
    meta = got.metadata
    # markAsDeleting: deletionTimestamp now, grace 0, generation bumped once.
    assert meta.deletion_timestamp == NOW
    assert meta.deletion_grace_period_seconds == 0
    assert meta.generation == rs.metadata.generation + 1
    assert meta.resource_version > rs.metadata.resource_version
    # deletionFinalizersForGarbageCollection: other finalizers kept, the policy's appended.
    assert meta.finalizers == ("example.com/keep", finalizer)


def test_default_policy_follows_the_kind() -> None:
    """Orphan for core/v1 ReplicationController and batch/v1 Job, Background otherwise."""
    expect_orphan = {"ReplicationController", "Job"}
    kinds = ["ConfigMap", "Secret", "ReplicaSet", "Deployment", "ReplicationController"]
    if "Job" in KINDS:
        kinds.append("Job")
    for kind in kinds:
        state, obj = created(kind)
        nxt, out = delete(state, obj)
        assert out.ok, (kind, out.error)
        got = nxt.get_ref(obj.ref)
        if kind in expect_orphan:
            assert got is not None and got.metadata.finalizers == (FINALIZER_ORPHAN,), kind
            assert got.metadata.deletion_timestamp == NOW
        else:
            assert got is None, kind


def test_the_registry_declares_orphan_only_for_rc_and_job() -> None:
    for kind, info in KINDS.items():
        if kind in ("ReplicationController", "Job"):
            assert info.default_propagation == "Orphan", kind
        elif kind == "Event":
            assert info.default_propagation == "Unsupported"
        else:
            assert info.default_propagation == "Background", kind


@pytest.mark.parametrize("policy", [None, "Orphan", "Foreground"])
def test_events_never_get_gc_finalizers(policy: str | None) -> None:
    """core/v1 Event strategy: DefaultGarbageCollectionPolicy Unsupported."""
    state, ev = created("Event", finalizers=[FINALIZER_ORPHAN])
    nxt, out = delete(state, ev, propagation=policy)
    assert out.ok
    assert nxt.get_ref(ev.ref) is None


def test_existing_gc_finalizer_overrides_the_default() -> None:
    # An RC (default Orphan) carrying foregroundDeletion is deleted in foreground.
    state, rc = created("ReplicationController", finalizers=[FINALIZER_FOREGROUND])
    nxt, _ = delete(state, rc)
    assert nxt.get_ref(rc.ref).metadata.finalizers == (FINALIZER_FOREGROUND,)
    # A ConfigMap (default Background) carrying orphan is orphaned.
    state, cm = created("ConfigMap", finalizers=[FINALIZER_ORPHAN])
    nxt, _ = delete(state, cm)
    got = nxt.get_ref(cm.ref)
    assert got.metadata.finalizers == (FINALIZER_ORPHAN,) and got.metadata.deletion_timestamp == NOW


def test_explicit_policy_overrides_existing_finalizers() -> None:
    state, cm = created("ConfigMap", finalizers=[FINALIZER_ORPHAN])
    nxt, out = delete(state, cm, propagation="Background")
    # The orphan finalizer is dropped; nothing is left to wait for.
    assert out.ok and nxt.get_ref(cm.ref) is None


def test_a_second_delete_may_change_the_policy_of_a_non_graceful_object() -> None:
    state, rs = created("ReplicaSet")
    s1, _ = delete(state, rs, propagation="Orphan")
    first = s1.get_ref(rs.ref)
    s2, out = delete(at(s1, NOW + 7), first, propagation="Foreground")
    assert out.ok
    got = s2.get_ref(rs.ref).metadata
    assert got.finalizers == (FINALIZER_FOREGROUND,)
    assert got.deletion_timestamp == NOW  # never moved later
    assert got.generation == first.metadata.generation  # bumped only by the first delete


def test_a_repeated_identical_delete_changes_nothing() -> None:
    state, rs = created("ReplicaSet")
    s1, _ = delete(state, rs, propagation="Foreground")
    s2, out = delete(at(s1, NOW + 3), s1.get_ref(rs.ref), propagation="Foreground")
    assert out.ok
    assert s2.get_ref(rs.ref) is s1.get_ref(rs.ref)


def test_unknown_propagation_is_rejected() -> None:
    state, cm = created("ConfigMap")
    nxt, out = delete(state, cm, propagation="Sideways")
    assert out.error.startswith("BadRequest")
    assert nxt is state


def test_deleting_a_missing_object_is_not_found() -> None:
    state = empty_state(NOW)
    tx = state.edit()
    out = apiserver.apply(tx, apiserver.Delete(ObjRef("ConfigMap", NS, "nope")), CONFIG)
    assert out.error.startswith("NotFound")


# ---- preconditions --------------------------------------------------------------------------


def test_uid_precondition() -> None:
    state, cm = created("ConfigMap")
    nxt, out = delete(state, cm, uid="some-other-uid")
    assert out.error.startswith("Conflict")
    assert nxt.get_ref(cm.ref) is cm
    nxt, out = delete(state, cm, uid=cm.metadata.uid)
    assert out.ok and nxt.get_ref(cm.ref) is None


def test_uid_precondition_on_updates() -> None:
    state, cm = created("ConfigMap")
    impostor = replace(cm, metadata=replace(cm.metadata, uid="other", labels=cm.metadata.labels.set("x", "y")))
    nxt, out = update(state, impostor, check_rv=False)
    assert out.error.startswith("Conflict")
    assert nxt.get_ref(cm.ref) is cm


# ---- finalizers -----------------------------------------------------------------------------


def test_removal_when_the_last_finalizer_goes() -> None:
    state, cm = created("ConfigMap", finalizers=["a.example.com/x", "b.example.com/y"])
    s1, _ = delete(state, cm)
    marked = s1.get_ref(cm.ref)
    assert marked.metadata.deletion_timestamp == NOW
    s2, out = update(s1, with_finalizers(marked, ("b.example.com/y",)))
    assert out.ok and s2.get_ref(cm.ref) is not None
    s3, out = update(s2, with_finalizers(s2.get_ref(cm.ref), ()))
    assert out.ok and out.obj is None
    assert s3.get_ref(cm.ref) is None


def test_no_new_finalizers_once_deleting() -> None:
    state, cm = created("ConfigMap", finalizers=["a.example.com/x"])
    s1, _ = delete(state, cm)
    marked = s1.get_ref(cm.ref)
    s2, out = update(s1, with_finalizers(marked, ("a.example.com/x", "b.example.com/y")))
    assert out.error.startswith("Invalid")
    assert s2.get_ref(cm.ref) is marked


def test_finalizers_on_a_live_object_do_not_delete_it() -> None:
    state, cm = created("ConfigMap", finalizers=["a.example.com/x"])
    nxt, out = update(state, with_finalizers(cm, ()))
    assert out.ok and nxt.get_ref(cm.ref) is not None


# ---- graceful pod deletion -----------------------------------------------------------------


def test_graceful_pod_deletion_uses_the_termination_grace_period() -> None:
    state, pod = scheduled_pod(grace=30)
    nxt, out = delete(state, pod)
    got = nxt.get_ref(pod.ref)
    assert out.ok and got is not None
    assert got.metadata.deletion_timestamp == NOW + 30
    assert got.metadata.deletion_grace_period_seconds == 30
    assert got.metadata.finalizers == ()  # Background: no GC finalizer


def test_explicit_grace_period_wins_over_the_pod_spec() -> None:
    state, pod = scheduled_pod(grace=30)
    nxt, _ = delete(state, pod, grace_period=10)
    assert nxt.get_ref(pod.ref).metadata.deletion_timestamp == NOW + 10


def test_a_pending_graceful_deletion_only_shortens() -> None:
    state, pod = scheduled_pod(grace=30)
    s1, _ = delete(state, pod)
    marked = s1.get_ref(pod.ref)
    # same or longer grace: nothing changes (pendingGraceful), the policy is not applied
    for grace in (None, 30, 60):
        s2, out = delete(at(s1, NOW + 5), marked, grace_period=grace, propagation="Orphan")
        assert out.ok and s2.get_ref(pod.ref) is marked
    # shorter: the deadline moves to old deadline - old grace + new grace
    s2, _ = delete(at(s1, NOW + 5), marked, grace_period=10)
    short = s2.get_ref(pod.ref)
    assert short.metadata.deletion_timestamp == NOW + 10
    assert short.metadata.deletion_grace_period_seconds == 10
    # grace 0 removes a pod without finalizers
    s3, out = delete(at(s2, NOW + 6), short, grace_period=0)
    assert out.ok and s3.get_ref(pod.ref) is None


def test_negative_grace_periods_mean_one_second() -> None:
    state, pod = scheduled_pod(grace=30)
    s1, _ = delete(state, pod, grace_period=-5)
    assert s1.get_ref(pod.ref).metadata.deletion_grace_period_seconds == 1
    s1, _ = delete(state, pod)
    s2, _ = delete(s1, s1.get_ref(pod.ref), grace_period=-5)
    got = s2.get_ref(pod.ref).metadata
    assert got.deletion_grace_period_seconds == 1
    assert got.deletion_timestamp == NOW + 1


def test_unscheduled_pods_are_deleted_at_once() -> None:
    state, pod = created("Pod", "p", grace=30)
    nxt, out = delete(state, pod)
    assert out.ok and nxt.get_ref(pod.ref) is None


@pytest.mark.parametrize("phase", ["Succeeded", "Failed"])
def test_terminal_pods_are_deleted_at_once(phase: str) -> None:
    state, pod = scheduled_pod(grace=30)
    done = replace(pod, status=replace(pod.status, phase=phase))
    state, out = update(state, done, status=True)
    assert out.ok
    nxt, out = delete(state, out.obj)
    assert out.ok and nxt.get_ref(pod.ref) is None


def test_grace_zero_keeps_a_pod_with_finalizers() -> None:
    state, pod = scheduled_pod(grace=30, finalizers=("example.com/hold",))
    nxt, out = delete(state, pod, grace_period=0)
    got = nxt.get_ref(pod.ref)
    assert out.ok and got is not None
    assert got.metadata.deletion_timestamp == NOW
    assert got.metadata.deletion_grace_period_seconds == 0
    # with no grace left, dropping the last finalizer removes it
    gone, out = update(nxt, with_finalizers(got, ()))
    assert out.ok and gone.get_ref(pod.ref) is None


def test_finalizers_of_a_pod_still_in_its_grace_period() -> None:
    """ShouldDeleteDuringUpdate: removal needs a zero grace period, so a terminating pod
    whose finalizer goes stays until its kubelet (or a grace-0 delete) finishes it."""
    state, pod = scheduled_pod(grace=30)
    s1, _ = delete(state, pod, propagation="Foreground")
    marked = s1.get_ref(pod.ref)
    assert marked.metadata.finalizers == (FINALIZER_FOREGROUND,)
    assert marked.metadata.deletion_timestamp == NOW + 30
    s2, out = update(s1, with_finalizers(marked, ()))
    assert out.ok and s2.get_ref(pod.ref) is not None
    s3, out = delete(s2, s2.get_ref(pod.ref), grace_period=0)
    assert out.ok and s3.get_ref(pod.ref) is None


def test_generation_bumps_once_per_deletion() -> None:
    state, dep = created("Deployment")
    s1, _ = delete(state, dep, propagation="Orphan")
    assert s1.get_ref(dep.ref).metadata.generation == dep.metadata.generation + 1
    s2, _ = delete(s1, s1.get_ref(dep.ref), propagation="Orphan")
    assert s2.get_ref(dep.ref).metadata.generation == dep.metadata.generation + 1
    # kinds without generation (here a ConfigMap) keep 0
    state, cm = created("ConfigMap", finalizers=["example.com/x"])
    s1, _ = delete(state, cm)
    assert s1.get_ref(cm.ref).metadata.generation == 0
