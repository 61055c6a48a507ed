"""Test configuration: Hypothesis profile (KMODEL_PROFILE, default ci) and shared fixtures."""

from __future__ import annotations

import os

from hypothesis import settings

from kmodel.profiles import register_profiles

register_profiles()
settings.load_profile(os.environ.get("KMODEL_PROFILE", "ci"))
