"""Stable hashes are the same in every process and every version of the encoder: pinned
values of a few shapes (primitives, containers, a str enum, API objects with cached parts).
A change here changes every fingerprint a saved report or trace refers to."""

from __future__ import annotations

import enum
import subprocess
import sys
from pathlib import Path

import pytest

from kmodel.fingerprint import stable_hash
from kmodel.frozen import FrozenDict
from tests.builders import node, replicaset


class Color(str, enum.Enum):
    RED = "red"


def _values() -> dict[str, object]:
    return {
        "primitives": (None, True, 3, 2.5, "a'b"),
        "nested": {"b": (1, frozenset({"x", "y"})), "a": FrozenDict({"k": None})},
        "enum": (Color.RED,),
        "node": node("n1"),
        "replicaset": replicaset("web", 2),
    }


PINNED = {
    "primitives": 0xA68B0CDC37DA31FF,
    "nested": 0x266340B45FBA4EA7,
    "enum": 0x28F3EA085952DB0E,
    "node": 0xF650CD8E320D71EB,
    "replicaset": 0x117325E948EDF0F6,
}


@pytest.mark.parametrize("name", sorted(PINNED))
def test_stable_hash_is_pinned(name: str) -> None:
    assert stable_hash(_values()[name]) == PINNED[name]


def test_stable_hash_does_not_depend_on_the_process() -> None:
    code = "from tests.test_fingerprint import _values; from kmodel.fingerprint import stable_hash; print(stable_hash(_values()['nested']))"
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, env={"PYTHONHASHSEED": "7"}, cwd=Path(__file__).parents[1]
    ).stdout
    assert int(out) == PINNED["nested"]


def test_unsupported_values_are_refused() -> None:
    with pytest.raises(TypeError):
        stable_hash([1, 2])
    with pytest.raises(TypeError):
        stable_hash({1, 2})
