"""An input read here, row by row, in Python: JSON lines and CSV as the requests `rpl eval` would
read from the same text (a malformed line refused with the same problems), Parquet rows as
requests, and requests as typed columns, for an engine that cannot read the input as it is (or
the Python path, which decides them).

A run whose engine reads its Parquet input in place, by a query kept in the cache, never
imports this module, nor pyarrow with it.
"""
from __future__ import annotations

import contextlib
import csv
import io
import itertools
import json
from typing import TYPE_CHECKING

import pyarrow as pa

from rplang.compiler import types as T
from rplang.compiler import without_garbage_collection
from rplang.compiler.checked import CheckedPolicy
from rplang.policy_lang.errors import RequestError, RequestProblem, RplError
from rplang.policy_lang.source_text import encodable
from rplang.stream import error_json, line_request

from .columns import plain, python_values, request_schema, to_request
from .errors import ERROR, ReplayError, unreadable
from .sources import FILE, ROW, Source
from .uris import open_input, parquet_source

if TYPE_CHECKING:
    from .run import Counts, RejectsFile, Replay

BATCH = 20_000  # rows decided or written at a time: enough to make each step cheap, few in memory
CELL_LIMIT = 2**31 - 1  # the most csv takes on every platform (a C long); memory is the real bound
SAMPLE = 1_000  # the first records of a text input, which name its columns and their keys' types


def python_rows(replay: Replay, keys: tuple[str, ...]):
    """(keys, request) for every row, requests as `rpl eval` reads them (a bad line as its error)."""
    for _, own, request in _placed_rows(replay, keys):
        yield own, request


def _placed_rows(replay: Replay, keys: tuple[str, ...]):
    """(its file and place in it from 1, keys, request) for every row."""
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
            for batch in _parquet_batches(name, pq.ParquetFile(parquet)):
                for row in python_values(batch):
                    file_number += 1
                    own = {k: row.pop(k, None) for k in keys}
                    for place in places:
                        row.pop(place, None)
                    if not keys:
                        own = {ROW: file_number, **({FILE: name} if len(replay.source.files) > 1 else {})}
                    yield (name, file_number), own, to_request(row)


def _parquet_batches(name: str, parquet):
    """A Parquet file's rows, BATCH at a time; a page that cannot be read is an error naming the
    file (pyarrow's is an OSError, which would be reported as OUT's)."""
    try:
        yield from parquet.iter_batches(BATCH)
    except (pa.ArrowException, OSError) as error:
        raise unreadable(name, error) from None


def keyed_batches(replay: Replay, keys: tuple[str, ...]):
    """python_rows' (keys, request) pairs, BATCH at a time, each batch with the key columns'
    Arrow schema (that of the first batch, which names them; see `key_schema`). A later row of
    a text input whose key that schema cannot hold is an error naming it (Arrow would refuse it,
    or drop an object's field the first rows never had, silently)."""
    typed = parquet_schema(replay, keys)
    checked = keys if typed is None else ()  # a Parquet file's keys are of its columns' types
    schema, places, batch = None, [], []
    for place, own, request in _placed_rows(replay, keys):
        if schema is not None:
            check_keys(replay.source, checked, place, own, schema, len(places))
        else:
            places.append(place)
        batch.append((own, request))
        if len(batch) >= BATCH:
            schema = schema or key_schema(replay.source, places, [own for own, _ in batch], keys, typed)
            yield schema, batch
            batch = []
    if batch or schema is None:
        yield schema or key_schema(replay.source, places, [own for own, _ in batch], keys, typed), batch


def check_keys(source: Source, keys: tuple[str, ...], place: tuple[str, int], own: dict, schema: pa.Schema,
               first: int) -> None:
    """A row after the first `first`, which made the key columns `schema`: each of its keys is
    one of its column's, else the error naming the row."""
    for k in keys:
        if not _fits(own[k], schema.field(k).type):
            raise _other_type(source, k, place, own[k], schema.field(k).type, first)


def keys_fit(rows: list[tuple], schema: pa.Schema) -> bool:
    """Whether the keys of rows after the first (each row's a tuple, in the order of `schema`,
    which the first rows made) are each one of its column's: `check_keys` for many rows at once,
    naming none (then `check_keys` finds the row)."""
    return all(_fits(row[i], t) for i, t in enumerate(schema.types) for row in rows)


def typed_batches(replay: Replay, keys: tuple[str, ...], rejects: RejectsFile, counts: Counts, batches=None):
    """The rows read by the request reader, as typed request columns (for the SQL path over an
    input the engine cannot read as it is); rows it refuses go to the rejects now. `batches`:
    `keyed_batches`' batches, if the caller has begun them."""
    policy = replay.compiled
    schema = request_schema(policy.checked)
    batches = keyed_batches(replay, keys) if batches is None else batches
    while True:
        # A batch's rows and requests are trees of new dicts and lists, freed by their counts
        # alone: the collector, scanning them again and again as they were made, took a third of
        # the time. Paused while they are made, and back once they are freed (no scan of them)
        with without_garbage_collection():
            found = next(batches, None)
            if found is None:
                return
            typed, refused = typed_batch(*found, policy, schema, keys, counts)
            del found
        yield typed
        rejects.write(refused)


