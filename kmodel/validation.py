"""Validation of objects before they enter the model, after the API server's rules.

Sources: pkg/apis/core/validation/validation.go, pkg/apis/apps/validation/validation.go,
k8s.io/apimachinery/pkg/api/validation/objectmeta.go. Each check returns
(field path, message) pairs; the first error is reported to the user.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

from kmodel.intstr import is_percent
from kmodel.objects.kinds import KINDS, APIObject
from kmodel.objects.meta import ObjectMeta
from kmodel.objects.node import Node
from kmodel.objects.pod import Pod, PodSpec, PodTemplateSpec
from kmodel.objects.selectors import LABEL_OPERATORS, NODE_OPERATORS, TAINT_EFFECTS, LabelSelector
from kmodel.objects.workloads import Deployment, ReplicaSet, ReplicationController

FieldErrors = list[tuple[str, str]]
Validator = Callable[[Any], FieldErrors]
VALIDATORS: dict[str, Validator] = {}

_DNS1123_SUBDOMAIN = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$")
_DNS1123_LABEL = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?$")
_LABEL_VALUE = re.compile(r"^(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?$")
_QUALIFIED_NAME = re.compile(r"^([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]$")


def validator(kind: str) -> Callable[[Validator], Validator]:
    """Register a validation function for `kind`."""

    def register(fn: Validator) -> Validator:
        VALIDATORS[kind] = fn
        return fn

    return register


def validate_object(obj: APIObject) -> FieldErrors:
    """Metadata validation plus the kind's own rules."""
    errors = validate_meta(obj.metadata, KINDS[obj.kind].namespaced if obj.kind in KINDS else True)
    fn = VALIDATORS.get(obj.kind)
    if fn is not None:
        errors.extend(fn(obj))
    return errors


def is_dns_subdomain(name: str) -> bool:
    """RFC 1123 subdomain, at most 253 characters."""
    return len(name) <= 253 and bool(_DNS1123_SUBDOMAIN.match(name))


def is_dns_label(name: str) -> bool:
    """RFC 1123 label, at most 63 characters."""
    return len(name) <= 63 and bool(_DNS1123_LABEL.match(name))


def validate_labels(labels: dict[str, str], path: str) -> FieldErrors:
    """Label keys are qualified names (optional DNS prefix); values at most 63 characters."""
    errors: FieldErrors = []
    for k, v in labels.items():
        prefix, _, name = k.rpartition("/")
        if (prefix and not is_dns_subdomain(prefix)) or not name or len(name) > 63 or not _QUALIFIED_NAME.match(name):
            errors.append((f"{path}.{k}", f"invalid label key {k!r}"))
        if len(v) > 63 or not _LABEL_VALUE.match(v):
            errors.append((f"{path}.{k}", f"invalid label value {v!r}: at most 63 characters, alphanumeric, '-', '_' or '.'"))
    return errors


def validate_meta(meta: ObjectMeta, namespaced: bool) -> FieldErrors:
    """ObjectMeta rules: a name or generateName, valid names and labels, one controller ref."""
    errors: FieldErrors = []
    if not meta.name and not meta.generate_name:
        errors.append(("metadata.name", "name or generateName is required"))
    if meta.name and not is_dns_subdomain(meta.name):
        errors.append(("metadata.name", f"{meta.name!r} is not a valid name: lowercase letters, digits, '-' and '.'"))
    if namespaced and meta.namespace and not is_dns_label(meta.namespace):
        errors.append(("metadata.namespace", f"{meta.namespace!r} is not a valid namespace name"))
    errors.extend(validate_labels(dict(meta.labels), "metadata.labels"))
    controllers = [i for i, r in enumerate(meta.owner_references) if r.controller]
    if len(controllers) > 1:
        errors.append(("metadata.ownerReferences", "only one reference can have Controller set to true"))
    for i, r in enumerate(meta.owner_references):
        if not r.uid:
            errors.append((f"metadata.ownerReferences[{i}].uid", "uid must not be empty"))
    return errors


