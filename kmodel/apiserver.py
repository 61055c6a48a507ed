"""API-server write semantics: how requests from controllers and users change the state.

Controllers never edit the state: they return requests, and this module applies them
the way kube-apiserver does —

* create: name uniqueness per kind and namespace, generateName, uid, creationTimestamp,
  generation 1, resourceVersion; pods start Pending and get the DefaultTolerationSeconds
  tolerations (plugin/pkg/admission/defaulttolerationseconds/admission.go);
* update: uid and resourceVersion preconditions, status kept on the main resource and
  spec kept on the status subresource, generation bumped on spec changes, no new
  finalizers once deletion started (apimachinery ValidateObjectMetaUpdate), removal when
  the last finalizer goes from an object being deleted with no grace period left
  (generic/registry/store.go ShouldDeleteDuringUpdate);
* delete: graceful pod deletion (pkg/registry/core/pod/strategy.go CheckGracefulDelete),
  the orphan / foregroundDeletion finalizers chosen from the propagation policy, the
  object's finalizers and the kind's default policy (store.go deletionFinalizersForGarbageCollection),
  deletionTimestamp and generation (rest/delete.go BeforeDelete, store.go markAsDeleting);
* bind: the binding subresource (pod storage setPodHostAndAnnotations).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import Any

from kmodel.config import ModelConfig
from kmodel.objects.defaults import apply_defaults
from kmodel.objects.generic import GenericObject
from kmodel.objects.kinds import KINDS
from kmodel.objects.meta import FINALIZER_FOREGROUND, FINALIZER_ORPHAN, Condition, ObjectMeta, ObjRef
from kmodel.objects.node import TAINT_NOT_READY, TAINT_UNREACHABLE
from kmodel.objects.pod import Pod, PodStatus
from kmodel.objects.selectors import Toleration
from kmodel.state import Tx

PROPAGATION_POLICIES = ("Orphan", "Background", "Foreground")
# Alphabet of generated name suffixes (apiserver/pkg/storage/names, utilrand.String).
_SUFFIX_ALPHABET = "bcdfghjklmnpqrstvwxz2456789"


@dataclass(frozen=True, slots=True)
class Create:
    """POST an object (name or generateName set by the caller)."""

    obj: Any


@dataclass(frozen=True, slots=True)
class Update:
    """PUT an object; `status=True` targets the status subresource.

    With `check_rv` the update fails with a conflict unless the object's
    resourceVersion is still the one the writer read.
    """

    obj: Any
    status: bool = False
    check_rv: bool = True
    # A patch: the object the writer read. Only the metadata fields that differ between
    # `base` and `obj` (labels, annotations, finalizers, ownerReferences) are applied, to
    # the object as stored when the request lands — a JSON/merge patch never writes back
    # the rest of a stale read.
    base: Any = None


@dataclass(frozen=True, slots=True)
class Delete:
    """DELETE an object, with optional uid precondition, propagation policy and grace period."""

    ref: ObjRef
    uid: str | None = None
    propagation: str | None = None
    grace_period: int | None = None


@dataclass(frozen=True, slots=True)
class Bind:
    """POST pods/binding: assign a pending pod to a node."""

    namespace: str
    name: str
    node: str
    uid: str | None = None


@dataclass(frozen=True, slots=True)
class Remember:
    """Not an API call: replace the issuing actor's private memory."""

    actor: str
    value: Any


Request = Create | Update | Delete | Bind | Remember


@dataclass(frozen=True, slots=True)
class Outcome:
    """The result of one request: '' on success, else the error reason."""

    error: str = ""
    obj: Any = None

    @property
    def ok(self) -> bool:
        """True if the request succeeded."""
        return not self.error


OK = Outcome()

# Opaque built-in kinds without a status subresource: a plain update writes the whole body.
_NO_STATUS_SUBRESOURCE = frozenset({"ConfigMap", "Secret", "ServiceAccount", "Endpoints", "Event", "Namespace"})

