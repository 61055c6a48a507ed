"""A pytest plugin (registered through the `pytest11` entry point) so that users' own
test suites can run kmodel explorations over their own controllers and get the usual
reports."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest


def pytest_addoption(parser: pytest.Parser) -> None:
    """--kmodel-reports DIR: where the `kmodel` fixture writes reports."""
    group = parser.getgroup("kmodel")
    group.addoption("--kmodel-reports", default="reports/pytest", help="directory for kmodel reports (default: reports/pytest)")


@dataclass
class Outcome:
    """What an exploration found, for assertions."""

    passed: bool
    summary: str
    report: Any
    directory: Path


class KModelFixture:
    """Runs explorations and scenarios for one test."""

    def __init__(self, reports: Path) -> None:
        self.reports = reports

    def _overrides(self, impl: Mapping[str, Any] | None) -> list[Any]:
        from kmodel.plugins import check_actor, load_impl

        out = []
        for name, actor in (impl or {}).items():
            if isinstance(actor, str):
                out.append(load_impl(f"{name}={actor}"))
                continue
            actor = check_actor(actor() if isinstance(actor, type) else actor, f"impl {name!r}")
            actor.name = name
            out.append(actor)
        return out

    def explore(
        self,
        scenario: str | Path | None = None,
        *,
        impl: Mapping[str, Any] | None = None,
        examples: int = 50,
        steps: int = 25,
        seed: int = 0,
        exhaustive: bool = False,
        differential: bool = False,
        invariants: list[str] | None = None,
        max_states: int | None = None,
    ) -> Outcome:
        """Explore `scenario` (default: the built-in one) with Hypothesis or exhaustively."""
        from kmodel.explore import ExploreOptions, default_scenario, explore
        from kmodel.scenario import load_scenario

        sc = load_scenario(scenario) if scenario is not None else default_scenario()
        overrides = self._overrides(impl)
        if exhaustive:
            from kmodel.exhaustive_run import ExhaustiveOptions, run_exhaustive

            report, directory, _ = run_exhaustive(
                ExhaustiveOptions(
                    scenario=sc,
                    out_dir=self.reports,
                    actor_overrides=overrides,
                    differential=differential,
                    invariants=invariants,
                    max_states=max_states,
                )
            )
        else:
            out = explore(
                ExploreOptions(
                    scenario=sc,
                    examples=examples,
                    steps=steps,
                    seed=seed,
                    out_dir=self.reports,
                    actor_overrides=overrides,
                    differential=differential,
                    invariants=invariants,
                )
            )
            report, directory = out.report, out.directory
        summary = f"{report.status}: {report.stats}"
        if report.counterexample is not None:
            summary += f"\n{report.counterexample.message}\nreplay: {report.counterexample.replay_command}"
        return Outcome(report.status == "passed", summary, report, directory)

    def run(self, scenario: str | Path, *, impl: Mapping[str, Any] | None = None) -> Any:
        """Run a scenario; returns kmodel.runner.RunResult (`.ok`, `.violations`, `.failures`, `.state`)."""
        from kmodel.config import ModelConfig
        from kmodel.explore import build_model
        from kmodel.runner import run_scenario
        from kmodel.scenario import load_scenario

        sc = load_scenario(scenario)
        return run_scenario(sc, model=build_model(sc.config or ModelConfig(), None, self._overrides(impl)))


@pytest.fixture
def kmodel(request: pytest.FixtureRequest) -> KModelFixture:
    """Explore scenarios against your own controllers; reports under --kmodel-reports/<test>."""
    base = Path(request.config.getoption("--kmodel-reports"))
    safe = re.sub(r"[^A-Za-z0-9_.-]+", "_", request.node.nodeid)
    return KModelFixture(base / safe)
