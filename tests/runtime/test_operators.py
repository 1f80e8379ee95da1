"""Evaluation of each operator, on a small purpose-written policy.

`value(expr, type)` compiles the policy below with `let v = <expr>` and one rule that sets an
output to it, decides REQUEST (with edits), and returns the output as decision JSON shows it.
"""
from functools import lru_cache

import pytest

from rplang.policy_lang.errors import PolicyError, RequestError, RplError
from rplang.runtime import load_policy_text

HEAD = '''policy "operators"
currency USD
calendar "US"
enum Color: red, green, blue
record Line:
  name:       text
  price:      money
  qty:        integer
  color:      Color
  note:       optional text
  has_extra:  boolean
  extra:      money  when has_extra
request:
  d1:     date
  d2:     date
  m1:     money
  m2:     money
  pct:    percent
  n:      integer
  color:  Color
  word:   text
  maybe:  optional date
  lines:  list of Line
'''

REQUEST = {
    "d1": "2026-11-20", "d2": "2026-12-01", "m1": "99.99", "m2": "0.10", "pct": "15%", "n": 3,
    "color": "green", "word": "hello",
    "lines": [
        {"name": "a", "price": "10.00", "qty": 2, "color": "red", "has_extra": True, "extra": "1.50"},
        {"name": "b", "price": "5.25", "qty": 1, "color": "blue", "note": "hi", "has_extra": False},
        {"name": "c", "price": "7.75", "qty": 4, "color": "red", "has_extra": True, "extra": "0.25"},
    ],
}


@lru_cache(maxsize=None)
def compiled(expr: str, type_: str, calendar: str = '"US"'):
    text = HEAD.replace('"US"', calendar) + (
        f"let v = {expr}\nrule r:\n  when true\n  then set out to v\noutput out: optional {type_}\n")
    return load_policy_text(text, "operators.rpl")


def value(expr: str, type_: str, calendar: str = '"US"', **edits):
    return compiled(expr, type_, calendar).decide({**REQUEST, **edits}).outputs_json()["out"]


# ---- money --------------------------------------------------------------------------------------

@pytest.mark.parametrize("expr, expected", [
    ("m1 + m2", "100.09"),
    ("m1 - m2", "99.89"),
    ("m2 - m1", "-99.89"),
    ("-m1", "-99.99"),
    ("m1 * n", "299.97"),
    ("n * m2", "0.30"),
    ("round(m1 * pct)", "15.00"),          # 14.9985
    ("round(m1 * 15%)", "15.00"),
    ("round(m2 * 15%)", "0.02"),           # 0.015, half up
    ("round(0.25 * 10%)", "0.03"),         # 0.025: half up, not half even (0.02)
    ("round(0.35 * 10%)", "0.04"),         # 0.035
    ("round(-m2 * 15%)", "-0.02"),         # half away from zero
    ("round(0.01 * 10%)", "0.00"),
    ("round(m1 * 15% + m2 * 15%)", "15.01"),  # 14.9985 + 0.015 = 15.0135, rounded once
    ("round(m1 * 15%) + round(m2 * 15%)", "15.02"),
    ("round(100.00 / 3)", "33.33"),
    ("round(200.00 / 3)", "66.67"),
    ("round(m1 / n)", "33.33"),
    ("round(30.00 / 15%)", "200.00"),
    ("round(m1 * 12.5%)", "12.50"),        # 12.49875
    ("max(m1, m2)", "99.99"),
    ("min(m1, m2, 1.00)", "0.10"),
    ("0.00", "0.00"),
    ("m2 - m2", "0.00"),
    ("-(m2 - m2)", "0.00"),
])
def test_money(expr, expected):
    assert value(expr, "money") == expected


def test_money_prints_with_two_decimals_whatever_the_input_exponent():
    assert value("m1 + m2", "money", m1="5", m2="0.5") == "5.50"
    assert value("m1", "money", m1="0") == "0.00"


