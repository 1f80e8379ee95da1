"""Request validation: every problem, with its JSON path, what was received and what was expected."""
import copy
import datetime
import json
from decimal import Decimal

import pytest

from rplang.policy_lang.errors import RequestError, RequestProblem
from rplang.runtime import load_policy_text
from rplang.runtime.request import MAX_LIST, MAX_TEXT
from tests.conftest import APUTURE_REQUESTS

BASE = json.loads((APUTURE_REQUESTS / "00-semantics-example.json").read_text())


def request(**edits):
    """The semantics example with edits: `order__payment_method="x"`, `items__0__price=...`, `drop=[...]`."""
    data = copy.deepcopy(BASE)
    for key, value in edits.items():
        *parents, last = [int(p) if p.isdigit() else p for p in key.split("__")]
        target = data
        for p in parents:
            target = target[p]
        if value is DROP:
            del target[last]
        else:
            target[last] = value
    return data


DROP = object()


def problems(policy, data) -> list[tuple[str, str]]:
    with pytest.raises(RequestError) as info:
        policy.read_request(data)
    return [(p.path, p.message) for p in info.value.problems]


def test_the_example_is_valid_and_converted(aputure):
    read = aputure.read_request(request())
    assert read["request_date"] == datetime.date(2026, 3, 10)
    assert read["order"]["shipping_paid"] == Decimal("30.00")
    assert read["items"][0]["price"] == Decimal("1890.00")
    assert read["items"][0]["marks"] == []
    assert read["items"][1]["bundled_with"] == "LS-600D-PRO"


# ---- missing, null, unknown ---------------------------------------------------------------------

@pytest.mark.parametrize("key, path", [
    ("request_date", "$.request_date"),
    ("order__payment_method", "$.order.payment_method"),
    ("items__1__sku", "$.items[1].sku"),
    ("items__0__returned", "$.items[0].returned"),
])
def test_a_missing_field(aputure, key, path):
    assert problems(aputure, request(**{key: DROP})) == [(path, "missing")]


def test_null_on_a_required_field(aputure):
    assert problems(aputure, request(order__currency=None)) == [("$.order.currency", "must not be null")]


def test_null_on_an_optional_field_is_absent(aputure):
    read = aputure.read_request(request(received_date=None, items__1__bundled_with=None))
    assert read["received_date"] is None
    assert read["items"][1]["bundled_with"] is None


def test_absent_optional_fields_are_none(aputure):
    read = aputure.read_request(request(received_date=DROP, items__1__bundled_with=DROP))
    assert read["received_date"] is None and read["items"][1]["bundled_with"] is None


def test_defaults_are_applied(aputure):
    read = aputure.read_request(request(kind=DROP, order__shipping_paid=DROP))
    assert read["kind"] == "return"
    assert read["order"]["shipping_paid"] == Decimal("0.00")
    assert str(read["order"]["shipping_paid"]) == "0.00"


def test_a_given_value_beats_the_default(aputure):
    read = aputure.read_request(request(kind="exchange", order__shipping_paid="12.00"))
    assert (read["kind"], read["order"]["shipping_paid"]) == ("exchange", Decimal("12.00"))


@pytest.mark.parametrize("key, path, hint", [
    ("recieved_date", "$.recieved_date", "did you mean `received_date`?"),
    ("order__shiping_paid", "$.order.shiping_paid", "did you mean `shipping_paid`?"),
    ("items__0__upc_intakt", "$.items[0].upc_intakt", "did you mean `upc_intact`?"),
])
def test_an_unknown_field_with_a_did_you_mean(aputure, key, path, hint):
    assert problems(aputure, request(**{key: "x"})) == [(path, f"unknown field; {hint}")]


def test_an_unknown_field_unlike_any_lists_the_known_ones(aputure):
    [(path, message)] = problems(aputure, request(zzz=1))
    assert path == "$.zzz"
    assert message == "unknown field (known: request_date, kind, received_date, order, items)"


# ---- wrong types --------------------------------------------------------------------------------

