"""Expressions: each form, and how operators bind."""
import datetime
import re
from decimal import Decimal

import pytest

from rplang.policy_lang import PolicyError, parse_policy
from rplang.policy_lang import ast as A


def expr(text: str):
    (let,) = parse_policy(f"let v = {text}\n", "e.rpl").declarations
    return let.value


N = A.Name


def lit(kind, value):
    return A.Literal(kind, value)


@pytest.mark.parametrize("text, expected", [
    # logic: not binds tighter than and, and tighter than or
    ("a or b and not c", A.Logic("or", (N("a"), A.Logic("and", (N("b"), A.Not(N("c"))))))),
    ("not a and b", A.Logic("and", (A.Not(N("a")), N("b")))),
    ("not not a", A.Not(A.Not(N("a")))),
    ("a and b or c", A.Logic("or", (A.Logic("and", (N("a"), N("b"))), N("c")))),
    ("a or b or c", A.Logic("or", (N("a"), N("b"), N("c")))),
    ("a and b and c", A.Logic("and", (N("a"), N("b"), N("c")))),
    ("(a or b) and c", A.Logic("and", (A.Logic("or", (N("a"), N("b"))), N("c")))),
    # arithmetic: * / over + -, left-associative, unary minus tightest
    ("x + y * z", A.Arith("+", N("x"), A.Arith("*", N("y"), N("z")))),
    ("x * y + z", A.Arith("+", A.Arith("*", N("x"), N("y")), N("z"))),
    ("(x + y) * z", A.Arith("*", A.Arith("+", N("x"), N("y")), N("z"))),
    ("a - b - c", A.Arith("-", A.Arith("-", N("a"), N("b")), N("c"))),
    ("a / b * c", A.Arith("*", A.Arith("/", N("a"), N("b")), N("c"))),
    ("-x * y", A.Arith("*", A.Negate(N("x")), N("y"))),
    ("a - -b", A.Arith("-", N("a"), A.Negate(N("b")))),
    # comparisons take whole sums; not takes a whole comparison
    ("a + 1 > b * 2", A.Compare(">", A.Arith("+", N("a"), lit("integer", 1)),
                                A.Arith("*", N("b"), lit("integer", 2)))),
    ("a <= b", A.Compare("<=", N("a"), N("b"))),
    ("a >= b", A.Compare(">=", N("a"), N("b"))),
    ("a < b", A.Compare("<", N("a"), N("b"))),
    ("a is b", A.Compare("is", N("a"), N("b"))),
    ("a is not b", A.Compare("is not", N("a"), N("b"))),
    ("not a is b", A.Not(A.Compare("is", N("a"), N("b")))),
    ("a < b and c > d", A.Logic("and", (A.Compare("<", N("a"), N("b")), A.Compare(">", N("c"), N("d"))))),
    # tests
    ("x is given", A.Test("given", N("x"), False)),
    ("x is not given", A.Test("given", N("x"), True)),
    ("x.y is empty", A.Test("empty", A.Field(N("x"), "y"), False)),
    ("x is not empty", A.Test("empty", N("x"), True)),
    ("x is given and x > d", A.Logic("and", (A.Test("given", N("x"), False), A.Compare(">", N("x"), N("d"))))),
    # membership
    ("a in {x, y}", A.Membership(N("a"), A.EnumSet(("x", "y")), False)),
    ("a not in {x}", A.Membership(N("a"), A.EnumSet(("x",)), True)),
    ("a.b in skus", A.Membership(A.Field(N("a"), "b"), N("skus"), False)),
    ("a in {x, y} or b", A.Logic("or", (A.Membership(N("a"), A.EnumSet(("x", "y")), False), N("b")))),
    ('a.state in {"AL", "OH"}', A.Membership(A.Field(N("a"), "state"), A.TextSet(("AL", "OH")), False)),
    ('a not in {"A \\"B\\""}', A.Membership(N("a"), A.TextSet(('A "B"',)), True)),
    # dates
    ("d + 14 days through d + 10 business days",
     A.DateRange(A.Arith("+", N("d"), lit("duration", 14)), A.Arith("+", N("d"), lit("business_duration", 10)))),
    ("days from a to b", A.DaysBetween(N("a"), N("b"))),
    ("days from a.x to b > 14", A.Compare(">", A.DaysBetween(A.Field(N("a"), "x"), N("b")), lit("integer", 14))),
    ("days from a to b + c", A.DaysBetween(N("a"), A.Arith("+", N("b"), N("c")))),
    ("2026-01-01 + 1 day", A.Arith("+", lit("date", datetime.date(2026, 1, 1)), lit("duration", 1))),
    # lists
    ("sum of i.price for each i in items where i.returned",
     A.Aggregate("sum", A.Each("i", N("items"), A.Field(N("i"), "returned"), A.Field(N("i"), "price")))),
    ("count of each i in items where i.free and not i.returned",
     A.Aggregate("count", A.Each("i", N("items"),
                                 A.Logic("and", (A.Field(N("i"), "free"), A.Not(A.Field(N("i"), "returned")))),
                                 None))),
    ("min of xs", A.Aggregate("min", N("xs"))),
    ("max of i.price for each i in items", A.Aggregate("max", A.Each("i", N("items"), None, A.Field(N("i"), "price")))),
    ("each i in items", A.Each("i", N("items"), None, None)),
    ("each i in items where i.returned", A.Each("i", N("items"), A.Field(N("i"), "returned"), None)),
    ("i.sku for each i in items", A.Each("i", N("items"), None, A.Field(N("i"), "sku"))),
    ("any x in xs where x.a and x.b",
     A.Quantifier("any", "x", N("xs"), A.Logic("and", (A.Field(N("x"), "a"), A.Field(N("x"), "b"))))),
    ("every x in xs where x.n > 0", A.Quantifier("every", "x", N("xs"), A.Compare(">", A.Field(N("x"), "n"), lit("integer", 0)))),
    ("no x in xs where x.c in {fire, flood}",
     A.Quantifier("no", "x", N("xs"), A.Membership(A.Field(N("x"), "c"), A.EnumSet(("fire", "flood")), False))),
    # words that start quantifiers and aggregates are names elsewhere
    ("any", N("any")),
    ("count + every", A.Arith("+", N("count"), N("every"))),
    # conditionals, calls, fields
    ("if a then b else c", A.IfThenElse(N("a"), N("b"), N("c"))),
    ("if a then b else if c then d else e", A.IfThenElse(N("a"), N("b"), A.IfThenElse(N("c"), N("d"), N("e")))),
    ("if x is given then x in s else s is not empty",
     A.IfThenElse(A.Test("given", N("x"), False), A.Membership(N("x"), N("s"), False), A.Test("empty", N("s"), True))),
    ("round(price * 15%)", A.Call("round", (A.Arith("*", N("price"), lit("percent", Decimal(15))),))),
    ("max(0.00, a - b)", A.Call("max", (lit("money", Decimal("0.00")), A.Arith("-", N("a"), N("b"))))),
    ("a.b.c", A.Field(A.Field(N("a"), "b"), "c")),
    ('"x"', lit("text", "x")),
])
def test_expression(text, expected):
    assert expr(text) == expected


@pytest.mark.parametrize("text", ["a < b < c", "a is given is given", "a = b", "a +", "(a", "{a,}",
                                  "sum xs", "any x in xs", "if a then b"])
def test_malformed_expressions_are_syntax_errors(text):
    with pytest.raises(PolicyError) as info:
        expr(text)
    (d,) = info.value.diagnostics
    assert re.fullmatch(r"RPL0\d\d", d.code)
    assert d.span.line == 1