def test_money_addition_is_exact():
    assert value("m1 + m2", "money", m1="999999999999999.99", m2="0.01") == "1000000000000000.00"


def test_money_multiplication_is_exact_for_every_accepted_input():
    assert value("m1 * n", "money", m1="999999999999999.99", n=999999999999999) == \
        "999999999999998990000000000000.01"


# ---- dates --------------------------------------------------------------------------------------

@pytest.mark.parametrize("expr, expected", [
    ("d1 + 14 days", "2026-12-04"),
    ("d1 + 1 day", "2026-11-21"),
    ("d1 - 1 day", "2026-11-19"),
    ("d1 - 30 days", "2026-10-21"),
    ("14 days + d1", "2026-12-04"),
    ("2028-02-15 + 14 days", "2028-02-29"),
    ("2026-02-15 + 14 days", "2026-03-01"),
    ("2026-12-25 + 7 days", "2027-01-01"),
    ("if maybe is given then maybe + 7 days else d1", "2026-11-20"),
    ("min(d1, d2)", "2026-11-20"),
    ("max(d1, d2)", "2026-12-01"),
])
def test_date_plus_days(expr, expected):
    assert value(expr, "date") == expected


@pytest.mark.parametrize("start, count, expected", [
    ("2026-11-25", 1, "2026-11-27"),   # Thanksgiving, Thursday 2026-11-26, is not a business day
    ("2026-11-20", 4, "2026-11-27"),
    ("2026-11-20", 10, "2026-12-07"),
    ("2026-07-02", 1, "2026-07-06"),   # July 4th 2026 is a Saturday: observed Friday 2026-07-03
    ("2027-12-30", 1, "2028-01-03"),   # New Year's Day 2028 is a Saturday: observed Friday 2027-12-31
    ("2027-12-29", 2, "2028-01-03"),
    ("2026-11-21", 1, "2026-11-23"),   # from a Saturday: counting starts the next day
    ("2026-11-26", 1, "2026-11-27"),   # from a holiday
    ("2026-11-20", 0, "2026-11-20"),
    ("2026-12-24", 1, "2026-12-28"),   # Christmas, Friday 2026-12-25
])
def test_date_plus_business_days_skips_weekends_and_us_holidays(start, count, expected):
    assert value(f"d1 + {count} business days", "date", d1=start) == expected


@pytest.mark.parametrize("start, count, expected", [
    ("2026-11-27", 1, "2026-11-25"),
    ("2026-07-06", 1, "2026-07-02"),
    ("2028-01-03", 1, "2027-12-30"),
])
def test_date_minus_business_days(start, count, expected):
    assert value(f"d1 - {count} business days", "date", d1=start) == expected


def test_without_a_calendar_business_days_are_monday_to_friday():
    assert value("d1 + 1 business day", "date", calendar='"US"', d1="2026-11-25") == "2026-11-27"
    text = HEAD.replace('calendar "US"\n', "") + (
        "let v = d1 + 1 business day\nrule r:\n  when true\n  then set out to v\noutput out: optional date\n")
    policy = load_policy_text(text, "no-calendar.rpl")
    assert policy.decide({**REQUEST, "d1": "2026-11-25"}).outputs_json()["out"] == "2026-11-26"
    assert policy.decide({**REQUEST, "d1": "2026-11-27"}).outputs_json()["out"] == "2026-11-30"


@pytest.mark.parametrize("d1, d2, expected", [
    ("2026-11-20", "2026-12-01", 11),
    ("2026-12-01", "2026-11-20", -11),
    ("2026-03-02", "2026-03-02", 0),
    ("2028-02-28", "2028-03-01", 2),
    ("2026-02-28", "2026-03-01", 1),
    ("2026-12-31", "2027-01-01", 1),
])
def test_days_from_a_to_b(d1, d2, expected):
    assert value("days from d1 to d2", "integer", d1=d1, d2=d2) == expected


def test_through_makes_a_date_range():
    assert value("d1 + 7 days through d1 + 10 days", "date range") == ["2026-11-27", "2026-11-30"]


