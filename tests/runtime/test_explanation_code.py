"""Explanations generated as code (runtime/codegen_explain.py): each rule's entry is a function
written from its condition the first time the rule is explained, with no policy text in it; the
facts are those a reading of the condition gives (explanation snapshots hold the bytes)."""
import json

import orjson

from rplang.runtime import load_policy_text
from rplang.runtime.codegen_computation import computation_function
from rplang.runtime.codegen_explain import entry_function
from rplang.runtime.explain import element_name

POLICY = '''
policy "Explained"
currency USD
clause refunds: "Items are refunded'); import os; ('."
record Item:
  sku:      text
  price:    money
  returned: boolean "returned"
  opened:   boolean "opened"
  note:     text when opened "what was opened"
request:
  kind:  text
  limit: optional money
  items: list of Item
outcomes:
  refuse  "REFUSED" overrides all other rules
  approve "APPROVED"
output refund: money total, at least 0.00
rule refund_each for each item in items:
  cites refunds
  when item.returned and (not item.opened or item.note is "sealed")
  then add item.price to refund
  because "Refund {item.sku} at {item.price}'); import os; ('"
rule over_limit:
  when limit is given and limit < 1.00
  then refuse
  because "the limit {limit} is below a dollar"
'''


def _request(**changes):
    request = {"kind": "return", "limit": None,
               "items": [{"sku": "A", "price": "10.00", "returned": True, "opened": False},
                         {"sku": "B", "price": "5.00", "returned": True, "opened": True, "note": "sealed"},
                         {"sku": "C", "price": "7.00", "returned": False, "opened": False}]}
    request.update(changes)
    return request


def test_only_the_rules_explained_have_code_and_it_holds_no_policy_text():
    policy = load_policy_text(POLICY)
    policy.decide(_request()).explanation()
    code = policy.explanation_code
    assert [f is not None for f in code.entries] == [True, False]
    for rule_node in policy.graph.rules:
        source, _ = entry_function(policy, rule_node, element_name)
        assert "import os" not in source and "Refund" not in source and "refunds" not in source
    assert "import os" not in computation_function(policy)[0]


def test_the_facts_of_an_or_are_the_operands_that_decided_it():
    entries = load_policy_text(POLICY).decide(_request()).explanation()
    assert [e["element_name"] for e in entries] == ["A", "B"]
    assert entries[0]["sentence"] == "Refund A at 10.00'); import os; ('"
    # A: not opened decided the `or`, and its note (given only when opened) is not read
    assert entries[0]["facts"] == [{"fact": "item.returned", "holds": True, "label": "returned"},
                                   {"fact": "item.opened", "holds": False, "label": "opened"}]
    # B: opened, so the `or` held by its note
    assert entries[1]["facts"][1:] == [{"fact": 'item.note is "sealed"', "holds": True,
                                        "values": {"item.note": "sealed"}}]


def test_a_false_and_shows_the_operand_that_settled_it_and_no_other():
    policy = load_policy_text(POLICY)
    refused = policy.decide(_request(limit="0.50"))
    assert refused.outcome == "refuse"
    (entry,) = [e for e in refused.explanation() if e["rule"] == "over_limit"]
    assert entry["sentence"] == "the limit 0.50 is below a dollar"
    assert entry["facts"] == [{"fact": "limit is given", "holds": True, "values": {"limit": "0.50"}},
                              {"fact": "limit < 1.00", "holds": True, "values": {"limit": "0.50"}}]


def test_the_computation_takes_the_entries_amounts_and_the_floor():
    decision = load_policy_text(POLICY).decide(_request())
    data = json.loads(decision.to_json_text())
    assert data["computation"]["refund"] == {
        "steps": [{"rule": "refund_each", "element_name": "A", "amount": "10.00"},
                  {"rule": "refund_each", "element_name": "B", "amount": "5.00"}],
        "sum": "15.00", "floor": "0.00", "floored": False, "value": "15.00"}
    assert decision.computation() == data["computation"]


MIXED = '''
policy "Mixed"
currency USD
record Order:
  paid: boolean "paid"
request:
  order: Order
  gift:  boolean "a gift"
outcomes:
  refuse  "REFUSED" overrides all other rules
  approve "APPROVED"
rule unpaid_or_no_gift:
  when not (order.paid and gift)
  then refuse
'''


def test_a_false_and_of_a_nested_field_then_fields_always_given_shows_each_that_was_false():
    # the request's own field is read in place (it cannot fail), after one of a record that
    # is read as any other operand is: both forms of the entry agree, and say the same
    policy = load_policy_text(MIXED)
    for paid, gift in ((False, True), (True, False), (False, False)):
        decision = policy.decide({"order": {"paid": paid}, "gift": gift})
        (entry,) = decision.explanation()
        assert entry["facts"] == [fact for fact, holds in (
            ({"fact": "order.paid", "holds": False, "label": "paid"}, paid),
            ({"fact": "gift", "holds": False, "label": "a gift"}, gift)) if not holds]
        assert decision.to_json_bytes() == orjson.dumps(decision.to_json())