# Kind-specific PrepareForCreate steps that need the assigned uid (e.g. the Job strategy
# generating its selector and the controller-uid labels). Each takes and returns the object.
CREATE_HOOKS: dict[str, Callable[[Any], Any]] = {}


def new_uid(n: int) -> str:
    """A deterministic, UUID-shaped uid for the n-th created object."""
    return f"00000000-0000-4000-8000-{n:012x}"


def generated_suffix(n: int) -> str:
    """A deterministic 5-character suffix for generateName, from the generator alphabet."""
    chars = []
    x = n * 2654435761 % (27**5)  # spread consecutive numbers over the space
    for _ in range(5):
        x, r = divmod(x, 27)
        chars.append(_SUFFIX_ALPHABET[r])
    return "".join(chars)


def apply(tx: Tx, request: Request, config: ModelConfig) -> Outcome:
    """Apply one request to the transaction, as the API server would."""
    if isinstance(request, Create):
        return _create(tx, request.obj, config)
    if isinstance(request, Update):
        return _update(tx, request)
    if isinstance(request, Delete):
        return _delete(tx, request)
    if isinstance(request, Bind):
        return _bind(tx, request)
    if isinstance(request, Remember):
        tx.remember(request.actor, request.value)
        return OK
    raise TypeError(f"unknown request {request!r}")


def _create(tx: Tx, obj: Any, config: ModelConfig) -> Outcome:
    info = KINDS.get(obj.kind)
    if info is None:
        return Outcome(f"NotFound: the server could not find the requested resource (kind {obj.kind})")
    meta: ObjectMeta = obj.metadata
    if info.namespaced and not meta.namespace:
        return Outcome("BadRequest: namespace is required")
    if sum(1 for r in meta.owner_references if r.controller) > 1:
        return Outcome("Invalid: metadata.ownerReferences: only one reference can have Controller set to true")
    n = tx.next_uid  # taken only if the create succeeds
    name = meta.name or (meta.generate_name + generated_suffix(n) if meta.generate_name else "")
    if not name:
        return Outcome("Invalid: metadata.name: name or generateName is required")
    if tx.get(obj.kind, meta.namespace, name) is not None:
        return Outcome(f"AlreadyExists: {obj.kind} {name!r} already exists")
    tx.take_uid()
    meta = replace(
        meta,
        name=name,
        uid=new_uid(n),
        creation_timestamp=tx.clock,
        resource_version=tx.take_rv(),
        generation=1 if info.tracks_generation else 0,
        deletion_timestamp=None,
        deletion_grace_period_seconds=None,
    )
    obj = apply_defaults(replace(obj, metadata=meta))
    if obj.kind == "DaemonSet":
        obj = daemonset_template_generation(obj, None)
    hook = CREATE_HOOKS.get(obj.kind)
    if hook is not None:
        obj = hook(obj)
    if isinstance(obj, Pod):
        obj = replace(obj, spec=replace(obj.spec, tolerations=_default_tolerations(obj.spec.tolerations, config)), status=PodStatus())
    elif info.cls is not None and info.reset_status_on_create and hasattr(obj, "status"):
        # PrepareForCreate of workload strategies clears the status.
        obj = replace(obj, status=type(obj.status)())
    tx.put(obj)
    return Outcome(obj=obj)


def _default_tolerations(tolerations: tuple[Toleration, ...], config: ModelConfig) -> tuple[Toleration, ...]:
    """DefaultTolerationSeconds: add not-ready/unreachable NoExecute tolerations (300 s) unless present."""

    def covers(key: str) -> bool:
        return any((t.key == key or not t.key) and (t.effect in ("NoExecute", "")) for t in tolerations)

    out = list(tolerations)
    secs = config.default_toleration_seconds
    if not covers(TAINT_NOT_READY):
        out.append(Toleration(key=TAINT_NOT_READY, operator="Exists", effect="NoExecute", toleration_seconds=secs))
    if not covers(TAINT_UNREACHABLE):
        out.append(Toleration(key=TAINT_UNREACHABLE, operator="Exists", effect="NoExecute", toleration_seconds=secs))
    return tuple(out)


