"""Actions are values: what a user does, what the environment does to the cluster, how
time passes, and one action per reconcile of one object by one actor.

Every action is a frozen dataclass whose repr is valid Python, so a counterexample
printed by Hypothesis pastes into a test. User and environment actions know how to
perform themselves; system actions (controllers, scheduler, kubelet) are performed by
their actor through the API server (see kmodel.model).
"""

from __future__ import annotations

import json
from dataclasses import dataclass, replace
from typing import Any, ClassVar

from kmodel import apiserver
from kmodel.config import ModelConfig
from kmodel.frozen import EMPTY, FrozenDict, thaw
from kmodel.objects.kinds import KINDS
from kmodel.objects.meta import Condition, ObjRef
from kmodel.objects.node import Node
from kmodel.objects.pod import ContainerState, ContainerStateTerminated, Pod
from kmodel.state import ClusterState

SYSTEM, USER, FAULT, TIME, DELIVERY = "system", "user", "fault", "time", "delivery"


class Action:
    """Base of all actions."""

    category: ClassVar[str] = SYSTEM

    def describe(self) -> str:
        """A one-line human description."""
        return repr(self)


# ---- system actions -------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Reconcile(Action):
    """One sync of one object by one controller.

    The object's kind is implied by the controller, except for actors that handle
    objects of any kind (the garbage collector), which set `kind`.
    """

    controller: str
    namespace: str
    name: str
    kind: str = ""

    category: ClassVar[str] = SYSTEM

    @property
    def actor(self) -> str:
        """The actor that performs this action."""
        return self.controller

    def describe(self) -> str:  # noqa: D102
        where = f"{self.namespace}/{self.name}" if self.namespace else self.name
        if self.kind:
            where = f"{self.kind} {where}"
        return f"{self.controller} syncs {where}"


@dataclass(frozen=True, slots=True)
class Schedule(Action):
    """The scheduler binds a pending pod to one feasible node."""

    namespace: str
    pod: str
    node: str

    category: ClassVar[str] = SYSTEM
    actor: ClassVar[str] = "scheduler"

    def describe(self) -> str:  # noqa: D102
        return f"scheduler binds {self.namespace}/{self.pod} to {self.node}"


@dataclass(frozen=True, slots=True)
class Deliver(Action):
    """The API server applies the oldest request an actor still has in flight."""

    issuer: str

    category: ClassVar[str] = DELIVERY

    def describe(self) -> str:  # noqa: D102
        return f"API server applies the next request of {self.issuer}"


# ---- user and environment actions -------------------------------------------------


class Performed(Action):
    """An action that performs itself on the state (user, fault, time)."""

    def applicable(self, state: ClusterState) -> bool:
        """Whether the action makes sense in `state` (e.g. its target exists)."""
        return True

    def perform(self, state: ClusterState, config: ModelConfig) -> ClusterState:
        """The next state."""
        raise NotImplementedError


def _write(state: ClusterState, config: ModelConfig, *requests: apiserver.Request) -> ClusterState:
    tx = state.edit()
    for r in requests:
        apiserver.apply(tx, r, config)
    return tx.commit()


@dataclass(frozen=True, slots=True)
class Apply(Performed):
    """`kubectl apply`: create each object, or replace the spec, labels and annotations of an existing one."""

    objects: tuple[Any, ...]

    category: ClassVar[str] = USER

    def describe(self) -> str:  # noqa: D102
        return "apply " + ", ".join(str(o.ref) for o in self.objects)

    def perform(self, state: ClusterState, config: ModelConfig) -> ClusterState:  # noqa: D102
        tx = state.edit()
        for obj in self.objects:
            cur = tx.get(obj.kind, obj.metadata.namespace, obj.metadata.name) if obj.metadata.name else None
            if cur is None:
                apiserver.apply(tx, apiserver.Create(obj), config)
                continue
            meta = replace(
                cur.metadata,
                labels=obj.metadata.labels,
                annotations=obj.metadata.annotations,
                owner_references=obj.metadata.owner_references or cur.metadata.owner_references,
                finalizers=obj.metadata.finalizers or cur.metadata.finalizers,
            )
            if hasattr(obj, "spec"):
                new = replace(cur, metadata=meta, spec=obj.spec)
            elif hasattr(obj, "body"):
                new = replace(cur, metadata=meta, body=obj.body)
            else:
                new = replace(cur, metadata=meta)
            apiserver.apply(tx, apiserver.Update(new, check_rv=False), config)
        return tx.commit()


