"""kmodel.prove: symbolic proofs of the rollout arithmetic.

* every stated property of each theory is proved over the whole declared domain;
* deliberately false properties yield concrete counterexamples, and the counterexample
  is confirmed by the model's Python functions;
* the Z3 encoding matches the Python functions on samples (upstream tables included),
  and a drifted Python function is caught by that cross-check;
* a solver that gives up is "unknown", never "proved";
* the `kmodel prove` command: output and exit codes.
"""

from __future__ import annotations

from dataclasses import replace

import pytest
import z3
from typer.testing import CliRunner

from kmodel.cli import app
from kmodel.prove import (
    FALSE,
    PROVED,
    UNKNOWN,
    Property,
    Theory,
    cross_check,
    daemonset_theory,
    deployment_theory,
    encoding_outputs,
    prove_property,
    prove_theory,
    render,
    statefulset_theory,
)

runner = CliRunner()
THEORIES = [deployment_theory, daemonset_theory, statefulset_theory]


@pytest.mark.parametrize("make", THEORIES, ids=lambda f: f.__name__)
def test_every_property_is_proved_and_the_encoding_agrees_with_python(make: object) -> None:
    theory = make()  # type: ignore[operator]
    result = prove_theory(theory, timeout_ms=60_000, samples=60)
    assert result.mismatches == [], result.mismatches[:3]
    assert result.samples >= 60
    for r in result.results:
        assert r.status == PROVED, (r.prop.name, r.status, r.counterexample, r.reason)
    assert result.status == PROVED


def _term(theory: Theory, name: str) -> z3.ArithRef:
    return theory.outputs[name]


def _input(theory: Theory, name: str) -> z3.ArithRef:
    (i,) = [i for i in theory.inputs if i.name == name]
    return i.var if hasattr(i, "var") else i.number  # type: ignore[union-attr]


def test_a_false_deployment_property_gives_a_concrete_counterexample() -> None:
    t = deployment_theory()
    r = _input(t, "replicas")
    wrong = Property(
        "always-unavailable", "replicas > 0 ⇒ MaxUnavailable ≥ 1 (false: maxUnavailable 0 with a surge)", z3.Implies(r > 0, _term(t, "MaxUnavailable") >= 1)
    )
    res = prove_property(t, wrong)
    assert res.status == FALSE and res.counterexample is not None
    cx = res.counterexample
    # concrete, and confirmed by the model's own functions
    assert isinstance(cx["replicas"], int) and cx["replicas"] > 0
    assert isinstance(cx["maxSurge"], (int, str)) and isinstance(cx["maxUnavailable"], (int, str))
    py = t.python(cx)
    assert py["MaxUnavailable"] == 0 == cx["MaxUnavailable"]
    assert py["MaxSurge"] >= 1
    text = render([replace(prove_theory(t.with_property(wrong), samples=1), results=[res])])
    assert "FALSE    always-unavailable" in text and "counterexample: replicas=" in text


def test_a_false_statefulset_rounding_property_gives_a_counterexample() -> None:
    # the API documentation says "rounded up"; the code rounds down (10% of 25 → 2)
    t = statefulset_theory()
    (mu_in,) = [i for i in t.inputs if i.name == "maxUnavailable"]
    r = _input(t, "replicas")
    mu = _term(t, "MaxUnavailable")
    rounds_up = Property(
        "rounds-up", "maxUnavailable = p% ⇒ 100·result ≥ p·replicas", z3.Implies(z3.And(z3.Not(mu_in.unset), mu_in.percent), 100 * mu >= mu_in.number * r)
    )  # type: ignore[union-attr, arg-type]
    res = prove_property(t, rounds_up)
    assert res.status == FALSE and res.counterexample is not None
    cx = res.counterexample
    pct = int(str(cx["maxUnavailable"]).rstrip("%"))
    got = t.python(cx)["MaxUnavailable"]
    assert str(cx["maxUnavailable"]).endswith("%") and 100 * got < pct * int(cx["replicas"])  # type: ignore[arg-type]


def test_a_false_daemonset_property_gives_a_counterexample() -> None:
    t = daemonset_theory()
    n = _input(t, "desiredNodes")
    wrong = Property("unavailable-at-most-nodes", "MaxUnavailable ≤ desiredNodes (false for integers)", _term(t, "MaxUnavailable") <= n)
    res = prove_property(t, wrong)
    assert res.status == FALSE and res.counterexample is not None
    cx = res.counterexample
    assert t.python(cx)["MaxUnavailable"] > int(cx["desiredNodes"])  # type: ignore[arg-type]


