"""An input read here, row by row, in Python: JSON lines and CSV as the requests `rpl eval` would
read from the same text (a malformed line refused with the same problems), Parquet rows as
requests, and requests as typed columns, for an engine that cannot read the input as it is (or
the Python path, which decides them).

A run whose engine reads its Parquet input in place, by a query kept in the cache, never
imports this module, nor pyarrow with it.
"""
from __future__ import annotations

import csv
import io
import itertools
import json
from typing import TYPE_CHECKING

import pyarrow as pa

from rplang.compiler import types as T
from rplang.compiler.checked import CheckedPolicy
from rplang.policy_lang.errors import RequestError, RequestProblem, RplError
from rplang.stream import error_json, line_request

from .columns import from_request, plain, python_values, request_schema, to_request
from .errors import ERROR, ReplayError
from .sources import FILE, ROW, Source
from .uris import open_input, parquet_source

if TYPE_CHECKING:
    from .run import Counts, RejectsFile, Replay

BATCH = 20_000  # rows decided or written at a time: enough to make each step cheap, few in memory
SAMPLE = 1_000  # the first records of a text input, which name its columns and their keys' types


def python_rows(replay: Replay, keys: tuple[str, ...]):
    """(keys, request) for every row, requests as `rpl eval` reads them (a bad line as its error)."""
    if replay.source.format != "parquet":
        yield from text_rows(replay.source, keys, replay.compiled.checked)
        return
    import pyarrow.parquet as pq

    # a Parquet file `write_requests` wrote without keys holds each row's place in its own input
    # as a column, no field of the request: `rpl replay` keeps it as the row's key
    # (sources.choose_keys); written again by `write_requests`, it is left out of the request
    places = tuple(k for k in (ROW, FILE) if k not in replay.compiled.checked.request)
    for name in replay.source.files:
        file_number = 0
        with parquet_source(name) as parquet:
            for batch in pq.ParquetFile(parquet).iter_batches(BATCH):
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
    key_types = None
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
            key_types = key_types or key_schema(rows, keys)
            yield keyed(lambda: pa.RecordBatch.from_pylist(rows, schema=_with(key_types, schema)), keys)
            rows = []
            rejects.write(refused)
            refused = []
    rejects.write(refused)
    if rows or key_types is None:
        key_types = key_types or key_schema(rows, keys)
        yield keyed(lambda: pa.RecordBatch.from_pylist(rows, schema=_with(key_types, schema)), keys)


def key_schema(rows: list[dict], keys: tuple[str, ...], typed: pa.Schema | None = None) -> pa.Schema:
    """The key columns' types: those of a typed input's own (`typed`, a Parquet file's schema),
    else as the first rows show them (a key null in all of them: text)."""
    if typed is not None and keys:
        return pa.schema([typed.field(k).with_nullable(True) for k in keys])  # a later file may hold NULLs
    names = keys or tuple(k for k in (ROW, FILE) if rows and k in rows[0]) or (ROW,)
    if not rows:
        return pa.schema([(n, pa.int64()) for n in names])
    found = keyed(lambda: pa.Table.from_pylist([{k: r.get(k) for k in names} for r in rows[:SAMPLE]]).schema, names)
    return pa.schema([f.with_type(pa.string()) if pa.types.is_null(f.type) else f for f in found])


def keyed(build, keys: tuple[str, ...]):
    """`build()`, which makes Arrow columns of rows with their keys: a key whose values are of
    several types (JSON's `1` and `"A2"`), or a whole number past 64 bits, is named, not an
    Arrow error."""
    named = " or ".join(f"`{k}`" for k in keys)
    try:
        return build()
    except (pa.ArrowInvalid, pa.ArrowTypeError) as error:
        raise ReplayError(f"the key {named} holds values of more than one type "
                          f"({str(error).splitlines()[0]}); give it values of one type, or name another with --key") \
            from None
    except OverflowError:  # JSON's 100000000000000000000: no integer column holds it
        raise ReplayError(f"the key {named} holds a whole number too large for a 64-bit integer column; "
                          "give it as text (\"100000000000000000000\"), or name another with --key") from None


