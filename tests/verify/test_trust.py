"""The solver and the runtime checked against each other beyond hand-written cases: random requests
never violate a proven property, and on random policies every refuted property's counterexample
reproduces in the runtime (conftest.verified replays each one)."""
import random
import re

import pytest
from hypothesis import HealthCheck, given, settings

from rplang.compiler import compile_policy
from rplang.policy_lang.errors import PolicyError
from rplang.runtime import load_policy
from rplang.verify import prove
from rplang.verify.replay import holds
from tests.robustness.policygen import RandomChooser, generate
from tests.robustness.test_aputure_properties import aputure_requests

from .conftest import APUTURE, verified

aputure = load_policy(APUTURE)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(request=aputure_requests())
def test_random_requests_never_violate_aputures_proven_guarantees(request):
    for prop in aputure.checked.properties:  # each proven in test_aputure.py
        assert holds(aputure, prop, request), (prop.name, request)


def _with_outcome_properties(text: str) -> str | None:
    found = re.search(r"^outcomes:\n((?:  .*\n)+)", text, re.M)
    if found is None or "\noutput outcome" not in text:
        return None
    names = [line.split()[0] for line in found.group(1).splitlines()]
    return text + "".join(f"\nproperty never_{n}: outcome is not {n}\n" for n in names)


def _random_policies(seeds):
    """Random policies that compile, each with a property per outcome: `outcome is not o`."""
    for seed in seeds:
        policy, _ = generate(RandomChooser(random.Random(seed)), hostile=False)
        text = _with_outcome_properties(policy.text)
        if text is None:
            continue
        try:
            compile_policy(text)
        except PolicyError:  # the generator's rare policy the checker rejects: nothing to verify
            continue
        yield seed, text


@pytest.mark.parametrize("seeds", [range(0, 12)])
def test_refuted_properties_of_random_policies_reproduce(seeds, monkeypatch):
    monkeypatch.setattr(prove, "SOLVER_TIMEOUT_MS", 5_000)
    refuted = 0
    for seed, text in _random_policies(seeds):
        results = verified(text, max_items=1)  # raises if a counterexample does not reproduce
        refuted += sum(r.status == "refuted" for r in results.values())
    assert refuted > 0


@pytest.mark.fuzz
def test_refuted_properties_of_many_random_policies_reproduce(monkeypatch):
    monkeypatch.setattr(prove, "SOLVER_TIMEOUT_MS", 10_000)
    for seed, text in _random_policies(range(12, 200)):
        verified(text, max_items=2)
