"""What the SQL compiler knows of a value, and where it stops knowing: a value tested `is given` by
an `if` needs no test for a NULL in its `then` branch (another optional value there still does,
and hands its row to the Python path where it is absent); the business-day calendar spans the
policy's own counts; sums that cannot meet a NULL summed as each engine sums best, the others
kept NULL where they meet one."""
from __future__ import annotations

import datetime
import json

from rplang.policy_lang import limits
from rplang.replay.calendar import tables_for_span
from rplang.replay.columns import applied_rules
from rplang.runtime import load_policy
from rplang.stream import decide_line

from ..cli.conftest import run
from .outputs import outputs_by_key

GIVEN = """\
policy "Given"
version "1"
currency USD
calendar "US"

parameter long_delay = 400 business days

enum Region: north, south, east, west

record Item:
  price:    money
  coupon:   optional text
  region:   optional Region

request:
  ordered:   date
  promo:     optional text
  items:     list of Item

outcomes:
  approve "APPROVED"

rule promo:
  cites "A promotion."
  when if promo is given then promo in {"SPRING", "SUMMER", "AUTUMN"} else false
  then note

rule coupon_item for each item in items:
  cites "A coupon, or an item over 100.00."
  when if item.coupon is given then item.coupon in {"TEN", "TWENTY", "THIRTY"} else item.price > 100.00
  then add item.price to couponed

rule regional for each item in items:
  cites "A coupon of a region."
  when if item.coupon is given then item.region in {north, south, east} else false
  then add item.price to regional

rule paid_late:
  cites "Paid long after."
  when true
  then set paid_on to ordered + long_delay

output outcome
output couponed: money total
output regional: money total
output paid_on: optional date
"""

ITEMS = [
    {"price": "150.00"},
    {"price": "20.00", "coupon": "TEN", "region": "north"},
    {"price": "30.00", "coupon": "FIFTY", "region": "west"},
    {"price": "40.00", "coupon": "TWENTY"},  # a coupon without a region: `regional` reads a missing value
]
REQUESTS = [
    {"ordered": "2024-03-01", "items": [ITEMS[0]]},
    {"ordered": "2025-12-31", "promo": "SPRING", "items": [ITEMS[0], ITEMS[1]]},
    {"ordered": "2026-07-04", "promo": "WINTER", "items": [ITEMS[1], ITEMS[2]]},
    {"ordered": "2026-11-25", "items": []},
    {"ordered": "2025-01-02", "promo": "AUTUMN", "items": [ITEMS[3]]},
    {"ordered": "2024-02-29", "items": [ITEMS[2], ITEMS[3], ITEMS[0]]},
]


def test_a_value_tested_is_given_is_read_without_a_test_for_null_and_others_still_are(tmp_path):
    policy_path, source, out = tmp_path / "given.rpl", tmp_path / "in.jsonl", tmp_path / "out.parquet"
    policy_path.write_text(GIVEN)
    lines = [json.dumps(r) for r in REQUESTS]
    source.write_text("\n".join(lines) + "\n")
    sql = run("replay", policy_path, "x", "--explain-sql").out
    # where `promo` is given, `promo in {...}` is the search itself, no CASE testing it for a NULL
    assert """THEN ARRAY_CONTAINS(['AUTUMN', 'SPRING', 'SUMMER'], "rq"."promo")""" in sql
    result = run("replay", policy_path, source, "--out", out)
    policy = load_policy(policy_path)
    decided, want_rejects = {}, []  # what `rpl eval` prints
    for number, line in enumerate(lines, 1):  # as `rpl eval --jsonl` decides each line
        printed, counted = decide_line(policy, number, line.encode() + b"\n", True, None)
        if counted.rejected or counted.faults:
            error = json.loads(printed)["error"]
            del error["line"]
            want_rejects.append({"source_row": number, "error": error})
        else:
            decision = policy.decide_json(line)
            decided[number] = (decision.outputs_json(), applied_rules(decision))
    assert want_rejects == []
    assert result.code == 0, result.both
    # the rows reading a missing region (5, 6) are handed to the Python path, which decides them
    # as `rpl eval` does; the others are decided in SQL, 400 business days past a year included
    assert "6 requests: 6 decided (4 in SQL, 2 by the Python path)" in result.err
    assert outputs_by_key(policy, out, "source_row") == decided


