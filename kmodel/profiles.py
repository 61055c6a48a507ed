"""Exploration budgets and Hypothesis settings profiles.

`ci` keeps the default test run fast and deterministic; `dev` and `thorough` are for
`kmodel explore` runs. Tests pick the profile from the KMODEL_PROFILE environment
variable (default: ci).
"""

from __future__ import annotations

from hypothesis import HealthCheck, settings

# (examples, steps per example) for `kmodel explore --profile`
PROFILES: dict[str, tuple[int, int]] = {"ci": (25, 20), "dev": (200, 40), "thorough": (2000, 60)}


def register_profiles() -> None:
    """Register the Hypothesis settings profiles ci, dev and thorough."""
    checks = list(HealthCheck)
    settings.register_profile(
        "ci",
        max_examples=25,
        stateful_step_count=20,
        derandomize=True,
        database=None,
        print_blob=False,
        deadline=None,
        suppress_health_check=checks,
        report_multiple_bugs=False,
    )
    settings.register_profile("dev", max_examples=200, stateful_step_count=40, deadline=None, suppress_health_check=checks, report_multiple_bugs=False)
    settings.register_profile("thorough", max_examples=2000, stateful_step_count=60, deadline=None, suppress_health_check=checks, report_multiple_bugs=False)
