"""A text input (JSON lines, CSV) read by the request reader in several forked processes:
`rpl replay --jobs N`.

Each file is cut into byte ranges that end on a line feed and numbered by their first line, as
`rpl eval --jobs N` cuts its input (stream_workers), and each worker reads its ranges with
rows.py's own reader: the same records, numbered the same, the same checks and rejects. A range
comes back as one Arrow record batch (its IPC message, spliced into a temporary file that has no
name, so that nothing is left behind however the run ends) with its rows' count and rejects;
this process writes the rejects and reads the batches, in input order.

The key columns' types are those the input's first `rows.BATCH` rows show, as in one process:
the workers start at once and hand back each row's keys beside its range's batch of requests;
this process types the keys from the first rows as they come back, checks every later row
against the types (a row that does not fit is the same error, naming it) and makes each range's
key columns. An input without keys of its own is keyed by each row's place, of types known
before any row is read, which the workers make themselves.

A CSV file, whose rows may be several lines (a line feed within quotes) and whose blank lines
are no rows, is cut where rows start, as the main process's csv pass finds them, and each range
numbered by its first row.
"""
from __future__ import annotations

import bisect
import csv
import os
from typing import TYPE_CHECKING

import attrs
import pyarrow as pa

from rplang import stream_workers
from rplang.compiler import without_garbage_collection

from .columns import request_schema
from .errors import ReplayError
from .rows import (BATCH, cells_of_any_length, check_keys, csv_header, csv_rows, csv_text, key_schema, keyed, keys_fit,
                   records, text_row, typed_batch, typed_batches, with_keys)
from .run import Counts
from .uris import is_uri

if TYPE_CHECKING:
    from .run import RejectsFile, Replay


def typed_input(replay: Replay, keys: tuple[str, ...], rejects: RejectsFile, counts: Counts):
    """`rows.typed_batches`, read by `replay.jobs` processes where they can share the reading: a
    text input of local files."""
    source = replay.source
    if replay.jobs == 1 or source.format == "parquet" or any(is_uri(f) for f in source.files):
        return typed_batches(replay, keys, rejects, counts)
    csv_files = [None if source.format == "jsonl" else _csv_places(name) for name in source.files]
    if source.format != "jsonl" and None in csv_files:  # a file without a header: as one process reads it
        return typed_batches(replay, keys, rejects, counts)
    if not keys:  # a row's place: its number (and file), of the types the first batch would show
        place = text_row(source, keys, source.files[0], 1, {})[1]
        return _read_in_workers(replay, keys, key_schema(source, [], [place], keys), csv_files, rejects,
                                 counts)
    return _read_in_workers(replay, keys, None, csv_files, rejects, counts)


@attrs.frozen
class _Range:
    """What a worker read of a range, beside its batch: its rows, their rejects, the size of the
    batch's IPC message, or the error that stopped it; where the process that started the workers
    types the keys, the place of its first row, every row's keys (those read before an error) and
    the accepted rows'."""
    rows: int
    refused: list
    size: int
    error: str | None = None
    first: int = 0
    keys: list = attrs.field(factory=list)
    kept: list = attrs.field(factory=list)


