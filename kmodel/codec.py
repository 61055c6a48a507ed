"""Conversion between model objects and their Kubernetes JSON shape.

One generic converter walks the dataclass fields of the object types: field names are
camelCased, timestamps become RFC 3339 strings, resource maps become quantity strings,
and keys the model does not interpret are carried in an `extra` map (and reported as a
note unless the class lists them as INERT: known fields without workload semantics).
"""

from __future__ import annotations

import dataclasses
import functools
import types
import typing
from datetime import datetime
from typing import Any, Union

from kmodel.errors import Location, ManifestError, Note
from kmodel.frozen import EMPTY, FrozenDict, freeze, thaw
from kmodel.quantity import QuantityError, format_quantity, to_model_units
from kmodel.timefmt import DEFAULT_EPOCH, to_model_seconds, to_rfc3339


def camel(name: str) -> str:
    """snake_case field name → camelCase JSON key."""
    head, *rest = name.split("_")
    return head + "".join(p[:1].upper() + p[1:] for p in rest)


@dataclasses.dataclass(frozen=True)
class FieldInfo:
    """How one dataclass field maps to JSON."""

    name: str
    key: str
    hint: Any
    kind: str
    default_missing: bool
    default: Any


@functools.cache
def fields_of(cls: type) -> tuple[FieldInfo, ...]:
    """The JSON-relevant fields of a dataclass, in declaration order."""
    hints = typing.get_type_hints(cls)
    out = []
    for f in dataclasses.fields(cls):
        kind = f.metadata.get("kind", "")
        if kind == "skip":
            continue
        if f.default is not dataclasses.MISSING:
            default, missing = f.default, False
        elif f.default_factory is not dataclasses.MISSING:
            default, missing = f.default_factory(), False
        else:
            default, missing = None, True
        out.append(FieldInfo(f.name, f.metadata.get("json", camel(f.name)), hints[f.name], kind, missing, default))
    return tuple(out)


@functools.cache
def _keys_of(cls: type) -> dict[str, FieldInfo]:
    return {fi.key: fi for fi in fields_of(cls) if fi.kind != "extra"}


