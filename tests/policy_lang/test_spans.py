"""Spans: every node knows where it was written, and where it was written never changes equality."""
import attrs
import pytest

from rplang.policy_lang import Source, Span, parse_policy
from rplang.policy_lang import ast as A

TEXT = (
    'policy "P"\n'                                   # line 1
    "\n"                                             # line 2
    "let last = order.delivery_date + 14 days\n"     # line 3
    "rule window for each item in items:\n"          # line 4
    "  cites late\n"                                 # line 5
    "  when request_date > last\n"                   # line 6
    "  then refuse\n"                                # line 7
    '  because "late by {days from last to request_date}"\n'  # line 8
)


@pytest.fixture(scope="module")
def policy():
    return parse_policy(TEXT, "spans.rpl")


def where(node):
    return node.span.line, node.span.column, node.span.text


def test_declaration_spans(policy):
    header, let, rule = policy.declarations
    assert where(header) == (1, 1, 'policy "P"')
    assert where(let) == (3, 1, "let last = order.delivery_date + 14 days")
    assert rule.span.line == 4 and rule.span.column == 1
    assert rule.span.end_position == (8, 53)
    assert rule.span.location() == "spans.rpl:4:1"


def test_expression_spans(policy):
    let = policy.declarations[1]
    assert where(let.value) == (3, 12, "order.delivery_date + 14 days")
    assert where(let.value.left) == (3, 12, "order.delivery_date")
    assert where(let.value.left.base) == (3, 12, "order")
    assert where(let.value.right) == (3, 34, "14 days")


def test_rule_part_spans(policy):
    rule = policy.declarations[2]
    assert where(rule.for_each) == (4, 13, "for each item in items")
    assert where(rule.for_each.source) == (4, 30, "items")
    assert rule.cites_span.text == "late" and rule.cites_span.line == 5
    assert where(rule.condition) == (6, 8, "request_date > last")
    assert where(rule.effects[0]) == (7, 8, "refuse")


def test_template_hole_spans_point_into_the_sentence(policy):
    rule = policy.declarations[2]
    hole = rule.because.parts[1]
    assert isinstance(hole, A.DaysBetween)
    assert where(hole) == (8, 21, "days from last to request_date")
    assert where(hole.end) == (8, 39, "request_date")
    assert rule.because.span.text == '"late by {days from last to request_date}"'


def test_span_location_and_snippet():
    source = Source("f.rpl", "ab\ncdef\n")
    span = Span(source, 4, 6)
    assert (span.line, span.column) == (2, 2)
    assert span.end_position == (2, 4)
    assert span.text == "de"
    assert span.location() == "f.rpl:2:2"
    assert source.line_text(2) == "cdef"
    assert source.line_text(9) == ""
    assert Span(source, 0, 1).to(span) == Span(source, 0, 6)


def test_spans_do_not_affect_equality():
    plain = parse_policy("let v = a + b * c\nrule r:\n  when v > 1\n  then note\n", "one.rpl")
    spaced = parse_policy("# a comment first\n\n\nlet   v =   a +  b*c\n\nrule r:\n      when v>1\n"
                          "      then     note\n", "two.rpl")
    assert plain == spaced
    assert hash(plain.declarations[0]) == hash(spaced.declarations[0])
    assert plain.declarations[0].span != spaced.declarations[0].span


def test_a_node_without_a_span_equals_one_with_it():
    let = parse_policy("let v = a.b\n", "x.rpl").declarations[0]
    assert attrs.evolve(let, span=None) == let
    assert A.Field(A.Name("a"), "b") == let.value


def test_enum_member_and_override_spans_do_not_affect_equality():
    one = parse_policy("enum E: a, b\n", "1.rpl").declarations[0]
    two = parse_policy("\nenum E:   a,\n  b\n", "2.rpl").declarations[0]
    assert one == two and one.member_spans != two.member_spans


def test_cites_span_does_not_affect_equality():
    one = parse_policy("rule r:\n  cites c\n  when a\n  then note\n", "one.rpl")
    two = parse_policy("\n\nrule r:\n    cites c\n    when a\n    then note\n", "two.rpl")
    assert one == two
