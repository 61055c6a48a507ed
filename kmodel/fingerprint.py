"""Stable (process-independent) 64-bit hashes of model values.

Python's built-in hash of strings is salted per process, so fingerprints used to
deduplicate states across runs and processes are computed from a canonical encoding
with BLAKE2b. resourceVersion is left out: it counts writes, not meaning, and would
make every interleaving a distinct state.
"""

from __future__ import annotations

import dataclasses
import functools
from hashlib import blake2b
from typing import Any

MASK = (1 << 64) - 1
_EXCLUDED = frozenset({"_fp", "_sym", "resource_version"})


@functools.cache
def _field_names(cls: type) -> tuple[str, ...]:
    return tuple(f.name for f in dataclasses.fields(cls) if f.name not in _EXCLUDED)


def _canon(v: Any, out: list[str], top: bool = False) -> None:
    if v is None or isinstance(v, (str, int, float, bool)):
        out.append(repr(v))
    elif isinstance(v, tuple):
        out.append("(")
        for x in v:
            _canon(x, out)
            out.append(",")
        out.append(")")
    elif isinstance(v, dict):
        out.append("{")
        for k in sorted(v, key=repr):
            out.append(repr(k))
            out.append(":")
            _canon(v[k], out)
            out.append(",")
        out.append("}")
    elif isinstance(v, frozenset):
        out.append("<")
        parts = []
        for x in v:
            sub: list[str] = []
            _canon(x, sub)
            parts.append("".join(sub))
        out.extend(sorted(parts))
        out.append(">")
    elif dataclasses.is_dataclass(v):
        cls = type(v)
        if not top and hasattr(v, "_fp"):
            # a shared immutable part (a pod spec, a template): hash it once, reuse everywhere
            out.append(f"#{object_hash(v):x}")
            return
        out.append(cls.__name__)
        out.append("(")
        for name in _field_names(cls):  # type: ignore[arg-type]
            _canon(getattr(v, name), out)
            out.append(",")
        out.append(")")
    else:
        raise TypeError(f"cannot fingerprint {type(v).__name__}")


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
