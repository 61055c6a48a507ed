"""`kmodel prove`: symbolic proofs, with Z3, of the rollout arithmetic of the model's
controllers — for every integer parameter within its declared bounds, not for samples.

Each theory restates one piece of the model's Python arithmetic in Z3 integer arithmetic
(percentages resolved by `kmodel.intstr.scaled_value`: ceil or floor of p·total/100,
encoded with an integer quotient q and the constraints 100q ≤ p·total < 100q + 100 for
floor, 100q − 100 < p·total ≤ 100q for ceil), declares the domain of its inputs, and
states properties. A property is proved when "domain ∧ definitions ∧ ¬property" is
unsat; when it is sat the model is a counterexample, printed as concrete values; when
Z3 gives up (time-out) the property is "unknown" — never a pass.

Because an encoding could drift from the Python it restates, every theory is also
cross-checked against the model's functions on a sample of concrete inputs (bounds,
upstream test-table rows and seeded random values): for each input the encoding must
have exactly one solution for the outputs, equal to what the Python function returns.

Theories (spec §6.3, §7.6, §8.6, §18):

* deployment: deployment_util.go ResolveFenceposts, MaxUnavailable, MinAvailable, MaxSurge
  (`kmodel.controllers.deployment_util`);
* daemonset: updatedDesiredNodeCounts with util.SurgeCount / UnavailableCount
  (`kmodel.controllers.daemonset.max_surge_and_unavailable`);
* statefulset: getStatefulSetMaxUnavailable (`kmodel.controllers.statefulset.max_unavailable`).
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import z3

PROVED, FALSE, UNKNOWN = "proved", "false", "unknown"
MAX_COUNT = 10_000
MAX_PERCENT = 100

Concrete = dict[str, int | str | None]


# ---- symbolic inputs ------------------------------------------------------------------------------


@dataclass(frozen=True)
class Count:
    """An integer input in [lo, hi]."""

    name: str
    lo: int
    hi: int
    var: z3.ArithRef

    def domain(self) -> z3.BoolRef:
        """lo ≤ var ≤ hi."""
        return z3.And(self.var >= self.lo, self.var <= self.hi)

    def value(self, model: z3.ModelRef) -> int:
        """The input's value in a model."""
        return model.eval(self.var, model_completion=True).as_long()

    def fix(self, v: Any) -> z3.BoolRef:
        """The input equals the concrete `v`."""
        return self.var == int(v)


@dataclass(frozen=True)
class IntOrPercent:
    """An IntOrString input: an integer in [0, int_max] or a percentage "p%" with p in
    [0, pct_max]; optionally unset (nil)."""

    name: str
    number: z3.ArithRef
    percent: z3.BoolRef
    unset: z3.BoolRef | None = None
    int_max: int = MAX_COUNT
    pct_max: int = MAX_PERCENT

    def domain(self) -> z3.BoolRef:
        """The number is within the bounds of its form."""
        return z3.And(self.number >= 0, z3.If(self.percent, self.number <= self.pct_max, self.number <= self.int_max))

    def value(self, model: z3.ModelRef) -> int | str | None:
        """The input as the model's Python code receives it: an int, "p%" or None."""
        if self.unset is not None and z3.is_true(model.eval(self.unset, model_completion=True)):
            return None
        n = model.eval(self.number, model_completion=True).as_long()
        return f"{n}%" if z3.is_true(model.eval(self.percent, model_completion=True)) else n

    def fix(self, v: Any) -> z3.BoolRef:
        """The input equals the concrete `v` (int, "p%" or None)."""
        parts: list[z3.BoolRef] = []
        if self.unset is not None:
            parts.append(self.unset == (v is None))
        if v is None:
            return z3.And(*parts) if parts else z3.BoolVal(False)
        if isinstance(v, str):
            parts += [self.percent, self.number == int(v[:-1])]
        else:
            parts += [z3.Not(self.percent), self.number == int(v)]
        return z3.And(*parts)


def count(name: str, lo: int = 0, hi: int = MAX_COUNT) -> Count:
    """A symbolic integer input."""
    return Count(name, lo, hi, z3.Int(name))


def int_or_percent(name: str, *, nullable: bool = False) -> IntOrPercent:
    """A symbolic IntOrString input (integers up to 10000, percentages up to 100%)."""
    return IntOrPercent(name, z3.Int(f"{name}.number"), z3.Bool(f"{name}.percent"), z3.Bool(f"{name}.unset") if nullable else None)