@pytest.mark.parametrize("make", THEORIES, ids=lambda f: f.__name__)
def test_the_encoding_is_a_function_matching_python_on_upstream_tables(make: object) -> None:
    theory = make()  # type: ignore[operator]
    import random

    samples = theory.samples(random.Random(1), 0)  # the fixed table rows only
    assert samples
    for v in samples:
        z, py = encoding_outputs(theory, v), theory.python(v)
        assert isinstance(z, dict), (v, z)  # exactly one solution
        assert {k: z[k] for k in py} == py, v


def test_known_values_from_the_spec() -> None:
    d, s, ds = deployment_theory(), statefulset_theory(), daemonset_theory()
    assert encoding_outputs(d, {"replicas": 10, "maxSurge": "25%", "maxUnavailable": "25%"}) == {
        "resolvedSurge": 3,
        "resolvedUnavailable": 2,
        "MaxSurge": 3,
        "MaxUnavailable": 2,
        "MinAvailable": 8,
    }
    assert encoding_outputs(d, {"replicas": 5, "maxSurge": "0%", "maxUnavailable": "10%"})["MaxUnavailable"] == 1  # type: ignore[index]
    assert encoding_outputs(s, {"replicas": 25, "maxUnavailable": "10%"}) == {"MaxUnavailable": 2}
    assert encoding_outputs(s, {"replicas": 0, "maxUnavailable": "0%"}) == {"MaxUnavailable": 1}
    assert encoding_outputs(ds, {"desiredNodes": 3, "maxSurge": 0, "maxUnavailable": "50%"}) == {"MaxSurge": 0, "MaxUnavailable": 2}


def test_the_cross_check_catches_a_drifted_python_function() -> None:
    t = statefulset_theory()
    import math

    def rounds_up(v: dict[str, object]) -> dict[str, int]:
        value, replicas = v["maxUnavailable"], int(v["replicas"])  # type: ignore[call-overload]
        if isinstance(value, str):
            return {"MaxUnavailable": max(math.ceil(int(value[:-1]) * replicas / 100), 1)}
        return {"MaxUnavailable": max(1 if value is None else int(value), 1)}  # type: ignore[call-overload]

    drifted = replace(t, python=rounds_up)
    mismatches = cross_check(drifted, [{"replicas": 25, "maxUnavailable": "10%"}, {"replicas": 10, "maxUnavailable": 3}])
    assert [m.inputs for m in mismatches] == [{"replicas": 25, "maxUnavailable": "10%"}]
    assert mismatches[0].python == {"MaxUnavailable": 3} and mismatches[0].z3 == {"MaxUnavailable": 2}
    result = prove_theory(drifted, samples=20)
    assert result.status == FALSE and result.mismatches  # a drifted encoding is never reported as proved


def test_a_solver_that_gives_up_is_unknown_never_proved() -> None:
    t = deployment_theory()
    res = prove_property(t, t.properties[0], rlimit=1)
    assert res.status == UNKNOWN and res.counterexample is None
    result = prove_theory(t, samples=1, rlimit=1)
    assert result.status == UNKNOWN
    assert "UNKNOWN" in render([result]) and "this is not a proof" in render([result])


def test_cli_prove_prints_each_property_and_exits_zero() -> None:
    result = runner.invoke(app, ["prove", "--theory", "statefulset", "--samples", "20"])
    assert result.exit_code == 0, result.output
    out = result.stdout
    for name in ("at-least-one", "percent-at-most-all", "percent-rounds-down", "integer-kept", "unset-is-one"):
        assert f"PROVED   {name}:" in out
    assert "domain: replicas ∈ [0, 10000]" in out
    assert "cross-check: the Z3 encoding agrees with the Python functions on 30 sample inputs" in out


def test_cli_prove_timeout_is_unknown_with_a_nonzero_exit() -> None:
    result = runner.invoke(app, ["prove", "--theory", "deployment", "--samples", "1", "--timeout", "0.001"])
    assert result.exit_code == 3, result.output
    assert "UNKNOWN" in result.stdout


def test_cli_prove_rejects_an_unknown_theory() -> None:
    result = runner.invoke(app, ["prove", "--theory", "cronjob"])
    assert result.exit_code == 2
    assert "unknown theory cronjob; known: deployment, daemonset, statefulset" in result.stderr
