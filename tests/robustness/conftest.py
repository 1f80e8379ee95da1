"""Shared by the robustness tests: hypothesis settings, and how many cases the long runs try."""
from __future__ import annotations

import os

from hypothesis import HealthCheck, settings

# The default run stays short; `pytest -m fuzz` runs the long ones (RPL_FUZZ_CASES each).
FUZZ_CASES = int(os.environ.get("RPL_FUZZ_CASES", "100000"))



def quick(max_examples: int) -> settings:
    """Settings for a bounded hypothesis run in the default test suite."""
    return settings(deadline=None, max_examples=max_examples,
                    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large,
                                           HealthCheck.filter_too_much])
