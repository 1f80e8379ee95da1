"""Inputs: Parquet, JSON lines or CSV, a file, a folder or a glob; their key columns.

A Parquet input is read by the engine itself; JSON lines and CSV are read line by line into
requests (rows.py).
"""
from __future__ import annotations

import datetime
import glob
import math
import os
from collections.abc import Collection
from decimal import Decimal
from pathlib import Path

import attrs

from rplang.policy_lang.errors import did_you_mean

from .errors import ERROR, ReplayError

FORMATS = {".parquet": "parquet", ".pq": "parquet", ".jsonl": "jsonl", ".ndjson": "jsonl",
           ".json": "jsonl", ".csv": "csv"}
DEFAULT_KEYS = ("request_id", "return_id", "id")
ROW, FILE = "source_row", "source_file"  # the keys of an input that has none of its own


@attrs.frozen
class Source:
    """The files of an input, all of one format."""
    files: tuple[str, ...]
    format: str  # parquet | jsonl | csv

    @property
    def name(self) -> str:
        return self.files[0] if len(self.files) == 1 else f"{len(self.files)} files"


def resolve(spec: str, spark=None) -> Source:
    """The files an INPUT names: a file, a folder (every file of a known format in it), or a glob;
    a URI (`s3a://...`) listed through `spark`'s Hadoop file systems, which read it (uris.py)."""
    from .uris import is_uri, list_files

    path = Path(spec)
    if is_uri(spec):
        if spark is None:
            raise ReplayError(f"{spec}: DuckDB reads local files here; replay a URI with --engine spark, "
                              "which reads it where it is (or download the files and name them)")
        files = list_files(spark, spec, FORMATS)
    elif path.is_dir():
        files = _files_in(path)
    elif any(c in spec for c in "*?["):
        # a folder matched is read as a folder named is (a table Spark wrote, `exports/*.parquet`
        # matching `exports/2025.parquet/`): its files were left out, their rows never decided
        found = (_files_in(Path(f)) if os.path.isdir(f) else _a_file(f) for f in glob.glob(spec, recursive=True))
        files = sorted({f for each in found for f in each})
    elif path.is_file():
        files = [spec]
    elif path.exists():
        _a_file(spec)  # raises
    else:
        raise ReplayError(f"{spec}: no such file or folder")
    if not files:
        raise ReplayError(f"{spec}: no Parquet, JSON lines or CSV file found")
    formats = {FORMATS.get(Path(f).suffix.lower()) for f in files}
    if None in formats:
        unknown = next(f for f in files if Path(f).suffix.lower() not in FORMATS)
        raise ReplayError(f"{unknown}: cannot tell its format from its name; "
                          "name it .parquet, .jsonl or .csv")
    if len(formats) > 1:
        raise ReplayError(f"{spec}: files of several formats ({', '.join(sorted(formats))}); replay one at a time")
    return Source(tuple(files), formats.pop())


def _files_in(folder: Path) -> list[str]:
    """The files of a known format in `folder` and its own folders."""
    known = (str(p) for p in folder.rglob("*") if p.suffix.lower() in FORMATS and not p.is_dir())
    return sorted(f for name in known for f in _a_file(name))


def _a_file(name: str) -> list[str]:
    """[`name`], a file replay can read, or [] for a link to nothing; a pipe or a device is refused
    by name (a folder's was left out, its rows never decided; one named was "no such file")."""
    if os.path.isfile(name) or not os.path.exists(name):
        return [name] if os.path.isfile(name) else []
    raise ReplayError(f"{name}: not a file (a pipe, a device); replay reads files: save it to one")


def choose_keys(columns: list[str], asked: tuple[str, ...], request: Collection[str],
                option: str = "--key") -> tuple[str, ...]:
    """The key columns kept in the output: those asked for (by `option`), else an id column if
    there is one (`request`: the fields of the policy's request)."""
    from .duckdb_types import folded

    for key in asked:
        if key not in columns:
            hint = did_you_mean(key, columns)
            raise ReplayError(f"{option} `{key}`: the input has no such column" + (f"; {hint}" if hint else ""))
        if key in request:
            raise ReplayError(f"{option} `{key}` is a field of the request; name a column of its own")
        field = next((f for f in request if folded(f) == folded(key)), None)
        if field is not None:  # a JSON line's or CSV's: a Parquet file's are checked as it is read
            raise ReplayError(f"{option} `{key}` differs only in case from the request's field `{field}`, which "
                              "DuckDB's names do not tell apart; rename it in the input")
    if asked:
        return tuple(dict.fromkeys(asked))  # a key named twice is one column
    # an input's own source_row and source_file: as `write_requests` writes rows read without keys
    return tuple(k for k in DEFAULT_KEYS + (ROW, FILE) if k in columns and k not in request)


