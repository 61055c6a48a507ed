"""The catalogue of deliberately broken controllers (kmodel.catalogue): every entry is
caught by its engine with the invariant it names, the reference implementation passes the
same scenario with the same engine and budget, and every known miss still shows its
misbehaviour (a witness state the reference never reaches) without being reported."""

from __future__ import annotations

import fnmatch
import inspect
import tomllib
from pathlib import Path

import pytest
from typer.testing import CliRunner

from invariants.registry import load_all
from kmodel.catalogue import BUGS, KNOWN_MISSES, SCENARIOS, Bug, by_id
from kmodel.catalogue.detect import detect, witness_search
from kmodel.cli import app
from kmodel.explore import ExploreOptions, build_model, explore
from kmodel.plugins import load_impl

ROOT = Path(__file__).resolve().parents[1]


def _ids(bugs: list[Bug]) -> list[str]:
    return [b.id for b in bugs]


# ---- the registry ----------------------------------------------------------------------------


def test_registry_has_at_least_twelve_bugs_across_controllers() -> None:
    assert len(BUGS) >= 12
    assert len({b.id for b in BUGS + KNOWN_MISSES}) == len(BUGS) + len(KNOWN_MISSES)
    assert len({b.controller for b in BUGS}) >= 6
    assert {b.engine for b in BUGS} == {"hypothesis", "exhaustive"}
    assert by_id(BUGS[0].id) is BUGS[0]
    with pytest.raises(KeyError):
        by_id("no-such-bug")


@pytest.mark.parametrize("bug", BUGS + KNOWN_MISSES, ids=_ids(BUGS + KNOWN_MISSES))
def test_entry_loads_as_an_impl_of_the_actor_it_replaces(bug: Bug) -> None:
    actor = load_impl(bug.option)
    assert actor.name == bug.actor
    reference = build_model(bug.load_scenario().config).actor(bug.actor)
    assert isinstance(actor, type(reference)) and type(actor) is not type(reference)
    doc = inspect.getdoc(type(actor)) or ""
    # the docstring cites the upstream bug (or names the classic mistake) and the invariant
    assert "kubernetes/kubernetes#" in doc or "classic mistake" in doc.lower()
    if bug in BUGS:
        assert f"`{bug.invariant}`" in doc
        assert bug.invariant in load_all()
    else:
        assert bug.missed and bug.witness and "Witness" in doc
    assert bug.citation and bug.summary
    assert bug.scenario_path.is_file()


def test_scenarios_are_package_data() -> None:
    data = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"]["package-data"]["kmodel"]
    kmodel_dir = ROOT / "kmodel"
    for path in SCENARIOS.glob("*.yaml"):
        rel = path.relative_to(kmodel_dir).as_posix()
        assert any(fnmatch.fnmatch(rel, pattern) for pattern in data), f"{rel} is not package data"
    used = {b.scenario for b in BUGS + KNOWN_MISSES}
    assert used == {p.name for p in SCENARIOS.glob("*.yaml")}, "every scenario belongs to an entry"


# ---- caught, and no false alarm ---------------------------------------------------------------


@pytest.mark.parametrize("bug", BUGS, ids=_ids(BUGS))
def test_bug_is_caught_with_the_expected_invariant(bug: Bug) -> None:
    found = detect(bug)
    assert found.caught, f"{bug.id} not caught by {bug.engine}: {found.notes}"
    assert bug.invariant in found.invariants, found.message
    assert not any("found while setting up" in n for n in found.notes), "the scenario's setup must not already trip the bug"


@pytest.mark.parametrize("bug", BUGS, ids=_ids(BUGS))
def test_reference_passes_the_same_check(bug: Bug) -> None:
    found = detect(bug, reference=True)
    assert not found.caught, found.message
    if bug.engine == "exhaustive":
        assert found.complete, f"the reference's exploration of {bug.scenario} should be complete: {found.notes}"
    else:
        assert found.examples is not None and found.examples >= bug.examples


# ---- the user-facing paths ----------------------------------------------------------------------


def test_explore_finds_shrinks_and_replays_a_hypothesis_entry(tmp_path: Path) -> None:
    bug = by_id("taint-ignores-toleration-seconds")
    opts = ExploreOptions(scenario=bug.load_scenario(), examples=bug.examples, steps=bug.steps, seed=bug.seed, out_dir=tmp_path, actor_overrides=[bug.make()])
    out = explore(opts)
    assert out.report.status == "violated"
    assert bug.invariant in {v.invariant for v in out.violations}
    assert out.report.counterexample is not None and out.report.counterexample.reproduced is True


