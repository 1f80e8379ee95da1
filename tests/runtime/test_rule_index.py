"""Rules looked up by the value they test decide exactly as rules tried one by one."""
import pytest

import rplang.runtime.codegen_index as codegen_index
from rplang.policy_lang.errors import RequestError
from rplang.runtime import load_policy_text

SKU_POLICY = '''
policy "Per-SKU fees"
currency USD
clause terms: "Some products carry their own restocking fee."
enum Condition: sealed, opened
enum Region: north, south, east, west
record Item:
  sku: text
  price: money
  returned: boolean
  condition: Condition
request:
  region: Region
  items: list of Item
let returned_items = each item in items where item.returned
outcomes:
  approve_with_fee "APPROVED WITH A FEE"
  approve "APPROVED"
rule base for each item in returned_items:
  cites terms
  when true
  then add item.price to refund
  because "returned {item.sku}"
rule a1 for each item in returned_items:
  cites terms
  when item.sku is "A" and item.condition is opened
  then approve_with_fee
       add round(item.price * 10%) to fee
  because "A opened"
rule a2 for each item in returned_items:
  cites terms
  when item.condition is opened and item.sku is "A" and item.price > 50.00
  then add 1.00 to fee
  because "A opened, over 50.00"
rule b for each item in returned_items:
  cites terms
  when item.sku is "B"
  then approve_with_fee
       add round(item.price * 20%) to fee
  because "B"
rule c for each item in returned_items:
  cites terms
  when "C" is item.sku
  then add 2.00 to fee
  because "C"
rule north:
  cites terms
  when region is north
  then add 3.00 to fee
  because "north"
rule south:
  cites terms
  when region is south and (count of returned_items) > 1
  then add 4.00 to fee
  because "south"
rule east:
  cites terms
  when region is east
  then add 5.00 to fee
  because "east"
output outcome
output refund: money total
output fee: money total
'''


def _requests():
    import itertools
    skus = ["A", "B", "C", "D"]
    out = []
    for region, (s1, s2), (c1, c2), returned in itertools.product(
            ["north", "south", "east", "west"], itertools.product(skus, skus),
            [("sealed", "opened"), ("opened", "opened")], [(True, True), (True, False)]):
        out.append({"region": region, "items": [
            {"sku": s1, "price": "60.00", "returned": returned[0], "condition": c1},
            {"sku": s2, "price": "40.00", "returned": returned[1], "condition": c2}]})
    return out


@pytest.fixture
def index_at_three(monkeypatch):
    monkeypatch.setattr(codegen_index, "INDEX_AT", 3)


def test_the_sku_and_region_rules_are_looked_up_by_value(index_at_three):
    policy = load_policy_text(SKU_POLICY, "skus.rpl")
    assert ".get(e" in policy.rules_source and "['sku']" in policy.rules_source
    assert ".get(R['region']" in policy.rules_source
    assert "def rule_shape_" in policy.rules_source


def test_few_values_are_not_worth_a_table():
    policy = load_policy_text(SKU_POLICY, "skus.rpl")  # three skus, three regions
    assert "def rule_" not in policy.rules_source


def test_looked_up_rules_decide_as_rules_tried_one_by_one(monkeypatch):
    monkeypatch.setattr(codegen_index, "INDEX_AT", 3)
    indexed = load_policy_text(SKU_POLICY, "skus.rpl")
    monkeypatch.setattr(codegen_index, "INDEX_AT", 10**9)
    one_by_one = load_policy_text(SKU_POLICY, "skus.rpl")
    assert "def rule_" not in one_by_one.rules_source
    requests = _requests()
    assert len(requests) == 256
    for request in requests:
        a, b = indexed.decide(request), one_by_one.decide(request)
        assert a.to_json() == b.to_json(), request


@pytest.mark.parametrize("sku,condition,fee", [("A", "opened", "7.00"), ("A", "sealed", "0.00"),
                                               ("B", "sealed", "12.00"), ("C", "opened", "2.00"),
                                               ("Z", "opened", "0.00")])
def test_fees_by_sku(index_at_three, sku, condition, fee):
    policy = load_policy_text(SKU_POLICY, "skus.rpl")
    decision = policy.decide({"region": "west", "items": [
        {"sku": sku, "price": "60.00", "returned": True, "condition": condition}]})
    assert decision.outputs_json()["fee"] == fee


def test_a_field_of_an_optional_record_is_not_looked_up_before_it_is_given():
    """`order is given and order.seller is "S3"`: a lookup of order.seller before the rules run
    would read a field of nothing when the order is left out (it crashed)."""
    rules = "".join(f'''
rule s{n}:
  cites terms
  when order is given and order.seller is "S{n}"
  then add 1.00 to fee
''' for n in range(10))
    policy = load_policy_text('''
policy "Sellers"
currency USD
clause terms: "Each seller its fee."
record Order:
  seller: text
request:
  order: optional Order
outcomes:
  approve "APPROVED"
''' + rules + '''
output outcome
output fee: money total
''', "sellers.rpl")
    assert policy.decide({"order": {"seller": "S3"}}).outputs_json()["fee"] == "1.00"
    assert policy.decide({}).outputs_json()["fee"] == "0.00"


def test_a_fact_given_only_when_a_flag_is_true_is_not_looked_up():
    """Read before the rules run, a fact given `when` a flag would be missing without the error
    that says it is needed."""
    rules = "".join(f'''
rule s{n}:
  cites terms
  when code is "C{n}"
  then add 1.00 to fee
''' for n in range(10))
    policy = load_policy_text('''
policy "Codes"
currency USD
clause terms: "Each code its fee."
request:
  coded: boolean
  code: text when coded
outcomes:
  approve "APPROVED"
''' + rules + '''
output outcome
output fee: money total
''', "codes.rpl")
    assert ".get(R['code']" not in policy.rules_source
    assert policy.decide({"coded": True, "code": "C4"}).outputs_json()["fee"] == "1.00"
    with pytest.raises(RequestError, match="needed to decide"):
        policy.decide({"coded": False})
