"""Other implementations plugged in: --impl loading and its errors, plugins registering
custom kinds, controllers and invariants, and the differential comparison."""

from __future__ import annotations

import sys
from collections.abc import Sequence
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest

from invariants.registry import select
from kmodel import apiserver
from kmodel.config import ModelConfig
from kmodel.differential import Differential
from kmodel.explore import ExploreOptions, build_model, explore
from kmodel.plugins import PluginError, load_impl, load_plugin
from kmodel.runner import run_scenario
from kmodel.scenario import load_scenario
from kmodel.state import ClusterState

EXAMPLE = Path(__file__).resolve().parents[1] / "examples" / "webapp"


@pytest.fixture(scope="module", autouse=True)
def webapp_plugin() -> None:
    sys.path.insert(0, str(EXAMPLE))
    load_plugin("webapp_plugin")


def test_impl_option_errors_are_clear() -> None:
    for bad, fragment in [
        ("nodelimiter", "expected NAME=package.module:Class"),
        ("x=no.such.module:C", "cannot import"),
        ("x=kmodel.model:NoSuchThing", "has no attribute"),
        ("x=kmodel.frozen:FrozenDict", "not a kmodel actor"),
    ]:
        with pytest.raises(PluginError, match=fragment):
            load_impl(bad)
    actor = load_impl("replicaset=kmodel.controllers.replicaset:ReplicaSetController")
    assert actor.name == "replicaset"


def test_plugin_without_register_is_rejected() -> None:
    with pytest.raises(PluginError, match="register"):
        load_plugin("kmodel.frozen")


def test_example_operator_runs_with_builtin_controllers_and_gc() -> None:
    result = run_scenario(load_scenario(EXAMPLE / "scenario.yaml"))
    assert result.failures == [] and result.violations == []
    names = {i.name for i in select()}
    assert {"webapp-deployment", "webapp-no-leftovers"} <= names


def test_buggy_operator_is_caught() -> None:
    buggy = load_impl("webapp=webapp_plugin.buggy:ForgetfulWebAppController")
    result = run_scenario(load_scenario(EXAMPLE / "scenario.yaml"), model=build_model(ModelConfig(), None, [buggy]))
    assert {v.invariant for v in result.violations} >= {"webapp-no-leftovers"}


class LatestImageOperator:
    """Diverges where no invariant looks: it ignores the requested image."""

    def __new__(cls) -> Any:
        from webapp_plugin.controller import WebAppController

        class _Impl(WebAppController):
            def reconcile(self, state: ClusterState, webapp: Any, config: ModelConfig) -> Sequence[apiserver.Request]:
                spec = dict(webapp.body.get("spec", {}))
                spec["image"] = "nginx:latest"
                from kmodel.frozen import freeze

                return super().reconcile(state, replace(webapp, body=webapp.body.set("spec", freeze(spec))), config)

        return _Impl()


def test_differential_reports_a_divergence_no_invariant_sees(tmp_path: Path) -> None:
    impl = LatestImageOperator()
    full = load_scenario(EXAMPLE / "scenario.yaml")
    sc = replace(full, steps=full.steps[:4])  # nodes, the WebApp, settle: explore while it exists
    plain = explore(ExploreOptions(scenario=sc, out_dir=tmp_path / "a", examples=5, steps=8, actor_overrides=[impl]))
    assert plain.report.status == "passed", "no invariant looks at the image"
    diff = explore(ExploreOptions(scenario=sc, out_dir=tmp_path / "b", examples=20, steps=8, actor_overrides=[impl], differential=True))
    assert diff.report.status == "violated"
    assert diff.violations[0].invariant == "differential"
    assert "Deployment default/shop" in diff.violations[0].message and "nginx" in diff.violations[0].message


def test_differential_is_silent_for_the_reference_itself() -> None:
    model = build_model(ModelConfig())
    d = Differential(model, ("webapp",))
    state = run_scenario(load_scenario(EXAMPLE / "scenario.yaml")).state
    assert d.check(state) == []
