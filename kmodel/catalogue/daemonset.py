"""Broken DaemonSet controllers (kmodel.controllers.daemonset)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from typing import Any

from kmodel import apiserver
from kmodel.config import ModelConfig
from kmodel.controllers.daemonset import DaemonSetController, SyncView
from kmodel.objects.pod import Pod
from kmodel.state import ClusterState


class NoDaemonTolerations(DaemonSetController):
    """Creates daemon pods with the template's tolerations only.

    Reproduces kubernetes/kubernetes#41738: when node problems became NoExecute taints
    (taint-based evictions), DaemonSet pods got only the admission plugin's 300 s
    tolerations and were evicted from NotReady and unreachable nodes, which the DaemonSet
    controller used to be exempt from. kubernetes/kubernetes#41896 made the controller
    add not-ready and unreachable NoExecute tolerations without tolerationSeconds
    (util/daemonset_util.go AddOrUpdateDaemonPodTolerations).

    Caught by `daemonset-not-taint-evicted`: after a node failure the taint manager
    evicts a daemon pod for the unreachable taint.
    """

    def reconcile(self, state: ClusterState, ds: Any, config: ModelConfig) -> Sequence[apiserver.Request]:
        """The reference sync, with each created pod's tolerations reset to the template's."""
        out: list[apiserver.Request] = []
        for r in super().reconcile(state, ds, config):
            if isinstance(r, apiserver.Create) and isinstance(r.obj, Pod):
                r = apiserver.Create(replace(r.obj, spec=replace(r.obj.spec, tolerations=ds.spec.template.spec.tolerations)))
            out.append(r)
        return out


class SurgesOntoIneligibleNodes(DaemonSetController):
    """A surging rolling update treats nodes that should no longer run the daemon like any other.

    Reproduces kubernetes/kubernetes#118823 (the v1.28.0 controller): with maxSurge > 0
    the rolling update creates a new pod beside the old one on every node with an old
    pod, including a node whose NoSchedule taint the new template no longer tolerates
    (the old pod may stay there, shouldContinueRunning, but no new pod should be made);
    the new pod can never be scheduled and the rollout stalls.
    kubernetes/kubernetes#119317 (1.29, backported) deletes or keeps the old pod on such
    nodes instead. The model carries both behaviours; this class runs the 1.28 surge step
    under any configured release.

    Caught by `daemonset-no-ineligible-node`: a sync creates a pod for a node where the
    set should not run.
    """

    def _surge(self, view: SyncView, by_node: dict[str, list[Pod]], max_surge: int, desired: int, config: ModelConfig) -> tuple[list[apiserver.Request], bool]:
        return super()._surge(view, by_node, max_surge, desired, replace(config, kubernetes_version="1.28"))


class UncountedUnavailableReplacements(DaemonSetController):
    """With maxSurge 0, replacing an unavailable old pod does not count against maxUnavailable.

    Reproduces kubernetes/kubernetes#123232 (controllers up to 1.30.0): the rolling update
    may always delete an old pod that is not available, but did not count it as
    unavailable, so after a first broken update (new pods that never become available) a
    second update could take down the next maxUnavailable nodes, and so on, until no node
    had an available pod. Fixed by kubernetes/kubernetes#123233 (1.31, backported). This
    class runs the pre-fix rule under any configured release.

    Caught by `daemonset-rolling-unavailability`: a sync deletes an available old pod while
    more than maxUnavailable nodes lack an available daemon pod.
    """

    def _replace_within_unavailable(self, view: SyncView, by_node: dict[str, list[Pod]], max_unavailable: int, config: ModelConfig) -> list[apiserver.Request]:
        return super()._replace_within_unavailable(view, by_node, max_unavailable, replace(config, kubernetes_version="1.30"))
