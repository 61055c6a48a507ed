"""Scenarios: a documented, deterministic list of steps run against the model.

A scenario file is YAML:

    name: rollout
    kubernetesVersion: "1.34"        # optional; "1.28" selects the older behaviour
    delivery: atomic                 # optional; "async" keeps requests in flight
    epoch: "2024-01-01T00:00:00Z"    # optional; model time 0
    steps:
      - addNode: {name: n1, cpu: "4", memory: 8Gi, pods: 110, labels: {zone: a}}
      - apply: web.yaml              # a path (relative to the scenario), or inline objects
      - settle: {}                   # run every controller to a fixpoint
      - setImage: {kind: Deployment, name: web, image: "nginx:1.26"}
      - scale: {kind: Deployment, name: web, replicas: 5}
      - delete: {kind: Deployment, name: web, propagationPolicy: Foreground}
      - cordon: n1                   # uncordon: n1
      - labelNode: {node: n1, labels: {disktype: ssd, old: null}}   # null removes
      - taintNode: {node: n1, key: dedicated, value: gpu, effect: NoExecute}   # remove: true
      - failNode: n1                 # recoverNode, removeNode
      - exitContainer: {pod: web-abcde, container: web, exitCode: 1}
      - advance: 5m                  # the clock moves (seconds, or 30s / 5m / 1h)
      - reconcile: {controller: replicaset, name: web-5d4f8}   # one controller step
      - schedule: {pod: web-abcde, node: n2}                   # one scheduler binding
      - expect:                      # assertions on the current state
          - {kind: Deployment, name: web, path: status.availableReplicas, equals: 5}
          - {kind: Pod, selector: {app: web}, count: 5, where: {status.phase: Running}}
          - {kind: ReplicaSet, name: old, exists: false}
          - {invariants: hold}
    explore:                         # what `kmodel explore` may do from the final state
      faults: [fail, recover, exit]
      maxFaults: 1

Namespaces default to "default". Every step is deterministic: the same scenario gives
the same states, names and uids every time.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

import yaml

from kmodel.actions import (
    Action,
    AddNode,
    Apply,
    Cordon,
    DeleteObject,
    Deliver,
    ExitContainer,
    FailNode,
    LabelNode,
    Patch,
    Reconcile,
    RecoverNode,
    RemoveNode,
    Scale,
    Schedule,
    SetImage,
    TaintNode,
    Tick,
)
from kmodel.config import ModelConfig
from kmodel.errors import KModelError, ManifestError, ScenarioError
from kmodel.frozen import FrozenDict, freeze, thaw
from kmodel.manifests import load_file, load_objects, parse_documents
from kmodel.objects.meta import ObjectMeta
from kmodel.objects.node import Node, NodeSpec, NodeStatus
from kmodel.objects.selectors import Taint
from kmodel.objects.serde import encode_object
from kmodel.quantity import QuantityError, to_model_units
from kmodel.timefmt import parse_rfc3339

_DURATION = re.compile(r"^(\d+)(s|m|h)?$")
_UNITS = {"s": 1, "m": 60, "h": 3600, None: 1}


@dataclass(frozen=True)
class SettleStep:
    """Run every actor to a fixpoint (optionally not beyond `horizon` seconds of model time)."""

    horizon: int | None = None
    max_steps: int = 20000


@dataclass(frozen=True)
class ExpectStep:
    """Assertions about the current state."""

    expectations: tuple[dict[str, Any], ...]
    line: str = ""


Step = Action | SettleStep | ExpectStep


@dataclass
class ExploreSettings:
    """What `kmodel explore` may do from the scenario's final state.

    For the Hypothesis engine: the fault kinds, the fault budget, whether random user
    actions are drawn. For the exhaustive engine (`--exhaustive`) the scope is exact:
    the `script` of user actions happens in order, interleaved with everything else;
    faults are bounded by `maxFaults` (node failures/removals) and `maxExits`
    (container exits, with `exitCodes`); time advances to the next timer up to
    `horizon` seconds after the scenario's end; `maxDepth` and `maxStates` bound the
    search.
    """

    faults: tuple[str, ...] = ("fail", "recover", "remove", "add", "exit")
    max_faults: int = 2
    user_actions: bool = True
    invariants: tuple[str, ...] | None = None
    script: tuple[Any, ...] = ()
    max_exits: int = 0
    exit_codes: tuple[int, ...] = (1,)
    horizon: int | None = None
    max_depth: int | None = None
    max_states: int | None = 100_000
    add_nodes: tuple[Any, ...] = ()


@dataclass
class Scenario:
    """A parsed scenario."""

    name: str
    steps: list[Step]
    config: ModelConfig = field(default_factory=ModelConfig)
    description: str = ""
    explore: ExploreSettings = field(default_factory=ExploreSettings)
    source: str = "<scenario>"


def parse_duration(value: Any, where: str) -> int:
    """Seconds from an integer or a string like '30s', '5m', '1h'."""
    if isinstance(value, bool):
        raise ScenarioError(f"{where}: expected a duration such as 300, '30s' or '5m', got {value!r}")
    if isinstance(value, int):
        if value < 0:
            raise ScenarioError(f"{where}: a duration cannot be negative")
        return value
    m = _DURATION.match(str(value).strip())
    if not m:
        raise ScenarioError(f"{where}: expected a duration such as 300, '30s' or '5m', got {value!r}")
    return int(m.group(1)) * _UNITS[m.group(2)]


def _need(d: Any, key: str, where: str, typ: type | tuple[type, ...] = str) -> Any:
    if not isinstance(d, dict):
        raise ScenarioError(f"{where}: expected a mapping")
    if key not in d:
        raise ScenarioError(f"{where}: missing field {key!r}")
    v = d[key]
    if not isinstance(v, typ) or isinstance(v, bool) and typ is not bool:
        raise ScenarioError(f"{where}.{key}: expected {getattr(typ, '__name__', typ)}, got {v!r}")
    return v


def node_from_shorthand(d: dict[str, Any], where: str) -> Node:
    """A Node from {name, cpu, memory, pods, labels, taints, unschedulable}."""
    name = _need(d, "name", where)
    alloc: dict[str, int] = {}
    for res, default in (("cpu", "4"), ("memory", "8Gi"), ("pods", 110)):
        try:
            alloc[res] = to_model_units(res, d.get(res, default))
        except QuantityError as e:
            raise ScenarioError(f"{where}.{res}: {e}") from None
    for res, q in (d.get("resources") or {}).items():
        alloc[res] = to_model_units(res, q)
    labels = {"kubernetes.io/hostname": name, **{str(k): str(v) for k, v in (d.get("labels") or {}).items()}}
    taints = []
    for i, t in enumerate(d.get("taints") or []):
        if not isinstance(t, dict) or "key" not in t or t.get("effect") not in ("NoSchedule", "PreferNoSchedule", "NoExecute"):
            raise ScenarioError(f"{where}.taints[{i}]: expected {{key, value?, effect: NoSchedule|PreferNoSchedule|NoExecute}}")
        taints.append(Taint(key=t["key"], value=str(t.get("value", "")), effect=t["effect"]))
    a: FrozenDict[str, int] = FrozenDict(alloc)
    return Node(
        metadata=ObjectMeta(name=name, labels=FrozenDict(labels)),
        spec=NodeSpec(unschedulable=bool(d.get("unschedulable", False)), taints=tuple(taints)),
        status=NodeStatus(capacity=a, allocatable=a),
    )


class _Parser:
    def __init__(self, base: Path, config: ModelConfig, source: str) -> None:
        self.base = base
        self.config = config
        self.source = source

    def objects(self, value: Any, where: str) -> tuple[Any, ...]:
        if isinstance(value, str):
            path = (self.base / value) if not Path(value).is_absolute() else Path(value)
            return tuple(load_file(path, epoch=self.config.epoch).objects)
        if isinstance(value, dict) and set(value) == {"path"}:
            return self.objects(value["path"], where)
        return tuple(load_objects(value, f"{self.source} ({where})", epoch=self.config.epoch).objects)

    def step(self, raw: Any, i: int) -> Step:
        where = f"{self.source}: steps[{i}]"
        if not isinstance(raw, dict) or len(raw) != 1:
            raise ScenarioError(f"{where}: each step is a mapping with exactly one key (e.g. 'apply', 'settle')")
        ((key, v),) = raw.items()
        where = f"{where}.{key}"
        handler: Callable[[Any, str], Step] | None = getattr(self, f"_step_{key}", None)
        if handler is None:
            known = sorted(n[len("_step_") :] for n in dir(self) if n.startswith("_step_"))
            raise ScenarioError(f"{where}: unknown step {key!r}; known steps: {', '.join(known)}")
        return handler(v, where)

    def _step_apply(self, v: Any, where: str) -> Step:
        return Apply(self.objects(v, where))

    def _step_addNode(self, v: Any, where: str) -> Step:
        if isinstance(v, dict) and "kind" in v:
            (node,) = load_objects(v, where, epoch=self.config.epoch).objects
            return AddNode(node)  # type: ignore[arg-type]
        return AddNode(node_from_shorthand(v, where))

    def _ref(self, v: Any, where: str) -> tuple[str, str, str]:
        return _need(v, "kind", where), str(v.get("namespace", "default")), _need(v, "name", where)

    def _step_scale(self, v: Any, where: str) -> Step:
        kind, ns, name = self._ref(v, where)
        return Scale(kind, ns, name, _need(v, "replicas", where, int))

    def _step_setImage(self, v: Any, where: str) -> Step:
        kind, ns, name = self._ref(v, where)
        return SetImage(kind, ns, name, _need(v, "image", where), str(v.get("container", "")))

    def _step_patch(self, v: Any, where: str) -> Step:
        kind, ns, name = self._ref(v, where)
        return Patch(kind, ns, name, freeze(_need(v, "patch", where, dict)))

    def _step_delete(self, v: Any, where: str) -> Step:
        kind, ns, name = self._ref(v, where)
        policy = v.get("propagationPolicy")
        if policy is not None and policy not in ("Orphan", "Background", "Foreground"):
            raise ScenarioError(f"{where}.propagationPolicy: {policy!r} is not one of Orphan, Background, Foreground")
        grace = v.get("gracePeriodSeconds")
        if v.get("force"):
            grace = 0
        if grace is not None and (not isinstance(grace, int) or isinstance(grace, bool)):
            raise ScenarioError(f"{where}.gracePeriodSeconds: expected an integer")
        return DeleteObject(kind, ns, name, policy, grace)

    def _step_cordon(self, v: Any, where: str) -> Step:
        return Cordon(str(v), True)

    def _step_uncordon(self, v: Any, where: str) -> Step:
        return Cordon(str(v), False)

    def _step_labelNode(self, v: Any, where: str) -> Step:
        node = _need(v, "node", where)
        labels = _need(v, "labels", where, dict)
        return LabelNode(node, FrozenDict({str(k): (None if val is None else str(val)) for k, val in labels.items()}))

    def _step_taintNode(self, v: Any, where: str) -> Step:
        node = _need(v, "node", where)
        effect = _need(v, "effect", where)
        if effect not in ("NoSchedule", "PreferNoSchedule", "NoExecute"):
            raise ScenarioError(f"{where}.effect: {effect!r} is not one of NoSchedule, PreferNoSchedule, NoExecute")
        return TaintNode(node, _need(v, "key", where), effect, str(v.get("value", "")), bool(v.get("remove", False)))

    def _step_failNode(self, v: Any, where: str) -> Step:
        return FailNode(str(v))

    def _step_recoverNode(self, v: Any, where: str) -> Step:
        return RecoverNode(str(v))

    def _step_removeNode(self, v: Any, where: str) -> Step:
        return RemoveNode(str(v))

    def _step_exitContainer(self, v: Any, where: str) -> Step:
        pod = _need(v, "pod", where)
        return ExitContainer(str(v.get("namespace", "default")), pod, str(v.get("container", "")), int(v.get("exitCode", 1)))

    def _step_advance(self, v: Any, where: str) -> Step:
        return Tick(parse_duration(v, where))

    def _step_settle(self, v: Any, where: str) -> Step:
        v = v or {}
        if not isinstance(v, dict):
            raise ScenarioError(f"{where}: expected a mapping such as {{horizon: 10m}} or nothing")
        horizon = parse_duration(v["horizon"], f"{where}.horizon") if "horizon" in v else None
        return SettleStep(horizon=horizon, max_steps=int(v.get("maxSteps", 20000)))

    def _step_reconcile(self, v: Any, where: str) -> Step:
        return Reconcile(_need(v, "controller", where), str(v.get("namespace", "")), _need(v, "name", where), str(v.get("kind", "")))

    def _step_schedule(self, v: Any, where: str) -> Step:
        return Schedule(str(v.get("namespace", "default")), _need(v, "pod", where), _need(v, "node", where))

    def _step_deliver(self, v: Any, where: str) -> Step:
        return Deliver(str(v))

    def _step_expect(self, v: Any, where: str) -> Step:
        items = v if isinstance(v, list) else [v]
        for j, e in enumerate(items):
            if not isinstance(e, dict):
                raise ScenarioError(f"{where}[{j}]: expected a mapping")
            if "invariants" not in e and "clock" not in e and "kind" not in e:
                raise ScenarioError(f"{where}[{j}]: an expectation needs 'kind' (with path/equals, exists, or count), 'clock', or 'invariants: hold'")
        return ExpectStep(tuple(items), where)


def parse_scenario(data: Any, source: str = "<scenario>", base: Path | None = None) -> Scenario:
    """Build a Scenario from parsed YAML data."""
    if not isinstance(data, dict):
        raise ScenarioError(f"{source}: a scenario is a mapping with at least 'steps'")
    unknown = set(data) - {"name", "description", "kubernetesVersion", "delivery", "epoch", "steps", "explore"}
    if unknown:
        raise ScenarioError(f"{source}: unknown field(s) {', '.join(sorted(unknown))}")
    cfg: dict[str, Any] = {}
    if "kubernetesVersion" in data:
        cfg["kubernetes_version"] = str(data["kubernetesVersion"])
    if "delivery" in data:
        cfg["delivery"] = str(data["delivery"])
    if "epoch" in data:
        try:
            cfg["epoch"] = data["epoch"] if isinstance(data["epoch"], datetime) else parse_rfc3339(str(data["epoch"]))
        except ValueError:
            raise ScenarioError(f"{source}: epoch: {data['epoch']!r} is not an RFC 3339 timestamp") from None
    try:
        config = ModelConfig(**cfg)
    except ValueError as e:
        raise ScenarioError(f"{source}: {e}") from None
    raw_steps = data.get("steps")
    if not isinstance(raw_steps, list):
        raise ScenarioError(f"{source}: 'steps' must be a list")
    parser = _Parser(base or Path("."), config, source)
    try:
        steps = [parser.step(s, i) for i, s in enumerate(raw_steps)]
    except ManifestError:
        raise
    ex = data.get("explore") or {}
    if not isinstance(ex, dict):
        raise ScenarioError(f"{source}: explore: expected a mapping")
    known = {"faults", "maxFaults", "userActions", "invariants", "script", "maxExits", "exitCodes", "horizon", "maxDepth", "maxStates", "addNodes"}
    unknown_ex = set(ex) - known
    if unknown_ex:
        raise ScenarioError(f"{source}: explore: unknown field(s) {', '.join(sorted(unknown_ex))}; known: {', '.join(sorted(known))}")
    script_raw = ex.get("script") or []
    if not isinstance(script_raw, list):
        raise ScenarioError(f"{source}: explore.script: expected a list of steps")
    script = tuple(parser.step(s, i) for i, s in enumerate(script_raw))
    for i, st in enumerate(script):
        if not isinstance(st, Action) or st.category not in ("user", "fault"):
            raise ScenarioError(f"{source}: explore.script[{i}]: only user actions and faults can be scripted")
    add_nodes = tuple(node_from_shorthand(n, f"{source}: explore.addNodes[{i}]") for i, n in enumerate(ex.get("addNodes") or []))
    explore = ExploreSettings(
        faults=tuple(ex.get("faults", ExploreSettings.faults)),
        max_faults=int(ex.get("maxFaults", ExploreSettings.max_faults)),
        user_actions=bool(ex.get("userActions", True)),
        invariants=tuple(ex["invariants"]) if "invariants" in ex else None,
        script=script,
        max_exits=int(ex.get("maxExits", 0)),
        exit_codes=tuple(int(c) for c in ex.get("exitCodes", [1])),
        horizon=parse_duration(ex["horizon"], f"{source}: explore.horizon") if "horizon" in ex else None,
        max_depth=int(ex["maxDepth"]) if "maxDepth" in ex else None,
        max_states=int(ex.get("maxStates", 100_000)),
        add_nodes=add_nodes,
    )
    bad = set(explore.faults) - {"fail", "recover", "remove", "add", "exit"}
    if bad:
        raise ScenarioError(f"{source}: explore.faults: unknown fault(s) {', '.join(sorted(bad))}")
    return Scenario(
        name=str(data.get("name", Path(source).stem)),
        description=str(data.get("description", "")),
        steps=steps,
        config=config,
        explore=explore,
        source=source,
    )


def load_scenario(path: str | Path) -> Scenario:
    """Read and parse a scenario file."""
    p = Path(path)
    try:
        text = p.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ScenarioError(f"{path}: no such file") from None
    except (OSError, UnicodeDecodeError) as e:
        raise ScenarioError(f"{path}: cannot read: {e}") from None
    docs = parse_documents(text, str(path))
    if len(docs) != 1:
        raise ScenarioError(f"{path}: a scenario file holds exactly one YAML document, found {len(docs)}")
    return parse_scenario(docs[0], str(path), p.parent)


# ---- actions back to steps (for saving counterexamples) --------------------------------


def _node_manifest(node: Node, epoch: datetime) -> dict[str, Any]:
    d = encode_object(node, epoch)
    d.get("metadata", {}).pop("creationTimestamp", None)
    d.get("status", {}).pop("conditions", None)
    return d


def _manifest(obj: Any, epoch: datetime) -> dict[str, Any]:
    d = encode_object(obj, epoch)
    meta = d.get("metadata", {})
    for k in ("uid", "resourceVersion", "creationTimestamp", "generation"):
        meta.pop(k, None)
    d.pop("status", None)
    return d


def step_to_yaml(step: Any, epoch: datetime) -> dict[str, Any]:
    """The scenario form of a step (the inverse of parsing)."""
    if isinstance(step, SettleStep) or type(step).__name__ == "SettleStep":
        return {"settle": {}}
    if isinstance(step, Apply):
        return {"apply": [_manifest(o, epoch) for o in step.objects]}
    if isinstance(step, AddNode):
        return {"addNode": _node_manifest(step.node, epoch)}
    if isinstance(step, Scale):
        return {"scale": {"kind": step.kind, "namespace": step.namespace, "name": step.name, "replicas": step.replicas}}
    if isinstance(step, SetImage):
        d = {"kind": step.kind, "namespace": step.namespace, "name": step.name, "image": step.image}
        if step.container:
            d["container"] = step.container
        return {"setImage": d}
    if isinstance(step, Patch):
        return {"patch": {"kind": step.kind, "namespace": step.namespace, "name": step.name, "patch": thaw(step.patch)}}
    if isinstance(step, DeleteObject):
        d2: dict[str, Any] = {"kind": step.kind, "namespace": step.namespace, "name": step.name}
        if step.propagation:
            d2["propagationPolicy"] = step.propagation
        if step.grace_period is not None:
            d2["gracePeriodSeconds"] = step.grace_period
        return {"delete": d2}
    if isinstance(step, Cordon):
        return {"cordon" if step.unschedulable else "uncordon": step.node}
    if isinstance(step, LabelNode):
        return {"labelNode": {"node": step.node, "labels": dict(step.labels)}}
    if isinstance(step, TaintNode):
        d4: dict[str, Any] = {"node": step.node, "key": step.key, "effect": step.effect}
        if step.value:
            d4["value"] = step.value
        if step.remove:
            d4["remove"] = True
        return {"taintNode": d4}
    if isinstance(step, FailNode):
        return {"failNode": step.node}
    if isinstance(step, RecoverNode):
        return {"recoverNode": step.node}
    if isinstance(step, RemoveNode):
        return {"removeNode": step.node}
    if isinstance(step, ExitContainer):
        return {"exitContainer": {"namespace": step.namespace, "pod": step.pod, "container": step.container, "exitCode": step.exit_code}}
    if isinstance(step, Tick):
        return {"advance": step.seconds}
    if isinstance(step, Reconcile):
        d3 = {"controller": step.controller, "namespace": step.namespace, "name": step.name}
        if step.kind:
            d3["kind"] = step.kind
        return {"reconcile": d3}
    if isinstance(step, Schedule):
        return {"schedule": {"namespace": step.namespace, "pod": step.pod, "node": step.node}}
    if isinstance(step, Deliver):
        return {"deliver": step.issuer}
    raise KModelError(f"cannot write {step!r} as a scenario step")


def scenario_yaml(name: str, steps: list[Any], config: ModelConfig, *, description: str = "", expect: list[dict[str, Any]] | None = None) -> str:
    """A scenario file replaying `steps`."""
    data: dict[str, Any] = {"name": name}
    if description:
        data["description"] = description
    if config.kubernetes_version != ModelConfig().kubernetes_version:
        data["kubernetesVersion"] = config.kubernetes_version
    if config.delivery != "atomic":
        data["delivery"] = config.delivery
    data["steps"] = [step_to_yaml(s, config.epoch) for s in steps]
    if expect:
        data["steps"].append({"expect": expect})
    return yaml.safe_dump(data, sort_keys=False, default_flow_style=False, width=120)
