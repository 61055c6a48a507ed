"""Helpers for the trace-validation tests: copies of the recorded samples to doctor, and
watch traces of model runs written the way `kubectl get --watch -o json` writes them."""

from __future__ import annotations

import json
import shutil
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

from kmodel.scenario import parse_scenario
from kmodel.validate.record import KINDS as RECORD_KINDS
from kmodel.validate.run import Options, validate
from kmodel.validate.synth import run_scenario_events

SAMPLES = Path(__file__).resolve().parents[2] / "shared" / "samples" / "kubectl-watch"
if not SAMPLES.exists():  # a clone with shared/ beside it (CI)
    SAMPLES = Path(__file__).resolve().parents[1].parent / "shared" / "samples" / "kubectl-watch"
PLURAL = {s.kind: s.plural for s in RECORD_KINDS.values()}


def sample(name: str, tmp: Path) -> Path:
    """A writable copy of a recorded sample (only its .jsonl watch files)."""
    out = tmp / name
    out.mkdir(parents=True)
    for f in sorted((SAMPLES / name).glob("*.jsonl")):
        shutil.copy(f, out / f.name)
        (out / f.name).chmod(0o644)
    return out


def lines(path: Path) -> list[str]:
    """The lines of a file, without line ends."""
    return path.read_text(encoding="utf-8").splitlines()


def write_lines(path: Path, content: Iterable[str]) -> None:
    """Write lines (with line ends)."""
    path.write_text("".join(x + "\n" for x in content), encoding="utf-8")


def event_at(path: Path, line: int) -> dict[str, Any]:
    """The event on (1-based) line `line` of a one-event-per-line file."""
    return dict(json.loads(lines(path)[line - 1]))


def edit_event(path: Path, line: int, fn: Callable[[dict[str, Any]], None]) -> None:
    """Apply `fn` to the event on `line` and write it back in place."""
    ls = lines(path)
    ev = json.loads(ls[line - 1])
    fn(ev)
    ls[line - 1] = json.dumps(ev, separators=(",", ":"))
    write_lines(path, ls)


def find_line(path: Path, pred: Callable[[dict[str, Any]], bool]) -> int:
    """The first (1-based) line whose event satisfies `pred`."""
    for i, raw in enumerate(lines(path), 1):
        if pred(json.loads(raw)):
            return i
    raise AssertionError(f"no such event in {path}")


def write_watch(events: Iterable[tuple[str, dict[str, Any]]], directory: Path) -> dict[str, Path]:
    """Per-kind watch files (`<plural>.jsonl`, one event per line) of (kind, event) pairs."""
    directory.mkdir(parents=True, exist_ok=True)
    out: dict[str, list[str]] = {}
    for kind, ev in events:
        out.setdefault(kind, []).append(json.dumps(ev, separators=(",", ":")))
    paths = {}
    for kind, ls in out.items():
        p = directory / f"{PLURAL[kind]}.jsonl"
        write_lines(p, ls)
        paths[kind] = p
    return paths


def scenario_watch(data: dict[str, Any], directory: Path, model: Any = None) -> dict[str, Path]:
    """The watch files of a model run of an inline scenario."""
    return write_watch(run_scenario_events(parse_scenario(data, "inline"), model), directory)


def run(paths: list[Path] | Path, **options: Any) -> Any:
    """validate() with Options."""
    return validate(paths if isinstance(paths, list) else [paths], Options(**options))


def names(result: Any) -> list[str]:
    """The invariants of the violations found."""
    return [f.invariant for f in result.violations]
