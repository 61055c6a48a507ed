"""Whole-object conversion: Kubernetes JSON (apiVersion, kind, metadata, spec, status) ↔ model objects."""

from __future__ import annotations

import dataclasses
from datetime import datetime
from typing import Any

from kmodel.codec import Decoder, encode_dataclass, encode_value, fields_of
from kmodel.errors import Location, ManifestError, Note
from kmodel.frozen import EMPTY, FrozenDict, freeze, thaw
from kmodel.objects.generic import GenericObject
from kmodel.objects.kinds import KINDS, APIObject
from kmodel.objects.meta import ObjectMeta
from kmodel.timefmt import DEFAULT_EPOCH


def describe_raw(data: Any, index: int | None = None) -> str:
    """A short description of a raw manifest for error messages: 'Deployment ns/web'."""
    if isinstance(data, dict):
        kind = data["kind"] if isinstance(data.get("kind"), str) else "object"
        meta: dict[str, Any] = data["metadata"] if isinstance(data.get("metadata"), dict) else {}
        name = str(meta.get("name") or (str(meta.get("generateName", "")) + "*" if meta.get("generateName") else ""))
        ns = str(meta.get("namespace", ""))
        if name:
            return f"{kind} {ns}/{name}" if ns else f"{kind} {name}"
        return kind if index is None else f"{kind} (document {index + 1})"
    return "document" if index is None else f"document {index + 1}"


def decode_object(
    data: Any,
    source: str = "",
    *,
    epoch: datetime = DEFAULT_EPOCH,
    default_namespace: str = "default",
    index: int | None = None,
    validate: bool = True,
) -> tuple[APIObject, list[Note]]:
    """Decode one manifest into a model object, applying defaults and validation.

    Returns the object and notes about fields the model carries without interpreting.
    Raises ManifestError naming source, object and field for invalid input.
    """
    obj_desc = describe_raw(data, index)
    dec = Decoder(source, obj_desc, epoch)
    if not isinstance(data, dict):
        raise ManifestError(Location(source, obj_desc), f"expected a Kubernetes object (a mapping), got {type(data).__name__}")
    kind = data.get("kind")
    api_version = data.get("apiVersion")
    if not isinstance(kind, str) or not kind:
        dec.fail("kind", "required field is missing" if kind is None else "must be a non-empty string")
    if not isinstance(api_version, str) or not api_version:
        dec.fail("apiVersion", "required field is missing" if api_version is None else "must be a non-empty string")
    info = KINDS.get(kind)
    if info is None:
        known = ", ".join(sorted(KINDS))
        dec.fail("kind", f"unknown kind {kind!r} (known kinds: {known}; register custom resources first)")
    if api_version not in info.api_versions:
        dec.fail("apiVersion", f"{api_version!r} is not a supported version of {kind} (use {info.api_version})")
    meta = dec.dataclass(ObjectMeta, data.get("metadata", {}), "metadata")
    if info.namespaced and not meta.namespace:
        meta = _replace_meta(meta, namespace=default_namespace)
    if not info.namespaced and meta.namespace:
        dec.fail("metadata.namespace", f"{kind} is cluster-scoped and cannot have a namespace")
    if meta.name:
        dec.obj = f"{kind} {meta.namespace}/{meta.name}" if meta.namespace else f"{kind} {meta.name}"
    obj: APIObject
    if info.cls is None:
        body = {k: v for k, v in data.items() if k not in ("apiVersion", "kind", "metadata")}
        obj = GenericObject(kind=kind, api_version=api_version, metadata=meta, body=freeze(body) if body else EMPTY)
    else:
        values: dict[str, Any] = {"metadata": meta}
        for fi in fields_of(info.cls):
            if fi.name == "metadata":
                continue
            if fi.key in data and data[fi.key] is not None:
                values[fi.name] = dec.value(fi.hint, fi.kind, data[fi.key], fi.key)
        for key in data:
            if key not in ("apiVersion", "kind", "metadata") and key not in {fi.key for fi in fields_of(info.cls)}:
                dec.notes.append(Note(dec.loc(key), "field is not modelled by kmodel; dropped"))
        obj = info.cls(**values)
    from kmodel.objects.defaults import apply_defaults
    from kmodel.validation import validate_object

    obj = apply_defaults(obj)
    if validate:
        errors = validate_object(obj)
        if errors:
            path, message = errors[0]
            dec.fail(path, message)
    return obj, dec.notes


def _replace_meta(meta: ObjectMeta, **changes: Any) -> ObjectMeta:
    from dataclasses import replace

    return replace(meta, **changes)


def encode_object(obj: APIObject, epoch: datetime = DEFAULT_EPOCH) -> dict[str, Any]:
    """The Kubernetes JSON form of a model object."""
    out: dict[str, Any] = {"apiVersion": obj.api_version, "kind": obj.kind}
    out["metadata"] = encode_dataclass(obj.metadata, epoch)
    if isinstance(obj, GenericObject):
        for k, v in obj.body.items():
            out[k] = thaw(v)
        return out
    for fi in fields_of(type(obj)):
        if fi.name == "metadata":
            continue
        value = getattr(obj, fi.name)
        if dataclasses.is_dataclass(value):
            out[fi.key] = encode_dataclass(value, epoch)
        else:
            enc = encode_value(value, fi.kind, epoch)
            if enc not in (None, "", [], {}):
                out[fi.key] = enc
    return out


def as_list(objects: list[APIObject], epoch: datetime = DEFAULT_EPOCH) -> dict[str, Any]:
    """A `kubectl get -o json` style List of the objects."""
    return {
        "apiVersion": "v1",
        "items": [encode_object(o, epoch) for o in objects],
        "kind": "List",
        "metadata": {"resourceVersion": ""},
    }


def frozen_labels(labels: dict[str, str]) -> FrozenDict[str, str]:
    """Labels as a FrozenDict."""
    return FrozenDict(labels) if labels else EMPTY
