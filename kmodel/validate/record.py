"""`kmodel record KINDS... --namespace NS --out DIR`: record the watch stream of a live
cluster as `kubectl get <kind> --watch --output-watch-events -o json` writes it — one
file per kind (`DIR/<plural>.jsonl`), each line `{"type": ..., "object": ...}` with the
object exactly as the API server sent it — for `kmodel validate DIR`.

Like kubectl, each kind is first listed (every object as an ADDED event) and then
watched from the list's resourceVersion; a watch that ends (server timeout) is resumed
from the last resourceVersion seen; an expired one (410 Gone) is written as an ERROR
event and relisted. Kinds are recorded concurrently, one thread each, until `duration`
seconds have passed, `max_events` events were written, or the streams end.

The official Kubernetes Python client is an optional dependency (`pip install
'kmodel[record]'`); it is imported only here, when recording.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from types import ModuleType
from typing import Any, TextIO

from kmodel.errors import KModelError


@dataclass(frozen=True)
class KindSpec:
    """How to list and watch one kind with the Python client."""

    kind: str
    plural: str
    api: str  # client class, e.g. CoreV1Api
    api_version: str
    namespaced: bool = True

    def list_function(self, api: Any, namespace: str | None) -> tuple[Callable[..., Any], dict[str, Any]]:
        """The client method listing this kind, and its arguments."""
        singular = _SNAKE.get(self.kind, self.kind.lower())
        if self.namespaced and namespace:
            return getattr(api, f"list_namespaced_{singular}"), {"namespace": namespace}
        if self.namespaced:
            return getattr(api, f"list_{singular}_for_all_namespaces"), {}
        return getattr(api, f"list_{singular}"), {}


_SNAKE = {
    "ReplicaSet": "replica_set",
    "StatefulSet": "stateful_set",
    "DaemonSet": "daemon_set",
    "ControllerRevision": "controller_revision",
    "CronJob": "cron_job",
    "PersistentVolumeClaim": "persistent_volume_claim",
    "PersistentVolume": "persistent_volume",
    "StorageClass": "storage_class",
    "ConfigMap": "config_map",
    "ServiceAccount": "service_account",
    "ReplicationController": "replication_controller",
    "PodDisruptionBudget": "pod_disruption_budget",
}
KINDS: dict[str, KindSpec] = {
    s.plural: s
    for s in (
        KindSpec("Pod", "pods", "CoreV1Api", "v1"),
        KindSpec("Node", "nodes", "CoreV1Api", "v1", namespaced=False),
        KindSpec("Event", "events", "CoreV1Api", "v1"),
        KindSpec("ConfigMap", "configmaps", "CoreV1Api", "v1"),
        KindSpec("Secret", "secrets", "CoreV1Api", "v1"),
        KindSpec("Service", "services", "CoreV1Api", "v1"),
        KindSpec("ServiceAccount", "serviceaccounts", "CoreV1Api", "v1"),
        KindSpec("Endpoints", "endpoints", "CoreV1Api", "v1"),
        KindSpec("PersistentVolumeClaim", "persistentvolumeclaims", "CoreV1Api", "v1"),
        KindSpec("PersistentVolume", "persistentvolumes", "CoreV1Api", "v1", namespaced=False),
        KindSpec("ReplicationController", "replicationcontrollers", "CoreV1Api", "v1"),
        KindSpec("Namespace", "namespaces", "CoreV1Api", "v1", namespaced=False),
        KindSpec("Deployment", "deployments", "AppsV1Api", "apps/v1"),
        KindSpec("ReplicaSet", "replicasets", "AppsV1Api", "apps/v1"),
        KindSpec("StatefulSet", "statefulsets", "AppsV1Api", "apps/v1"),
        KindSpec("DaemonSet", "daemonsets", "AppsV1Api", "apps/v1"),
        KindSpec("ControllerRevision", "controllerrevisions", "AppsV1Api", "apps/v1"),
        KindSpec("Job", "jobs", "BatchV1Api", "batch/v1"),
        KindSpec("CronJob", "cronjobs", "BatchV1Api", "batch/v1"),
        KindSpec("StorageClass", "storageclasses", "StorageV1Api", "storage.k8s.io/v1", namespaced=False),
        KindSpec("PodDisruptionBudget", "poddisruptionbudgets", "PolicyV1Api", "policy/v1"),
    )
}
_ALIASES = {
    "po": "pods",
    "no": "nodes",
    "ev": "events",
    "cm": "configmaps",
    "svc": "services",
    "sa": "serviceaccounts",
    "ep": "endpoints",
    "pvc": "persistentvolumeclaims",
    "pv": "persistentvolumes",
    "rc": "replicationcontrollers",
    "ns": "namespaces",
    "deploy": "deployments",
    "rs": "replicasets",
    "sts": "statefulsets",
    "ds": "daemonsets",
    "cj": "cronjobs",
    "sc": "storageclasses",
    "pdb": "poddisruptionbudgets",
}


def kind_spec(name: str) -> KindSpec:
    """The KindSpec for a kind as kubectl accepts it: plural, singular, short name or Kind."""
    n = name.strip().lower()
    n = _ALIASES.get(n, n)
    if n in KINDS:
        return KINDS[n]
    for s in KINDS.values():
        if n in (s.kind.lower(), s.plural.rstrip("s"), s.plural[:-2] if s.plural.endswith("ses") else ""):
            return s
    raise KModelError(f"kmodel record: unknown kind {name!r}; use one of {', '.join(sorted(KINDS))}")


def load_client() -> ModuleType:
    """The `kubernetes` package, or a clear error if it is not installed."""
    try:
        import kubernetes
    except ImportError:
        raise KModelError(
            "kmodel record needs the official Kubernetes Python client, which is not installed; "
            "install it with: pip install 'kmodel[record]'  (or: pip install 'kubernetes>=29')"
        ) from None
    return kubernetes


@dataclass
class Recording:
    """What a recording wrote."""

    files: dict[str, Path] = field(default_factory=dict)
    events: dict[str, int] = field(default_factory=dict)
    errors: list[str] = field(default_factory=list)


def _write(out: TextIO, lock: threading.Lock, event: dict[str, Any], indent: int | None) -> None:
    with lock:
        out.write(json.dumps(event, indent=indent, separators=None if indent else (",", ":")) + "\n")
        out.flush()


def _items(listing: Any, spec: KindSpec) -> tuple[list[dict[str, Any]], str]:
    """Raw items (with kind and apiVersion, which list items lack) and the list's resourceVersion."""
    data = json.loads(listing.data) if hasattr(listing, "data") else listing
    items = []
    for item in data.get("items", []) or []:
        items.append({"apiVersion": spec.api_version, "kind": spec.kind, **item})
    return items, str((data.get("metadata") or {}).get("resourceVersion", ""))