# ---- comparisons, membership, tests --------------------------------------------------------------

@pytest.mark.parametrize("expr, edits, expected", [
    ("d1 < d2", {}, True),
    ("d1 > d2", {}, False),
    ("d1 <= d1", {}, True),
    ("d1 >= d2", {}, False),
    ("m1 > m2", {}, True),
    ("m1 > 100.00", {}, False),
    ("m1 is 99.99", {}, True),
    ("m1 is 99.990", {"m1": "99.99"}, True),   # equal amounts, whatever their digits
    ("m2 > 0.09", {}, True),
    ("m1 > m2", {"m1": "10.00", "m2": "9.99"}, True),
    ("n > 2", {}, True),
    ("n < 3", {}, False),
    ("days from d1 to d2 > 10", {}, True),
    ("days from d1 to d2 > 11", {}, False),
    ("color is green", {}, True),
    ("color is not green", {}, False),
    ("color is red", {}, False),
    ('word is "hello"', {}, True),
    ('word is "Hello"', {}, False),
    ("color in {red, green}", {}, True),
    ("color in {red, blue}", {}, False),
    ("color not in {red, blue}", {}, True),
    ("color not in {green}", {}, False),
    ('"b" in (l.name for each l in lines)', {}, True),
    ('"z" in (l.name for each l in lines)', {}, False),
    ('"z" not in (l.name for each l in lines)', {}, True),
    ("maybe is given", {}, False),
    ("maybe is given", {"maybe": "2026-01-01"}, True),
    ("maybe is not given", {}, True),
    ("maybe is given and maybe > d1", {"maybe": "2026-12-01"}, True),
    ("maybe is given and maybe > d1", {"maybe": "2026-01-01"}, False),
    ("maybe is given and maybe > d1", {}, False),
    ("lines is empty", {}, False),
    ("lines is empty", {"lines": []}, True),
    ("lines is not empty", {}, True),
    ("true and not false", {}, True),
    ("false or false or true", {}, True),
    ("not (n > 2 and m1 < m2)", {}, True),
    ("if n > 2 then color is green else false", {}, True),
    ("if n > 5 then true else color is red", {}, False),
])
def test_boolean(expr, edits, expected):
    assert value(expr, "boolean", **edits) is expected


def test_is_given_narrows_the_then_branch_only():
    assert value("if maybe is given then maybe else d2", "date", maybe="2026-01-05") == "2026-01-05"
    assert value("if maybe is given then maybe else d2", "date") == "2026-12-01"
    assert value("if maybe is not given then d2 else maybe", "date", maybe="2026-01-05") == "2026-01-05"


def test_is_not_given_narrows_the_right_side_of_or():
    assert value("maybe is not given or maybe > d1", "boolean") is True
    assert value("maybe is not given or maybe > d1", "boolean", maybe="2026-01-01") is False


def test_an_optional_value_must_be_narrowed_before_use():
    with pytest.raises(PolicyError) as info:
        compiled("maybe > d1", "boolean")
    assert [d.code for d in info.value.diagnostics] == ["RPL032"]


def test_is_given_on_a_field_given_only_when_a_flag_is_true():
    assert value("count of each l in lines where l.extra is given", "integer") == 2


# ---- if/then/else, arithmetic on whole numbers ----------------------------------------------------

@pytest.mark.parametrize("expr, expected", [
    ("n * 2 + 1", 7),
    ("n + 2 * 3", 9),
    ("(n + 2) * 3", 15),
    ("n - 5", -2),
    ("-n", -3),
    ("if n > 2 then 1 else 2", 1),
    ("if n > 3 then 1 else if n > 2 then 2 else 3", 2),
    ("if lines is empty then 0 else count of lines", 3),
])
def test_integers_and_conditionals(expr, expected):
    assert value(expr, "integer") == expected


@pytest.mark.parametrize("expr, expected", [
    ("if m1 > 50.00 then m1 else m2", "99.99"),
    ("if m1 > 100.00 then m1 else m2", "0.10"),
])
def test_if_then_else_money(expr, expected):
    assert value(expr, "money") == expected