def validate_selector(sel: LabelSelector, path: str) -> FieldErrors:
    """Operators are valid; In/NotIn need values, Exists/DoesNotExist forbid them."""
    errors: FieldErrors = []
    for i, req in enumerate(sel.match_expressions):
        p = f"{path}.matchExpressions[{i}]"
        if req.operator not in LABEL_OPERATORS:
            errors.append((f"{p}.operator", f"{req.operator!r} is not a valid operator (In, NotIn, Exists, DoesNotExist)"))
        elif req.operator in ("In", "NotIn") and not req.values:
            errors.append((f"{p}.values", "must be specified when `operator` is 'In' or 'NotIn'"))
        elif req.operator in ("Exists", "DoesNotExist") and req.values:
            errors.append((f"{p}.values", "may not be specified when `operator` is 'Exists' or 'DoesNotExist'"))
    return errors


def validate_pod_spec(spec: PodSpec, path: str) -> FieldErrors:
    """Containers, restart policy, tolerations and node affinity operators."""
    errors: FieldErrors = []
    if not spec.containers:
        errors.append((f"{path}.containers", "at least one container is required"))
    names: set[str] = set()
    for group, containers in (("initContainers", spec.init_containers), ("containers", spec.containers)):
        for i, c in enumerate(containers):
            p = f"{path}.{group}[{i}]"
            if not is_dns_label(c.name):
                errors.append((f"{p}.name", f"{c.name!r} is not a valid container name"))
            if c.name in names:
                errors.append((f"{p}.name", f"duplicate container name {c.name!r}"))
            names.add(c.name)
            if c.restart_policy is not None and (group == "containers" or c.restart_policy != "Always"):
                errors.append((f"{p}.restartPolicy", "only init containers may set restartPolicy, and only to 'Always'"))
            for res, q in c.resources.requests.items():
                if q < 0:
                    errors.append((f"{p}.resources.requests.{res}", "must be greater than or equal to 0"))
                lim = c.resources.limits.get(res)
                if lim is not None and q > lim:
                    errors.append((f"{p}.resources.requests.{res}", "must be less than or equal to the limit"))
    if spec.restart_policy not in ("Always", "OnFailure", "Never"):
        errors.append((f"{path}.restartPolicy", f"{spec.restart_policy!r} is not one of Always, OnFailure, Never"))
    if spec.termination_grace_period_seconds < 0:
        errors.append((f"{path}.terminationGracePeriodSeconds", "must be greater than or equal to 0"))
    for i, t in enumerate(spec.tolerations):
        p = f"{path}.tolerations[{i}]"
        if t.operator not in ("Equal", "Exists", ""):
            errors.append((f"{p}.operator", f"{t.operator!r} is not one of Equal, Exists"))
        if not t.key and t.operator != "Exists":
            errors.append((f"{p}.operator", "must be 'Exists' when `key` is empty"))
        if t.operator == "Exists" and t.value:
            errors.append((f"{p}.value", "must be empty when `operator` is 'Exists'"))
        if t.effect and t.effect not in TAINT_EFFECTS:
            errors.append((f"{p}.effect", f"{t.effect!r} is not one of NoSchedule, PreferNoSchedule, NoExecute"))
        if t.toleration_seconds is not None and t.effect != "NoExecute":
            errors.append((f"{p}.effect", "must be 'NoExecute' when `tolerationSeconds` is set"))
    na = spec.affinity.node_affinity if spec.affinity else None
    req = na.required_during_scheduling_ignored_during_execution if na else None
    if req is not None:
        for i, term in enumerate(req.node_selector_terms):
            for r in term.match_expressions + term.match_fields:
                if r.operator not in NODE_OPERATORS:
                    errors.append(
                        (
                            f"{path}.affinity.nodeAffinity.requiredDuringSchedulingIgnoredDuringExecution.nodeSelectorTerms[{i}]",
                            f"{r.operator!r} is not a valid node selector operator",
                        )
                    )
            for j, r in enumerate(term.match_fields):
                if r.key != "metadata.name":
                    errors.append(
                        (
                            f"{path}.affinity.nodeAffinity.requiredDuringSchedulingIgnoredDuringExecution.nodeSelectorTerms[{i}].matchFields[{j}].key",
                            "only metadata.name is supported",
                        )
                    )
    return errors


