"""Parsing each declaration of the language into the expected AST."""
import datetime
import re
from decimal import Decimal

import pytest

from rplang.policy_lang import PolicyError, parse_policy
from rplang.policy_lang import ast as A


def decls(text: str) -> tuple:
    return parse_policy(text, "t.rpl").declarations


def one(text: str):
    (decl,) = decls(text)
    return decl


# ---- header ------------------------------------------------------------------------------------

def test_header_lines():
    assert decls('policy "Aputure returns"\nversion "2026.1"\ncurrency USD\ncalendar "US"\n') == (
        A.Header("policy", "Aputure returns"),
        A.Header("version", "2026.1"),
        A.Header("currency", "USD"),
        A.Header("calendar", "US"),
    )


def test_header_words_are_ordinary_field_names_elsewhere():
    request = one("request:\n  currency: text\n  version: text\n  policy: text\n")
    assert [f.name for f in request.fields] == ["currency", "version", "policy"]
    assert all(f.type == A.NamedType("text") for f in request.fields)


def test_comments_are_ignored():
    assert decls('# a comment\npolicy "P"   # trailing\n# another\n') == (A.Header("policy", "P"),)


# ---- clauses -----------------------------------------------------------------------------------

def test_clause_text_on_one_line():
    assert one('clause late: "Request after 14 days from delivery date."') == \
        A.Clause("late", "Request after 14 days from delivery date.")


def test_clause_text_over_several_lines_is_folded():
    clause = one('clause window:\n  "If you are dissatisfied,\n     you may return it\n\n   within 14 days."\n')
    assert clause == A.Clause("window", "If you are dissatisfied, you may return it within 14 days.")


def test_clause_text_escapes_are_resolved():
    assert one('clause c: "say \\"hi\\" \\\\ there"').text == 'say "hi" \\ there'


def escape_errors(text: str) -> list[tuple[str, int, int]]:
    with pytest.raises(PolicyError) as raised:
        parse_policy(text, "t.rpl")
    return [(d.message, d.span.line, d.span.column) for d in raised.value.diagnostics]


@pytest.mark.parametrize("written, char", [("\\n", "n"), ("\\t", "t"), ("\\u00e9", "u"), ("C:\\2026", "2")])
def test_another_languages_escape_is_an_error_not_a_lost_character(written, char):
    # `\n` read as `n` without a word: the policy owner's line break, or a path's letter, lost
    assert escape_errors(f'clause c: "a {written} b"') == [
        (f"`\\{char}` is not an escape here: it would read as `{char}`", 1, 14 + written.index("\\"))]


def test_every_quoted_text_of_the_policy_is_held_to_its_escapes_and_a_sentences_words_once():
    text = ('rule r:\n  cites "C:\\x"\n  when true\n  then note\n'
            '  because "one\\n {if true then "\\t" else ""} two"\n'
            'example "\\q":\n  request {"a": "JSON has \\n"}\n')
    assert [(line, column) for _, line, column in escape_errors(text)] == [(2, 12), (5, 15), (5, 33), (6, 10)]


def test_a_backslash_before_anything_but_a_letter_or_digit_keeps_it():
    assert one('clause c: "\\é \\. \\{ \\\\n"').text == "é . { \\n"


# ---- parameters: one literal of each kind ------------------------------------------------------

@pytest.mark.parametrize("written, kind, value", [
    ("14 days", "duration", 14),
    ("1 day", "duration", 1),
    ("10 business days", "business_duration", 10),
    ("1 business day", "business_duration", 1),
    ("15%", "percent", Decimal("15")),
    ("12.5%", "percent", Decimal("12.5")),
    ("0.00", "money", Decimal("0.00")),
    ("25.50", "money", Decimal("25.50")),
    ("3", "integer", 3),
    ("2026-03-02", "date", datetime.date(2026, 3, 2)),
    ("2028-02-29", "date", datetime.date(2028, 2, 29)),
    ('"some  text"', "text", "some text"),
    ("true", "boolean", True),
    ("false", "boolean", False),
])
def test_parameter_literal(written, kind, value):
    param = one(f"parameter p = {written}\n")
    assert param == A.Parameter("p", A.Literal(kind, value))
    assert type(param.value.value) is type(value)


def test_money_literal_keeps_its_exponent():
    assert str(one("parameter p = 0.00").value.value) == "0.00"


def test_several_days_written_as_day_is_an_error():
    with pytest.raises(PolicyError) as info:
        parse_policy("parameter p = 14 day\n", "t.rpl")
    (d,) = info.value.diagnostics
    assert d.code == "RPL005"
    assert d.message == "write `14 days`"
    assert d.span.text == "14 day"


def test_several_business_days_written_as_day_is_an_error():
    with pytest.raises(PolicyError) as info:
        parse_policy("parameter p = 3 business day\n", "t.rpl")
    assert info.value.diagnostics[0].message == "write `3 business days`"


# ---- enums and records -------------------------------------------------------------------------

