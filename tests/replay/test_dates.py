"""Dates and a rule's own values in SQL: `rpl replay --via sql` decides as `rpl eval` does, for
days before and after 2001 (the weekday counts from a Monday of that year), leap days, and a
yearly range across the new year."""
from __future__ import annotations

import datetime
import json
import random

import pytest

from rplang.runtime import load_policy

from ..cli.conftest import run
from ..conftest import APUTURE, POLICIES
from .conftest import typed_rows
from .outputs import outputs_by_key
from .test_duckdb import expected

POLICY = '''policy "holiday returns"
currency USD
parameter holiday_returns = november 1 through january 31
parameter spring = march 1 through may 31
enum Category: phone, laptop
record Item:
  category: Category
  price:    money
request:
  purchased: date
  returned:  date
  items:     list of Item
outcomes:
  refuse  "REFUSED" overrides all other rules
  approve "APPROVED"
output refund: money total
output last_day: optional date
output month_end: optional date
output season_start: optional date
output purchase_year: optional integer
output purchase_day: optional integer
rule late:
  let last_day = if month of purchased in {november, december}
                 then end of holiday_returns for purchased
                 else purchased + 30 days
  cites "Purchases made in November or December may be returned until January 31 of the next year."
  when returned > last_day
  then refuse
  because "returned after {last_day}"
rule dates:
  cites "The dates of the purchase."
  when weekday of purchased not in {saturday, sunday} or purchased in spring
  then set month_end to end of month of purchased
       set season_start to start of holiday_returns for purchased
       set last_day to end of holiday_returns for purchased
       set purchase_year to year of purchased
       set purchase_day to day of purchased
  because "a weekday, or spring"
rule refund for each item in items:
  let window = if item.category is phone then 14 days else 30 days
  cites "Phones within 14 days, laptops within 30."
  when returned <= purchased + window
  then add item.price to refund
  because "{item.category} within {window}"
'''


def dated_requests(tmp_path):
    """The policy above and requests across years, leap days and the new year: (policy, source, lines)."""
    path = tmp_path / "holiday.rpl"
    path.write_text(POLICY)
    chooser = random.Random(7)
    days = [datetime.date(2024, 2, 29), datetime.date(1999, 12, 31), datetime.date(2000, 1, 1),
            datetime.date(2026, 11, 20), datetime.date(2027, 1, 31), datetime.date(2001, 1, 1)]
    days += [datetime.date(1990, 1, 1) + datetime.timedelta(days=chooser.randrange(20_000)) for _ in range(60)]
    lines = []
    for day in days:
        returned = day + datetime.timedelta(days=chooser.randrange(-10, 120))
        items = [{"category": chooser.choice(["phone", "laptop"]), "price": "10.00"} for _ in range(2)]
        lines.append(json.dumps({"purchased": day.isoformat(), "returned": returned.isoformat(), "items": items}))
    source = tmp_path / "requests.jsonl"
    source.write_text("\n".join(lines) + "\n")
    return path, source, lines


def test_dates_and_rule_values_in_sql_as_in_rpl_eval(tmp_path):
    path, source, lines = dated_requests(tmp_path)
    out = tmp_path / "out.parquet"
    result = run("replay", path, source, "--out", out, "--via", "sql")
    assert result.code == 0, result.both
    assert f"{len(lines):,} decided ({len(lines):,} in SQL, 0 by the Python path)" in result.err
    policy = load_policy(path)
    assert outputs_by_key(policy, out, "source_row") == expected(policy, lines)


def _far_date_table(lines: list[str], field: str = "delivery_date", days: dict | None = None):
    """The requests of `lines` as a typed Arrow table with an `id`, the order's `field` set to
    `days` (row index -> days since 1970; by default the second row's in the year 300,000): a
    Parquet date that Python has none of."""
    import pyarrow as pa

    from rplang.replay.columns import request_schema

    policy = load_policy(APUTURE)
    rows = [{"id": n, **row} for n, row in enumerate(typed_rows(policy, lines), 1)]
    schema = pa.schema([pa.field("id", pa.int64()), *request_schema(policy.checked)])
    table = pa.Table.from_pylist(rows, schema=schema)
    order = table.column("order").combine_chunks()
    values = order.field(field).cast(pa.int32()).to_pylist()
    for row, day in (days or {1: 300_000 * 365}).items():
        values[row] = day
    fields = [pa.array(values, pa.int32()).cast(pa.date32()) if f.name == field else order.field(f.name)
              for f in order.type]
    return table.set_column(table.schema.get_field_index("order"), "order",
                            pa.StructArray.from_arrays(fields, fields=list(order.type)))