def typed_batch(key_types: pa.Schema, batch: list, policy, schema: pa.Schema, keys: tuple[str, ...],
                counts: Counts, kept: list | None = None) -> tuple[pa.RecordBatch, list[dict]]:
    """A batch of rows as typed columns of the keys and requests of those the request reader
    accepts, and the rejects of the others. The requests go to Arrow as the reader converted
    them, walked by no Python code: every converted request has every field, and Arrow reads a
    record's fields from its dict by name, passing over the keys that are no field's (the
    reader's `#path`, which no field's name can be). `kept`: a list given the keys of the rows
    accepted, in order, for a caller that types them later (read_workers.py)."""
    owns, requests, refused = [], [], []
    read = policy.read_request
    for own, request in batch:
        counts.rows += 1
        try:
            if isinstance(request, RplError):
                raise request
            requests.append(read(request))
        except RplError as error:
            refused.append({**own, ERROR: error_json(error)})
            continue
        owns.append(own)
    batch.clear()  # the rows as read, freed now (`keyed_batches` holds the list until its next batch)
    if kept is not None:
        kept += owns
    columns = [[own.get(k) for own in owns] for k in key_types.names] + \
        [[request[n] for request in requests] for n in schema.names]
    return keyed(lambda: pa.RecordBatch.from_arrays(columns, schema=with_keys(key_types, schema)), keys), refused


def parquet_schema(replay: Replay, keys: tuple[str, ...]) -> pa.Schema | None:
    """The keys' types of a Parquet input, as its files' schemas have them, which their values (a
    map read as a list of pairs, a date past 9999 read as its text) do not always show: each the
    widest of the files' (input_keys has checked them to be of one kind: integers of any width,
    amounts of any scale)."""
    if replay.source.format != "parquet":
        return None
    if not keys:  # the rows' places are the keys, no column of the files: no footer to read for them
        return pa.schema([])
    import pyarrow.parquet as pq

    schemas = []
    for file in replay.source.files:
        with parquet_source(file) as parquet:
            schema = pq.read_schema(parquet)
        schemas.append(pa.schema([schema.field(k) for k in keys]))
    return pa.unify_schemas(schemas, promote_options="permissive")


def key_schema(source: Source, places: list, rows: list[dict], keys: tuple[str, ...],
               typed: pa.Schema | None = None) -> pa.Schema:
    """The key columns' types: those of a typed input's own (`typed`, a Parquet file's schema),
    else as the first rows (`places`: where each is) show them, each key apart: JSON's objects
    as a struct of every field they have (a field an object leaves out is null in it), numbers
    whole in some and not in others as DOUBLE, a null where nothing else is as text. Keys of
    values of several types are an error naming the first row that disagrees with those before it."""
    if typed is not None and keys:
        return pa.schema([typed.field(k).with_nullable(True) for k in keys])  # a later file may hold NULLs
    names = keys or tuple(k for k in (ROW, FILE) if rows and k in rows[0]) or (ROW,)
    if not rows:
        return pa.schema([(n, pa.int64()) for n in names])
    fields = []
    for name in names:
        values = [row.get(name) for row in rows]
        found = _inferred(values)
        if found is None and _inferred([v for v in values if not _past_double(v)]) is not None:
            # Arrow puts no whole number past 2**53 in a column of numbers that are not whole
            past = next(n for n, v in enumerate(values) if _past_double(v))
            raise _other_type(source, name, places[past], values[past], pa.float64())
        if found is None:  # the first row whose key the rows before it, and it, cannot share
            low, high = 0, len(values) - 1  # values[:low] share one, values[:high + 1] do not
            while low < high:
                middle = (low + high) // 2
                low, high = (middle + 1, high) if _inferred(values[:middle + 1]) is not None else (low, middle)
            before = _inferred(values[:low]) if low else None
            raise _other_type(source, name, places[low], values[low], before)
        inexact = next((n for n, v in enumerate(values) if not _fits(v, found)), None)
        if inexact is not None:  # a whole number past 2**53 among numbers that are not whole
            raise _other_type(source, name, places[inexact], values[inexact], found)
        fields.append(pa.field(name, _nulls_as_text(found)))
    return pa.schema(fields)


def _inferred(values: list) -> pa.DataType | None:
    """The Arrow type of a column of these values, or None if they are of several types (or
    whole numbers past 64 bits)."""
    try:
        return pa.array(values).type
    except (pa.ArrowInvalid, pa.ArrowTypeError, OverflowError):
        return None


