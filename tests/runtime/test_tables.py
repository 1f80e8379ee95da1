"""Tables decided: every evaluator (generated code, closures, three-valued, reference) gives the
table's value for the keys; explanations show the key and the value found."""
import itertools
import json

import pytest

from rplang.runtime import load_policy_text
from rplang.runtime import reference

POLICY = """
policy "Camera shop returns"
currency USD

enum Category: camera, drone, light
enum Region: east, west
enum Method: card, store_credit

request:
  category:  Category  at inspection
  region:    Region
  seller:    text
  price:     money
  opened:    boolean

outcomes:
  refuse   "REFUSED"
  approve  "APPROVED"

output refund: money total
output method: Method = card

table restocking_rate by Category: percent
  camera:     15%
  drone:      15%
  otherwise:  0%

table seller_terms by text: fee: money, window: days, credit_only: boolean
  "acme":     2.50, 30 days, false
  "bigshop":  1.00, 14 days, true
  otherwise:  0.00, 7 days,  false

table shipping by Region, Category: money
  east, camera:  9.00
  east, drone:   12.00
  east, light:   5.00
  west, camera:  10.00
  west, drone:   14.00
  west, light:   6.00

table method_by_region by Region: Method
  east:  card
  west:  store_credit

rule opened_fee:
  when opened and restocking_rate[category] > 0%
  then approve add round(price - price * restocking_rate[category]) to refund
  because "a restocking fee of {restocking_rate[category]} applies to an opened {category}"

rule unopened:
  when not opened or restocking_rate[category] is 0%
  then approve add price to refund

rule seller_fee:
  when seller_terms[seller].fee > 0.00
  then subtract seller_terms[seller].fee from refund
  because "the seller's fee"

rule shipping_back:
  when shipping[region, category] > 9.50
  then subtract shipping[region, category] from refund
  because "return shipping"

rule credit:
  when seller_terms[seller].credit_only
  then set method to method_by_region[region]
  because "this seller refunds as {method_by_region[region]}"
"""


@pytest.fixture(scope="module")
def policy():
    return load_policy_text(POLICY)


def request(**changes):
    data = {"category": "camera", "region": "east", "seller": "acme", "price": "100.00", "opened": True}
    data.update(changes)
    return data


def test_a_lookup_by_an_enum(policy):
    assert policy.decide(request()).outputs_json()["refund"] == "82.50"
    assert policy.decide(request(category="light")).outputs_json()["refund"] == "97.50"


def test_a_text_key_no_row_names_takes_the_otherwise_row(policy):
    decision = policy.decide(request(seller="someone else", category="light"))
    assert decision.outputs_json()["refund"] == "100.00"


def test_several_keys_and_several_columns(policy):
    decision = policy.decide(request(seller="bigshop", region="west", category="drone", opened=False))
    assert decision.outputs_json() == {"refund": "85.00", "method": "store_credit"}


def test_every_evaluator_agrees_with_the_reference(policy):
    for category, region, seller, opened in itertools.product(
            ("camera", "drone", "light"), ("east", "west"), ("acme", "bigshop", "ACME", ""), (True, False)):
        data = request(category=category, region=region, seller=seller, opened=opened)
        decision = policy.decide(data)
        expected = reference.decide(policy.checked, policy.read_request(data))
        assert (decision.outcome, decision.outputs_json()) == (expected.outcome, expected.outputs)


def test_the_explanation_shows_the_key_and_the_value_found(policy, snapshot):
    decision = policy.decide(request(seller="bigshop", region="west"))
    facts = {e["rule"]: e["facts"] for e in decision.explanation()}
    assert facts["opened_fee"][1]["values"] == {"restocking rate for camera": "15%"}
    assert facts["shipping_back"][0]["values"] == {"shipping for west, camera": "10.00"}
    assert facts["seller_fee"][0]["values"] == {"seller terms fee for bigshop": "1.00"}
    assert decision.explain_text() == snapshot


def test_an_unknown_key_leaves_the_lookup_unknown(policy):
    residual = policy.decide_partial({k: v for k, v in request().items() if k != "category"})
    assert not residual.final
    data = residual.to_json()
    assert "category" in json.dumps(data["residual"])


def test_the_index_is_one_dict_access(policy):
    assert "restocking_rate" not in policy.rules_source  # a constant of the code, not a scan
    assert "][R['category']]" in policy.rules_source