def test_enum_over_several_lines():
    enum = one("enum DamageCause: none, fire,\n                   flood, high_wind\n")
    assert enum == A.EnumDecl("DamageCause", ("none", "fire", "flood", "high_wind"))
    assert [s.text for s in enum.member_spans] == ["none", "fire", "flood", "high_wind"]


def test_record_with_every_field_form():
    record = one(
        "record Item:\n"
        "  sku:           text\n"
        '  price:         money                "price"\n'
        "  bundled_with:  optional text\n"
        "  shipping:      money = 0.00\n"
        '  marks:         list of Mark  when returned  "marks"\n'
        "  kind:          Kind = return\n"
        "  returned:      boolean\n"
        "  window:        date range\n"
        "  nested:        optional list of optional date\n"
    )
    assert record == A.RecordDecl("Item", (
        A.FieldDecl("sku", A.NamedType("text")),
        A.FieldDecl("price", A.NamedType("money"), label="price"),
        A.FieldDecl("bundled_with", A.OptionalType(A.NamedType("text"))),
        A.FieldDecl("shipping", A.NamedType("money"), default=A.Literal("money", Decimal("0.00"))),
        A.FieldDecl("marks", A.ListType(A.NamedType("Mark")), present_when="returned", label="marks"),
        A.FieldDecl("kind", A.NamedType("Kind"), default=A.Name("return")),
        A.FieldDecl("returned", A.NamedType("boolean")),
        A.FieldDecl("window", A.DateRangeType()),
        A.FieldDecl("nested", A.OptionalType(A.ListType(A.OptionalType(A.NamedType("date"))))),
    ))


def test_field_with_default_presence_and_label_together():
    (field,) = one('request:\n  shipping: money = 0.00 when paid "shipping paid"\n').fields
    assert field == A.FieldDecl("shipping", A.NamedType("money"), A.Literal("money", Decimal("0.00")),
                                "paid", "shipping paid")


def test_request_declaration():
    request = one("request:\n  request_date: date \"requested\"\n  items: list of Item\n")
    assert request == A.RequestDecl((
        A.FieldDecl("request_date", A.NamedType("date"), label="requested"),
        A.FieldDecl("items", A.ListType(A.NamedType("Item"))),
    ))


# ---- let, outcomes -----------------------------------------------------------------------------

def test_let():
    assert one("let last_day = order.delivery_date + window\n") == A.Let(
        "last_day", A.Arith("+", A.Field(A.Name("order"), "delivery_date"), A.Name("window")))


def test_outcomes_with_overrides_all_other_rules():
    outcomes = one(
        "outcomes:\n"
        '  refuse   "REFUSED"   overrides all other rules\n'
        '  review   "REVIEW"    overrides\n'
        "                       all   other\n"
        "                       rules\n"
        '  approve  "APPROVED"\n'
    )
    assert outcomes == A.OutcomesDecl((
        A.OutcomeDecl("refuse", "REFUSED", True),
        A.OutcomeDecl("review", "REVIEW", True),
        A.OutcomeDecl("approve", "APPROVED", False),
    ))


# ---- rules -------------------------------------------------------------------------------------

def test_rule_citing_a_clause_by_name():
    rule = one("rule window:\n  cites late_request\n  when request_date > last_day\n  then refuse\n"
               '  because "too late"\n')
    assert rule.name == "window"
    assert rule.for_each is None
    assert rule.cites[:2] == ("late_request", False)
    assert rule.cites_span.text == "late_request"
    assert rule.condition == A.Compare(">", A.Name("request_date"), A.Name("last_day"))
    assert rule.effects == (A.GiveOutcome("refuse"),)
    assert rule.because == A.Template(("too late",))
    assert rule.overrides == ()


def test_rule_citing_inline_text_folds_it():
    rule = one('rule exchange:\n  cites "You may initiate\n         a return or exchange."\n'
               "  when kind is exchange\n  then note\n")
    assert rule.cites[:2] == ("You may initiate a return or exchange.", True)
    assert rule.effects == (A.Note(),)


def test_rule_for_each_with_every_effect_kind():
    rule = one(
        "rule fee for each item in returned_items:\n"
        "  when not item.complete\n"
        "  then approve_with_fee\n"
        "       add round(item.price * rate) to restocking_fee\n"
        "       subtract round(item.price * rate) from refund\n"
        "       set refund_method to check\n"
        "       note\n"
    )
    fee = A.Call("round", (A.Arith("*", A.Field(A.Name("item"), "price"), A.Name("rate")),))
    assert rule.for_each == A.ForEach("item", A.Name("returned_items"))
    assert rule.condition == A.Not(A.Field(A.Name("item"), "complete"))
    assert rule.effects == (
        A.GiveOutcome("approve_with_fee"),
        A.AddTo(fee, "restocking_fee", +1),
        A.AddTo(fee, "refund", -1),
        A.SetOutput("refund_method", A.Name("check")),
        A.Note(),
    )


