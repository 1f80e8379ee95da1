"""Check a JSON request against the policy's request schema and convert it, in one pass.

Every problem is collected with its JSON path, the value received and what was expected.
"""
from __future__ import annotations

import datetime
import json
import math
import re
from decimal import Decimal
from typing import Callable

from compiler import types as T
from compiler.checked import FieldSpec
from policy_lang import limits
from policy_lang.errors import RequestError, RequestProblem, did_you_mean

# Limits on a request live with the policy's in policy_lang/limits.py; the names stay here.
MAX_TEXT = limits.MAX_TEXT
MAX_LIST = limits.MAX_LIST
_FIRST_DAY, _LAST_DAY = limits.MIN_DATE, limits.MAX_DATE
# ASCII digits only: `\d` would also take other scripts' digits, which Decimal reads as numbers.
_DATE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}\Z")
_MONEY = re.compile(r"[0-9]{1,15}(\.[0-9]{1,2})?\Z")
_PERCENT = re.compile(r"[0-9]{1,3}(\.[0-9]{1,4})?%?\Z")
_MONEY_DIGITS = re.compile(r"[0-9]+(\.[0-9]{1,2})?\Z")  # an amount but for its size

# A converter takes (value, path, problems) and returns the converted value.
Converter = Callable[[object, str, list], object]
PATH_KEY = "#path"  # where a converted record remembers its JSON path, for errors at decision time


# ---- Residual decisions: facts not known yet (runtime/residual.py) ------------------------------

class _Unknown:
    """A fact declared `at STAGE` and left out of a request read for a residual decision.

    It is never a default: only the three-valued evaluator of runtime/residual.py reads it, and
    anything else that meets it (a comparison, a test, arithmetic, a field of it) raises, so a
    fact not known yet can never be decided with by mistake.
    """

    __slots__ = ()

    def __repr__(self) -> str:
        return "UNKNOWN"

    def __reduce__(self):  # one marker, also through copy and pickle
        return "UNKNOWN"

    def _used(self, *args):
        from policy_lang.errors import EvaluationError

        raise EvaluationError("a fact that is not known yet was used to decide")

    __bool__ = __eq__ = __ne__ = __lt__ = __le__ = __gt__ = __ge__ = __hash__ = _used
    __len__ = __iter__ = __contains__ = __getitem__ = __neg__ = __format__ = __str__ = _used
    __add__ = __radd__ = __sub__ = __rsub__ = __mul__ = __rmul__ = __truediv__ = __rtruediv__ = _used

    def __getattr__(self, name: str):
        if name.startswith("__"):
            raise AttributeError(name)
        self._used()


UNKNOWN = _Unknown()


def _short(value: object) -> object:
    if isinstance(value, str) and len(value) > 60:
        return value[:57] + "..."
    # limits: JSON cannot print NaN or infinities, and Python will not print a 5,000-digit number
    if isinstance(value, float) and not math.isfinite(value):
        return str(value)
    if isinstance(value, int) and not isinstance(value, bool) and value.bit_length() > 100:
        return f"<a number of about {int(value.bit_length() * 0.30103) + 1:,} digits>"
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


class _TooMany(Exception):
    """Raised when a request has more problems than are worth listing: reading stops there."""


class _Problems(list):
    """The problems found so far, and how deeply records are nested where the reader is."""

    def __init__(self, unknown_at=None):
        super().__init__()
        self.depth = 0
        # residual reading: the stages whose facts may be left out (True: every stage), else None
        self.unknown_at = unknown_at

    def append(self, problem: RequestProblem) -> None:  # limits: stop at MAX_PROBLEMS
        super().append(problem)
        if len(self) > limits.MAX_PROBLEMS:
            raise _TooMany


def _hint(word: str, known) -> str | None:
    """`did you mean`, for words short enough to be a typo (a 10 MB word is not worth comparing)."""
    return did_you_mean(word, known) if len(word) <= 100 else None


