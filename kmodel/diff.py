"""What changed between two states, for counterexample tables: objects created,
deleted and updated, with the fields that moved."""

from __future__ import annotations

from typing import Any

from kmodel.objects.serde import encode_object
from kmodel.state import ClusterState

_NOISE = ("metadata.resourceVersion", "metadata.managedFields")


def _flatten(doc: Any, prefix: str = "") -> dict[str, Any]:
    out: dict[str, Any] = {}
    if isinstance(doc, dict):
        for k, v in doc.items():
            out.update(_flatten(v, f"{prefix}.{k}" if prefix else str(k)))
    elif isinstance(doc, list):
        if all(isinstance(x, dict) and "type" in x for x in doc) and doc:
            for x in doc:
                out.update(_flatten({k: v for k, v in x.items() if k != "type"}, f"{prefix}[type={x['type']}]"))
        else:
            for i, x in enumerate(doc):
                out.update(_flatten(x, f"{prefix}[{i}]"))
    else:
        out[prefix] = doc
    return out


def field_changes(old: Any, new: Any, limit: int = 4) -> list[str]:
    """Up to `limit` 'path: old → new' descriptions of what differs between two versions."""
    a, b = _flatten(encode_object(old)), _flatten(encode_object(new))
    changes = []
    for path in sorted(set(a) | set(b)):
        if path.startswith(_NOISE) or "lastHeartbeatTime" in path or "lastUpdateTime" in path:
            continue
        if a.get(path) != b.get(path):
            changes.append(f"{path}: {a.get(path, '∅')} → {b.get(path, '∅')}")
    if len(changes) > limit:
        return changes[:limit] + [f"… {len(changes) - limit} more"]
    return changes


def describe_changes(prev: ClusterState, nxt: ClusterState, *, fields: bool = True) -> list[str]:
    """One line per object created (+), deleted (-) or updated (~) by a step."""
    out: list[str] = []
    kinds = sorted(set(prev.objects) | set(nxt.objects))
    for kind in kinds:
        a: dict[Any, Any] = prev.objects.get(kind, {})
        b: dict[Any, Any] = nxt.objects.get(kind, {})
        if a is b:
            continue
        for key in sorted(set(a) | set(b)):
            old, new = a.get(key), b.get(key)
            if old is new:
                continue
            if old is None:
                assert new is not None
                out.append(f"+ {new.ref}")
            elif new is None:
                out.append(f"- {old.ref}")
            elif old.metadata.uid != new.metadata.uid:
                out.append(f"± {new.ref} (re-created)")
            elif old != new:
                detail = "; ".join(field_changes(old, new)) if fields else ""
                out.append(f"~ {new.ref}" + (f" ({detail})" if detail else ""))
    if prev.clock != nxt.clock:
        out.append(f"clock {prev.clock}s → {nxt.clock}s")
    if prev.env != nxt.env:
        down_a, down_b = set(prev.env.down_nodes), set(nxt.env.down_nodes)
        for n in sorted(down_b - down_a):
            out.append(f"kubelet of {n} stops")
        for n in sorted(down_a - down_b):
            out.append(f"kubelet of {n} resumes")
    return out
