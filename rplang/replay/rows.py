"""An input read here, row by row, in Python: JSON lines and CSV as the requests `rpl eval` would
read from the same text (a malformed line refused with the same problems), Parquet rows as
requests, and requests as typed columns, for an engine that cannot read the input as it is (or
the Python path, which decides them).

A run whose engine reads its Parquet input in place, by a query kept in the cache, never
imports this module, nor pyarrow with it.
"""
from __future__ import annotations

import csv
import json
from typing import TYPE_CHECKING

import pyarrow as pa

from rplang.compiler import types as T
from rplang.compiler.checked import CheckedPolicy
from rplang.policy_lang.errors import RequestError, RplError
from rplang.stream import error_json, line_request

from .columns import from_request, plain, python_values, request_schema, to_request
from .errors import ERROR
from .sources import FILE, ROW, Source

if TYPE_CHECKING:
    from .run import Counts, RejectsFile, Replay

BATCH = 20_000  # rows decided or written at a time: enough to make each step cheap, few in memory


def python_rows(replay: Replay, keys: tuple[str, ...]):
    """(keys, request) for every row, requests as `rpl eval` reads them (a bad line as its error)."""
    if replay.source.format != "parquet":
        yield from text_rows(replay.source, keys, replay.compiled.checked)
        return
    import pyarrow.parquet as pq

    # a Parquet file `write_requests` wrote without keys holds each row's place in its own input
    # as a column: no field of the request; the place kept is the row's in this file, as in SQL
    places = tuple(k for k in (ROW, FILE) if k not in replay.compiled.checked.request)
    for name in replay.source.files:
        file_number = 0
        for batch in pq.ParquetFile(name).iter_batches(BATCH):
            for row in python_values(batch):
                file_number += 1
                own = {k: row.pop(k, None) for k in keys}
                for place in places:
                    row.pop(place, None)
                if not keys:
                    own = {ROW: file_number, **({FILE: name} if len(replay.source.files) > 1 else {})}
                yield own, to_request(row)


def typed_batches(replay: Replay, keys: tuple[str, ...], rejects: RejectsFile, counts: Counts):
    """The rows read by the request reader, as typed request columns (for the SQL path over an
    input the engine cannot read as it is); rows it refuses go to the rejects now."""
    policy = replay.compiled
    schema = request_schema(policy.checked)
    keyed = None
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
            keyed = keyed or key_schema(rows, keys)
            yield pa.RecordBatch.from_pylist(rows, schema=_with(keyed, schema))
            rows = []
            rejects.write(refused)
            refused = []
    rejects.write(refused)
    if rows or keyed is None:
        keyed = keyed or key_schema(rows, keys)
        yield pa.RecordBatch.from_pylist(rows, schema=_with(keyed, schema))


def key_schema(rows: list[dict], keys: tuple[str, ...]) -> pa.Schema:
    """The key columns' types, as the first rows show them."""
    names = keys or tuple(k for k in (ROW, FILE) if rows and k in rows[0]) or (ROW,)
    return pa.Table.from_pylist([{k: r.get(k) for k in names} for r in rows[:1000]]).schema if rows else \
        pa.schema([(n, pa.int64()) for n in names])


def _with(keys: pa.Schema, request: pa.Schema) -> pa.Schema:
    return pa.schema(list(keys) + list(request))


# ---- JSON lines and CSV: the rows as requests -----------------------------------------------

def text_rows(source: Source, keys: tuple[str, ...], policy: CheckedPolicy):
    """(keys, request or RequestError) for every line of JSON lines or every row of CSV, in order."""
    for number, (name, raw) in enumerate(_records(source, policy), 1):
        key_values = {ROW: number} if not keys else {}
        if len(source.files) > 1 and not keys:
            key_values[FILE] = name
        if isinstance(raw, RequestError):
            yield {**key_values, **{k: None for k in keys}}, raw
            continue
        if isinstance(raw, dict):
            key_values.update((k, raw.pop(k, None)) for k in keys)
        yield key_values, raw


def text_columns(source: Source, policy: CheckedPolicy) -> list[str]:
    """The columns of a text input, as its first record shows them."""
    for _, raw in _records(source, policy):
        if isinstance(raw, dict):
            return list(raw)
    return []


def _records(source: Source, policy: CheckedPolicy):
    for name in source.files:
        if source.format == "jsonl":
            with open(name, "rb") as stream:
                for raw in stream:
                    yield name, _json_line(raw)
        else:
            with open(name, encoding="utf-8", newline="") as stream:
                for row in csv.DictReader(stream):
                    yield name, _csv_request(row, policy)


def _json_line(raw: bytes):
    """A line as `rpl eval --jsonl` reads it: its request, or the error it reports."""
    try:
        return line_request(raw)
    except RequestError as error:
        return error


def _csv_request(row: dict, policy: CheckedPolicy) -> dict:
    """A CSV row as a request: `order.delivery_date` is a field of a record, a list is a JSON
    text, yes/no is `true` or `false`, an empty cell is a field left out."""
    request: dict = {}
    for column, cell in row.items():
        if column is None or cell is None or cell == "":
            continue
        path = column.split(".")
        target = request
        for part in path[:-1]:
            target = target.setdefault(part, {})
            if not isinstance(target, dict):
                break
        else:
            target[path[-1]] = _csv_cell(cell, _field_type(policy, path))
    return request


def _field_type(policy: CheckedPolicy, path: list[str]):
    fields = policy.request
    t = None
    for part in path:
        spec = fields.get(part) if fields is not None else None
        if spec is None:
            return None
        t = plain(spec.type)
        fields = policy.records[t.name] if isinstance(t, T.RecordType) else None
    return t


def _csv_cell(cell: str, t):
    if t == T.BOOLEAN and cell.strip().lower() in ("true", "false"):
        return cell.strip().lower() == "true"
    if t == T.INTEGER and cell.strip().lstrip("-").isdigit():
        return int(cell)
    if isinstance(t, (T.ListType, T.RecordType)):
        try:
            return json.loads(cell)
        except ValueError:
            return cell  # the request reader says what is wrong with it
    return cell
