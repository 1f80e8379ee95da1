"""A typed input's column of a type that can never hold its field's values (money as a DOUBLE, a
date as a TIMESTAMP, a yes/no as text) is refused before any row is read, with one error naming
every such column, nested fields and list elements too; a type that holds some values (money as
text) is still read, each row checked as it is read (rplang/replay/input_types.py)."""
from __future__ import annotations

import datetime
import json
from decimal import Decimal
from pathlib import Path

import duckdb
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from rplang.replay.api import decide, write_requests
from rplang.replay.columns import python_values, to_request
from rplang.replay.errors import ReplayError
from rplang.replay.input_types import check_types, column_problems
from rplang.replay.run import Replay
from rplang.replay.sources import Source
from rplang.runtime import load_policy, load_policy_text

from ..cli.conftest import run
from ..conftest import APUTURE, ROOT

SMALL = Path(__file__).with_name("small.rpl")

# the Aputure export with its amounts as DOUBLE, as a careless export writes them
AS_DOUBLE = ("SELECT id, request_date, kind, received_date, "
             "struct_update(r.\"order\", shipping_paid := r.\"order\".shipping_paid::DOUBLE) AS \"order\", "
             "list_transform(items, lambda x: struct_update(x, price := x.price::DOUBLE)) AS items FROM '{}' r")

DOUBLE_MONEY = """\
error: {file}: 2 columns of a type that can never hold its field's values; no row was read:
  `order.shipping_paid` is DOUBLE, and money must be a DECIMAL of any scale (places past the second are zeros) \
or text like "12.50": export it as CAST(shipping_paid AS DECIMAL(18,2)) (money is exact: a DOUBLE is never \
rounded silently)
  `items[].price` is DOUBLE, and money must be a DECIMAL of any scale (places past the second are zeros) \
or text like "12.50": export it as CAST(price AS DECIMAL(18,2)) (money is exact: a DOUBLE is never rounded \
silently)
"""


@pytest.fixture(scope="module")
def as_double(aputure_parquet, tmp_path_factory):
    """The first hundred Aputure requests, money as DOUBLE."""
    path = tmp_path_factory.mktemp("double") / "double.parquet"
    duckdb.sql(f"COPY ({AS_DOUBLE.format(aputure_parquet)} LIMIT 100) TO '{path}'")
    return path


def request_types(policy_path) -> dict[str, str]:
    return Replay(load_policy(policy_path), "", Source((), "parquet")).request_types


@pytest.mark.parametrize(("engine", "via"), [("duckdb", "sql"), ("duckdb", "python"), ("spark", "sql")])
def test_money_as_double_is_one_error_before_any_row_or_file(as_double, engine, via, tmp_path):
    out, rejects = tmp_path / "o.parquet", tmp_path / "o.rejects.jsonl"
    rejects.write_text("an earlier run's rejects\n")
    result = run("replay", APUTURE, as_double, "--out", out, "--engine", engine, "--via", via)
    assert (result.code, result.err) == (64, DOUBLE_MONEY.format(file=as_double))
    assert not out.exists() and rejects.read_text() == "an earlier run's rejects\n"


def test_the_docs_show_the_error_as_it_is():
    assert "$ rpl replay policies/aputure.rpl double.parquet\n" + DOUBLE_MONEY.format(file="double.parquet") \
        in (ROOT / "docs" / "replay.md").read_text(encoding="utf-8")


def test_a_run_whose_query_was_kept_checks_the_types_it_kept(aputure_parquet, as_double, monkeypatch, tmp_path):
    # the first run keeps the policy's plan and request types (plans.py); the second starts from them
    monkeypatch.setenv("RPL_CACHE_DIR", str(tmp_path / "cache"))
    assert run("replay", APUTURE, aputure_parquet, "--out", tmp_path / "first.parquet").code == 0
    result = run("replay", APUTURE, as_double, "--out", tmp_path / "o.parquet")
    assert (result.code, result.err) == (64, DOUBLE_MONEY.format(file=as_double))