def validate_template(template: PodTemplateSpec, selector: LabelSelector, path: str, allowed_restart: tuple[str, ...]) -> FieldErrors:
    """A workload template: valid pod spec, labels matching the selector, allowed restart policy."""
    errors = validate_labels(dict(template.metadata.labels), f"{path}.metadata.labels")
    errors.extend(validate_pod_spec(template.spec, f"{path}.spec"))
    if not selector.empty and not selector.matches(template.metadata.labels):
        errors.append((f"{path}.metadata.labels", "`selector` does not match template `labels`"))
    if template.spec.restart_policy not in allowed_restart:
        errors.append((f"{path}.spec.restartPolicy", f"{template.spec.restart_policy!r}: supported values: {', '.join(allowed_restart)}"))
    return errors


@validator("Pod")
def _validate_pod(pod: Pod) -> FieldErrors:
    return validate_pod_spec(pod.spec, "spec")


@validator("Node")
def _validate_node(node: Node) -> FieldErrors:
    errors: FieldErrors = []
    for i, t in enumerate(node.spec.taints):
        if not t.key:
            errors.append((f"spec.taints[{i}].key", "required value"))
        if t.effect not in TAINT_EFFECTS:
            errors.append((f"spec.taints[{i}].effect", f"{t.effect!r} is not one of NoSchedule, PreferNoSchedule, NoExecute"))
    for res, q in node.status.allocatable.items():
        if q < 0:
            errors.append((f"status.allocatable.{res}", "must be greater than or equal to 0"))
    return errors


def _replicas_errors(replicas: int, min_ready: int) -> FieldErrors:
    errors: FieldErrors = []
    if replicas < 0:
        errors.append(("spec.replicas", "must be greater than or equal to 0"))
    if min_ready < 0:
        errors.append(("spec.minReadySeconds", "must be greater than or equal to 0"))
    return errors


@validator("ReplicaSet")
def _validate_rs(rs: ReplicaSet) -> FieldErrors:
    errors = _replicas_errors(rs.spec.replicas, rs.spec.min_ready_seconds)
    if rs.spec.selector.empty:
        errors.append(("spec.selector", "empty selector is invalid for apps/v1 ReplicaSet"))
    errors.extend(validate_selector(rs.spec.selector, "spec.selector"))
    errors.extend(validate_template(rs.spec.template, rs.spec.selector, "spec.template", ("Always",)))
    return errors


@validator("ReplicationController")
def _validate_rc(rc: ReplicationController) -> FieldErrors:
    errors = _replicas_errors(rc.spec.replicas, rc.spec.min_ready_seconds)
    if not rc.spec.selector:
        errors.append(("spec.selector", "required value (or template labels to default it from)"))
    errors.extend(validate_template(rc.spec.template, rc.label_selector, "spec.template", ("Always",)))
    return errors


def _int_or_percent_errors(value: int | str | None, path: str) -> FieldErrors:
    if value is None:
        return []
    if isinstance(value, int):
        return [(path, "must be greater than or equal to 0")] if value < 0 else []
    if not is_percent(value):
        return [(path, f"{value!r} must be an integer or a percentage (e.g. '25%')")]
    return []


@validator("Deployment")
def _validate_deployment(d: Deployment) -> FieldErrors:
    errors = _replicas_errors(d.spec.replicas, d.spec.min_ready_seconds)
    if d.spec.selector.empty:
        errors.append(("spec.selector", "empty selector is invalid for apps/v1 Deployment"))
    errors.extend(validate_selector(d.spec.selector, "spec.selector"))
    errors.extend(validate_template(d.spec.template, d.spec.selector, "spec.template", ("Always",)))
    st = d.spec.strategy
    if st.type not in ("RollingUpdate", "Recreate"):
        errors.append(("spec.strategy.type", f"{st.type!r}: supported values: Recreate, RollingUpdate"))
    if st.type == "Recreate" and st.rolling_update is not None:
        errors.append(("spec.strategy.rollingUpdate", "may not be specified when strategy `type` is 'Recreate'"))
    ru = st.rolling_update
    if ru is not None:
        p = "spec.strategy.rollingUpdate"
        errors.extend(_int_or_percent_errors(ru.max_surge, f"{p}.maxSurge"))
        errors.extend(_int_or_percent_errors(ru.max_unavailable, f"{p}.maxUnavailable"))
        if isinstance(ru.max_unavailable, str) and is_percent(ru.max_unavailable) and int(ru.max_unavailable[:-1]) > 100:
            errors.append((f"{p}.maxUnavailable", "must not be greater than 100%"))
        if _is_zero(ru.max_surge) and _is_zero(ru.max_unavailable):
            errors.append((f"{p}.maxUnavailable", "may not be 0 when `maxSurge` is 0"))
    if d.spec.revision_history_limit is not None and d.spec.revision_history_limit < 0:
        errors.append(("spec.revisionHistoryLimit", "must be greater than or equal to 0"))
    pds = d.spec.progress_deadline_seconds
    if pds is not None and pds <= d.spec.min_ready_seconds:
        errors.append(("spec.progressDeadlineSeconds", "must be greater than minReadySeconds"))
    return errors


