"""The Informal Trace Format (Apalache ADR-015, what Quint and Apalache write):
`{"#meta": {...}, "vars": [...], "states": [{...}, ...]}` with integers as
`{"#bigint": "42"}`, tuples `{"#tup": [...]}`, sets `{"#set": [...]}`, maps
`{"#map": [[k, v], ...]}`, records as JSON objects and sequences as arrays.

A kmodel trace (`kmodel export`) has the variables

* `clock`: model seconds;
* `objects`: a map from `(kind, namespace, name)` tuples to the object as Kubernetes
  JSON (a record; every integer a #bigint, a JSON null `{"#unserializable": "null"}`);
* `downNodes`: a map from node name to the model time its kubelet stopped;
* `action`: the step that led to the state, as a record (`type` and the action's
  fields, e.g. `{"type": "Reconcile", "controller": "deployment", ...}`; `Init` for the
  first state), and `mbt::actionTaken`, its type, as Quint's model-based testing writes.

`#meta` holds `epoch` (model time 0 as RFC 3339) and the scenario. States are written
one per line and read back one at a time, whatever the layout, so neither writing nor
reading holds the whole trace.
"""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any, TextIO

from kmodel.actions import Deliver, Reconcile, Schedule, Tick
from kmodel.objects.serde import encode_object
from kmodel.state import ClusterState
from kmodel.validate.observed import UNKNOWN, Observed
from kmodel.validate.source import InputProblem

ITF_VARS = ["clock", "objects", "downNodes", "action", "mbt::actionTaken"]
_CHUNK = 1 << 20


# ---- values ------------------------------------------------------------------------------


def to_itf(value: Any) -> Any:
    """A JSON value in ITF encoding (integers as #bigint, null as #unserializable)."""
    if value is None:
        return {"#unserializable": "null"}
    if isinstance(value, bool) or isinstance(value, str):
        return value
    if isinstance(value, int):
        return {"#bigint": str(value)}
    if isinstance(value, float):
        return {"#bigint": str(int(value))} if value.is_integer() else {"#unserializable": repr(value)}
    if isinstance(value, (list, tuple)):
        return [to_itf(v) for v in value]
    if isinstance(value, dict):
        return {str(k): to_itf(v) for k, v in value.items()}
    raise TypeError(f"cannot encode {type(value).__name__} in ITF")


def from_itf(value: Any) -> Any:
    """The plain JSON (Python) value of an ITF value: #bigint → int, #tup → tuple,
    #set → list, #map → dict, #unserializable "null" → None, records → dicts."""
    if isinstance(value, list):
        return [from_itf(v) for v in value]
    if not isinstance(value, dict):
        return value
    if len(value) == 1:
        ((k, v),) = value.items()
        if k == "#bigint":
            return int(v)
        if k == "#tup":
            return tuple(from_itf(x) for x in v)
        if k == "#set":
            return [from_itf(x) for x in v]
        if k == "#map":
            return {_hashable(from_itf(a)): from_itf(b) for a, b in v}
        if k == "#unserializable":
            return None if v == "null" else v
    return {k: from_itf(v) for k, v in value.items() if k != "#meta"}


def _hashable(v: Any) -> Any:
    if isinstance(v, list):
        return tuple(_hashable(x) for x in v)
    if isinstance(v, dict):
        return tuple(sorted((k, _hashable(x)) for k, x in v.items()))
    return v


# ---- actions -----------------------------------------------------------------------------


def action_record(action: Any) -> dict[str, Any]:
    """An action as an ITF record: its type, category, description and scalar fields."""
    if action is None:
        return {"type": "Init", "category": "init", "description": "initial state"}
    out: dict[str, Any] = {
        "type": type(action).__name__,
        "category": str(getattr(action, "category", "")),
        "description": action.describe() if hasattr(action, "describe") else repr(action),
    }
    if dataclasses.is_dataclass(action):
        for f in dataclasses.fields(action):
            v = getattr(action, f.name)
            if isinstance(v, (str, int, bool)):
                out[f.name] = v
    actor = getattr(action, "actor", None)
    if isinstance(actor, str):
        out["actor"] = actor
    return out


def action_of(record: Any) -> Any:
    """The model action an ITF action record describes (an `Observed` for user, fault and
    other actions, which no TRANSITION invariant reads by type)."""
    if not isinstance(record, dict):
        return Observed(category=UNKNOWN, evidence="no action in the trace")
    t = record.get("type")
    if t == "Reconcile":
        return Reconcile(str(record.get("controller", "")), str(record.get("namespace", "")), str(record.get("name", "")), str(record.get("kind", "")))
    if t == "Schedule":
        return Schedule(str(record.get("namespace", "")), str(record.get("pod", "")), str(record.get("node", "")))
    if t == "Deliver":
        return Deliver(str(record.get("issuer", "")))
    if t == "Tick":
        return Tick(int(record.get("seconds", 0)))
    return Observed(actor=str(record.get("actor", "") or ""), category=str(record.get("category", "") or UNKNOWN), evidence=str(record.get("description", t)))


# ---- writing -----------------------------------------------------------------------------


