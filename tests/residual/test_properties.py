"""Every completion of a pending decision lands inside what the residual promised (hypothesis).

Complete, valid Aputure requests (benchmarks/gen_corpus.py, then changes hypothesis chooses) lose
some or all inspection facts of their returned items; the request is decided partially, then
completely, and the final decision must be one the residual allowed: a possible outcome, every
amount within its range and among its alternatives, a certain outcome or output unchanged, and
exactly the scenario of the open conditions that actually hold.
"""
from __future__ import annotations

import copy
import datetime
import random
from decimal import Decimal

import pytest
from hypothesis import event, given, settings
from hypothesis import strategies as st

import rplang.runtime.residual as residual
from rplang.policy_lang.errors import EvaluationError

from ..conftest import ROOT, load_benchmark
from .conftest import INSPECTION


gen_corpus = load_benchmark("gen_corpus")
CAUSES = ["none", "unauthorized_use", "modification", "moisture", "foreign_object", "improper_installation",
          "improper_operation", "fire", "flood", "high_wind", "lightning"]


@st.composite
def completions(draw):
    """(the complete request, the same request before inspection)."""
    request = gen_corpus.generate(random.Random(draw(st.integers(0, 2**32 - 1))))
    delivery = datetime.date.fromisoformat(request["order"]["delivery_date"])
    if draw(st.booleans()):  # around the last day to request
        request["request_date"] = (delivery + datetime.timedelta(days=draw(st.integers(12, 16)))).isoformat()
    if draw(st.integers(0, 9)) == 0:
        request["order"]["proof_of_purchase"] = draw(st.sampled_from(["missing", "suspect"]))
    if draw(st.integers(0, 4)) == 0:
        request["kind"] = draw(st.sampled_from(["return", "exchange"]))
    for item in request["items"]:
        if draw(st.integers(0, 9)) == 0:  # any amount a request may hold
            cents = draw(st.one_of(st.integers(0, 10**6), st.integers(0, 10**17 - 1)))
            item["price"] = f"{cents // 100}.{cents % 100:02d}"
        if item["returned"] and draw(st.integers(0, 2)) == 0:  # findings hypothesis can shrink
            key = draw(st.sampled_from(INSPECTION))
            item[key] = {"condition": draw(st.sampled_from(["new", "like_new", "used"])),
                         "marks": draw(st.lists(st.sampled_from(["crack", "dent", "scratch"]), max_size=2)),
                         "damage_cause": draw(st.sampled_from(CAUSES))}.get(key, draw(st.booleans()))
    partial = copy.deepcopy(request)
    every = draw(st.booleans())
    for item in partial["items"]:
        if item["returned"]:
            mask = (1 << len(INSPECTION)) - 1 if every else draw(st.integers(0, (1 << len(INSPECTION)) - 1))
            dropped = [key for k, key in enumerate(INSPECTION) if mask >> k & 1]
            for key in dropped:
                item.pop(key, None)
    return request, partial


def check_completion(policy, request: dict, partial: dict) -> None:
    try:
        final = policy.decide(request)
    except EvaluationError:  # a date the policy cannot compute with: decided neither way
        with pytest.raises(EvaluationError):
            policy.decide_partial(partial)
        return
    pending = policy.decide_partial(partial)
    outputs = final.outputs_json()
    event("final" if pending.final else f"{pending.outcome}, {pending.method}")
    if pending.final:
        assert pending.decision.outputs_json() == outputs
        return
    assert final.outcome in pending.possible_outcomes
    if pending.outcome != residual.PENDING:
        assert pending.outcome == final.outcome
    shown = pending.outputs_json()
    for name, value in shown.items():
        if name == "outcome":
            continue
        if name not in pending.ranges:
            assert value == outputs[name], name  # certain: unchanged
            continue
        r = pending.ranges[name]
        if r.get("alternatives") is not None:
            assert outputs[name] in r["alternatives"], (name, outputs[name], r)
        if r.get("min") is not None:
            assert Decimal(r["min"]) <= Decimal(outputs[name]) <= Decimal(r["max"]), (name, outputs[name], r)
    # the scenario of the open conditions that actually hold is the final decision
    found = {(a.rule.rule.name, a.element.get("#path") if a.element else None) for a in final.applied + final.overridden}
    holding = [c["id"] for c in pending.open_conditions if (c["rule"], c["element"]) in found]
    assert pending.scenario(holding) == outputs
    # the rules said to be certain do apply
    for entry in pending.explanation():
        assert (entry["rule"], entry["element"]) in found
    # a condition that alone can happen, holding alone, leads where it said
    if len(holding) == 1:
        (alone,) = [c for c in pending.open_conditions if c["id"] == holding[0]]
        assert alone["leads_to"] is None or alone["leads_to"]["outputs"] == outputs
    elif not holding and pending.if_none_apply is not None:
        assert pending.if_none_apply["outputs"] == outputs and pending.if_none_apply["possible"]
    for deadline in pending.deadlines:
        if deadline["date"]["value"] is not None and deadline["date"]["value"] > deadline.get("last_day", "9999"):
            raise AssertionError(f"a deadline already passed: {deadline}")
    pending.explain_text()


@settings(deadline=None, max_examples=300)
@given(completions())
def test_every_completion_lands_inside_the_residual(aputure, case):
    check_completion(aputure, *case)


@settings(deadline=None, max_examples=60)
@given(completions())
def test_outcome_by_outcome_and_bounds_agree(aputure, case):
    """Past the enumeration limits the residual stays sound: outcome by outcome it is the same;
    with bounds only, it contains the exact one."""
    _, partial = case
    exact = aputure.decide_partial(partial).to_json()
    saved = residual.SCENARIOS, residual.OUTCOME_SCENARIOS
    try:
        residual.SCENARIOS = 0
        assert aputure.decide_partial(partial).to_json() == exact
        residual.OUTCOME_SCENARIOS = 0
        bounds = aputure.decide_partial(partial).to_json()
    finally:
        residual.SCENARIOS, residual.OUTCOME_SCENARIOS = saved
    if exact["residual"] is None:
        return
    assert set(bounds["residual"]["possible_outcomes"]) >= set(exact["residual"]["possible_outcomes"])
    for name, r in exact["residual"]["ranges"].items():
        b = bounds["residual"]["ranges"][name]
        if r.get("min") is not None and b["min"] is not None:
            assert Decimal(b["min"]) <= Decimal(r["min"]) and Decimal(r["max"]) <= Decimal(b["max"])
        if b.get("alternatives") is not None:
            assert set(map(str, r["alternatives"])) <= set(map(str, b["alternatives"]))


@pytest.mark.fuzz
@settings(deadline=None, max_examples=5000)
@given(completions())
def test_every_completion_lands_inside_the_residual_long(aputure, case):
    check_completion(aputure, *case)


HOLIDAYS = ROOT / "policies" / "aputure_holidays.rpl"


@pytest.mark.skipif(not HOLIDAYS.exists(), reason="no policy with dated parameters")
@settings(deadline=None, max_examples=60)
@given(completions())
def test_dated_parameters_too(case):
    """The same with terms by purchase date: a parameter's value depends on a known date."""
    check_completion(_holidays(), *case)


def _holidays():
    global _HOLIDAYS
    if _HOLIDAYS is None:
        from rplang.runtime import load_policy

        _HOLIDAYS = load_policy(HOLIDAYS)
    return _HOLIDAYS


_HOLIDAYS = None
