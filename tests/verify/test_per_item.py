"""Outcomes decided item by item in the verifier: each item's outcome per its own rules and the
request-wide ones, the request's outcome by `request outcome:`, totals counting only what each
item's outcome allows; properties read `item.outcome` and an item's totals. Each counterexample
is decided by the runtime and must violate its property (conftest.verified)."""
import pytest

from rplang.policy_lang.errors import PolicyError
from rplang.runtime import load_policy_text
from rplang.verify.domain import Bounds
from rplang.verify.static import check_policy_text
from tests.conftest import POLICIES

from .conftest import status, verified

MIXED = (POLICIES / "mixed_store.rpl").read_text(encoding="utf-8")
SHIPPED = ["refund_never_negative", "refund_at_most_paid", "refused_items_refund_nothing",
           "exchanged_items_refund_nothing", "late_request_refused", "restocking_fee_is_rate_of_price"]


def test_mixed_store_guarantees_are_proven():
    assert status(MIXED, max_items=3) == dict.fromkeys(SHIPPED, "proven")


def test_exchange_that_does_not_override_is_refuted_by_a_request_with_an_opened_game():
    """The broken copy: `exchange_only` without `overrides all other rules` refunds an opened game."""
    broken = MIXED.replace('exchange_only     "EXCHANGE ONLY"  overrides all other rules',
                           'exchange_only     "EXCHANGE ONLY"')
    assert broken != MIXED
    results = verified(broken)
    assert results["refund_at_most_paid"].status == "refuted"
    assert results["exchanged_items_refund_nothing"].status == "refuted"
    for name in ("refund_at_most_paid", "exchanged_items_refund_nothing"):
        games = [i for i in results[name].request["items"] if i["category"] in ("video_game", "software")]
        # the solver may add other items (an unopened game at 0.00 among them); an opened game is what breaks it
        assert any(i["opened"] for i in games)
    assert results["late_request_refused"].status == "proven"


CASES = [
    # each item's outcome: its own rules and the request-wide ones
    ("receipt_refuses_every_item", "not receipt implies (every item in items where item.outcome is refuse)", "proven"),
    ("an_item_is_always_approved_wrong", "every item in items where item.outcome is approve", "refuted"),
    ("game_exchanged", "receipt and request_date <= last_return_day implies (every item in items where "
     "item.category is video_game and item.opened and not item.final_sale implies item.outcome is exchange_only)",
     "proven"),
    ("gift_card_refused_even_if_opened", "every item in items where item.category is gift_card "
     "implies item.outcome is refuse", "proven"),
    # the request's outcome by the `request outcome:` lines, else the strongest item's
    ("in_part", "(any item in items where item.outcome is refuse) and (any item in items where item.outcome is "
     "approve) implies outcome is approve_in_part", "proven"),
    ("never_in_part_wrong", "outcome is not approve_in_part", "refuted"),
    ("all_exchanged", "(items is not empty) and (every item in items where item.outcome is exchange_only) "
     "implies outcome is exchange_only", "proven"),
    ("fee_is_strongest", "(any item in items where item.outcome is approve_with_fee) and (no item in items where "
     "item.outcome is refuse or item.outcome is exchange_only) implies outcome is approve_with_fee", "proven"),
    ("no_items_approved", "items is empty and receipt and request_date <= last_return_day implies outcome is approve",
     "proven"),
    # totals: only what each item's outcome allows
    ("refund_adds_up_wrong", "refund is sum of item.refund for each item in items", "refuted"),  # the label, the floor
    ("refund_at_most_items", "refund <= sum of item.refund for each item in items", "proven"),
    ("fees_add_up", "restocking_fee is sum of item.restocking_fee for each item in items", "proven"),
    ("item_refund_is_price_wrong", "every item in items where item.refund is item.price", "refuted"),
    ("refused_item_no_fee", "every item in items where item.outcome is refuse implies item.restocking_fee is 0.00",
     "proven"),
    ("label_only_with_items_wrong", "used_return_label implies label_fee is 0.00", "refuted"),
    ("late_cancels_label", "request_date > last_return_day and items is not empty implies label_fee is 0.00",
     "proven"),
]


@pytest.mark.parametrize("name, condition, expected", CASES, ids=[c[0] for c in CASES])
def test_construct(name, condition, expected):
    assert status(MIXED + f"\nproperty {name}: {condition}\n") == {**dict.fromkeys(SHIPPED, "proven"),
                                                                     name: expected}


def test_item_decision_is_read_only_of_the_items_records():
    """`.outcome` is no field of an Order: the checker says so, as for any unknown field."""
    with pytest.raises(PolicyError, match="an Order has no field `outcome`"):
        load_policy_text(MIXED + "\nproperty p: order.outcome is refuse\n", "<test>")
    with pytest.raises(PolicyError, match="`approve_in_part` is not a Outcome value"):  # items' outcomes only
        load_policy_text(MIXED + "\nproperty p: every item in items where item.outcome is approve_in_part\n", "<t>")


