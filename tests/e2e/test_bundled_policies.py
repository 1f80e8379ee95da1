"""Every bundled policy decides every bundled request as its owner worked out by hand.

A policy `policies/NAME.rpl` bundles its requests in `policies/NAME/requests/*.json`, with the
expected outputs in `expected.json` beside them. Decisions and explanations are snapshotted.
"""
import json

import pytest

from rplang.runtime import load_policy
from tests.conftest import POLICIES

CASES = [(policy_file, name)
         for policy_file in sorted(POLICIES.glob("*.rpl"))
         if (POLICIES / policy_file.stem / "requests" / "expected.json").exists()
         for name in sorted(json.loads((POLICIES / policy_file.stem / "requests" / "expected.json").read_text()))]
IDS = [f"{p.stem}/{n}" for p, n in CASES]
_loaded = {}


def _decide(policy_file, name):
    if policy_file not in _loaded:
        _loaded[policy_file] = load_policy(policy_file)
    request = json.loads((POLICIES / policy_file.stem / "requests" / name).read_text())
    return _loaded[policy_file].decide(request)


def _expected(policy_file, name):
    return json.loads((POLICIES / policy_file.stem / "requests" / "expected.json").read_text())[name]


def test_every_bundled_policy_has_requests():
    assert {p.stem for p, _ in CASES} >= {"aputure", "electronics", "mixed_store", "bestbuy", "hm", "ikea"}


@pytest.mark.parametrize("policy_file,name", CASES, ids=IDS)
def test_outputs(policy_file, name):
    assert _decide(policy_file, name).outputs_json() == _expected(policy_file, name)


@pytest.mark.parametrize("policy_file,name", CASES, ids=IDS)
def test_decision_json(policy_file, name, snapshot):
    assert _decide(policy_file, name).to_json() == snapshot


@pytest.mark.parametrize("policy_file", sorted({p for p, _ in CASES}), ids=lambda p: p.stem)
def test_every_rule_applies_to_some_bundled_request(policy_file):
    names = [n for p, n in CASES if p == policy_file]
    seen = set()
    for name in names:
        decision = _decide(policy_file, name)
        seen |= {a.rule.rule.name for a in decision.applied + decision.overridden}
    assert seen == {r.name for r in _loaded[policy_file].checked.rules}
