"""Check a JSON request against the policy's request schema and convert it, in one pass.

Every problem is collected with its JSON path, the value received and what was expected.
"""
from __future__ import annotations

import datetime
import json
import math
import re
from decimal import Decimal, InvalidOperation
from typing import Callable

from rplang.compiler import types as T
from rplang.compiler.checked import FieldSpec
from rplang.policy_lang import limits
from rplang.policy_lang.errors import RequestError, RequestProblem, did_you_mean

from .generated import Constants, quoted

# Limits on a request live with the policy's in policy_lang/limits.py; the names stay here.
MAX_TEXT = limits.MAX_TEXT
MAX_LIST = limits.MAX_LIST
_FIRST_DAY, _LAST_DAY = limits.MIN_DATE, limits.MAX_DATE
# ASCII digits only: `\d` would also take other scripts' digits, which Decimal reads as numbers.
_DATE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}\Z")
# a date in ISO 8601's expanded years, before the year 1 or past 9999 (a column store's DATE may
# hold one): a date, out of the range rpl computes with
_FAR_DATE = re.compile(r"(-[0-9]{4,}|\+?[0-9]{5,}|0000)-[0-9]{2}-[0-9]{2}\Z")
_DATE_RANGE = f"a date must be from {limits.MIN_DATE.isoformat()} to {limits.MAX_DATE.isoformat()}"
_MONEY = re.compile(r"[0-9]{1,15}(\.[0-9]{1,2})?\Z")
_PERCENT = re.compile(r"[0-9]{1,3}(\.[0-9]{1,4})?%?\Z")
_MONEY_DIGITS = re.compile(r"[0-9]+(\.[0-9]{1,2})?\Z")  # an amount but for its size
_WHOLE = re.compile(r"-?[0-9]{1,15}")  # a whole number given as a string, to say: without quotes

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
        from rplang.policy_lang.errors import EvaluationError

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
        # The fast path (below): reads a valid request with no problem to list, else leaves it to
        # the general reader, the one that says what is wrong. None when the schema has a type it
        # does not read.
        self._fast = _fast_reader(request, records)

    def read(self, data: object, unknown_at=None) -> dict:
        """Check and convert a request. With `unknown_at` (a set of stage names, or True for every
        stage), a field declared `at STAGE` of those stages may be left out: it is then the UNKNOWN
        marker, for a residual decision (runtime/residual.py); never otherwise. `null` keeps its
        meaning (an optional field not given)."""
        if unknown_at is None and self._fast is not None:
            try:
                return self._fast(data, "$", 0)
            except _UNUSUAL:
                pass  # something to say about it, or to read residually: the general reader does
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
                    why = [f"required when `{spec.present_when}` is true"] if spec.present_when else []
                    if spec.stage is not None and problems.unknown_at is None and field_name not in value:
                        why.append(f"known at {spec.stage}: `--partial` decides without it")
                    why = f" ({'; '.join(why)})" if why else ""
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
    if isinstance(value, datetime.date) and not isinstance(value, datetime.datetime):
        value = value.isoformat()  # from Python: read as its JSON text, with the same checks
    if isinstance(value, str) and _FAR_DATE.match(value):
        _problem(problems, path, _DATE_RANGE, value)
        return None
    if isinstance(value, str) and _DATE.match(value):
        try:
            day = datetime.date.fromisoformat(value)
        except ValueError:
            _problem(problems, path, "not a real date", value)
            return None
        if not _FIRST_DAY <= day <= _LAST_DAY:  # limits: dates rpl computes with
            _problem(problems, path, _DATE_RANGE, value)
            return None
        return day
    # a string is shown as given: `"03/10/2026"`, `"2026-03-10 "` say what is wrong with them
    got = json.dumps(_short(value), ensure_ascii=False) if isinstance(value, str) else _json_kind(value)
    _problem(problems, path, f"expected a date as \"YYYY-MM-DD\", got {got}", value)
    return None


def _from_decimal(value, places: int):
    """A `Decimal` from Python, as its JSON text (never in exponent form), to be checked as one.
    Its places past `places` are dropped when they are zeros: a Decimal's exponent is how it was
    stored (a warehouse's DECIMAL(19,4) money holds 549.0000), not a more exact amount."""
    if not (isinstance(value, Decimal) and value.is_finite()):
        return value
    if value.as_tuple().exponent < -places:
        try:
            exact = value.quantize(Decimal(1).scaleb(-places))
        except InvalidOperation:  # too many digits to hold: refused as written, for its size
            exact = None
        if exact == value:
            value = exact
    return format(value, "f")


