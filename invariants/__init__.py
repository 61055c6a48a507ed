"""Named invariants of Kubernetes workload semantics, each with a check returning violations."""
