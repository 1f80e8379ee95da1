"""A rule's own values (`let` lines in a rule): computed per element, used in the condition, the
amounts and the sentence, shown by name in explanations; the same in the generated code, the
reference interpreter and the three-valued evaluation, where an unknown fact makes them unknown."""
import json

import pytest

from rplang.policy_lang.errors import PolicyError
from rplang.runtime import load_policy_text
from rplang.runtime.explain import explain_text
from rplang.runtime.reference import decide as reference_decide

POLICY = '''policy "per item windows"
currency USD
enum Category: phone, laptop
record Item:
  sku:       text
  category:  Category
  price:     money
  delivered: date
  opened:    boolean at inspection
request:
  requested: date
  items:     list of Item
outcomes for each item in items:
  refuse  "REFUSED" overrides all other rules
  approve "APPROVED"
request outcome:
  approve_in_part "APPROVED IN PART" when any item is refuse
  refuse "REFUSED" when every item is refuse
  approve "APPROVED"
output outcome
output refund: money total
output fee: money total
rule late for each item in items:
  let item_window = if item.category is phone then 14 days else 30 days
  let last_day    = item.delivered + item_window
  cites "Phones may be returned within 14 days of delivery, everything else within 30."
  when requested > last_day
  then refuse
  because "{item.sku}: the window is {item_window}, the last day was {last_day}"
rule refund for each item in items:
  cites "The price is refunded."
  when true
  then add item.price to refund
  because "{item.sku}: {item.price}"
rule opened_fee for each item in items:
  let rate = if item.category is phone then 20% else 10%
  let charged = round(item.price * rate)
  cites "Opened items pay a fee: 20% for phones, 10% otherwise."
  when item.opened and charged > 0.00
  then add charged to fee
       subtract charged from refund
  because "{item.sku} opened: {rate} of {item.price}, {charged}"
'''

REQUEST = {"requested": "2026-03-20", "items": [
    {"sku": "P1", "category": "phone", "price": "500.00", "delivered": "2026-03-01", "opened": True},
    {"sku": "L1", "category": "laptop", "price": "900.00", "delivered": "2026-03-01", "opened": True},
]}


@pytest.fixture(scope="module")
def policy():
    return load_policy_text(POLICY)


def test_each_item_gets_its_own_values(policy):
    decision = policy.decide(REQUEST)
    assert decision.outputs_json() == {"outcome": "approve_in_part", "refund": "810.00", "fee": "90.00"}
    assert [item.outcome for item in decision.items] == ["refuse", "approve"]
    assert reference_decide(policy.checked, policy.read_request(REQUEST)).outputs == decision.outputs_json()


def test_explanations_show_the_values_by_name(policy, snapshot):
    decision = policy.decide(REQUEST)
    late = [e for e in decision.explanation() if e["rule"] == "late"]
    assert late[0]["facts"] == [{"fact": "requested > last_day", "holds": True,
                                 "values": {"requested": "2026-03-20", "last_day": "2026-03-15"}}]
    assert late[0]["sentence"] == "P1: the window is 14 days, the last day was 2026-03-15"
    fee = [e for e in decision.explanation() if e["rule"] == "opened_fee"]
    assert fee[-1]["facts"][-1]["values"] == {"charged": "90.00"}
    assert explain_text(decision) == snapshot
    assert json.dumps(decision.explanation(), indent=1) == snapshot


def test_an_unknown_fact_makes_the_value_unknown(policy):
    request = {"requested": "2026-03-20", "items": [dict(item, opened=None) for item in REQUEST["items"]]}
    for item in request["items"]:
        del item["opened"]
    partial = policy.decide_partial(request)
    assert not partial.final
    assert partial.to_json()["residual"]["ranges"]["fee"]["alternatives"] == ["0.00", "90.00"]
    known = policy.decide_partial(REQUEST)
    assert known.final and known.decision.outputs_json() == policy.decide(REQUEST).outputs_json()


def test_a_value_per_item_is_not_seen_by_another_rule():
    text = POLICY.replace('because "{item.sku}: {item.price}"', 'because "{item.sku}: {item_window}"')
    with pytest.raises(PolicyError) as error:
        load_policy_text(text)
    [problem] = error.value.diagnostics
    assert (problem.code, problem.message) == ("RPL020", "unknown name `item_window`")
