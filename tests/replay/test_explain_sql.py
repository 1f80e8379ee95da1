"""`rpl replay --explain-sql`: the query a policy compiles to, in DuckDB's and Spark's dialects."""
from __future__ import annotations

from pathlib import Path

import pytest

from ..cli.conftest import run

SMALL = Path(__file__).parent / "small.rpl"
PER_ITEM = Path(__file__).parent / "per_item.rpl"  # outcomes decided item by item, a table


@pytest.mark.parametrize("engine", ["duckdb", "spark"])
@pytest.mark.parametrize("path", [SMALL, PER_ITEM], ids=["small", "per_item"])
def test_the_query_of_a_policy(path, engine, snapshot):
    result = run("replay", path, "unused.parquet", "--explain-sql", "--engine", engine)
    assert result.code == 0, result.both
    assert result.out == snapshot


def test_the_query_parses_in_both_dialects():
    import sqlglot

    for engine in ("duckdb", "spark"):
        text = run("replay", SMALL, "unused.parquet", "--explain-sql", "--engine", engine).out
        assert sqlglot.parse_one(text, read=engine).find(sqlglot.exp.Select) is not None


APUTURE = Path(__file__).parents[2] / "policies" / "aputure.rpl"


def aputure_query() -> str:
    result = run("replay", APUTURE, "unused.parquet", "--explain-sql")
    assert result.code == 0, result.both
    return result.out


def test_a_value_over_a_list_is_built_once_per_request():
    # `returned_paid_skus` is read by `free_item_kept` for each item: built in the first layer,
    # not again per item and per effect
    text = aputure_query()
    assert text.count('AS "__value_returned_paid_skus"') == 1
    assert '"rq"."__value_returned_paid_skus"' in text
    # the elements each rule over a list applies to are kept once, then counted and summed; the
    # amount it adds to free_items_deduction and subtracts from refund is summed once
    assert text.count('AS "__kept7"') == 1
    assert text.count('"rq"."__kept7"') == 2
    # a rule without amounts keeps no elements: whether it applies to some is a list of booleans searched
    assert 'AS "__kept2"' not in text and text.count('AS "__some2"') == 1


def test_a_field_given_when_a_flag_holds_is_read_unguarded_where_the_flag_is_tested():
    # `returned_items` keeps the items where `item.returned`: a rule over them reads
    # `item.damage_cause` (given `when returned`) without the guard, and cannot meet a NULL there
    text = aputure_query()
    some = text[text.index('AS "__some2"'):text.index('AS "__some3"')]
    assert 'THEN NULL' not in some and "WHEN" not in some
    assert "ARRAY_CONTAINS(['fire', 'flood', 'high_wind', 'lightning'], _rpl_x" in some
    assert '."damage_cause")' in some


@pytest.mark.parametrize("engine", ["duckdb", "spark"])
def test_the_items_and_their_outcomes_are_computed_once_per_request(engine):
    # the items with their rules' tests, then their outcomes, then what counts for the request
    text = run("replay", PER_ITEM, "unused.parquet", "--explain-sql", "--engine", engine).out
    quote = "`" if engine == "spark" else '"'
    for column in ("__items", "__wide_rank", "__item_outcome"):
        assert text.count(f"AS {quote}{column}{quote}") == 1