# ---- lists --------------------------------------------------------------------------------------

@pytest.mark.parametrize("expr, type_, expected", [
    ("sum of l.price for each l in lines", "money", "23.00"),
    ("sum of l.price for each l in lines where l.color is red", "money", "17.75"),
    ("sum of l.price for each l in lines where l.qty > 100", "money", "0.00"),
    ("sum of l.extra for each l in lines where l.has_extra", "money", "1.75"),
    ("sum of l.qty for each l in lines", "integer", 7),
    ("sum of round(l.price * 15%) for each l in lines", "money", "3.45"),  # 1.50 + 0.79 + 1.16
    ("count of lines", "integer", 3),
    ("count of each l in lines where l.has_extra", "integer", 2),
    ("count of each l in lines where l.qty > 100", "integer", 0),
    ("max of l.price for each l in lines", "money", "10.00"),
    ("min of l.price for each l in lines", "money", "5.25"),
    ("min of l.qty for each l in lines", "integer", 1),
    ("max of l.qty for each l in lines where l.color is red", "integer", 4),
    ("any l in lines where l.color is blue", "boolean", True),
    ("any l in lines where l.color is green", "boolean", False),
    ("every l in lines where l.qty > 0", "boolean", True),
    ("every l in lines where l.qty > 1", "boolean", False),
    ("no l in lines where l.qty > 5", "boolean", True),
    ("no l in lines where l.qty > 3", "boolean", False),
    ("any l in lines where l.note is given and l.note is \"hi\"", "boolean", True),
    ("every l in lines where l.has_extra and l.extra > 0.00", "boolean", False),
    ("any l in (each l in lines where l.color is red) where l.qty is 4", "boolean", True),
])
def test_list_expressions(expr, type_, expected):
    assert value(expr, type_) == expected


@pytest.mark.parametrize("expr, expected", [
    ("any l in lines where l.qty > 0", False),
    ("every l in lines where l.qty > 0", True),
    ("no l in lines where l.qty > 0", True),
])
def test_quantifiers_over_an_empty_list(expr, expected):
    assert value(expr, "boolean", lines=[]) is expected


def test_sum_and_count_of_an_empty_list():
    assert value("sum of l.price for each l in lines", "money", lines=[]) == "0.00"
    assert value("count of lines", "integer", lines=[]) == 0


def test_filters_and_mappings_keep_the_list_order():
    policy = load_policy_text(HEAD + (
        "let reds = each l in lines where l.color is red\n"
        "let names = l.name for each l in reds\n"
        "let all_names = l.name for each l in lines\n"
        "rule r for each l in reds:\n"
        "  when l.name in names and l.name in all_names\n"
        "  then add l.price to total\n"
        "output total: money total\n"), "lists.rpl")
    decision = policy.decide(REQUEST)
    assert decision.outputs_json()["total"] == "17.75"
    assert [a.element["name"] for a in decision.applied] == ["a", "c"]


def test_a_field_given_only_when_a_flag_is_true_is_an_error_when_needed():
    with pytest.raises(RequestError) as info:
        value("sum of l.extra for each l in lines", "money")
    assert [(p.path, p.message) for p in info.value.problems] == [
        ("$.lines[1].extra", "needed to decide, but given only when `has_extra` is true")]


def test_a_division_by_zero_is_an_rpl_error():
    with pytest.raises(RplError):
        value("round(m1 / n)", "money", n=0)


def test_a_date_out_of_range_is_an_rpl_error():
    with pytest.raises(RplError):
        value("d1 + 14 days", "date", d1="9999-12-25")


def test_max_of_an_empty_list_is_an_rpl_error_not_a_crash():
    try:
        value("max of l.price for each l in lines", "money", lines=[])
    except Exception as error:  # noqa: BLE001 - the point is which kind of error
        assert isinstance(error, RplError), repr(error)
