"""Two evaluators, one answer: the compiled runtime against the reference interpreter.

Random well-typed policies (policygen.py) and random valid requests for them: both evaluators
must give the same outcome, outputs and determining rules, or both refuse the request.
"""
from __future__ import annotations

import json
import random
import time

import pytest
from hypothesis import given
from hypothesis import strategies as st

from rplang.runtime import load_policy
from rplang.runtime.reference import decide as reference_decide

from ..conftest import APUTURE_REQUESTS, POLICIES
from .conftest import FUZZ_CASES, quick
from .differential import Tally, compare, compiled_result, reference_result
from .policygen import DataChooser, RandomChooser, generate
from .test_aputure_properties import gen_corpus


def test_the_reference_decides_the_bundled_aputure_requests_as_expected(aputure):
    expected = json.loads((APUTURE_REQUESTS / "expected.json").read_text())
    for name, outputs in expected.items():
        request = json.loads((APUTURE_REQUESTS / name).read_text())
        assert reference_decide(aputure.checked, aputure.read_request(request)).outputs == outputs, name


def test_the_reference_agrees_on_the_aputure_corpus(aputure):
    lines = (POLICIES / "aputure" / "corpus.jsonl").read_text().splitlines()
    lines += list(gen_corpus.generate_lines(1500, seed=7))
    for line in lines:
        request = aputure.read_request(json.loads(line))
        assert compiled_result(aputure, request) == reference_result(aputure, request), line


def test_the_reference_agrees_on_every_bundled_policy():
    for path in sorted(POLICIES.glob("*.rpl")):
        policy = load_policy(path)
        folder = POLICIES / path.stem / "requests"
        for file in sorted(folder.glob("*.json")) if folder.is_dir() else ():
            data = json.loads(file.read_text())
            if file.name == "expected.json" or not isinstance(data, dict):
                continue
            try:
                request = policy.read_request(data)
            except Exception:
                continue  # a request that is there to be refused
            assert compiled_result(policy, request) == reference_result(policy, request), file


@quick(120)
@given(st.data())
def test_random_policies_agree(data):
    policy, requests = generate(DataChooser(data))
    compare(policy.text, [requests.request() for _ in range(5)], Tally())


def test_random_policies_agree_seeded():
    """A fixed sample, the same on every run, so that a change that breaks it is seen at once."""
    tally = Tally()
    for seed in range(150):
        policy, requests = generate(RandomChooser(random.Random(seed)))
        compare(policy.text, [requests.request() for _ in range(8)], tally)
    assert tally.cases >= 1000 and tally.decided > tally.errors


@pytest.mark.fuzz
def test_random_policies_agree_long(capsys):
    """`pytest -m fuzz`: RPL_FUZZ_CASES (policy, request) cases, or `benchmarks/fuzz.py`."""
    tally, start, seed = Tally(), time.monotonic(), 1_000_000
    while tally.cases < FUZZ_CASES:
        policy, requests = generate(RandomChooser(random.Random(seed)))
        compare(policy.text, [requests.request() for _ in range(10)], tally)
        seed += 1
    with capsys.disabled():
        print(f"\ndifferential: {tally.cases:,} cases ({tally.decided:,} decided, {tally.errors:,} "
              f"refused by both) over {tally.policies:,} policies ({tally.rejected:,} refused by "
              f"the checker) in {time.monotonic() - start:.0f} s")


def test_random_decisions_explain_without_crashing():
    """Explaining a decision never fails (patterns of open explanation bugs left out)."""
    tally = Tally()
    for seed in range(120):
        policy, requests = generate(RandomChooser(random.Random(seed)), explainable=True)
        compare(policy.text, [requests.request() for _ in range(5)], tally, explain=True)
    assert tally.decided > 300