def daemonset_template_generation(ds: Any, old: Any) -> Any:
    """spec.templateGeneration of a DaemonSet, which apps/v1 carries in the
    `deprecated.daemonset.template.generation` annotation (apps/v1 conversion.go):
    at least 1 on create, kept on update, +1 when spec.template changes
    (registry/apps/daemonset/strategy.go PrepareForCreate, PrepareForUpdate).
    An unparseable value (which the real API rejects) is treated as absent."""
    key = "deprecated.daemonset.template.generation"
    if old is None:
        raw = ds.metadata.annotations.get(key, "")
        gen = max(int(raw), 1) if raw.lstrip("-").isdigit() else 1
    else:
        raw = old.metadata.annotations.get(key, "")
        gen = int(raw) if raw.lstrip("-").isdigit() else 0
        if ds.spec.template != old.spec.template:
            gen += 1
    if ds.metadata.annotations.get(key) == str(gen):
        return ds
    return replace(ds, metadata=replace(ds.metadata, annotations=ds.metadata.annotations.set(key, str(gen))))


def _merge_list(current: tuple[Any, ...], base: tuple[Any, ...], new: tuple[Any, ...], key: Any) -> tuple[Any, ...]:
    """A list patch: drop the entries the writer removed, replace the ones it changed, add
    the ones it added (entries matched by key)."""
    before = {key(x): x for x in base}
    after = {key(x): x for x in new}
    changed = {k: v for k, v in after.items() if k in before and before[k] != v}
    kept = tuple(changed.get(key(x), x) for x in current if key(x) in after or key(x) not in before)
    present = {key(x) for x in kept}
    return kept + tuple(x for x in new if key(x) not in before and key(x) not in present)


def _merge_map(current: Any, base: Any, new: Any) -> Any:
    """A map patch: set the keys the writer changed or added, delete the ones it removed."""
    out = current
    for k in base:
        if k not in new:
            out = out.without(k)
    for k, v in new.items():
        if base.get(k) != v:
            out = out.set(k, v)
    return out


def patched(existing: Any, base: Any, obj: Any) -> Any:
    """`existing` with the metadata changes of the patch (`base` → `obj`): finalizers and
    ownerReferences (by uid) as list patches, labels and annotations as map patches."""
    bm, om, em = base.metadata, obj.metadata, existing.metadata
    changes: dict[str, Any] = {}
    if om.finalizers != bm.finalizers:
        changes["finalizers"] = _merge_list(em.finalizers, bm.finalizers, om.finalizers, lambda f: f)
    if om.owner_references != bm.owner_references:
        changes["owner_references"] = _merge_list(em.owner_references, bm.owner_references, om.owner_references, lambda r: r.uid)
    for f in ("labels", "annotations"):
        if getattr(om, f) != getattr(bm, f):
            changes[f] = _merge_map(getattr(em, f), getattr(bm, f), getattr(om, f))
    return replace(existing, metadata=replace(em, **changes)) if changes else existing


