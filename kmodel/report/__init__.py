"""Run results as plain data, and renderers for them (Markdown, JSON, JUnit XML)."""

from kmodel.report.model import Counterexample, InvariantResult, RunReport, StepRow
from kmodel.report.write import write_report

__all__ = ["Counterexample", "InvariantResult", "RunReport", "StepRow", "write_report"]