def test_rule_parts_in_any_order_and_overrides():
    rule = one("rule late_ok:\n  overrides window, proof\n  then approve\n  when vip\n  cites c\n")
    assert rule.overrides == ("window", "proof")
    assert [s.text for s in rule.override_spans] == ["window", "proof"]
    assert rule.condition == A.Name("vip")
    assert rule.effects == (A.GiveOutcome("approve"),)


def test_several_then_parts_add_up():
    rule = one("rule r:\n  when x\n  then note\n  then refuse\n")
    assert rule.effects == (A.Note(), A.GiveOutcome("refuse"))


def test_a_rule_cites_several_clauses_on_one_line_or_several():
    rule = one('rule r:\n  cites c, "the text"\n  then note\n  cites d\n')
    assert [(c.value, c.inline) for c in rule.citations] == [("c", False), ("the text", True), ("d", False)]
    assert [c.span.text for c in rule.citations] == ["c", '"the text"', "d"]
    assert rule.cites == ("c", False) and rule.cites_span.text == "c"  # the first, for readers of one


@pytest.mark.parametrize("part", ["when y", 'because "b"'])
def test_a_part_given_twice_is_an_error(part):
    first = {"when": "when x", "because": 'because "a"'}[part.split()[0]]
    text = f"rule r:\n  {first}\n  then note\n  {part}\n"
    with pytest.raises(PolicyError) as info:
        parse_policy(text, "t.rpl")
    (d,) = info.value.diagnostics
    assert d.code == "RPL011"
    assert d.message == f"rule `r` has more than one `{part.split()[0]}`"
    assert (d.span.line, d.span.column) == (4, 3)


def test_because_with_holes_and_escaped_braces():
    rule = one('rule r:\n  when x\n  then note\n'
               '  because "Requested {request_date}, {days + 1} days; {{not a hole}} {item.sku}"\n')
    parts = rule.because.parts
    holes = [p for p in parts if not isinstance(p, str)]
    assert holes == [A.Name("request_date"),
                     A.Arith("+", A.Name("days"), A.Literal("integer", 1)),
                     A.Field(A.Name("item"), "sku")]
    text = "".join(p if isinstance(p, str) else "<>" for p in parts)
    assert text == "Requested <>, <> days; {not a hole} <>"


def test_because_over_several_lines_is_folded_around_holes():
    rule = one('rule r:\n  when x\n  then note\n  because "returns close {window}\n'
               '           after delivery\n           (last day {last})."\n')
    assert rule.because.parts == ("returns close ", A.Name("window"), " after delivery (last day ",
                                  A.Name("last"), ").")


def test_because_holes_may_hold_sets_and_conditionals():
    rule = one('rule r:\n  when x\n  then note\n  because "{if a then b else c} and {y in {p, q}}"\n')
    assert rule.because.parts == (
        A.IfThenElse(A.Name("a"), A.Name("b"), A.Name("c")),
        " and ",
        A.Membership(A.Name("y"), A.EnumSet(("p", "q")), False),
    )


def test_because_only_escapes():
    rule = one('rule r:\n  when x\n  then note\n  because "{{}}"\n')
    assert "".join(rule.because.parts) == "{}"


# ---- outputs -----------------------------------------------------------------------------------

def test_outputs():
    assert decls(
        "output outcome\n"
        "output refund:          money total, at least 0.00\n"
        "output restocking_fee:  money total\n"
        "output refund_method:   optional RefundMethod\n"
        "output credit_between:  optional date range\n"
        "output note:            text = \"none\"\n"
    ) == (
        A.OutputDecl("outcome", None),
        A.OutputDecl("refund", A.NamedType("money"), True, A.Literal("money", Decimal("0.00"))),
        A.OutputDecl("restocking_fee", A.NamedType("money"), True),
        A.OutputDecl("refund_method", A.OptionalType(A.NamedType("RefundMethod"))),
        A.OutputDecl("credit_between", A.OptionalType(A.DateRangeType())),
        A.OutputDecl("note", A.NamedType("text"), default=A.Literal("text", "none")),
    )


def test_whole_policy_keeps_declaration_order():
    kinds = [type(d).__name__ for d in decls(
        'policy "P"\nclause c: "t"\nparameter p = 1\nenum E: a\nrecord R:\n  f: text\n'
        "request:\n  r: R\nlet v = p\noutcomes:\n  a \"A\"\nrule x:\n  when true\n  then a\n"
        "output outcome\n")]
    assert kinds == ["Header", "Clause", "Parameter", "EnumDecl", "RecordDecl", "RequestDecl", "Let",
                     "OutcomesDecl", "Rule", "OutputDecl"]


def test_the_bundled_aputure_policy_parses(aputure_text):
    policy = parse_policy(aputure_text, "aputure.rpl")
    rules = [d.name for d in policy.declarations if isinstance(d, A.Rule)]
    assert rules == re.findall(r"^rule (\w+)", aputure_text, re.MULTILINE)
    assert rules[:2] == ["window", "proof"]


@pytest.fixture(scope="module")
def aputure_text():
    from tests.conftest import APUTURE

    return APUTURE.read_text()
