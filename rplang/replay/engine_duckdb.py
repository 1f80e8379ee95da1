"""DuckDB, embedded: the input read in place, the policy's query run over it on every thread, the
decided rows written by DuckDB's own Parquet writer (the few the Python path must decide, decided
by the runtime inside the query, as DuckDB meets them).

The query's SQL is lowered once per policy and way of keying rows, then read from the user's
cache (plans.py): a run that finds it there imports neither SQLGlot nor the lowering.
"""
from __future__ import annotations

import threading

import pyarrow as pa
import pyarrow.parquet as pq

from . import plans
from .columns import decision_schema, python_values, request_schema, to_request
from .run import Counts, RejectsFile, Replay, conforms, decide_with_python, input_keys, typed_batches
from .python_path import PythonDecider
from .sources import FILE, ROW
from .views import BUSINESS_DAYS, CALENDAR, FALLBACK, INPUT, REQUEST

PYTHON = "__python"  # a handed-back row's decision, by the Python path
DECIDE = "rpl_decide"  # the Python path, as a function of the query
DECIDED = "rpl_decided"  # the policy's query, as a view
COLUMN, ROW_NUMBER, FILE_NAME = "column", "row number", "file name"  # where a key's values come from


def connect():
    import duckdb

    return duckdb.connect()


def replay_duckdb(replay: Replay, out: str, rejects: RejectsFile, con=None) -> Counts:
    counts = Counts()
    keys = input_keys(replay)
    if replay.via == "python":
        writers = []

        def writer_for(schema):
            writers.append(pq.ParquetWriter(out, schema))
            return writers[-1]
        try:
            decide_with_python(replay, keys, writer_for, rejects, counts)
        finally:
            for writer in writers:
                writer.close()
        return counts
    con = con or connect()
    key_columns, read_here = load_input(con, replay, keys, rejects, counts)
    plan = plans.read(replay, key_columns)
    if plan is None:
        plan = lower(replay, key_columns)
        plans.write(replay, key_columns, plan)
    register_calendar(con, replay, plan.span)
    read = write_decided(con, plan, replay, tuple(name for name, _ in key_columns), out, rejects, counts)
    if not read_here:
        counts.rows = read
    return counts


def load_input(con, replay: Replay, keys: tuple[str, ...], rejects: RejectsFile,
               counts: Counts) -> tuple[tuple[tuple[str, str], ...], bool]:
    """Make the input the table `rpl_input`; the key columns, each with where its values come
    from (COLUMN, ROW_NUMBER, FILE_NAME), and whether the rows were read (and counted) here
    rather than by the engine."""
    expected = request_schema(replay.compiled.checked)
    source = replay.source
    if source.format == "parquet" and _parquet_conforms(source, expected):
        relation = con.read_parquet(list(source.files), file_row_number=not keys,
                                    filename=not keys and len(source.files) > 1)
        relation.create_view(INPUT)
        if keys:
            return tuple((k, COLUMN) for k in keys), False
        return ((ROW, ROW_NUMBER),) + (((FILE, FILE_NAME),) if len(source.files) > 1 else ()), False
    batches = typed_batches(replay, keys, rejects, counts)
    first = next(batches)
    table = pa.Table.from_batches([first, *batches])  # the engine scans it more than once
    con.from_arrow(table).create_view(INPUT)
    return tuple((k, COLUMN) for k in table.schema.names if k not in expected.names), True