@dataclass(frozen=True, slots=True)
class Scale(Performed):
    """`kubectl scale`: set spec.replicas through the scale subresource."""

    kind: str
    namespace: str
    name: str
    replicas: int

    category: ClassVar[str] = USER

    def describe(self) -> str:  # noqa: D102
        return f"scale {self.kind} {self.namespace}/{self.name} to {self.replicas}"

    def applicable(self, state: ClusterState) -> bool:  # noqa: D102
        obj = state.get(self.kind, self.namespace, self.name)
        return obj is not None and hasattr(obj, "spec") and hasattr(obj.spec, "replicas")

    def perform(self, state: ClusterState, config: ModelConfig) -> ClusterState:  # noqa: D102
        obj = state.get(self.kind, self.namespace, self.name)
        if obj is None or not hasattr(obj.spec, "replicas"):
            return state
        new = replace(obj, spec=replace(obj.spec, replicas=self.replicas))
        return _write(state, config, apiserver.Update(new, check_rv=False))


@dataclass(frozen=True, slots=True)
class SetImage(Performed):
    """`kubectl set image`: change a container image in a workload's pod template."""

    kind: str
    namespace: str
    name: str
    image: str
    container: str = ""

    category: ClassVar[str] = USER

    def describe(self) -> str:  # noqa: D102
        return f"set image of {self.kind} {self.namespace}/{self.name} to {self.image}"

    def applicable(self, state: ClusterState) -> bool:  # noqa: D102
        obj = state.get(self.kind, self.namespace, self.name)
        return obj is not None and hasattr(getattr(obj, "spec", None), "template")

    def perform(self, state: ClusterState, config: ModelConfig) -> ClusterState:  # noqa: D102
        obj = state.get(self.kind, self.namespace, self.name)
        if obj is None or not hasattr(obj.spec, "template"):
            return state
        tpl = obj.spec.template
        containers = tuple(replace(c, image=self.image) if (not self.container or c.name == self.container) else c for c in tpl.spec.containers)
        tpl = replace(tpl, spec=replace(tpl.spec, containers=containers))
        new = replace(obj, spec=replace(obj.spec, template=tpl))
        return _write(state, config, apiserver.Update(new, check_rv=False))


@dataclass(frozen=True, slots=True)
class Patch(Performed):
    """`kubectl patch --type merge`: a JSON merge patch (RFC 7386) of an object."""

    kind: str
    namespace: str
    name: str
    patch: FrozenDict[str, Any] = EMPTY

    category: ClassVar[str] = USER

    def describe(self) -> str:  # noqa: D102
        return f"patch {self.kind} {self.namespace}/{self.name} with {json.dumps(thaw(self.patch), sort_keys=True)}"

    def applicable(self, state: ClusterState) -> bool:  # noqa: D102
        return state.get(self.kind, self.namespace, self.name) is not None

    def perform(self, state: ClusterState, config: ModelConfig) -> ClusterState:  # noqa: D102
        from kmodel.objects.serde import decode_object, encode_object

        obj = state.get(self.kind, self.namespace, self.name)
        if obj is None:
            return state
        merged = merge_patch(encode_object(obj, config.epoch), thaw(self.patch))
        decoded, _ = decode_object(merged, "patch", epoch=config.epoch)
        new: Any = decoded
        if hasattr(new, "status"):
            new = replace(new, status=obj.status)
        return _write(state, config, apiserver.Update(new, check_rv=False))


def merge_patch(target: Any, patch: Any) -> Any:
    """RFC 7386 JSON merge patch."""
    if not isinstance(patch, dict):
        return patch
    out = dict(target) if isinstance(target, dict) else {}
    for k, v in patch.items():
        if v is None:
            out.pop(k, None)
        else:
            out[k] = merge_patch(out.get(k), v)
    return out


@dataclass(frozen=True, slots=True)
class DeleteObject(Performed):
    """`kubectl delete` of one object with a propagation policy (None: the kind's API default)
    and an optional grace period (0 with force is a force deletion)."""

    kind: str
    namespace: str
    name: str
    propagation: str | None = None
    grace_period: int | None = None

    category: ClassVar[str] = USER

    def describe(self) -> str:  # noqa: D102
        policy = self.propagation or f"default ({KINDS[self.kind].default_propagation if self.kind in KINDS else '?'})"
        grace = "" if self.grace_period is None else f", grace {self.grace_period}s"
        return f"delete {self.kind} {self.namespace}/{self.name} (propagation {policy}{grace})"

    def applicable(self, state: ClusterState) -> bool:  # noqa: D102
        return state.get(self.kind, self.namespace, self.name) is not None

    def perform(self, state: ClusterState, config: ModelConfig) -> ClusterState:  # noqa: D102
        ref = ObjRef(self.kind, self.namespace, self.name)
        return _write(state, config, apiserver.Delete(ref, propagation=self.propagation, grace_period=self.grace_period))


