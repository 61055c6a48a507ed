"""Immutable containers used throughout the model state.

`FrozenDict` is a hashable, read-only dict. `freeze` turns parsed JSON (dicts and
lists) into nested FrozenDicts and tuples so that opaque, unmodelled fields can be
carried inside immutable objects; `thaw` turns them back into plain JSON values.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any, TypeVar

K = TypeVar("K")
V = TypeVar("V")


class FrozenDict(dict[K, V]):
    """A dict that cannot be modified after construction and hashes by content."""

    __slots__ = ("_hash",)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        dict.__init__(self, *args, **kwargs)
        self._hash: int | None = None

    def _readonly(self, *args: Any, **kwargs: Any) -> Any:
        raise TypeError("FrozenDict is immutable")

    __setitem__ = _readonly
    __delitem__ = _readonly
    clear = _readonly
    pop = _readonly
    popitem = _readonly
    setdefault = _readonly
    update = _readonly
    __ior__ = _readonly

    def __hash__(self) -> int:  # type: ignore[override]
        h = self._hash
        if h is None:
            h = hash(frozenset(self.items()))
            self._hash = h
        return h

    def __repr__(self) -> str:
        if not self:
            return "FrozenDict()"
        items = ", ".join(f"{k!r}: {v!r}" for k, v in sorted(self.items(), key=lambda kv: str(kv[0])))
        return f"FrozenDict({{{items}}})"

    def __reduce__(self) -> tuple[Any, ...]:
        return (FrozenDict, (dict(self),))

    def set(self, key: K, value: V) -> FrozenDict[K, V]:
        """Return a copy with `key` set to `value`."""
        d = dict(self)
        d[key] = value
        return FrozenDict(d)

    def without(self, *keys: K) -> FrozenDict[K, V]:
        """Return a copy without `keys` (missing keys are ignored)."""
        if not any(k in self for k in keys):
            return self
        d = dict(self)
        for k in keys:
            d.pop(k, None)
        return FrozenDict(d)

    def merged(self, other: Mapping[K, V]) -> FrozenDict[K, V]:
        """Return a copy updated with `other`."""
        if not other:
            return self
        d = dict(self)
        d.update(other)
        return FrozenDict(d)


EMPTY: FrozenDict[Any, Any] = FrozenDict()


def frozendict(items: Mapping[K, V] | Iterable[tuple[K, V]] | None = None) -> FrozenDict[K, V]:
    """Build a FrozenDict, returning the shared empty instance for empty input."""
    if not items:
        return EMPTY
    return FrozenDict(items)


def freeze(value: Any) -> Any:
    """Recursively convert JSON-like data into hashable immutable values."""
    if isinstance(value, FrozenDict):
        return value
    if isinstance(value, dict):
        return FrozenDict({k: freeze(v) for k, v in value.items()})
    if isinstance(value, (list, tuple)):
        return tuple(freeze(v) for v in value)
    return value


def thaw(value: Any) -> Any:
    """Recursively convert frozen values back into plain dicts and lists."""
    if isinstance(value, dict):
        return {k: thaw(v) for k, v in value.items()}
    if isinstance(value, tuple):
        return [thaw(v) for v in value]
    return value
