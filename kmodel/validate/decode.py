"""Decoding observed objects: Kubernetes JSON → model objects, incrementally.

Consecutive versions of one object differ in a few fields (a status condition, the
node name, a deletion timestamp), so decoding each version from scratch spends almost
all its time re-decoding what did not change. `ObjectDecoder` keeps, per object, the
previous raw JSON and its decoded value and walks the new JSON alongside them: a
subtree equal to the previous one (a C-speed `==`) reuses the previous decoded value,
and only the changed paths go through the model's codec (`kmodel.codec.Decoder`). The
result is the object `kmodel.objects.serde.decode_object` would give (the same field
decoding, then `apply_defaults`), without validation: recorded objects were validated by
the API server that stored them, and the model's stricter or older rules must not reject
real input.

`metadata.managedFields` is removed before decoding (it is carried nowhere in the model)
and summarised separately for actor attribution (see `kmodel.validate.attribution`).
"""

from __future__ import annotations

import dataclasses
import functools
import types
import typing
from collections.abc import Callable
from datetime import datetime
from typing import Any, Union

from kmodel.codec import Decoder, FieldInfo, fields_of
from kmodel.errors import Location, ManifestError
from kmodel.frozen import EMPTY, FrozenDict, freeze
from kmodel.objects.defaults import apply_defaults
from kmodel.objects.generic import GenericObject
from kmodel.objects.kinds import KINDS, KindInfo
from kmodel.objects.meta import ObjectMeta
from kmodel.objects.serde import describe_raw
from kmodel.timefmt import to_model_seconds

_MISSING: Any = object()
# Kinds whose defaulting reads one section to fill another (RC metadata.labels from the
# template): their metadata is always decoded afresh.
_CROSS_SECTION_DEFAULTS = frozenset({"ReplicationController"})


class _NoNotes(list):  # type: ignore[type-arg]
    """A note list that keeps nothing: notes about unmodelled fields are for manifests a
    user writes, not for every event of a recorded trace."""

    def append(self, item: Any) -> None:  # noqa: D102
        return None


class _QuietDecoder(Decoder):
    """The codec's Decoder without notes."""

    def __init__(self, source: str, obj: str, epoch: datetime) -> None:
        super().__init__(source, obj, epoch)
        self.notes = _NoNotes()


@functools.cache
def _keys(cls: type) -> dict[str, FieldInfo]:
    return {fi.key: fi for fi in fields_of(cls) if fi.kind != "extra"}


@functools.cache
def _extra_field(cls: type) -> str | None:
    for fi in fields_of(cls):
        if fi.kind == "extra":
            return fi.name
    return None


@functools.cache
def _dataclass_of(hint: Any) -> type | None:
    """The dataclass a field holds (through Optional), or None."""
    if dataclasses.is_dataclass(hint):
        return hint  # type: ignore[return-value]
    if typing.get_origin(hint) in (Union, types.UnionType):
        args = [a for a in typing.get_args(hint) if a is not type(None)]
        if len(args) == 1 and dataclasses.is_dataclass(args[0]):
            return args[0]  # type: ignore[return-value]
    return None


@functools.cache
def _tuple_item_dataclass(hint: Any) -> type | None:
    """For tuple[X, ...] of a dataclass X: X."""
    if typing.get_origin(hint) is tuple:
        args = typing.get_args(hint)
        if args and dataclasses.is_dataclass(args[0]):
            return args[0]  # type: ignore[return-value]
    return None


class _Fallback(Exception):
    """A value a compiled converter does not accept: the codec decodes it (and reports
    the error, if it is one)."""


Converter = Callable[[Any], Any]


