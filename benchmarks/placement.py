"""Placement with Z3 against a greedy scheduler, and solver time of the proofs.

For each (pods, nodes) size a seeded cluster is generated: nodes in three zones (8 cpu,
32 Gi, 110 pods; a tenth tainted for GPUs with an extended resource, half labelled
disk=ssd), and Deployments of about 50 replicas each with mixed requests — some with
required anti-affinity per hostname, some spread over zones (DoNotSchedule), some with a
nodeSelector, some on the GPU nodes — sized to about 70 % of the cluster's cpu.

* Z3: the whole set decided at once (`kmodel.placement.solve`): time to build the
  encoding and to solve it, variables, verdict; the witness is checked independently
  (capacities per node; for the smaller sizes every pod re-checked with the model's
  `filter_failures` against all the others);
* greedy: the model's scheduler filters with a greedy loop in queue order, best node by
  the model's score (sibling spreading, then LeastAllocated) — with `filter_failures`
  itself on a ClusterState for the smallest size, and with the model's filter predicates
  plus incremental counts for every size (the full `filter_failures` scans every pod per
  call, which is quadratic at these sizes);
* an over-committed variant of the middle size, to time an unsat answer;
* proofs: solver time per theory of `kmodel prove`.
"""

from __future__ import annotations

import json
import random
import time
from dataclasses import replace
from pathlib import Path
from typing import Any

from kmodel.objects.pod import Pod, pod_requests
from kmodel.objects.selectors import untolerated_taints
from kmodel.objects.serde import decode_object
from kmodel.placement.encode import SAT, SolverLimits, solve
from kmodel.placement.facts import anti_terms, hard_spread, self_match, spread_selects, term_selects
from kmodel.placement.problem import Problem
from kmodel.placement.workloads import collect
from kmodel.scheduler import filter_failures, node_affinity_matches, unschedulable_tolerated
from kmodel.state import ClusterState, state_of

HOST = "kubernetes.io/hostname"
ZONE = "topology.kubernetes.io/zone"
GPU = "example.com/gpu"
RESULTS = Path(__file__).parent / "results"
FULL = [(100, 10), (1000, 100), (5000, 500)]
QUICK = [(100, 10), (1000, 100)]


# ---- the generated cluster --------------------------------------------------------------------------


def _decode(doc: dict[str, Any]) -> Any:
    obj, _ = decode_object(doc)
    return obj


def make_nodes(n: int, rng: random.Random) -> list[Any]:
    """n nodes over three zones; every tenth a GPU node (tainted), half with disk=ssd."""
    out = []
    for i in range(n):
        name = f"node-{i:04d}"
        labels = {HOST: name, ZONE: "abc"[i % 3]}
        if rng.random() < 0.5:
            labels["disk"] = "ssd"
        alloc = {"cpu": "8", "memory": "32Gi", "pods": "110"}
        taints = []
        if i % 10 == 9:
            alloc[GPU] = "4"
            taints = [{"key": "dedicated", "value": "gpu", "effect": "NoSchedule"}]
        out.append(
            _decode(
                {"apiVersion": "v1", "kind": "Node", "metadata": {"name": name, "labels": labels}, "spec": {"taints": taints}, "status": {"allocatable": alloc}}
            )
        )
    return out