def test_a_date_far_outside_the_calendar_is_handed_back_not_an_engine_error():
    # a typed Parquet date of the year 300,000 (Python has none): the query moves it by no days
    # and hands the row to the Python path, rather than DuckDB stopping on a date past its range
    import duckdb
    from sqlglot import exp

    from rplang.replay.api import resolve_none
    from rplang.replay.engine_duckdb import calendar_span, register_calendar
    from rplang.replay.lowering import ROW
    from rplang.replay.run import Replay
    from rplang.replay.query import PolicyQuery
    from rplang.replay.views import FALLBACK
    from rplang.replay.sql import DuckDBDialect

    policy = load_policy(APUTURE)
    table = _far_date_table((POLICIES / "aputure" / "corpus.jsonl").read_text().splitlines()[:2])
    job = Replay(policy, APUTURE.read_text(), resolve_none(), ("id",))
    query = PolicyQuery(policy, {"id": exp.column("id", table=ROW, quoted=True)}, job.version, job.hash)
    select = query.select("rpl_input")
    con = duckdb.connect()
    con.from_arrow(table).create_view("rpl_input")
    register_calendar(con, job, calendar_span(query))  # the days business days reach, which the query joins
    found = con.sql(select.sql(dialect=DuckDBDialect)).to_arrow_table()
    assert dict(zip(found.column("id").to_pylist(), found.column(FALLBACK).to_pylist())) == {1: False, 2: True}


@pytest.mark.parametrize("via", ["sql", "python"])
def test_a_date_python_has_none_of_is_a_reject_with_its_path(tmp_path, via):
    import pyarrow.parquet as pq

    lines = (POLICIES / "aputure" / "corpus.jsonl").read_text().splitlines()[:3]
    source, out = tmp_path / "far.parquet", tmp_path / "out.parquet"
    pq.write_table(_far_date_table(lines), source)
    result = run("replay", APUTURE, source, "--out", out, "--via", via)
    assert result.code == 2 and "Traceback" not in result.both, result.both
    assert "3 requests: 2 decided" in result.err and "1 rejected" in result.err, result.err
    rejects = [json.loads(line) for line in (tmp_path / "out.rejects.jsonl").read_text().splitlines()]
    assert [r["id"] for r in rejects] == [2]
    problems = rejects[0]["error"]["problems"]
    assert [p["path"] for p in problems] == ["$.order.delivery_date"]
    # what `rpl eval` says of a date it reads but computes with none of, the date as the file holds it
    assert problems[0]["message"] == "a date must be from 1900-01-01 to 2999-12-31"
    assert problems[0]["received"] == "301770-10-26"
    policy = load_policy(APUTURE)
    assert outputs_by_key(policy, out, "id") == {n: o for n, o in expected(policy, lines).items() if n != 2}


_EPOCH = datetime.date(1970, 1, 1).toordinal()
# days since 1970 of dates Python has none of, as ISO 8601 writes them (a year before 1 as 0 or less)
FAR_DAYS = {datetime.date(9999, 12, 31).toordinal() + 1 - _EPOCH: "10000-01-01",
            1 - 366 - _EPOCH: "0000-01-01",  # the year 0 is a leap year of 366 days
            1 - 366 - 365 - _EPOCH + 31: "-0001-02-01"}