def _money(value, path, problems):
    value = _from_decimal(value, 2)
    if isinstance(value, str) and _MONEY.match(value):
        return Decimal(value)
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        if value < 0:  # no string would do: the hint must not suggest one the reader refuses
            _problem(problems, path, "money is never negative, and is a string like \"12.50\", not a JSON number",
                     value)
        else:  # -0.0 too, which is 0
            _problem(problems, path, f"money must be a string like \"{_money_like(abs(value))}\", not a JSON number",
                     value)
    elif isinstance(value, str) and value.startswith("-") and _MONEY.match(value[1:]):
        zero = not Decimal(value[1:])
        _problem(problems, path, "an amount is never negative" + (': zero is "0.00"' if zero else ', like "12.50"'),
                 value)
    elif isinstance(value, str) and _MONEY_DIGITS.match(value):  # limits: 15 digits
        _problem(problems, path, f"an amount may have at most {limits.MAX_MONEY_DIGITS} digits "
                 "before the point", value)
    else:
        _problem(problems, path, "expected an amount as a string with at most 2 decimals, like \"12.50\"", value)
    return None


def _money_like(number: int | float) -> str:
    """The amount a JSON number meant, written as money is: `900.0` as "900.00"."""
    if not (isinstance(number, int) or math.isfinite(number)) or abs(number) >= 10**15:
        return "12.50"
    amount = Decimal(repr(number)) if isinstance(number, float) else Decimal(number)
    cents = amount.quantize(Decimal("0.01"))
    return f"{cents}" if cents == amount else "12.50"


def _percent(value, path, problems):
    value = _from_decimal(value, 4)
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
    _problem(problems, path, f"expected a whole number, got {_json_kind(value)}"
             + (f": write {value}, without quotes" if isinstance(value, str) and _WHOLE.fullmatch(value) else ""),
             value)
    return None


def _boolean(value, path, problems):
    if isinstance(value, bool):
        return value
    _problem(problems, path, f"expected true or false, got {_json_kind(value)}"
             + (f": write {value}, without quotes" if value in ("true", "false") else ""), value)
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


# ---- The fast path: a valid request, read by functions generated for the policy's schema -------
#
# One Python function per record type (and one for the request) converts a record on a straight
# line, with cheap checks, exactly as the general reader does when it finds no problem: the same
# keys in the same order, the same PATH_KEY, the same values. At anything unusual (an unknown or
# missing key, null, a wrong type, a limit reached, records nested deeply) it raises, and `read`
# gives the request to the general reader, the only one that says what is wrong. So the fast path
# never accepts what the general reader refuses, and never has to agree with it on a message.
#
# As in runtime/codegen.py, policy text is never run: the only words of the policy in the code
# are field names, checked against `[A-Za-z_][A-Za-z0-9_]*` and quoted (the only other strings are
# this module's own: PATH_KEY, "%", the path's "." and "[i]"); defaults, enum members and key sets
# are constants read as `K[i]`. Residual reading (`unknown_at`) always takes the general way.

class _Unusual(Exception):
    """The fast path met something it leaves to the general reader."""


class _NoFastPath(Exception):
    """The schema has something the fast path does not read: every request takes the general way."""


# what the fast path may raise: its own signal, a date that matches _DATE but is not a real
# day (`date.fromisoformat`), a value that cannot be a key of the days or amounts read (a list),
# and a required field not given (read as `v[name]`)
_UNUSUAL = (_Unusual, ValueError, TypeError, KeyError)

# Days and amounts the fast path has read, by their JSON text: a request's dates and prices
# repeat from one request to the next, and a dict's look-up costs a tenth of the regular
# expression and the conversion. Kept up to a bound, never dropped (dates and Decimals are
# immutable, so requests may share them); a text not kept is read as before.
TEXTS_KEPT = 4096  # of each: a few years of days, a store's prices; about 1 MB at most
_DAYS: dict[str, datetime.date] = {}
_AMOUNTS: dict[str, Decimal] = {}


def _day(x: object) -> datetime.date:
    """A date's JSON text as the day it names (ValueError if none), or _Unusual."""
    if not isinstance(x, str) or not _DATE.match(x):
        raise _Unusual
    day = datetime.date.fromisoformat(x)
    if not _FIRST_DAY <= day <= _LAST_DAY:  # limits: dates rpl computes with
        raise _Unusual
    if x.__class__ is str and len(_DAYS) < TEXTS_KEPT:
        _DAYS[x] = day
    return day


def _amount(x: object) -> Decimal:
    """An amount's JSON text as its Decimal, or _Unusual."""
    if not isinstance(x, str) or not _MONEY.match(x):
        raise _Unusual
    amount = Decimal(x)
    if x.__class__ is str and len(_AMOUNTS) < TEXTS_KEPT:
        _AMOUNTS[x] = amount
    return amount

