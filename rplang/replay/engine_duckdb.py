"""DuckDB, embedded: the input read in place, the policy's query run over it on every thread, the
decided rows written by DuckDB's own Parquet writer (the few the Python path must decide, decided
by the runtime inside the query, as DuckDB meets them).

The query's SQL is lowered once per policy and way of keying rows, then read from the user's
cache (plans.py): a run that finds it there over a Parquet input DuckDB reads as it is imports
neither SQLGlot nor the lowering nor pyarrow, and compiles the policy (importing the runtime)
only if the query hands a row back.
"""
from __future__ import annotations

import os
import threading
from typing import TYPE_CHECKING

from . import plans
from .duckdb_types import columns_conform, described
from .errors import unreadable
from .run import Counts, RejectsFile, Replay, input_keys, writing
from .sources import FILE, ROW, check_key_names
from .views import BUSINESS_DAYS, CALENDAR, FALLBACK, INPUT, REQUEST

if TYPE_CHECKING:  # imported where used: a cached run over Parquet imports no pyarrow
    import pyarrow as pa

PYTHON = "__python"  # a handed-back row's decision, by the Python path
DECIDE = "rpl_decide"  # the Python path, as a function of the query
DECIDED = "rpl_decided"  # the policy's query, as a view
COLUMN, ROW_NUMBER, FILE_NAME = "column", "row number", "file name"  # where a key's values come from


def connect():
    import duckdb

    return duckdb.connect()


def replay_duckdb(replay: Replay, out: str, rejects: RejectsFile, con=None) -> Counts:
    counts = Counts()
    if replay.via == "python":
        import pyarrow.parquet as pq

        from .pandas_unseen import pandas_unseen
        from .python_path import decide_with_python

        keys = input_keys(replay)
        writers = []

        def writer_for(schema):
            writers.append(pq.ParquetWriter(out, schema))
            return writers[-1]
        with writing(out), pandas_unseen():
            try:
                decide_with_python(replay, keys, writer_for, rejects, counts)
            finally:
                for writer in writers:
                    writer.close()
        return counts
    con = con or connect()
    replay = replay.with_columns(con)  # each footer read once (by the command, or now), for every step
    # the key names are checked now, before the rows are read, unless the policy was known from a
    # run before: then a plan kept for these keys was checked so, and a new one is checked below
    keys = input_keys(replay, con, decided=replay.known is None)
    key_columns, read_here = load_input(con, replay, keys, rejects, counts)
    plan = plans.read(replay, key_columns)
    if plan is None:
        if replay.known is not None:
            from .columns import decision_names

            check_key_names(keys, decision_names(replay.compiled.checked))
        plan = lower(replay, key_columns)
        plans.write(replay, key_columns, plan, known(replay))
    import duckdb

    try:
        register_calendar(con, replay, plan.span)
        read = write_decided(con, plan, replay, tuple(name for name, _ in key_columns), out, rejects, counts)
    except duckdb.Error:
        if not read_here:
            name_spoilt_file(con, replay.source.files)
        raise
    if not read_here:
        counts.rows = read
    return counts


def load_input(con, replay: Replay, keys: tuple[str, ...], rejects: RejectsFile,
               counts: Counts) -> tuple[tuple[tuple[str, str], ...], bool]:
    """Make the input the table `rpl_input`; the key columns, each with where its values come
    from (COLUMN, ROW_NUMBER, FILE_NAME), and whether the rows were read (and counted) here
    rather than by the engine."""
    expected = replay.request_types
    source = replay.source
    # each set of columns the files have judged once (a folder of parts written by one job has one)
    found = {described(columns): columns for columns in replay.with_columns(con).columns.values()}
    if found and all(columns_conform(columns, expected, con) for columns in found.values()):
        # DuckDB reads every file as the first is, unless told to match columns by name and find
        # the widest type: a later file's BIGINT key or DECIMAL(18,2) price would not fit the
        # first's INTEGER or DECIMAL(9,2) (input_keys has checked each key to be of one kind in
        # every file, and here each file's request columns conform)
        widen = len(found) > 1
        relation = con.read_parquet(list(source.files), file_row_number=not keys,
                                    filename=not keys and len(source.files) > 1, union_by_name=widen)
        relation.create_view(INPUT)
        if keys:
            return tuple((k, COLUMN) for k in keys), False
        return ((ROW, ROW_NUMBER),) + (((FILE, FILE_NAME),) if len(source.files) > 1 else ()), False
    import pyarrow as pa

    from .pandas_unseen import pandas_unseen
    from .read_workers import typed_input

    with pandas_unseen():  # the rows are JSON's and the reader's values: pyarrow need not look for pandas'
        batches = typed_input(replay, keys, rejects, counts)
        first = next(batches)
        table = pa.Table.from_batches([first, *batches])  # the engine scans it more than once
    con.from_arrow(table).create_view(INPUT)
    return tuple((k, COLUMN) for k in table.schema.names if k not in expected), True


def name_spoilt_file(con, files) -> None:
    """After the query failed: the first Parquet file whose footer was read but whose rows cannot
    be (a page cut short or spoilt), named; DuckDB's error for one ("don't know what type", a
    snappy failure) is no bug of rpl's. Every column of every row read, only now, when the query
    has failed."""
    import duckdb

    for file in files:
        try:
            con.execute("SELECT bit_xor(hash(t)) FROM read_parquet(?) AS t", [file]).fetchall()
        except duckdb.Error as error:
            raise unreadable(file, error) from None


