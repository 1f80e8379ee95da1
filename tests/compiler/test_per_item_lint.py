"""Static checks with outcomes decided per item (docs/per-item.md)."""
from rplang.compiler.lint import check_policy_text

POLICY = '''policy "P"
record Item:
  sku: text
  returned: boolean
  used: boolean
  price: money
request:
  label: boolean
  items: list of Item
let returned_items = each item in items where item.returned
outcomes for each item in returned_items:
  refuse "REFUSED" overrides all other rules
  approve "APPROVED"
rule used for each item in returned_items:
  cites "Used items cannot be returned."
  when item.used
  then refuse
rule refund for each item in returned_items:
  cites "We refund the price."
  when true
  then add item.price to refund
  because "returned {item.sku}"
rule label:
  cites "The label costs 5.00."
  when label
  then add 5.00 to fee
output outcome
output refund: money total
output fee: money total
'''


def codes(text):
    return [d.code for d in check_policy_text(text, "p.rpl")]


def test_a_per_item_policy_has_no_warning():
    assert codes(POLICY) == []


def test_a_rule_over_another_list_giving_an_outcome_is_warned():
    found = check_policy_text(POLICY.replace("rule used for each item in returned_items",
                                             "rule used for each item in items"), "p.rpl")
    assert [d.code for d in found] == ["RPL123"]
    assert "goes to every item" in found[0].message


def test_a_rule_of_an_item_its_refusal_always_cancels_never_matters():
    text = POLICY.replace("rule label:\n  cites \"The label costs 5.00.\"\n  when label\n",
                          "rule label for each x in returned_items:\n  cites \"The label costs 5.00.\"\n"
                          "  when x.used and label\n")
    assert codes(text) == ["RPL121"]  # refusing its item cancels it for that item
