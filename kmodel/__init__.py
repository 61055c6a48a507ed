"""kmodel: an executable, pure-functional specification of how Kubernetes runs workloads,
and the machinery to check it (Hypothesis stateful testing, exhaustive exploration, Z3)."""

__version__ = "0.1.0"