def _with(keys: pa.Schema, request: pa.Schema) -> pa.Schema:
    return pa.schema(list(keys) + list(request))


# ---- JSON lines and CSV: the rows as requests -----------------------------------------------

def text_rows(source: Source, keys: tuple[str, ...], policy: CheckedPolicy):
    """(keys, request or RequestError) for every line of JSON lines or every row of CSV, in order."""
    for name, number, raw in _records(source, policy):
        where = {ROW: number, **({FILE: name} if len(source.files) > 1 else {})}
        key_values = {} if keys else dict(where)
        if isinstance(raw, RequestError):  # its keys unread: its place in the input says which it is
            yield {**where, **{k: None for k in keys}}, raw
            continue
        if isinstance(raw, dict):
            key_values.update((k, raw.pop(k, None)) for k in keys)
        yield key_values, raw.error if isinstance(raw, _Refused) else raw


def text_columns(source: Source, policy: CheckedPolicy) -> list[str]:
    """The columns of a text input, as its first records (up to SAMPLE) name them, in the order
    first seen: a JSON line may leave out a key the next ones have."""
    seen: dict[str, None] = {}
    for _, _, raw in itertools.islice(_records(source, policy), SAMPLE):
        if isinstance(raw, dict):
            seen.update(dict.fromkeys(raw))
    return list(seen)


def _records(source: Source, policy: CheckedPolicy):
    """(file, the record's place in it from 1, the record) for every line or row of the input."""
    for name in source.files:
        if source.format == "jsonl":
            with open_input(name) as stream:
                for number, raw in enumerate(stream, 1):
                    yield name, number, _json_line(raw)
        else:
            # utf-8-sig: a byte order mark, as spreadsheets write one, is no part of the header;
            # a byte that is not UTF-8 kept as it is, to refuse its row alone (`_csv_row`)
            with io.TextIOWrapper(open_input(name), encoding="utf-8-sig", errors="surrogateescape",
                                  newline="") as stream:
                reader = csv.DictReader(stream)
                header = reader.fieldnames or []
                if not all(_utf8(column) for column in header):
                    raise ReplayError(f"{name}: its header is not UTF-8 text")
                twice = next((column for column in header if header.count(column) > 1), None)
                if twice is not None:
                    raise ReplayError(f"{name}: the column `{twice}` twice in the header")
                for number, row in enumerate(reader, 1):
                    yield name, number, _csv_row(row, reader.fieldnames, policy)


class _Refused(dict):
    """A CSV row whose keys were read but which is no request: `error` says why."""

    def __init__(self, row: dict, error: RequestError):
        super().__init__(row)
        self.error = error


def _csv_row(row: dict, header: list[str], policy: CheckedPolicy):
    """A CSV row as a request, or why it is none: a cell that is not UTF-8 (a RequestError: its
    keys cannot be read either), more cells than the header names (_Refused)."""
    for column, cell in row.items():
        if isinstance(cell, str) and not _utf8(cell):
            try:
                cell.encode("utf-8", "surrogateescape").decode("utf-8")
            except UnicodeDecodeError as error:
                return RequestError([RequestProblem("$", f"not valid UTF-8: {error.reason} in the column `{column}`")])
    extra = row.pop(None, None)  # csv.DictReader's cells past the header
    if extra:
        n = len(extra)
        problem = RequestProblem("$", f"{n} cell{'s' if n > 1 else ''} more than the header's {len(header)}")
        return _Refused(row, RequestError([problem]))
    return _csv_request(row, policy)


def _utf8(text: str) -> bool:
    """Whether a text read with surrogateescape was UTF-8 (holds no byte kept as a surrogate)."""
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


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