def scaled(defs: list[z3.BoolRef], iop: IntOrPercent, total: z3.ArithRef, round_up: bool, name: str) -> z3.ArithRef:
    """intstr.GetScaledValueFromIntOrPercent (kmodel.intstr.scaled_value) in Z3: an integer
    is itself; "p%" of `total` is ceil or floor of p·total/100 via an integer quotient."""
    q = z3.Int(name)
    scaled_total = iop.number * total
    if round_up:
        pct = z3.And(100 * q >= scaled_total, 100 * q - 100 < scaled_total)
    else:
        pct = z3.And(100 * q <= scaled_total, scaled_total < 100 * q + 100)
    defs.append(z3.If(iop.percent, pct, q == iop.number))
    return q


def zmin(a: z3.ArithRef, b: z3.ArithRef | int) -> z3.ArithRef:
    """min(a, b)."""
    return z3.If(a <= b, a, b)


def zmax(a: z3.ArithRef, b: z3.ArithRef | int) -> z3.ArithRef:
    """max(a, b)."""
    return z3.If(a >= b, a, b)


# ---- theories ----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Property:
    """A claim about a theory, stated in words and as a Z3 formula over its terms."""

    name: str
    statement: str
    formula: z3.BoolRef


@dataclass
class Theory:
    """Inputs with their domain, outputs defined by constraints, properties, and the
    model's Python functions computing the same outputs."""

    name: str
    title: str
    inputs: list[Count | IntOrPercent]
    domain: list[z3.BoolRef]
    domain_text: list[str]
    definitions: list[z3.BoolRef]
    outputs: dict[str, z3.ArithRef]
    properties: list[Property]
    python: Callable[[Concrete], dict[str, int]]
    samples: Callable[[random.Random, int], list[Concrete]]
    source: str = ""

    def with_property(self, prop: Property) -> Theory:
        """The theory with one more property (e.g. a deliberately false one, in tests)."""
        return Theory(**{**self.__dict__, "properties": [*self.properties, prop]})

    def concrete(self, model: z3.ModelRef) -> Concrete:
        """Inputs and outputs of a model as concrete values (outputs are capitalised,
        inputs are spelled as in the API, so the names never collide)."""
        out: Concrete = {i.name: i.value(model) for i in self.inputs}
        for name, term in self.outputs.items():
            out[name] = model.eval(term, model_completion=True).as_long()
        return out


def _iop_samples(rng: random.Random, n: int) -> list[int | str]:
    edges: list[int | str] = [0, 1, 2, 3, 5, 10, 99, 100, 101, 9999, MAX_COUNT, "0%", "1%", "10%", "25%", "33%", "39%", "50%", "60%", "99%", "100%"]
    rand: list[int | str] = [rng.randint(0, MAX_COUNT) if rng.random() < 0.4 else f"{rng.randint(0, MAX_PERCENT)}%" for _ in range(n)]
    return edges + rand


def _count_samples(rng: random.Random, n: int) -> list[int]:
    return [0, 1, 2, 3, 4, 5, 7, 10, 25, 99, 100, 101, 333, 9999, MAX_COUNT] + [rng.randint(0, MAX_COUNT) for _ in range(n)]


def _is_zero(v: int | str | None) -> bool:
    """getIntOrPercentValue(v) == 0: 0 or "0%"."""
    return v in (0, "0%")