def test_every_file_of_a_folder_is_checked_and_each_column_named_once(aputure_parquet, as_double, tmp_path):
    folder = tmp_path / "in"
    folder.mkdir()
    pq.write_table(pq.read_table(aputure_parquet).slice(0, 5), folder / "a.parquet")
    for name in ("b", "c"):
        (folder / f"{name}.parquet").write_bytes(as_double.read_bytes())
    table = pq.read_table(aputure_parquet).slice(0, 5)
    pq.write_table(table.set_column(1, "request_date", table.column("request_date").cast(pa.timestamp("us"))),
                   folder / "d.parquet")
    result = run("replay", APUTURE, folder, "--out", tmp_path / "o.parquet")
    assert result.code == 64
    b, d = folder / "b.parquet", folder / "d.parquet"
    assert result.err.splitlines() == [
        "error: 3 files of the input: 3 columns of a type that can never hold its field's values; no row was read:",
        "  `order.shipping_paid` is DOUBLE, and money must be a DECIMAL of any scale (places past the second are zeros) "
        "or text like \"12.50\": export it as CAST(shipping_paid AS DECIMAL(18,2)) (money is exact: a DOUBLE is never "
        f"rounded silently) (in {b} and 1 more)",
        "  `items[].price` is DOUBLE, and money must be a DECIMAL of any scale (places past the second are zeros) "
        "or text like \"12.50\": export it as CAST(price AS DECIMAL(18,2)) (money is exact: a DOUBLE is never "
        f"rounded silently) (in {b} and 1 more)",
        "  `request_date` is TIMESTAMP, and a date must be a DATE or text like \"2026-03-01\": export it as "
        f"CAST(request_date AS DATE) (in {d})"]


def test_the_old_policy_of_compare_checks_its_own_request(aputure_parquet, tmp_path):
    # OLD reads `order.currency` as a yes/no: no column of text ever holds one
    old = tmp_path / "old.rpl"
    old.write_text(APUTURE.read_text().replace("  currency:           text", "  currency:           boolean")
                   .replace("currency by order.currency\n", ""))
    source = tmp_path / "in.parquet"
    pq.write_table(pq.read_table(aputure_parquet).slice(0, 5), source)
    result = run("replay", APUTURE, source, "--compare", old, "--out", tmp_path / "o.parquet")
    assert result.code == 64 and not (tmp_path / "o.parquet").exists()
    assert result.err == (f"error: {old}: {source}: 1 column of a type that can never hold its field's values; "
                          "no row was read:\n  `order.currency` is VARCHAR, and true or false must be a BOOLEAN: "
                          "export it as CAST(currency AS BOOLEAN)\n")


@pytest.mark.parametrize("via", ["sql", "python"])
def test_money_as_text_is_still_read_row_by_row(aputure_parquet, via, tmp_path):
    table = pq.read_table(aputure_parquet).slice(0, 3)
    order = table.column("order").combine_chunks()
    paid = [f"{v:f}" for v in order.field("shipping_paid").to_pylist()]
    paid[1] = "12.505"
    fields = [order.field(i) if order.type.field(i).name != "shipping_paid" else pa.array(paid)
              for i in range(order.type.num_fields)]
    names = [order.type.field(i).name for i in range(order.type.num_fields)]
    source = tmp_path / "in.parquet"
    pq.write_table(table.set_column(table.schema.get_field_index("order"), "order",
                                    pa.StructArray.from_arrays(fields, names=names)), source)
    result = run("replay", APUTURE, source, "--out", tmp_path / "o.parquet", "--via", via)
    assert result.code == 2 and "3 requests: 2 decided" in result.err, result.both
    [reject] = [json.loads(line) for line in (tmp_path / "o.rejects.jsonl").read_text().splitlines()]
    assert reject["error"]["problems"][0]["path"] == "$.order.shipping_paid"


