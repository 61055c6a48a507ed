"""Reading the manifests of `kmodel placement`: every file decoded with
`kmodel.manifests.load_file`, then checked as a whole. Problems are `ManifestError`s
naming the file, the object and the field."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

from kmodel.errors import Location, ManifestError, Note
from kmodel.manifests import load_file
from kmodel.placement.workloads import WORKLOAD_KINDS, describe


def load_manifests(paths: Sequence[Path]) -> tuple[list[Any], list[Note]]:
    """Objects of every file, in order, with the decoder's notes. An unnamed object, an
    object defined twice, and input without any Node or any workload are errors."""
    objects: list[Any] = []
    notes: list[Note] = []
    seen: dict[tuple[str, str, str], str] = {}
    for path in paths:
        loaded = load_file(path)
        notes.extend(loaded.notes)
        for obj in loaded.objects:
            key = (obj.kind, obj.metadata.namespace, obj.metadata.name)
            if not obj.metadata.name:
                where = Location(str(path), describe_generated(obj), "metadata.name")
                raise ManifestError(where, "a placement needs named objects (generateName is not supported here)")
            if key in seen:
                raise ManifestError(Location(str(path), describe(obj), "metadata.name"), f"defined twice (first in {seen[key]})")
            seen[key] = str(path)
            objects.append(obj)
    if not any(o.kind == "Node" for o in objects):
        files = ", ".join(str(p) for p in paths)
        raise ManifestError(Location(files, "", "kind"), "no Node objects: the placement needs the nodes to place on")
    if not any(o.kind in WORKLOAD_KINDS for o in objects):
        files = ", ".join(str(p) for p in paths)
        raise ManifestError(Location(files, "", "kind"), f"no workloads to place (expected one of: {', '.join(WORKLOAD_KINDS)})")
    return objects, notes


def describe_generated(obj: Any) -> str:
    """'Kind namespace/prefix*' for an object with only generateName."""
    ns = obj.metadata.namespace
    name = f"{obj.metadata.generate_name}*"
    return f"{obj.kind} {ns}/{name}" if ns else f"{obj.kind} {name}"