class _Compiled:
    """Per-type converters equivalent to `kmodel.codec.Decoder.value` on valid input,
    built once per type: no type inspection per value. Anything unexpected raises
    _Fallback and the codec takes over (so errors read exactly as the codec words them)."""

    def __init__(self, epoch: datetime) -> None:
        self.epoch = epoch
        self._cache: dict[tuple[Any, str], Converter] = {}
        self._times: dict[str, int] = {}

    def get(self, hint: Any, kind: str) -> Converter:
        """The converter of (hint, kind)."""
        key = (hint, kind)
        c = self._cache.get(key)
        if c is None:
            c = self._cache[key] = self._build(hint, kind)
        return c

    def _time(self, raw: Any) -> Any:
        if raw is None:
            return None
        if not isinstance(raw, str):
            raise _Fallback
        t = self._times.get(raw)
        if t is None:
            try:
                t = to_model_seconds(raw, self.epoch)
            except ValueError:
                raise _Fallback from None
            if len(self._times) > 100_000:
                self._times.clear()
            self._times[raw] = t
        return t

    def _build(self, hint: Any, kind: str) -> Converter:
        if kind == "time":
            return self._time
        if kind in ("rv", "quantities"):
            raise _Fallback  # rare: the codec decodes them
        origin = typing.get_origin(hint)
        args = typing.get_args(hint)
        if origin in (Union, types.UnionType):
            non_none = [a for a in args if a is not type(None)]
            optional = len(non_none) < len(args)
            if set(non_none) == {int, str}:

                def int_or_str(raw: Any) -> Any:
                    if raw is None and optional:
                        return None
                    if isinstance(raw, bool) or not isinstance(raw, (int, str)):
                        raise _Fallback
                    return raw

                return int_or_str
            if len(non_none) == 1:
                inner = self.get(non_none[0], kind)

                def opt(raw: Any) -> Any:
                    return None if raw is None and optional else inner(raw)

                return opt
            raise _Fallback
        if origin is tuple:
            item = self.get(args[0], "")

            def tup(raw: Any) -> Any:
                if raw is None:
                    return ()
                if not isinstance(raw, list):
                    raise _Fallback
                return tuple([item(x) for x in raw])

            return tup
        if origin is FrozenDict or hint is FrozenDict:
            vt = args[1] if args else object
            if vt is object:

                def frozen_any(raw: Any) -> Any:
                    if raw is None:
                        return EMPTY
                    if not isinstance(raw, dict):
                        raise _Fallback
                    return freeze(raw)

                return frozen_any
            if vt is str:

                def frozen_str(raw: Any) -> Any:
                    if raw is None:
                        return EMPTY
                    if not isinstance(raw, dict) or not all(isinstance(v, str) for v in raw.values()):
                        raise _Fallback
                    return FrozenDict(raw) if raw else EMPTY

                return frozen_str
            vconv = self.get(vt, "")

            def frozen(raw: Any) -> Any:
                if raw is None:
                    return EMPTY
                if not isinstance(raw, dict):
                    raise _Fallback
                return FrozenDict({k: vconv(v) for k, v in raw.items()}) if raw else EMPTY

            return frozen
        if dataclasses.is_dataclass(hint):
            return self._dataclass(hint)  # type: ignore[arg-type]
        if hint is bool:

            def boolean(raw: Any) -> Any:
                if not isinstance(raw, bool):
                    raise _Fallback
                return raw

            return boolean
        if hint is int:

            def integer(raw: Any) -> Any:
                if isinstance(raw, bool) or not isinstance(raw, int):
                    if isinstance(raw, float) and raw.is_integer():
                        return int(raw)
                    raise _Fallback
                return raw

            return integer
        if hint is str:

            def string(raw: Any) -> Any:
                if not isinstance(raw, str):
                    raise _Fallback
                return raw

            return string
        if hint is object or hint is Any:
            return freeze
        raise _Fallback

    def _dataclass(self, cls: type) -> Converter:
        keys = _keys(cls)
        extra_name = _extra_field(cls)
        required = [fi for fi in fields_of(cls) if fi.default_missing and fi.kind != "extra"]
        plan: dict[str, tuple[str, Converter | None, FieldInfo]] = {}
        for key, fi in keys.items():
            try:
                plan[key] = (fi.name, self.get(fi.hint, fi.kind), fi)
            except _Fallback:
                plan[key] = (fi.name, None, fi)  # decoded by the codec
        epoch = self.epoch

        def decode(raw: Any) -> Any:
            if not isinstance(raw, dict):
                raise _Fallback
            values: dict[str, Any] = {}
            extra: dict[str, Any] | None = None
            for key, v in raw.items():
                entry = plan.get(key)
                if entry is None:
                    if extra_name:
                        if extra is None:
                            extra = {}
                        extra[key] = freeze(v)
                    continue
                name, conv, fi = entry
                values[name] = conv(v) if conv is not None else _QuietDecoder("", "", epoch).value(fi.hint, fi.kind, v, key)
            if extra_name:
                values[extra_name] = FrozenDict(extra) if extra else EMPTY
            for fi in required:
                if fi.name not in values:
                    raise _Fallback
            return cls(**values)

        return decode