@pytest.mark.parametrize(("column", "t", "problem"), [
    ("items", "VARCHAR", "`items` is VARCHAR, and a list must be a LIST (or ARRAY): "
                         "export it as CAST(items AS STRUCT(price DECIMAL(18,2), opened BOOLEAN)[])"),
    ("items", "INTEGER[]", "`items[]` is INTEGER, and a record must be a STRUCT of its fields (price, opened): "
                           "export it as CAST(items AS STRUCT(price DECIMAL(18,2), opened BOOLEAN)[])"),
    ("items", "STRUCT(price BIGINT, opened BOOLEAN)[]",
     "`items[].price` is BIGINT, and money must be a DECIMAL of any scale (places past the second are zeros) or "
     "text like \"12.50\": export it as CAST(price AS DECIMAL(18,2)) (or price / 100, if it counts cents)"),
    ("items", "STRUCT(price DECIMAL(18,2), opened VARCHAR)[]",
     "`items[].opened` is VARCHAR, and true or false must be a BOOLEAN: export it as CAST(opened AS BOOLEAN)"),
    ("items", "STRUCT(prize DECIMAL(18,2), opened BOOLEAN)[]",
     "`items[].prize` is no field of the record `items[]` (did you mean `price`?): rename it, or leave it out of "
     "the export"),
    ("items", "STRUCT(price DECIMAL(18,2), opened BOOLEAN, note VARCHAR)[]",
     "`items[].note` is no field of the record `items[]`: leave it out of the export"),
    ("request_date", "TIMESTAMP WITH TIME ZONE", "`request_date` is TIMESTAMP WITH TIME ZONE, and a date must be a "
                                                 "DATE or text like \"2026-03-01\": export it as CAST(request_date AS DATE)"),
    ("delivery_date", "FLOAT", "`delivery_date` is FLOAT, and a date must be a DATE or text like \"2026-03-01\": "
                               "export it as CAST(delivery_date AS DATE)"),
])
def test_the_problem_of_each_column(column, t, problem):
    assert column_problems({column: duckdb.sqltype(t)}, request_types(SMALL)) == [problem]


def test_an_element_of_a_list_within_a_list_is_cast_as_its_list():
    items = request_types(APUTURE)["items"].replace('"marks" VARCHAR[]', '"marks" INTEGER[]')
    assert column_problems({"items": duckdb.sqltype(items)}, request_types(APUTURE)) == [
        "`items[].marks[]` is INTEGER, and text must be a VARCHAR (or a DECIMAL, DATE or TIMESTAMP, read as its "
        "text): export it as CAST(marks AS VARCHAR[])"]


@pytest.mark.parametrize(("column", "t"), [
    ("items", "STRUCT(price DECIMAL(38,10), opened BOOLEAN)[]"),  # places past the second zeros, value by value
    ("items", "STRUCT(opened BOOLEAN, price VARCHAR)[3]"),  # text amounts, an ARRAY, fields in any order
    ("items", "STRUCT(opened BOOLEAN)[]"),  # a field left out: the reader says so of each row, if it must be given
    ("items", '"NULL"'), ("request_date", '"NULL"'),  # nothing but NULLs: fields left out
    ("request_date", "VARCHAR"), ("note", "DOUBLE"),  # a column no field of the request is not judged here
])
def test_a_column_that_may_hold_some_of_its_fields_values_is_read(column, t):
    assert column_problems({column: duckdb.sqltype(t)}, request_types(SMALL)) == []


PROBE = """\
policy "Every scalar"
version "1"
currency USD

enum Kind: a, b

request:
  m: optional money
  p: optional percent
  d: optional date
  i: optional integer
  b: optional boolean
  t: optional text
  k: optional Kind

outcomes:
  approve "OK"

rule ok:
  when true
  then approve
  because "ok"

output outcome
"""

