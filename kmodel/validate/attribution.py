"""Who made an observed write: the model actor behind each step of a trace.

Rules, in order (the first that applies decides; `evidence` in the resulting action
says which one did):

1. The audit log's user (`user.username`, or the impersonated user) names the actor:
   `system:kube-scheduler` the scheduler, `system:node:<n>` the kubelet, a kube-system
   service account its controller (`replicaset-controller` → replicaset,
   `generic-garbage-collector` → garbagecollector, `node-controller` → nodelifecycle,
   or the taint manager for its pod deletions, ...), `system:kube-controller-manager`
   kube-controller-manager with the controller found by rule 3; anyone else a user.
2. A binding (spec.nodeName set on a pod that had none, by the scheduler the pod names
   being `default-scheduler`) is the scheduler's.
3. A write whose last writer, by `metadata.managedFields`, is kube-controller-manager
   (the entry that is new or whose time or fields changed) belongs to the controller
   that writes such a change: the owner's controller (by the controller reference's
   kind) for objects it creates, adopts, releases or scales (pods of a ReplicaSet, a
   Deployment's ReplicaSets); the object's own controller for a status write of a
   workload; the node lifecycle controller for nodes. `kubelet` is the kubelet,
   `kube-scheduler` the scheduler, any other manager a user.
4. A deletion (deletionTimestamp set, or the object gone without one) is attributed on
   evidence in the objects: a DisruptionTarget condition names the taint manager
   (DeletionByTaintManager), PodGC (DeletionByPodGC), the scheduler's preemption or the
   eviction API; a pod of a ReplicaSet with more active pods than spec.replicas is the
   ReplicaSet controller's scale-down; a StatefulSet pod outside the ordinal range the
   StatefulSet controller's; a DaemonSet pod of an older template generation, or a
   failed one, the DaemonSet controller's; an object whose owners are all gone or in
   foreground deletion (owners of a kind the trace watches) the garbage collector's;
   the final removal of an object held only by the `orphan`/`foregroundDeletion`
   finalizers the garbage collector's (it removes them); the removal of a pod after its
   graceful deletion the kubelet's.
5. The removal of ownerReferences to owners that are gone or being deleted with the
   `orphan` finalizer, and of those finalizers, is the garbage collector's.
6. Otherwise the author is unknown: invariants that judge a particular actor do not
   judge the step (they count it as "not judged"); nothing is guessed.
"""

from __future__ import annotations

import dataclasses
import functools
from datetime import datetime
from typing import Any

from kmodel.objects.meta import FINALIZER_FOREGROUND, FINALIZER_ORPHAN
from kmodel.timefmt import to_model_seconds
from kmodel.validate.observed import SYSTEM, UNKNOWN, USER, Observed, ObservedReconcile, ObservedSchedule, Origin
from kmodel.validate.source import BIND, RawEvent
from kmodel.validate.view import Change, View

KCM = "kube-controller-manager"
GC = "garbagecollector"
TAINT_EVICTION = "taint-eviction"

