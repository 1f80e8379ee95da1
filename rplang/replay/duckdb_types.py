"""Column types as DuckDB names them: the DuckDB type of an Arrow column's type, and whether an
input's column holds exactly the values of a request field's column, so the engine may read it
as it is.

DuckDB reads a Parquet input's types itself (`parquet_columns`), so a run that finds its query
cached checks its input without pyarrow; an Arrow type (a table given to the notebook API, a
Parquet schema as Spark's side reads it) is named in DuckDB's terms first (`duckdb_type`), and
judged by the same rule.
"""
from __future__ import annotations

_INTEGERS = frozenset({"tinyint", "smallint", "integer", "bigint", "utinyint", "usmallint", "uinteger", "ubigint"})


def conforms(actual, expected) -> bool:
    """Whether a column of DuckDB type `actual` holds exactly the values of `expected` (both
    DuckDBPyType): amounts with at most two decimals, any integers, dates, lists, structs of the
    same fields."""
    if expected.id == "decimal":
        if actual.id != "decimal":
            return False
        (precision, scale), (most, most_scale) = (dict(t.children).values() for t in (actual, expected))
        return scale <= most_scale and precision - scale <= most - most_scale
    if expected.id in _INTEGERS:
        return actual.id in _INTEGERS
    if expected.id == "list":
        return actual.id == "list" and conforms(dict(actual.children)["child"], dict(expected.children)["child"])
    if expected.id == "struct":
        if actual.id != "struct":
            return False
        fields, found = dict(expected.children), dict(actual.children)
        return set(found) == set(fields) and all(conforms(t, fields[n]) for n, t in found.items())
    return actual.id == expected.id


def columns_conform(actual: dict, expected: dict) -> bool:
    """Whether columns (name -> DuckDBPyType) hold every field of the request (name -> DuckDB
    type's name), each as it is."""
    import duckdb

    return all(name in actual and conforms(actual[name], duckdb.sqltype(t)) for name, t in expected.items())


def parquet_columns(con, file: str) -> dict:
    """A Parquet file's columns as DuckDB reads them: name -> DuckDBPyType."""
    import duckdb

    from .errors import not_parquet

    try:
        relation = con.read_parquet(file)
    except duckdb.Error as error:
        raise not_parquet(file, error) from None
    return dict(zip(relation.columns, relation.types))


def arrow_conforms(actual, expected) -> bool:
    """`conforms` for Arrow types."""
    import duckdb

    found, wanted = duckdb_type(actual), duckdb_type(expected)
    return found is not None and conforms(duckdb.sqltype(found), duckdb.sqltype(wanted))


def schema_conforms(actual, expected) -> bool:
    """`columns_conform` for Arrow schemas: whether `actual` holds every field of `expected`,
    each as it is."""
    return all(f.name in actual.names and arrow_conforms(actual.field(f.name).type, f.type) for f in expected)


def duckdb_type(t) -> str | None:
    """The DuckDB type of an Arrow type (the name DuckDB reads), or None for one no request or
    decision column has."""
    import pyarrow as pa

    if pa.types.is_list(t) or pa.types.is_large_list(t):
        inner = duckdb_type(t.value_type)
        return inner + "[]" if inner is not None else None
    if pa.types.is_struct(t):
        fields = [(t.field(i).name, duckdb_type(t.field(i).type)) for i in range(t.num_fields)]
        if not fields or any(f is None for _, f in fields):
            return None
        return "STRUCT(" + ", ".join(f'"{n.replace(chr(34), chr(34) * 2)}" {f}' for n, f in fields) + ")"
    if pa.types.is_decimal(t):
        return f"DECIMAL({t.precision}, {t.scale})" if t.precision <= 38 else None
    return {pa.string(): "VARCHAR", pa.large_string(): "VARCHAR", pa.date32(): "DATE", pa.bool_(): "BOOLEAN",
            pa.int8(): "TINYINT", pa.int16(): "SMALLINT", pa.int32(): "INTEGER", pa.int64(): "BIGINT",
            pa.uint8(): "UTINYINT", pa.uint16(): "USMALLINT", pa.uint32(): "UINTEGER",
            pa.uint64(): "UBIGINT"}.get(t)
