"""Time to counterexample, Hypothesis versus exhaustive, on deliberately broken controllers.

For every entry of kmodel.catalogue.BUGS, both engines run on the entry's scenario:

* Hypothesis, with several seeds and a budget of examples (and seconds): whether each seed
  finds a counterexample with the expected invariant, the seconds and the number of
  examples up to it (no shrinking; `kmodel explore` shrinks after this point);
* the exhaustive explorer within the scenario's scope: the seconds and the distinct states
  visited up to the first (confirmed) finding.

The reference implementation is run too (seed 0 for Hypothesis, the full scope for the
exhaustive explorer) so that a false alarm would show. Known misses report whether their
witness state is reached and whether anything is reported.
"""

from __future__ import annotations

import statistics
import sys
from typing import Any

from kmodel.catalogue import BUGS, KNOWN_MISSES, Bug
from kmodel.catalogue.detect import Detection, exhaustive_detection, hypothesis_detection, witness_search


def _hit(bug: Bug, d: Detection) -> bool:
    return d.caught and bug.invariant in d.invariants


def _median(values: list[float]) -> float | None:
    return round(statistics.median(values), 3) if values else None


def _hypothesis(bug: Bug, seeds: int, examples: int, time_budget: float) -> dict[str, Any]:
    runs = []
    for seed in range(seeds):
        d = hypothesis_detection(bug, seed=seed, examples=examples, time_budget=time_budget)
        runs.append(
            {"seed": seed, "caught": _hit(bug, d), "seconds": round(d.seconds, 3), "examples": d.examples, "invariants": list(d.invariants), "notes": d.notes}
        )
    hits = [r for r in runs if r["caught"]]
    ref = hypothesis_detection(bug, reference=True, seed=0, examples=examples, time_budget=time_budget)
    return {
        "seeds caught": f"{len(hits)}/{seeds}",
        "median seconds to counterexample": _median([r["seconds"] for r in hits]),
        "median examples to counterexample": _median([float(r["examples"]) for r in hits]),
        "budget": {"examples": examples, "steps": bug.steps, "seconds": time_budget},
        "runs": runs,
        "reference false alarm": ref.caught,
        "reference": ref.as_dict(),
    }


def _exhaustive(bug: Bug, max_states: int | None) -> dict[str, Any]:
    d = exhaustive_detection(bug, max_states=max_states)
    ref = exhaustive_detection(bug, reference=True, max_states=max_states)
    return {
        "caught": _hit(bug, d),
        "seconds to counterexample": round(d.seconds, 3),
        "states to counterexample": d.states,
        "transitions": d.transitions,
        "invariants": list(d.invariants),
        "notes": d.notes,
        "reference false alarm": ref.caught,
        "reference": ref.as_dict(),
    }


def _faster(h: dict[str, Any], e: dict[str, Any]) -> str:
    hs = h["median seconds to counterexample"]
    es = e["seconds to counterexample"] if e["caught"] else None
    if hs is None and es is None:
        return "neither"
    if hs is None:
        return "exhaustive"
    if es is None:
        return "hypothesis"
    return "hypothesis" if hs < es else "exhaustive"


def catalogue_detection(seeds: int = 5, examples: int = 200, time_budget: float = 60.0, max_states: int | None = None, progress: bool = True) -> dict[str, Any]:
    """Detection time and effort per bug and engine, references, known misses, and a summary."""
    bugs: dict[str, Any] = {}
    for bug in BUGS:
        if progress:
            sys.stderr.write(f"  {bug.id}...\n")
        h = _hypothesis(bug, seeds, examples, time_budget)
        e = _exhaustive(bug, max_states)
        bugs[bug.id] = {
            "controller": bug.controller,
            "impl": bug.option,
            "invariant": bug.invariant,
            "catalogue engine": bug.engine,
            "citation": bug.citation,
            "hypothesis": h,
            "exhaustive": e,
            "faster": _faster(h, e),
        }
    misses: dict[str, Any] = {}
    for bug in KNOWN_MISSES:
        d = exhaustive_detection(bug)
        misses[bug.id] = {
            "controller": bug.controller,
            "citation": bug.citation,
            "witness reached by the bug": witness_search(bug).witnessed,
            "witness reached by the reference": witness_search(bug, reference=True).witnessed,
            "reported": d.caught,
            "states explored": d.states,
            "why missed": bug.missed,
        }
    by_h = [b for b in bugs.values() if b["hypothesis"]["median seconds to counterexample"] is not None]
    by_e = [b for b in bugs.values() if b["exhaustive"]["caught"]]
    summary = {
        "bugs": len(bugs),
        "caught by hypothesis (any seed)": len(by_h),
        "caught by hypothesis (every seed)": sum(1 for b in bugs.values() if b["hypothesis"]["seeds caught"] == f"{seeds}/{seeds}"),
        "caught by exhaustive": len(by_e),
        "caught by neither": sum(1 for b in bugs.values() if b["faster"] == "neither"),
        "faster engine": {k: sum(1 for b in bugs.values() if b["faster"] == k) for k in ("hypothesis", "exhaustive", "neither")},
        "median seconds, hypothesis (bugs it catches)": _median([b["hypothesis"]["median seconds to counterexample"] for b in by_h]),
        "median seconds, exhaustive (bugs it catches)": _median([b["exhaustive"]["seconds to counterexample"] for b in by_e]),
        "reference false alarms": [k for k, b in bugs.items() if b["hypothesis"]["reference false alarm"] or b["exhaustive"]["reference false alarm"]],
        "known misses": len(misses),
    }
    return {"summary": summary, "bugs": bugs, "known misses": misses}


def table(results: dict[str, Any]) -> str:
    """A Markdown table of the results (for docs/catalogue.md)."""
    lines = [
        "| id | caught by (catalogue) | invariant | Hypothesis: seeds caught, median s, median examples | exhaustive: s, states |",
        "|---|---|---|---|---|",
    ]
    for bug_id, b in results["bugs"].items():
        h, e = b["hypothesis"], b["exhaustive"]
        hs = f"{h['seeds caught']}, {h['median seconds to counterexample']}, {h['median examples to counterexample']}"
        es = f"{e['seconds to counterexample']}, {e['states to counterexample']}" if e["caught"] else "not caught"
        lines.append(f"| {bug_id} | {b['catalogue engine']} | {b['invariant']} | {hs} | {es} |")
    return "\n".join(lines)


if __name__ == "__main__":
    import json

    quick = "--quick" in sys.argv
    out = catalogue_detection(seeds=2 if quick else 5, examples=60 if quick else 200, time_budget=15.0 if quick else 60.0)
    print(json.dumps(out["summary"], indent=2))
    print(table(out))