def _update(tx: Tx, req: Update) -> Outcome:
    obj = req.obj
    existing = tx.get(obj.kind, obj.metadata.namespace, obj.metadata.name)
    if existing is None:
        return Outcome(f"NotFound: {obj.kind} {obj.metadata.name!r} not found")
    old_meta: ObjectMeta = existing.metadata
    if obj.metadata.uid and obj.metadata.uid != old_meta.uid:
        return Outcome("Conflict: uid precondition failed")
    if req.base is not None and not req.status:
        obj = patched(existing, req.base, obj)
    if req.check_rv and obj.metadata.resource_version and obj.metadata.resource_version != old_meta.resource_version:
        return Outcome("Conflict: the object has been modified; please apply your changes to the latest version")
    info = KINDS[obj.kind]
    new: Any
    if req.status:
        if isinstance(existing, GenericObject) and info.has_status:
            # the status subresource of an opaque kind (custom resources): only .status changes
            status = obj.body.get("status")
            new = replace(existing, body=existing.body.without("status") if status is None else existing.body.set("status", status))
        elif not hasattr(existing, "status"):
            return Outcome(f"NotFound: {obj.kind} has no status subresource")
        else:
            new = replace(existing, status=obj.status)
    else:
        new_meta = replace(
            obj.metadata,
            uid=old_meta.uid,
            creation_timestamp=old_meta.creation_timestamp,
            deletion_timestamp=old_meta.deletion_timestamp,
            deletion_grace_period_seconds=old_meta.deletion_grace_period_seconds,
            generation=old_meta.generation,
            resource_version=old_meta.resource_version,
            generate_name=old_meta.generate_name,
        )
        if old_meta.deletion_timestamp is not None and not set(new_meta.finalizers) <= set(old_meta.finalizers):
            return Outcome("Invalid: metadata.finalizers: no new finalizers can be added if the object is being deleted")
        if sum(1 for r in new_meta.owner_references if r.controller) > 1:
            # ValidateObjectMetaUpdate validates the new metadata like a create (ValidateOwnerReferences)
            return Outcome("Invalid: metadata.ownerReferences: only one reference can have Controller set to true")
        new = apply_defaults(replace(obj, metadata=new_meta))
        if new.kind == "DaemonSet":
            new = daemonset_template_generation(new, existing)
        if info.has_status and hasattr(existing, "status"):
            new = replace(new, status=existing.status)
        elif info.has_status and isinstance(existing, GenericObject) and obj.kind not in _NO_STATUS_SUBRESOURCE:
            # an update of the main resource keeps the stored status (status subresource)
            old_status = existing.body.get("status")
            new = replace(new, body=new.body.without("status") if old_status is None else new.body.set("status", old_status))
        if isinstance(existing, Pod) and existing.spec.node_name and new.spec.node_name != existing.spec.node_name:
            return Outcome("Invalid: spec.nodeName: pod updates may not change fields other than image, activeDeadlineSeconds, tolerations (additions)")
        if info.tracks_generation and getattr(new, "spec", None) != getattr(existing, "spec", None):
            new = replace(new, metadata=replace(new.metadata, generation=old_meta.generation + 1))
    if new == existing:
        return Outcome(obj=existing)  # a no-op write does not change the resourceVersion
    if old_meta.deletion_timestamp is not None and not new.metadata.finalizers and not old_meta.deletion_grace_period_seconds:
        tx.remove(existing.ref)
        return Outcome(obj=None)
    new = replace(new, metadata=replace(new.metadata, resource_version=tx.take_rv()))
    tx.put(new)
    return Outcome(obj=new)


def deletion_finalizers(finalizers: tuple[str, ...], propagation: str | None, default_policy: str) -> tuple[str, ...]:
    """The finalizers an object carries after a DELETE with `propagation`.

    Explicit policy first, then the object's own orphan/foregroundDeletion finalizer,
    then the kind's default policy (store.go shouldOrphanDependents / shouldDeleteDependents).
    """
    if default_policy == "Unsupported":
        # store.go shouldOrphanDependents / shouldDeleteDependents: a kind without
        # garbage collection (core/v1 Event) never carries either finalizer.
        orphan = foreground = False
    elif propagation is not None:
        orphan = propagation == "Orphan"
        foreground = propagation == "Foreground"
    else:
        orphan = foreground = False
        for f in finalizers:
            if f == FINALIZER_ORPHAN:
                orphan = True
                break
            if f == FINALIZER_FOREGROUND:
                foreground = True
                break
        else:
            orphan = default_policy == "Orphan"
    new = [f for f in finalizers if f not in (FINALIZER_ORPHAN, FINALIZER_FOREGROUND)]
    if orphan:
        new.append(FINALIZER_ORPHAN)
    if foreground:
        new.append(FINALIZER_FOREGROUND)
    if set(new) == set(finalizers):
        return finalizers
    return tuple(new)