def strip_managed_fields(raw: dict[str, Any]) -> tuple[dict[str, Any], Any]:
    """`raw` without metadata.managedFields (a shallow copy when it had them), and them."""
    meta = raw.get("metadata")
    if not isinstance(meta, dict) or "managedFields" not in meta:
        return raw, None
    mf = meta["managedFields"]
    meta = {k: v for k, v in meta.items() if k != "managedFields"}
    out = dict(raw)
    out["metadata"] = meta
    return out, mf


class ObjectDecoder:
    """Decodes versions of objects, reusing what did not change since the previous
    version of the same object (kept per (kind, namespace, name) until it is forgotten)."""

    def __init__(self, epoch: datetime) -> None:
        self.epoch = epoch
        # key -> (stripped raw JSON, decoded value before defaulting)
        self._previous: dict[tuple[str, str, str], tuple[dict[str, Any], Any]] = {}
        self.reused = 0
        self.decoded = 0
        self._dec: Decoder = _QuietDecoder("", "", epoch)
        self._compiled = _Compiled(epoch)

    def forget(self, key: tuple[str, str, str]) -> None:
        """Drop the previous version of an object (it was deleted)."""
        self._previous.pop(key, None)

    def __len__(self) -> int:
        return len(self._previous)

    def decode(self, raw: dict[str, Any], source: str) -> Any:
        """The model object for `raw` (already without managedFields). Raises
        ManifestError naming `source`, the object and the field for input the model
        cannot represent (an unknown kind, a wrong type)."""
        kind = raw.get("kind")
        info = KINDS.get(kind) if isinstance(kind, str) else None
        desc = describe_raw(raw)
        if info is None:
            known = ", ".join(sorted(KINDS))
            raise ManifestError(Location(source, desc, "kind"), f"unknown kind {kind!r} (kinds the model knows: {known})")
        api_version = raw.get("apiVersion")
        if api_version not in info.api_versions:
            raise ManifestError(Location(source, desc, "apiVersion"), f"{api_version!r} is not a supported version of {kind} (use {info.api_version})")
        meta_raw = raw.get("metadata")
        key = (
            info.kind,
            str(meta_raw.get("namespace", "") if isinstance(meta_raw, dict) else ""),
            str(meta_raw.get("name", "") if isinstance(meta_raw, dict) else ""),
        )
        prev = self._previous.get(key)
        dec = self._dec = _QuietDecoder(source, desc, self.epoch)
        if prev is not None and prev[0] == raw:
            self.reused += 1
            obj = prev[1]
        else:
            self.decoded += 1
            obj = self._decode_new(info, raw, dec, prev)
        self._previous[key] = (raw, obj)
        return apply_defaults(obj)

    def _decode_new(self, info: KindInfo, raw: dict[str, Any], dec: Decoder, prev: tuple[dict[str, Any], Any] | None) -> Any:
        old_raw, old_obj = prev if prev is not None else ({}, None)
        if old_obj is not None and old_raw.get("apiVersion") != raw.get("apiVersion"):
            old_raw, old_obj = {}, None
        meta_raw = raw.get("metadata", {})
        if info.kind in _CROSS_SECTION_DEFAULTS:
            old_meta = _MISSING
        else:
            old_meta = old_obj.metadata if old_obj is not None else _MISSING
        old_meta_raw = old_raw.get("metadata", _MISSING)
        meta = None
        if old_meta is not _MISSING and isinstance(old_meta_raw, dict) and isinstance(meta_raw, dict):
            # the usual change of metadata: only the resourceVersion
            rv = meta_raw.get("resourceVersion")
            if {**meta_raw, "resourceVersion": None} == {**old_meta_raw, "resourceVersion": None} and isinstance(rv, str) and rv.isdigit():
                meta = dataclasses.replace(old_meta, resource_version=int(rv))
        if meta is None:
            meta = self._reuse(ObjectMeta, "", meta_raw, "metadata", old_meta_raw, old_meta)
        if info.namespaced and not meta.namespace:
            meta = dataclasses.replace(meta, namespace="default")
        if not info.namespaced and meta.namespace:
            dec.fail("metadata.namespace", f"{info.kind} is cluster-scoped and cannot have a namespace")
        if info.cls is None:
            body_raw = {k: v for k, v in raw.items() if k not in ("apiVersion", "kind", "metadata")}
            old_body = {k: v for k, v in old_raw.items() if k not in ("apiVersion", "kind", "metadata")}
            if old_obj is not None and body_raw == old_body:
                body = old_obj.body
            else:
                body = freeze(body_raw) if body_raw else EMPTY
            return GenericObject(kind=info.kind, api_version=str(raw["apiVersion"]), metadata=meta, body=body)
        values: dict[str, Any] = {"metadata": meta}
        for fi in fields_of(info.cls):
            if fi.name == "metadata":
                continue
            v = raw.get(fi.key)
            if v is None:
                continue
            old_v = old_raw.get(fi.key, _MISSING)
            values[fi.name] = self._reuse(
                fi.hint, fi.kind, v, fi.key, old_v, getattr(old_obj, fi.name) if old_obj is not None and old_v is not _MISSING else _MISSING
            )
        return info.cls(**values)

    def _reuse(self, hint: Any, kind: str, raw: Any, path: str, old_raw: Any, old_val: Any) -> Any:
        """Decode `raw` as `hint`, reusing `old_val` (decoded from `old_raw`) where equal."""
        if old_val is not _MISSING and old_raw is not _MISSING:
            if raw == old_raw:
                return old_val
            cls = _dataclass_of(hint)
            if cls is not None and isinstance(raw, dict) and isinstance(old_raw, dict) and old_val is not None and not kind:
                return self._dataclass(cls, raw, path, old_raw, old_val)
            item = _tuple_item_dataclass(hint)
            if item is not None and isinstance(raw, list) and isinstance(old_raw, list) and isinstance(old_val, tuple) and len(old_raw) == len(old_val):
                out = []
                for i, x in enumerate(raw):
                    if i < len(old_raw) and isinstance(x, dict) and isinstance(old_raw[i], dict):
                        out.append(self._dataclass(item, x, f"{path}[{i}]", old_raw[i], old_val[i]) if x != old_raw[i] else old_val[i])
                    else:
                        out.append(self._value(item, "", x, f"{path}[{i}]"))
                return tuple(out)
        return self._value(hint, kind, raw, path)

    def _value(self, hint: Any, kind: str, raw: Any, path: str) -> Any:
        """Decode without a previous version: the compiled converter, or the codec."""
        try:
            return self._compiled.get(hint, kind)(raw)
        except _Fallback:
            return self._dec.value(hint, kind, raw, path)

    def _dataclass(self, cls: type, raw: dict[str, Any], path: str, old_raw: Any, old_val: Any) -> Any:
        """Decoder.dataclass with reuse of the fields equal to the previous version's."""
        keys = _keys(cls)
        values: dict[str, Any] = {}
        extra: dict[str, Any] = {}
        extra_name = _extra_field(cls)
        have_old = old_val is not _MISSING and isinstance(old_raw, dict)
        old_extra = getattr(old_val, extra_name) if have_old and extra_name else EMPTY
        for key, v in raw.items():
            fi = keys.get(key)
            sub = f"{path}.{key}" if path else str(key)
            if fi is None:
                if extra_name:
                    if have_old and key in old_extra and old_raw.get(key, _MISSING) == v:
                        extra[key] = old_extra[key]
                    else:
                        extra[key] = freeze(v)
                continue
            if have_old and key in old_raw:
                values[fi.name] = self._reuse(fi.hint, fi.kind, v, sub, old_raw[key], getattr(old_val, fi.name))
            else:
                values[fi.name] = self._reuse(fi.hint, fi.kind, v, sub, _MISSING, _MISSING)
        for fi in fields_of(cls):
            if fi.kind == "extra":
                values[fi.name] = FrozenDict(extra) if extra else EMPTY
            elif fi.name not in values and fi.default_missing:
                self._dec.fail(f"{path}.{fi.key}" if path else fi.key, "required field is missing")
        try:
            return cls(**values)
        except TypeError as e:  # pragma: no cover - defensive
            self._dec.fail(path, str(e))