def lower(replay: Replay, key_columns: tuple[tuple[str, str], ...]) -> plans.Plan:
    """The policy's query over the input keyed by `key_columns`, as DuckDB's SQL: the decided
    rows, those handed back decided by the Python path inside the query (a function of DuckDB's
    that calls the runtime, `Handback`), with each amount in its column, and each text known
    when the policy is compiled of an ENUM type (texts.py), the Python path's too."""
    from sqlglot import exp

    from .lowering import ROW as ALIAS
    from .query import PolicyQuery
    from .sql import DuckDBDialect, case, field, is_null, sql_type
    from .texts import Texts

    def col(name: str) -> exp.Column:
        return exp.column(name, quoted=True)

    where = {COLUMN: lambda k: exp.column(k, table=ALIAS, quoted=True),
             ROW_NUMBER: lambda _: exp.Add(this=exp.column("file_row_number", table=ALIAS),
                                           expression=exp.Literal.number(1)),
             FILE_NAME: lambda _: exp.column("filename", table=ALIAS)}
    texts = Texts.as_enums(replay.compiled, replay.version, replay.hash)
    query = PolicyQuery(replay.compiled, {k: where[how](k) for k, how in key_columns}, replay.version, replay.hash,
                        texts)
    decided = query.select(INPUT).sql(dialect=DuckDBDialect)
    types = {f.name: duckdb_type(f.type) for f in decision_schema(replay.compiled.checked, pa.schema([]))}
    enums = texts.columns(replay.compiled.checked)

    def written(name: str, t: str) -> exp.Expression:
        """A column as written: the Python path's value where it decided the row (its texts
        made the query's ENUM: a CASE of an ENUM and a VARCHAR is a VARCHAR)."""
        if name in enums:
            by_python = exp.cast(field(col(PYTHON), name), exp.DataType.build(enums[name], dialect="duckdb", udt=True))
            return case((col(FALLBACK), by_python), default=col(name))
        return exp.cast(case((col(FALLBACK), field(col(PYTHON), name)), default=col(name)), sql_type(t))
    keys = exp.Struct(expressions=[exp.PropertyEQ(this=exp.to_identifier(k, quoted=True), expression=col(k))
                                   for k, _ in key_columns])
    by_python = exp.select(exp.Star(), case((col(FALLBACK), exp.Anonymous(this=DECIDE, expressions=[keys, col(REQUEST)]))
                                            ).as_(PYTHON, quoted=True)).from_(DECIDED)
    rows = exp.select(*[col(k) for k, _ in key_columns], *[written(name, t).as_(name, quoted=True)
                                                          for name, t in types.items()]) \
        .from_(by_python.subquery("handed", copy=False), copy=False) \
        .where(exp.or_(exp.Not(this=col(FALLBACK)), exp.Not(this=is_null(col(PYTHON)))), copy=False)
    return plans.Plan(decided, rows.sql(dialect="duckdb"), types, calendar_span(query), texts.enums())


def calendar_span(query) -> tuple | None:
    """What `register_calendar` needs of a built query, its SQL as DuckDB's."""
    from .query import calendar_span as span_of
    from .sql import DuckDBDialect

    span = span_of(query)
    return (span[0].sql(dialect=DuckDBDialect), *span[1:]) if span else None


def _parquet_conforms(source, expected: pa.Schema) -> bool:
    for name in source.files:
        actual = pq.read_schema(name)
        for f in expected:
            if f.name in actual.names and not conforms(actual.field(f.name).type, f.type):
                return False
            if f.name not in actual.names:
                return False
    return True


def register_calendar(con, replay: Replay, span: tuple | None) -> None:
    """The business-day tables, as views of the connection, for the days the input's counts of
    business days start from (`span`: the query of the first and last, how many counts chain,
    the longest count; None when the policy counts none)."""
    if span is None:
        return
    from .calendar import tables_for_span

    select, chained, longest = span
    calendar, business_days = tables_for_span(replay.compiled.checked.calendar, con.execute(select).fetchall()[0],
                                              chained, longest)
    con.from_arrow(calendar).create_view(CALENDAR)
    con.from_arrow(business_days).create_view(BUSINESS_DAYS)


