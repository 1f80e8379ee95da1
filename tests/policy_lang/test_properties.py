"""`property NAME: EXPR`: parsed into the AST, checked with the decision's outputs in scope."""
import pytest

from rplang.compiler import compile_policy, ir
from rplang.compiler import types as T
from rplang.policy_lang import PolicyError, parse_policy
from rplang.policy_lang import ast as A

HEAD = '''policy "p"
currency USD
clause window: "Returns within 30 days."
enum Method: card, credit
request:
  day: date
  amount: money
outcomes:
  refuse "REFUSED"
  approve "APPROVED"
rule r:
  cites window
  when amount > 10.00
  then refuse
       set method to credit
  because "b"
output outcome
output method: optional Method
output total: money total
'''


def test_short_and_block_forms():
    text = HEAD + 'property a: amount >= 0.00\nproperty b:\n  cites window\n  amount > 10.00 implies outcome is refuse\n  because "big ones are refused"\n'
    a, b = [d for d in parse_policy(text).declarations if isinstance(d, A.Property)]
    assert (a.name, a.cites, a.because) == ("a", None, None)
    assert (b.name, b.cites, b.because) == ("b", ("window", False), "big ones are refused")
    assert b.condition == A.Logic("implies", (b.condition.operands[0], b.condition.operands[1]))


def test_checked_with_outputs_in_scope_and_implies_lowered():
    checked = compile_policy(HEAD + "property p: amount > 10.00 implies outcome is refuse and method is given\n").policy
    (prop,) = checked.properties
    assert prop.condition.op == "or" and prop.condition.args[0].op == "not"
    outcome = prop.condition.args[1].args[0].args[0]
    assert outcome == ir.Output("outcome", T.EnumType("Outcome", ("refuse", "approve")))


def test_properties_are_not_in_the_rule_graph():
    plain = compile_policy(HEAD)
    with_property = compile_policy(HEAD + "property p: total >= 0.00\n")
    assert plain.nodes == with_property.nodes and plain.rules == with_property.rules


@pytest.mark.parametrize("prop, code, words", [
    ("property p: refund >= 0.00", "RPL020", "refund"),          # no such output
    ("property p: total", "RPL030", "a property must be a yes/no fact"),
    ("property p:\n  cites nowhere\n  total >= 0.00", "RPL024", "no clause `nowhere`"),
    ("property p: total >= 0.00\nproperty p: total <= 0.00", "RPL010", "declared twice"),
])
def test_errors(prop, code, words):
    with pytest.raises(PolicyError) as caught:
        compile_policy(HEAD + prop + "\n")
    found = [(d.code, d.message) for d in caught.value.diagnostics]
    assert any(c == code and words in m for c, m in found), found


def test_outputs_are_not_in_scope_in_rules():
    with pytest.raises(PolicyError) as caught:
        compile_policy(HEAD + "rule s:\n  cites window\n  when total > 0.00\n  then note\n  because \"b\"\n")
    assert [d.code for d in caught.value.diagnostics] == ["RPL020"]


ITEMS = '''policy "p"
currency USD
clause text: "Opened games are exchanged."
record Item:
  sku:      text
  price:    money
  returned: boolean
  free:     boolean = false
request:
  items: list of Item
outcomes for each item in items:
  exchange_only "EXCHANGE ONLY" overrides all other rules
  approve       "APPROVED"
request outcome:
  approve_in_part "APPROVED IN PART" when any item is exchange_only and any item is approve
rule kept for each item in items:
  cites text
  when item.free
  then exchange_only
  because "b"
rule refund for each item in items:
  cites text
  when item.returned
  then add item.price to refund
  because "b"
output outcome
output refund: money total
'''


def test_an_aggregate_on_the_right_of_a_comparison_reads_to_the_end():
    """The issue's example parses as the refund compared with the whole sum, its `where` taking
    `item.returned and not item.free`; the same as the parenthesised form."""
    plain = "property p: refund <= sum of item.price for each item in items where item.returned and not item.free\n"
    parenthesised = plain.replace("<= sum", "<= (sum").replace("item.free\n", "item.free)\n")
    (a,) = [d for d in parse_policy(ITEMS + plain).declarations if isinstance(d, A.Property)]
    (b,) = [d for d in parse_policy(ITEMS + parenthesised).declarations if isinstance(d, A.Property)]
    assert a.condition == b.condition
    assert isinstance(a.condition, A.Compare) and a.condition.op == "<="
    assert isinstance(a.condition.right, A.Aggregate)
    mapping = a.condition.right.operand
    assert isinstance(mapping.where, A.Logic) and mapping.where.op == "and"
    for op in ("is", "is not", ">"):
        text = ITEMS + f"property q: refund {op} sum of item.price for each item in items\n"
        (q,) = [d for d in parse_policy(text).declarations if isinstance(d, A.Property)]
        assert isinstance(q.condition.right, A.Aggregate) and q.condition.op == op


def test_an_items_decision_reads_as_fields_of_its_element():
    checked = compile_policy(ITEMS + "property p: every item in items where item.outcome is approve "
                             "implies item.refund is item.price and outcome is not approve_in_part\n").policy
    (prop,) = checked.properties
    found = []
    stack = [prop.condition]
    while stack:
        node = stack.pop()
        if isinstance(node, ir.ItemOutput):
            found.append((node.name, node.type))
        stack.extend(ir.children(node))
    assert sorted(found, key=lambda f: f[0]) == [
        ("outcome", T.EnumType("Outcome", ("exchange_only", "approve"))), ("refund", T.MONEY)]


@pytest.mark.parametrize("prop, words", [
    ("every item in items where item.outcome is approve_in_part", "`approve_in_part` is not a Outcome value"),
    ("every item in items where item.label_fee is 0.00", "an Item has no field `label_fee`"),
])
def test_an_items_decision_errors(prop, words):
    with pytest.raises(PolicyError) as caught:
        compile_policy(ITEMS + f"property p: {prop}\n")
    assert any(words in d.message for d in caught.value.diagnostics), caught.value.diagnostics


def test_an_items_decision_is_not_in_scope_in_rules():
    with pytest.raises(PolicyError) as caught:
        compile_policy(ITEMS + "rule s for each item in items:\n  cites text\n  when item.outcome is approve\n"
                       "  then exchange_only\n  because \"b\"\n")
    assert any("an Item has no field `outcome`" in d.message for d in caught.value.diagnostics)


def test_a_record_field_of_the_same_name_comes_first():
    text = ITEMS.replace("  free:     boolean = false\n", "  free:     boolean = false\n  refund:   boolean = false\n")
    (prop,) = compile_policy(text + "property p: every item in items where item.refund or item.outcome is approve\n"
                             ).policy.properties
    fields = []
    stack = [prop.condition]
    while stack:
        node = stack.pop()
        if isinstance(node, (ir.FieldOf, ir.ItemOutput)):
            fields.append((type(node).__name__, node.name))
        stack.extend(ir.children(node))
    assert sorted(fields) == [("FieldOf", "refund"), ("ItemOutput", "outcome")]
