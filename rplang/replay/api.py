"""The replay from Python, for notebooks and scripts: files, and tables of the engines' own kinds."""
from __future__ import annotations

import os

import pyarrow as pa
import pyarrow.parquet as pq

from .columns import decision_names
from .errors import ReplayError
from .rows import typed_batches
from .run import Counts, RejectsFile, Replay, check_outputs, outputs_written
from .sources import check_key_names, choose_keys, resolve


def write_requests(compiled, text: str, input_spec: str | os.PathLike, out: str | os.PathLike,
                   keys: tuple[str, ...] = (), rejects: str | os.PathLike | None = None) -> Counts:
    """Requests (JSON lines, CSV or Parquet) as typed Parquet, each read by the request reader:
    the export `rpl replay` reads in place. Refused rows go to `rejects` (else are counted). Each
    file named by a text or a path (`pathlib.Path`)."""
    input_spec, out = os.fspath(input_spec), os.fspath(out)
    rejects = os.fspath(rejects) if rejects is not None else None
    counts = Counts()
    job = Replay(compiled, text, resolve(input_spec), _names(keys))
    if keys:  # each a column of the input, none a field of the request (else every row was refused)
        from .run import input_keys

        input_keys(job, decided=False)
    elif job.source.format == "parquet":  # a column no row of which the reader reads: said now, once
        from .duckdb_types import files_columns
        from .input_types import check_types
        from .sources import check_columns

        files = files_columns(job.source.files)
        for file, columns in files.items():  # a key left out (`id`) made every row a reject, counted only
            check_columns(list(columns), (), job.request_fields, file, job.source.files[0])
        check_types(files, job.request_types)
    # as rpl replay's OUT and rejects: never a file of the input (written, it was lost), in a folder
    # that is there; each put in place when every row is written, an earlier file left as it was if not
    check_outputs(job.source, out, rejects, out_is_folder=False, options=("out", "rejects"))
    refused = RejectsFile(rejects)
    writer = None
    with outputs_written(out, refused) as written:
        try:
            for batch in typed_batches(job, keys, refused, counts):
                writer = writer or pq.ParquetWriter(written, batch.schema)
                writer.write_table(pa.Table.from_batches([batch]))
        finally:
            if writer is not None:
                writer.close()
    counts.rejected = refused.count
    return counts


# ---- Tables of the engines' own kinds ---------------------------------------------------------

class _Collected:
    """Rejects kept in memory, for a table of decisions that shows them beside the decided rows."""

    def __init__(self):
        self.rows, self.count = [], 0

    def write(self, rejects: list[dict]) -> None:
        self.rows += rejects
        self.count += len(rejects)


def decide(policy_path, data, keys: tuple[str, ...] | None = None, via: str = "sql", spark=None):
    """Decide every row of `data` under the policy at `policy_path`: a pyarrow Table, a DuckDB
    relation, a pandas or Polars DataFrame, or a Spark DataFrame; a table of the same kind comes
    back: the key columns, every output, `rules_applied`, `policy_version`, `policy_hash`, and
    `error` (the problems of a row the policy refuses, as `rpl eval` reports them, in JSON).

    `keys`: the columns to keep (default: every column that is not a field of the request)."""
    from rplang.policy_lang.source_text import read_policy_file
    from rplang.runtime import load_policy_text

    if via not in ("sql", "python"):  # anything else was the Python path, said nowhere
        raise ValueError(f"via is 'sql' or 'python', not {via!r}")
    text = read_policy_file(policy_path)
    compiled = load_policy_text(text, str(policy_path), cache=True)
    kind = type(data).__module__.split(".")[0]
    if kind == "pyspark":
        return _decide_spark(compiled, text, data, keys, via, spark)
    if kind == "duckdb":
        import duckdb

        return duckdb.from_arrow(decide_arrow(compiled, text, data.to_arrow_table(), keys, via))
    if kind == "pandas":
        return decide_arrow(compiled, text, _from_pandas(data, compiled), keys, via).to_pandas()
    if kind == "polars":
        import polars

        if isinstance(data, polars.LazyFrame):
            table = _from_polars(data.collect(), keys, compiled)
            return polars.from_arrow(decide_arrow(compiled, text, table, keys, via)).lazy()
        return polars.from_arrow(decide_arrow(compiled, text, _from_polars(data, keys, compiled), keys, via))
    if isinstance(data, pa.Table):
        return decide_arrow(compiled, text, data, keys, via)
    raise TypeError(f"cannot decide a {type(data).__name__}: give an Arrow table, a DuckDB relation, "
                    "a pandas or Polars DataFrame, or a Spark DataFrame")