def test_static_checks_run_on_a_policy_decided_item_by_item():
    """An outcome no item can get (RPL122), a rule no item meets (RPL120), one always beaten (RPL121),
    two rules setting one output differently (RPL130); none on the policy as shipped."""
    text = MIXED.replace("when item.category is gift_card or item.final_sale",
                         "when item.category is gift_card or item.final_sale or item.category in exchange_only_categories"
                         ).replace(
        'output label_fee:       money total', 'output label_fee:       money total\noutput note: optional text')
    text += '''
rule note_a for each item in items:
  cites refund
  when item.opened
  then set note to "opened"
  because "a"

rule note_b for each item in items:
  cites refund
  when item.defective
  then set note to "defective"
  because "b"

rule cheap_fee for each item in items:
  cites refund
  when item.price > 10.00 and round(item.price * restocking_rate) < 1.00
  then approve_with_fee
  because "c"
'''
    found = {(d.code, d.message) for d in check_policy_text(text, "<t>")}
    assert ("RPL122", "the outcome `exchange_only` is never reached") in found
    assert ("RPL120", "the rule `cheap_fee` can never apply") in found
    assert ("RPL121", "the rule `opened_game` never matters: whenever it applies, another rule or a stronger "
            "outcome overrides it") in found
    assert ("RPL130", "the rules `note_a` and `note_b` can both apply and set `note` to different values") in found
    assert not [d for d in check_policy_text(MIXED, "<t>") if d.code in ("RPL120", "RPL121", "RPL122", "RPL130")]


# ---- the proven ones hold on random requests too (hypothesis) -------------------------------------

import datetime  # noqa: E402

from hypothesis import given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

from rplang.verify.replay import holds  # noqa: E402

PROVEN = [c for c in CASES if c[2] == "proven"]
WITH_PROVEN = load_policy_text(MIXED + "".join(f"\nproperty {n}: {c}\n" for n, c, _ in PROVEN), "<mixed>")
CATEGORIES = ["computer", "console", "video_game", "software", "accessory", "gift_card"]


def _day(n: int) -> str:
    return (datetime.date(2026, 1, 1) + datetime.timedelta(days=n)).isoformat()


@st.composite
def requests(draw):
    delivered = draw(st.integers(0, 700))
    request = {"request_date": _day(delivered + draw(st.integers(0, 60))), "receipt": draw(st.booleans()),
               "used_return_label": draw(st.booleans()),
               "order": {"number": "A1", "delivery_date": _day(delivered)}, "items": []}
    for k in range(draw(st.integers(0, 4))):
        cents = draw(st.one_of(st.integers(0, 2_000), st.integers(0, 10**8)))
        request["items"].append({"sku": f"S{k}", "category": draw(st.sampled_from(CATEGORIES)),
                                 "price": f"{cents // 100}.{cents % 100:02d}", "opened": draw(st.booleans()),
                                 "defective": draw(st.booleans()), "final_sale": draw(st.booleans())})
    return request


@settings(max_examples=60, deadline=None)
@given(request=requests())
def test_random_requests_never_violate_a_proven_property(request):
    for prop in WITH_PROVEN.checked.properties:
        assert holds(WITH_PROVEN, prop, request), (prop.name, request)


RETURNED = '''policy "returned only"
currency USD
clause text: "Returned items are refunded; opened games exchanged; late requests refused."
record Item:
  sku:      text
  price:    money
  returned: boolean
  game:     boolean
  opened:   boolean
request:
  late:  boolean
  items: list of Item
let returned_items = each item in items where item.returned
outcomes for each item in returned_items:
  refuse        "REFUSED"       overrides all other rules
  exchange_only "EXCHANGE ONLY" overrides all other rules
  approve       "APPROVED"
rule late:
  cites text
  when late
  then refuse
  because "late"
rule opened_game for each item in returned_items:
  cites text
  when item.game and item.opened
  then exchange_only
  because "{item.sku} opened"
rule refund for each item in returned_items:
  cites text
  when true
  then add item.price to refund
  because "{item.sku}"
rule kept_fee for each item in items:
  cites text
  when not item.returned
  then add 1.00 to handling
  because "{item.sku} kept"
output outcome
output refund: money total
output handling: money total
'''


def test_outcomes_decided_for_a_filtered_list():
    """Items are the returned ones; a rule over `items` is request-wide; reading the decision of an
    element that is not an item cannot be evaluated, so the request breaks the property."""
    results = verified(RETURNED + '''
property refund_of_returned: refund <= sum of item.price for each item in items where item.returned
property exchanged_refund_nothing: every item in returned_items where item.outcome is exchange_only
    implies item.refund is 0.00
property late_refuses_all: late implies (every item in returned_items where item.outcome is refuse)
property handling_needs_an_item_kept: handling > 0.00 implies (any item in items where not item.returned)
property late_drops_handling: late implies handling is 0.00
property handling_never_wrong: items is not empty implies handling is 0.00
property every_item_has_an_outcome_wrong: every item in items where item.outcome is approve or item.outcome is refuse
      or item.outcome is exchange_only
''', max_items=2)
    assert {n: r.status for n, r in results.items()} == {
        "refund_of_returned": "proven", "exchanged_refund_nothing": "proven", "late_refuses_all": "proven",
        "handling_needs_an_item_kept": "proven", "late_drops_handling": "proven", "handling_never_wrong": "refuted",
        "every_item_has_an_outcome_wrong": "refuted"}
    assert any(not i["returned"] for i in results["every_item_has_an_outcome_wrong"].request["items"])


def test_versions_compared_item_by_item_name_the_request_outcomes():
    """14 -> 30 days in mixed_store: late requests become decided item by item, down to a request
    approved in part (a `request outcome:` name); each change replayed by the runtime in compare."""
    from rplang.verify import compare

    old = load_policy_text(MIXED.replace("return_window_length = 30 days", "return_window_length = 14 days"), "<14>")
    new = load_policy_text(MIXED, "<30>")
    result = compare(old, new, ["outcome"], Bounds(max_items=2))
    kinds = {c.kind for c in result.changes}
    assert kinds == {"refuse -> exchange_only", "refuse -> approve_with_fee", "refuse -> approve",
                     "refuse -> approve_in_part"}
    for change in result.changes:
        assert (change.old["outcome"], change.new["outcome"]) == tuple(change.kind.split(" -> "))