class _Taken:
    """The ranges' rows counted and their rejects written, in input order, as `decide_in_workers`
    hands them over; the first range's error, raised. Where the keys are typed here (`key_types`
    None), the ranges wait until the first BATCH rows are in, whose keys make the key columns'
    types (`rows.key_schema`); each later row's keys are checked against them (`rows.check_keys`),
    and each range's key columns made (`columns`)."""

    def __init__(self, source, keys: tuple[str, ...], key_types: pa.Schema | None, rejects: RejectsFile,
                 counts: Counts):
        self.source, self.keys, self.key_types = source, keys, key_types
        self.rejects, self.counts, self.sizes, self.columns = rejects, counts, [], []
        self.name = None  # the file whose ranges are handed over now
        self.waiting: list[tuple[str, _Range]] = []  # ranges read before the key types are known
        self.seen = 0  # rows whose keys were taken, in input order
        self.first_rows = 0  # the rows whose keys made the key columns' types

    def add(self, read: _Range) -> None:
        if self.key_types is not None:
            self._take(self.name, read)
            return
        self.waiting.append((self.name, read))
        if sum(len(r.keys) for _, r in self.waiting) >= BATCH:
            self.type_keys()
        elif read.error is not None:  # met before the first BATCH rows were in: as one process meets it
            raise ReplayError(read.error)

    def type_keys(self) -> None:
        """The key columns' types, from the first BATCH rows' keys (all the input's, if fewer), as
        one process finds them; then the ranges that waited for them are taken."""
        places, owns = [], []
        for name, read in self.waiting:
            for number, values in enumerate(read.keys[:BATCH - len(owns)], read.first):
                places.append((name, number))
                owns.append(dict(zip(self.keys, values)))
        self.first_rows = len(owns)
        self.key_types = key_schema(self.source, places, owns, self.keys)
        waiting, self.waiting = self.waiting, []
        for name, read in waiting:
            self._take(name, read)

    def _take(self, name: str, read: _Range) -> None:
        if self.keys:
            past = max(0, self.first_rows - self.seen)  # the range's first row after those that typed the keys
            later = read.keys[past:]
            if not keys_fit(later, self.key_types):  # the row that does not fit, named as one process names it
                for number, values in enumerate(later, read.first + past):
                    check_keys(self.source, self.keys, (name, number), dict(zip(self.keys, values)), self.key_types,
                               self.first_rows)
            self.seen += len(read.keys)
        if read.error is not None:
            raise ReplayError(read.error)
        self.counts.rows += read.rows
        self.rejects.write(read.refused)
        self.sizes.append(read.size)
        if self.keys:
            types = self.key_types.types
            self.columns.append(keyed(lambda: [pa.array([values[i] for values in read.kept], type=t)
                                                for i, t in enumerate(types)], self.keys))


def _read_in_workers(replay: Replay, keys: tuple[str, ...], key_types: pa.Schema | None, csv_files: list,
                     rejects: RejectsFile, counts: Counts):
    """The input read by the workers (`key_types`: the key columns' types, None where the first
    rows' keys make them, as they come back: `_Taken`; `csv_files`: each CSV file's `_csv_places`,
    None for JSON lines)."""
    import mmap
    import tempfile

    from rplang.stream_workers import WorkerLost, decide_in_workers

    source, policy = replay.source, replay.compiled
    request = request_schema(policy.checked)
    taken = _Taken(source, keys, key_types, rejects, counts)
    with tempfile.TemporaryFile(prefix="rpl-replay-") as parts:
        for name, csv_file in zip(source.files, csv_files):
            taken.name = name
            header, places = csv_file or (None, None)
            read_range, lines_of = _range_reader(replay, keys, key_types, request, name, header)
            fd = os.open(name, os.O_RDONLY)
            try:
                ranges = stream_workers.FileRanges(fd, 0, replay.jobs) if places is None else \
                    _RowRanges(fd, places, replay.jobs)
                # a range is always a byte range of the file, never a line too long to pass on
                decide_in_workers(ranges, parts, replay.jobs, read_range, lines_of, None, taken, fd)
            except WorkerLost as error:
                raise ReplayError(f"a worker process reading {name} ended before its rows were read "
                                  f"({error.how}); nothing was decided") from None
            finally:
                os.close(fd)
        if taken.key_types is None and taken.waiting:  # fewer rows than a batch: all of them type the keys
            taken.type_keys()
        parts.flush()
        # the batches read where they lie: the mapping outlives the file's descriptor
        mapped = pa.py_buffer(mmap.mmap(parts.fileno(), 0, access=mmap.ACCESS_READ)) if taken.sizes else None
    if not taken.sizes:  # no row: one empty batch, keyed as one process keys it (key_schema)
        yield pa.RecordBatch.from_pylist([], schema=with_keys(key_schema(source, [], [], keys), request))
        return
    schema = with_keys(taken.key_types, request)
    offset = 0
    for number, size in enumerate(taken.sizes):
        batch = pa.ipc.read_record_batch(mapped.slice(offset, size), schema if not keys else request)
        yield pa.RecordBatch.from_arrays(taken.columns[number] + batch.columns, schema=schema) if keys else batch
        offset += size