def _delete(tx: Tx, req: Delete) -> Outcome:
    if req.propagation is not None and req.propagation not in PROPAGATION_POLICIES:
        return Outcome(f"BadRequest: propagationPolicy {req.propagation!r} is not one of Orphan, Background, Foreground")
    obj = tx.get_ref(req.ref)
    if obj is None:
        return Outcome(f"NotFound: {req.ref} not found")
    meta: ObjectMeta = obj.metadata
    if req.uid is not None and req.uid != meta.uid:
        return Outcome("Conflict: the UID in the precondition does not match the UID in record")
    info = KINDS[obj.kind]
    graceful = False
    grace = 0
    # rest/delete.go BeforeDelete: a negative grace period is treated as 1 s.
    requested = 1 if req.grace_period is not None and req.grace_period < 0 else req.grace_period
    if info.graceful_delete and isinstance(obj, Pod):
        if meta.deletion_timestamp is not None:
            dgps = meta.deletion_grace_period_seconds
            if dgps:
                if requested is None or requested >= dgps:
                    return Outcome(obj=obj)  # graceful deletion already pending
                grace = requested
                meta = replace(meta, deletion_timestamp=meta.deletion_timestamp - dgps + grace, deletion_grace_period_seconds=grace)
                graceful = True
        else:
            grace = requested if requested is not None else obj.spec.termination_grace_period_seconds
            if not obj.spec.node_name or obj.terminal:
                grace = 0
            if grace < 0:
                grace = 1
            meta = replace(meta, deletion_timestamp=tx.clock + grace, deletion_grace_period_seconds=grace)
            if meta.generation > 0:
                meta = replace(meta, generation=meta.generation + 1)
            graceful = True
    finalizers = deletion_finalizers(meta.finalizers, req.propagation, info.default_propagation)
    meta = replace(meta, finalizers=finalizers)
    if not graceful:
        if not finalizers:
            tx.remove(obj.ref)
            return Outcome(obj=None)
        # markAsDeleting
        if meta.deletion_timestamp is None and meta.generation > 0:
            meta = replace(meta, generation=meta.generation + 1)
        if meta.deletion_timestamp is None or meta.deletion_timestamp > tx.clock:
            meta = replace(meta, deletion_timestamp=tx.clock)
        meta = replace(meta, deletion_grace_period_seconds=0)
    elif not finalizers and grace == 0:
        tx.remove(obj.ref)
        return Outcome(obj=None)
    new = replace(obj, metadata=meta)
    if new == obj:
        return Outcome(obj=obj)
    new = replace(new, metadata=replace(meta, resource_version=tx.take_rv()))
    tx.put(new)
    return Outcome(obj=new)


def _bind(tx: Tx, req: Bind) -> Outcome:
    pod = tx.get("Pod", req.namespace, req.name)
    if pod is None:
        return Outcome(f"NotFound: pod {req.namespace}/{req.name} not found")
    if req.uid is not None and req.uid != pod.metadata.uid:
        return Outcome("Conflict: uid precondition failed")
    if pod.metadata.deletion_timestamp is not None:
        return Outcome(f"Conflict: pod {req.name} is being deleted, cannot be assigned to a host")
    if pod.spec.node_name:
        return Outcome(f"Conflict: pod {req.name} is already assigned to node {pod.spec.node_name!r}")
    from kmodel.objects.meta import set_condition

    conds = set_condition(pod.status.conditions, Condition("PodScheduled", "True"), tx.clock)
    new = replace(
        pod,
        spec=replace(pod.spec, node_name=req.node),
        status=replace(pod.status, conditions=conds),
        metadata=replace(pod.metadata, resource_version=tx.take_rv()),
    )
    tx.put(new)
    return Outcome(obj=new)


import kmodel.objects.batch_hooks  # noqa: E402,F401  (registers the Job strategy create hook)
