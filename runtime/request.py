"""Check a JSON request against the policy's request schema and convert it, in one pass.

Every problem is collected with its JSON path, the value received and what was expected.
"""
from __future__ import annotations

import datetime
import re
from decimal import Decimal
from typing import Callable

from compiler import types as T
from compiler.checked import FieldSpec
from policy_lang.errors import RequestError, RequestProblem, did_you_mean

MAX_TEXT = 10_000
MAX_LIST = 10_000
# ASCII digits only: `\d` would also take other scripts' digits, which Decimal reads as numbers.
_DATE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}\Z")
_MONEY = re.compile(r"[0-9]{1,15}(\.[0-9]{1,2})?\Z")
_PERCENT = re.compile(r"[0-9]{1,3}(\.[0-9]{1,4})?%?\Z")

# A converter takes (value, path, problems) and returns the converted value.
Converter = Callable[[object, str, list], object]
PATH_KEY = "#path"  # where a converted record remembers its JSON path, for errors at decision time


def _short(value: object) -> object:
    if isinstance(value, str) and len(value) > 60:
        return value[:57] + "..."
    if isinstance(value, (list, dict)):
        return f"<{type(value).__name__} of {len(value)}>"
    return value


def _json_kind(value: object) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true/false"
    if isinstance(value, (int, float)):
        return "a number"
    if isinstance(value, str):
        return "a string"
    if isinstance(value, list):
        return "a list"
    if isinstance(value, dict):
        return "an object"
    return type(value).__name__


def _problem(problems: list, path: str, message: str, value: object) -> None:
    problems.append(RequestProblem(path, message, _short(value)))


class RequestReader:
    """Converts request dicts for one policy; built once, used for every request."""

    def __init__(self, request: dict[str, FieldSpec], records: dict[str, dict[str, FieldSpec]]):
        self.records = records
        self._record_readers: dict[str, Converter] = {}
        self._top = self._record_reader("request", request)

    def read(self, data: object) -> dict:
        problems: list[RequestProblem] = []
        result = self._top(data, "$", problems)
        if problems:
            raise RequestError(problems)
        return result

    # one converter per type
    def _converter(self, type_: T.Type) -> Converter:
        if isinstance(type_, T.OptionalType):
            return self._converter(type_.inner)
        if isinstance(type_, T.ListType):
            return self._list(self._converter(type_.element), type_)
        if isinstance(type_, T.RecordType):
            if type_.name not in self._record_readers:
                self._record_readers[type_.name] = self._record_reader(type_.name, self.records[type_.name])
            return self._record_readers[type_.name]
        if isinstance(type_, T.EnumType):
            return _enum(type_)
        return _SCALARS[type_.name]

    def _list(self, element: Converter, type_: T.ListType) -> Converter:
        def read_list(value, path, problems):
            if not isinstance(value, list):
                _problem(problems, path, f"expected a list, got {_json_kind(value)}", value)
                return []
            if len(value) > MAX_LIST:
                _problem(problems, path, f"a list may hold at most {MAX_LIST:,} elements, this one holds {len(value):,}", value)
                return []
            return [element(v, f"{path}[{i}]", problems) for i, v in enumerate(value)]
        return read_list

    def _record_reader(self, name: str, fields: dict[str, FieldSpec]) -> Converter:
        plan = [(f.name, self._converter(f.type), f) for f in fields.values()]
        known = set(fields)

        def read_record(value, path, problems):
            if not isinstance(value, dict):
                _problem(problems, path, f"expected an object ({name}), got {_json_kind(value)}", value)
                return {}
            out = {PATH_KEY: path}
            for key in value:
                if key not in known:
                    hint = did_you_mean(str(key), known)
                    known_list = ", ".join(fields)
                    _problem(problems, f"{path}.{key}",
                             f"unknown field; {hint}" if hint else f"unknown field (known: {known_list})",
                             value[key])
            for field_name, convert, spec in plan:
                raw = value.get(field_name)
                field_path = f"{path}.{field_name}"
                if spec.present_when is not None and value.get(spec.present_when) is not True:
                    out[field_name] = None  # not known for this record, and ignored if given
                    continue
                if raw is None:
                    if spec.has_default:
                        out[field_name] = spec.default
                    elif isinstance(spec.type, T.OptionalType):
                        out[field_name] = None
                    else:
                        why = f" (required when `{spec.present_when}` is true)" if spec.present_when else ""
                        _problem(problems, field_path, "missing" + why if field_name not in value
                                 else "must not be null" + why, None)
                        out[field_name] = None
                    continue
                out[field_name] = convert(raw, field_path, problems)
            return out
        return read_record


def _enum(type_: T.EnumType) -> Converter:
    members = frozenset(type_.members)

    def read_enum(value, path, problems):
        if isinstance(value, str) and value in members:
            return value
        hint = did_you_mean(value, members) if isinstance(value, str) else None
        _problem(problems, path, f"expected one of {', '.join(type_.members)}"
                 + (f"; {hint}" if hint else ""), value)
        return None
    return read_enum


def _date(value, path, problems):
    if isinstance(value, str) and _DATE.match(value):
        try:
            return datetime.date.fromisoformat(value)
        except ValueError:
            _problem(problems, path, "not a real date", value)
            return None
    _problem(problems, path, f"expected a date as \"YYYY-MM-DD\", got {_json_kind(value)}", value)
    return None


def _money(value, path, problems):
    if isinstance(value, str) and _MONEY.match(value):
        return Decimal(value)
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        _problem(problems, path, f"money must be a string like \"{value}\", not a JSON number", value)
    else:
        _problem(problems, path, "expected an amount as a string with at most 2 decimals, like \"12.50\"", value)
    return None


def _percent(value, path, problems):
    if isinstance(value, str) and _PERCENT.match(value):
        return Decimal(value.rstrip("%"))
    _problem(problems, path, "expected a percentage as a string, like \"15%\"", value)
    return None


def _integer(value, path, problems):
    if isinstance(value, int) and not isinstance(value, bool) and abs(value) < 10**15:
        return value
    _problem(problems, path, f"expected a whole number, got {_json_kind(value)}", value)
    return None


def _boolean(value, path, problems):
    if isinstance(value, bool):
        return value
    _problem(problems, path, f"expected true or false, got {_json_kind(value)}", value)
    return None


def _text(value, path, problems):
    if isinstance(value, str):
        if len(value) > MAX_TEXT:
            _problem(problems, path, f"a text may be at most {MAX_TEXT:,} characters", value)
            return None
        return value
    _problem(problems, path, f"expected a string, got {_json_kind(value)}", value)
    return None


_SCALARS: dict[str, Converter] = {"date": _date, "money": _money, "percent": _percent,
                                  "integer": _integer, "boolean": _boolean, "text": _text}