def _range_reader(replay: Replay, keys: tuple[str, ...], key_types: pa.Schema | None, request: pa.Schema,
                  name: str, header: list[str] | None):
    """What a worker does with a range of the file `name` (`header`: a CSV file's, None for JSON
    lines): `read_range(first, lines_of(binary))`, its rows as one typed batch, of the requests
    alone where the keys are typed by the process that started the workers (`key_types` None)."""
    source, policy = replay.source, replay.compiled
    keys_typed = key_types is not None  # the rows' places: the worker makes their columns

    def read_range(first: int, lines) -> tuple[pa.Buffer | bytes, _Range]:
        counted, every, kept = Counts(), [], []
        try:
            with without_garbage_collection():
                rows = []
                for file, number, raw in records(name, lines, first, header, policy.checked):
                    _, own, found = text_row(source, keys, file, number, raw)
                    rows.append((own, found))
                    if not keys_typed:
                        every.append(tuple(own[k] for k in keys))
                typed, refused = typed_batch(key_types if keys_typed else _NO_KEYS, rows, policy, request,
                                             keys if keys_typed else (), counted, None if keys_typed else kept)
        except ReplayError as error:
            return b"", _Range(0, [], 0, str(error), first, every)
        message = typed.serialize()
        return message, _Range(counted.rows, refused, message.size, None, first, every,
                               [tuple(own[k] for k in keys) for own in kept])

    def lines_of(binary):
        """A range's records as `records` reads them: JSON lines' lines, CSV's rows."""
        if header is None:
            return binary
        return csv_rows(csv.DictReader(csv_text(binary, "utf-8"), fieldnames=header))

    return read_range, lines_of


_NO_KEYS = pa.schema([])


def _csv_places(name: str) -> tuple[list[str], list[tuple[int, int]]] | None:
    """A CSV file's header, and the places a range of it may start or end: (byte offset, number)
    of its first row and of each row that starts at least MIN_CHUNK_BYTES past the place before,
    then (the file's size, one more than its rows); None if it has no header. csv reads the
    file's lines as it does when it reads the rows (`rows.csv_text`: a line also ends at a
    carriage return alone), each line's bytes counted, and reads a line more only to finish a
    row: where it stands after a row is where the next row starts."""
    apart = stream_workers.MIN_CHUNK_BYTES
    with open(name, "rb") as binary:
        at = len(_BOM) if binary.read(len(_BOM)) == _BOM else 0  # utf-8-sig's: no part of the header
        binary.seek(at)

        def lines(text):
            nonlocal at
            for line in text:  # its bytes: a text of ASCII has as many as characters (known at once)
                at += len(line) if line.isascii() else len(line.encode("utf-8", "surrogateescape"))
                yield line
        with csv_text(binary, "utf-8") as text, cells_of_any_length():
            reader = csv.reader(lines(text))
            header = csv_header(name, next(reader, None))
            places, number = [(at, 1)], 1
            for row in reader:
                number += row != []  # a blank line is no row (csv.DictReader skips it)
                if at - places[-1][0] >= apart:
                    places.append((at, number))
    if not header:
        return None
    if places[-1][0] != at:
        places.append((at, number))
    return header, places


_BOM = b"\xef\xbb\xbf"


class _RowRanges(stream_workers.FileRanges):
    """FileRanges' blocks of a CSV file: each range from a row's start to a later row's (`places`,
    `_csv_places`'), about `block_bytes` long or to the next place, numbered by its first row."""

    def __init__(self, fd: int, places: list[tuple[int, int]], jobs: int):
        super().__init__(fd, places[0][0], jobs)
        self.places, self.at = places, 0
        self.offsets = [offset for offset, _ in places]

    def take(self) -> tuple[int, tuple[int, int]] | None:
        if self.at == len(self.places) - 1:  # at the file's end
            self.ended = True
            return None
        reach = bisect.bisect_right(self.offsets, self.position + self.block_bytes()) - 1
        end = max(reach, self.at + 1)  # a row longer than a block: the block is the rows to the next place
        block = self.places[self.at][1], (self.position, self.offsets[end])
        self.at, self.position = end, self.offsets[end]
        return block
