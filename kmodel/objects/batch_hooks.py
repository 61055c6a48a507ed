"""The Job registry strategy's create-time steps that need the assigned uid
(pkg/registry/batch/job/strategy.go), registered in `apiserver.CREATE_HOOKS`.

* generateSelector (strategy.go Validate → generateSelector), unless
  spec.manualSelector is true: the pod template gets the labels `job-name` and
  `batch.kubernetes.io/job-name` (the Job's name) and `controller-uid` and
  `batch.kubernetes.io/controller-uid` (the Job's uid), each only if absent — the
  legacy unprefixed labels are still added in v1.28 and later (strategy.go
  jobNameLabels / controllerUidLabels); the selector gets matchLabels
  `batch.kubernetes.io/controller-uid=<uid>` if absent.
* podReplacementPolicy defaulting (pkg/apis/batch/v1/defaults.go SetDefaults_Job, under
  the JobPodReplacementPolicy gate): Failed when a podFailurePolicy is set, else
  TerminatingOrFailed.

Deviation: the hook does not know the modelled release, so the podReplacementPolicy
default is applied in every release. In v1.28 the gate is alpha and off, so the real
API server drops the field (PrepareForCreate) and the stored Job has none; the v1.28
Job controller ignores the field in that release (job.py `_only_replace_failed`), so
only the stored object differs, never the behaviour.
"""

from __future__ import annotations

from dataclasses import replace

from kmodel.frozen import FrozenDict
from kmodel.objects.batch import Job
from kmodel.objects.selectors import LabelSelector

CONTROLLER_UID_LABEL = "batch.kubernetes.io/controller-uid"
JOB_NAME_LABEL = "batch.kubernetes.io/job-name"
LEGACY_CONTROLLER_UID_LABEL = "controller-uid"
LEGACY_JOB_NAME_LABEL = "job-name"


def generate_selector(job: Job) -> Job:
    """strategy.go generateSelector: the uid-based selector and the template labels."""
    labels = dict(job.spec.template.metadata.labels)
    for key in (LEGACY_JOB_NAME_LABEL, JOB_NAME_LABEL):
        labels.setdefault(key, job.metadata.name)
    for key in (LEGACY_CONTROLLER_UID_LABEL, CONTROLLER_UID_LABEL):
        labels.setdefault(key, job.metadata.uid)
    selector = job.spec.selector or LabelSelector()
    if CONTROLLER_UID_LABEL not in selector.match_labels:
        selector = replace(selector, match_labels=selector.match_labels.set(CONTROLLER_UID_LABEL, job.metadata.uid))
    tpl = job.spec.template
    tpl = replace(tpl, metadata=replace(tpl.metadata, labels=FrozenDict(labels)))
    return replace(job, spec=replace(job.spec, template=tpl, selector=selector))


def default_pod_replacement_policy(job: Job) -> Job:
    """SetDefaults_Job (JobPodReplacementPolicy): Failed with a podFailurePolicy, else TerminatingOrFailed."""
    if job.spec.pod_replacement_policy is not None:
        return job
    policy = "Failed" if job.spec.pod_failure_policy is not None else "TerminatingOrFailed"
    return replace(job, spec=replace(job.spec, pod_replacement_policy=policy))


def prepare_job_for_create(job: Job) -> Job:
    """The create-time steps of the Job strategy, run once the uid is assigned."""
    if not job.spec.manual_selector:
        job = generate_selector(job)
    return default_pod_replacement_policy(job)


def _register() -> None:
    from kmodel.apiserver import CREATE_HOOKS

    CREATE_HOOKS["Job"] = prepare_job_for_create


_register()
