"""DuckDB, embedded: the input read in place, the policy's query run over it, the decided rows
streamed to Parquet as Arrow batches (the few the Python path must decide, decided on the way)."""
from __future__ import annotations

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq
from sqlglot import exp

from .columns import decision_schema, request_schema
from .query import BUSINESS_DAYS, CALENDAR, FALLBACK, INPUT, REQUEST, PolicyQuery, business_day_tables
from .run import BATCH, Counts, RejectsFile, Replay, conforms, decide_with_python, input_keys, typed_batches
from .python_path import PythonDecider
from .sources import FILE, ROW



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
    reader = con.sql(select.sql(dialect="duckdb")).to_arrow_reader(BATCH)
    write_decided(reader, replay, tuple(key_columns), out, rejects, counts, count_rows=not read_here)
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
    tables = business_day_tables(replay, query, lambda select: con.execute(select.sql(dialect="duckdb")).fetchall()[0])
    if tables is not None:
        con.from_arrow(tables[0]).create_view(CALENDAR)
        con.from_arrow(tables[1]).create_view(BUSINESS_DAYS)


def write_decided(reader, replay: Replay, key_names: tuple[str, ...], out: str, rejects: RejectsFile,
                  counts: Counts, count_rows: bool) -> None:
    """Stream the query's decided rows to Parquet."""
    schema = decided_schema(reader, replay, key_names)
    with pq.ParquetWriter(out, schema) as writer:
        for table in decided_tables(reader, replay, schema, rejects, counts, count_rows):
            writer.write_table(table)


def decided_schema(reader, replay: Replay, key_names: tuple[str, ...]) -> pa.Schema:
    return decision_schema(replay.compiled.checked, pa.schema([reader.schema.field(n) for n in key_names]))


def decided_tables(reader, replay: Replay, schema: pa.Schema, rejects, counts: Counts, count_rows: bool):
    """The query's batches as decided rows; the rows marked for the Python path decided on the way."""
    key_names = tuple(schema.names[:len(schema.names) - len(decision_schema(replay.compiled.checked, pa.schema([])))])
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