@pytest.mark.parametrize("via", ["sql", "python"])
def test_a_count_of_business_days_from_a_date_python_has_none_of_is_a_reject(tmp_path, via):
    # the purchase date starts the check's count of business days: the calendar spans the days
    # counts start from, those the engine gives as no date Python has left out
    import pyarrow.parquet as pq

    lines = (POLICIES / "aputure" / "corpus.jsonl").read_text().splitlines()[:5]
    source, out = tmp_path / "far.parquet", tmp_path / "out.parquet"
    pq.write_table(_far_date_table(lines, "purchase_date", dict(zip((1, 2, 3), FAR_DAYS))), source)
    result = run("replay", APUTURE, source, "--out", out, "--via", via)
    assert result.code == 2 and "Traceback" not in result.both, result.both
    assert "5 requests: 2 decided" in result.err and "3 rejected" in result.err, result.err
    rejects = [json.loads(line) for line in (tmp_path / "out.rejects.jsonl").read_text().splitlines()]
    assert {r["id"]: [(p["path"], p["message"], p["received"]) for p in r["error"]["problems"]] for r in rejects} == {
        n: [("$.order.purchase_date", "a date must be from 1900-01-01 to 2999-12-31", text)]
        for n, text in zip((2, 3, 4), FAR_DAYS.values())}
    policy = load_policy(APUTURE)
    assert outputs_by_key(policy, out, "id") == {n: o for n, o in expected(policy, lines).items() if n in (1, 5)}


@pytest.mark.parametrize("via", ["sql", "python"])
def test_a_key_of_a_date_python_has_none_of_is_kept_as_the_file_holds_it(tmp_path, via, engine="duckdb"):
    # the rows the query hands back carry their keys to the Python path, which names each reject by
    # them; `--via python` writes the key as a DATE of the same day (it was text, or an Arrow error)
    import pyarrow as pa
    import pyarrow.parquet as pq

    lines = (POLICIES / "aputure" / "corpus.jsonl").read_text().splitlines()[:3]
    table = _far_date_table(lines)
    far = pa.array(list(FAR_DAYS), pa.int32()).cast(pa.date32())
    pq.write_table(table.set_column(0, "batch_day", far), tmp_path / "in.parquet")
    out = tmp_path / ("o.parquet" if engine == "duckdb" else "o")
    result = run("replay", APUTURE, tmp_path / "in.parquet", "--key", "batch_day", "--out", out, "--via", via,
                 "--engine", engine)
    assert result.code == 2 and "Traceback" not in result.both, result.both
    assert "3 requests: 2 decided (" + ("2 in SQL, 0 by the Python path" if via == "sql" else "by the Python path") \
        + ")" in result.err
    [reject] = [json.loads(line) for line in (tmp_path / "o.rejects.jsonl").read_text().splitlines()]
    assert reject["batch_day"] == "0000-01-01"  # the second row's delivery date is the far one
    decided = pq.read_table(out)
    assert decided.schema.field("batch_day").type == pa.date32()
    assert sorted(decided.column("batch_day").cast(pa.int32()).to_pylist()) == sorted(list(FAR_DAYS)[::2])


@pytest.mark.parametrize("via", ["sql", "python"])
def test_a_key_of_an_instant_python_has_none_of_is_kept(tmp_path, via):
    # `--via python` refused it: its text (Python has no such datetime) was taken for a key of
    # another type; the SQL path keeps the same instants, as DuckDB's TIMESTAMP WITH TIME ZONE
    import pyarrow as pa
    import pyarrow.parquet as pq

    lines = (POLICIES / "aputure" / "corpus.jsonl").read_text().splitlines()[:3]
    instants = [253402300800 * 10**6 + 1,  # 10000-01-01 00:00:00.000001 UTC
                -62135596800 * 10**6 - 86400 * 10**6 * 366 - 7,  # in the year 0
                1_700_000_000 * 10**6]
    key = pa.array(instants, pa.timestamp("us", tz="+05:30"))  # its text is the zone's local time
    table = _far_date_table(lines, days={0: 20366})  # the first row's own delivery day: no date far off
    pq.write_table(table.set_column(0, "k", key), tmp_path / "in.parquet")
    out = tmp_path / "o.parquet"
    result = run("replay", APUTURE, tmp_path / "in.parquet", "--key", "k", "--out", out, "--via", via)
    assert result.code == 0, result.both
    assert sorted(pq.read_table(out).column("k").cast(pa.int64()).to_pylist()) == sorted(instants)


def test_a_days_text_is_read_back_as_the_days_it_was_written_from():
    # columns._day writes a day Python has none of as ISO 8601 text; _days reads it back (a key's DATE)
    from rplang.replay.columns import _day, _days

    for days in [*FAR_DAYS, 0, -1, *range(-4_000_000, 4_000_000, 997)]:
        day = _day(days)
        assert _days(day if isinstance(day, str) else day.isoformat()) == days
    assert _days("not a date") == "not a date"  # for Arrow to refuse
