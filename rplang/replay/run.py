"""One replay: a policy, an input, an engine and a path; decided rows to Parquet, rejects to JSON
lines, and the counts.

`--via sql` (the default where the policy allows) runs the policy's query in the engine and hands
the few rows it cannot decide exactly to the Python path; `--via python` decides every row with
the ordinary runtime, batch by batch.
"""
from __future__ import annotations

import json
from pathlib import Path

import attrs
import pyarrow as pa

from rplang.compiler.checked import source_digest
from rplang.policy_lang.errors import RplError
from rplang.stream import error_json

from .columns import decision_schema, from_request, python_values, request_schema, to_request
from .errors import NotLowerable, ReplayError
from .python_path import ERROR, PythonDecider
from .sources import FILE, ROW, Source, check_columns, choose_keys, json_value, text_columns, text_rows

BATCH = 20_000  # rows decided or written at a time: enough to make each step cheap, few in memory


@attrs.define
class Counts:
    """What happened to the rows of the input."""
    rows: int = 0
    by_sql: int = 0
    by_python: int = 0
    rejected: int = 0

    def text(self, out: str, rejects: str) -> str:
        decided = self.by_sql + self.by_python
        how = f" ({self.by_sql:,} in SQL, {self.by_python:,} by the Python path)" if self.by_sql else \
            " (by the Python path)"
        line = f"{self.rows:,} requests: {decided:,} decided{how if decided else ''} -> {out}"
        return line + (f"; {self.rejected:,} rejected -> {rejects}" if self.rejected else "; none rejected")


@attrs.frozen
class Replay:
    """What to decide and how."""
    compiled: object  # CompiledPolicy
    text: str  # the policy's text, whose hash each row carries
    source: Source
    keys: tuple[str, ...] = ()
    via: str = "sql"  # sql | python

    @property
    def hash(self) -> str:
        """The policy's identity in every decided row: its text and its tables' CSV files."""
        return source_digest(self.text, self.compiled.checked)

    @property
    def version(self) -> str:
        return self.compiled.checked.version


class RejectsFile:
    """The rejects, one JSON line each: the row's keys and the error `rpl eval` reports."""

    def __init__(self, path: str | None):
        self.path, self.stream, self.count = path, None, 0  # no path: only counted

    def write(self, rejects: list[dict]) -> None:
        if not rejects:
            return
        self.count += len(rejects)
        if self.path is None:
            return
        if self.stream is None:
            self.stream = open(self.path, "w", encoding="utf-8")
        for reject in rejects:
            self.stream.write(json.dumps({k: json_value(v) if k != ERROR else v for k, v in reject.items()},
                                         ensure_ascii=False) + "\n")

    def close(self) -> None:
        if self.stream is not None:
            self.stream.close()
        elif self.path is not None and Path(self.path).exists():
            Path(self.path).unlink()  # a rejects file of an earlier run would mislead


def rejects_path(out: str) -> str:
    path = Path(out)
    return str(path.with_name(path.stem + ".rejects.jsonl"))


# ---- Input as key columns and requests --------------------------------------------------------

def parquet_columns(source: Source) -> pa.Schema:
    import pyarrow.parquet as pq

    return pq.read_schema(source.files[0])


def input_keys(replay: Replay) -> tuple[str, ...]:
    """The key columns the output keeps (source_row, and source_file, when the input has none)."""
    policy = replay.compiled.checked
    columns = list(parquet_columns(replay.source).names) if replay.source.format == "parquet" \
        else text_columns(replay.source, policy)
    keys = choose_keys(columns, replay.keys, policy)
    if replay.source.format == "parquet":
        check_columns(columns, keys, policy, replay.source)
    return keys


def python_rows(replay: Replay, keys: tuple[str, ...]):
    """(keys, request) for every row, requests as `rpl eval` reads them (a bad line as its error)."""
    if replay.source.format != "parquet":
        yield from text_rows(replay.source, keys, replay.compiled.checked)
        return
    import pyarrow.parquet as pq

    number = 0
    for name in replay.source.files:
        file_number = 0
        for batch in pq.ParquetFile(name).iter_batches(BATCH):
            for row in python_values(batch):
                number += 1
                file_number += 1
                own = {k: row.pop(k, None) for k in keys}
                if not keys:
                    own = {ROW: file_number, **({FILE: name} if len(replay.source.files) > 1 else {})}
                yield own, to_request(row)


