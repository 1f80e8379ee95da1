"""Residual decisions with outcomes per item (docs/per-item.md): each item's outcome when it is
already certain, else the outcomes it may still get; completions land inside what was promised."""
import copy
import json

import pytest

from rplang.policy_lang.errors import EvaluationError
from rplang.runtime import load_policy, load_policy_text

from ..conftest import POLICIES

MIXED = load_policy(POLICIES / "mixed_store.rpl")
REQUEST = json.loads((POLICIES / "mixed_store" / "requests"
                      / "01-mixed-laptop-refunded-opened-game-exchanged.json").read_text())


def _without_opened(*positions):
    request = copy.deepcopy(REQUEST)
    for k in positions:
        del request["items"][k]["opened"]
    return request


def test_an_item_still_open_may_get_either_outcome_the_other_is_certain(snapshot):
    result = MIXED.decide_partial(_without_opened(1))
    data = result.to_json()
    assert data["outputs"]["outcome"] == "pending"
    assert data["residual"]["items"] == [
        {"element": "$.items[0]", "name": "LAPTOP-14", "outcome": "approve", "possible_outcomes": ["approve"]},
        {"element": "$.items[1]", "name": "GAME-STARFALL", "outcome": None,
         "possible_outcomes": ["exchange_only", "approve"]},
    ]
    assert data["residual"]["possible_outcomes"] == ["approve", "approve_in_part"]
    assert data["residual"]["ranges"]["refund"] == {"min": "1200.00", "max": "1259.99",
                                                   "alternatives": ["1200.00", "1259.99"]}
    assert result.explain_text() == snapshot


def test_every_completion_lands_inside_what_was_promised():
    promised = MIXED.decide_partial(_without_opened(0, 1)).to_json()["residual"]
    for laptop in (False, True):
        for game in (False, True):
            request = copy.deepcopy(REQUEST)
            request["items"][0]["opened"], request["items"][1]["opened"] = laptop, game
            decision = MIXED.decide(request)
            assert decision.outcome in promised["possible_outcomes"]
            refund = decision.outputs_json()["refund"]
            assert refund in promised["ranges"]["refund"]["alternatives"]
            for item, possible in zip(decision.to_json()["items"], promised["items"]):
                assert item["outcome"] in possible["possible_outcomes"]


def test_a_late_request_is_refused_item_by_item_whatever_is_still_unknown():
    request = _without_opened(0, 1)
    request["request_date"] = "2026-05-01"
    result = MIXED.decide_partial(request)
    assert result.final
    assert result.decision.outcome == "refuse"
    data = result.to_json()
    assert data["residual"] is None
    assert [i["outcome"] for i in data["items"]] == ["refuse", "refuse"]


def test_items_that_depend_on_a_fact_not_known_yet_are_an_error_in_words():
    text = (POLICIES / "mixed_store.rpl").read_text().replace(
        "outcomes for each item in items:", "outcomes for each item in opened_items:").replace(
        "let last_return_day", "let opened_items = each item in items where item.opened\nlet last_return_day")
    policy = load_policy_text(text)
    with pytest.raises(EvaluationError) as error:
        policy.decide_partial(_without_opened(1))
    assert str(error.value) == ("which items are decided depends on facts not known yet ($.items[1].opened): "
                                "give them to decide before all the facts are known")
