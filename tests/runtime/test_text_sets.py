"""Sets of text, `{"AL", "OH"}`, with `in` and `not in`: written inline or as a parameter, decided
alike by the generated code, the reference, and the three-valued evaluation; checked for types."""
import pytest

from rplang.policy_lang.errors import PolicyError
from rplang.runtime import load_policy_text
from rplang.runtime.reference import decide as reference_decide

POLICY = '''policy "states"
currency USD
clause exempt: "Customers in {exempt_states} pay no restocking fee."
record Item:
  sku:    text
  price:  money
  opened: boolean at inspection
request:
  state:  text
  items:  list of Item
parameter exempt_states = {"AL", "OH"}
outcomes:
  approve "APPROVED"
rule fee for each item in items:
  cites exempt
  when item.opened and state not in exempt_states
  then add 5.00 to fee
  because "{item.sku} opened in {state}"
rule gift_card for each item in items:
  cites "Gift cards are not refunded."
  when item.sku in {"GIFT-25", "GIFT-50", "say \\"hi\\""}
  then add item.price to kept
  because "{item.sku} is a gift card"
output outcome
output fee: money total
output kept: money total
'''


@pytest.fixture(scope="module")
def policy():
    return load_policy_text(POLICY)


@pytest.mark.parametrize("state, sku, fee, kept", [
    ("OH", "GIFT-25", "0.00", "25.00"),
    ("CA", "GIFT-25", "5.00", "25.00"),
    ("AL", "TV", "0.00", "0.00"),
    ("al", "say \"hi\"", "5.00", "25.00"),  # texts are compared exactly
])
def test_membership_in_a_set_of_texts(policy, state, sku, fee, kept):
    request = {"state": state, "items": [{"sku": sku, "price": "25.00", "opened": True}]}
    decision = policy.decide(request)
    assert (decision.outputs_json()["fee"], decision.outputs_json()["kept"]) == (fee, kept)
    assert reference_decide(policy.checked, policy.read_request(request)).outputs == decision.outputs_json()


def test_the_set_is_shown_in_clauses_and_facts(policy):
    assert policy.checked.clauses["exempt"] == "Customers in AL, OH pay no restocking fee."
    decision = policy.decide({"state": "CA", "items": [{"sku": "TV", "price": "25.00", "opened": True}]})
    [fee] = decision.explanation()
    assert fee["facts"][-1]["values"] == {"state": "CA", "exempt_states": ["AL", "OH"]}


def test_the_three_valued_evaluation_knows_sets_of_texts(policy):
    result = policy.decide_partial({"state": "OH", "items": [{"sku": "TV", "price": "25.00"}]})
    assert result.final and result.decision.outputs_json()["fee"] == "0.00"  # exempt whatever is opened
    result = policy.decide_partial({"state": "CA", "items": [{"sku": "TV", "price": "25.00"}]})
    assert not result.final and result.to_json()["residual"]["ranges"]["fee"]["alternatives"] == ["0.00", "5.00"]


@pytest.mark.parametrize("condition, message", [
    ('item.price in {"AL"}', "an amount of money cannot be in a set of text values"),
    ('state in {"AL"} and state is {"OH"}', "cannot compare"),
])
def test_sets_of_texts_are_type_checked(condition, message):
    with pytest.raises(PolicyError) as error:
        load_policy_text(POLICY.replace("when item.opened and state not in exempt_states", f"when {condition}"))
    assert message in "\n".join(d.message for d in error.value.diagnostics)