def write_decided(con, plan: plans.Plan, replay: Replay, key_names: tuple[str, ...], out: str,
                  rejects: RejectsFile, counts: Counts) -> int:
    """Run the plan's query into OUT with DuckDB's own Parquet writer, on every thread, the rows
    streamed; the rows it hands back are decided by the Python path inside the query, as DuckDB
    meets them. The rows the query read."""
    import duckdb

    for name, values in plan.enums.items():
        con.execute(f"CREATE OR REPLACE TYPE {name} AS ENUM ({', '.join(map(_string, values))})")
    con.execute(f"CREATE OR REPLACE TEMPORARY VIEW {DECIDED} AS {plan.decided}")
    decided = con.table(DECIDED)
    given = dict(zip(decided.columns, decided.types))
    handback = Handback(replay, rejects, counts)
    con.create_function(DECIDE, handback, [duckdb.struct_type({k: given[k] for k in key_names}), given[REQUEST]],
                        duckdb.struct_type({name: duckdb.sqltype(t) for name, t in plan.types.items()}),
                        type="arrow", null_handling="special", side_effects=True)
    try:
        [(written,)] = con.execute(f"COPY ({plan.rows}) TO {_string(out)} (FORMAT parquet)").fetchall()
    finally:
        con.remove_function(DECIDE)
    counts.by_sql = written - counts.by_python
    return written + handback.refused


def _string(text: str) -> str:
    """A string constant of DuckDB's SQL (standard SQL's: a quote doubled, no other escape)."""
    return "'" + text.replace("'", "''") + "'"


class Handback:
    """The Python path inside the query: DuckDB calls it with the keys and requests of the rows
    the query hands back (a few at a time, from any of its threads); it gives each its decision's
    columns, or a NULL for a reject, written to the rejects."""

    def __init__(self, replay: Replay, rejects: RejectsFile, counts: Counts):
        schema = decision_schema(replay.compiled.checked, pa.schema([]))  # the decision's columns
        self.decider = PythonDecider(replay.compiled, replay.hash, schema, ())
        self.type = pa.struct(list(schema))
        self.rejects, self.counts, self.refused = rejects, counts, 0
        self.lock = threading.Lock()

    def __call__(self, keys, requests):
        with self.lock:
            rows, refused = [], []
            for own, request in zip(keys.to_pylist(), python_values(requests)):
                row, reject = self.decider.decide_one(own, to_request(request))
                rows.append(row)
                if reject is not None:
                    refused.append(reject)
            self.rejects.write(refused)
            self.refused += len(refused)
            self.counts.by_python += len(rows) - len(refused)
            return pa.array(rows, type=self.type)


def duckdb_type(t: pa.DataType) -> str:
    """The DuckDB type of a decision column's Arrow type."""
    if pa.types.is_list(t):
        return duckdb_type(t.value_type) + "[]"
    if pa.types.is_decimal(t):
        return f"DECIMAL({t.precision}, {t.scale})"
    return {pa.string(): "VARCHAR", pa.date32(): "DATE", pa.int64(): "BIGINT", pa.bool_(): "BOOLEAN"}[t]


def decided_tables(reader, replay: Replay, schema: pa.Schema, rejects, counts: Counts, count_rows: bool):
    """The query's batches as decided rows; the rows marked for the Python path decided on the way."""
    key_names = tuple(schema.names[:len(schema.names) - len(decision_schema(replay.compiled.checked, pa.schema([])))])
    import pyarrow.compute as pc

    decider = PythonDecider(replay.compiled, replay.hash, schema, key_names)
    for batch in reader:
        if count_rows:
            counts.rows += batch.num_rows
        fallback = batch.column(FALLBACK)
        table = pa.Table.from_batches([batch])
        marked = pc.sum(fallback).as_py() or 0
        if marked:
            by_python, refused = decider.decide_columns(batch.filter(fallback), REQUEST)
            rejects.write(refused)
            counts.by_python += by_python.num_rows
            yield table.filter(pc.invert(fallback)).select(schema.names).cast(schema)
            yield by_python
        else:
            yield table.select(schema.names).cast(schema)
        counts.by_sql += batch.num_rows - marked
