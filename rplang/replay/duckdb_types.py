"""Column types as DuckDB names them: the DuckDB type of an Arrow column's type, and whether an
input's column holds exactly the values of a request field's column, so the engine may read it
as it is.

DuckDB reads a Parquet input's types itself (`parquet_columns`), so a run that finds its query
cached checks its input without pyarrow; an Arrow schema (a table given to the notebook API, a
Parquet schema as Spark's side reads it) is read by DuckDB too (`arrow_columns`), and judged by
the same rule. `mismatches` walks two types side by side for any rule: `conforms`' here, the
request reader's in input_types.py.
"""
from __future__ import annotations

INTEGERS = frozenset({"tinyint", "smallint", "integer", "bigint", "utinyint", "usmallint", "uinteger", "ubigint"})


def mismatches(actual, expected, holds, path: tuple = ()):
    """Where a column of DuckDB type `actual` differs from `expected` (both DuckDBPyType), as
    (path, actual, expected): the test `holds(actual, expected)` is asked of every pair of
    types met, whole columns first; where it passes, the elements of two lists (a path's "[]")
    and the fields of two structs are compared in turn. A field of `expected` that `actual`
    lacks is (path, None, its type); one that `expected` lacks, (path, its type, None)."""
    if not holds(actual, expected):
        yield path, actual, expected
    elif expected.id == "list" and actual.id in ("list", "array"):
        yield from mismatches(dict(actual.children)["child"], dict(expected.children)["child"], holds, path + ("[]",))
    elif expected.id == "struct" and actual.id == "struct":
        fields, found = dict(expected.children), dict(actual.children)
        for name, t in found.items():
            if name in fields:
                yield from mismatches(t, fields[name], holds, path + (name,))
            else:
                yield path + (name,), t, None
        yield from ((path + (name,), None, t) for name, t in fields.items() if name not in found)


def conforms(actual, expected) -> bool:
    """Whether a column of DuckDB type `actual` holds exactly the values of `expected` (both
    DuckDBPyType): amounts with at most two decimals, any integers, dates, lists, structs of the
    same fields."""
    return next(mismatches(actual, expected, _exactly), None) is None


def _exactly(actual, expected) -> bool:
    if expected.id == "decimal":
        if actual.id != "decimal":
            return False
        (precision, scale), (most, most_scale) = (dict(t.children).values() for t in (actual, expected))
        return scale <= most_scale and precision - scale <= most - most_scale
    if expected.id in INTEGERS:
        return actual.id in INTEGERS
    return actual.id == expected.id


def same_kind(actual, expected) -> bool:
    """Whether two files' columns of DuckDB types `actual` and `expected` hold values of one kind:
    the same type, or integers of any width, or amounts of any scale, or floating numbers of
    either width (DuckDB reads files of both as the widest, `union_by_name`)."""
    if str(actual) == str(expected):
        return True
    return any(actual.id in kind and expected.id in kind for kind in (INTEGERS, {"decimal"}, {"float", "double"}))


def columns_conform(actual: dict, expected: dict, con=None) -> bool:
    """Whether columns (name -> DuckDBPyType) hold every field of the request (name -> DuckDB
    type's name), each as it is; the types read by `con`, where given (DuckDB's module-level
    functions would start a second database for them)."""
    import duckdb

    return all(name in actual and conforms(actual[name], (con or duckdb).sqltype(t)) for name, t in expected.items())


def described(columns: dict) -> tuple[tuple[str, str], ...]:
    """Columns (name -> DuckDBPyType) as their names and types' texts: the same for two files of
    the same columns, which a check need judge only once."""
    return tuple((name, str(t)) for name, t in columns.items())


def parquet_columns(con, file: str) -> dict:
    """A Parquet file's columns as DuckDB reads them: name -> DuckDBPyType (their names are
    `check_parquet_names`')."""
    import duckdb

    from .errors import not_parquet

    try:
        relation = con.read_parquet(file)
    except duckdb.Error as error:
        raise not_parquet(file, error) from None
    return dict(zip(relation.columns, relation.types))


_SCHEMA = "SELECT {}name, num_children, precision, scale FROM parquet_schema(?)"


def check_parquet_names(con, files: list[str]) -> None:
    """`check_names` of each Parquet file (each read by `parquet_columns` before), their footers'
    schemas listed by one query: a query per file cost more than reading its footer."""
    schemas: dict[str, list] = {}
    for file, *row in con.execute(_SCHEMA.format("file_name, "), [files]).fetchall():
        schemas.setdefault(file, []).append(row)
    for file in files:  # a file listed under another name than given is asked for alone
        check_names(schemas.get(file) or con.execute(_SCHEMA.format(""), [file]).fetchall(), file)


_ASCII_LOWER = str.maketrans("ABCDEFGHIJKLMNOPQRSTUVWXYZ", "abcdefghijklmnopqrstuvwxyz")