def _is_zero(v: int | str | None) -> bool:
    return v is None or v == 0 or v == "0%"


# ---- apps/v1 StatefulSet, DaemonSet; batch/v1 Job, CronJob; storage ----------------------


@validator("StatefulSet")
def _validate_statefulset(sts: Any) -> FieldErrors:
    errors = _replicas_errors(sts.spec.replicas, sts.spec.min_ready_seconds)
    if sts.spec.selector.empty:
        errors.append(("spec.selector", "empty selector is invalid for apps/v1 StatefulSet"))
    errors.extend(validate_selector(sts.spec.selector, "spec.selector"))
    errors.extend(validate_template(sts.spec.template, sts.spec.selector, "spec.template", ("Always",)))
    if sts.spec.pod_management_policy not in ("OrderedReady", "Parallel"):
        errors.append(("spec.podManagementPolicy", f"{sts.spec.pod_management_policy!r}: supported values: OrderedReady, Parallel"))
    us = sts.spec.update_strategy
    if us.type not in ("RollingUpdate", "OnDelete"):
        errors.append(("spec.updateStrategy.type", f"{us.type!r}: supported values: OnDelete, RollingUpdate"))
    if us.type == "OnDelete" and us.rolling_update is not None:
        errors.append(("spec.updateStrategy.rollingUpdate", "only allowed for updateStrategy 'RollingUpdate'"))
    if us.rolling_update is not None:
        if us.rolling_update.partition < 0:
            errors.append(("spec.updateStrategy.rollingUpdate.partition", "must be greater than or equal to 0"))
        errors.extend(_int_or_percent_errors(us.rolling_update.max_unavailable, "spec.updateStrategy.rollingUpdate.maxUnavailable"))
        if us.rolling_update.max_unavailable in (0, "0%"):
            errors.append(("spec.updateStrategy.rollingUpdate.maxUnavailable", "must be greater than 0"))
    if sts.spec.ordinals is not None and sts.spec.ordinals.start < 0:
        errors.append(("spec.ordinals.start", "must be greater than or equal to 0"))
    policy = sts.spec.persistent_volume_claim_retention_policy
    if policy is not None:
        for name, value in (("whenDeleted", policy.when_deleted), ("whenScaled", policy.when_scaled)):
            if value not in ("Retain", "Delete"):
                errors.append((f"spec.persistentVolumeClaimRetentionPolicy.{name}", f"{value!r}: supported values: Delete, Retain"))
    for i, t in enumerate(sts.spec.volume_claim_templates):
        if not t.metadata.name:
            errors.append((f"spec.volumeClaimTemplates[{i}].metadata.name", "required value"))
    return errors


@validator("DaemonSet")
def _validate_daemonset(ds: Any) -> FieldErrors:
    errors = _replicas_errors(0, ds.spec.min_ready_seconds)
    if ds.spec.selector.empty:
        errors.append(("spec.selector", "empty selector is invalid for apps/v1 DaemonSet"))
    errors.extend(validate_selector(ds.spec.selector, "spec.selector"))
    errors.extend(validate_template(ds.spec.template, ds.spec.selector, "spec.template", ("Always",)))
    us = ds.spec.update_strategy
    if us.type not in ("RollingUpdate", "OnDelete"):
        errors.append(("spec.updateStrategy.type", f"{us.type!r}: supported values: OnDelete, RollingUpdate"))
    ru = us.rolling_update
    if ru is not None:
        p = "spec.updateStrategy.rollingUpdate"
        errors.extend(_int_or_percent_errors(ru.max_surge, f"{p}.maxSurge"))
        errors.extend(_int_or_percent_errors(ru.max_unavailable, f"{p}.maxUnavailable"))
        if _is_zero(ru.max_surge) and _is_zero(ru.max_unavailable):
            errors.append((f"{p}.maxUnavailable", "may not be 0 when `maxSurge` is 0"))
    return errors


