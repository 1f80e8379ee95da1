"""The generated rule code does each piece of work once, and only the work a decision needs;
whatever it leaves out, the decision (and its explanation) is that of the reference interpreter."""
import itertools

import pytest

from rplang.policy_lang.errors import EvaluationError, RequestError
from rplang.runtime import load_policy_text
from rplang.runtime import reference

POLICY = '''
policy "Codegen"
currency USD
clause terms: "Terms."
enum Kind: return, exchange
record Item:
  sku: text
  price: money
  returned: boolean
request:
  kind: Kind
  request_date: date
  delivery_date: date
  items: list of Item
let days_after_delivery = days from delivery_date to request_date
let last_day = delivery_date + 14 days
outcomes:
  refuse "REFUSED" overrides all other rules
  approve_with_fee "APPROVED WITH A FEE"
  approve "APPROVED"
rule late:
  cites terms
  when request_date > last_day
  then refuse
  because "requested {days_after_delivery} days after delivery"
rule refund for each item in items:
  cites terms
  when kind is return and item.returned
  then add item.price to refund
  because "returned {item.sku}"
rule fee for each item in items:
  cites terms
  when kind is return and item.returned and item.price > 100.00
  then approve_with_fee
       add round(item.price * 15%) to fee
       subtract round(item.price * 15%) from refund
  because "fee on {item.sku}"
rule method_exchange:
  cites terms
  when kind is exchange
  then set method to "replacement"
  because "an exchange"
rule method_return:
  cites terms
  when kind is return
  then set method to "original payment"
  because "a return"
output outcome
output refund: money total, at least 0.00
output fee:    money total
output method: text = "none"
'''


def _requests():
    for kind, day, prices in itertools.product(("return", "exchange"), ("2026-03-10", "2026-03-30"),
                                               ((), ("50.00",), ("150.00", "20.00"), ("400.00",))):
        yield {"kind": kind, "request_date": day, "delivery_date": "2026-03-01",
               "items": [{"sku": f"S{k}", "price": p, "returned": k != 1} for k, p in enumerate(prices)]}


def test_a_value_only_a_sentence_shows_is_not_computed_by_the_rule_code():
    policy = load_policy_text(POLICY)
    assert "request_date'] - R['delivery_date']" not in policy.rules_source
    late = policy.decide({"kind": "return", "request_date": "2026-03-30", "delivery_date": "2026-03-01",
                          "items": []})
    assert late.explanation()[0]["sentence"] == "requested 29 days after delivery"


def test_a_test_several_rules_make_is_made_once():
    policy = load_policy_text(POLICY)
    assert policy.rules_source.count("R['kind'] ==") == 2  # `is return` once, `is exchange` once


def test_a_value_two_effects_share_is_computed_once():
    policy = load_policy_text(POLICY)
    assert policy.rules_source.count("_round_cent(") == 1
    decision = policy.decide({"kind": "return", "request_date": "2026-03-02", "delivery_date": "2026-03-01",
                              "items": [{"sku": "A", "price": "200.00", "returned": True}]})
    assert decision.outputs_json()["fee"] == "30.00"
    assert decision.outputs_json()["refund"] == "170.00"
    assert [e["effects"] for e in decision.explanation() if e["rule"] == "fee"] == [
        [{"output": "fee", "amount": "30.00"}, {"output": "refund", "amount": "-30.00"}]]


def test_outputs_are_those_of_the_reference_interpreter():
    policy = load_policy_text(POLICY)
    seen = set()
    for data in _requests():
        decision = policy.decide(data)
        expected = reference.decide(policy.checked, policy.read_request(data))
        assert decision.outcome == expected.outcome
        assert decision.outputs_json() == expected.outputs
        seen.add((decision.outcome, decision.outputs_json()["method"]))
    # every combination the outputs code has branches for was decided
    assert seen >= {("refuse", "none"), ("approve", "original payment"), ("approve", "replacement"),
                    ("approve_with_fee", "original payment")}


