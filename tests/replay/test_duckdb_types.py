"""Whether an input's column may be read as a request field's column as it is (duckdb_types.py):
one rule over DuckDB's types, for a Parquet file as DuckDB reads it and an Arrow type alike."""
from __future__ import annotations

import duckdb
import pyarrow as pa
import pytest

from rplang.replay.duckdb_types import conforms, duckdb_type, schema_conforms

MONEY = pa.decimal128(18, 2)


@pytest.mark.parametrize(("actual", "expected", "reads"), [
    ("DECIMAL(10,2)", "DECIMAL(18,2)", True),  # fewer digits: every value fits
    ("DECIMAL(18,3)", "DECIMAL(18,2)", False),  # a third decimal
    ("DECIMAL(19,2)", "DECIMAL(18,2)", False),  # more whole digits
    ("INTEGER", "BIGINT", True), ("UBIGINT", "BIGINT", True), ("DOUBLE", "DECIMAL(18,2)", False),
    ("VARCHAR", "VARCHAR", True), ("BLOB", "VARCHAR", False), ("TIMESTAMP", "DATE", False), ("DATE", "DATE", True),
    ("SMALLINT[]", "BIGINT[]", True), ("INTEGER[3]", "BIGINT[]", False),
    ('STRUCT(b VARCHAR, a TINYINT)', 'STRUCT(a BIGINT, b VARCHAR)', True),  # fields in any order
    ('STRUCT(a TINYINT)', 'STRUCT(a BIGINT, b VARCHAR)', False),  # a field missing
    ('STRUCT(a TINYINT, b VARCHAR, c DATE)', 'STRUCT(a BIGINT, b VARCHAR)', False),  # one too many
    ('STRUCT(price DECIMAL(18,3))[]', 'STRUCT(price DECIMAL(18,2))[]', False),  # deep inside
])
def test_a_column_is_read_as_it_is_only_when_it_holds_exactly_the_fields_values(actual, expected, reads):
    assert conforms(duckdb.sqltype(actual), duckdb.sqltype(expected)) is reads


@pytest.mark.parametrize(("actual", "expected", "reads"), [
    (pa.decimal128(10, 2), MONEY, True), (pa.decimal128(18, 3), MONEY, False), (pa.int32(), pa.int64(), True),
    (pa.uint64(), pa.int64(), True), (pa.large_string(), pa.string(), True),
    (pa.dictionary(pa.int32(), pa.string()), pa.string(), True), (pa.date64(), pa.date32(), True),  # as DuckDB reads them
    (pa.float16(), MONEY, False),  # a type DuckDB does not read: no column it may read as it is
    (pa.timestamp("ms"), pa.date32(), False), (pa.null(), pa.int64(), False), (pa.float64(), MONEY, False),
    (pa.large_list(pa.int8()), pa.list_(pa.int64()), True),
    (pa.struct([("a", pa.int8()), ("b", pa.string())]), pa.struct([("b", pa.string()), ("a", pa.int64())]), True),
    (pa.struct([("a", pa.int8())]), pa.struct([("b", pa.string()), ("a", pa.int64())]), False),
])
def test_an_arrow_type_is_judged_by_the_same_rule(actual, expected, reads):
    assert schema_conforms(pa.schema([("c", actual)]), pa.schema([("c", expected)])) is reads


def test_a_field_name_duckdb_would_read_otherwise_is_quoted():
    t = pa.struct([('unit "a" price', pa.list_(MONEY))])
    assert dict(duckdb.sqltype(duckdb_type(t)).children) == {'unit "a" price': duckdb.sqltype("DECIMAL(18,2)[]")}
