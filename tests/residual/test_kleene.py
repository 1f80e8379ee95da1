"""Three-valued evaluation over the rule graph: Kleene logic, and unknown facts that propagate
through comparisons, arithmetic, membership, lists and choices, carrying their JSON paths."""
import datetime
from decimal import Decimal

import pytest

from .conftest import values

POLICY = '''policy "kleene"
currency USD

enum Color: red, green, blue

record Part:
  name:    text
  ok:      boolean        at check
  color:   Color          at check
  note:    optional text  at check

request:
  a:       boolean  at check
  yes:     boolean
  no:      boolean
  color:   Color    at check
  day:     date     at check
  start:   date
  amount:  money    at check
  price:   money
  parts:   list of Part

let and_false      = a and no
let and_true       = a and yes
let or_true        = a or yes
let or_false       = a or no
let negation       = not a
let double_not     = not (not (a or yes))
let compared       = amount > price
let computed       = round(price * 15%)
let added          = amount + price
let member         = color in {red, green}
let not_member     = color not in {red, green}
let days           = days from start to day
let later          = start + 3 days
let good           = each p in parts where p.ok
let good_count     = count of good
let all_count      = count of parts
let names          = p.name for each p in parts
let colors         = p.color for each p in parts
let some_ok        = any p in parts where p.ok
let every_ok       = every p in parts where p.ok
let none_ok        = no p in parts where p.ok
let red_in_colors  = red in colors
let color_count    = count of colors
let same_branches  = if a then price else price
let other_branches = if a then price else 0.00
let known_choice   = if yes then amount else price
let noted          = any p in parts where p.note is given
let mixed          = (a and no) or (yes and amount > 0.00)

outcomes:
  approve "APPROVED"

output outcome
'''

REQUEST = {"yes": True, "no": False, "start": "2026-03-01", "price": "100.00",
           "parts": [{"name": "P1", "ok": True, "color": "red", "note": "n"}, {"name": "P2"}]}


@pytest.fixture(scope="module")
def v():
    return values(POLICY, REQUEST)


def unknown(*paths):
    return ("unknown", sorted(paths))


def test_kleene_and_or_not(v):
    assert v["and_false"] is False  # false and unknown = false
    assert v["and_true"] == unknown("$.a")  # true and unknown = unknown
    assert v["or_true"] is True  # true or unknown = true
    assert v["or_false"] == unknown("$.a")  # false or unknown = unknown
    assert v["negation"] == unknown("$.a")
    assert v["double_not"] is True


def test_only_the_facts_that_matter_are_carried(v):
    # `a and no` is false whatever `a` is: only `amount` is left
    assert v["mixed"] == unknown("$.amount")


def test_comparison_and_arithmetic_of_an_unknown_are_unknown(v):
    assert v["compared"] == unknown("$.amount")
    assert v["added"] == unknown("$.amount")
    assert v["days"] == unknown("$.day")


def test_known_values_are_computed_as_a_decision_computes_them(v):
    assert v["computed"] == Decimal("15.00")
    assert v["later"] == datetime.date(2026, 3, 4)
    assert v["known_choice"] == unknown("$.amount")  # the branch taken is unknown


def test_membership_of_an_unknown(v):
    assert v["member"] == unknown("$.color")
    assert v["not_member"] == unknown("$.color")


def test_a_filter_with_an_unknown_condition_is_an_unknown_list(v):
    assert v["good"] == unknown("$.parts[1].ok")
    assert v["good_count"] == unknown("$.parts[1].ok")
    assert v["all_count"] == 2
    assert v["names"] == ["P1", "P2"]


def test_a_mapping_keeps_its_unknown_elements(v):
    colors = v["colors"]
    assert colors[0] == "red" and type(colors[1]).__name__ == "Unknown"
    assert v["red_in_colors"] is True  # a known element equal to it is enough
    assert v["color_count"] == 2


def test_quantifiers(v):
    assert v["some_ok"] is True  # P1 is ok, whatever P2 is
    assert v["every_ok"] == unknown("$.parts[1].ok")
    assert v["none_ok"] is False


def test_every_is_false_once_one_element_is_false():
    request = {**REQUEST, "parts": [{"name": "P1", "ok": False}, {"name": "P2"}]}
    v = values(POLICY, request)
    assert v["every_ok"] is False
    assert v["some_ok"] == unknown("$.parts[1].ok")


def test_a_choice_whose_branches_agree_is_known(v):
    assert v["same_branches"] == Decimal("100.00")
    assert v["other_branches"] == unknown("$.a")


def test_is_given_of_an_unknown_optional_fact(v):
    assert v["noted"] is True  # P1's note is given
    w = values(POLICY, {**REQUEST, "parts": [{"name": "P2"}]})
    assert w["noted"] == unknown("$.parts[0].note")


def test_every_fact_known_gives_ordinary_values():
    request = {**REQUEST, "a": True, "color": "blue", "day": "2026-03-11", "amount": "5.00",
               "parts": [{"name": "P1", "ok": True, "color": "red", "note": None},
                         {"name": "P2", "ok": False, "color": "green", "note": None}]}
    v = values(POLICY, request)
    assert v["and_true"] is True and v["or_false"] is True and v["negation"] is False
    assert v["compared"] is False and v["added"] == Decimal("105.00") and v["days"] == 10
    assert v["member"] is False and v["good_count"] == 1 and v["every_ok"] is False
    assert v["other_branches"] == Decimal("100.00") and v["noted"] is False