@pytest.mark.parametrize("key, value, path, message", [
    ("request_date", 20260310, "$.request_date", 'expected a date as "YYYY-MM-DD", got a number'),
    ("items__0__returned", "true", "$.items[0].returned", "expected true or false, got a string: write true, without quotes"),
    ("items__0__returned", "yes", "$.items[0].returned", "expected true or false, got a string"),
    ("items__0__free", 0, "$.items[0].free", "expected true or false, got a number"),
    ("items__0__sku", 42, "$.items[0].sku", "expected a string, got a number"),
    ("items__0__sku", None, "$.items[0].sku", "must not be null"),
    ("items__0__marks", "crack", "$.items[0].marks", "expected a list, got a string"),
    ("items", {}, "$.items", "expected a list, got an object"),
    ("order", [], "$.order", "expected an object (Order), got a list"),
    ("order", "card", "$.order", "expected an object (Order), got a string"),
    ("items__0", True, "$.items[0]", "expected an object (Item), got true/false"),
])
def test_a_value_of_the_wrong_type(aputure, key, value, path, message):
    assert problems(aputure, request(**{key: value})) == [(path, message)]


@pytest.mark.parametrize("data", [[], "x", 1, None])
def test_a_request_that_is_not_an_object(aputure, data):
    assert problems(aputure, data)[0][0] == "$"
    assert problems(aputure, data)[0][1].startswith("expected an object (request), got ")


# ---- dates --------------------------------------------------------------------------------------

@pytest.mark.parametrize("date", ["2026-02-30", "2027-02-29", "2026-13-01", "2026-00-10", "2026-04-31"])
def test_a_date_that_does_not_exist(aputure, date):
    assert problems(aputure, request(request_date=date)) == [("$.request_date", "not a real date")]


def test_a_leap_day_is_a_real_date(aputure):
    assert aputure.read_request(request(request_date="2028-02-29"))["request_date"] == datetime.date(2028, 2, 29)


@pytest.mark.parametrize("date", ["03/10/2026", "2026-3-10", "20260310", "2026-03-10T00:00", "2026-03-10 ",
                                  " 2026-03-10", "2026/03/10", "", "2026-03-10\n", "٢٠٢٦-٠٣-١٠"])
def test_a_date_in_the_wrong_format(aputure, date):  # shown as given: a stray space or line feed shows
    assert problems(aputure, request(request_date=date)) == [
        ("$.request_date", f'expected a date as "YYYY-MM-DD", got {json.dumps(date, ensure_ascii=False)}')]


@pytest.mark.parametrize("date", ["10000-01-01", "+10000-01-01", "301770-10-26", "0000-01-01", "-0001-02-01"])
def test_a_date_before_the_year_1_or_past_9999_is_out_of_range(aputure, date):
    # ISO 8601's expanded years, as a column store's DATE may hold them (rpl replay gives them so)
    assert problems(aputure, request(request_date=date)) == [
        ("$.request_date", "a date must be from 1900-01-01 to 2999-12-31")]


def test_a_four_digit_year_with_a_sign_is_not_a_date(aputure):
    assert problems(aputure, request(request_date="+2026-03-10")) == [
        ("$.request_date", 'expected a date as "YYYY-MM-DD", got "+2026-03-10"')]


# ---- enums --------------------------------------------------------------------------------------

def test_an_unknown_enum_value_lists_the_allowed_ones(aputure):
    [(path, message)] = problems(aputure, request(order__payment_method="cash"))
    assert path == "$.order.payment_method"
    assert message == "expected one of card, paypal, check, other"


def test_an_unknown_enum_value_close_to_one_gets_a_did_you_mean(aputure):
    [(_, message)] = problems(aputure, request(order__payment_method="cheque"))
    assert message.startswith("expected one of card, paypal, check, other")
    [(_, message)] = problems(aputure, request(order__payment_method="chek"))
    assert message == "expected one of card, paypal, check, other; did you mean `check`?"


@pytest.mark.parametrize("value", ["Card", "CARD", " card", 1, ["card"], {"card": 1}])
def test_enum_values_are_exact(aputure, value):
    [(path, message)] = problems(aputure, request(order__payment_method=value))
    assert path == "$.order.payment_method" and message.startswith("expected one of card, paypal")