# per scalar type: when the fast path leaves a value `{x}` to the general reader, and else its
# value; the same tests as the general reader's (isinstance, not `type`, which generated code
# never names), written for one value.
_SCALAR_READING = {
    "text": (f"not isinstance({{x}}, str) or len({{x}}) > {MAX_TEXT}", "{x}"),
    "boolean": ("{x} is not True and {x} is not False", "{x}"),
    "integer": ("not isinstance({x}, int) or isinstance({x}, bool) "
                f"or abs({{x}}) > {limits.MAX_INTEGER}", "{x}"),
    # the days and amounts read before, else checked and converted (falsy: zero, read again)
    "money": (None, "AMOUNTS({x}) or AMOUNT({x})"),
    "percent": ("not isinstance({x}, str) or not PERCENT({x})", "Decimal({x}.rstrip('%'))"),
    "date": (None, "DAYS({x}) or DAY({x})"),
}


def _quote(name: str) -> str:
    try:
        return quoted(name)
    except ValueError as error:  # not a field name: no fast path for this schema
        raise _NoFastPath(str(error)) from None


def _required(spec: FieldSpec) -> bool:
    """A field a record must have: no default, and not optional (null is a problem too)."""
    return not spec.has_default and not isinstance(spec.type, T.OptionalType)


def _keys_given(specs: list[FieldSpec]) -> list[str]:
    """The code of how many of these fields' keys a record read has: each required field's, read
    as `v[name]` (else KeyError), and each other's if it is there."""
    return [str(sum(1 for spec in specs if _required(spec)))] + [
        f"({_quote(spec.name)} in v)" for spec in specs if not _required(spec)]


def _holds_record(type_: T.Type) -> bool:
    """Whether a value of the type may hold a record, whose path must then be known."""
    while isinstance(type_, (T.OptionalType, T.ListType)):
        type_ = type_.inner if isinstance(type_, T.OptionalType) else type_.element
    return isinstance(type_, T.RecordType)


def _kept_as_given(type_: T.Type) -> bool:
    """Whether the fast path keeps a value of the type as JSON gave it (a text, a yes/no, an enum value)."""
    inner = type_.inner if isinstance(type_, T.OptionalType) else type_
    return isinstance(inner, T.EnumType) or (isinstance(inner, T.Scalar) and inner.name in _SCALAR_READING
                                             and _SCALAR_READING[inner.name][1] == "{x}")


def fast_source(request: dict[str, FieldSpec], records: dict[str, dict[str, FieldSpec]]):
    """The fast path's source, with its table of constants; `request(v, path, d)` reads a request.
    None if the schema has a type the fast path does not read."""
    writer = _FastWriter()
    try:
        writer.function(request)
        while writer.todo:
            name = writer.todo.pop()
            writer.function(records[name], writer.names[name])
    except _NoFastPath:
        return None
    return "\n".join(writer.lines), writer.constants.values


def _fast_reader(request: dict[str, FieldSpec], records: dict[str, dict[str, FieldSpec]]):
    """The fast path's function for the request: (data, "$", 0) -> the converted request."""
    written = fast_source(request, records)
    if written is None:
        return None
    source, constants = written
    namespace = {"K": constants, "Unusual": _Unusual, "Decimal": Decimal,
                 "DAYS": _DAYS.get, "DAY": _day, "AMOUNTS": _AMOUNTS.get, "AMOUNT": _amount,
                 "PERCENT": _PERCENT.match,
                 "__builtins__": {"isinstance": isinstance, "len": len, "abs": abs, "str": str,
                                  "bool": bool, "int": int, "dict": dict, "list": list,
                                  "enumerate": enumerate}}
    exec(compile(source, "<rpl request reader>", "exec"), namespace)
    return namespace["request"]


