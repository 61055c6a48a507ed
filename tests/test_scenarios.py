"""Scenario files in tests/scenarios encode documented Kubernetes behaviour as
expectations; each must run with every expectation met and no invariant violated."""

from __future__ import annotations

from pathlib import Path

import pytest

from kmodel.runner import run_scenario
from kmodel.scenario import load_scenario

SCENARIOS = sorted((Path(__file__).parent / "scenarios").glob("*.yaml"))
BUILTIN = sorted((Path(__file__).resolve().parents[1] / "kmodel" / "scenarios").glob("*.yaml"))


@pytest.mark.parametrize("path", SCENARIOS + BUILTIN, ids=lambda p: p.stem)
def test_scenario(path: Path) -> None:
    result = run_scenario(load_scenario(path))
    assert result.failures == [], "\n".join(result.failures)
    assert result.violations == [], "\n".join(map(str, result.violations))
    assert any(s.description == "expect" for s in result.steps), "a scenario test must check something"