def test_an_unknown_value_in_a_list_of_enums(aputure):
    assert problems(aputure, request(items__0__marks=["crack", "bent"])) == [
        ("$.items[0].marks[1]", "expected one of crack, dent, scratch; did you mean `dent`?")]


# ---- money --------------------------------------------------------------------------------------

@pytest.mark.parametrize("value, like", [(30, "30.00"), (30.0, "30.00"), (30.5, "30.50"), (0, "0.00"),
                                         (900.0, "900.00"), (12.345, "12.50"), (-0.0, "0.00")])
def test_money_as_a_json_number(aputure, value, like):
    [(path, message)] = problems(aputure, request(order__shipping_paid=value))
    assert path == "$.order.shipping_paid"
    assert message == f'money must be a string like "{like}", not a JSON number'


@pytest.mark.parametrize("value, message", [
    (-4.1, 'money is never negative, and is a string like "12.50", not a JSON number'),
    (-1, 'money is never negative, and is a string like "12.50", not a JSON number'),
    ("-1.00", 'an amount is never negative, like "12.50"'),
    ("-0.00", 'an amount is never negative: zero is "0.00"'),
    ("-0", 'an amount is never negative: zero is "0.00"')])
def test_money_never_negative(aputure, value, message):
    """The hint never suggests an amount the reader refuses (it suggested "-4.10" for -4.1)."""
    assert problems(aputure, request(order__shipping_paid=value)) == [("$.order.shipping_paid", message)]


@pytest.mark.parametrize("value", ["30.001", "0.125", "--1.00", "-1.001", "1e3", " 1.00", "1.00 ", "1,000.00", "", ".50",
                                   "5.", "$5.00", "NaN", "Infinity", "١٢.٥٠", "１２.５０", True])
def test_money_not_as_an_amount_with_at_most_two_decimals(aputure, value):
    assert problems(aputure, request(order__shipping_paid=value)) == [
        ("$.order.shipping_paid", 'expected an amount as a string with at most 2 decimals, like "12.50"')]


@pytest.mark.parametrize("value", ["1234567890123456.00", "9" * 400])
def test_money_too_large(aputure, value):
    [(path, message)] = problems(aputure, request(order__shipping_paid=value))
    assert path == "$.order.shipping_paid"
    assert "15 digits" in message


@pytest.mark.parametrize("value, amount", [("0", "0"), ("12.5", "12.5"), ("012.50", "12.50"),
                                           ("999999999999999.99", "999999999999999.99")])
def test_money_accepted(aputure, value, amount):
    read = aputure.read_request(request(order__shipping_paid=value))
    assert read["order"]["shipping_paid"] == Decimal(amount)


@pytest.mark.parametrize("value, amount", [(Decimal("549.0000"), "549.00"), (Decimal("12.5000000000"), "12.50"),
                                           (Decimal("7E+2"), "700"), (Decimal("0.000"), "0.00")])
def test_money_as_a_decimal_stored_with_more_places_than_it_needs(aputure, value, amount):
    """A Decimal from Python or a Parquet DECIMAL(19,4) column: its zeros past the cents are how it
    was stored, not part of the amount."""
    read = aputure.read_request(request(order__shipping_paid=value))
    assert str(read["order"]["shipping_paid"]) == amount


@pytest.mark.parametrize("value", [Decimal("549.005"), Decimal("0.0001"), Decimal("1" * 30 + ".000")])
def test_money_as_a_decimal_finer_than_cents_is_refused(aputure, value):
    [(path, message)] = problems(aputure, request(order__shipping_paid=value))
    assert path == "$.order.shipping_paid" and ("at most 2 decimals" in message or "15 digits" in message)


# ---- inspection facts: needed on returned items, ignored on kept ones ---------------------------

INSPECTION = ["condition", "marks", "accessories_complete", "manuals_included", "warranty_card_blank",
              "packing_material", "original_box", "upc_intact", "labels_tampered", "damage_cause"]


def test_inspection_facts_are_required_on_a_returned_item(aputure):
    data = request()
    for name in INSPECTION:
        del data["items"][0][name]
    # each says the decision can be made without it, as a partial one (docs/residual.md)
    assert problems(aputure, data) == [
        (f"$.items[0].{name}", "missing (required when `returned` is true; known at inspection: "
                               "`--partial` decides without it)") for name in INSPECTION]