def _from_pandas(data, compiled) -> pa.Table:
    """A pandas DataFrame as Arrow; a column Arrow cannot read as one type (`[1, "a"]`) is a
    ReplayError naming it and the types it holds, where pyarrow's ArrowInvalid came out."""
    from .duckdb_types import check_names

    # a named index (`id`) is a column of the requests, a key; a row's place is none
    named = any(name is not None for name in data.index.names)
    # a name twice (two columns, or a column and the index) was pyarrow's ValueError, or pandas'
    names = [*(n for n in data.index.names if n is not None and named), *data.columns]
    check_names([("schema", len(names))] + [(str(name), None) for name in names], "the table")
    try:
        return pa.Table.from_pandas(data, preserve_index=named)
    except (pa.ArrowInvalid, pa.ArrowTypeError) as error:
        frame = data.reset_index() if named else data
        for name in frame.columns:
            try:
                pa.Array.from_pandas(frame[name])
            except (pa.ArrowInvalid, pa.ArrowTypeError):
                raise ReplayError(_not_one_type(name, frame[name].dropna(), f"df[{name!r}].astype(str)",
                                                compiled)) from None
        raise ReplayError(f"the DataFrame cannot be read as an Arrow table: {error}") from None


def _from_polars(frame, keys, compiled) -> pa.Table:
    """A Polars DataFrame as Arrow; a column of Python objects (Polars' `Object`, which mixed
    values make: `[1, "a"]`) that the decisions read is a ReplayError naming it and the types it
    holds: Arrow would read it as the objects' addresses, eight bytes each."""
    import polars

    read = set(keys) | set(compiled.checked.request) if keys else set(frame.columns)
    for name, dtype in frame.schema.items():
        if name in read and dtype == polars.Object:
            raise ReplayError(_not_one_type(name, frame[name].drop_nulls(), f"pl.col({name!r}).cast(pl.String)",
                                            compiled))
    return frame.to_arrow()


def _not_one_type(name: str, values, like: str, compiled) -> str:
    """What to say of a column whose values are not of one type a table can hold: the types
    found, and the one to make them (a field's, or one of the key's choosing, like text)."""
    types = sorted({type(value).__name__ for value in values})
    found = (f"values of {len(types)} types ({', '.join(types)})" if len(types) > 1
             else f"{', '.join(types) or 'Python object'} values, which a table cannot hold")
    field = compiled.checked.request.get(name)
    to = (f"{field.type.describe()}, as the field `{name}` is" if field is not None
          else f"of one type a table holds, like {like}")
    return f"the column `{name}` holds {found}: make them {to}, before deciding"


