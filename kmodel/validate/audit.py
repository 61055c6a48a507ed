"""kube-apiserver audit logs (`audit.k8s.io/v1` Event objects, one per line, as the log
backend writes them; an `EventList` is unwrapped).

Only writes that completed are changes: events at stage `ResponseComplete` with a
write verb (create, update, patch, delete) and a 2xx `responseStatus.code`. The
object after the write is the `responseObject` (RequestResponse level); who made it is
`user.username` (or `impersonatedUser.username`); when, `stageTimestamp`. Subresources:
`status` writes carry the whole object; a `binding` (create pods/binding, response a
Status) names the node in `requestObject.target.name`; `scale` responds with a Scale,
whose `spec.replicas` is applied to the object; an `eviction` starts a graceful
deletion that the next write of the pod shows, and names its author. A `delete`
responds with the object (still there with a deletionTimestamp when a grace period or
finalizers hold it, otherwise removed) or a Status (removed).

Writes to resources the model does not know (leases, endpointslices, ...) are counted
and skipped: an audit log holds every write of the cluster. Reads, failed and
in-progress requests are skipped too. An entry without responseObject for a write that
needs one (the log was written at Metadata level) is an input problem.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from kmodel.timefmt import parse_rfc3339
from kmodel.validate.jsonstream import JsonProblem, iter_file_values
from kmodel.validate.source import ADDED, BIND, DELETED, EVICT, MODIFIED, SCALE, InputProblem, Item, RawEvent, parse_rv

# resource (plural) → kind, for the kinds the model knows
RESOURCES = {
    "pods": "Pod",
    "nodes": "Node",
    "replicasets": "ReplicaSet",
    "replicationcontrollers": "ReplicationController",
    "deployments": "Deployment",
    "statefulsets": "StatefulSet",
    "daemonsets": "DaemonSet",
    "controllerrevisions": "ControllerRevision",
    "jobs": "Job",
    "cronjobs": "CronJob",
    "persistentvolumeclaims": "PersistentVolumeClaim",
    "persistentvolumes": "PersistentVolume",
    "storageclasses": "StorageClass",
    "configmaps": "ConfigMap",
    "secrets": "Secret",
    "services": "Service",
    "serviceaccounts": "ServiceAccount",
    "endpoints": "Endpoints",
    "events": "Event",
    "namespaces": "Namespace",
    "poddisruptionbudgets": "PodDisruptionBudget",
}
WRITE_VERBS = frozenset({"create", "update", "patch", "delete"})
_GROUPS_OF_CORE_EVENTS = ("", "core")


def _time(value: Any) -> float | None:
    if not isinstance(value, str):
        return None
    try:
        return parse_rfc3339(value).timestamp()
    except ValueError:
        return None


def _removed(obj: dict[str, Any]) -> bool:
    """Whether the object a delete responded with is gone (no finalizer or grace period
    holds it)."""
    meta = obj.get("metadata") or {}
    if meta.get("finalizers"):
        return False
    if obj.get("kind") == "Pod" and meta.get("deletionTimestamp") and (meta.get("deletionGracePeriodSeconds") or 0) > 0:
        return False
    return True


class AuditReader:
    """Reads one audit log file; `skipped` counts what it passed over and why."""

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        self.file = str(path)
        self.skipped: Counter[str] = Counter()

    def __iter__(self) -> Iterator[Item]:
        try:
            for v in iter_file_values(self.path):
                if isinstance(v, JsonProblem):
                    yield InputProblem(self.file, v.line, v.message)
                    continue
                line, value = v
                if isinstance(value, dict) and value.get("kind") == "EventList" and isinstance(value.get("items"), list):
                    for item in value["items"]:
                        yield from self.entry(item, line)
                else:
                    yield from self.entry(value, line)
        except OSError as e:
            yield InputProblem(self.file, 0, f"cannot read: {e.strerror or e}")

    def entry(self, ev: Any, line: int) -> Iterator[Item]:
        """The change (if any) of one audit event."""
        if not isinstance(ev, dict):
            yield InputProblem(self.file, line, "expected an audit Event object")
            return
        if not str(ev.get("apiVersion", "")).startswith("audit.k8s.io/") or ev.get("kind") != "Event":
            yield InputProblem(self.file, line, f"not an audit.k8s.io Event (apiVersion {ev.get('apiVersion')!r}, kind {ev.get('kind')!r})")
            return
        if ev.get("stage") != "ResponseComplete":
            self.skipped["not ResponseComplete"] += 1
            return
        verb = ev.get("verb")
        if verb not in WRITE_VERBS:
            self.skipped["reads"] += 1
            return
        status = ev.get("responseStatus") or {}
        code = status.get("code") if isinstance(status, dict) else None
        if not isinstance(code, int) or not 200 <= code < 300:
            self.skipped["failed requests"] += 1
            return
        ref = ev.get("objectRef")
        if not isinstance(ref, dict) or not ref.get("resource"):
            self.skipped["no objectRef"] += 1
            return
        resource = str(ref.get("resource"))
        kind = RESOURCES.get(resource)
        if kind is None or (kind == "Event" and ref.get("apiGroup") not in (None, *_GROUPS_OF_CORE_EVENTS)):
            self.skipped[f"resource {resource} (not modelled)"] += 1
            return
        ns = str(ref.get("namespace") or "")
        name = str(ref.get("name") or "")
        sub = str(ref.get("subresource") or "")
        user = ev.get("impersonatedUser") or ev.get("user") or {}
        username = str(user.get("username", "")) if isinstance(user, dict) else ""
        when = _time(ev.get("stageTimestamp"))
        resp = ev.get("responseObject")
        base = dict(kind=kind, namespace=ns, file=self.file, line=line, username=username, verb=str(verb), subresource=sub, time=when)
        if sub == "binding":
            target = (ev.get("requestObject") or {}).get("target") if isinstance(ev.get("requestObject"), dict) else None
            node = target.get("name") if isinstance(target, dict) else None
            if not node:
                yield InputProblem(self.file, line, f"binding of pod {ns}/{name} without requestObject.target.name (audit level must be RequestResponse)")
                return
            yield RawEvent(BIND, name=name, rv=None, obj=None, detail={"node": str(node)}, **base)  # type: ignore[arg-type]
            return
        if sub == "eviction":
            yield RawEvent(EVICT, name=name, rv=None, obj=None, **base)  # type: ignore[arg-type]
            return
        if sub == "scale":
            spec = resp.get("spec") if isinstance(resp, dict) else None
            replicas = spec.get("replicas") if isinstance(spec, dict) else None
            if not isinstance(replicas, int):
                yield InputProblem(self.file, line, f"scale of {kind} {ns}/{name} without responseObject.spec.replicas")
                return
            rv = parse_rv((resp.get("metadata") or {}).get("resourceVersion")) if isinstance(resp, dict) else None
            yield RawEvent(SCALE, name=name, rv=rv, obj=None, detail={"replicas": replicas}, **base)  # type: ignore[arg-type]
            return
        if sub not in ("", "status"):
            self.skipped[f"subresource {sub}"] += 1
            return
        if verb == "delete" and (not isinstance(resp, dict) or resp.get("kind") == "Status"):
            if not name:
                self.skipped["deletecollection"] += 1
                return
            yield RawEvent(DELETED, name=name, rv=None, obj=None, **base)  # type: ignore[arg-type]
            return
        if not isinstance(resp, dict):
            yield InputProblem(self.file, line, f"{verb} of {kind} {ns + '/' if ns else ''}{name} without responseObject (audit level must be RequestResponse)")
            return
        if resp.get("kind") != kind:
            yield InputProblem(self.file, line, f"{verb} of {resource} responded with a {resp.get('kind')!r}, not a {kind}")
            return
        meta = resp.get("metadata") or {}
        rv = parse_rv(meta.get("resourceVersion"))
        name = str(meta.get("name") or name)
        ns = str(meta.get("namespace") or ns)
        base["namespace"] = ns
        if verb == "delete":
            etype = DELETED if _removed(resp) else MODIFIED
        else:
            etype = ADDED if verb == "create" else MODIFIED
        yield RawEvent(etype, name=name, rv=rv, obj=resp, **base)  # type: ignore[arg-type]


def read_audit(path: str | Path) -> AuditReader:
    """An iterable of the changes of one audit log."""
    return AuditReader(path)