@dataclass(frozen=True, slots=True)
class Cordon(Performed):
    """`kubectl cordon` (unschedulable=True) or `kubectl uncordon` (False)."""

    node: str
    unschedulable: bool = True

    category: ClassVar[str] = USER

    def describe(self) -> str:  # noqa: D102
        return f"{'cordon' if self.unschedulable else 'uncordon'} {self.node}"

    def applicable(self, state: ClusterState) -> bool:  # noqa: D102
        n = state.get("Node", "", self.node)
        return n is not None and n.spec.unschedulable != self.unschedulable

    def perform(self, state: ClusterState, config: ModelConfig) -> ClusterState:  # noqa: D102
        n = state.get("Node", "", self.node)
        if n is None:
            return state
        new = replace(n, spec=replace(n.spec, unschedulable=self.unschedulable))
        return _write(state, config, apiserver.Update(new, check_rv=False))


@dataclass(frozen=True, slots=True)
class LabelNode(Performed):
    """`kubectl label node`: set labels (a None value removes the label)."""

    node: str
    labels: FrozenDict[str, str | None] = EMPTY

    category: ClassVar[str] = USER

    def describe(self) -> str:  # noqa: D102
        parts = [f"{k}-" if v is None else f"{k}={v}" for k, v in sorted(self.labels.items())]
        return f"label node {self.node} {' '.join(parts)}"

    def applicable(self, state: ClusterState) -> bool:  # noqa: D102
        n = state.get("Node", "", self.node)
        return n is not None and any(n.metadata.labels.get(k) != v for k, v in self.labels.items())

    def perform(self, state: ClusterState, config: ModelConfig) -> ClusterState:  # noqa: D102
        n = state.get("Node", "", self.node)
        if n is None:
            return state
        labels = dict(n.metadata.labels)
        for k, v in self.labels.items():
            if v is None:
                labels.pop(k, None)
            else:
                labels[k] = v
        new = replace(n, metadata=replace(n.metadata, labels=FrozenDict(labels)))
        return _write(state, config, apiserver.Update(new, check_rv=False))


@dataclass(frozen=True, slots=True)
class TaintNode(Performed):
    """`kubectl taint node`: add (or with `remove`, delete) the taint key[=value]:effect.

    The API server leaves timeAdded unset for taints users add; the taint manager starts
    counting tolerationSeconds when it observes the taint. The model stamps timeAdded
    with the current time to stand for that observation.
    """

    node: str
    key: str
    effect: str
    value: str = ""
    remove: bool = False

    category: ClassVar[str] = USER

    def describe(self) -> str:  # noqa: D102
        kv = f"{self.key}={self.value}" if self.value else self.key
        return f"taint node {self.node} {kv}:{self.effect}{'-' if self.remove else ''}"

    def applicable(self, state: ClusterState) -> bool:  # noqa: D102
        n = state.get("Node", "", self.node)
        if n is None:
            return False
        present = any(t.key == self.key and t.effect == self.effect for t in n.spec.taints)
        return present if self.remove else not any(t.key == self.key and t.effect == self.effect and t.value == self.value for t in n.spec.taints)

    def perform(self, state: ClusterState, config: ModelConfig) -> ClusterState:  # noqa: D102
        from kmodel.objects.selectors import Taint

        n = state.get("Node", "", self.node)
        if n is None:
            return state
        taints = [t for t in n.spec.taints if not (t.key == self.key and t.effect == self.effect)]
        if not self.remove:
            taints.append(Taint(key=self.key, value=self.value, effect=self.effect, time_added=state.clock if self.effect == "NoExecute" else None))
        new = replace(n, spec=replace(n.spec, taints=tuple(taints)))
        return _write(state, config, apiserver.Update(new, check_rv=False))


@dataclass(frozen=True, slots=True)
class FailNode(Performed):
    """The node's kubelet stops heart-beating (crash or network partition)."""

    node: str

    category: ClassVar[str] = FAULT

    def describe(self) -> str:  # noqa: D102
        return f"node {self.node} fails"

    def applicable(self, state: ClusterState) -> bool:  # noqa: D102
        return state.get("Node", "", self.node) is not None and self.node not in state.env.down_nodes

    def perform(self, state: ClusterState, config: ModelConfig) -> ClusterState:  # noqa: D102
        tx = state.edit()
        env = state.env
        tx.set_env(replace(env, down_nodes=env.down_nodes.set(self.node, state.clock), faults=env.faults + 1))
        return tx.commit()


@dataclass(frozen=True, slots=True)
class RecoverNode(Performed):
    """A failed node's kubelet comes back and resumes heart-beating."""

    node: str

    category: ClassVar[str] = FAULT

    def describe(self) -> str:  # noqa: D102
        return f"node {self.node} recovers"

    def applicable(self, state: ClusterState) -> bool:  # noqa: D102
        return self.node in state.env.down_nodes

    def perform(self, state: ClusterState, config: ModelConfig) -> ClusterState:  # noqa: D102
        tx = state.edit()
        tx.set_env(replace(state.env, down_nodes=state.env.down_nodes.without(self.node)))
        return tx.commit()