def decide_arrow(compiled, text: str, table: pa.Table, keys=None, via: str = "sql") -> pa.Table:
    """The decisions on an Arrow table of requests, in DuckDB, as an Arrow table."""
    from sqlglot import exp

    from .columns import decision_schema
    from .duckdb_types import arrow_columns, arrow_names, check_names, columns_conform
    from .engine_duckdb import INPUT, connect, decided_tables
    from .input_types import check_types
    from .lowering import ROW
    from .python_path import ERROR, PythonDecider
    from .query import PolicyQuery
    from .run import lowerable

    policy = compiled.checked
    check_names(arrow_names(table.schema), "the table")
    keys = table_keys(keys, table.schema.names, policy)
    table = table.select([n for n in table.schema.names if n in keys or n in policy.request])
    job = Replay(compiled, text, resolve_none(), keys, via)
    columns = arrow_columns(table.schema)
    check_types({"the table": columns}, job.request_types)
    typed = columns_conform(columns, job.request_types)
    rejects, counts = _Collected(), Counts()
    schema = decision_schema(policy, pa.schema([table.schema.field(k) for k in keys]))
    if via == "sql" and typed and lowerable(job) is None:
        con = connect()
        con.from_arrow(table).create_view(INPUT)
        query = PolicyQuery(compiled, {k: exp.column(k, table=ROW, quoted=True) for k in keys}, job.version, job.hash)
        select = query.select(INPUT)
        from .engine_duckdb import calendar_span, register_calendar
        from .sql import DuckDBDialect

        register_calendar(con, job, calendar_span(query))
        reader = con.sql(select.sql(dialect=DuckDBDialect)).to_arrow_reader(BATCH_ROWS)
        decided = list(decided_tables(reader, job, schema, rejects, counts, count_rows=True))
    else:
        from .columns import python_values, to_request

        decider = PythonDecider(compiled, job.hash, schema, keys)
        rows = python_values(table)
        decided_rows, refused = decider.decide(({k: r.pop(k) for k in keys}, to_request(r)) for r in rows)
        decided, rejects.rows = [decider.table(decided_rows)], refused
    with_error = pa.schema(list(schema) + [pa.field(ERROR, pa.string())])
    import json

    refused = pa.Table.from_pylist([{**r, ERROR: json.dumps(r[ERROR], ensure_ascii=False)} for r in rejects.rows],
                                   schema=with_error)
    parts = [t.append_column(ERROR, pa.nulls(t.num_rows, pa.string())) for t in decided] + [refused]
    return pa.concat_tables(parts)


BATCH_ROWS = 20_000


def _names(keys) -> tuple[str, ...]:
    """Key columns named as a tuple; a text alone is a mistake, read letter by letter."""
    if isinstance(keys, str):
        raise TypeError(f"keys is a tuple of column names: give ({keys!r},), not {keys!r}")
    return tuple(keys)


def table_keys(keys, columns: list[str], policy) -> tuple[str, ...]:
    """The key columns of a table: those named (each a column, none a field of the request), else
    every column that is not a field of the request; none named as a column of the decision."""
    keys = choose_keys(columns, _names(keys), policy.request, "keys:") if keys is not None else \
        tuple(n for n in columns if n not in policy.request)
    check_key_names(keys, decision_names(policy))
    return keys


def resolve_none():
    """The source of a table decided in memory: no files."""
    from .sources import Source

    return Source((), "arrow")


def _decide_spark(compiled, text: str, frame, keys, via: str, spark):
    from sqlglot import exp

    from pyspark.sql.pandas.types import to_arrow_schema

    from .duckdb_types import arrow_columns
    from .engine_spark import INPUT, configure, decide_fallback, register_calendar
    from .input_types import check_types
    from .lowering import ROW
    from .python_path import ERROR
    from .query import PolicyQuery
    from .run import lowerable
    from .sql import spark_dialect

    spark = configure(spark or frame.sparkSession)
    policy = compiled.checked
    keys = table_keys(keys, frame.columns, policy)
    job = Replay(compiled, text, resolve_none(), keys, "python" if via == "python" or lowerable(
        Replay(compiled, text, resolve_none())) else "sql")
    check_types({"the DataFrame": arrow_columns(to_arrow_schema(frame.schema))}, job.request_types)
    frame.createOrReplaceTempView(INPUT)
    query = PolicyQuery(compiled, {k: exp.column(k, table=ROW, quoted=True) for k in keys}, job.version, job.hash)
    select = query.python_only(INPUT) if job.via == "python" else query.select(INPUT)
    register_calendar(spark, job, query)
    by_sql, by_python = decide_fallback(spark.sql(select.sql(dialect=spark_dialect())), job, keys)
    if by_sql is None:
        return by_python
    from pyspark.sql import functions as F

    return by_sql.withColumn(ERROR, F.lit(None).cast("string")).unionByName(by_python)
