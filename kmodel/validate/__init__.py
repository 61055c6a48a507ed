"""Trace validation: check what a real cluster did against the model's invariants.

`kmodel validate TRACE...` reads kubectl watch streams, kube-apiserver audit logs or ITF
traces (`kmodel export`), rebuilds the sequence of observed cluster states and checks
the ALWAYS invariants on every state, the TRANSITION invariants on every observed step
(with its author, where the evidence names it), and the QUIESCENT invariants where the
trace ends settled. See `run.validate` for the entry point, `engine` for how steps are
checked, `attribution` for who made each write and `policy` for how each invariant is
judged on observations.
"""

from kmodel.validate.engine import Finding, Result
from kmodel.validate.run import Options, validate

__all__ = ["Finding", "Options", "Result", "validate"]