def check_key_names(keys: tuple[str, ...], decided: Collection[str]) -> None:
    """A key is written beside the decision's columns (and a reject's `error`): one of the same
    name would make two, and so would one differing only in case (`Outcome`), which DuckDB's
    names, blind to case, take for the decision's own."""
    from .duckdb_types import folded

    taken, seen = {folded(name) for name in decided}, {}
    for key in keys:
        if folded(key) in taken or key == ERROR:
            raise ReplayError(f"the key `{key}` has the name of a column of the decision; rename it in the input")
        if key == "":
            raise ReplayError("a key without a name (`--key ''`), which DuckDB's columns must have; "
                              "name it in the input")
        if folded(key) in seen:  # a Parquet file's are checked as it is read (duckdb_types.check_names)
            raise ReplayError(f"the keys `{seen[folded(key)]}` and `{key}` differ only in case, which DuckDB's "
                              "names do not tell apart; rename one in the input")
        seen[folded(key)] = key
        if key.startswith("__"):
            raise ReplayError(f"the key `{key}`: a name starting with `__` is the query's own; rename it in the input")


def check_columns(columns: list[str], keys: tuple[str, ...], request: Collection[str], file: str, first: str) -> None:
    """Every column of a file of the input is a key or a field of the request, and every key
    (chosen from the `first` file's) is a column of it: any other is an error now, not a million
    rejected rows (or rows without their key) later."""
    for column in columns:
        if column not in keys and column not in request:
            from .columns import POLICY_HASH, RULES_APPLIED

            if {RULES_APPLIED, POLICY_HASH} <= set(columns):  # an earlier replay's OUT, left among the requests
                raise ReplayError(f"{file}: decided rows (its columns {RULES_APPLIED} and {POLICY_HASH}), "
                                  "not requests; move it out of the input")
            hint = did_you_mean(column, list(request))
            raise ReplayError(f"{file}: the column `{column}` is not a field of the request"
                              + (f" ({hint})" if hint else "") + "; keep it with --key if it identifies a row")
    for key in keys:
        if key not in columns:
            raise ReplayError(f"{file}: no column `{key}`, a key of {first}")


def check_key_types(files: dict, keys: tuple[str, ...], first: str) -> None:
    """Each key is of one type in every file (`files`: file -> its columns, name -> DuckDBPyType),
    as the first file has it: integers of any width are one type, and so are amounts of any
    scale, read as the widest. Any other difference is an error naming the file now, not the
    engine's halfway through the rows, nor a key read as text in one file and a number in
    another, whose rows --compare would never match."""
    from .duckdb_types import same_kind

    for key in keys:
        expected = files[first][key]
        for file, columns in files.items():
            if not same_kind(columns[key], expected):
                raise ReplayError(f"{file}: the key `{key}` is {columns[key]} here, and {expected} in {first}; "
                                  "give it one type in every file, or name another key with --key")


def json_value(value):
    """A key's value as JSON (for the rejects file): dates and times ISO, amounts as text, records
    and lists of them too; any other value JSON has no type for (a UUID, NaN) as its text."""
    if isinstance(value, dict):
        return {k: json_value(v) for k, v in value.items()}
    if isinstance(value, list):
        return [json_value(v) for v in value]
    if isinstance(value, (datetime.date, datetime.datetime, datetime.time)):
        return value.isoformat()
    if isinstance(value, Decimal):
        return f"{value:f}"
    if isinstance(value, bytes):
        return value.hex()
    if value is None or isinstance(value, (str, int, bool)) or (isinstance(value, float) and math.isfinite(value)):
        return value
    return str(value)
