"""`rpl replay --explain-sql`: the query a policy compiles to, in DuckDB's and Spark's dialects."""
from __future__ import annotations

from pathlib import Path

import pytest

from ..cli.conftest import run

SMALL = Path(__file__).parent / "small.rpl"


@pytest.mark.parametrize("engine", ["duckdb", "spark"])
def test_the_query_of_a_small_policy(engine, snapshot):
    result = run("replay", SMALL, "unused.parquet", "--explain-sql", "--engine", engine)
    assert result.code == 0, result.both
    assert result.out == snapshot


def test_the_query_parses_in_both_dialects():
    import sqlglot

    for engine in ("duckdb", "spark"):
        text = run("replay", SMALL, "unused.parquet", "--explain-sql", "--engine", engine).out
        assert sqlglot.parse_one(text, read=engine).find(sqlglot.exp.Select) is not None