def deployment_theory() -> Theory:
    """Deployment fence posts (deployment_util.go ResolveFenceposts, MaxUnavailable,
    MinAvailable, MaxSurge; spec §6.3)."""
    replicas = count("replicas")
    surge_in = int_or_percent("maxSurge")
    unavail_in = int_or_percent("maxUnavailable")
    r = replicas.var
    defs: list[z3.BoolRef] = []
    surge = scaled(defs, surge_in, r, True, "surge")
    unavail_raw = scaled(defs, unavail_in, r, False, "unavailable.resolved")
    unavail = z3.If(z3.And(surge == 0, unavail_raw == 0), 1, unavail_raw)
    max_unavailable = z3.If(r == 0, 0, zmin(unavail, r))
    min_available = r - max_unavailable
    domain = [replicas.domain(), surge_in.domain(), unavail_in.domain(), z3.Not(z3.And(surge_in.number == 0, unavail_in.number == 0))]
    pct_s, pct_u = surge_in.percent, unavail_in.percent
    p_s, p_u = surge_in.number, unavail_in.number
    props = [
        Property(
            "progress",
            "replicas > 0 ⇒ MaxSurge > 0 ∨ MaxUnavailable > 0 (a rollout can always create or remove a pod; surge and unavailable never both resolve to 0)",
            z3.Implies(r > 0, z3.Or(surge > 0, max_unavailable > 0)),
        ),
        Property("unavailable-bounds", "0 ≤ MaxUnavailable ≤ replicas", z3.And(max_unavailable >= 0, max_unavailable <= r)),
        Property("available-target", "0 ≤ MinAvailable = replicas − MaxUnavailable ≤ replicas", z3.And(min_available >= 0, min_available <= r)),
        Property(
            "surge-bounds",
            "MaxSurge ≥ 0, so replicas + MaxSurge ≥ replicas; a percentage surge is ≤ replicas",
            z3.And(surge >= 0, r + surge >= r, z3.Implies(pct_s, surge <= r)),
        ),
        Property(
            "window",
            "replicas > 0 ⇒ (replicas + MaxSurge) − MinAvailable ≥ 1 (the rollout window between the pod ceiling and the availability floor is never empty)",
            z3.Implies(r > 0, (r + surge) - min_available >= 1),
        ),
        Property(
            "surge-rounds-up",
            "maxSurge = p% with p > 0 and replicas > 0 ⇒ MaxSurge ≥ 1 and 100·MaxSurge ≥ p·replicas (rounded up, never to 0)",
            z3.Implies(z3.And(pct_s, p_s > 0, r > 0), z3.And(surge >= 1, 100 * surge >= p_s * r)),
        ),
        Property(
            "unavailable-rounds-down",
            "maxUnavailable = p% and MaxUnavailable ≥ 2 ⇒ 100·MaxUnavailable ≤ p·replicas (rounded down: never "
            "more than the percentage, beyond the both-zero 1)",
            z3.Implies(z3.And(pct_u, max_unavailable >= 2), 100 * max_unavailable <= p_u * r),
        ),
        Property(
            "both-zero-gives-one",
            "replicas > 0 and both resolve to 0 ⇒ MaxUnavailable = 1 (e.g. maxSurge 0%, maxUnavailable 10% of 5 replicas)",
            z3.Implies(z3.And(r > 0, surge == 0, unavail_raw == 0), max_unavailable == 1),
        ),
        Property("no-replicas", "replicas = 0 ⇒ MaxUnavailable = 0 and MinAvailable = 0", z3.Implies(r == 0, z3.And(max_unavailable == 0, min_available == 0))),
    ]

    def python(v: Concrete) -> dict[str, int]:
        from dataclasses import replace

        from kmodel.controllers import deployment_util as du
        from kmodel.objects.meta import ObjectMeta
        from kmodel.objects.workloads import Deployment, DeploymentStrategy, RollingUpdateDeployment

        strategy = DeploymentStrategy("RollingUpdate", RollingUpdateDeployment(max_surge=v["maxSurge"], max_unavailable=v["maxUnavailable"]))
        d = Deployment(ObjectMeta(name="d", namespace="default"))
        d = replace(d, spec=replace(d.spec, replicas=int(v["replicas"] or 0), strategy=strategy))
        s, u = du.resolve_fenceposts(v["maxSurge"], v["maxUnavailable"], int(v["replicas"] or 0))
        return {
            "MaxSurge": du.max_surge(d),
            "MaxUnavailable": du.max_unavailable(d),
            "MinAvailable": du.min_available(d),
            "resolvedSurge": s,
            "resolvedUnavailable": u,
        }

    def samples(rng: random.Random, n: int) -> list[Concrete]:
        table: list[Concrete] = [
            {"replicas": 10, "maxSurge": "39%", "maxUnavailable": "39%"},
            {"replicas": 10, "maxSurge": 1, "maxUnavailable": 5},
            {"replicas": 5, "maxSurge": 1, "maxUnavailable": 10},
            {"replicas": 0, "maxSurge": 1, "maxUnavailable": 10},
            {"replicas": 10, "maxSurge": 1, "maxUnavailable": "60%"},
            {"replicas": 5, "maxSurge": 1, "maxUnavailable": "100%"},
            {"replicas": 5, "maxSurge": "0%", "maxUnavailable": "10%"},
            {"replicas": 1, "maxSurge": "25%", "maxUnavailable": "25%"},
            {"replicas": 4, "maxSurge": "25%", "maxUnavailable": "25%"},
            {"replicas": 10, "maxSurge": "25%", "maxUnavailable": "25%"},
        ]
        out = list(table)
        rs, ss, us = _count_samples(rng, n), _iop_samples(rng, n), _iop_samples(rng, n)
        while len(out) < len(table) + n:
            c: Concrete = {"replicas": rng.choice(rs), "maxSurge": rng.choice(ss), "maxUnavailable": rng.choice(us)}
            if not (_is_zero(c["maxSurge"]) and _is_zero(c["maxUnavailable"])):
                out.append(c)
        return out

    return Theory(
        "deployment",
        "Deployment fence posts (RollingUpdate)",
        [replicas, surge_in, unavail_in],
        domain,
        ["replicas ∈ [0, 10000]", "maxSurge, maxUnavailable: an integer in [0, 10000] or a percentage in [0%, 100%]", "not both 0 (validation)"],
        defs,
        {"resolvedSurge": surge, "resolvedUnavailable": unavail, "MaxSurge": surge, "MaxUnavailable": max_unavailable, "MinAvailable": min_available},
        props,
        python,
        samples,
        "deployment_util.go ResolveFenceposts, MaxUnavailable, MinAvailable, MaxSurge; spec §6.3, §18",
    )


