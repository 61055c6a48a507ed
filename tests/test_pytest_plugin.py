"""The pytest plugin: a user's test suite uses the `kmodel` fixture on its own controller."""

from __future__ import annotations

from pathlib import Path

pytest_plugins = ["pytester"]

USER_TEST = """
from tests_support import SCENARIO

def test_reference_passes(kmodel):
    out = kmodel.explore(SCENARIO, examples=5, steps=8)
    assert out.passed, out.summary
    assert (out.directory / "report.html").exists()

def test_broken_is_caught(kmodel):
    out = kmodel.explore(SCENARIO, impl={"taint-eviction": "tests.test_explore:EagerTaintEviction"}, examples=60, steps=25, seed=3)
    assert not out.passed
    assert "taint-eviction-timing" in out.summary
"""


def test_fixture_in_a_users_suite(pytester, tmp_path: Path) -> None:
    import yaml

    from tests.test_explore import SMALL

    scenario = tmp_path / "small.yaml"
    scenario.write_text(yaml.safe_dump(SMALL))
    pytester.makepyfile(tests_support=f"SCENARIO = {str(scenario)!r}\n")
    pytester.makepyfile(test_user=USER_TEST)
    repo = Path(__file__).resolve().parents[1]
    pytester.syspathinsert(str(repo))
    result = pytester.runpytest("--kmodel-reports", str(tmp_path / "reports"), "-q")
    result.assert_outcomes(passed=2)
    assert any((tmp_path / "reports").rglob("report.json"))
