"""Broken StatefulSet controllers (kmodel.controllers.statefulset)."""

from __future__ import annotations

from kmodel import apiserver
from kmodel.controllers.statefulset import StatefulSetController, Sync, is_terminating, start_ordinal


class _ForceReplacingSync(Sync):
    """A sync that force-deletes a terminating replica and recreates it at once."""

    def process_replica(self, i: int) -> tuple[bool, str]:
        """processReplica, but a pod stuck terminating is force-deleted and replaced in the same sync."""
        pod = self.replicas[i]
        if is_terminating(pod) and not pod.terminal:
            err = self.issue(apiserver.Delete(pod.ref, uid=pod.metadata.uid, grace_period=0)).error
            if err:
                return True, err
            self.replicas[i] = self.versioned_pod(i + start_ordinal(self.sts))
        return super().process_replica(i)


class ForceReplacesTerminatingPods(StatefulSetController):
    """Force-deletes a pod that is stuck terminating and creates its replacement in the same sync.

    Reproduces the behaviour StatefulSets were designed against (the pod-safety
    guarantee of kubernetes/kubernetes#54368, and the force-delete-stateful-set-pod task
    documented with kubernetes/website#1731): before 1.5 the node controller force-deleted
    pods from unreachable nodes, so a StatefulSet could run two pods with the same
    identity — the old one may still be running behind a network partition. The
    controller must wait until the old pod object is gone (its kubelet confirmed, or an
    administrator force-deleted it knowing the node is down).

    Caught by `statefulset-one-pod-per-identity`: a sync replaces a pod object that was
    still terminating.
    """

    sync_class = _ForceReplacingSync


class _ParallelCondemnSync(Sync):
    """A sync that deletes every condemned pod without waiting, whatever the policy."""

    def process_condemned(self, i: int) -> tuple[bool, str]:
        """processCondemned that never blocks: delete and go on to the next condemned pod."""
        pod = self.condemned[i]
        if is_terminating(pod):
            return False, ""
        return False, self.delete_pod(pod)


class ScalesDownAllAtOnce(StatefulSetController):
    """Deletes every pod beyond the new replica count in one sync, even with OrderedReady.

    A classic mistake: dropping the ordering guarantee on scale-down. With
    podManagementPolicy OrderedReady, stateful_set_control.go processCondemned removes
    one pod at a time, highest ordinal first, waiting for it to be gone and for the
    remaining pods to be Running and Ready (the docs' "Deployment and Scaling
    Guarantees"), so that, e.g., a quorum-based application shrinks one member at a time.

    Caught by `statefulset-ordered-ready`: a sync deletes several pods in one scale-down step.
    """

    sync_class = _ParallelCondemnSync