def daemonset_theory() -> Theory:
    """DaemonSet rolling-update numbers (daemon_controller updatedDesiredNodeCounts; spec §8.6)."""
    desired = count("desiredNodes")
    surge_in = int_or_percent("maxSurge")
    unavail_in = int_or_percent("maxUnavailable")
    n = desired.var
    defs: list[z3.BoolRef] = []
    surge = scaled(defs, surge_in, n, True, "surge")
    unavail_raw = scaled(defs, unavail_in, n, True, "unavailable.resolved")
    unavail = z3.If(z3.And(n > 0, surge == 0, unavail_raw == 0), 1, unavail_raw)
    valid = z3.And(
        z3.Or(surge_in.number != 0, unavail_in.number != 0),
        z3.Or(surge_in.number == 0, unavail_in.number == 0),
    )
    props = [
        Property(
            "progress", "desiredNodes > 0 ⇒ MaxSurge > 0 ∨ MaxUnavailable > 0 (for every input, valid or not)", z3.Implies(n > 0, z3.Or(surge > 0, unavail > 0))
        ),
        Property("non-negative", "MaxSurge ≥ 0 ∧ MaxUnavailable ≥ 0", z3.And(surge >= 0, unavail >= 0)),
        Property(
            "percent-rounds-up",
            "a percentage p > 0 of desiredNodes > 0 resolves to ≥ 1 and to at least p·desiredNodes/100 (both round up)",
            z3.And(
                z3.Implies(z3.And(surge_in.percent, surge_in.number > 0, n > 0), z3.And(surge >= 1, 100 * surge >= surge_in.number * n)),
                z3.Implies(z3.And(unavail_in.percent, unavail_in.number > 0, n > 0), z3.And(unavail >= 1, 100 * unavail >= unavail_in.number * n)),
            ),
        ),
        Property(
            "percent-at-most-all",
            "a percentage resolves to at most desiredNodes (MaxUnavailable: or 1 by the both-zero rule)",
            z3.And(z3.Implies(surge_in.percent, surge <= n), z3.Implies(unavail_in.percent, unavail <= zmax(n, 1))),
        ),
        Property(
            "both-zero-gives-one",
            "desiredNodes > 0 and both resolve to 0 ⇒ MaxUnavailable = 1",
            z3.Implies(z3.And(n > 0, surge == 0, unavail_raw == 0), unavail == 1),
        ),
        Property(
            "valid-never-needs-the-rule",
            "valid input (exactly one of the two non-zero) and desiredNodes > 0 ⇒ they never both resolve to 0 (ceil keeps a positive share)",
            z3.Implies(z3.And(valid, n > 0), z3.Or(surge > 0, unavail_raw > 0)),
        ),
        Property(
            "no-nodes",
            "desiredNodes = 0 ⇒ percentages resolve to 0 and the both-zero rule does not apply",
            z3.Implies(n == 0, z3.And(z3.Implies(surge_in.percent, surge == 0), z3.Implies(unavail_in.percent, unavail == 0))),
        ),
    ]

    def python(v: Concrete) -> dict[str, int]:
        from kmodel.controllers.daemonset import max_surge_and_unavailable
        from kmodel.objects.apps import DaemonSet, DaemonSetSpec, DaemonSetUpdateStrategy, RollingUpdateDaemonSet
        from kmodel.objects.meta import ObjectMeta

        strategy = DaemonSetUpdateStrategy("RollingUpdate", RollingUpdateDaemonSet(max_unavailable=v["maxUnavailable"], max_surge=v["maxSurge"]))
        ds = DaemonSet(ObjectMeta(name="ds", namespace="default"), DaemonSetSpec(update_strategy=strategy))
        s, u = max_surge_and_unavailable(ds, int(v["desiredNodes"] or 0))
        return {"MaxSurge": s, "MaxUnavailable": u}

    def samples(rng: random.Random, k: int) -> list[Concrete]:
        table: list[Concrete] = [
            {"desiredNodes": 0, "maxSurge": 0, "maxUnavailable": 0},
            {"desiredNodes": 2, "maxSurge": 0, "maxUnavailable": 1},
            {"desiredNodes": 2, "maxSurge": 0, "maxUnavailable": 0},
            {"desiredNodes": 2, "maxSurge": 0, "maxUnavailable": "50%"},
            {"desiredNodes": 2, "maxSurge": "50%", "maxUnavailable": 0},
            {"desiredNodes": 2, "maxSurge": "100%", "maxUnavailable": 0},
            {"desiredNodes": 3, "maxSurge": 0, "maxUnavailable": "50%"},
        ]
        ns, ss, us = _count_samples(rng, k), _iop_samples(rng, k), _iop_samples(rng, k)
        return table + [{"desiredNodes": rng.choice(ns), "maxSurge": rng.choice(ss), "maxUnavailable": rng.choice(us)} for _ in range(k)]

    return Theory(
        "daemonset",
        "DaemonSet rolling-update maxSurge / maxUnavailable",
        [desired, surge_in, unavail_in],
        [desired.domain(), surge_in.domain(), unavail_in.domain()],
        [
            "desiredNodes ∈ [0, 10000]",
            "maxSurge, maxUnavailable: an integer in [0, 10000] or a percentage in [0%, 100%]",
            "every combination, including those validation rejects (both 0, both non-zero)",
        ],
        defs,
        {"MaxSurge": surge, "MaxUnavailable": unavail},
        props,
        python,
        samples,
        "daemon_controller.go updatedDesiredNodeCounts, util.SurgeCount/UnavailableCount; spec §8.6, §18",
    )


