"""Run every benchmark and write benchmarks/results/latest.json (quick.json with --quick).

Usage:
    python -m benchmarks                       # all benchmarks, default budgets
    python -m benchmarks --quick               # smaller budgets
    python -m benchmarks --only exhaustive     # some of them (the others' results are kept)
"""

from __future__ import annotations

import argparse
import json
import platform
import sys
from pathlib import Path

RESULTS = Path(__file__).parent / "results"


def main() -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks", description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="smaller budgets")
    parser.add_argument("--only", default=None, help="comma-separated benchmark names")
    args = parser.parse_args()
    from benchmarks.catalogue import catalogue_detection
    from benchmarks.exhaustive import exhaustive_ladder
    from benchmarks.model_speed import hypothesis_speed, model_walks
    from benchmarks.placement import placement_benchmark
    from benchmarks.validate import validate_speed

    budget = 1.0 if args.quick else 10.0
    benches = {
        "model_transitions": lambda: model_walks(seconds=budget),
        "hypothesis_steps": lambda: hypothesis_speed(examples=10 if args.quick else 60),
        "validate_trace": lambda: validate_speed(events=20_000 if args.quick else 1_000_000),
        "catalogue": lambda: catalogue_detection(seeds=2 if args.quick else 5, examples=60 if args.quick else 200, time_budget=15.0 if args.quick else 60.0),
        "placement": lambda: placement_benchmark(quick=args.quick),
        "exhaustive": lambda: exhaustive_ladder(quick=args.quick),
    }
    only = set(args.only.split(",")) if args.only else None
    results = {"python": platform.python_version(), "machine": platform.machine()}
    for name, fn in benches.items():
        if only and name not in only:
            continue
        sys.stderr.write(f"running {name}...\n")
        results[name] = fn()
        sys.stderr.write(json.dumps(results[name], indent=2) + "\n")
    RESULTS.mkdir(exist_ok=True)
    out = RESULTS / ("quick.json" if args.quick else "latest.json")
    if only and out.exists():
        # a partial run updates the benchmarks it ran and keeps the others' last results
        try:
            previous = json.loads(out.read_text())
        except ValueError:
            previous = {}
        results = {**previous, **results}
    out.write_text(json.dumps(results, indent=2, sort_keys=True) + "\n")
    sys.stderr.write(f"results written to {out}\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