class Decoder:
    """Decodes JSON values into model dataclasses, collecting notes about unmodelled fields."""

    def __init__(self, source: str = "", obj: str = "", epoch: datetime = DEFAULT_EPOCH) -> None:
        self.source = source
        self.obj = obj
        self.epoch = epoch
        self.notes: list[Note] = []

    def loc(self, path: str) -> Location:
        """A location for a field path inside the current object."""
        return Location(self.source, self.obj, path)

    def fail(self, path: str, message: str) -> typing.NoReturn:
        """Raise a ManifestError at `path`."""
        raise ManifestError(self.loc(path), message)

    def dataclass(self, cls: type, data: Any, path: str) -> Any:
        """Decode a JSON object into dataclass `cls`."""
        if not isinstance(data, dict):
            self.fail(path, f"expected an object, got {_describe(data)}")
        keys = _keys_of(cls)
        values: dict[str, Any] = {}
        extra: dict[str, Any] = {}
        has_extra = any(fi.kind == "extra" for fi in fields_of(cls))
        inert: frozenset[str] = getattr(cls, "INERT", frozenset())
        for key, raw in data.items():
            sub = f"{path}.{key}" if path else str(key)
            fi = keys.get(key)
            if fi is None:
                if key not in inert:
                    self.notes.append(
                        Note(self.loc(sub), "field is not modelled by kmodel; carried unchanged" if has_extra else "field is not modelled by kmodel; dropped")
                    )
                if has_extra:
                    extra[key] = freeze(raw)
                continue
            values[fi.name] = self.value(fi.hint, fi.kind, raw, sub)
        for fi in fields_of(cls):
            if fi.kind == "extra":
                values[fi.name] = FrozenDict(extra) if extra else EMPTY
            elif fi.name not in values and fi.default_missing:
                self.fail(f"{path}.{fi.key}" if path else fi.key, "required field is missing")
        try:
            return cls(**values)
        except TypeError as e:  # pragma: no cover - defensive: a field set the class cannot take
            self.fail(path, str(e))

    def value(self, hint: Any, kind: str, raw: Any, path: str) -> Any:
        """Decode one value of type `hint`."""
        if kind == "time":
            if raw is None:
                return None
            if not isinstance(raw, str):
                self.fail(path, f"expected an RFC 3339 timestamp, got {_describe(raw)}")
            try:
                return to_model_seconds(raw, self.epoch)
            except ValueError:
                self.fail(path, f"{raw!r} is not an RFC 3339 timestamp")
        if kind == "rv":
            if raw in (None, ""):
                return 0
            if isinstance(raw, str) and raw.isdigit():
                return int(raw)
            if isinstance(raw, int) and not isinstance(raw, bool):
                return raw
            self.fail(path, f"resourceVersion must be a string of digits, got {raw!r}")
        if kind == "quantities":
            if raw is None:
                return EMPTY
            if not isinstance(raw, dict):
                self.fail(path, f"expected a map of resource quantities, got {_describe(raw)}")
            out = {}
            for res, q in raw.items():
                try:
                    out[res] = to_model_units(res, q)
                except QuantityError as e:
                    self.fail(f"{path}.{res}", str(e))
            return FrozenDict(out)
        origin = typing.get_origin(hint)
        args = typing.get_args(hint)
        if origin in (Union, types.UnionType):
            non_none = [a for a in args if a is not type(None)]
            if raw is None and len(non_none) < len(args):
                return None
            if set(non_none) == {int, str}:
                if isinstance(raw, bool) or not isinstance(raw, (int, str)):
                    self.fail(path, f"expected an integer or a string, got {_describe(raw)}")
                return raw
            if len(non_none) == 1:
                return self.value(non_none[0], kind, raw, path)
            self.fail(path, f"unsupported value {_describe(raw)}")  # pragma: no cover
        if origin is tuple:
            if raw is None:
                return ()
            if not isinstance(raw, list):
                self.fail(path, f"expected a list, got {_describe(raw)}")
            return tuple(self.value(args[0], "", item, f"{path}[{i}]") for i, item in enumerate(raw))
        if origin is FrozenDict or hint is FrozenDict:
            if raw is None:
                return EMPTY
            if not isinstance(raw, dict):
                self.fail(path, f"expected a map, got {_describe(raw)}")
            vt = args[1] if args else object
            if vt is object:
                return freeze(raw)
            return FrozenDict({k: self.value(vt, "", v, f"{path}.{k}") for k, v in raw.items()}) if raw else EMPTY
        if dataclasses.is_dataclass(hint):
            return self.dataclass(hint, raw, path)  # type: ignore[arg-type]
        if hint is bool:
            if not isinstance(raw, bool):
                self.fail(path, f"expected true or false, got {_describe(raw)}")
            return raw
        if hint is int:
            if isinstance(raw, bool) or not isinstance(raw, int):
                if isinstance(raw, float) and raw.is_integer():
                    return int(raw)
                self.fail(path, f"expected an integer, got {_describe(raw)}")
            return raw
        if hint is str:
            if not isinstance(raw, str):
                self.fail(path, f"expected a string, got {_describe(raw)}")
            return raw
        if hint is object or hint is Any:
            return freeze(raw)
        self.fail(path, f"unsupported field type {hint!r}")  # pragma: no cover


def _describe(raw: Any) -> str:
    if raw is None:
        return "null"
    if isinstance(raw, bool):
        return "a boolean"
    if isinstance(raw, (int, float)):
        return f"the number {raw}"
    if isinstance(raw, str):
        return f"the string {raw!r}"
    if isinstance(raw, list):
        return "a list"
    if isinstance(raw, dict):
        return "an object"
    return type(raw).__name__


def encode_dataclass(value: Any, epoch: datetime = DEFAULT_EPOCH) -> dict[str, Any]:
    """Encode a model dataclass into a JSON object (None and empty values omitted)."""
    out: dict[str, Any] = {}
    cls: Any = type(value)
    omit_zero = getattr(cls, "OMIT_ZERO", False)
    always: frozenset[str] = getattr(cls, "ALWAYS", frozenset())
    for fi in fields_of(cls):
        v = getattr(value, fi.name)
        if fi.kind == "extra":
            for k, x in v.items():
                out[k] = thaw(x)
            continue
        enc = encode_value(v, fi.kind, epoch)
        if enc is None or enc == "" or enc == [] or enc == {}:
            continue
        if fi.key not in always:
            if omit_zero and enc == 0 and not isinstance(enc, bool):
                continue
            if enc is False and fi.default is False:
                continue
        out[fi.key] = enc
    return out


def encode_value(v: Any, kind: str, epoch: datetime) -> Any:
    """Encode one field value (times, quantities, nested dataclasses, lists, maps)."""
    if v is None:
        return None
    if kind == "time":
        return to_rfc3339(v, epoch)
    if kind == "rv":
        return str(v) if v else None
    if kind == "quantities":
        return {r: format_quantity(r, q) for r, q in v.items()}
    if dataclasses.is_dataclass(v):
        return encode_dataclass(v, epoch)
    if isinstance(v, tuple):
        return [encode_value(x, "", epoch) for x in v]
    if isinstance(v, dict):
        return {k: encode_value(x, "", epoch) for k, x in v.items()}
    return v