# The controller that creates, adopts, scales or deletes objects a kind controls.
CONTROLLER_OF_OWNER = {
    "ReplicaSet": "replicaset",
    "ReplicationController": "replicationcontroller",
    "Deployment": "deployment",
    "StatefulSet": "statefulset",
    "DaemonSet": "daemonset",
    "Job": "job",
    "CronJob": "cronjob",
}
# The controller that writes a kind's own status.
CONTROLLER_OF_KIND = {**CONTROLLER_OF_OWNER, "Node": "nodelifecycle", "PersistentVolumeClaim": "persistentvolume", "PersistentVolume": "persistentvolume"}
# kube-system service accounts of kube-controller-manager (--use-service-account-credentials).
SERVICE_ACCOUNTS = {
    "replicaset-controller": "replicaset",
    "replication-controller": "replicationcontroller",
    "deployment-controller": "deployment",
    "statefulset-controller": "statefulset",
    "daemon-set-controller": "daemonset",
    "job-controller": "job",
    "cronjob-controller": "cronjob",
    "generic-garbage-collector": GC,
    "node-controller": "nodelifecycle",
    "taint-eviction-controller": TAINT_EVICTION,
    "pod-garbage-collector": "podgc",
    "ttl-after-finished-controller": "ttlafterfinished",
    "persistent-volume-binder": "persistentvolume",
}
DISRUPTION_REASONS = {
    "DeletionByTaintManager": (TAINT_EVICTION, SYSTEM),
    "DeletionByPodGC": ("podgc", SYSTEM),
    "PreemptionByScheduler": ("scheduler", SYSTEM),
    "PreemptionByKubeScheduler": ("scheduler", SYSTEM),
    "EvictionByEvictionAPI": ("", USER),
    "TerminationByKubelet": ("kubelet", SYSTEM),
}
_GC_FINALIZERS = frozenset({FINALIZER_ORPHAN, FINALIZER_FOREGROUND})


@functools.lru_cache(maxsize=4096)
def _seconds(text: str, epoch: datetime) -> int | None:
    try:
        return to_model_seconds(text, epoch)
    except (ValueError, TypeError):
        return None


def model_time(text: Any, epoch: datetime) -> int | None:
    """An RFC 3339 timestamp in model seconds (None if it is not one)."""
    return _seconds(text, epoch) if isinstance(text, str) else None


# ---- managedFields --------------------------------------------------------------------


def _entry_key(e: dict[str, Any]) -> tuple[str, str, str]:
    return (str(e.get("manager", "")), str(e.get("operation", "")), str(e.get("subresource", "")))


def changed_managers(old_mf: Any, new_mf: Any) -> list[dict[str, Any]]:
    """The managedFields entries of the new version that are new or changed (time or
    fields) since the old version: the writer's."""
    if not isinstance(new_mf, list):
        return []
    before = {_entry_key(e): e for e in old_mf if isinstance(e, dict)} if isinstance(old_mf, list) else {}
    out = []
    for e in new_mf:
        if not isinstance(e, dict):
            continue
        prev = before.get(_entry_key(e))
        if prev is None or prev.get("time") != e.get("time") or prev.get("fieldsV1") != e.get("fieldsV1"):
            out.append(e)
    return out


def writer(old_mf: Any, new_mf: Any) -> dict[str, Any] | None:
    """The managedFields entry of whoever made the new version, when exactly one entry
    changed (or the latest of those that did); None when none did."""
    changed = changed_managers(old_mf, new_mf)
    if not changed:
        return None
    return max(changed, key=lambda e: str(e.get("time", "")))


_UNOWNED = frozenset({("metadata", "resourceVersion"), ("metadata", "generation"), ("metadata", "managedFields")})


def changed_paths(old: Any, new: Any, prefix: tuple[str, ...] = (), depth: int = 3) -> list[tuple[str, ...]]:
    """The paths (through objects, at most `depth` deep; lists are leaves) whose values
    differ between two versions of a raw object."""
    if old == new:
        return []
    if depth == 0 or not isinstance(old, dict) or not isinstance(new, dict):
        return [prefix]
    out: list[tuple[str, ...]] = []
    for k in old.keys() | new.keys():
        path = (*prefix, str(k))
        if path[:2] in _UNOWNED:
            continue
        out += changed_paths(old.get(k), new.get(k), path, depth - 1)
    return out


def _owns(fields: Any, path: tuple[str, ...]) -> bool:
    cur = fields
    for part in path:
        if not isinstance(cur, dict):
            return True  # owned up to a leaf above the path
        nxt = cur.get(f"f:{part}")
        if nxt is None:
            return False
        cur = nxt
    return True