def _job_spec_errors(spec: Any, path: str) -> FieldErrors:
    errors: FieldErrors = []
    for name in ("parallelism", "completions", "activeDeadlineSeconds", "backoffLimit", "ttlSecondsAfterFinished"):
        value = getattr(spec, _snake(name))
        if value is not None and value < 0:
            errors.append((f"{path}.{name}", "must be greater than or equal to 0"))
    if spec.completion_mode not in (None, "NonIndexed", "Indexed"):
        errors.append((f"{path}.completionMode", f"{spec.completion_mode!r}: supported values: Indexed, NonIndexed"))
    if spec.completion_mode == "Indexed" and spec.completions is None:
        errors.append((f"{path}.completions", "when completion mode is Indexed, completions must be set"))
    if spec.backoff_limit_per_index is not None and spec.completion_mode != "Indexed":
        errors.append((f"{path}.backoffLimitPerIndex", "requires indexed completion mode"))
    if spec.pod_failure_policy is not None and spec.template.spec.restart_policy != "Never":
        errors.append((f"{path}.template.spec.restartPolicy", 'only "Never" is supported when podFailurePolicy is specified'))
    if spec.pod_replacement_policy not in (None, "TerminatingOrFailed", "Failed"):
        errors.append((f"{path}.podReplacementPolicy", f"{spec.pod_replacement_policy!r}: supported values: Failed, TerminatingOrFailed"))
    selector = spec.selector or LabelSelector()
    errors.extend(validate_template(spec.template, selector, f"{path}.template", ("OnFailure", "Never")))
    return errors


def _snake(camel: str) -> str:
    return re.sub(r"([A-Z])", lambda m: "_" + m.group(1).lower(), camel)


@validator("Job")
def _validate_job(job: Any) -> FieldErrors:
    return _job_spec_errors(job.spec, "spec")


@validator("CronJob")
def _validate_cronjob(cj: Any) -> FieldErrors:
    errors: FieldErrors = []
    if not cj.spec.schedule.strip():
        errors.append(("spec.schedule", "required value"))
    if cj.spec.concurrency_policy not in ("Allow", "Forbid", "Replace"):
        errors.append(("spec.concurrencyPolicy", f"{cj.spec.concurrency_policy!r}: supported values: Allow, Forbid, Replace"))
    if cj.spec.starting_deadline_seconds is not None and cj.spec.starting_deadline_seconds < 0:
        errors.append(("spec.startingDeadlineSeconds", "must be greater than or equal to 0"))
    for name in ("successful_jobs_history_limit", "failed_jobs_history_limit"):
        if getattr(cj.spec, name) < 0:
            errors.append((f"spec.{_camel(name)}", "must be greater than or equal to 0"))
    if len(cj.metadata.name) > 52:
        errors.append(("metadata.name", "must be no more than 52 characters"))
    errors.extend(_job_spec_errors(cj.spec.job_template.spec, "spec.jobTemplate.spec"))
    return errors


def _camel(snake: str) -> str:
    head, *rest = snake.split("_")
    return head + "".join(p.title() for p in rest)


@validator("PersistentVolumeClaim")
def _validate_pvc(pvc: Any) -> FieldErrors:
    errors: FieldErrors = []
    if not pvc.spec.access_modes:
        errors.append(("spec.accessModes", "at least 1 access mode is required"))
    if "storage" not in pvc.spec.resources.requests:
        errors.append(("spec.resources.requests.storage", "required value"))
    return errors


@validator("PersistentVolume")
def _validate_pv(pv: Any) -> FieldErrors:
    errors: FieldErrors = []
    if "storage" not in pv.spec.capacity:
        errors.append(("spec.capacity.storage", "required value"))
    if not pv.spec.access_modes:
        errors.append(("spec.accessModes", "at least 1 access mode is required"))
    if pv.spec.persistent_volume_reclaim_policy not in ("Retain", "Delete", "Recycle"):
        errors.append(("spec.persistentVolumeReclaimPolicy", f"{pv.spec.persistent_volume_reclaim_policy!r}: supported values: Delete, Recycle, Retain"))
    return errors
