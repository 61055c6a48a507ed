"""Trace validation throughput and memory on a synthetic but realistic million-event
watch trace.

The trace: the model runs a Deployment's life (3 nodes; create 3 replicas with a
RollingUpdate, a rollout to a new image, scale to 5 and back to 2, another rollout,
deletion with its ReplicaSets and pods collected, the nodes removed) and `kmodel.validate.synth` turns each
step into the watch events a cluster would have sent (managedFields, resourceVersions).
That run is replayed in many namespaces, each with its own nodes and uids, started
staggered so that a few hundred run at once (thousands of live objects), its times
shifted and the events of all copies merged by time and numbered with one increasing
resourceVersion — then written as per-kind files (pods.jsonl, replicasets.jsonl, ...),
one event per line, exactly what `kmodel record` / kubectl write. Validation runs in a
child process so that its peak memory (ru_maxrss) is its own.
"""

from __future__ import annotations

import heapq
import json
import os
import re
import subprocess
import sys
import tempfile
import time
from datetime import timedelta
from pathlib import Path
from typing import Any

from kmodel.scenario import parse_scenario
from kmodel.timefmt import DEFAULT_EPOCH
from kmodel.validate.record import KINDS
from kmodel.validate.synth import run_scenario_events

PLURAL = {s.kind: s.plural for s in KINDS.values()}
_TIME = re.compile(r'"(2024-01-0\dT\d\d:\d\d:\d\dZ)"')
_RV = re.compile(r'"resourceVersion":"\d+"')
_UID = "00000000-0000-4000-8000-"


def base_scenario() -> dict[str, Any]:
    """One Deployment's life on three nodes."""
    dep = {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {"name": "web"},
        "spec": {
            "replicas": 3,
            "selector": {"matchLabels": {"app": "web"}},
            "strategy": {"type": "RollingUpdate", "rollingUpdate": {"maxSurge": 1, "maxUnavailable": 0}},
            "template": {
                "metadata": {"labels": {"app": "web"}},
                "spec": {
                    "terminationGracePeriodSeconds": 5,
                    "containers": [{"name": "web", "image": "nginx:1.25", "resources": {"requests": {"cpu": "100m", "memory": "64Mi"}}}],
                },
            },
        },
    }
    return {
        "name": "bench",
        "steps": [
            {"addNode": {"name": "zznode-a"}},
            {"addNode": {"name": "zznode-b"}},
            {"addNode": {"name": "zznode-c"}},
            {"apply": dep},
            {"settle": {}},
            {"setImage": {"kind": "Deployment", "name": "web", "image": "nginx:1.26"}},
            {"settle": {}},
            {"scale": {"kind": "Deployment", "name": "web", "replicas": 5}},
            {"settle": {}},
            {"scale": {"kind": "Deployment", "name": "web", "replicas": 2}},
            {"settle": {}},
            {"setImage": {"kind": "Deployment", "name": "web", "image": "nginx:1.27"}},
            {"settle": {}},
            {"advance": "2m"},
            {"delete": {"kind": "Deployment", "name": "web"}},
            {"settle": {}},
            {"removeNode": "zznode-a"},
            {"removeNode": "zznode-b"},
            {"removeNode": "zznode-c"},
        ],
    }


def templates() -> tuple[list[tuple[str, list[str], list[int]]], int]:
    """The base run's events as (kind, text parts, times in seconds) and its duration."""
    out = []
    end = 0
    for kind, ev in run_scenario_events(parse_scenario(base_scenario(), "bench")):
        text = json.dumps(ev, separators=(",", ":"))
        text = _RV.sub('"resourceVersion":"\x00"', text, count=1)
        parts = _TIME.split(text)
        times = []
        for i in range(1, len(parts), 2):
            from kmodel.timefmt import to_model_seconds

            times.append(to_model_seconds(parts[i], DEFAULT_EPOCH))
        end = max([end, *times])
        out.append((kind, parts, times))
    return out, end


def generate(directory: Path, events: int, concurrent: int = 250) -> dict[str, Any]:
    """Write a trace of `events` events into per-kind files in `directory`."""
    base, duration = templates()
    stagger = duration / concurrent  # seconds per tick
    files: dict[str, Any] = {}
    stamp: dict[int, str] = {}

    def rfc(sec: int) -> str:
        s = stamp.get(sec)
        if s is None:
            s = stamp[sec] = (DEFAULT_EPOCH + timedelta(seconds=sec)).strftime("%Y-%m-%dT%H:%M:%SZ")
        return s

    heap: list[tuple[float, int, int]] = []  # (tick, copy, index)
    copies = 0
    written = 0
    size = 0
    rv = 1000

    # a copy runs over `concurrent` ticks of `stagger` seconds and a new copy starts each
    # tick, so about `concurrent` copies are live at once; events are merged by tick
    pace = concurrent / len(base)

    def start_copy() -> None:
        nonlocal copies
        heapq.heappush(heap, (float(copies), copies, 0))
        copies += 1

    start_copy()
    try:
        while written < events:
            t, c, i = heapq.heappop(heap)
            kind, parts, times = base[i]
            offset = int(c * stagger)
            tag = f"{c:08x}"
            pieces = list(parts)
            for j, sec in enumerate(times):
                pieces[2 * j + 1] = f'"{rfc(sec + offset)}"'
            rv += 1
            line = "".join(pieces).replace("\x00", str(rv)).replace('"namespace":"default"', f'"namespace":"ns-{tag}"')
            line = line.replace("zznode-", f"n{tag}-").replace(_UID, f"{tag}-0000-4000-8000-")
            f = files.get(kind)
            if f is None:
                f = files[kind] = open(directory / f"{PLURAL[kind]}.jsonl", "w", encoding="utf-8")  # noqa: SIM115
            f.write(line + "\n")
            size += len(line) + 1
            written += 1
            if i + 1 < len(base):
                heapq.heappush(heap, (c + (i + 1) * pace, c, i + 1))
            if i == 0:
                start_copy()  # the next copy starts one tick later
    finally:
        for f in files.values():
            f.close()
    return {"events": written, "bytes": size, "namespaces": copies, "events_per_namespace": len(base), "base_run_seconds": duration}


