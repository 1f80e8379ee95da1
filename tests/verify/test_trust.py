"""The solver and the runtime checked against each other beyond hand-written cases: random requests
never violate a proven property, and on random policies every refuted property's counterexample
reproduces in the runtime (conftest.verified replays each one)."""
import datetime
import json
import random
import re
from decimal import Decimal

import pytest
from hypothesis import HealthCheck, given, settings

from rplang.compiler import compile_policy
from rplang.policy_lang.errors import PolicyError
from rplang.runtime import load_policy, load_policy_text
from rplang.verify import prove
from rplang.verify.domain import Bounds
from rplang.verify.prove import verify_policy
from rplang.verify.replay import holds
from tests.robustness.policygen import RandomChooser, generate
from tests.robustness.test_aputure_properties import aputure_requests

from tests.conftest import POLICIES

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


def _false_properties(path) -> tuple[str, dict]:
    """The policy without its own properties, with properties most requests break: each total
    under 3.00, and each outcome never given; beside each, how a decision's outputs break it."""
    text = path.read_text(encoding="utf-8")
    policy = load_policy_text(text, str(path))  # tables in files are read beside it
    text = re.sub(r"^property [\s\S]*?(?=^\S|\Z)", "", text, flags=re.M)
    broken_by = {}
    for output in policy.checked.outputs:
        if output.kind == "total":
            text += f"\nproperty small_{output.name}: {output.name} < 3.00\n"
            broken_by[f"small_{output.name}"] = lambda out, n=output.name: Decimal(out[n]) >= 3
    for name in re.findall(r"^  (\w+)", re.search(r"^outcomes[^\n]*:\n((?:  .*\n)+)", text, re.M).group(1), re.M):
        text += f"\nproperty never_{name}: outcome is not {name}\n"
        broken_by[f"never_{name}"] = lambda out, n=name: out["outcome"] == n
    return text, broken_by


@pytest.mark.parametrize("path", sorted(POLICIES.glob("*.rpl")), ids=lambda p: p.stem)
def test_counterexamples_on_the_bundled_policies_are_requests_that_show_the_violation(path):
    """Each counterexample, as a request file holds it, is read by the request reader, its dates
    within the bounds and its amounts in cents; decided, its outputs break the property, seen
    from the outputs alone (not by the replay `rpl verify` itself runs), and it is explained."""
    text, broken_by = _false_properties(path)
    policy = load_policy_text(text, str(path))
    bounds = Bounds(max_items=1)
    results = verify_policy(policy, bounds)
    if all(r.status == "unsupported" for r in results):
        pytest.skip(f"{path.name}: {results[0].message}")
    refuted = [r for r in results if r.status == "refuted"]
    assert len(refuted) >= len(results) // 2, [(r.name, r.status) for r in results]
    for result in refuted:
        request = json.loads(json.dumps(result.request))
        flat = json.dumps(request)
        for day in re.findall(r'"(\d{4}-\d\d-\d\d)"', flat):
            assert bounds.first_day <= datetime.date.fromisoformat(day) <= bounds.last_day, (result.name, day)
        for amount in re.findall(r'"(-?[0-9]+\.[0-9]+)"', flat):  # money: never negative, in cents
            assert re.fullmatch(r"[0-9]+\.[0-9]{2}", amount), (result.name, amount)
        decision = policy.decide(request)
        assert decision.outputs_json() == result.outputs
        assert broken_by[result.name](result.outputs), (result.name, request, result.outputs)
        assert decision.explain_text()
