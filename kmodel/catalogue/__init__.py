"""A catalogue of deliberately broken controllers, each caught by kmodel.

Every entry of `BUGS` is a small subclass of a reference actor (in
`kmodel.catalogue.<controller>`) that reproduces a real upstream controller bug or a
classic controller mistake, together with the scenario (`kmodel/catalogue/scenarios/`)
from which kmodel finds it, the engine that finds it and the invariant it breaks. The
reference implementation passes the same scenario with the same engine and budget.

Use one from the command line like any other implementation::

    kmodel explore kmodel/catalogue/scenarios/rs-node-failure.yaml \\
        --impl replicaset=kmodel.catalogue.replicaset:CountsTerminatingPods --seed 0 -n 40

or from Python with `kmodel.catalogue.detect` (time and examples or states to the first
counterexample, for tests and the `catalogue` benchmark).

`KNOWN_MISSES` lists bugs kmodel does not catch today, each with the reason (an
invariant that is too weak, or behaviour the model leaves out); `tests/test_catalogue.py`
checks that they are still missed, so the list stays honest when the suite improves.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from kmodel.actors import Actor
from kmodel.scenario import Scenario, load_scenario

SCENARIOS = Path(__file__).parent / "scenarios"

Engine = Literal["hypothesis", "exhaustive"]


@dataclass(frozen=True)
class Bug:
    """One deliberately broken implementation and how kmodel catches it.

    `actor` is the name of the reference actor the bug replaces, `impl` the
    `package.module:Class` to load (so `actor=impl` is the `--impl` option), `invariant`
    the invariant expected to report it, `engine` the engine that catches it with the
    scenario's scope (exhaustive) or with `seed`, `examples` and `steps` (Hypothesis).
    For an entry of KNOWN_MISSES, `invariant` is the one that would be expected to
    catch it, `missed` explains why it does not, and `witness` names a state predicate
    (`package.module:function`) that shows the misbehaviour — a candidate invariant that
    the reference never satisfies in the same scope.
    """

    id: str
    controller: str
    actor: str
    impl: str
    summary: str
    citation: str
    invariant: str
    engine: Engine
    scenario: str
    seed: int = 0
    examples: int = 40
    steps: int = 12
    missed: str = ""
    witness: str = ""

    @property
    def option(self) -> str:
        """The `--impl` option value: NAME=package.module:Class."""
        return f"{self.actor}={self.impl}"

    @property
    def scenario_path(self) -> Path:
        """The scenario file the bug is found from."""
        return SCENARIOS / self.scenario

    def load_scenario(self) -> Scenario:
        """The parsed scenario."""
        return load_scenario(self.scenario_path)

    def make(self) -> Actor:
        """A fresh instance of the broken actor, named like the actor it replaces."""
        from kmodel.plugins import load_impl

        return load_impl(self.option)


BUGS: list[Bug] = [
    # ---- ReplicaSet ---------------------------------------------------------------------------
    Bug(
        id="rs-counts-foreign-pods",
        controller="ReplicaSet",
        actor="replicaset",
        impl="kmodel.catalogue.replicaset:CountsForeignPods",
        summary="counts every active pod its selector matches, including pods another controller owns, toward spec.replicas",
        citation="kubernetes/kubernetes#2210 (overlapping replication controllers fight over pods); "
        "ControllerRef, kubernetes/kubernetes#24946 and kubernetes/community#298 ('don't share': never count a pod you do not own)",
        invariant="replicaset-replicas",
        engine="exhaustive",
        scenario="rs-overlapping-selectors.yaml",
    ),
    Bug(
        id="rs-counts-terminating-pods",
        controller="ReplicaSet",
        actor="replicaset",
        impl="kmodel.catalogue.replicaset:CountsTerminatingPods",
        summary="counts pods that are being deleted as replicas, so a pod stuck Terminating on a dead node is never replaced",
        citation="classic mistake: forgetting FilterActivePods (controller_utils.go IsPodActive); "
        "kubernetes/kubernetes#72226 (a Terminating pod on a lost node must not count as a replica)",
        invariant="replicaset-replicas",
        engine="hypothesis",
        scenario="rs-node-failure.yaml",
    ),
    # ---- Deployment ---------------------------------------------------------------------------
    Bug(
        id="deploy-max-unavailable-rounded-up",
        controller="Deployment",
        actor="deployment",
        impl="kmodel.catalogue.deployment:RoundsMaxUnavailableUp",
        summary="resolves a maxUnavailable percentage by rounding up (like maxSurge) instead of down",
        citation="kubernetes/kubernetes#21922 (maxUnavailable used math.Ceil; fixed to round down by kubernetes/kubernetes#21957)",
        invariant="deployment-unavailability-bound",
        engine="exhaustive",
        scenario="deploy-rolling-percent.yaml",
    ),
    Bug(
        id="deploy-recreate-ignores-terminating",
        controller="Deployment",
        actor="deployment",
        impl="kmodel.catalogue.deployment:RecreateIgnoresTerminatingPods",
        summary="Recreate starts the new ReplicaSet once the old sets report 0 replicas, while their pods are still terminating",
        citation="kubernetes/kubernetes#27362 (Recreate deployments don't wait for pod termination); kubernetes/kubernetes#32567",
        invariant="recreate-no-overlap",
        engine="exhaustive",
        scenario="deploy-recreate.yaml",
    ),
    # ---- DaemonSet ----------------------------------------------------------------------------
    Bug(
        id="ds-no-daemon-tolerations",
        controller="DaemonSet",
        actor="daemonset",
        impl="kmodel.catalogue.daemonset:NoDaemonTolerations",
        summary="creates daemon pods without the automatic not-ready/unreachable NoExecute tolerations, so they are evicted from a NotReady node",
        citation="kubernetes/kubernetes#41738 (DaemonSets need infinite tolerations for unreachable/not-ready); fixed by kubernetes/kubernetes#41896",
        invariant="daemonset-not-taint-evicted",
        engine="hypothesis",
        scenario="ds-node-failure.yaml",
    ),
    Bug(
        id="ds-surge-onto-ineligible-node",
        controller="DaemonSet",
        actor="daemonset",
        impl="kmodel.catalogue.daemonset:SurgesOntoIneligibleNodes",
        summary="a surging rolling update creates a new pod for a node whose taint the new template no longer tolerates",
        citation="kubernetes/kubernetes#118823 (v1.28.0 surge on nodes that should not run the daemon); fixed by kubernetes/kubernetes#119317",
        invariant="daemonset-no-ineligible-node",
        engine="exhaustive",
        scenario="ds-surge-untolerated.yaml",
    ),
    Bug(
        id="ds-unavailable-replacements-uncounted",
        controller="DaemonSet",
        actor="daemonset",
        impl="kmodel.catalogue.daemonset:UncountedUnavailableReplacements",
        summary="with maxSurge 0, replacing an unavailable old pod does not count against maxUnavailable, so broken updates take every node down",
        citation="kubernetes/kubernetes#123232 (rolling update exceeds maxUnavailable); fixed by kubernetes/kubernetes#123233 (1.31)",
        invariant="daemonset-rolling-unavailability",
        engine="exhaustive",
        scenario="ds-broken-updates.yaml",
    ),
    # ---- garbage collector --------------------------------------------------------------------
    Bug(
        id="gc-deletes-with-live-owner",
        controller="garbage collector",
        actor="garbagecollector",
        impl="kmodel.catalogue.garbagecollector:DeletesWithLiveOwner",
        summary="deletes a dependent as soon as one of its owners is gone, although another owner is alive",
        citation="classic mistake: 'an owner is gone' read as 'garbage'; upstream attemptToDeleteItem keeps any object with a solid owner "
        "('has at least one existing owner, will not garbage collect', reviewed in kubernetes/kubernetes#38679)",
        invariant="gc-no-live-owner-deletion",
        engine="hypothesis",
        scenario="gc-two-owners.yaml",
    ),
    Bug(
        id="gc-cluster-owner-in-dependent-namespace",
        controller="garbage collector",
        actor="garbagecollector",
        impl="kmodel.catalogue.garbagecollector:LooksUpOwnerInDependentNamespace",
        summary="looks a cluster-scoped owner up in the dependent's namespace, finds nothing and deletes the dependent",
        citation="kubernetes/kubernetes#54940 (namespaced dependent of a cluster-scoped owner erroneously garbage collected: virtual nodes "
        "inherited the dependent's namespace)",
        invariant="gc-no-live-owner-deletion",
        engine="exhaustive",
        scenario="gc-cluster-scoped-owner.yaml",
    ),
    Bug(
        id="gc-orphan-finalizer-first",
        controller="garbage collector",
        actor="garbagecollector",
        impl="kmodel.catalogue.garbagecollector:RemovesOrphanFinalizerFirst",
        summary="with Orphan propagation removes the owner's orphan finalizer before stripping the dependents' ownerReferences "
        "(which then cascade-delete the dependents)",
        citation="classic mistake: wrong order of two writes; upstream attemptToOrphanWorker orphans the dependents, then removes the "
        "finalizer (garbagecollector.go orphanDependents before removeFinalizer)",
        invariant="gc-orphan-before-removal",
        engine="exhaustive",
        scenario="gc-orphan.yaml",
    ),
    # ---- taint eviction -----------------------------------------------------------------------
    Bug(
        id="taint-ignores-toleration-seconds",
        controller="taint eviction",
        actor="taint-eviction",
        impl="kmodel.catalogue.tainteviction:IgnoresTolerationSeconds",
        summary="evicts a pod as soon as its node gets a NoExecute taint it tolerates only for tolerationSeconds",
        citation="classic mistake: ignoring a timer; upstream taint_manager.go getMinTolerationTime schedules the eviction "
        "tolerationSeconds after the taint (kubernetes/kubernetes#40355)",
        invariant="taint-eviction-timing",
        engine="hypothesis",
        scenario="rs-node-failure.yaml",
    ),
    # ---- scheduler ----------------------------------------------------------------------------
    Bug(
        id="sched-forgets-assumed-pods",
        controller="scheduler",
        actor="scheduler",
        impl="kmodel.catalogue.scheduler:ForgetsAssumedPods",
        summary="accounts only for pods already running on a node, not for pods bound to it that the kubelet has not started",
        citation="kubernetes/kubernetes#106361 (an expired assumed pod lets the scheduler bind a second pod that does not fit); "
        "kubernetes/kubernetes#10928 (pods assigned to nodes with insufficient resources)",
        invariant="node-capacity",
        engine="exhaustive",
        scenario="sched-small-node.yaml",
    ),
    # ---- CronJob ------------------------------------------------------------------------------
    Bug(
        id="cronjob-generated-job-names",
        controller="CronJob",
        actor="cronjob",
        impl="kmodel.catalogue.cronjob:GeneratedJobNames",
        summary="names Jobs with generateName, so a sync reading a stale status starts the same scheduled time twice",
        citation="classic mistake: non-idempotent creates; the ScheduledJob proposal (kubernetes/kubernetes#25595) warns that 'two jobs "
        "might be created', and the controller's deterministic names (utils.go getJobName) make a second create for a time fail",
        invariant="cronjob-one-job-per-schedule",
        engine="exhaustive",
        scenario="cronjob-async.yaml",
    ),
    # ---- StatefulSet --------------------------------------------------------------------------
    Bug(
        id="sts-force-replaces-terminating",
        controller="StatefulSet",
        actor="statefulset",
        impl="kmodel.catalogue.statefulset:ForceReplacesTerminatingPods",
        summary="force-deletes a pod stuck terminating on a lost node and creates its replacement at once (two pods may run one identity)",
        citation="at-most-one pod per identity: kubernetes/kubernetes#54368 (by design, pods on a lost node are not replaced); "
        "pre-1.5 force deletion of unreachable pods (kubernetes/website#1731, force-delete-stateful-set-pod)",
        invariant="statefulset-one-pod-per-identity",
        engine="hypothesis",
        scenario="sts-node-failure.yaml",
    ),
    Bug(
        id="sts-scale-down-all-at-once",
        controller="StatefulSet",
        actor="statefulset",
        impl="kmodel.catalogue.statefulset:ScalesDownAllAtOnce",
        summary="with OrderedReady deletes every condemned pod in one sync instead of one at a time, highest ordinal first",
        citation="classic mistake: dropping the ordering guarantee; stateful_set_control.go processCondemned (OrderedReady: one pod at a "
        "time, the docs' Deployment and Scaling Guarantees)",
        invariant="statefulset-ordered-ready",
        engine="exhaustive",
        scenario="sts-scale-down.yaml",
    ),
    Bug(
        id="nodelifecycle-taints-in-full-disruption",
        controller="node lifecycle",
        actor="nodelifecycle",
        impl="kmodel.catalogue.nodelifecycle:TaintsInFullDisruption",
        summary="keeps adding NoExecute taints when every zone is fully disrupted, so a control-plane network failure evicts everything",
        citation="kubernetes/kubernetes#28832 (NodeController evicts pods en masse on master network problems); "
        "fixed by kubernetes/kubernetes#28897 (zone-aware disruption modes)",
        invariant="nodelifecycle-no-taint-in-full-disruption",
        engine="exhaustive",
        scenario="nodes-all-fail.yaml",
    ),
]

KNOWN_MISSES: list[Bug] = [
    Bug(
        id="rs-no-expectations",
        controller="ReplicaSet",
        actor="replicaset",
        impl="kmodel.catalogue.replicaset:NoExpectations",
        summary="ignores its expectations: with its own creations still in flight it creates the missing pods again",
        citation="controller expectations (kubernetes/kubernetes#8138: check expectations before counting pods; "
        "kubernetes/kubernetes#129795: extra pods once expectations expire)",
        invariant="replicaset-replicas",
        engine="exhaustive",
        scenario="rs-async-scale-up.yaml",
        missed="replicaset-replicas is a QUIESCENT invariant: the surplus pods exist only between fixpoints (the controller deletes "
        "them again), and no ALWAYS or TRANSITION invariant bounds the pods a ReplicaSet controls; the transition invariants of the "
        "other controllers judge a sync against the state it read, so stale-view double creation is outside every invariant",
        witness="kmodel.catalogue.replicaset:overshoots",
    ),
    Bug(
        id="cronjob-gives-up-after-100-missed",
        controller="CronJob",
        actor="cronjob",
        impl="kmodel.catalogue.cronjob:GivesUpAfterTooManyMissed",
        summary="starts nothing once more than 100 schedule times were missed, so a CronJob resumed after a long pause is stuck for good",
        citation="kubernetes/kubernetes#42649 (Cannot determine if job needs to be started: too many missed start time (> 100))",
        invariant="(none: a CronJob liveness invariant)",
        engine="exhaustive",
        scenario="cronjob-long-suspend.yaml",
        missed="the CronJob invariants are safety properties (one Job per time, no overlap under Forbid, no late or early start, "
        "history limits); none requires that a due time is ever started, and a CronJob is never quiescent (its next schedule time "
        "is always a pending timer), so no fixpoint check could see it either",
        witness="kmodel.catalogue.cronjob:stuck",
    ),
]


def by_id(bug_id: str) -> Bug:
    """The catalogue entry (or known miss) with this id."""
    for bug in BUGS + KNOWN_MISSES:
        if bug.id == bug_id:
            return bug
    raise KeyError(f"no bug {bug_id!r} in the catalogue; known: {', '.join(b.id for b in BUGS + KNOWN_MISSES)}")


__all__ = ["BUGS", "KNOWN_MISSES", "SCENARIOS", "Bug", "Engine", "by_id"]