def test_inspection_facts_must_not_be_null_on_a_returned_item(aputure):
    assert problems(aputure, request(items__0__condition=None)) == [
        ("$.items[0].condition", "must not be null (required when `returned` is true)")]


def test_inspection_facts_are_checked_on_a_returned_item(aputure):
    assert problems(aputure, request(items__0__condition="broken", items__0__upc_intact="yes")) == [
        ("$.items[0].condition", "expected one of new, like_new, used"),
        ("$.items[0].upc_intact", "expected true or false, got a string")]


def test_inspection_facts_are_ignored_on_a_kept_item(aputure):
    data = request(items__1__condition="broken", items__1__marks="all of them", items__1__upc_intact=None,
                   items__1__damage_cause=7)
    read = aputure.read_request(data)
    assert all(read["items"][1][name] is None for name in INSPECTION)


def test_inspection_facts_given_on_a_kept_item_are_not_used(aputure):
    data = request(items__0__returned=False, items__0__labels_tampered=True)
    data["items"][0]["marks"] = ["crack"]
    read = aputure.read_request(data)
    assert read["items"][0]["labels_tampered"] is None and read["items"][0]["marks"] is None
    assert aputure.decide(data).outcome != "refuse"


# ---- every problem at once ----------------------------------------------------------------------

def test_every_problem_is_listed_in_document_order(aputure):
    data = request(request_date="2026-02-30", kind="swap", order__shipping_paid=30, items__0__price="1890.001",
                   items__1__free="no", recieved_date="2026-03-16")
    del data["order"]["currency"]
    del data["items"][0]["condition"]
    assert [path for path, _ in problems(aputure, data)] == [
        "$.recieved_date", "$.request_date", "$.kind", "$.order.currency", "$.order.shipping_paid",
        "$.items[0].price", "$.items[0].condition", "$.items[1].free"]


def test_problems_in_many_items_each_have_their_index(aputure):
    data = request()
    data["items"] = [dict(BASE["items"][0], price=i) for i in range(5)]
    assert [path for path, _ in problems(aputure, data)] == [f"$.items[{i}].price" for i in range(5)]


# ---- limits -------------------------------------------------------------------------------------

def test_a_list_too_long(aputure):
    data = request()
    data["items"] = [BASE["items"][1]] * (MAX_LIST + 1)
    with pytest.raises(RequestError) as info:
        aputure.read_request(data)
    (p,) = info.value.problems
    assert p.path == "$.items"
    assert p.message == "a list may hold at most 10,000 elements, this one holds 10,001"
    assert p.received == "<list of 10001>"


def test_a_list_at_the_limit_is_accepted(aputure):
    data = request()
    data["items"] = [BASE["items"][0]] + [BASE["items"][1]] * (MAX_LIST - 1)
    assert len(aputure.read_request(data)["items"]) == MAX_LIST


def test_a_huge_string(aputure):
    with pytest.raises(RequestError) as info:
        aputure.read_request(request(items__0__sku="x" * (MAX_TEXT + 1)))
    (p,) = info.value.problems
    assert (p.path, p.message) == ("$.items[0].sku", "a text may be at most 10,000 characters")
    assert p.received == "x" * 57 + "..."
    assert len(json.dumps(info.value.to_json())) < 1000


def test_a_string_at_the_limit_is_accepted(aputure):
    assert aputure.read_request(request(items__0__sku="x" * MAX_TEXT))["items"][0]["sku"] == "x" * MAX_TEXT


def test_a_huge_string_where_an_enum_is_expected_is_not_echoed_whole(aputure):
    with pytest.raises(RequestError) as info:
        aputure.read_request(request(order__payment_method="c" * 1_000_000))
    assert len(json.dumps(info.value.to_json())) < 1000


# ---- JSON text ----------------------------------------------------------------------------------

@pytest.mark.parametrize("text", ['{"a":', "", "[" * 100_000, "1" * 5000, "{'single': 1}", "NaN-ish"])
def test_text_that_is_not_json(aputure, text):
    with pytest.raises(RequestError) as info:
        aputure.decide_json(text)
    (p,) = info.value.problems
    assert p.path == "$" and p.message.startswith("not valid JSON: ")


