"""Stable (process-independent) 64-bit hashes of model values.

Python's built-in hash of strings is salted per process, so fingerprints used to
deduplicate states across runs and processes are computed from a canonical encoding
with BLAKE2b. resourceVersion is left out: it counts writes, not meaning, and would
make every interleaving a distinct state.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from hashlib import blake2b
from typing import Any

MASK = (1 << 64) - 1
_EXCLUDED = frozenset({"_fp", "_sym", "resource_version"})


_PRIMITIVES = frozenset({str, int, float, bool, type(None)})


def _canon(v: Any, out: list[str], top: bool = False) -> None:
    """Append the canonical encoding of `v` to `out` (dispatched on the exact type)."""
    t = type(v)
    if t in _PRIMITIVES:
        out.append(repr(v))
        return
    enc = _ENCODERS.get(t)
    if enc is None:
        enc = _encoder_for(t)
    enc(v, out, top)


def _primitive(v: Any, out: list[str], top: bool) -> None:
    out.append(repr(v))


def _tuple(v: tuple[Any, ...], out: list[str], top: bool) -> None:
    append = out.append
    append("(")
    for x in v:
        if type(x) in _PRIMITIVES:
            append(repr(x))
        else:
            _canon(x, out)
        append(",")
    append(")")


def _dict(v: dict[Any, Any], out: list[str], top: bool) -> None:
    append = out.append
    append("{")
    for k in sorted(v, key=repr):
        append(repr(k))
        append(":")
        x = v[k]
        if type(x) in _PRIMITIVES:
            append(repr(x))
        else:
            _canon(x, out)
        append(",")
    append("}")


def _frozenset(v: frozenset[Any], out: list[str], top: bool) -> None:
    parts = []
    for x in v:
        sub: list[str] = []
        _canon(x, sub)
        parts.append("".join(sub))
    out.append("<")
    out.extend(sorted(parts))
    out.append(">")


def _dataclass_encoder(cls: type) -> Callable[[Any, list[str], bool], None]:
    names = tuple(f.name for f in dataclasses.fields(cls) if f.name not in _EXCLUDED)
    # a shared immutable part (a pod spec, a template) is hashed once and reused everywhere
    shared = hasattr(cls, "_fp")
    head = cls.__name__

    def encode(v: Any, out: list[str], top: bool) -> None:
        if shared and not top:
            out.append(f"#{object_hash(v):x}")
            return
        append = out.append
        append(head)
        append("(")
        for name in names:
            x = getattr(v, name)
            if type(x) in _PRIMITIVES:
                append(repr(x))
            else:
                _canon(x, out)
            append(",")
        append(")")

    return encode


def _encoder_for(t: type) -> Callable[[Any, list[str], bool], None]:
    """The encoder of values of type `t`, by the first matching rule (subclasses included)."""
    enc: Callable[[Any, list[str], bool], None]
    if issubclass(t, (str, int, float, bool)):
        enc = _primitive
    elif issubclass(t, tuple):
        enc = _tuple
    elif issubclass(t, dict):
        enc = _dict
    elif issubclass(t, frozenset):
        enc = _frozenset
    elif dataclasses.is_dataclass(t):
        enc = _dataclass_encoder(t)
    else:
        raise TypeError(f"cannot fingerprint {t.__name__}")
    _ENCODERS[t] = enc
    return enc


_ENCODERS: dict[type, Callable[[Any, list[str], bool], None]] = {}


def stable_hash(v: Any) -> int:
    """A 64-bit hash of `v` that is the same in every process and run."""
    out: list[str] = []
    _canon(v, out, top=True)
    return int.from_bytes(blake2b("".join(out).encode(), digest_size=8).digest(), "little")


def object_hash(obj: Any) -> int:
    """The stable hash of an immutable value with an `_fp` slot (API objects, pod specs and
    templates), computed once and cached on the value itself."""
    h: int = obj._fp
    if h == 0:
        h = stable_hash(obj) or 1
        object.__setattr__(obj, "_fp", h)
    return h


def mix(*values: int) -> int:
    """Combine 64-bit integers into one (order-sensitive; splitmix64-style finaliser)."""
    h = 0x9E3779B97F4A7C15
    for v in values:
        h = ((h ^ (v & MASK)) * 0xBF58476D1CE4E5B9) & MASK
        h ^= h >> 31
    return h


_STRINGS: dict[str, int] = {}


def string_hash(s: str) -> int:
    """A cached stable hash of a short string (names, aliases)."""
    h = _STRINGS.get(s)
    if h is None:
        if len(_STRINGS) > 100_000:
            _STRINGS.clear()
        h = int.from_bytes(blake2b(s.encode(), digest_size=8).digest(), "little")
        _STRINGS[s] = h
    return h
