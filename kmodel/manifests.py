"""Loading manifests: YAML or JSON files with one or more documents, `kind: List`
(and `<Kind>List`) unwrapped, each object decoded, defaulted and validated.

Errors name the file (with the line for YAML syntax errors), the object and the field.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

import yaml

from kmodel.errors import Location, ManifestError, Note
from kmodel.objects.kinds import APIObject
from kmodel.objects.serde import decode_object, describe_raw
from kmodel.timefmt import DEFAULT_EPOCH


@dataclass
class Loaded:
    """Objects decoded from a manifest source, with notes about unmodelled fields."""

    objects: list[APIObject] = field(default_factory=list)
    notes: list[Note] = field(default_factory=list)


def _yaml_error(source: str, err: yaml.YAMLError) -> ManifestError:
    mark = getattr(err, "problem_mark", None) or getattr(err, "context_mark", None)
    where = f"{source}:{mark.line + 1}:{mark.column + 1}" if mark is not None else source
    problem = getattr(err, "problem", None) or str(err)
    return ManifestError(Location(where), f"invalid YAML: {problem}")


def parse_documents(text: str, source: str) -> list[Any]:
    """The YAML/JSON documents of `text` (empty documents skipped)."""
    try:
        docs = list(yaml.safe_load_all(text))
    except yaml.YAMLError as e:
        raise _yaml_error(source, e) from None
    return [d for d in docs if d is not None]


def unwrap_lists(docs: list[Any], source: str) -> list[tuple[Any, str]]:
    """Flatten `kind: List` / `kind: <X>List` documents into their items.

    Returns (raw object, description for errors) pairs.
    """
    out: list[tuple[Any, str]] = []
    for i, doc in enumerate(docs):
        kind = doc.get("kind") if isinstance(doc, dict) else None
        if isinstance(kind, str) and kind.endswith("List") and "items" in doc:
            items = doc["items"]
            if not isinstance(items, list):
                raise ManifestError(Location(source, describe_raw(doc, i), "items"), "expected a list of objects")
            for j, item in enumerate(items):
                if isinstance(item, dict) and "kind" not in item and kind != "List":
                    item = {"kind": kind[: -len("List")], "apiVersion": doc.get("apiVersion"), **item}
                out.append((item, f"document {i + 1} item {j + 1}"))
        else:
            out.append((doc, f"document {i + 1}"))
    return out


def load_text(
    text: str,
    source: str = "<input>",
    *,
    epoch: datetime = DEFAULT_EPOCH,
    default_namespace: str = "default",
) -> Loaded:
    """Decode every object in a YAML/JSON text."""
    result = Loaded()
    for index, (raw, _where) in enumerate(unwrap_lists(parse_documents(text, source), source)):
        obj, notes = decode_object(raw, source, epoch=epoch, default_namespace=default_namespace, index=index)
        result.objects.append(obj)
        result.notes.extend(notes)
    return result


def load_file(path: str | Path, *, epoch: datetime = DEFAULT_EPOCH, default_namespace: str = "default") -> Loaded:
    """Decode every object in a manifest file."""
    p = Path(path)
    try:
        text = p.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ManifestError(Location(str(path)), "no such file") from None
    except (OSError, UnicodeDecodeError) as e:
        raise ManifestError(Location(str(path)), f"cannot read: {e}") from None
    return load_text(text, str(path), epoch=epoch, default_namespace=default_namespace)


def load_objects(raw: Any, source: str, *, epoch: datetime = DEFAULT_EPOCH, default_namespace: str = "default") -> Loaded:
    """Decode already-parsed data: one object, a list of objects, or a List."""
    docs = raw if isinstance(raw, list) else [raw]
    result = Loaded()
    for index, (item, _where) in enumerate(unwrap_lists(docs, source)):
        obj, notes = decode_object(item, source, epoch=epoch, default_namespace=default_namespace, index=index)
        result.objects.append(obj)
        result.notes.extend(notes)
    return result