def test_the_outputs_code_is_generated_from_the_rules_effects():
    policy = load_policy_text(POLICY)
    source = policy.outputs_source
    assert source.startswith("def outputs(outcome, applied):")
    assert "_subtract(" in source and "_add(" in source
    # the floor of the refund, the default of the method
    decision = policy.decide({"kind": "exchange", "request_date": "2026-03-02", "delivery_date": "2026-03-01",
                              "items": []})
    assert decision.outputs_json() == {"outcome": "approve", "refund": "0.00", "fee": "0.00",
                                       "method": "replacement"}


def test_indexed_rules_read_the_values_kept_when_others_are_left_out():
    rules = "".join(f'''
rule sku_{n} for each item in items:
  cites terms
  when item.sku is "S{n}" and request_date <= last_day
  then add {n}.00 to fee
  because "sku {n}, {{days_after_delivery}} days"
''' for n in range(10))
    policy = load_policy_text(POLICY + rules)
    assert "V = (None, " in policy.rules_source  # days_after_delivery left out, last_day kept
    assert policy.rules_source.count("def rule_shape_") == 1  # ten rules of one shape, one function
    decision = policy.decide({"kind": "return", "request_date": "2026-03-05", "delivery_date": "2026-03-01",
                              "items": [{"sku": "S3", "price": "10.00", "returned": True}]})
    assert decision.outputs_json()["fee"] == "3.00"
    assert [e["sentence"] for e in decision.explanation() if e["rule"] == "sku_3"] == ["sku 3, 4 days"]


def test_indexed_rules_of_one_shape_keep_their_own_constants_and_names():
    rules = "".join(f'''
rule sku_{n} for each item in items:
  cites terms
  when item.sku is "S{n}" and item.price > {n}0.00
  then add round(item.price * {n + 1}%) to fee
  because "sku {n}"
''' for n in range(10))
    policy = load_policy_text(POLICY + rules)
    assert policy.rules_source.count("def rule_shape_") == 1
    items = [{"sku": f"S{n}", "price": "55.00", "returned": True} for n in range(10)]
    decision = policy.decide({"kind": "exchange", "request_date": "2026-03-05", "delivery_date": "2026-03-01",
                              "items": items})
    applied = [e["rule"] for e in decision.explanation() if e["rule"].startswith("sku_")]
    assert applied == ["sku_0", "sku_1", "sku_2", "sku_3", "sku_4", "sku_5"]  # price 55.00 > n0.00
    expected = sum(round(55 * (n + 1) / 100, 2) for n in range(6))
    assert decision.outputs_json()["fee"] == f"{expected:.2f}"
    reference_decision = reference.decide(policy.checked, policy.read_request(
        {"kind": "exchange", "request_date": "2026-03-05", "delivery_date": "2026-03-01", "items": items}))
    assert decision.outputs_json() == reference_decision.outputs


def test_a_request_two_rules_cannot_decide_gets_the_error_of_the_first_in_file_order():
    """The generated code tries `late_fee` (its loop is the first rule's) before `average`:
    the error reported is still the one of `average`, which comes first in the file."""
    policy = load_policy_text('''
policy "Two failures"
currency USD
clause terms: "Terms."
record Item:
  sku: text
  price: money
  inspected: boolean
  grade: integer when inspected
request:
  items: list of Item
  divisor: integer
outcomes:
  approve "APPROVED"
rule refund for each item in items:
  cites terms
  when item.price > 0.00
  then add item.price to refund
rule average:
  cites terms
  when true
  then set share to round(100.00 / divisor)
rule graded for each item in items:
  cites terms
  when item.grade > 2
  then add 1.00 to fee
output outcome
output refund: money total
output fee: money total
output share: optional money
''')
    source = policy.rules_source
    assert source.index("'grade'") < source.index("_divide(")  # `graded` is tried before `average`
    data = {"divisor": 0, "items": [{"sku": "A", "price": "10.00", "inspected": False}]}
    with pytest.raises(EvaluationError, match="could not compute"):
        policy.decide(data)
    with pytest.raises(EvaluationError):  # the reference interpreter tries the rules in file order
        reference.decide(policy.checked, policy.read_request(data))
    # with the division possible, the missing grade is the problem
    with pytest.raises(RequestError, match="grade"):
        policy.decide({**data, "divisor": 4})