def statefulset_theory() -> Theory:
    """StatefulSet rolling-update maxUnavailable (getStatefulSetMaxUnavailable; spec §7.6)."""
    replicas = count("replicas")
    mu_in = int_or_percent("maxUnavailable", nullable=True)
    r = replicas.var
    defs: list[z3.BoolRef] = []
    assert mu_in.unset is not None
    raw = scaled(defs, mu_in, r, False, "maxUnavailable.resolved")
    resolved = z3.If(mu_in.unset, 1, raw)  # nil defaults to 1
    mu = zmax(resolved, 1)
    p = mu_in.number
    props = [
        Property("at-least-one", "MaxUnavailable ≥ 1 (a rolling update can always replace a pod; 0 and 0% become 1)", mu >= 1),
        Property(
            "percent-at-most-all",
            "maxUnavailable = p% ⇒ MaxUnavailable ≤ max(replicas, 1)",
            z3.Implies(z3.And(z3.Not(mu_in.unset), mu_in.percent), mu <= zmax(r, 1)),
        ),
        Property(
            "percent-rounds-down",
            "maxUnavailable = p% and MaxUnavailable ≥ 2 ⇒ 100·MaxUnavailable ≤ p·replicas (rounded down; the API doc's 'rounded up' is not what the code does)",
            z3.Implies(z3.And(z3.Not(mu_in.unset), mu_in.percent, mu >= 2), 100 * mu <= p * r),
        ),
        Property(
            "integer-kept",
            "maxUnavailable = v (an integer ≥ 1) ⇒ MaxUnavailable = v, whatever replicas is",
            z3.Implies(z3.And(z3.Not(mu_in.unset), z3.Not(mu_in.percent), p >= 1), mu == p),
        ),
        Property("unset-is-one", "maxUnavailable unset ⇒ MaxUnavailable = 1", z3.Implies(mu_in.unset, mu == 1)),
    ]

    def python(v: Concrete) -> dict[str, int]:
        from kmodel.controllers.statefulset import max_unavailable

        return {"MaxUnavailable": max_unavailable(v["maxUnavailable"], int(v["replicas"] or 0))}

    def samples(rng: random.Random, k: int) -> list[Concrete]:
        table: list[Concrete] = [
            {"replicas": 10, "maxUnavailable": None},
            {"replicas": 10, "maxUnavailable": 3},
            {"replicas": 0, "maxUnavailable": 3},
            {"replicas": 0, "maxUnavailable": 0},
            {"replicas": 25, "maxUnavailable": "10%"},
            {"replicas": 5, "maxUnavailable": "100%"},
            {"replicas": 5, "maxUnavailable": "50%"},
            {"replicas": 5, "maxUnavailable": "10%"},
            {"replicas": 0, "maxUnavailable": "1%"},
            {"replicas": 0, "maxUnavailable": "0%"},
        ]
        rs, vs = _count_samples(rng, k), _iop_samples(rng, k)
        return table + [{"replicas": rng.choice(rs), "maxUnavailable": None if rng.random() < 0.05 else rng.choice(vs)} for _ in range(k)]

    return Theory(
        "statefulset",
        "StatefulSet rolling-update maxUnavailable",
        [replicas, mu_in],
        [replicas.domain(), mu_in.domain()],
        [
            "replicas ∈ [0, 10000]",
            "maxUnavailable: unset, an integer in [0, 10000] or a percentage in [0%, 100%] (0 and 0% included, though validation rejects them)",
        ],
        defs,
        {"MaxUnavailable": mu},
        props,
        python,
        samples,
        "stateful_set_control.go getStatefulSetMaxUnavailable; spec §7.6, §18 (TestGetStatefulSetMaxUnavailable)",
    )


