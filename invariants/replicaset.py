"""ReplicaSet and ReplicationController: at quiescence the number of active owned pods
equals spec.replicas, and the status says so (spec §5.4; LIV-RS)."""

from __future__ import annotations

from collections.abc import Iterable

from invariants.registry import Kind, Violation, invariant
from kmodel.state import ClusterState


def _sets(state: ClusterState) -> list:
    return state.list("ReplicaSet") + state.list("ReplicationController")


@invariant(
    "replicaset-replicas",
    Kind.QUIESCENT,
    """When nothing is left to do, every ReplicaSet and ReplicationController that is not
    being deleted controls exactly spec.replicas active pods (not terminal, not being
    deleted) and its status reports them: status.replicas equals that number and
    availableReplicas ≤ readyReplicas ≤ replicas.""",
    subjects=lambda s: s.count("ReplicaSet") + s.count("ReplicationController"),
    source="spec §5.2, §5.4 (LIV-RS, status counts); replica_set.go manageReplicas, calculateStatus",
    tags=("replicaset",),
)
def replicaset_replicas(state: ClusterState) -> Iterable[Violation]:
    for rs in _sets(state):
        if rs.metadata.deletion_timestamp is not None:
            continue
        active = [p for p in state.controlled_by(rs.metadata.uid, "Pod") if p.active]
        if len(active) != rs.spec.replicas:
            yield Violation(
                "replicaset-replicas",
                f"{rs.ref} wants {rs.spec.replicas} replicas but controls {len(active)} active pods",
                (str(rs.ref), *(str(p.ref) for p in active)),
            )
        st = rs.status
        if st.replicas != len(active):
            yield Violation("replicaset-replicas", f"{rs.ref} status.replicas is {st.replicas} but it controls {len(active)} active pods", (str(rs.ref),))
        if not st.available_replicas <= st.ready_replicas <= st.replicas:
            yield Violation(
                "replicaset-replicas",
                f"{rs.ref} status is inconsistent: available {st.available_replicas}, ready {st.ready_replicas}, replicas {st.replicas}",
                (str(rs.ref),),
            )
