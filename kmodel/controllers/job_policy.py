"""Pod failure policy and success policy of Jobs
(pkg/controller/job/pod_failure_policy.go, success_policy.go).

Pod failure policy: the rules are tried in order against a failed pod; the first rule
whose onExitCodes (a terminated container with a non-zero exit code, regular containers
first, then init containers) or onPodConditions (type and status) match decides:
FailJob (the Job fails, counted), Ignore (not counted towards backoffLimit), Count, and
FailIndex (the index fails) — FailIndex only when the JobBackoffLimitPerIndex gate is on,
otherwise the rule is passed over. An unknown action or operator never matches.

Success policy (Indexed Jobs): the first rule whose succeededIndexes all succeeded (or at
least succeededCount of them), or, without succeededIndexes, whose succeededCount is
reached by the total succeeded indexes.
"""

from __future__ import annotations

from dataclasses import dataclass

from kmodel.controllers import job_indexes as ix
from kmodel.objects.batch import (
    PodFailurePolicy,
    PodFailurePolicyOnExitCodesRequirement,
    PodFailurePolicyOnPodConditionsPattern,
    SuccessPolicy,
)
from kmodel.objects.meta import Condition
from kmodel.objects.pod import ContainerStatus, Pod


@dataclass(frozen=True, slots=True)
class PolicyMatch:
    """matchPodFailurePolicy's result: the FailJob message, whether the failure counts, the action."""

    fail_job_message: str | None = None
    count_failed: bool = True
    action: str | None = None


NO_MATCH = PolicyMatch()


def _exit_code_matches(code: int, req: PodFailurePolicyOnExitCodesRequirement) -> bool:
    """isOnExitCodesOperatorMatching: In / NotIn; any other operator never matches."""
    if req.operator == "In":
        return code in req.values
    if req.operator == "NotIn":
        return code not in req.values
    return False


def _matching_container(statuses: tuple[ContainerStatus, ...], req: PodFailurePolicyOnExitCodesRequirement) -> ContainerStatus | None:
    """getMatchingContainerFromList: the first terminated, non-zero container matching the requirement."""
    for s in statuses:
        t = s.state.terminated
        if t is None:
            continue
        if req.container_name is not None and req.container_name != s.name:
            continue
        if t.exit_code != 0 and _exit_code_matches(t.exit_code, req):
            return s
    return None


def match_on_exit_codes(pod: Pod, req: PodFailurePolicyOnExitCodesRequirement) -> ContainerStatus | None:
    """matchOnExitCodes: regular containers first, then init containers."""
    return _matching_container(pod.status.container_statuses, req) or _matching_container(pod.status.init_container_statuses, req)


def match_on_pod_conditions(pod: Pod, patterns: tuple[PodFailurePolicyOnPodConditionsPattern, ...]) -> Condition | None:
    """matchOnPodConditions: the first pod condition equal in type and status to a pattern."""
    for c in pod.status.conditions:
        for p in patterns:
            if c.type == p.type and c.status == p.status:
                return c
    return None


def match_pod_failure_policy(policy: PodFailurePolicy | None, pod: Pod, fail_index_enabled: bool) -> PolicyMatch:
    """matchPodFailurePolicy for a failed pod."""
    if policy is None:
        return NO_MATCH
    ns, name = pod.metadata.namespace, pod.metadata.name
    for i, rule in enumerate(policy.rules):
        what: str | None = None
        if rule.on_exit_codes is not None:
            cs = match_on_exit_codes(pod, rule.on_exit_codes)
            if cs is None:
                continue
            assert cs.state.terminated is not None
            what = f"Container {cs.name} for pod {ns}/{name} failed with exit code {cs.state.terminated.exit_code} matching {rule.action} rule at index {i}"
        elif rule.on_pod_conditions:
            cond = match_on_pod_conditions(pod, rule.on_pod_conditions)
            if cond is None:
                continue
            what = f"Pod {ns}/{name} has condition {cond.type} matching {rule.action} rule at index {i}"
        else:
            continue
        if rule.action == "Ignore":
            return PolicyMatch(None, False, "Ignore")
        if rule.action == "FailIndex":
            if fail_index_enabled:
                return PolicyMatch(None, True, "FailIndex")
            continue  # the switch case ends without returning: the next rule is tried
        if rule.action == "Count":
            return PolicyMatch(None, True, "Count")
        if rule.action == "FailJob":
            return PolicyMatch(what, True, "FailJob")
    return NO_MATCH


def _succeeded_indexes_rule_matches(rule_indexes: ix.Intervals, succeeded: ix.Intervals, succeeded_count: int | None) -> bool:
    """matchSucceededIndexesRule: all rule indexes succeeded, or at least succeededCount of them."""
    contained = 0
    for r in rule_indexes:
        for s in succeeded:
            overlap = min(r.last, s.last) - max(r.first, s.first) + 1
            if overlap > 0:
                contained += overlap
    return contained == ix.total(rule_indexes) or (succeeded_count is not None and contained >= succeeded_count)


def match_success_policy(policy: SuccessPolicy | None, completions: int, succeeded: ix.Intervals) -> str | None:
    """matchSuccessPolicy: the message "Matched rules at index N" of the first matching rule, or None."""
    if policy is None or not succeeded:
        return None
    for i, rule in enumerate(policy.rules):
        if rule.succeeded_indexes is not None:
            required = ix.parse(rule.succeeded_indexes, completions)
            if not required:
                continue
            if _succeeded_indexes_rule_matches(required, succeeded, rule.succeeded_count):
                return f"Matched rules at index {i}"
        elif rule.succeeded_count is not None and ix.total(succeeded) >= rule.succeeded_count:
            return f"Matched rules at index {i}"
    return None