THEORIES: dict[str, Callable[[], Theory]] = {
    "deployment": deployment_theory,
    "daemonset": daemonset_theory,
    "statefulset": statefulset_theory,
}


# ---- proving ---------------------------------------------------------------------------------------


@dataclass
class PropertyResult:
    """The verdict on one property: proved, false (with a counterexample) or unknown."""

    theory: str
    prop: Property
    status: str
    counterexample: Concrete | None = None
    seconds: float = 0.0
    reason: str = ""


@dataclass
class Mismatch:
    """An input on which the Z3 encoding and the Python function disagree."""

    theory: str
    inputs: Concrete
    python: dict[str, int] | str
    z3: dict[str, int] | str


@dataclass
class TheoryResult:
    """Everything `prove` found about one theory."""

    theory: Theory
    results: list[PropertyResult] = field(default_factory=list)
    samples: int = 0
    mismatches: list[Mismatch] = field(default_factory=list)
    cross_check_seconds: float = 0.0

    @property
    def status(self) -> str:
        """'false' if a property is false or the encoding disagrees with Python, else
        'unknown' if one is undecided, else 'proved'."""
        if self.mismatches or any(r.status == FALSE for r in self.results):
            return FALSE
        if any(r.status == UNKNOWN for r in self.results):
            return UNKNOWN
        return PROVED


def _solver(theory: Theory, timeout_ms: int, rlimit: int | None = None) -> z3.Solver:
    s = z3.Solver()
    s.set("timeout", max(1, int(timeout_ms)))
    if rlimit is not None:
        s.set("rlimit", int(rlimit))
    s.add(*theory.domain, *theory.definitions)
    return s


def prove_property(theory: Theory, prop: Property, *, timeout_ms: int = 60_000, rlimit: int | None = None) -> PropertyResult:
    """Prove `prop` over the whole domain: unsat(domain ∧ definitions ∧ ¬prop)."""
    s = _solver(theory, timeout_ms, rlimit)
    s.add(z3.Not(prop.formula))
    t0 = time.perf_counter()
    res = s.check()
    dt = time.perf_counter() - t0
    if res == z3.unsat:
        return PropertyResult(theory.name, prop, PROVED, seconds=dt)
    if res == z3.sat:
        return PropertyResult(theory.name, prop, FALSE, theory.concrete(s.model()), dt)
    return PropertyResult(theory.name, prop, UNKNOWN, seconds=dt, reason=s.reason_unknown())


