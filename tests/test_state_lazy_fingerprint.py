"""Regression: a step that changes no object (only actor memory, the clock) taken from a
state whose object fingerprint was not computed yet must keep the link to that state, or
its fingerprint is computed from nothing (found by trace validation: states that were equal
compared unequal)."""

from __future__ import annotations

from kmodel.state import empty_state, state_of
from tests.builders import node


def test_memory_only_step_after_an_unfingerprinted_state_keeps_the_objects_fingerprint() -> None:
    tx = empty_state().edit()
    tx.put(node("n1"))
    with_node = tx.commit()  # object fingerprint not computed yet
    tx = with_node.edit()
    tx.remember("controller", "something")
    remembered = tx.commit()  # no object changed
    fresh = state_of(remembered.all_objects())
    assert remembered.object_fp == fresh.object_fp != 0
    assert with_node.object_fp == fresh.object_fp