def test_the_calendar_spans_the_policys_own_counts_around_the_data():
    first, last = datetime.date(2025, 3, 1), datetime.date(2026, 10, 1)
    short, _ = tables_for_span("US", (first, None, last), chained=1, longest=10)
    days = short.column("bday")
    assert (days[0].as_py(), days[-1].as_py()) == (datetime.date(2024, 1, 1), datetime.date(2027, 12, 31))
    long, _ = tables_for_span("US", (first, None, last), chained=1, longest=400)  # 400 business days: two years each side
    assert long.column("bday")[0].as_py() == datetime.date(2023, 1, 1)
    # a count the data gives: the longest there is
    unknown, business = tables_for_span("US", (first, None, last), chained=1, longest=limits.MAX_BUSINESS_DAYS)
    assert unknown.column("bday")[0].as_py() == datetime.date(2014, 1, 1)
    # the same business days, counted one by one
    from rplang.compiler.calendars import BusinessCalendar

    calendar = BusinessCalendar("US")
    want = [d for d in (datetime.date(2014, 1, 1) + datetime.timedelta(days=n) for n in range(3000))
            if calendar.is_business_day(d)]
    assert business.column("bday").to_pylist()[:len(want)] == want


FEES = """\
policy "Fees"
version "1"
currency USD

record Item:
  price:     money
  returned:  boolean
  fee:       money  when returned

request:
  items:  list of Item

outcomes:
  approve "APPROVED"

rule fees:
  cites "Fees."
  when (sum of item.fee for each item in items) > 10.00
  then note

rule each for each item in items:
  cites "Prices."
  when true
  then add item.price to total

output outcome
output total: money total
"""


def test_a_sum_that_may_meet_a_null_is_not_summed_past_it(tmp_path):
    """An exact sum (`total`'s prices, never NULL) is DuckDB's LIST_SUM, which passes over a NULL;
    a sum of a fee given only `when returned` meets one on an item kept, where the runtime stops:
    it stays a LIST_REDUCE, NULL there, and the row goes to the Python path, which refuses it as
    `rpl eval` does."""
    policy_path, source, out = tmp_path / "fees.rpl", tmp_path / "in.jsonl", tmp_path / "out.parquet"
    policy_path.write_text(FEES)
    sql = run("replay", policy_path, "x", "--explain-sql").out
    assert sql.count("LIST_SUM(") == 1 and "LIST_REDUCE(" in sql
    spark = run("replay", policy_path, "x", "--explain-sql", "--engine", "spark").out
    assert "LIST_SUM" not in spark and "AGGREGATE(" in spark
    lines = [json.dumps({"items": items}) for items in (
        [{"price": "5.00", "returned": True, "fee": "11.00"}],
        [{"price": "5.00", "returned": False}],
        [{"price": "5.00", "returned": True, "fee": "1.00"}, {"price": "7.00", "returned": False}])]
    source.write_text("\n".join(lines) + "\n")
    result = run("replay", policy_path, source, "--out", out)
    assert result.code == 2, result.both
    assert "3 requests: 1 decided (1 in SQL, 0 by the Python path)" in result.err and "2 rejected" in result.err
    policy = load_policy(policy_path)
    assert outputs_by_key(policy, out, "source_row") == {
        1: (policy.decide_json(lines[0]).outputs_json(), ["fees", "each"])}
    rejects = [json.loads(line) for line in (tmp_path / "out.rejects.jsonl").read_text().splitlines()]
    assert sorted((r["source_row"], r["error"]["problems"][0]["path"]) for r in rejects) == \
        [(2, "$.items[0].fee"), (3, "$.items[1].fee")]