def _nulls_as_text(t: pa.DataType) -> pa.DataType:
    """`t` with a column, a field or a list's elements null in every row first seen as text."""
    if pa.types.is_null(t):
        return pa.string()
    if pa.types.is_struct(t):
        return pa.struct([t.field(i).with_type(_nulls_as_text(t.field(i).type)) for i in range(t.num_fields)])
    if pa.types.is_list(t):
        return pa.list_(_nulls_as_text(t.value_type))
    return t


def _fits(value, t: pa.DataType) -> bool:
    """Whether a key's value (as JSON gives it) is one of a column of type `t` (as `key_schema`
    infers them), whole, without a field the type has no room for."""
    if value is None:
        return True
    if pa.types.is_string(t):
        return isinstance(value, str)
    if pa.types.is_boolean(t):
        return isinstance(value, bool)
    if isinstance(value, bool):
        return False
    if pa.types.is_int64(t):
        return isinstance(value, int) and -2 ** 63 <= value < 2 ** 63
    if pa.types.is_floating(t):  # a whole number past 2**53 has no DOUBLE of its own
        return isinstance(value, float) or isinstance(value, int) and -_EXACT <= value <= _EXACT
    if pa.types.is_struct(t):
        return isinstance(value, dict) and all(
            t.get_field_index(k) >= 0 and _fits(v, t.field(k).type) for k, v in value.items())
    if pa.types.is_list(t):
        return isinstance(value, list) and all(_fits(v, t.value_type) for v in value)
    return False


_EXACT = 2 ** 53  # the largest whole numbers a DOUBLE holds exactly, either side of 0


def _past_double(value) -> bool:
    """Whether a key's value (as JSON gives it) holds a whole number a DOUBLE cannot hold exactly."""
    if isinstance(value, dict):
        return any(_past_double(v) for v in value.values())
    if isinstance(value, list):
        return any(_past_double(v) for v in value)
    return isinstance(value, int) and not isinstance(value, bool) and not -_EXACT <= value <= _EXACT


def _other_type(source: Source, key: str, place: tuple[str, int], value, before: pa.DataType | None,
                first: int = 0) -> ReplayError:
    """A key's value of another type than the rows' before it (`before`, None for the first row;
    `first`: how many rows made the key's column, for a row after them): which row, what it
    holds, what to do."""
    name, number = place
    row = f"{'line' if source.format == 'jsonl' else 'row'} {number:,} of {name}"
    if isinstance(value, int) and not isinstance(value, bool) and not -2 ** 63 <= value < 2 ** 63:
        # JSON's 100000000000000000000: no integer column holds it
        return ReplayError(f"the key `{key}` holds a whole number too large for a 64-bit integer column "
                           f"({row}); give it as text (\"{value}\"), or name another with --key")
    shown = json.dumps(value, ensure_ascii=False, default=str)
    shown = shown if len(shown) <= 60 else shown[:57] + "..."
    if before is not None and _past_double(value) and "double" in str(before):
        return ReplayError(f"the key `{key}` holds {shown} ({row}), a whole number past 2**53 among numbers "
                           "that are not whole: their column (DOUBLE) would not hold it exactly; give the key's "
                           "numbers as text, or name another with --key")
    if before is None:  # a value no one column holds, whatever the other rows' are
        return ReplayError(f"the key `{key}` holds {shown} ({row}), which no column holds: a list of values of "
                           "several types, or a whole number past 64 bits; give it values of one type, or name "
                           "another with --key")
    rows = f"the first {first:,} rows, which make its column," if first else "the rows before it"
    return ReplayError(f"the key `{key}` holds values of more than one type: {row} holds {shown}, where "
                       f"{rows} hold {_kind(before)}; give it values of one type in every row (objects may "
                       "leave fields out, numbers may be whole in some rows), or name another with --key")


def _kind(t: pa.DataType) -> str:
    """A key column's type as its JSON values are: `objects with the fields a, b`, `lists of text`."""
    if pa.types.is_struct(t):
        return f"objects with the fields {', '.join(t.field(i).name for i in range(t.num_fields))}"
    if pa.types.is_list(t):
        return f"lists of {_kind(t.value_type)}"
    return {pa.string(): "text", pa.int64(): "whole numbers", pa.float64(): "numbers",
            pa.bool_(): "true or false", pa.null(): "nulls"}.get(t, str(t))


def keyed(build, keys: tuple[str, ...]):
    """`build()`, which makes Arrow columns of rows with their keys, typed as a Parquet input's
    first file types them: a later file's key of another type (text where the first has
    integers), or a whole number past its column's, is named, not an Arrow error. (A text
    input's keys are checked row by row, in `keyed_batches`.)"""
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


def with_keys(keys: pa.Schema, request: pa.Schema) -> pa.Schema:
    return pa.schema(list(keys) + list(request))


