"""The cluster state: indexes and the incremental fingerprint stay equal to a
recomputation from scratch, whatever sequence of writes built the state."""

from __future__ import annotations

from dataclasses import replace

from hypothesis import given
from hypothesis import strategies as st

from kmodel.frozen import FrozenDict
from kmodel.objects import ObjectMeta, OwnerReference, Pod, PodSpec
from kmodel.objects.meta import ObjRef
from kmodel.state import empty_state, state_of


def pod(name: str, node: str = "", owners: tuple[str, ...] = (), uid: str | None = None, label: str = "a") -> Pod:
    refs = tuple(OwnerReference("apps/v1", "ReplicaSet", f"rs-{o}", o, controller=(i == 0)) for i, o in enumerate(owners))
    meta = ObjectMeta(name=name, namespace="default", uid=uid or f"uid-{name}", owner_references=refs, labels=FrozenDict({"l": label}))
    return Pod(metadata=meta, spec=PodSpec(node_name=node))


writes = st.lists(
    st.tuples(
        st.sampled_from(["put", "remove"]),
        st.sampled_from(["p1", "p2", "p3"]),
        st.sampled_from(["", "n1", "n2"]),
        st.lists(st.sampled_from(["o1", "o2"]), max_size=2, unique=True).map(tuple),
        st.sampled_from(["a", "b"]),
    ),
    max_size=25,
)


@given(writes)
def test_indexes_and_fingerprint_match_recomputation(ops: list) -> None:
    s = empty_state()
    live: dict[str, Pod] = {}
    for op, name, node, owners, label in ops:
        tx = s.edit()
        if op == "put":
            p = pod(name, node, owners, label=label)
            tx.put(p)
            live[name] = p
        else:
            tx.remove(ObjRef("Pod", "default", name))
            live.pop(name, None)
        s = tx.commit()
    fresh = state_of(live.values())
    assert s.fingerprint == fresh.fingerprint
    assert s == fresh
    assert dict(s.uids) == dict(fresh.uids)
    assert {k: set(v) for k, v in s.dependents.items()} == {k: set(v) for k, v in fresh.dependents.items()}
    assert {k: set(v) for k, v in s.pods_by_node.items()} == {k: set(v) for k, v in fresh.pods_by_node.items()}
    for p in live.values():
        if p.spec.node_name:
            assert p in s.pods_on(p.spec.node_name)
        for ref in p.metadata.owner_references:
            assert p in s.dependents_of(ref.uid)


def test_fingerprint_ignores_resource_version_but_not_content() -> None:
    a = state_of([pod("p1")])
    b = state_of([replace(pod("p1"), metadata=replace(pod("p1").metadata, resource_version=42))])
    c = state_of([pod("p1", node="n1")])
    assert a.fingerprint == b.fingerprint and a == b
    assert a.fingerprint != c.fingerprint and a != c


def test_fingerprint_is_stable_across_processes() -> None:
    import subprocess
    import sys

    code = "from tests.test_state import pod; from kmodel.state import state_of; print(state_of([pod('p1', 'n1', ('o1',))]).fingerprint)"

    def run(seed: int) -> str:
        env = {"PYTHONHASHSEED": str(seed), "PATH": ""}
        return subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, check=True).stdout

    outs = {run(1), run(2)}
    assert len(outs) == 1


def test_transaction_reads_its_own_writes_and_noop_commit_returns_base() -> None:
    s = state_of([pod("p1", "n1")])
    assert s.edit().commit() is s
    tx = s.edit()
    tx.put(pod("p2", "n1"))
    assert tx.get("Pod", "default", "p2") is not None
    assert [p.metadata.name for p in tx.pods_on("n1")] == ["p1", "p2"]
    tx.remove(ObjRef("Pod", "default", "p1"))
    assert tx.get("Pod", "default", "p1") is None
    s2 = tx.commit()
    assert [p.metadata.name for p in s2.pods_on("n1")] == ["p2"]
    assert [p.metadata.name for p in s.pods_on("n1")] == ["p1"], "the base state is unchanged"


def test_controlled_by_uses_controller_reference_only() -> None:
    s = state_of([pod("p1", owners=("o1", "o2")), pod("p2", owners=("o2",))])
    assert [p.metadata.name for p in s.controlled_by("o1")] == ["p1"]
    assert [p.metadata.name for p in s.controlled_by("o2")] == ["p2"]
    assert [p.metadata.name for p in s.dependents_of("o2")] == ["p1", "p2"]