def _record_kind(
    k8s: Any,
    spec: KindSpec,
    namespace: str | None,
    out: TextIO,
    stop: threading.Event,
    budget: Callable[[], bool],
    counts: dict[str, int],
    errors: list[str],
    indent: int | None,
    timeout: int,
) -> None:
    """List then watch one kind until stopped (resuming after timeouts, relisting after 410)."""
    lock = threading.Lock()
    api = getattr(k8s.client, spec.api)()
    fn, kwargs = spec.list_function(api, namespace)
    try:
        while not stop.is_set():
            listing = fn(_preload_content=False, **kwargs)
            items, rv = _items(listing, spec)
            for item in items:
                _write(out, lock, {"type": "ADDED", "object": item}, indent)
                counts[spec.plural] += 1
            while not stop.is_set():
                w = k8s.watch.Watch()
                gone = False
                seen = 0
                for ev in w.stream(fn, resource_version=rv, timeout_seconds=timeout, allow_watch_bookmarks=True, **kwargs):
                    raw = ev.get("raw_object") if isinstance(ev, dict) else None
                    etype = ev.get("type") if isinstance(ev, dict) else None
                    if not isinstance(raw, dict) or not etype:
                        continue
                    _write(out, lock, {"type": etype, "object": raw}, indent)
                    counts[spec.plural] += 1
                    seen += 1
                    if etype == "ERROR":
                        gone = True
                        break
                    new_rv = (raw.get("metadata") or {}).get("resourceVersion")
                    if new_rv:
                        rv = str(new_rv)
                    if stop.is_set() or not budget():
                        stop.set()
                        w.stop()
                        break
                else:
                    # the server closed the watch (timeoutSeconds): resume from rv
                    if not budget():
                        stop.set()
                    elif not seen:
                        stop.wait(0.2)
                if gone:
                    break
    except Exception as e:  # noqa: BLE001 - a failed stream is reported, the others go on
        errors.append(f"{spec.plural}: {type(e).__name__}: {e}")


def record(
    kinds: Iterable[str],
    out_dir: str | Path,
    *,
    namespace: str | None = None,
    duration: float | None = None,
    max_events: int | None = None,
    indent: int | None = None,
    client: ModuleType | Any | None = None,
    timeout_seconds: int = 300,
    kubeconfig: str | None = None,
    context: str | None = None,
) -> Recording:
    """Record the watch streams of `kinds` into `out_dir` (see the module docstring).
    `client` replaces the `kubernetes` package (tests pass a fake one)."""
    specs = [kind_spec(k) for k in kinds]
    if not specs:
        raise KModelError("kmodel record: name at least one kind (e.g. pods deployments replicasets)")
    k8s = client if client is not None else load_client()
    if client is None:
        try:
            k8s.config.load_kube_config(config_file=kubeconfig, context=context)
        except Exception:  # noqa: BLE001 - fall back to the in-cluster configuration
            try:
                k8s.config.load_incluster_config()
            except Exception as e:  # noqa: BLE001
                raise KModelError(f"kmodel record: cannot load a kubeconfig or in-cluster configuration: {e}") from None
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    rec = Recording()
    stop = threading.Event()
    counts: dict[str, int] = dict.fromkeys((s.plural for s in specs), 0)
    total_lock = threading.Lock()

    def budget() -> bool:
        with total_lock:
            return max_events is None or sum(counts.values()) < max_events

    files = {s.plural: open(out / f"{s.plural}.jsonl", "w", encoding="utf-8") for s in specs}  # noqa: SIM115 - closed below
    threads = [
        threading.Thread(target=_record_kind, args=(k8s, s, namespace, files[s.plural], stop, budget, counts, rec.errors, indent, timeout_seconds), daemon=True)
        for s in specs
    ]
    try:
        for t in threads:
            t.start()
        deadline = time.monotonic() + duration if duration is not None else None
        while any(t.is_alive() for t in threads):
            if deadline is not None and time.monotonic() >= deadline:
                stop.set()
                break
            for t in threads:
                t.join(timeout=0.1)
    except KeyboardInterrupt:
        stop.set()
    finally:
        stop.set()
        for t in threads:
            t.join(timeout=1.0)
        for f in files.values():
            f.close()
    rec.files = {p: out / f"{p}.jsonl" for p in files}
    rec.events = dict(counts)
    return rec