_CHILD = """
import json, os, resource, sys, time
from invariants.registry import select
from kmodel.validate.engine import Engine
from kmodel.validate.run import expand
from kmodel.validate.source import merge_by_rv
from kmodel.validate.watch import read_watch

def rss_mb():
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 2**20

def cpu():
    u = resource.getrusage(resource.RUSAGE_SELF)
    return u.ru_utime + u.ru_stime

skip = set(sys.argv[2].split(",")) if len(sys.argv) > 2 and sys.argv[2] else set()
engine = Engine([i for i in select() if i.name not in skip])
t0, c0 = time.perf_counter(), cpu()
samples = []
for n, item in enumerate(merge_by_rv([read_watch(f) for f in expand([sys.argv[1]])]), 1):
    engine.feed(item)
    if n % 100_000 == 0:
        samples.append({"events": n, "rss_mb": round(rss_mb(), 1), "cpu_seconds": round(cpu() - c0, 1), "live_objects": engine.view.count()})
r = engine.finish()
print(json.dumps({"seconds": time.perf_counter() - t0, "cpu_seconds": cpu() - c0, "events": r.counts["events"], "violations": r.counts["violations"],
                  "input_errors": r.counts["input errors"], "peak_objects": r.peak_objects, "objects_at_end": r.objects_at_end,
                  "max_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, "rss_samples": samples,
                  "checked": sum(s.checked for s in r.stats.values()), "first_findings": [f.headline() for f in r.findings[:5]]}))
"""


def _calibration_ms() -> float:
    """CPU milliseconds for sum(range(10**6)), best of five: how fast this Python runs
    here (about 10 ms on a current x86 core), to compare results across machines."""
    best = float("inf")
    for _ in range(5):
        t0 = time.process_time()
        sum(range(10**6))
        best = min(best, time.process_time() - t0)
    return round(best * 1000, 1)


def validate_speed(events: int = 1_000_000, concurrent: int = 250, skip: tuple[str, ...] = ()) -> dict[str, Any]:
    """Generate the trace, validate it in a child process (without the invariants in
    `skip`); events per second of wall and of CPU time (the machine may be shared),
    resident memory every 100,000 events and at its peak."""
    from kmodel.validate.jsonstream import FAST_JSON

    with tempfile.TemporaryDirectory(prefix="kmodel-validate-bench-") as tmp:
        d = Path(tmp)
        t0 = time.perf_counter()
        gen = generate(d, events, concurrent)
        gen_s = time.perf_counter() - t0
        env = dict(os.environ)
        out = subprocess.run([sys.executable, "-c", _CHILD, str(d), ",".join(skip)], capture_output=True, text=True, env=env, check=False)
        if out.returncode != 0:
            raise RuntimeError(f"validation failed: {out.stderr[-2000:]}")
        res = json.loads(out.stdout.strip().splitlines()[-1])
    return {
        "python_calibration_ms": _calibration_ms(),
        **{k: v for k, v in res.items() if k not in ("seconds", "cpu_seconds")},
        "trace_bytes": gen["bytes"],
        "bytes_per_event": round(gen["bytes"] / max(1, gen["events"])),
        "namespaces": gen["namespaces"],
        "events_per_namespace": gen["events_per_namespace"],
        "generation_seconds": round(gen_s, 1),
        "validation_seconds": round(res["seconds"], 1),
        "validation_cpu_seconds": round(res["cpu_seconds"], 1),
        "events_per_second": round(res["events"] / res["seconds"], 1),
        "events_per_cpu_second": round(res["events"] / res["cpu_seconds"], 1),
        "skipped_invariants": list(skip),
        "json_parser": FAST_JSON,
    }


if __name__ == "__main__":  # pragma: no cover - manual runs: events [comma-separated invariants to leave out]
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 100_000
    print(json.dumps(validate_speed(n, skip=tuple(x for x in (sys.argv[2] if len(sys.argv) > 2 else "").split(",") if x)), indent=2))