def conforms(actual: pa.DataType, expected: pa.DataType) -> bool:
    """Whether a column of type `actual` holds exactly the values of `expected` (so the engine
    may read it as it is): amounts with at most two decimals, dates, lists, structs of the same
    fields."""
    if pa.types.is_decimal(expected):
        return pa.types.is_decimal(actual) and actual.scale <= expected.scale and \
            actual.precision - actual.scale <= expected.precision - expected.scale
    if pa.types.is_integer(expected):
        return pa.types.is_integer(actual)
    if pa.types.is_string(expected):
        return pa.types.is_string(actual) or pa.types.is_large_string(actual)
    if pa.types.is_list(expected):
        return (pa.types.is_list(actual) or pa.types.is_large_list(actual)) and \
            conforms(actual.value_type, expected.value_type)
    if pa.types.is_struct(expected):
        if not pa.types.is_struct(actual):
            return False
        fields = {f.name: f.type for f in expected}
        names = [actual.field(i).name for i in range(actual.num_fields)]
        return set(names) == set(fields) and all(conforms(actual.field(n).type, fields[n]) for n in names)
    return actual == expected


def typed_batches(replay: Replay, keys: tuple[str, ...], rejects: RejectsFile, counts: Counts):
    """The rows read by the request reader, as typed request columns (for the SQL path over an
    input the engine cannot read as it is); rows it refuses go to the rejects now."""
    policy = replay.compiled
    schema = request_schema(policy.checked)
    key_schema = None
    rows, refused = [], []
    for own, request in python_rows(replay, keys):
        counts.rows += 1
        try:
            if isinstance(request, RplError):
                raise request
            rows.append({**own, **from_request(policy.read_request(request))})
        except RplError as error:
            refused.append({**own, ERROR: error_json(error)})
        if len(rows) >= BATCH:
            key_schema = key_schema or _key_schema(rows, keys)
            yield pa.RecordBatch.from_pylist(rows, schema=_with(key_schema, schema))
            rows = []
            rejects.write(refused)
            refused = []
    rejects.write(refused)
    if rows or key_schema is None:
        key_schema = key_schema or _key_schema(rows, keys)
        yield pa.RecordBatch.from_pylist(rows, schema=_with(key_schema, schema))


def _key_schema(rows: list[dict], keys: tuple[str, ...]) -> pa.Schema:
    names = keys or tuple(k for k in (ROW, FILE) if rows and k in rows[0]) or (ROW,)
    return pa.Table.from_pylist([{k: r.get(k) for k in names} for r in rows[:1000]]).schema if rows else \
        pa.schema([(n, pa.int64()) for n in names])


def _with(keys: pa.Schema, request: pa.Schema) -> pa.Schema:
    return pa.schema(list(keys) + list(request))


def decide_with_python(replay: Replay, keys: tuple[str, ...], writer_for, rejects: RejectsFile,
                       counts: Counts) -> None:
    """Every row by the ordinary runtime; `writer_for(schema)` gives the writer of decided rows."""
    policy = replay.compiled.checked
    decider, writer, pending = None, None, []

    def flush():
        nonlocal decider, writer
        if decider is None:
            key_schema = _key_schema([own for own, _ in pending], keys)
            schema = decision_schema(policy, key_schema)
            decider = PythonDecider(replay.compiled, replay.hash, schema, tuple(key_schema.names))
            writer = writer_for(schema)
        decided, refused = decider.decide(pending)
        counts.by_python += len(decided)
        writer.write_table(decider.table(decided))
        rejects.write(refused)
        pending.clear()

    for item in python_rows(replay, keys):
        counts.rows += 1
        pending.append(item)
        if len(pending) >= BATCH:
            flush()
    if pending or decider is None:
        flush()


def lowerable(replay: Replay) -> NotLowerable | None:
    """Why the policy cannot be decided in SQL, or None (at once when a run before kept its
    query in the user's cache: plans.py)."""
    from . import plans

    if plans.lowers(replay):
        return None
    from .query import PolicyQuery

    try:
        PolicyQuery(replay.compiled, {}, replay.version, replay.hash).select("rpl_input")
    except NotLowerable as error:
        return error
    return None


__all__ = ["Counts", "Replay", "RejectsFile", "ReplayError", "decide_with_python", "input_keys",
           "lowerable", "rejects_path"]
