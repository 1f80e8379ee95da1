"""Outcomes decided item by item (docs/per-item.md): each item's outcome and amounts, request-wide
rules given to every item, cancelled effects, the request's outcome, and the reference's agreement."""
import pytest

from rplang.policy_lang.errors import PolicyError
from rplang.runtime import load_policy_text
from rplang.runtime.reference import decide as reference_decide

POLICY = '''policy "per item"
currency USD

record Item:
  sku:       text
  price:     money
  opened:    boolean
  game:      boolean
  returned:  boolean = true

request:
  late:   boolean
  label:  boolean = false
  items:  list of Item

let returned_items = each item in items where item.returned

outcomes for each item in returned_items:
  refuse         "REFUSED"        overrides all other rules
  exchange_only  "EXCHANGE ONLY"  overrides all other rules
  with_fee       "APPROVED WITH A FEE"
  approve        "APPROVED"

request outcome:
  refuse           "REFUSED"           when every item is refuse
  exchange_only    "EXCHANGE ONLY"     when every item is exchange_only
  approve_in_part  "APPROVED IN PART"  when any item is refuse or exchange_only

rule late:
  when late
  then refuse
  because "requested too late"

rule opened_game for each item in returned_items:
  when item.game and item.opened
  then exchange_only
  because "{item.sku} is an opened game"

rule returned for each item in returned_items:
  when true
  then add item.price to refund
  because "returned {item.sku}"

rule opened_fee for each line in returned_items:
  when line.opened
  then with_fee
       add 10.00 to fees
       subtract 10.00 from refund
  because "{line.sku} was opened"

rule kept_item for each item in items:
  when not item.returned
  then note
  because "{item.sku} kept"

rule return_label:
  when label
  then add 5.00 to fees
       subtract 5.00 from refund
  because "return label"

output outcome
output refund: money total, at least 0.00
output fees:   money total
'''


def item(sku, price, opened=False, game=False, returned=True):
    return {"sku": sku, "price": price, "opened": opened, "game": game, "returned": returned}


LAPTOP = item("LAPTOP", "1200.00")
GAME = item("GAME", "60.00", opened=True, game=True)


@pytest.fixture(scope="module")
def policy():
    return load_policy_text(POLICY)


def decide(policy, **request):
    request.setdefault("late", False)
    decision = policy.decide(request)
    reference = reference_decide(policy.checked, policy.read_request(request))
    assert reference.outcome == decision.outcome
    assert reference.outputs == decision.outputs_json()
    data = decision.to_json()["items"]
    assert [(i["element"], i["outcome"], i["totals"]) for i in data] == list(reference.items)
    return decision, data


def test_a_laptop_refunded_and_an_opened_game_exchanged_in_one_return(policy):
    decision, items = decide(policy, items=[LAPTOP, GAME])
    assert decision.outcome == "approve_in_part"
    assert [i["outcome"] for i in items] == ["approve", "exchange_only"]
    assert items[0] == {"element": "$.items[0]", "name": "LAPTOP", "outcome": "approve",
                        "totals": {"refund": "1200.00", "fees": "0.00"}, "rules": ["returned"]}
    # the game's refund is cancelled by its exchange-only outcome, and so is its opened fee
    assert items[1]["totals"] == {"refund": "0.00", "fees": "0.00"}
    assert items[1]["rules"] == ["opened_game"]
    assert decision.outputs_json()["refund"] == "1200.00"
    assert [a.rule.rule.name for a in decision.overridden] == ["returned", "opened_fee"]


def test_a_fee_counts_for_its_own_item_only(policy):
    decision, items = decide(policy, items=[item("A", "100.00", opened=True), item("B", "50.00")])
    assert [i["outcome"] for i in items] == ["with_fee", "approve"]
    assert items[0]["totals"] == {"refund": "90.00", "fees": "10.00"}
    assert items[1]["totals"] == {"refund": "50.00", "fees": "0.00"}
    assert decision.outcome == "with_fee"  # no line holds: the strongest item outcome
    assert decision.outputs_json() == {"outcome": "with_fee", "refund": "140.00", "fees": "10.00"}