def folded(name: str) -> str:
    """A name as DuckDB compares names: its ASCII letters without case (`ID` is `id`; `É` and `é`,
    `ß` and `SS` are names apart)."""
    return name.translate(_ASCII_LOWER)


def check_names(schema: list, file: str) -> None:
    """A table's names (`schema`: its (name, number of children[, a decimal's precision and
    scale]) in depth-first order, as `parquet_schema` lists a Parquet file's, `arrow_names` an
    Arrow table's) as DuckDB reads them: its names are blind to case, and it reads `ID` beside
    `id` as `ID_1`, a column without a name as `C2`, which no error should name. And a DECIMAL
    of more than 38 digits, which DuckDB reads as a DOUBLE, rounded: distinct keys read as one,
    an amount said to be a DOUBLE, a text's digits as `1e+40`."""
    from .errors import ReplayError

    def siblings(at: int, count: int, column: str | None) -> int:
        seen: dict[str, str] = {}
        what, of = ("columns", "") if column is None else ("fields", f" of its column `{column}`")
        for place in range(1, count + 1):
            name, children, *decimal = schema[at]
            if decimal and decimal[0] is not None and decimal[0] > 38:
                where = f"`{name}`" if column is None else f"`{name}`{of}"
                raise ReplayError(f"{file}: {where} is DECIMAL({decimal[0]}, {decimal[1]}), past the 38 digits "
                                  "DuckDB's decimals hold, which it would read as a DOUBLE, rounded; export it "
                                  f"as CAST({name} AS DECIMAL(38, {min(decimal[1], 38)})) if it fits, else as text")
            if name == "":
                where = f"its column {place}" if column is None else f"a field{of}"
                raise ReplayError(f"{file}: {where} has no name; name it in the input")
            if name in seen:
                raise ReplayError(f"{file}: the {what[:-1]} `{name}`{of} twice; rename one in the input")
            if folded(name) in seen:
                raise ReplayError(f"{file}: the {what} `{seen[folded(name)]}` and `{name}`{of} differ only in case, "
                                  "which DuckDB's names do not tell apart; rename one in the input")
            seen[folded(name)] = name
            at = siblings(at + 1, children or 0, column or name)
        return at
    siblings(1, schema[0][1] or 0, None)


def arrow_names(schema) -> list:
    """An Arrow schema's names as `parquet_schema` lists a Parquet file's, for `check_names`."""
    import pyarrow as pa

    def field(f) -> list:
        t = f.type
        children = ([t.field(i) for i in range(t.num_fields)] if pa.types.is_struct(t) or pa.types.is_map(t)
                    else [t.value_field] if hasattr(t, "value_field") else [])
        return [(f.name, len(children) or None)] + [row for c in children for row in field(c)]
    return [("schema", len(schema))] + [row for f in schema for row in field(f)]


def files_columns(files, con=None) -> dict:
    """Each Parquet file's columns (file -> `parquet_columns`, their names checked), read by `con`
    or a connection of their own; a file of a cluster's store (a URI, which DuckDB does not read here) from its
    footer's Arrow schema, read through Spark (uris.py), as the engine then reads the file."""
    import duckdb

    from .uris import is_uri

    con = con or duckdb.connect()
    columns = {file: uri_columns(file) if is_uri(file) else parquet_columns(con, file) for file in files}
    local = [file for file in files if not is_uri(file)]
    if local:
        check_parquet_names(con, local)
    return columns


def uri_columns(uri: str) -> dict:
    """A Parquet file of a cluster's store's columns, as `parquet_columns` names them."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    from .errors import not_parquet
    from .uris import open_file

    with open_file(uri) as stream:
        try:
            schema = pq.read_schema(stream)
        except (pa.ArrowException, OSError) as error:
            raise not_parquet(uri, error) from None
    check_names(arrow_names(schema), uri)  # as a local file's (Spark's names are blind to case too)
    return arrow_columns(schema)


def arrow_columns(schema) -> dict:
    """An Arrow schema's columns as DuckDB reads them (name -> DuckDBPyType): a table given to
    the notebook API, a Parquet schema as Spark's side reads it. A column of a type DuckDB does
    not read (a 16-bit float, a 256-bit decimal) is left out: no rule judges it, and its rows are
    read one by one."""
    import duckdb
    import pyarrow as pa

    con = duckdb.connect()
    try:
        relation = con.from_arrow(schema.empty_table())
        return dict(zip(relation.columns, relation.types))
    except duckdb.Error:
        pass
    found = {}
    for field in schema:
        try:
            found[field.name] = con.from_arrow(pa.schema([field]).empty_table()).types[0]
        except duckdb.Error:
            continue
    return found


def schema_conforms(actual, expected) -> bool:
    """`columns_conform` for Arrow schemas: whether `actual` holds every field of `expected`,
    each as it is."""
    return columns_conform(arrow_columns(actual), {f.name: duckdb_type(f.type) for f in expected})


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