TEXTS = ["12.50", "15%", "2026-03-01", "true", "a", "12"]
SAMPLES = {  # Arrow columns, each with values the reader reads as some field if any can be
    "decimal": pa.array([Decimal("12.50"), Decimal("12")], pa.decimal128(38, 10)),
    "double": pa.array([12.5, 12.0, 0.0]), "float": pa.array([12.5], pa.float32()),
    "int": pa.array([12, 0]), "uint8": pa.array([1], pa.uint8()),
    "text": pa.array(TEXTS), "dictionary": pa.array(TEXTS).dictionary_encode(),
    "date": pa.array([datetime.date(2026, 3, 1)]),
    "timestamp": pa.array([datetime.datetime(2026, 3, 1)], pa.timestamp("us")),
    "timestamp_tz": pa.array([datetime.datetime(2026, 3, 1)], pa.timestamp("ns", "UTC")),
    "boolean": pa.array([True, False]), "time": pa.array([datetime.time(1, 2)], pa.time64("us")),
    "binary": pa.array([b"12.50"]), "list": pa.array([["a"], []]), "struct": pa.array([{"x": "a"}]),
    "duration": pa.array([1], pa.duration("s")), "null": pa.nulls(2),
}


@pytest.mark.parametrize("sample", SAMPLES)
def test_a_type_is_refused_up_front_exactly_when_the_reader_reads_none_of_its_values(sample):
    """The rule of input_types.py against the reader itself: for each field's type, a column type
    the check refuses has no value the reader reads (as the typed paths give it: to_request), and
    one it lets through has (among a sample of the values that can be)."""
    policy = load_policy_text(PROBE, "probe.rpl")
    expected = Replay(policy, PROBE, Source((), "parquet")).request_types
    values = SAMPLES[sample]
    for field in expected:
        column = pa.table({field: values})

        def reads(row) -> bool:
            try:
                policy.read_request(to_request(row))
            except Exception:  # noqa: BLE001 (the reader's RequestError)
                return False
            return True
        some = any(reads(row) for row in python_values(column))
        found = duckdb.from_arrow(column.schema.empty_table()).types[0]
        let_through = column_problems({field: found}, expected) == []
        # an enum's column is text's (VARCHAR) to the check: a DECIMAL's or a DATE's text, which
        # names no member, is refused row by row
        assert let_through is some or (field == "k" and let_through), (sample, field)


def test_check_types_lists_every_problem_of_every_input():
    expected = request_types(SMALL)
    with pytest.raises(ReplayError) as raised:
        check_types({"the table": {"request_date": duckdb.sqltype("BOOLEAN"),
                                   "items": duckdb.sqltype("STRUCT(price DOUBLE, opened VARCHAR)[]")}}, expected)
    assert str(raised.value).splitlines()[0] == ("the table: 3 columns of a type that can never hold its field's "
                                                 "values; no row was read:")
    assert [line.split(" is ")[0] for line in str(raised.value).splitlines()[1:]] == [
        "  `request_date`", "  `items[].price`", "  `items[].opened`"]


def test_write_requests_checks_a_parquet_inputs_types(as_double, tmp_path):
    text = APUTURE.read_text()
    with pytest.raises(ReplayError) as raised:
        write_requests(load_policy(APUTURE), text, str(as_double), str(tmp_path / "o.parquet"), ("id",))
    assert "error: " + str(raised.value) + "\n" == DOUBLE_MONEY.format(file=as_double)
    assert not (tmp_path / "o.parquet").exists()


@pytest.mark.parametrize("kind", ["arrow", "duckdb", "pandas", "polars"])
@pytest.mark.parametrize("via", ["sql", "python"])
def test_the_notebook_api_refuses_the_table_with_the_same_error(requests_table, kind, via):
    table = duckdb.sql(AS_DOUBLE.format("requests_table").replace("'requests_table'", "requests_table")) \
        .to_arrow_table()
    data = {"arrow": lambda: table, "duckdb": lambda: duckdb.from_arrow(table),
            "pandas": lambda: pytest.importorskip("pandas") and table.to_pandas(),
            "polars": lambda: pytest.importorskip("polars").from_arrow(table)}[kind]()
    with pytest.raises(ReplayError) as raised:
        decide(APUTURE, data, via=via)
    assert "error: " + str(raised.value) + "\n" == DOUBLE_MONEY.format(file="the table")