def test_decide_json_accepts_bytes(aputure):
    assert aputure.decide_json(json.dumps(BASE).encode()).outputs_json()["refund"] == "1557.50"


# ---- the error itself ---------------------------------------------------------------------------

def test_request_error_to_json_shape(aputure):
    with pytest.raises(RequestError) as info:
        aputure.read_request(request(request_date=DROP, order__payment_method="cash", items__0__marks=[1, 2]))
    assert info.value.to_json() == {
        "kind": "request_error",
        "message": "the request has 4 problems",
        "problems": [
            {"path": "$.request_date", "message": "missing", "received": None},
            {"path": "$.order.payment_method", "message": "expected one of card, paypal, check, other",
             "received": "cash"},
            {"path": "$.items[0].marks[0]", "message": "expected one of crack, dent, scratch", "received": 1},
            {"path": "$.items[0].marks[1]", "message": "expected one of crack, dent, scratch", "received": 2},
        ],
    }
    json.dumps(info.value.to_json())  # plain JSON values only


def test_request_error_with_one_problem_is_singular_and_renders_each_path():
    error = RequestError([RequestProblem("$.a", "missing")])
    assert error.to_json()["message"] == "the request has 1 problem"
    assert error.render() == "the request has 1 problem\n  $.a: missing"
    two = RequestError([RequestProblem("$.a", "missing"), RequestProblem("$.b[0]", "bad", 3)])
    assert str(two) == "the request has 2 problems\n  $.a: missing\n  $.b[0]: bad"


def test_received_containers_are_summarised(aputure):
    with pytest.raises(RequestError) as info:
        aputure.read_request(request(order=[1, 2, 3]))
    assert info.value.problems[0].received == "<list of 3>"


# ---- other scalar kinds, on a purpose-written policy --------------------------------------------

SCALARS = load_policy_text("request:\n  rate: percent\n  count: integer\n  flag: boolean\n  on: optional date\n",
                           "scalars.rpl")


@pytest.mark.parametrize("rate, value", [("15%", Decimal(15)), ("15", Decimal(15)), ("12.5%", Decimal("12.5")),
                                         ("100%", Decimal(100)), ("0.0001%", Decimal("0.0001"))])
def test_percent_accepted(rate, value):
    assert SCALARS.read_request({"rate": rate, "count": 1, "flag": True})["rate"] == value


@pytest.mark.parametrize("rate", [15, "1000%", "15 %", "%", "-5%", "0.00001%", "١٥%"])
def test_percent_rejected(rate):
    assert problems(SCALARS, {"rate": rate, "count": 1, "flag": True}) == [
        ("$.rate", 'expected a percentage as a string, like "15%"')]


@pytest.mark.parametrize("count", [1.0, True, "3"])
def test_integer_rejected(count):
    assert problems(SCALARS, {"rate": "1%", "count": count, "flag": False})[0][1].startswith("expected a whole number")


@pytest.mark.parametrize("count, message", [
    ("3", "expected a whole number, got a string: write 3, without quotes"),
    ("-12", "expected a whole number, got a string: write -12, without quotes"),
    ("3.5", "expected a whole number, got a string"),
    ("٣", "expected a whole number, got a string"),  # other scripts' digits are not a number to write
])
def test_a_whole_number_in_quotes_says_to_drop_them(count, message):
    assert problems(SCALARS, {"rate": "1%", "count": count, "flag": False}) == [("$.count", message)]


@pytest.mark.parametrize("count", [10**15, -10**15, 10**5000], ids=["1e15", "-1e15", "1e5000"])
def test_integer_too_large(count):
    [(path, message)] = problems(SCALARS, {"rate": "1%", "count": count, "flag": False})
    assert path == "$.count" and "15 digits" in message


def test_integer_null():
    assert problems(SCALARS, {"rate": "1%", "count": None, "flag": False}) == [("$.count", "must not be null")]


@pytest.mark.parametrize("count", [0, -3, 10**15 - 1])
def test_integer_accepted(count):
    assert SCALARS.read_request({"rate": "1%", "count": count, "flag": False})["count"] == count