def test_cli_impl_option_catches_an_exhaustive_entry_and_passes_the_reference(tmp_path: Path) -> None:
    bug = by_id("gc-cluster-owner-in-dependent-namespace")
    runner = CliRunner()
    args = ["explore", str(bug.scenario_path), "--exhaustive", "--no-coverage", "--out", str(tmp_path)]
    broken = runner.invoke(app, [*args, "--run-name", "bug", "--impl", bug.option])
    assert broken.exit_code == 1, broken.output
    assert bug.invariant in broken.output
    reference = runner.invoke(app, [*args, "--run-name", "reference"])
    assert reference.exit_code == 0, reference.output


# ---- known misses ---------------------------------------------------------------------------------


@pytest.mark.parametrize("bug", KNOWN_MISSES, ids=_ids(KNOWN_MISSES))
def test_known_miss_misbehaves_where_the_reference_does_not(bug: Bug) -> None:
    assert witness_search(bug).witnessed, f"{bug.id}: the broken actor never reaches {bug.witness}"
    ref = witness_search(bug, reference=True)
    assert not ref.witnessed, f"{bug.witness} is no sound invariant: the reference reaches it"
    assert ref.complete


@pytest.mark.parametrize("bug", KNOWN_MISSES, ids=_ids(KNOWN_MISSES))
def test_known_miss_is_still_not_reported(bug: Bug) -> None:
    """If this fails, kmodel now catches the bug: move the entry to BUGS."""
    found = detect(bug)
    assert not found.caught, f"{bug.id} is caught now ({found.invariants}): move it from KNOWN_MISSES to BUGS"


# ---- a model defect found while building the catalogue ---------------------------------------------


TWO_SCRIPTED_UPDATES = {
    "name": "ds-two-scripted-updates",
    "steps": [{"addNode": {"name": f"n{i}", "cpu": "1"}} for i in (1, 2, 3)]
    + [
        {
            "apply": {
                "apiVersion": "apps/v1",
                "kind": "DaemonSet",
                "metadata": {"name": "agent"},
                "spec": {
                    "selector": {"matchLabels": {"app": "agent"}},
                    "updateStrategy": {"type": "RollingUpdate", "rollingUpdate": {"maxUnavailable": 1}},
                    "template": {"metadata": {"labels": {"app": "agent"}}, "spec": {"containers": [{"name": "agent", "image": "agent:1"}]}},
                },
            }
        },
        {"settle": {}},
    ],
    "explore": {
        "faults": [],
        "maxFaults": 0,
        "horizon": 0,
        "script": [
            {
                "apply": {
                    "apiVersion": "apps/v1",
                    "kind": "DaemonSet",
                    "metadata": {"name": "agent"},
                    "spec": {
                        "selector": {"matchLabels": {"app": "agent"}},
                        "updateStrategy": {"type": "RollingUpdate", "rollingUpdate": {"maxUnavailable": 1}},
                        "template": {
                            "metadata": {"labels": {"app": "agent"}},
                            "spec": {"containers": [{"name": "agent", "image": "agent:1", "resources": {"requests": {"cpu": cpu}}}]},
                        },
                    },
                }
            }
            for cpu in ("2", "3")
        ],
    },
}


def test_exhaustive_explorer_keeps_states_apart_after_scripted_actions(tmp_path: Path) -> None:
    """Regression (found with the catalogue; fixed in kmodel.state by e948405): every state right
    after a scripted action used to get object fingerprint 0, so the exhaustive explorer merged
    states with different objects and, through the successor cache, reported a
    ControllerRevision "moving" its uid (uid-immutable) on the reference DaemonSet controller
    under two scripted updates. The exploration is complete and clean."""
    from kmodel.exhaustive_run import ExhaustiveOptions, run_exhaustive
    from kmodel.scenario import parse_scenario

    report, _, result = run_exhaustive(ExhaustiveOptions(scenario=parse_scenario(TWO_SCRIPTED_UPDATES, "two-updates.yaml"), out_dir=tmp_path))
    assert report.status == "passed", report.counterexample.message if report.counterexample else report.notes
    assert result is not None and result.complete and result.distinct_states > 10


def test_docs_list_every_entry_with_its_invariant() -> None:
    """docs/catalogue.md names every caught bug with its invariant and every known miss."""
    doc = (Path(__file__).parent.parent / "docs" / "catalogue.md").read_text()
    caught, _, missed = doc.partition("## Known misses")
    for bug in BUGS:
        row = next((line for line in caught.splitlines() if line.startswith(f"| `{bug.id}` |")), "")
        assert f"`{bug.invariant}`" in row and f"`{bug.option}`" in row, bug.id
    for bug in KNOWN_MISSES:
        assert f"| `{bug.id}` |" in missed, bug.id