class RequestReader:
    """Converts request dicts for one policy; built once, used for every request."""

    def __init__(self, request: dict[str, FieldSpec], records: dict[str, dict[str, FieldSpec]]):
        self.records = records
        self._record_readers: dict[str, Converter] = {}
        self._top = self._record_reader("request", request)

    def read(self, data: object, unknown_at=None) -> dict:
        """Check and convert a request. With `unknown_at` (a set of stage names, or True for every
        stage), a field declared `at STAGE` of those stages may be left out: it is then the UNKNOWN
        marker, for a residual decision (runtime/residual.py); never otherwise. `null` keeps its
        meaning (an optional field not given)."""
        problems = _Problems(unknown_at)
        try:
            result = self._top(data, "$", problems)
        except _TooMany:  # limits: list the first MAX_PROBLEMS, and say that there are more
            raise RequestError(problems[:limits.MAX_PROBLEMS] + [RequestProblem(
                "$", f"more problems: only the first {limits.MAX_PROBLEMS} are listed")]) from None
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
                # A record may hold itself (`next: optional Node`): name its reader before
                # building it, and look it up when it reads, so that building ends.
                readers, name = self._record_readers, type_.name
                readers[name] = lambda value, path, problems: readers[name](value, path, problems)
                readers[name] = self._record_reader(name, self.records[name])
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
        plan = [(f.name, self._converter(f.type), f.present_when, f) for f in fields.values()]
        known = set(fields)

        def read_record(value, path, problems):
            if not isinstance(value, dict):
                _problem(problems, path, f"expected an object ({name}), got {_json_kind(value)}", value)
                return {}
            if problems.depth >= limits.MAX_REQUEST_DEPTH:  # limits: records within records
                _problem(problems, path, f"records may be nested at most {limits.MAX_REQUEST_DEPTH} "
                         "levels deep", value)
                return {PATH_KEY: path, **{f: None for f in fields}}
            problems.depth += 1
            try:
                return read_fields(value, path, problems)
            finally:
                problems.depth -= 1

        def read_fields(value, path, problems):
            out = {PATH_KEY: path}
            for key in () if known.issuperset(value) else value:
                if key not in known:
                    hint = _hint(str(key), known)
                    known_list = ", ".join(fields)
                    _problem(problems, f"{path}.{_short(str(key))}",
                             f"unknown field; {hint}" if hint else f"unknown field (known: {known_list})",
                             value[key])
            for field_name, convert, flag, spec in plan:
                raw = value.get(field_name)
                if flag is not None and value.get(flag) is not True \
                        and not _flag_unknown(fields, flag, value, problems):
                    out[field_name] = None  # not known for this record, and ignored if given
                    continue
                if raw is not None:
                    out[field_name] = convert(raw, f"{path}.{field_name}", problems)
                elif field_name not in value and _may_be_unknown(spec, problems):
                    out[field_name] = UNKNOWN  # residual reading: left out, known at a later stage
                elif spec.has_default:
                    out[field_name] = spec.default
                elif isinstance(spec.type, T.OptionalType):
                    out[field_name] = None
                else:
                    why = f" (required when `{spec.present_when}` is true)" if spec.present_when else ""
                    _problem(problems, f"{path}.{field_name}", "missing" + why if field_name not in value
                             else "must not be null" + why, None)
                    out[field_name] = None
            return out
        return read_record


def _may_be_unknown(spec: FieldSpec, problems: _Problems) -> bool:
    """Whether a field left out is unknown (residual reading, declared `at` a stage left out)."""
    stages = problems.unknown_at
    return spec.stage is not None and stages is not None and (stages is True or spec.stage in stages)


def _flag_unknown(fields: dict, flag: str, value: dict, problems: _Problems) -> bool:
    """Whether the yes/no field `flag` is itself unknown (residual reading): the fields given
    `when flag` are then read as if it were true."""
    spec = fields.get(flag)
    return flag not in value and spec is not None and _may_be_unknown(spec, problems)


def _enum(type_: T.EnumType) -> Converter:
    members = frozenset(type_.members)

    def read_enum(value, path, problems):
        if isinstance(value, str) and value in members:
            return value
        hint = _hint(value, members) if isinstance(value, str) else None
        _problem(problems, path, f"expected one of {', '.join(type_.members)}"
                 + (f"; {hint}" if hint else ""), value)
        return None
    return read_enum


def _date(value, path, problems):
    if isinstance(value, str) and _DATE.match(value):
        try:
            day = datetime.date.fromisoformat(value)
        except ValueError:
            _problem(problems, path, "not a real date", value)
            return None
        if not _FIRST_DAY <= day <= _LAST_DAY:  # limits: dates rpl computes with
            _problem(problems, path, f"a date must be from {limits.MIN_DATE.isoformat()} to "
                     f"{limits.MAX_DATE.isoformat()}", value)
            return None
        return day
    _problem(problems, path, f"expected a date as \"YYYY-MM-DD\", got {_json_kind(value)}", value)
    return None


def _money(value, path, problems):
    if isinstance(value, str) and _MONEY.match(value):
        return Decimal(value)
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        like = _short(value) if isinstance(value, float) or abs(value) < 10**30 else "12.50"
        _problem(problems, path, f"money must be a string like \"{like}\", not a JSON number", value)
    elif isinstance(value, str) and _MONEY_DIGITS.match(value):  # limits: 15 digits
        _problem(problems, path, f"an amount may have at most {limits.MAX_MONEY_DIGITS} digits "
                 "before the point", value)
    else:
        _problem(problems, path, "expected an amount as a string with at most 2 decimals, like \"12.50\"", value)
    return None


def _percent(value, path, problems):
    if isinstance(value, str) and _PERCENT.match(value):
        return Decimal(value.rstrip("%"))
    _problem(problems, path, "expected a percentage as a string, like \"15%\"", value)
    return None


def _integer(value, path, problems):
    if isinstance(value, int) and not isinstance(value, bool):
        if abs(value) <= limits.MAX_INTEGER:
            return value
        _problem(problems, path, f"a whole number may have at most {limits.MAX_WHOLE_DIGITS} digits",
                 value)
        return None
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


def load_json(text: str | bytes) -> object:
    """A request's JSON text as data; text that is not JSON is a request error, not a crash."""
    try:
        return json.loads(text)
    except (ValueError, RecursionError) as error:
        raise RequestError([RequestProblem("$", f"not valid JSON: {error}")]) from None
