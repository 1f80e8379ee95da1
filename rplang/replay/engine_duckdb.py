"""DuckDB, embedded: the input read in place, the policy's query run over it on every thread, the
decided rows written by DuckDB's own Parquet writer (the few the Python path must decide, decided
by the runtime inside the query, as DuckDB meets them)."""
from __future__ import annotations

import threading

import pyarrow as pa
import pyarrow.parquet as pq
from sqlglot import exp

from .columns import decision_schema, request_schema, to_request
from .query import BUSINESS_DAYS, CALENDAR, FALLBACK, INPUT, REQUEST, PolicyQuery, business_day_tables
from .sql import DuckDBDialect, case, field, is_null, sql_type
from .run import Counts, RejectsFile, Replay, conforms, decide_with_python, input_keys, typed_batches
from .python_path import PythonDecider
from .sources import FILE, ROW

PYTHON = "__python"  # a handed-back row's decision, by the Python path
DECIDE = "rpl_decide"  # the Python path, as a function of the query
DECIDED = "rpl_decided"  # the policy's query, as a view


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
    query = PolicyQuery(replay.compiled, key_columns, replay.version, replay.hash)
    select = query.select(INPUT)
    register_calendar(con, replay, query)
    read = write_decided(con, select, replay, tuple(key_columns), out, rejects, counts)
    if not read_here:
        counts.rows = read
    return counts


def load_input(con, replay: Replay, keys: tuple[str, ...], rejects: RejectsFile, counts: Counts) -> tuple[dict, bool]:
    """Make the input the table `rpl_input`; the key columns as SQL over its rows, and whether
    the rows were read (and counted) here rather than by the engine."""
    from .lowering import ROW as ALIAS

    expected = request_schema(replay.compiled.checked)
    source = replay.source
    if source.format == "parquet" and _parquet_conforms(source, expected):
        relation = con.read_parquet(list(source.files), file_row_number=not keys,
                                    filename=not keys and len(source.files) > 1)
        relation.create_view(INPUT)
        if keys:
            return {k: exp.column(k, table=ALIAS, quoted=True) for k in keys}, False
        columns = {ROW: exp.Add(this=exp.column("file_row_number", table=ALIAS), expression=exp.Literal.number(1))}
        if len(source.files) > 1:
            columns[FILE] = exp.column("filename", table=ALIAS)
        return columns, False
    batches = typed_batches(replay, keys, rejects, counts)
    first = next(batches)
    table = pa.Table.from_batches([first, *batches])  # the engine scans it more than once
    con.from_arrow(table).create_view(INPUT)
    names = [n for n in table.schema.names if n not in expected.names]
    return {k: exp.column(k, table=ALIAS, quoted=True) for k in names}, True


def _parquet_conforms(source, expected: pa.Schema) -> bool:
    for name in source.files:
        actual = pq.read_schema(name)
        for f in expected:
            if f.name in actual.names and not conforms(actual.field(f.name).type, f.type):
                return False
            if f.name not in actual.names:
                return False
    return True


def register_calendar(con, replay: Replay, query: PolicyQuery) -> None:
    """The business-day tables, as views of the connection."""
    tables = business_day_tables(replay, query, lambda select: con.execute(select.sql(dialect=DuckDBDialect)).fetchall()[0])
    if tables is not None:
        con.from_arrow(tables[0]).create_view(CALENDAR)
        con.from_arrow(tables[1]).create_view(BUSINESS_DAYS)


def write_decided(con, select: exp.Select, replay: Replay, key_names: tuple[str, ...], out: str,
                  rejects: RejectsFile, counts: Counts) -> int:
    """Run the query into OUT with DuckDB's own Parquet writer, on every thread, the rows
    streamed; the rows it hands back are decided by the Python path inside the query, as DuckDB
    meets them (a function of DuckDB's that calls the runtime). The rows the query read."""
    import duckdb

    con.execute(f"CREATE OR REPLACE TEMPORARY VIEW {DECIDED} AS {select.sql(dialect=DuckDBDialect)}")
    decided = con.table(DECIDED)
    schema = decision_schema(replay.compiled.checked, decided.limit(0).to_arrow_table().select(list(key_names)).schema)
    columns = schema.names[len(key_names):]
    types = {name: duckdb_type(schema.field(name).type) for name in columns}
    handback = Handback(replay, schema, key_names, rejects, counts)
    keys = exp.Struct(expressions=[exp.PropertyEQ(this=exp.to_identifier(k, quoted=True), expression=_col(k))
                                   for k in key_names])
    given = dict(zip(decided.columns, decided.types))
    con.create_function(DECIDE, handback, [duckdb.struct_type({k: given[k] for k in key_names}), given[REQUEST]],
                        duckdb.struct_type({name: duckdb.sqltype(t) for name, t in types.items()}),
                        type="arrow", null_handling="special", side_effects=True)
    try:
        by_python = exp.select(exp.Star(), case((_col(FALLBACK), exp.Anonymous(this=DECIDE, expressions=[keys, _col(REQUEST)]))
                                                ).as_(PYTHON, quoted=True)).from_(DECIDED)
        rows = exp.select(*[_col(k) for k in key_names], *[
            exp.cast(case((_col(FALLBACK), field(_col(PYTHON), name)), default=_col(name)), sql_type(types[name]))
            .as_(name, quoted=True) for name in columns]) \
            .from_(by_python.subquery("handed", copy=False), copy=False) \
            .where(exp.or_(exp.Not(this=_col(FALLBACK)), exp.Not(this=is_null(_col(PYTHON)))), copy=False)
        target = exp.Literal.string(out).sql(dialect="duckdb")
        [(written,)] = con.execute(f"COPY ({rows.sql(dialect='duckdb')}) TO {target} (FORMAT parquet)").fetchall()
    finally:
        con.remove_function(DECIDE)
    counts.by_sql = written - counts.by_python
    return written + handback.refused


class Handback:
    """The Python path inside the query: DuckDB calls it with the keys and requests of the rows
    the query hands back (a few at a time, from any of its threads); it gives each its decision's
    columns, or a NULL for a reject, written to the rejects."""

    def __init__(self, replay: Replay, schema: pa.Schema, key_names: tuple[str, ...], rejects: RejectsFile,
                 counts: Counts):
        self.decider = PythonDecider(replay.compiled, replay.hash, schema, key_names)
        self.type = pa.struct(list(schema)[len(key_names):])
        self.rejects, self.counts, self.refused = rejects, counts, 0
        self.lock = threading.Lock()

    def __call__(self, keys, requests):
        with self.lock:
            rows, refused = [], []
            for own, request in zip(keys.to_pylist(), requests.to_pylist()):
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


def _col(name: str) -> exp.Column:
    return exp.column(name, quoted=True)


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