# ---- JSON lines and CSV: the rows as requests -----------------------------------------------

def text_rows(source: Source, keys: tuple[str, ...], policy: CheckedPolicy):
    """(its file and place in it, keys, request or RequestError) for every line of JSON lines or
    every row of CSV, in order."""
    for name, number, raw in _records(source, policy):
        yield text_row(source, keys, name, number, raw)


def text_row(source: Source, keys: tuple[str, ...], name: str, number: int, raw):
    """A record of a text input (`records`') as (its file and place in it, keys, request or
    RequestError)."""
    where = {ROW: number, **({FILE: name} if len(source.files) > 1 else {})}
    key_values = {} if keys else dict(where)
    if not isinstance(raw, dict):  # its keys unread (not JSON, not UTF-8, JSON that is no object: `null`,
        # a list): its place in the input says which it is (the line had no keys and no place, and in
        # a worker of --jobs its missing key stopped the worker, and the replay waited for it for ever)
        return (name, number), {**where, **{k: None for k in keys}}, raw
    key_values.update((k, raw.pop(k, None)) for k in keys)
    return (name, number), key_values, raw.error if isinstance(raw, _Refused) else raw


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
                yield from records(name, stream, 1, None, policy)
        else:
            with csv_text(open_input(name), "utf-8-sig") as stream:
                reader = csv.DictReader(stream)
                with cells_of_any_length():
                    header = csv_header(name, reader.fieldnames)
                yield from records(name, csv_rows(reader), 1, header, policy)


def records(name: str, lines, first: int, header: list[str] | None, policy: CheckedPolicy):
    """(file, place, record) for the lines of JSON lines (`header` None: bytes, each with its line
    feed) or the rows of CSV (dicts of its columns), the first numbered `first`."""
    if header is None:
        for number, raw in enumerate(lines, first):
            yield name, number, _json_line(raw)
    else:
        for number, row in enumerate(lines, first):
            yield name, number, _csv_row(row, header, policy)


def csv_text(binary, encoding: str) -> io.TextIOWrapper:
    """CSV's bytes as csv reads them: a byte that is not UTF-8 kept as it is, to refuse its row
    alone (`_csv_row`); utf-8-sig for a whole file (a byte order mark, as spreadsheets write
    one, is no part of the header)."""
    return io.TextIOWrapper(binary, encoding=encoding, errors="surrogateescape", newline="")


@contextlib.contextmanager
def cells_of_any_length():
    """Room, while it lasts, for a CSV cell as long as a JSON line: csv's own cap (128 KiB, a list
    of items as JSON text passes it) stopped the replay as a bug in rpl. csv has the cap only as
    a global of the module, the caller's too (a notebook's): it is set back as it was after."""
    previous = csv.field_size_limit(CELL_LIMIT)
    try:
        yield
    finally:
        csv.field_size_limit(previous)


def csv_rows(reader):
    """The rows of a csv reader, each read with `cells_of_any_length`: a reader's rows are read one
    by one, and the caller's code runs between them with its own cap."""
    while True:
        with cells_of_any_length():
            row = next(reader, None)
        if row is None:
            return
        yield row


def csv_header(name: str, header: list[str] | None) -> list[str]:
    """A CSV file's header, checked: UTF-8 text, no column twice."""
    header = header or []
    if not all(encodable(column) for column in header):
        raise ReplayError(f"{name}: its header is not UTF-8 text")
    twice = next((column for column in header if header.count(column) > 1), None)
    if twice is not None:
        raise ReplayError(f"{name}: the column `{twice}` twice in the header")
    return header


class _Refused(dict):
    """A CSV row whose keys were read but which is no request: `error` says why."""

    def __init__(self, row: dict, error: RequestError):
        super().__init__(row)
        self.error = error


def _csv_row(row: dict, header: list[str], policy: CheckedPolicy):
    """A CSV row as a request, or why it is none: a cell that is not UTF-8 (a RequestError: its
    keys cannot be read either), more cells than the header names (_Refused)."""
    for column, cell in row.items():
        if isinstance(cell, str) and not encodable(cell):
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


def _json_line(raw: bytes):
    """A line as `rpl eval --jsonl` reads it: its request, or the error it reports."""
    try:
        return line_request(raw)
    except RequestError as error:
        return error


def _csv_request(row: dict, policy: CheckedPolicy) -> dict:
    """A CSV row as a request: `order.delivery_date` is a field of a record, a list is a JSON
    text, yes/no is `true` or `false`, an empty cell is a field left out. A column whose name
    does not begin with a field of the request (`k.a`, a key) is one column, as named."""
    request: dict = {}
    for column, cell in row.items():
        if column is None or cell is None or cell == "":
            continue
        path = column.split(".")
        if path[0] not in policy.request:
            path = [column]
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
