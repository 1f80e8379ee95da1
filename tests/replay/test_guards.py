"""A value over lists is computed only on the rows whose readers can use it (rplang/replay/guards.py):
where every reader sits in a conjunction of an element's test whose other terms read only the
element and the request; any other reader leaves it as it is."""
from pathlib import Path

import pytest
from sqlglot import exp, parse_one

from rplang.replay.guards import guard_values
from rplang.replay.lowering import ROW
from rplang.replay.query import PolicyQuery
from rplang.runtime import load_policy

APUTURE = Path(__file__).resolve().parents[2] / "policies" / "aputure.rpl"
FIELDS = ("kind", "items")


VALUE = "LIST_TRANSFORM(LIST_FILTER(rq.items, LAMBDA y : y.paid), LAMBDA z : z.sku)"


def _guarded(readers: str, value: str = VALUE) -> str:
    """The value's SQL, once guarded for a query reading it in `readers` (DuckDB's SQL over `rq`)."""
    first = parse_one(f"SELECT rq.*, {value} AS __value_v FROM t AS {ROW}", dialect="duckdb")
    query = parse_one(f"SELECT {readers} FROM ({first.sql(dialect='duckdb')}) AS rq", dialect="duckdb")
    first = query.find(exp.Subquery).this
    guard_values(first, query, ROW, FIELDS)
    [value] = [e for e in first.expressions if e.alias == "__value_v"]
    return value.this.sql(dialect="duckdb")


def test_a_value_read_only_under_an_elements_test_is_computed_where_some_element_passes_it():
    filtered = _guarded("LIST_FILTER(rq.items, LAMBDA x: (rq.kind = 'return' AND x.free AND "
                        "ARRAY_CONTAINS(rq.__value_v, x.sku)))")
    # the request's own terms tested once, outside the pass over the items
    assert filtered.startswith("CASE WHEN rq.kind = 'return' AND ARRAY_CONTAINS(LIST_TRANSFORM(rq.items, "
                               "LAMBDA x : COALESCE((x.free), FALSE)), TRUE) THEN")
    assert filtered.endswith(f"THEN {VALUE} END")
    of_request = _guarded("LIST_FILTER(rq.items, LAMBDA x: rq.kind = 'return' AND ARRAY_CONTAINS(rq.__value_v, x.sku))")
    assert of_request == f"CASE WHEN rq.kind = 'return' THEN {VALUE} END"
    searched = _guarded("ARRAY_CONTAINS(LIST_TRANSFORM(rq.items, LAMBDA x: COALESCE((x.free AND "
                        "LEN(rq.__value_v) > 0), FALSE)), TRUE)")
    assert searched.startswith("CASE WHEN ARRAY_CONTAINS(LIST_TRANSFORM(rq.items, LAMBDA x : COALESCE((x.free)")


@pytest.mark.parametrize("readers", [
    "rq.__value_v",  # read as it is
    "LIST_FILTER(rq.items, LAMBDA x: NOT (x.free AND ARRAY_CONTAINS(rq.__value_v, x.sku)))",  # under NOT
    "LIST_FILTER(rq.items, LAMBDA x: x.free OR ARRAY_CONTAINS(rq.__value_v, x.sku))",  # under OR
    "LIST_FILTER(rq.items, LAMBDA x: ARRAY_CONTAINS(rq.__value_v, x.sku))",  # no other term
    "LIST_TRANSFORM(rq.items, LAMBDA x: x.free AND ARRAY_CONTAINS(rq.__value_v, x.sku))",  # a list of values
    "ARRAY_CONTAINS(LIST_TRANSFORM(rq.items, LAMBDA x: x.free AND LEN(rq.__value_v) > 0), TRUE)",  # may be NULL
    "LIST_FILTER(rq.items, LAMBDA x: rq.__key = 1 AND ARRAY_CONTAINS(rq.__value_v, x.sku))",  # no request field
    "LIST_FILTER(rq.items, LAMBDA x: LEN(LIST_FILTER(x.marks, LAMBDA m: m = 'a')) > 0 "
    "AND ARRAY_CONTAINS(rq.__value_v, x.sku))",  # a pass of its own
    "LIST_FILTER(rq.items, LAMBDA x: x.free AND ARRAY_CONTAINS(rq.__value_v, x.sku)), rq.__value_v",  # two readers, one bare
])
def test_a_value_with_any_other_reader_is_computed_on_every_row(readers):
    assert _guarded(readers) == VALUE


def test_a_value_of_one_pass_is_computed_on_every_row():
    """The test's pass would cost what the value's costs, where some element passes it."""
    one = "LIST_FILTER(rq.items, LAMBDA y : y.paid)"
    assert _guarded("LIST_FILTER(rq.items, LAMBDA x: x.free AND ARRAY_CONTAINS(rq.__value_v, x.sku))", one) == one


def test_aputures_paid_skus_are_listed_only_where_a_free_item_may_be_kept():
    """Its query guards `returned_paid_skus` (its decisions, `free_item_kept` among them, are the
    runtime's: test_duckdb.py)."""
    compiled = load_policy(APUTURE)
    query = PolicyQuery(compiled, {}, "v", "h").select("rpl_input")
    [value] = [e for e in query.find_all(exp.Alias) if e.alias == "__value_returned_paid_skus"]
    assert isinstance(value.this, exp.Case)
