"""`kmodel export SCENARIO --out trace.itf.json`: run a scenario and write every state
of the run (each step, including every action inside a `settle`) as an ITF trace, for
Quint/Apalache tooling and for `kmodel validate` to read back."""

from __future__ import annotations

import os
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from kmodel.model import Model
from kmodel.scenario import ExpectStep, Scenario, SettleStep
from kmodel.state import ClusterState, empty_state
from kmodel.timefmt import to_rfc3339
from kmodel.validate.itf import ITFWriter


@dataclass
class Exported:
    """What an export wrote."""

    path: Path
    states: int
    final: ClusterState


def export_scenario(scenario: Scenario, out: str | Path, *, model: Model | None = None) -> Exported:
    """Run `scenario` (with `model`, by default the reference model of its config) and
    write each state it passes through to `out` as ITF, atomically."""
    model = model or Model(scenario.config)
    epoch = scenario.config.epoch
    path = Path(out)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            meta = {
                "source": scenario.source,
                "scenario": scenario.name,
                "epoch": to_rfc3339(0, epoch),
                "kubernetesVersion": scenario.config.kubernetes_version,
                "description": "kmodel export: every state of a scenario run",
            }
            writer = ITFWriter(f, meta)
            state = empty_state()
            writer.write(state, None, epoch)

            def on_step(_prev: ClusterState, action: Any, nxt: ClusterState) -> None:
                writer.write(nxt, action, epoch)

            for step in scenario.steps:
                if isinstance(step, ExpectStep):
                    continue
                if isinstance(step, SettleStep):
                    state = model.settle(state, max_steps=step.max_steps, horizon=step.horizon, on_step=on_step).state
                    continue
                nxt = model.step(state, step)
                if nxt is not state:
                    on_step(state, step, nxt)
                state = nxt
            writer.close()
        os.replace(tmp, path)
    except BaseException:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        raise
    return Exported(path, writer.count, state)
