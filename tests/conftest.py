"""Paths shared by the tests."""
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
POLICIES = ROOT / "policies"
APUTURE = POLICIES / "aputure.rpl"
APUTURE_REQUESTS = POLICIES / "aputure" / "requests"


@pytest.fixture(scope="session")
def aputure():
    from runtime import load_policy

    return load_policy(APUTURE)