def encoding_outputs(theory: Theory, inputs: Concrete, solver: z3.Solver | None = None) -> dict[str, int] | str:
    """The outputs the Z3 encoding gives for concrete inputs — or a description of why it
    gives none or more than one (the encoding must be a function of its inputs)."""
    s = solver or _solver(theory, 10_000)
    s.push()
    try:
        s.add(*(i.fix(inputs[i.name]) for i in theory.inputs))
        if s.check() != z3.sat:
            return "no solution (the encoding rejects these inputs)"
        m = s.model()
        got = {name: m.eval(t, model_completion=True).as_long() for name, t in theory.outputs.items()}
        s.add(z3.Or(*(t != got[name] for name, t in theory.outputs.items())))
        if s.check() != z3.unsat:
            return f"not unique (also {theory.concrete(s.model())})"
        return got
    finally:
        s.pop()


def cross_check(theory: Theory, inputs: Iterable[Concrete]) -> list[Mismatch]:
    """Compare the encoding with the model's Python functions on concrete inputs."""
    s = _solver(theory, 10_000)
    out: list[Mismatch] = []
    for v in inputs:
        try:
            py: dict[str, int] | str = theory.python(v)
        except Exception as e:  # a Python function rejecting an input in the domain is a mismatch too
            py = f"raised {type(e).__name__}: {e}"
        z = encoding_outputs(theory, v, s)
        if isinstance(py, str) or isinstance(z, str) or any(z.get(k) != val for k, val in py.items()):
            out.append(Mismatch(theory.name, v, py, z))
    return out


def prove_theory(theory: Theory, *, timeout_ms: int = 60_000, samples: int = 300, seed: int = 0, rlimit: int | None = None) -> TheoryResult:
    """Cross-check the encoding on samples, then prove every property."""
    out = TheoryResult(theory)
    t0 = time.perf_counter()
    inputs = theory.samples(random.Random(seed), samples)
    out.samples = len(inputs)
    out.mismatches = cross_check(theory, inputs)
    out.cross_check_seconds = time.perf_counter() - t0
    out.results = [prove_property(theory, p, timeout_ms=timeout_ms, rlimit=rlimit) for p in theory.properties]
    return out


def select_theories(names: Sequence[str] | None) -> list[Theory]:
    """Theories by name (all when None); unknown names raise KeyError naming the known ones."""
    chosen = list(names) if names else list(THEORIES)
    unknown = [n for n in chosen if n not in THEORIES]
    if unknown:
        raise KeyError(f"unknown theory {', '.join(unknown)}; known: {', '.join(THEORIES)}")
    return [THEORIES[n]() for n in chosen]


def format_values(values: Mapping[str, Any]) -> str:
    """name=value pairs, percentages quoted as the API writes them."""
    return ", ".join(f"{k}={v!r}" if isinstance(v, str) else f"{k}={v}" for k, v in values.items())


def render(results: Sequence[TheoryResult]) -> str:
    """A plain-text report of the proofs."""
    lines: list[str] = ["(inputs are spelled as in the API — maxSurge, maxUnavailable; resolved values are capitalised — MaxSurge, MaxUnavailable)"]
    for tr in results:
        t = tr.theory
        lines.append(f"{t.name}: {t.title}  [{t.source}]")
        lines.extend(f"  domain: {d}" for d in t.domain_text)
        agree = "agrees" if not tr.mismatches else f"DISAGREES on {len(tr.mismatches)}"
        lines.append(f"  cross-check: the Z3 encoding {agree} with the Python functions on {tr.samples} sample inputs ({tr.cross_check_seconds:.2f} s)")
        for m in tr.mismatches[:10]:
            lines.append(f"    MISMATCH {format_values(m.inputs)}: python {m.python}, z3 {m.z3}")
        for r in tr.results:
            head = {PROVED: "PROVED", FALSE: "FALSE", UNKNOWN: "UNKNOWN"}[r.status]
            lines.append(f"  {head:8s} {r.prop.name}: {r.prop.statement}  ({r.seconds:.2f} s)")
            if r.counterexample is not None:
                lines.append(f"           counterexample: {format_values(r.counterexample)}")
            if r.status == UNKNOWN:
                lines.append(f"           the solver gave up ({r.reason}); this is not a proof")
    return "\n".join(lines) + "\n"