def test_a_request_wide_refusal_refuses_every_item_and_cancels_request_wide_fees(policy):
    decision, items = decide(policy, late=True, label=True, items=[LAPTOP, GAME])
    assert [i["outcome"] for i in items] == ["refuse", "refuse"]
    assert [i["rules"] for i in items] == [["late"], ["late"]]
    assert decision.outcome == "refuse"
    assert decision.outputs_json() == {"outcome": "refuse", "refund": "0.00", "fees": "0.00"}


def test_a_request_wide_fee_counts_once_when_some_item_keeps_it(policy):
    decision, items = decide(policy, label=True, items=[LAPTOP, GAME])
    assert decision.outputs_json()["fees"] == "5.00"
    assert decision.outputs_json()["refund"] == "1195.00"
    assert all(i["totals"]["fees"] == "0.00" for i in items)  # the request's, not an item's


def test_every_item_exchanged_gives_the_request_outcome_of_that_line(policy):
    decision, _ = decide(policy, label=True, items=[GAME, GAME])
    assert decision.outcome == "exchange_only"
    assert decision.outputs_json() == {"outcome": "exchange_only", "refund": "0.00", "fees": "0.00"}


def test_a_rule_over_another_list_is_request_wide(policy):
    decision, items = decide(policy, items=[LAPTOP, item("KEPT", "5.00", returned=False)])
    assert len(items) == 1  # the outcomes are decided for the returned items only
    assert ("kept_item", "KEPT") in [(a.rule.rule.name, a.element["sku"]) for a in decision.applied]


def test_no_items_the_request_wide_rules_decide(policy):
    decision, items = decide(policy, late=True, items=[])
    assert items == [] and decision.outcome == "refuse"
    decision, items = decide(policy, label=True, items=[])
    assert decision.outcome == "approve"
    assert decision.outputs_json() == {"outcome": "approve", "refund": "0.00", "fees": "5.00"}


def test_the_explanation_has_a_line_per_item(policy):
    decision = policy.decide({"late": False, "items": [LAPTOP, GAME]})
    text = decision.explain_text()
    assert text.splitlines()[:4] == [
        "APPROVED IN PART — refund 1,200.00 USD",
        "  items:",
        "    LAPTOP  APPROVED       refund 1,200.00",
        "    GAME    EXCHANGE ONLY  refund 0.00      GAME is an opened game   [opened_game]",
    ]
    assert "returned GAME" not in text  # a cancelled refund is not in the computation


def test_a_policy_without_per_item_outcomes_has_no_items_key():
    policy = load_policy_text('''policy "whole"
request:
  late: boolean
outcomes:
  refuse "REFUSED" overrides all other rules
  approve "APPROVED"
rule late:
  when late
  then refuse
output outcome
''')
    decision = policy.decide({"late": True})
    assert decision.items is None and "items" not in decision.to_json()


@pytest.mark.parametrize("text, message", [
    (POLICY.replace("outcomes for each item in returned_items:", "outcomes:"),
     "`request outcome:` needs outcomes decided for each item"),
    (POLICY.replace("for each item in returned_items:\n  refuse", "for each item in late:\n  refuse"),
     "`for each` needs a list, but this is"),
    (POLICY.replace("when any item is refuse or", "when any line is refuse or"),
     "the items are called `item`, not `line`"),
    (POLICY.replace("when every item is exchange_only", "when every item is exchange"),
     "`exchange` is not an outcome of an item"),
    (POLICY.replace('refuse           "REFUSED"   ', 'refuse           "NO"        '),
     "the request outcome `refuse` is an item outcome with another heading"),
    (POLICY.replace("when every item is refuse", "when some item is refuse"),
     "`some` cannot start a test of the items' outcomes"),
])
def test_per_item_declarations_are_checked(text, message):
    with pytest.raises(PolicyError) as error:
        load_policy_text(text)
    assert message in "\n".join(d.message for d in error.value.diagnostics)


def test_outcomes_are_decided_for_a_list_of_records_only():
    text = POLICY.replace("for each item in returned_items:\n  refuse",
                          "for each item in skus:\n  refuse").replace(
        "let returned_items", "let skus = item.sku for each item in items\nlet returned_items")
    with pytest.raises(PolicyError) as error:
        load_policy_text(text)
    assert [d.code for d in error.value.diagnostics] == ["RPL045"]
