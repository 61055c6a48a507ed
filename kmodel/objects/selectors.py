"""Label selectors, node selectors, taints and tolerations, with their matching rules.

Sources: k8s.io/apimachinery/pkg/apis/meta/v1/helpers.go (LabelSelectorAsSelector),
k8s.io/component-helpers/scheduling/corev1/nodeaffinity (node selector terms),
k8s.io/api/core/v1/toleration.go (ToleratesTaint).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import ClassVar

from kmodel.frozen import EMPTY, FrozenDict

# Operators of label selector requirements (meta/v1 LabelSelectorOperator).
LABEL_OPERATORS = frozenset({"In", "NotIn", "Exists", "DoesNotExist"})
# Operators of node selector requirements (core/v1 NodeSelectorOperator).
NODE_OPERATORS = frozenset({"In", "NotIn", "Exists", "DoesNotExist", "Gt", "Lt"})
TAINT_EFFECTS = frozenset({"NoSchedule", "PreferNoSchedule", "NoExecute"})
_GO_INT = re.compile(r"[+-]?[0-9]+")


@dataclass(frozen=True, slots=True)
class LabelSelectorRequirement:
    """One matchExpressions entry of a label selector."""

    key: str
    operator: str
    values: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class LabelSelector:
    """A set-based label selector (meta/v1 LabelSelector)."""

    match_labels: FrozenDict[str, str] = EMPTY
    match_expressions: tuple[LabelSelectorRequirement, ...] = ()

    @property
    def empty(self) -> bool:
        """An empty selector selects everything (and is rejected for apps/v1 workloads)."""
        return not self.match_labels and not self.match_expressions

    def matches(self, labels: Mapping[str, str]) -> bool:
        """Whether `labels` satisfy every matchLabels entry and every expression."""
        for k, v in self.match_labels.items():
            if labels.get(k) != v:
                return False
        for req in self.match_expressions:
            if not _label_requirement_matches(req, labels):
                return False
        return True


def _label_requirement_matches(req: LabelSelectorRequirement, labels: Mapping[str, str]) -> bool:
    present = req.key in labels
    op = req.operator
    if op == "In":
        return present and labels[req.key] in req.values
    if op == "NotIn":
        return not present or labels[req.key] not in req.values
    if op == "Exists":
        return present
    if op == "DoesNotExist":
        return not present
    return False


def selector_from_map(labels: Mapping[str, str]) -> LabelSelector:
    """The set-based equivalent of an equality selector (ReplicationController spec.selector)."""
    return LabelSelector(match_labels=FrozenDict(labels))


@dataclass(frozen=True, slots=True)
class NodeSelectorRequirement:
    """One matchExpressions/matchFields entry of a node selector term."""

    key: str
    operator: str
    values: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class NodeSelectorTerm:
    """A node selector term: AND over its expressions and fields."""

    match_expressions: tuple[NodeSelectorRequirement, ...] = ()
    match_fields: tuple[NodeSelectorRequirement, ...] = ()

    def matches(self, node_name: str, labels: Mapping[str, str]) -> bool:
        """Whether a node satisfies the whole term; a term with no requirements matches nothing.

        (component-helpers nodeaffinity: an empty term "matches no objects".)
        """
        if not self.match_expressions and not self.match_fields:
            return False
        for req in self.match_expressions:
            if not _node_requirement_matches(req, labels.get(req.key), req.key in labels):
                return False
        for req in self.match_fields:
            # Only metadata.name is a supported field selector (validation rejects others).
            value = node_name if req.key == "metadata.name" else None
            if not _node_requirement_matches(req, value, value is not None):
                return False
        return True


def _node_requirement_matches(req: NodeSelectorRequirement, value: str | None, present: bool) -> bool:
    op = req.operator
    if op == "In":
        return present and value in req.values
    if op == "NotIn":
        return not present or value not in req.values
    if op == "Exists":
        return present
    if op == "DoesNotExist":
        return not present
    if op in ("Gt", "Lt"):
        if not present or value is None or len(req.values) != 1:
            return False
        # labels.Requirement.Matches: both sides parsed with strconv.ParseInt(v, 10, 64),
        # which takes an optional sign and decimal digits only (Python's int() would also
        # take "1_0" or " 5").
        if not (_GO_INT.fullmatch(value) and _GO_INT.fullmatch(req.values[0])):
            return False
        have, want = int(value), int(req.values[0])
        if not (-(2**63) <= have < 2**63 and -(2**63) <= want < 2**63):
            return False
        return have > want if op == "Gt" else have < want
    return False


@dataclass(frozen=True, slots=True)
class NodeSelector:
    """requiredDuringSchedulingIgnoredDuringExecution: OR over its terms."""

    node_selector_terms: tuple[NodeSelectorTerm, ...] = ()

    def matches(self, node_name: str, labels: Mapping[str, str]) -> bool:
        """Whether any term matches; an empty term list matches nothing."""
        return any(t.matches(node_name, labels) for t in self.node_selector_terms)


@dataclass(frozen=True, slots=True)
class NodeAffinity:
    """Node affinity: the required selector is modelled; preferences are carried."""

    required_during_scheduling_ignored_during_execution: NodeSelector | None = None
    extra: FrozenDict[str, object] = field(default=EMPTY, metadata={"kind": "extra"})

    INERT: ClassVar[frozenset[str]] = frozenset({"preferredDuringSchedulingIgnoredDuringExecution"})


@dataclass(frozen=True, slots=True)
class PodAffinityTerm:
    """A required inter-pod (anti-)affinity term."""

    topology_key: str
    label_selector: LabelSelector | None = None
    namespaces: tuple[str, ...] = ()
    extra: FrozenDict[str, object] = field(default=EMPTY, metadata={"kind": "extra"})

    INERT: ClassVar[frozenset[str]] = frozenset({"namespaceSelector", "matchLabelKeys", "mismatchLabelKeys"})


@dataclass(frozen=True, slots=True)
class PodAffinity:
    """Required pod affinity or anti-affinity terms; preferred terms are carried."""

    required_during_scheduling_ignored_during_execution: tuple[PodAffinityTerm, ...] = ()
    extra: FrozenDict[str, object] = field(default=EMPTY, metadata={"kind": "extra"})

    INERT: ClassVar[frozenset[str]] = frozenset({"preferredDuringSchedulingIgnoredDuringExecution"})


@dataclass(frozen=True, slots=True)
class Affinity:
    """spec.affinity of a pod."""

    node_affinity: NodeAffinity | None = None
    pod_affinity: PodAffinity | None = None
    pod_anti_affinity: PodAffinity | None = None


@dataclass(frozen=True, slots=True)
class Taint:
    """A node taint (core/v1 Taint); timeAdded is set for NoExecute taints."""

    key: str
    effect: str
    value: str = ""
    time_added: int | None = field(default=None, metadata={"kind": "time"})


@dataclass(frozen=True, slots=True)
class Toleration:
    """A pod toleration (core/v1 Toleration)."""

    key: str = ""
    operator: str = "Equal"
    value: str = ""
    effect: str = ""
    toleration_seconds: int | None = None

    def tolerates(self, taint: Taint) -> bool:
        """core/v1 Toleration.ToleratesTaint: effect, key and (for Equal) value must match.

        An empty effect matches every effect; an empty key (only valid with Exists)
        matches every key; Exists ignores the value.
        """
        if self.effect and self.effect != taint.effect:
            return False
        if self.key and self.key != taint.key:
            return False
        if self.operator == "Exists":
            return True
        return self.value == taint.value


def tolerates_taint(tolerations: Iterable[Toleration], taint: Taint) -> bool:
    """Whether some toleration tolerates `taint`."""
    return any(t.tolerates(taint) for t in tolerations)


def untolerated_taints(taints: Iterable[Taint], tolerations: tuple[Toleration, ...], effects: frozenset[str]) -> list[Taint]:
    """The taints with one of `effects` that no toleration tolerates."""
    return [t for t in taints if t.effect in effects and not tolerates_taint(tolerations, t)]


@dataclass(frozen=True, slots=True)
class TopologySpreadConstraint:
    """A pod topology spread constraint."""

    max_skew: int
    topology_key: str
    when_unsatisfiable: str
    label_selector: LabelSelector | None = None
    min_domains: int | None = None
    extra: FrozenDict[str, object] = field(default=EMPTY, metadata={"kind": "extra"})

    INERT: ClassVar[frozenset[str]] = frozenset({"nodeAffinityPolicy", "nodeTaintsPolicy", "matchLabelKeys"})
