"""Paths shared by the tests."""
import os
import tempfile
from pathlib import Path

import pytest

# Commands run by the tests keep their compiled-policy cache out of the user's home.
os.environ.setdefault("RPL_CACHE_DIR", tempfile.mkdtemp(prefix="rpl-test-cache-"))

ROOT = Path(__file__).resolve().parent.parent
POLICIES = ROOT / "policies"
APUTURE = POLICIES / "aputure.rpl"
APUTURE_REQUESTS = POLICIES / "aputure" / "requests"


@pytest.fixture(scope="session")
def aputure():
    from runtime import load_policy

    return load_policy(APUTURE)