def owner_by_fields(old_raw: Any, new_raw: Any, new_mf: Any) -> str | None:
    """The one field manager that owns every field the write changed (managedFields
    whose time did not move: two writes in the same second), or None."""
    if not isinstance(new_mf, list) or not isinstance(old_raw, dict) or not isinstance(new_raw, dict):
        return None
    paths = changed_paths(old_raw, new_raw)
    if not paths:
        return None
    managers: set[str] = set()
    for path in paths:
        owners = {str(e.get("manager", "")) for e in new_mf if isinstance(e, dict) and _owns(e.get("fieldsV1"), path)}
        if not owners:
            return None
        managers |= owners
    return managers.pop() if len(managers) == 1 else None


def manager_actor(manager: str) -> tuple[str, str]:
    """(model actor, category) for a field manager other than kube-controller-manager."""
    if manager == "kubelet":
        return "kubelet", SYSTEM
    if manager in ("kube-scheduler", "default-scheduler"):
        return "scheduler", SYSTEM
    if manager in ("", "unknown"):
        return "", UNKNOWN
    return "", USER


# ---- helpers --------------------------------------------------------------------------


def same_metadata(a: Any, b: Any) -> bool:
    """Two versions' metadata are equal apart from resourceVersion."""
    return a == b or dataclasses.replace(a, resource_version=0) == dataclasses.replace(b, resource_version=0)


def _disruption(obj: Any) -> str:
    """The reason of a pod's DisruptionTarget=True condition, or ''."""
    if obj is None or obj.kind != "Pod":
        return ""
    for c in obj.status.conditions:
        if c.type == "DisruptionTarget" and c.status == "True":
            return str(c.reason)
    return ""


def owner_solid(view: View, dependent: Any, ref: Any) -> bool | None:
    """Whether an owner reference is solid in the view (True), gone or in foreground
    deletion (False), or unknowable because no object of its kind was ever observed."""
    owner = view.by_uid(ref.uid)
    if owner is None or owner.kind != ref.kind or owner.metadata.name != ref.name:
        return None if ref.kind not in view.kinds_seen else False
    if owner.metadata.namespace and owner.metadata.namespace != dependent.metadata.namespace:
        return False
    meta = owner.metadata
    return not (meta.deletion_timestamp is not None and FINALIZER_FOREGROUND in meta.finalizers)


def _finished(job: Any) -> bool:
    return any(c.type in ("Complete", "Failed") and c.status == "True" for c in job.status.conditions)


def _active_pods_of(view: View, owner: Any) -> int:
    n = 0
    for k in view.dependents.get(owner.metadata.uid, ()):
        if k[0] != "Pod":
            continue
        p = view.get(k)
        if p is None or not p.active:
            continue
        c = p.metadata.controller_ref()
        if c is not None and c.uid == owner.metadata.uid:
            n += 1
    return n