@dataclass(frozen=True, slots=True)
class AddNode(Performed):
    """A new node registers (its kubelet creates the Node object, Ready)."""

    node: Node

    category: ClassVar[str] = FAULT

    def describe(self) -> str:  # noqa: D102
        return f"node {self.node.name} is added"

    def applicable(self, state: ClusterState) -> bool:  # noqa: D102
        return state.get("Node", "", self.node.name) is None

    def perform(self, state: ClusterState, config: ModelConfig) -> ClusterState:  # noqa: D102
        node = ready_node(self.node, state.clock)
        tx = state.edit()
        apiserver.apply(tx, apiserver.Create(node), config)
        env = tx.env
        tx.set_env(replace(env, removed_nodes=env.removed_nodes.without(node.name), down_nodes=env.down_nodes.without(node.name)))
        return tx.commit()


def ready_node(node: Node, now: int) -> Node:
    """The node as its kubelet first reports it: Ready=True with a fresh heartbeat."""
    from kmodel.objects.meta import set_condition

    conds = set_condition(
        node.status.conditions,
        Condition("Ready", "True", reason="KubeletReady", message="kubelet is posting ready status", last_heartbeat_time=now, last_transition_time=now),
        now,
        keep_transition_time=False,
    )
    return replace(node, status=replace(node.status, conditions=conds))


@dataclass(frozen=True, slots=True)
class RemoveNode(Performed):
    """The Node object is deleted (the machine is gone for good)."""

    node: str

    category: ClassVar[str] = FAULT

    def describe(self) -> str:  # noqa: D102
        return f"node {self.node} is removed"

    def applicable(self, state: ClusterState) -> bool:  # noqa: D102
        return state.get("Node", "", self.node) is not None

    def perform(self, state: ClusterState, config: ModelConfig) -> ClusterState:  # noqa: D102
        tx = state.edit()
        apiserver.apply(tx, apiserver.Delete(ObjRef("Node", "", self.node)), config)
        env = tx.env
        tx.set_env(
            replace(env, removed_nodes=env.removed_nodes.set(self.node, state.clock), down_nodes=env.down_nodes.without(self.node), faults=env.faults + 1)
        )
        return tx.commit()


@dataclass(frozen=True, slots=True)
class ExitContainer(Performed):
    """A running container of a pod exits with `exit_code` (the kubelet records it)."""

    namespace: str
    pod: str
    container: str
    exit_code: int = 1

    category: ClassVar[str] = FAULT

    def describe(self) -> str:  # noqa: D102
        return f"container {self.container} of {self.namespace}/{self.pod} exits with code {self.exit_code}"

    def applicable(self, state: ClusterState) -> bool:  # noqa: D102
        pod = state.get("Pod", self.namespace, self.pod)
        if pod is None or pod.spec.node_name in state.env.down_nodes or not pod.spec.node_name:
            return False
        return any(cs.name == self.container and cs.state.running is not None for cs in pod.status.container_statuses + pod.status.init_container_statuses)

    def perform(self, state: ClusterState, config: ModelConfig) -> ClusterState:  # noqa: D102
        pod: Pod | None = state.get("Pod", self.namespace, self.pod)
        if pod is None or not self.applicable(state):
            return state
        from kmodel.kubelet import record_container_exit

        new = record_container_exit(pod, self.container, self.exit_code, state.clock)
        tx = state.edit()
        apiserver.apply(tx, apiserver.Update(new, status=True, check_rv=False), config)
        tx.set_env(replace(tx.env, exits=tx.env.exits + 1))
        return tx.commit()


@dataclass(frozen=True, slots=True)
class Tick(Performed):
    """The model clock advances by `seconds`."""

    seconds: int

    category: ClassVar[str] = TIME

    def describe(self) -> str:  # noqa: D102
        return f"{self.seconds}s pass"

    def applicable(self, state: ClusterState) -> bool:  # noqa: D102
        return self.seconds > 0

    def perform(self, state: ClusterState, config: ModelConfig) -> ClusterState:  # noqa: D102
        tx = state.edit()
        tx.set_clock(state.clock + self.seconds)
        return tx.commit()


def terminated(exit_code: int, now: int, started: int | None = None) -> ContainerState:
    """A terminated container state."""
    return ContainerState(
        terminated=ContainerStateTerminated(exit_code=exit_code, reason="Completed" if exit_code == 0 else "Error", started_at=started, finished_at=now)
    )
