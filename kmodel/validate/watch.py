"""The event stream of `kubectl get <kinds> --watch --output-watch-events -o json`.

Each event is `{"type": ADDED|MODIFIED|DELETED|BOOKMARK|ERROR, "object": {...}}`,
compact (one per line) or indented over several lines. A stream without event types
(`kubectl get -w -o json` without --output-watch-events) is read too: each object is an
upsert (its deletions are invisible). A `List` is unwrapped into its items.

BOOKMARK events only carry a resourceVersion and are counted. An ERROR event carries a
Status (typically 410 Gone: the watch fell too far behind); it is reported as an input
problem because events after it may be missing.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

from kmodel.validate.jsonstream import JsonProblem, iter_file_values
from kmodel.validate.source import ADDED, DELETED, MODIFIED, SYNC, InputProblem, Item, Marker, RawEvent, parse_rv

EVENT_TYPES = (ADDED, MODIFIED, DELETED, "BOOKMARK", "ERROR")


def _describe(value: Any) -> str:
    if isinstance(value, list):
        return "a list"
    if isinstance(value, dict):
        return "an object"
    return type(value).__name__


def object_event(etype: str, obj: Any, file: str, line: int) -> RawEvent | InputProblem:
    """A RawEvent for an object of a write event, or the problem that prevents it."""
    if not isinstance(obj, dict):
        return InputProblem(file, line, f"{etype} event: 'object' must be a Kubernetes object, got {_describe(obj)}")
    kind = obj.get("kind")
    meta = obj.get("metadata")
    if not isinstance(kind, str) or not kind:
        return InputProblem(file, line, f"{etype} event: the object has no kind")
    if not isinstance(meta, dict):
        return InputProblem(file, line, f"{etype} event: {kind} without metadata")
    name = meta.get("name")
    if not isinstance(name, str) or not name:
        return InputProblem(file, line, f"{etype} event: {kind} without metadata.name")
    ns = meta.get("namespace", "")
    rv = parse_rv(meta.get("resourceVersion"))
    if rv is None:
        return InputProblem(
            file,
            line,
            f"{etype} event: {kind} {ns + '/' if ns else ''}{name} has no valid metadata.resourceVersion "
            f"({meta.get('resourceVersion')!r}); it cannot be placed in the sequence",
        )
    return RawEvent(etype, kind, ns if isinstance(ns, str) else "", name, rv, obj, file, line)


def _status_message(obj: Any) -> str:
    if not isinstance(obj, dict):
        return "no status"
    parts = [str(obj[k]) for k in ("code", "reason") if obj.get(k) not in (None, "")]
    msg = obj.get("message")
    return (" ".join(parts) + (f": {msg}" if msg else "")) or "no details"


def events_of_value(value: Any, file: str, line: int) -> Iterator[Item]:
    """The events (or problems) of one JSON value of a watch stream."""
    if not isinstance(value, dict):
        yield InputProblem(file, line, f"expected a watch event {{type, object}}, got {_describe(value)}")
        return
    if "type" not in value and "object" not in value:
        kind = value.get("kind")
        if isinstance(kind, str) and kind.endswith("List") and isinstance(value.get("items"), list):
            for item in value["items"]:
                if isinstance(item, dict) and "kind" not in item and kind != "List":
                    item = {"kind": kind[: -len("List")], **item}
                yield object_event(SYNC, item, file, line)
            return
        if isinstance(kind, str) and "metadata" in value:
            yield object_event(SYNC, value, file, line)
            return
        yield InputProblem(file, line, "expected a watch event {type, object}: no 'type' and no 'object'")
        return
    etype = value.get("type")
    if etype not in EVENT_TYPES:
        yield InputProblem(file, line, f"unknown watch event type {etype!r} (expected one of {', '.join(EVENT_TYPES)})")
        return
    if "object" not in value or value["object"] is None:
        yield InputProblem(file, line, f"{etype} event without 'object'")
        return
    obj = value["object"]
    if etype == "BOOKMARK":
        meta = obj.get("metadata") if isinstance(obj, dict) else None
        yield Marker("BOOKMARK", file, line, parse_rv(meta.get("resourceVersion")) if isinstance(meta, dict) else None)
        return
    if etype == "ERROR":
        yield InputProblem(file, line, f"the watch ended with an error from the API server ({_status_message(obj)}); events after it may be missing")
        return
    yield object_event(etype, obj, file, line)


def read_watch(path: str | Path) -> Iterator[Item]:
    """Every event of one watch file, in file order, with problems in place of
    unreadable events."""
    file = str(path)
    try:
        values = iter_file_values(path)
        for v in values:
            if isinstance(v, JsonProblem):
                yield InputProblem(file, v.line, v.message)
                continue
            line, value = v
            yield from events_of_value(value, file, line)
    except OSError as e:
        yield InputProblem(file, 0, f"cannot read: {e.strerror or e}")