class _FastWriter:
    """Writes the fast path's functions, `record_N(v, path, d)` with `d` the records around `v`."""

    def __init__(self):
        self.constants = Constants()
        self.names: dict[str, str] = {}  # record type -> its function
        self.todo: list[str] = []  # record types named, not written yet
        self.lines: list[str] = []
        self.fresh = 0

    def const(self, value: object) -> str:
        return self.constants.add(value)

    def local(self, prefix: str) -> str:
        self.fresh += 1
        return f"{prefix}{self.fresh}"

    def record(self, name: str) -> str:
        if name not in self.names:  # a record may hold itself: name its function, write it later
            self.names[name] = f"record_{len(self.names)}"
            self.todo.append(name)
        return self.names[name]

    def function(self, fields: dict[str, FieldSpec], name: str = "request") -> str:
        emit = self.lines.append
        emit(f"def {name}(v, path, d):")
        emit(f"    if not isinstance(v, dict) or d >= {limits.MAX_REQUEST_DEPTH}:")
        emit("        raise Unusual")
        out = {spec.name: self.local("f") for spec in fields.values()}
        by_flag: dict[str | None, list[FieldSpec]] = {}
        by_flag[None] = []  # fields read in any order (only the result's order counts): these first
        for spec in fields.values():
            by_flag.setdefault(spec.present_when, []).append(spec)
        given: list[str] = []  # the code of how many of its keys the record is known to have
        for flag, specs in by_flag.items():
            if flag is None:
                for spec in specs:
                    self.field(spec, out[spec.name], "    ")
                given += _keys_given(specs)
                continue
            flag_spec = fields.get(flag)  # its own local when it is read already, as given
            plain_flag = flag_spec is not None and flag_spec.present_when is None \
                and flag_spec.type == T.BOOLEAN and not flag_spec.has_default
            known = f"{out[flag] if plain_flag else f'v.get({_quote(flag)})'} is True"
            emit(f"    if {known}:")
            for spec in specs:
                self.field(spec, out[spec.name], "        ")
            emit("    else:")  # not known for this record, and ignored if given
            emit("        " + " = ".join(out[spec.name] for spec in specs) + " = None")
            given.append(f"({' + '.join(_keys_given(specs))} if {known} else 0)")
        # No key but the fields': when the record has no more keys than those it is known to
        # have, it has no other (a set's test of every key costs about a sixth of the reading)
        emit(f"    if len(v) != {' + '.join(given)} and not {self.const(frozenset(fields))}.issuperset(v):")
        emit("        raise Unusual")
        pairs = [f"{PATH_KEY!r}: path"] + [f"{_quote(field)}: {local}" for field, local in out.items()]
        emit(f"    return {{{', '.join(pairs)}}}")
        emit("")
        return name

    def field(self, spec: FieldSpec, target: str, indent: str) -> None:
        path = f"path + {'.' + spec.name!r}"
        x = target if _kept_as_given(spec.type) else "x"  # a value kept as given is read into its local
        if _required(spec):  # not given (KeyError) and null are unusual; a subscript costs less than `get`
            self.lines.append(f"{indent}{x} = v[{_quote(spec.name)}]")
            self.convert(spec.type, x, target, path, indent)
            return
        self.lines.append(f"{indent}{x} = v.get({_quote(spec.name)})")
        if x == target and not spec.has_default:  # null is None, as given
            self.lines.append(f"{indent}if {x} is not None:")
        else:
            self.lines.append(f"{indent}if {x} is None:")
            self.lines.append(f"{indent}    {target} = {self.const(spec.default) if spec.has_default else None}")
            self.lines.append(f"{indent}else:")
        self.convert(spec.type, x, target, path, indent + "    ")

    def convert(self, type_: T.Type, x: str, target: str, path: str, indent: str) -> None:
        """Lines that set `target` to the value `x` converted, or raise Unusual."""
        emit = lambda line: self.lines.append(indent + line)
        if isinstance(type_, T.OptionalType):  # within a list: null is a problem, as a field's type
            type_ = type_.inner
        if isinstance(type_, T.RecordType):
            emit(f"{target} = {self.record(type_.name)}({x}, {path}, d + 1)")
        elif isinstance(type_, T.ListType):
            emit(f"if not isinstance({x}, list) or len({x}) > {MAX_LIST}:")
            emit("    raise Unusual")
            element = type_.element.inner if isinstance(type_.element, T.OptionalType) else type_.element
            e, value = self.local("e"), self.local("c")
            if not _holds_record(element):  # no path needed
                emit(f"{target} = []")
                emit(f"for {e} in {x}:")
                self.convert(element, e, value, "None", indent + "    ")
                emit(f"    {target}.append({value})")
                return
            at, i = self.local("p"), self.local("i")
            emit(f"{at} = {path}")
            emit(f"{target} = []")  # a loop, not a list comprehension: one costs a function and its frame
            emit(f"for {i}, {e} in enumerate({x}):")
            self.convert(element, e, value, f"f\"{{{at}}}[{{{i}}}]\"", indent + "    ")
            emit(f"    {target}.append({value})")
        elif isinstance(type_, T.EnumType):
            emit(f"if not isinstance({x}, str) or {x} not in {self.const(frozenset(type_.members))}:")
            emit("    raise Unusual")
            if target != x:
                emit(f"{target} = {x}")
        elif isinstance(type_, T.Scalar) and type_.name in _SCALAR_READING:
            unusual, value = _SCALAR_READING[type_.name]
            if unusual is not None:  # else the conversion raises Unusual itself
                emit(f"if {unusual.format(x=x)}:")
                emit("    raise Unusual")
            if target != value.format(x=x):
                emit(f"{target} = {value.format(x=x)}")
        else:
            raise _NoFastPath(f"no fast reading of {type_}")
