"""`validate`: read trace files in any supported format and check them.

Formats (`--format auto` looks at the start of each file): `watch` (kubectl watch
event streams, one file per kind or several kinds per file), `audit` (kube-apiserver
audit logs), `itf` (an ITF trace, e.g. from `kmodel export`; one file). Watch streams
and audit logs may be given together; all of them are merged into one sequence by
resourceVersion. A directory stands for the trace files in it (*.json, *.jsonl,
*.ndjson, *.log, optionally .gz).
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from invariants.registry import Invariant, select
from kmodel.errors import KModelError
from kmodel.timefmt import parse_rfc3339
from kmodel.validate.audit import AuditReader
from kmodel.validate.engine import Engine, Result
from kmodel.validate.itf import action_of, from_itf, read_itf
from kmodel.validate.jsonstream import open_text
from kmodel.validate.observed import Origin
from kmodel.validate.source import InputProblem, Item, merge_by_rv
from kmodel.validate.view import Key
from kmodel.validate.watch import read_watch

FORMATS = ("auto", "watch", "audit", "itf")
TRACE_SUFFIXES = (".json", ".jsonl", ".ndjson", ".log", ".json.gz", ".jsonl.gz", ".ndjson.gz", ".log.gz")


@dataclass
class Options:
    """How to validate."""

    format: str = "auto"
    invariants: Sequence[str] | None = None
    kubernetes_version: str = ""
    lag_seconds: int = 5
    history: int = 4096
    skip: dict[str, str] = field(default_factory=dict)


def expand(paths: Iterable[str | Path]) -> list[Path]:
    """Files of the trace: files as given, directories by their trace files (sorted)."""
    out: list[Path] = []
    for p in map(Path, paths):
        if p.is_dir():
            out.extend(sorted(f for f in p.iterdir() if f.is_file() and f.name.endswith(TRACE_SUFFIXES)))
        else:
            out.append(p)
    return out


def sniff(path: Path) -> str:
    """The format of a trace file from its first 64 KiB."""
    try:
        with open_text(path) as f:
            head = f.read(65536)
    except OSError:
        return "watch"
    if '"#meta"' in head[:4096] or ('"states"' in head and '"vars"' in head):
        return "itf"
    if '"auditID"' in head or "audit.k8s.io/" in head:
        return "audit"
    return "watch"


def validate(paths: Iterable[str | Path], options: Options | None = None, invariants: list[Invariant] | None = None) -> Result:
    """Check a trace (watch streams, audit logs, or one ITF file) against the invariants."""
    opts = options or Options()
    if opts.format not in FORMATS:
        raise KModelError(f"unknown format {opts.format!r}; use one of {', '.join(FORMATS)}")
    files = expand(paths)
    if not files:
        raise KModelError("no trace files given (or the directories hold no *.json/*.jsonl files)")
    invs = invariants if invariants is not None else select(opts.invariants)
    engine = Engine(invs, lag_seconds=opts.lag_seconds, history=opts.history)
    for name, reason in opts.skip.items():
        from dataclasses import replace

        if name in engine.policies:
            engine.policies[name] = replace(engine.policies[name], skip=reason)
    formats = {f: (opts.format if opts.format != "auto" else sniff(f)) for f in files}
    missing = [f for f in files if not f.exists()]
    for f in missing:
        engine.input_problem(str(f), 0, "no such file")
    present = [f for f in files if f.exists()]
    itf = [f for f in present if formats[f] == "itf"]
    if itf:
        if len(present) > 1:
            raise KModelError(f"an ITF trace is validated alone; got {len(present)} files ({', '.join(map(str, present))})")
        _run_itf(engine, itf[0])
    else:
        streams: list[Iterable[Item]] = []
        readers: list[AuditReader] = []
        for f in present:
            if formats[f] == "audit":
                r = AuditReader(f)
                readers.append(r)
                streams.append(r)
            else:
                streams.append(read_watch(f))
        for item in merge_by_rv(streams):
            engine.feed(item)
        for r in readers:
            for why, n in sorted(r.skipped.items()):
                engine.counts[f"audit entries skipped: {why}"] += n
    result = engine.finish()
    result.notes.append(f"formats: {', '.join(sorted({formats[f] for f in present})) or 'none'}; files: {len(present)}")
    if opts.kubernetes_version:
        result.notes.append(f"Kubernetes version of the trace: {opts.kubernetes_version} (the invariants do not depend on it; it is recorded)")
    return result


def _itf_key(k: Any) -> Key | None:
    if isinstance(k, tuple) and len(k) == 3 and all(isinstance(x, str) for x in k):
        return (k[0], k[1], k[2])
    if isinstance(k, str) and k.count("/") >= 1:
        parts = k.split("/")
        if len(parts) == 3:
            return (parts[0], parts[1], parts[2])
        return (parts[0], "", parts[1])
    return None


def _run_itf(engine: Engine, path: Path) -> None:
    """Feed the states of an ITF trace to the engine."""
    file = str(path)
    # an ITF trace holds every state of a run, each step as the model took it: no
    # observation lag to allow for
    engine.lag_seconds = 0
    items: Iterator[Any] = iter(read_itf(path))
    for item in items:
        if isinstance(item, InputProblem):
            engine.input_problem(item.file, item.line, item.message)
            continue
        if isinstance(item, dict):
            epoch = item.get("epoch")
            try:
                engine.set_epoch(parse_rfc3339(epoch) if isinstance(epoch, str) else parse_rfc3339("2024-01-01T00:00:00Z"))
            except ValueError:
                engine.input_problem(file, 0, f"#meta.epoch {epoch!r} is not an RFC 3339 timestamp")
                engine.set_epoch(parse_rfc3339("2024-01-01T00:00:00Z"))
            continue
        index, line, record = item
        if engine.epoch is None:
            engine.set_epoch(parse_rfc3339("2024-01-01T00:00:00Z"))
        if not isinstance(record, dict):
            engine.input_problem(file, line, f"state {index}: a state is a record")
            continue
        state = from_itf(record)
        clock = state.get("clock")
        objs = state.get("objects")
        if not isinstance(clock, int) or not isinstance(objs, dict):
            engine.input_problem(file, line, f"state {index}: a kmodel trace state has 'clock' (an integer) and 'objects' (a map)")
            continue
        objects: dict[Key, dict[str, Any]] = {}
        for k, v in objs.items():
            key = _itf_key(k)
            if key is None or not isinstance(v, dict):
                engine.input_problem(file, line, f"state {index}: objects are keyed by (kind, namespace, name) and are Kubernetes objects; got key {k!r}")
                continue
            objects[key] = v
        down = state.get("downNodes")
        origin = Origin(file, line, None, f"state {index}")
        engine.state(index, clock, objects, action_of(state.get("action")), origin, down if isinstance(down, dict) else None)