class Attributor:
    """Applies the rules above to one observed change."""

    def __init__(self, view: View, epoch: datetime) -> None:
        self.view = view
        self.epoch = epoch

    # -- entry points --------------------------------------------------------------
    def attribute(self, ev: RawEvent | None, change: Change, old_mf: Any, new_mf: Any, origin: Origin) -> Any:
        """The action value for one observed change."""
        if ev is not None and ev.username:
            return self._by_username(ev, change, origin)
        obj = change.new if change.new is not None else change.old
        ns, name = change.key[1], change.key[2]
        if self._is_binding(change):
            return ObservedSchedule(ns, name, change.new.spec.node_name, who="scheduler", evidence="binding: spec.nodeName set", origin=origin)
        if change.removed or change.started_deletion:
            act = self._deletion(change, origin)
            if act is not None:
                return act
            return Observed(category=UNKNOWN, evidence="deletion with no evidence of its author", origin=origin)
        gc = self._gc_metadata(change, origin)
        if gc is not None:
            return gc
        entry = writer(old_mf, new_mf)
        if entry is not None:
            manager = str(entry.get("manager", ""))
        else:
            by_fields = owner_by_fields(change.old_raw, change.new_raw, new_mf)
            if by_fields is None:
                return Observed(category=UNKNOWN, evidence="managedFields name no writer", origin=origin)
            manager = by_fields
        if manager == KCM:
            return self._kcm(change, obj, manager, f"managedFields: {KCM}", origin)
        actor, category = manager_actor(manager)
        if actor == "kubelet" and obj.kind == "Pod":
            return ObservedReconcile("kubelet", ns, name, who=manager, evidence=f"managedFields: {manager}", origin=origin)
        return Observed(actor=actor, category=category, who=manager, evidence=f"managedFields: {manager}", origin=origin)

    def step_time(self, ev: RawEvent | None, change: Change, old_mf: Any, new_mf: Any) -> int | None:
        """When the write happened, in model seconds, if the input says: the audit
        stage timestamp; for a creation its creationTimestamp; for the start of a
        deletion deletionTimestamp − gracePeriod; otherwise the writer's managedFields
        time."""
        if ev is not None and ev.time is not None:
            return int(ev.time - self.epoch.timestamp())
        new = change.new
        if change.created and new.metadata.creation_timestamp is not None:
            return int(new.metadata.creation_timestamp)
        if change.started_deletion and new is not None and new.metadata.deletion_timestamp is not None:
            return int(new.metadata.deletion_timestamp - (new.metadata.deletion_grace_period_seconds or 0))
        # the writer's entry carries the latest time (entries of earlier writers are older)
        if isinstance(new_mf, list) and new_mf:
            latest = max((e.get("time") or "" for e in new_mf if isinstance(e, dict)), default="")
            return model_time(latest, self.epoch) if latest else None
        return None

    # -- rule 1 ----------------------------------------------------------------------
    def _by_username(self, ev: RawEvent, change: Change, origin: Origin) -> Any:
        user = ev.username
        ns, name = change.key[1], change.key[2]
        obj = change.new if change.new is not None else change.old
        ev_note = f"audit user {user}"
        if user == "system:kube-scheduler":
            if ev.type == BIND or self._is_binding(change):
                node = ev.detail.get("node") or (change.new.spec.node_name if change.new is not None else "")
                return ObservedSchedule(ns, name, str(node), who=user, evidence=ev_note, origin=origin)
            return Observed(actor="scheduler", category=SYSTEM, who=user, evidence=ev_note, origin=origin)
        if user.startswith("system:node:"):
            if obj is not None and obj.kind == "Pod":
                return ObservedReconcile("kubelet", ns, name, who=user, evidence=ev_note, origin=origin)
            return ObservedReconcile("kubelet", "", name if change.kind == "Node" else user[len("system:node:") :], who=user, evidence=ev_note, origin=origin)
        if user == "system:kube-controller-manager":
            return self._kcm(change, obj, user, ev_note, origin)
        prefix = "system:serviceaccount:kube-system:"
        if user.startswith(prefix):
            sa = user[len(prefix) :]
            controller = SERVICE_ACCOUNTS.get(sa)
            if controller is not None:
                return self._controller_action(controller, change, obj, user, ev_note, origin)
            return Observed(category=SYSTEM, who=user, evidence=f"{ev_note}: not a controller the model has", origin=origin)
        return Observed(category=USER, who=user, evidence=ev_note, origin=origin)

    def _controller_action(self, controller: str, change: Change, obj: Any, who: str, evidence: str, origin: Origin) -> Any:
        """The Reconcile a controller's write to `obj` is part of."""
        ns, name = change.key[1], change.key[2]
        if controller == GC:
            return ObservedReconcile(GC, ns, name, kind=change.kind, who=who, evidence=evidence, origin=origin)
        if controller == "nodelifecycle" and obj is not None and obj.kind == "Pod":
            if change.started_deletion or change.removed:
                return ObservedReconcile(TAINT_EVICTION, ns, name, who=who, evidence=evidence + " (pod deletion: the taint manager)", origin=origin)
            return ObservedReconcile("nodelifecycle", "", obj.spec.node_name or "", who=who, evidence=evidence, origin=origin)
        if controller in (TAINT_EVICTION, "podgc"):
            return ObservedReconcile(controller, ns, name, who=who, evidence=evidence, origin=origin)
        if obj is not None and CONTROLLER_OF_KIND.get(obj.kind) == controller and (controller != "deployment" or obj.kind == "Deployment"):
            if obj.kind in ("Node", "PersistentVolume"):
                return ObservedReconcile(controller, "", name, who=who, evidence=evidence, origin=origin)
            return ObservedReconcile(controller, ns, name, who=who, evidence=evidence, origin=origin)
        owner = self._owner_for(obj, controller, change)
        if owner is not None:
            return ObservedReconcile(controller, owner[0], owner[1], who=who, evidence=evidence, origin=origin)
        return Observed(actor=controller, category=SYSTEM, who=who, evidence=evidence, origin=origin)

    def _owner_for(self, obj: Any, controller: str, change: Change) -> tuple[str, str] | None:
        """The (namespace, name) of the object whose sync by `controller` wrote `obj`:
        its owner of the kind that controller controls."""
        versions = [o for o in (change.new, change.old) if o is not None]
        for o in versions:
            for r in o.metadata.owner_references:
                if CONTROLLER_OF_OWNER.get(r.kind) == controller:
                    return (o.metadata.namespace, r.name)
        return None

    # -- rule 2 ----------------------------------------------------------------------
    @staticmethod
    def _is_binding(change: Change) -> bool:
        old, new = change.old, change.new
        return (
            old is not None
            and new is not None
            and new.kind == "Pod"
            and old.metadata.uid == new.metadata.uid
            and not old.spec.node_name
            and bool(new.spec.node_name)
            and new.spec.scheduler_name == "default-scheduler"
        )

    # -- rule 3 ----------------------------------------------------------------------
    def _kcm(self, change: Change, obj: Any, who: str, evidence: str, origin: Origin) -> Any:
        """Which kube-controller-manager controller made a (non-deletion) write."""
        ns, name = change.key[1], change.key[2]
        old, new = change.old, change.new
        if change.removed or change.started_deletion:
            act = self._deletion(change, origin)
            return act if act is not None else Observed(category=SYSTEM, who=who, evidence=f"{evidence}; deletion by an unidentified controller", origin=origin)
        gc = self._gc_metadata(change, origin)
        if gc is not None:
            return gc
        if obj.kind == "Node":
            return ObservedReconcile("nodelifecycle", "", name, who=who, evidence=evidence, origin=origin)
        if obj.kind == "Pod":
            reason = _disruption(new) if _disruption(old) != _disruption(new) else ""
            if reason in DISRUPTION_REASONS:
                actor, _cat = DISRUPTION_REASONS[reason]
                return ObservedReconcile(actor, ns, name, who=who, evidence=f"{evidence}; DisruptionTarget {reason}", origin=origin)
        if change.created or old is None:
            owner = new.metadata.controller_ref()
            controller = CONTROLLER_OF_OWNER.get(owner.kind) if owner is not None else None
            if controller is not None:
                assert owner is not None
                return ObservedReconcile(
                    controller, ns, owner.name, who=who, evidence=f"{evidence}; created for its owner {owner.kind} {owner.name}", origin=origin
                )
            return Observed(category=SYSTEM, who=who, evidence=f"{evidence}; no controller reference", origin=origin)
        own = CONTROLLER_OF_KIND.get(obj.kind)
        status_only = same_metadata(old.metadata, new.metadata) and getattr(old, "spec", None) == getattr(new, "spec", None)
        if own is not None and status_only:
            return ObservedReconcile(own, ns, name, who=who, evidence=f"{evidence}; status of its {obj.kind}", origin=origin)
        # spec or metadata of an owned object: the owner's controller (adoption, release, scaling)
        refs = {r.uid: r for o in (old, new) for r in o.metadata.owner_references}
        for r in refs.values():
            controller = CONTROLLER_OF_OWNER.get(r.kind)
            if controller is not None and (r.controller or controller != "deployment"):
                return ObservedReconcile(controller, ns, r.name, who=who, evidence=f"{evidence}; written for its owner {r.kind} {r.name}", origin=origin)
        if own is not None:
            return ObservedReconcile(
                own, ns if obj.kind not in ("Node", "PersistentVolume") else "", name, who=who, evidence=f"{evidence}; its {obj.kind}", origin=origin
            )
        return Observed(category=SYSTEM, who=who, evidence=f"{evidence}; not a write the model's controllers make", origin=origin)

    # -- rule 4 ----------------------------------------------------------------------
    def _deletion(self, change: Change, origin: Origin) -> Any:
        """The author of a deletion (start or final removal) from evidence in the objects."""
        old, new = change.old, change.new
        obj = old if old is not None else new
        ns, name = change.key[1], change.key[2]
        if old is not None and old.metadata.deletion_timestamp is not None and change.removed:
            fin = set(old.metadata.finalizers)
            if fin and fin <= _GC_FINALIZERS:
                return ObservedReconcile(
                    GC, ns, name, kind=change.kind, who="", evidence="final removal of an object held only by GC finalizers", origin=origin
                )
            if obj.kind == "Pod" and obj.spec.node_name and not fin:
                reason = _disruption(obj)
                if reason == "DeletionByPodGC":
                    return ObservedReconcile("podgc", ns, name, evidence="DisruptionTarget DeletionByPodGC", origin=origin)
                return ObservedReconcile("kubelet", ns, name, evidence="removal of a bound pod after its graceful deletion", origin=origin)
            return None
        reason = _disruption(new) or _disruption(old)
        if reason in DISRUPTION_REASONS:
            actor, category = DISRUPTION_REASONS[reason]
            if actor in (TAINT_EVICTION, "podgc"):
                return ObservedReconcile(actor, ns, name, evidence=f"DisruptionTarget {reason}", origin=origin)
            return Observed(actor=actor, category=category, evidence=f"DisruptionTarget {reason}", origin=origin)
        refs = obj.metadata.owner_references
        if refs:
            states = [owner_solid(self.view, obj, r) for r in refs]
            if all(s is False for s in states):
                return ObservedReconcile(GC, ns, name, kind=change.kind, evidence="every owner is gone or in foreground deletion", origin=origin)
        ctrl = obj.metadata.controller_ref()
        owner = self.view.by_uid(ctrl.uid) if ctrl is not None else None
        if owner is None or owner.kind != ctrl.kind:  # type: ignore[union-attr]
            return None
        act = self._owner_deletes(owner, obj, change, origin)
        return act

    def _owner_deletes(self, owner: Any, obj: Any, change: Change, origin: Origin) -> Any:
        """The owner's controller, when the owner's state shows why it deletes `obj`."""
        ns, oname = owner.metadata.namespace, owner.metadata.name
        kind = owner.kind
        if obj.kind == "Pod" and kind in ("ReplicaSet", "ReplicationController"):
            if _active_pods_of(self.view, owner) > owner.spec.replicas:
                return ObservedReconcile(
                    CONTROLLER_OF_OWNER[kind],
                    ns,
                    oname,
                    evidence=f"{kind} {oname} has more active pods than spec.replicas {owner.spec.replicas}",
                    origin=origin,
                )
            return None
        if obj.kind == "Pod" and kind == "StatefulSet":
            from kmodel.controllers.statefulset import in_ordinal_range, parent_and_ordinal

            parent, ordinal = parent_and_ordinal(obj.metadata.name)
            if parent == oname and ordinal >= 0 and not in_ordinal_range(ordinal, owner):
                return ObservedReconcile("statefulset", ns, oname, evidence=f"ordinal {ordinal} is outside the range of StatefulSet {oname}", origin=origin)
            if obj.status.phase == "Failed":
                return ObservedReconcile("statefulset", ns, oname, evidence="a failed StatefulSet pod", origin=origin)
            revision = obj.metadata.labels.get("controller-revision-hash")
            update = owner.status.update_revision
            if owner.spec.update_strategy.type == "RollingUpdate" and revision and update and revision != update:
                return ObservedReconcile(
                    "statefulset", ns, oname, evidence=f"rolling update: pod revision {revision} is not the update revision {update}", origin=origin
                )
            return None
        if obj.kind == "Pod" and kind == "DaemonSet":
            from kmodel.controllers.daemonset import TEMPLATE_GENERATION_LABEL, template_generation

            gen = template_generation(owner)
            label = obj.metadata.labels.get(TEMPLATE_GENERATION_LABEL)
            if obj.status.phase == "Failed":
                return ObservedReconcile("daemonset", ns, oname, evidence="a failed daemon pod", origin=origin)
            if gen is not None and label is not None and label.isdigit() and int(label) < gen:
                return ObservedReconcile("daemonset", ns, oname, evidence=f"pod of template generation {label} < {gen}", origin=origin)
            return None
        if obj.kind == "Job" and kind == "CronJob" and _finished(obj):
            failed = any(c.type == "Failed" and c.status == "True" for c in obj.status.conditions)
            limit = owner.spec.failed_jobs_history_limit if failed else owner.spec.successful_jobs_history_limit
            kept = [
                j
                for j in (self.view.get(k) for k in self.view.dependents.get(owner.metadata.uid, ()) if k[0] == "Job")
                if j is not None and _finished(j) and any(c.type == ("Failed" if failed else "Complete") and c.status == "True" for c in j.status.conditions)
            ]
            if limit is not None and len(kept) > limit:
                return ObservedReconcile(
                    "cronjob", ns, oname, evidence=f"CronJob {oname} keeps {len(kept)} finished Jobs, over its history limit {limit}", origin=origin
                )
            return None
        if obj.kind == "ReplicaSet" and kind == "Deployment" and obj.spec.replicas == 0:
            return ObservedReconcile("deployment", ns, oname, evidence="revision history clean-up of a ReplicaSet scaled to 0", origin=origin)
        return None

    # -- rule 5 ----------------------------------------------------------------------
    def _gc_metadata(self, change: Change, origin: Origin) -> Any:
        """ownerReferences to gone or orphaning owners removed, or the GC finalizers
        removed: the garbage collector's work."""
        old, new = change.old, change.new
        if old is None or new is None or old.metadata.uid != new.metadata.uid:
            return None
        ns, name = change.key[1], change.key[2]
        gone_fin = set(old.metadata.finalizers) - set(new.metadata.finalizers)
        if gone_fin & _GC_FINALIZERS and old.metadata.deletion_timestamp is not None:
            return ObservedReconcile(
                GC, ns, name, kind=change.kind, evidence=f"removal of the {', '.join(sorted(gone_fin & _GC_FINALIZERS))} finalizer", origin=origin
            )
        new_uids = {r.uid for r in new.metadata.owner_references}
        removed = [r for r in old.metadata.owner_references if r.uid not in new_uids]
        if not removed:
            return None
        for r in removed:
            owner = self.view.by_uid(r.uid)
            orphaning = owner is not None and owner.metadata.deletion_timestamp is not None and FINALIZER_ORPHAN in owner.metadata.finalizers
            if not (orphaning or owner_solid(self.view, old, r) is False):
                return None
        return ObservedReconcile(
            GC, ns, name, kind=change.kind, evidence="removal of ownerReferences to owners that are gone or orphan their dependents", origin=origin
        )