def lower(replay: Replay, key_columns: tuple[tuple[str, str], ...]) -> plans.Plan:
    """The policy's query over the input keyed by `key_columns`, as DuckDB's SQL: the decided
    rows, those handed back decided by the Python path inside the query (a function of DuckDB's
    that calls the runtime, `Handback`), with each amount in its column, and each text known
    when the policy is compiled of an ENUM type (texts.py), the Python path's too."""
    import pyarrow as pa
    from sqlglot import exp

    from .columns import decision_schema
    from .duckdb_types import duckdb_type
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


def known(replay: Replay) -> plans.Known:
    """What a run that finds the policy's plan needs to know of it, kept beside the plan."""
    from rplang.compiler.checked import table_files

    checked = replay.compiled.checked
    return plans.Known(replay.version, replay.hash, table_files(checked), replay.request_types, checked.calendar)


def register_calendar(con, replay: Replay, span: tuple | None) -> None:
    """The business-day tables, as views of the connection, for the days the input's counts of
    business days start from (`span`: the query of the first and last, how many counts chain,
    the longest count; None when the policy counts none)."""
    if span is None:
        return
    from .calendar import columns_for_span

    select, chained, longest = span
    calendar, business_days = columns_for_span(replay.calendar, con.execute(select).fetchall()[0], chained, longest)
    # made of the lists as they are (days since 1970), not of Arrow tables: a cached run imports no pyarrow
    day = "DATE '1970-01-01' + UNNEST({}::INTEGER[])"
    con.execute(f"CREATE OR REPLACE TEMPORARY TABLE {CALENDAR} AS SELECT {day.format('$1')} AS bday, "
                "UNNEST($2::BIGINT[]) AS upto, UNNEST($3::BIGINT[]) AS before", list(calendar))
    con.execute(f"CREATE OR REPLACE TEMPORARY TABLE {BUSINESS_DAYS} AS SELECT UNNEST($1::BIGINT[]) AS ordinal, "
                f"{day.format('$2')} AS bday", list(business_days))


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
    con.create_function(DECIDE, handback, [con.struct_type({k: given[k] for k in key_names}), given[REQUEST]],
                        con.struct_type({name: con.sqltype(t) for name, t in plan.types.items()}),
                        type="arrow", null_handling="special", side_effects=True)
    # `out` is the temporary file beside OUT (a link's: beside the file it names) that replaces it
    # (command.py), a file DuckDB writes as it is named
    try:
        [(written,)] = con.execute(f"COPY ({plan.rows}) TO {_string(out)} (FORMAT parquet)").fetchall()
    except duckdb.IOException as error:  # OUT could not be written: the disk's error, as Python's
        raise disk_error(str(error), out) from None
    except duckdb.Error:
        if handback.failure is not None:  # the policy could not be compiled, or the rejects written
            raise handback.failure from None
        raise
    finally:
        con.remove_function(DECIDE)
    counts.by_sql = written - counts.by_python
    return written + handback.refused


def disk_error(said: str, out: str) -> OSError:
    """DuckDB's error writing OUT as Python's OSError: its errno, when its message holds one (a
    JSON object after the text: `{"exception_message": ..., "errno": "28"}`), else its first line."""
    import json

    detail = said[said.find("{"):] if "{" in said else ""
    try:
        number = int(json.loads(detail)["errno"])
    except (ValueError, KeyError, TypeError):
        return OSError(said.splitlines()[0].removeprefix("IO Error: "))
    return OSError(number, os.strerror(number), out)


def _string(text: str) -> str:
    """A string constant of DuckDB's SQL (standard SQL's: a quote doubled, no other escape)."""
    return "'" + text.replace("'", "''") + "'"


class Handback:
    """The Python path inside the query: DuckDB calls it with the keys and requests of the rows
    the query hands back (a few at a time, from any of its threads); it gives each its decision's
    columns, or a NULL for a reject, written to the rejects. The policy is compiled at the first
    row handed back: a run that hands none back never imports the runtime."""

    def __init__(self, replay: Replay, rejects: RejectsFile, counts: Counts):
        self.replay, self.rejects, self.counts, self.refused = replay, rejects, counts, 0
        self.decider = self.type = None
        self.failure = None  # what stopped the decider being made, for `write_decided` to raise
        self.lock = threading.Lock()

    def _start(self) -> None:
        import pyarrow as pa

        from .columns import decision_schema
        from .python_path import PythonDecider

        try:
            schema = decision_schema(self.replay.compiled.checked, pa.schema([]))  # the decision's columns
        except Exception as error:  # noqa: BLE001 (DuckDB would wrap it in its own: kept, raised as it is)
            self.failure = error
            raise
        self.decider = PythonDecider(self.replay.compiled, self.replay.hash, schema, ())
        self.type = pa.struct(list(schema))

    def __call__(self, keys, requests):
        import pyarrow as pa

        from .columns import python_values, to_request

        with self.lock:
            if self.decider is None:
                self._start()
            rows, refused = [], []
            for own, request in zip(python_values(keys), python_values(requests)):
                row, reject = self.decider.decide_one(own, to_request(request))
                rows.append(row)
                if reject is not None:
                    refused.append(reject)
            try:
                self.rejects.write(refused)
            except OSError as error:  # DuckDB would wrap it in its own: kept, raised as it is
                self.failure = error
                raise
            self.refused += len(refused)
            self.counts.by_python += len(rows) - len(refused)
            return pa.array(rows, type=self.type)


def decided_tables(reader, replay: Replay, schema: pa.Schema, rejects, counts: Counts, count_rows: bool):
    """The query's batches as decided rows; the rows marked for the Python path decided on the way."""
    import pyarrow as pa
    import pyarrow.compute as pc

    from .columns import decision_schema
    from .python_path import PythonDecider

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