def state_record(index: int, state: ClusterState, action: Any, epoch: Any) -> dict[str, Any]:
    """One state of a kmodel trace as an ITF record."""
    objects = [[{"#tup": [o.kind, o.metadata.namespace, o.metadata.name]}, to_itf(encode_object(o, epoch))] for o in state.all_objects()]
    act = action_record(action)
    return {
        "#meta": {"index": index},
        "clock": {"#bigint": str(state.clock)},
        "objects": {"#map": objects},
        "downNodes": {"#map": [[n, {"#bigint": str(t)}] for n, t in sorted(state.env.down_nodes.items())]},
        "action": to_itf(act),
        "mbt::actionTaken": act["type"],
    }


class ITFWriter:
    """Writes an ITF trace state by state (one state per line)."""

    def __init__(self, out: TextIO, meta: dict[str, Any]) -> None:
        self.out = out
        self.count = 0
        out.write('{"#meta": ' + json.dumps({"format": "ITF", "format-description": "https://apalache-mc.org/docs/adr/015adr-trace.html", **meta}))
        out.write(',\n "vars": ' + json.dumps(ITF_VARS) + ',\n "states": [\n')

    def write(self, state: ClusterState, action: Any, epoch: Any) -> None:
        """Append one state."""
        if self.count:
            self.out.write(",\n")
        self.out.write(json.dumps(state_record(self.count, state, action, epoch), separators=(",", ":")))
        self.count += 1

    def close(self) -> None:
        """End the document."""
        self.out.write("\n]}\n")


# ---- reading -----------------------------------------------------------------------------


class _Buffer:
    """A sliding window over a text file that JSON values are decoded from, refilled
    when a value runs past its end; counts the lines consumed."""

    def __init__(self, f: TextIO) -> None:
        self.f = f
        self.text = ""
        self.pos = 0
        self.line = 1
        self.eof = False
        self.decoder = json.JSONDecoder()

    def _fill(self) -> bool:
        if self.eof:
            return False
        chunk = self.f.read(_CHUNK)
        if not chunk:
            self.eof = True
            return False
        self.line += self.text.count("\n", 0, self.pos)
        self.text = self.text[self.pos :] + chunk
        self.pos = 0
        return True

    def current_line(self) -> int:
        """The line of the current position."""
        return self.line + self.text.count("\n", 0, self.pos)

    def skip_ws(self) -> str:
        """Skip whitespace; the next character ('' at the end)."""
        while True:
            while self.pos < len(self.text) and self.text[self.pos] in " \t\r\n":
                self.pos += 1
            if self.pos < len(self.text):
                return self.text[self.pos]
            if not self._fill():
                return ""

    def expect(self, ch: str) -> bool:
        """Consume `ch` if it is next."""
        if self.skip_ws() == ch:
            self.pos += 1
            return True
        return False

    def value(self) -> Any:
        """Decode the next JSON value (refilling as needed)."""
        self.skip_ws()
        while True:
            try:
                v, end = self.decoder.raw_decode(self.text, self.pos)
            except json.JSONDecodeError as e:
                at_end = e.pos >= len(self.text.rstrip()) or e.msg.startswith("Unterminated string")
                if at_end and self._fill():
                    continue
                raise
            if end >= len(self.text) and not self.eof and isinstance(v, (int, float)):
                if self._fill():  # a number may continue in the next chunk
                    continue
            self.pos = end
            return v


def read_itf(path: str | Path) -> Iterator[tuple[int, int, Any] | InputProblem | dict[str, Any]]:
    """The states of an ITF trace, one at a time: first its `#meta` (a dict, possibly
    empty), then (index, line, state record) per state, or InputProblems."""
    from kmodel.validate.jsonstream import open_text

    file = str(path)
    try:
        f = open_text(path)
    except OSError as e:
        yield InputProblem(file, 0, f"cannot read: {e.strerror or e}")
        return
    with f:
        buf = _Buffer(f)
        try:
            if not buf.expect("{"):
                yield InputProblem(file, buf.current_line(), "an ITF trace is a JSON object with 'vars' and 'states'")
                return
            meta: dict[str, Any] = {}
            seen_states = False
            while True:
                ch = buf.skip_ws()
                if ch == "}":
                    break
                if ch == ",":
                    buf.pos += 1
                    continue
                line = buf.current_line()
                key = buf.value()
                if not isinstance(key, str) or not buf.expect(":"):
                    yield InputProblem(file, line, "malformed ITF object")
                    return
                if key != "states":
                    v = buf.value()
                    if key == "#meta" and isinstance(v, dict):
                        meta = v
                    continue
                seen_states = True
                yield meta
                if not buf.expect("["):
                    yield InputProblem(file, buf.current_line(), "'states' must be a list")
                    return
                index = 0
                while True:
                    ch = buf.skip_ws()
                    if ch == "]":
                        buf.pos += 1
                        break
                    if ch == ",":
                        buf.pos += 1
                        continue
                    if ch == "":
                        yield InputProblem(file, buf.current_line(), "truncated: the trace ends inside 'states'")
                        return
                    line = buf.current_line()
                    try:
                        state = buf.value()
                    except json.JSONDecodeError as e:
                        msg = "truncated: the state starting on this line is cut off by the end of the file" if buf.eof else f"not valid JSON: {e.msg}"
                        yield InputProblem(file, line, f"state {index}: {msg}")
                        return
                    yield index, line, state
                    index += 1
            if not seen_states:
                yield InputProblem(file, 0, "no 'states' in the ITF trace")
        except json.JSONDecodeError as e:
            yield InputProblem(file, buf.current_line(), f"not valid JSON: {e.msg}" if not buf.eof else "truncated: the file ends inside the trace")
