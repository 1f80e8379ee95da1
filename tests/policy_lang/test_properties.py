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
