"""Inputs: Parquet, JSON lines or CSV, a file, a folder or a glob; their key columns; their rows as
requests.

A Parquet input is read by the engine itself; JSON lines and CSV are read here, line by line,
into the requests `rpl eval` would read from the same text, so a malformed line is refused with
the same problems.
"""
from __future__ import annotations

import csv
import datetime
import glob
import json
from decimal import Decimal
from pathlib import Path

import attrs

from rplang.compiler import types as T
from rplang.compiler.checked import CheckedPolicy
from rplang.policy_lang.errors import RequestError, did_you_mean
from rplang.stream import line_request

from .columns import plain
from .errors import ReplayError

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


def resolve(spec: str) -> Source:
    """The files an INPUT names: a file, a folder (every file of a known format in it), or a glob."""
    path = Path(spec)
    if path.is_dir():
        files = sorted(str(p) for p in path.rglob("*") if p.is_file() and p.suffix.lower() in FORMATS)
    elif any(c in spec for c in "*?["):
        files = sorted(f for f in glob.glob(spec, recursive=True) if Path(f).is_file())
    elif path.is_file():
        files = [spec]
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


def choose_keys(columns: list[str], asked: tuple[str, ...], policy: CheckedPolicy) -> tuple[str, ...]:
    """The key columns kept in the output: those asked for, else an id column if there is one."""
    for key in asked:
        if key not in columns:
            hint = did_you_mean(key, columns)
            raise ReplayError(f"--key `{key}`: the input has no such column" + (f"; {hint}" if hint else ""))
        if key in policy.request:
            raise ReplayError(f"--key `{key}` is a field of the request; name a column of its own")
    if asked:
        return tuple(asked)
    return tuple(k for k in DEFAULT_KEYS if k in columns and k not in policy.request)


def check_columns(columns: list[str], keys: tuple[str, ...], policy: CheckedPolicy, source: Source) -> None:
    """Every column of the input is a key or a field of the request: any other is an error now,
    not a million rejected rows later."""
    for column in columns:
        if column not in keys and column not in policy.request and column not in (ROW, FILE):
            hint = did_you_mean(column, list(policy.request))
            raise ReplayError(f"{source.name}: the column `{column}` is not a field of the request"
                              + (f"; {hint}" if hint else "") + "; keep it with --key if it identifies a row")


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


def json_value(value):
    """A key's value as JSON (for the rejects file): dates ISO, amounts as text."""
    if isinstance(value, (datetime.date, datetime.datetime)):
        return value.isoformat()
    if isinstance(value, Decimal):
        return f"{value:f}"
    if isinstance(value, bytes):
        return value.hex()
    return value