def make_workloads(pods: int, nodes: int, rng: random.Random, load: float = 0.7) -> list[Any]:
    """Deployments of 30–70 replicas totalling `pods`, requesting about `load` of the cpu;
    GPU workloads ask for at most 70 % of the GPUs."""
    cpu_per_pod = int(8000 * nodes * load / pods)
    gpu_left = int(0.7 * 4 * (nodes // 10))
    out = []
    left, i = pods, 0
    while left > 0:
        replicas = min(left, rng.randint(30, 70))
        name = f"app-{i:03d}"
        kind = rng.choices(["plain", "anti", "spread", "ssd", "gpu"], [45, 15, 25, 10, 5])[0]
        if kind == "anti" and replicas > nodes // 2:
            kind = "spread"
        if kind == "gpu":
            replicas = min(replicas, nodes // 10, gpu_left)
            gpu_left -= replicas
            if replicas == 0:
                kind, replicas = "plain", min(left, rng.randint(30, 70))
        left -= replicas
        cpu = max(50, int(cpu_per_pod * rng.uniform(0.5, 1.5)))
        requests = {"cpu": f"{cpu}m", "memory": f"{rng.choice([128, 256, 512, 1024])}Mi"}
        spec: dict[str, Any] = {"containers": [{"name": "c", "image": "x", "resources": {"requests": requests}}]}
        if kind == "anti":
            spec["affinity"] = {
                "podAntiAffinity": {"requiredDuringSchedulingIgnoredDuringExecution": [{"topologyKey": HOST, "labelSelector": {"matchLabels": {"app": name}}}]}
            }
        elif kind == "spread":
            spec["topologySpreadConstraints"] = [
                {"maxSkew": 1, "topologyKey": ZONE, "whenUnsatisfiable": "DoNotSchedule", "labelSelector": {"matchLabels": {"app": name}}}
            ]
        elif kind == "ssd":
            spec["nodeSelector"] = {"disk": "ssd"}
        elif kind == "gpu":
            requests[GPU] = "1"
            spec["tolerations"] = [{"key": "dedicated", "operator": "Equal", "value": "gpu", "effect": "NoSchedule"}]
        out.append(
            _decode(
                {
                    "apiVersion": "apps/v1",
                    "kind": "Deployment",
                    "metadata": {"name": name, "namespace": "default"},
                    "spec": {
                        "replicas": replicas,
                        "selector": {"matchLabels": {"app": name}},
                        "template": {"metadata": {"labels": {"app": name}}, "spec": spec},
                    },
                }
            )
        )
        i += 1
    return out


def make_problem(pods: int, nodes: int, seed: int = 0, load: float = 0.7) -> Problem:
    """The generated cluster as a placement problem."""
    rng = random.Random(seed)
    ns = make_nodes(nodes, rng)
    return collect([*ns, *make_workloads(pods, nodes, rng, load)]).problem()


# ---- greedy placement with the model's filters ------------------------------------------------------


def queue(problem: Problem) -> list[tuple[int, Pod]]:
    """(group, pod) in queue order: the workloads' pods one after another, named for the state."""
    out = []
    for g, grp in enumerate(problem.groups):
        for k in range(grp.count):
            meta = replace(grp.pod.metadata, name=f"g{g}-{k}", uid=f"u-{g}-{k}", generate_name="")
            out.append((g, replace(grp.pod, metadata=meta)))
    return out


def greedy_with_filter_failures(problem: Problem) -> dict[str, int]:
    """One pod at a time, every node checked with `kmodel.scheduler.filter_failures` on a
    ClusterState holding the pods bound so far; the first best-scored feasible node wins."""
    nodes = [replace(n, metadata=replace(n.metadata, uid=f"n-{n.name}")) for n in problem.nodes]
    state = state_of(nodes)
    placed: dict[str, int] = {}
    for g, pod in queue(problem):
        feasible = [n for n in nodes if not filter_failures(state, pod, n)]
        if not feasible:
            continue
        best = min(feasible, key=lambda n: _score_key(state, pod, n))
        tx = state.edit()
        tx.put(replace(pod, spec=replace(pod.spec, node_name=best.name)))
        state = tx.commit()
        placed[problem.groups[g].name] = placed.get(problem.groups[g].name, 0) + 1
    return placed


def _score_key(state: ClusterState, pod: Pod, node: Any) -> tuple[int, int, str]:
    used = sum(pod_requests(p.spec).get("cpu", 0) for p in state.pods_on(node.name))
    siblings = sum(1 for p in state.pods_on(node.name) if p.metadata.labels == pod.metadata.labels)
    alloc = node.allocatable_of("cpu") or 1
    return (siblings, -((alloc - used) * 100 // alloc), node.name)


def greedy_fast(problem: Problem) -> tuple[dict[str, int], float]:
    """The same greedy loop with the model's filter predicates (node affinity, taints,
    cordon) evaluated once per group, and capacity, anti-affinity and spread counted
    incrementally. Returns pods placed per group and the seconds taken."""
    t0 = time.perf_counter()
    nodes = problem.nodes
    labels = [n.metadata.labels for n in nodes]
    groups = problem.groups
    free = [{r: (n.allocatable_of(r) or 0) for r in ("cpu", "memory", "pods", GPU)} for n in nodes]
    alloc_cpu = [max(1, n.allocatable_of("cpu") or 1) for n in nodes]
    siblings = [[0] * len(nodes) for _ in groups]
    req = [pod_requests(g.pod.spec) for g in groups]
    effects = frozenset({"NoSchedule", "NoExecute"})
    static = []
    for g, grp in enumerate(groups):
        spec = grp.pod.spec
        static.append(
            [
                i
                for i, n in enumerate(nodes)
                if node_affinity_matches(spec, n)
                and not untolerated_taints(n.spec.taints, spec.tolerations, effects)
                and (not n.spec.unschedulable or unschedulable_tolerated(spec))
                and all(n.allocatable_of(r) is not None for r, v in req[g].items() if v > 0)
            ]
        )
    # spread: per (group, constraint) the matching pods per domain of its eligible nodes
    spread = {}
    for g, grp in enumerate(groups):
        keys = {c.topology_key for c in hard_spread(grp.pod)}
        eligible = {i for i, n in enumerate(nodes) if keys <= labels[i].keys() and node_affinity_matches(grp.pod.spec, n)}
        for c in hard_spread(grp.pod):
            spread[(g, c)] = (eligible, {labels[i][c.topology_key]: 0 for i in eligible})
    feeds = [
        [(g, c) for (g, c) in spread if groups[h].pod.metadata.namespace == groups[g].pod.metadata.namespace and spread_selects(c, groups[h].pod)]
        for h in range(len(groups))
    ]
    # anti-affinity: (key, value) domains each group may no longer use
    blocked: list[set[tuple[str, str]]] = [set() for _ in groups]
    placed: dict[str, int] = {}
    for g, grp in enumerate(groups):
        terms = anti_terms(grp.pod)
        for _ in range(grp.count):
            best, best_key = None, None
            for i in static[g]:
                f = free[i]
                if f["pods"] < 1 or any(v > 0 and v > f.get(r, 0) for r, v in req[g].items()):
                    continue
                if any((k, v) in blocked[g] for k, v in labels[i].items()):
                    continue
                if not all(_skew_ok(spread[(g, c)], c, labels[i], self_match(c, grp.pod)) for c in hard_spread(grp.pod)):
                    continue
                key = (siblings[g][i], -(f["cpu"] * 100 // alloc_cpu[i]))
                if best_key is None or key < best_key:
                    best, best_key = i, key
            if best is None:
                continue
            f = free[best]
            f["pods"] -= 1
            for r, v in req[g].items():
                f[r] = f.get(r, 0) - v
            siblings[g][best] += 1
            for fg, c in feeds[g]:
                eligible, counts = spread[(fg, c)]
                if best in eligible:
                    counts[labels[best][c.topology_key]] += 1
            for term in terms:  # my terms: I block groups they select from my domain, and they block me
                v = labels[best].get(term.topology_key)
                if v is None:
                    continue
                for h, other in enumerate(groups):
                    if term_selects(term, grp.pod, other.pod):
                        blocked[h].add((term.topology_key, v))
            for h, other in enumerate(groups):  # their terms selecting me block them from my domain
                for term in anti_terms(other.pod):
                    v = labels[best].get(term.topology_key)
                    if v is not None and h != g and term_selects(term, other.pod, grp.pod):
                        blocked[h].add((term.topology_key, v))
            placed[grp.name] = placed.get(grp.name, 0) + 1
    return placed, time.perf_counter() - t0


def _skew_ok(state: tuple[set[int], dict[str, int]], c: Any, node_labels: Any, own: bool) -> bool:
    """PodTopologySpread for one candidate node (minDomains is not used by the generator)."""
    _, counts = state
    here = node_labels.get(c.topology_key)
    if here is None or not counts:
        return here is not None
    return counts.get(here, 0) + int(own) - min(counts.values()) <= c.max_skew


# ---- checking Z3's witness ----------------------------------------------------------------------------


def verify(problem: Problem, placement: dict[str, dict[str, int]], with_filters: bool) -> list[str]:
    """Problems with a placement: over-full nodes, wrong counts, and (with_filters) pods
    that `filter_failures` rejects on their node given all the other pods."""
    errors = []
    by_name = {g.name: g for g in problem.groups}
    for name, g in by_name.items():
        if sum(placement.get(name, {}).values()) != g.count:
            errors.append(f"{name}: {sum(placement.get(name, {}).values())} placed of {g.count}")
    nodes = {n.name: n for n in problem.nodes}
    for nn, node in nodes.items():
        here = [(by_name[g], k) for g, per in placement.items() for n2, k in per.items() if n2 == nn]
        for r in ("cpu", "memory", GPU):
            total = sum(pod_requests(g.pod.spec).get(r, 0) * k for g, k in here)
            if total and total > (node.allocatable_of(r) or 0):
                errors.append(f"{nn}: {r} {total} > {node.allocatable_of(r)}")
        if sum(k for _, k in here) > (node.allocatable_of("pods") or 0):
            errors.append(f"{nn}: too many pods")
    if with_filters and not errors:
        pods = []
        for g, (grp_name, per) in enumerate(sorted(placement.items())):
            grp = by_name[grp_name]
            k = 0
            for nn, count in per.items():
                for _ in range(count):
                    meta = replace(grp.pod.metadata, name=f"v{g}-{k}", uid=f"v-{g}-{k}", generate_name="")
                    pods.append(replace(grp.pod, metadata=meta, spec=replace(grp.pod.spec, node_name=nn)))
                    k += 1
        state = state_of([replace(n, metadata=replace(n.metadata, uid=f"n-{n.name}")) for n in problem.nodes] + pods)
        for p in pods:
            fails = filter_failures(state, p, nodes[p.spec.node_name])
            if fails:
                errors.append(f"{p.metadata.name} on {p.spec.node_name}: {fails}")
    return errors


# ---- the benchmark ---------------------------------------------------------------------------------------


def one_size(pods: int, nodes: int, *, seed: int = 0, timeout_s: float = 300.0, load: float = 0.7) -> dict[str, Any]:
    """Z3 and greedy on one generated cluster (wall-clock and CPU seconds: the machine
    may be shared, and Z3 runs in this process, so CPU time is the steadier figure)."""
    t0 = time.perf_counter()
    problem = make_problem(pods, nodes, seed, load)
    generate = time.perf_counter() - t0
    c0, w0 = time.process_time(), time.perf_counter()
    out = solve(problem, limits=SolverLimits(timeout_ms=int(timeout_s * 1000)))
    z3_cpu, z3_wall = time.process_time() - c0, time.perf_counter() - w0
    row: dict[str, Any] = {
        "pods": problem.pods_to_place,
        "nodes": len(problem.nodes),
        "groups": len(problem.groups),
        "load": load,
        "seed": seed,
        "generate_s": round(generate, 3),
        "z3_status": out.status,
        "z3_strategy": out.strategy,
        "z3_unknown": out.unknown,
        "z3_variables": out.variables,
        "z3_constraints": out.constraints,
        "z3_build_s": round(out.build_seconds, 3),
        "z3_solve_s": round(out.solve_seconds, 3),
        "z3_wall_s": round(z3_wall, 3),
        "z3_cpu_s": round(z3_cpu, 3),
    }
    if out.status == SAT and out.placement is not None:
        errors = verify(problem, out.placement, with_filters=problem.pods_to_place <= 1000)
        row["witness_checked_with"] = "filter_failures" if problem.pods_to_place <= 1000 else "capacities"
        row["witness_errors"] = errors[:5]
    c1 = time.process_time()
    placed, greedy_s = greedy_fast(problem)
    row["greedy_s"] = round(greedy_s, 3)
    row["greedy_cpu_s"] = round(time.process_time() - c1, 3)
    row["greedy_placed"] = sum(placed.values())
    row["greedy_stranded"] = problem.pods_to_place - row["greedy_placed"]
    if problem.pods_to_place <= 100:
        t1 = time.perf_counter()
        exact = greedy_with_filter_failures(problem)
        row["greedy_filter_failures_s"] = round(time.perf_counter() - t1, 3)
        row["greedy_filter_failures_placed"] = sum(exact.values())
    return row


def proofs(timeout_s: float = 60.0) -> list[dict[str, Any]]:
    """Solver time of every `kmodel prove` theory."""
    from kmodel.prove import prove_theory, select_theories

    rows = []
    for t in select_theories(None):
        r = prove_theory(t, timeout_ms=int(timeout_s * 1000), samples=300)
        rows.append(
            {
                "theory": t.name,
                "status": r.status,
                "properties": len(r.results),
                "prove_s": round(sum(x.seconds for x in r.results), 3),
                "slowest_s": round(max(x.seconds for x in r.results), 3),
                "cross_check_samples": r.samples,
                "cross_check_s": round(r.cross_check_seconds, 3),
            }
        )
    return rows


def placement_benchmark(quick: bool = False, seed: int = 0) -> dict[str, Any]:
    """The whole placement benchmark: the size ladder, the 1,000 × 100 target over several
    seeds, an over-committed case, the proofs. Also written to
    benchmarks/results/placement[-quick].json."""
    sizes = QUICK if quick else FULL
    ladder = [one_size(p, n, seed=seed) for p, n in sizes]
    target = [one_size(1000, 100, seed=s) for s in range(1 if quick else 5)]
    over = one_size(1000, 100, seed=seed, load=1.1)
    result = {
        "ladder": ladder,
        "target_1000x100": target,
        "overcommitted_1000x100": over,
        "proofs": proofs(),
        "target": "1000 pods on 100 nodes decided in < 10 s",
    }
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / ("placement-quick.json" if quick else "placement.json")).write_text(json.dumps(result, indent=2, sort_keys=True) + "\n")
    return result


if __name__ == "__main__":  # pragma: no cover
    import sys

    print(json.dumps(placement_benchmark(quick="--quick" in sys.argv), indent=2))
