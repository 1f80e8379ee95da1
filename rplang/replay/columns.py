"""Columns: the Arrow types of a policy's requests and decisions, and rows to and from them.

A request is a row whose columns are the request's fields (records as structs, lists as lists);
a decision is a row of the input's key columns, then every output as a typed column (money as
DECIMAL(18,2), dates as DATE, a date range as two columns `X_from` and `X_to`), the rules that
determined it, and the policy's version and text hash.
"""
from __future__ import annotations

import datetime
import re
from decimal import ROUND_HALF_UP, Decimal

import pyarrow as pa

from rplang.compiler import types as T
from rplang.compiler.checked import CheckedOutput, CheckedPolicy

from .errors import OutputTooLarge, ReplayError

MONEY = pa.decimal128(18, 2)
MONEY_LIMIT = 10 ** (MONEY.precision - MONEY.scale)  # no amount of the column reaches it
PERCENT = pa.decimal128(7, 4)  # up to 999.9999%, as the request reader reads them
CENT = Decimal("0.01")
RULES_APPLIED, POLICY_VERSION, POLICY_HASH = "rules_applied", "policy_version", "policy_hash"
ITEM_OUTCOMES = "item_outcomes"  # with outcomes decided item by item: each item's, in list order


def plain(t: T.Type) -> T.Type:
    return t.inner if isinstance(t, T.OptionalType) else t


def scalar_type(t: T.Type, where: str) -> pa.DataType:
    """The Arrow type of a value of type `t` (a field of the request, or an output)."""
    t = plain(t)
    if t in (T.MONEY, T.EXACT_MONEY):
        return MONEY
    if t == T.PERCENT:
        return PERCENT
    if t == T.DATE:
        return pa.date32()
    if t in (T.INTEGER, T.DAYS, T.BUSINESS_DAYS):
        return pa.int64()
    if t == T.BOOLEAN:
        return pa.bool_()
    if t == T.TEXT or isinstance(t, T.EnumType):
        return pa.string()
    if isinstance(t, (T.ListType, T.SetType)):
        return pa.list_(scalar_type(t.element, where))
    raise ReplayError(f"{where}: a value of type {t.describe()} has no column type")


def request_schema(policy: CheckedPolicy) -> pa.Schema:
    """The columns of a request: one per field of `request:`."""
    return pa.schema([pa.field(name, _field_type(policy, spec.type, (name,)))
                      for name, spec in policy.request.items()])


def _field_type(policy: CheckedPolicy, t: T.Type, path: tuple, depth: int = 0) -> pa.DataType:
    t = plain(t)
    if isinstance(t, T.RecordType):
        if depth > 8:  # a record that holds itself cannot be a column of fixed type
            raise ReplayError(f"`{'.'.join(path)}`: a record type that holds itself has no column type")
        return pa.struct([pa.field(n, _field_type(policy, s.type, path + (n,), depth + 1))
                          for n, s in policy.records[t.name].items()])
    if isinstance(t, T.ListType):
        return pa.list_(_field_type(policy, t.element, path, depth + 1))
    return scalar_type(t, f"`{'.'.join(path)}`")


def output_columns(output: CheckedOutput) -> list[tuple[str, pa.DataType]]:
    """The columns of one output: a date range is two, every other output one."""
    if output.kind == "outcome":
        return [(output.name, pa.string())]
    if output.kind == "total":
        return [(output.name, MONEY)]
    if plain(output.type) == T.DATE_RANGE:
        return [(f"{output.name}_from", pa.date32()), (f"{output.name}_to", pa.date32())]
    return [(output.name, scalar_type(output.type, f"output `{output.name}`"))]


def decision_names(policy: CheckedPolicy) -> list[str]:
    """The names of the decision's columns (the keys' aside)."""
    return decision_schema(policy, pa.schema([])).names


def decision_schema(policy: CheckedPolicy, keys: pa.Schema) -> pa.Schema:
    fields = list(keys)
    for output in policy.outputs:
        fields += [pa.field(n, t) for n, t in output_columns(output)]
    if policy.items is not None:
        fields.append(pa.field(ITEM_OUTCOMES, pa.list_(pa.string())))
    fields += [pa.field(RULES_APPLIED, pa.list_(pa.string())), pa.field(POLICY_VERSION, pa.string()),
               pa.field(POLICY_HASH, pa.string())]
    return pa.schema(fields)


# ---- Rows ----------------------------------------------------------------------------------------

def to_request(value):
    """A row as read from a column store, as the JSON request `rpl eval` reads: amounts as
    strings, dates ISO, absent (null) fields left out, so the request reader checks it as it
    checks any request and says the same about it."""
    if isinstance(value, dict):
        return {k: to_request(v) for k, v in value.items() if v is not None}
    if isinstance(value, list):
        return [to_request(v) for v in value]
    if isinstance(value, Decimal):  # the number, not the column's scale: 15.0000 is "15"
        return f"{value.normalize():f}" if value.as_tuple().exponent < -2 else f"{value:f}"
    if isinstance(value, datetime.datetime):
        return value.isoformat()
    if isinstance(value, datetime.date):
        return value.isoformat()
    return value


def python_values(values) -> list:
    """An Arrow array's (or table's, or batch's) values as Python's. A date past 9999 or before
    the year 1 has no Python date: then every date is given as the text ISO 8601 writes for it
    (`-0001-02-01`, `10000-01-01`), which the request reader reads as `rpl eval` reads the same
    text in JSON: a date out of its range, refused with its path."""
    try:
        return values.to_pylist()
    except OverflowError:
        t = pa.struct(list(values.schema)) if isinstance(values, (pa.Table, pa.RecordBatch)) else values.type
        days = values.cast(pa.schema(list(_as_days(t))) if isinstance(values, (pa.Table, pa.RecordBatch))
                           else _as_days(t))
        return [_dates_of(value, t) for value in days.to_pylist()]


def _as_days(t: pa.DataType) -> pa.DataType:
    """`t` with its dates as days since 1970 (a Parquet DATE's own number)."""
    if pa.types.is_date32(t):
        return pa.int32()
    if pa.types.is_date64(t) or pa.types.is_timestamp(t):
        return pa.string()  # Arrow's own text for it (a date of the request is a DATE's 32 bits)
    if pa.types.is_struct(t):
        return pa.struct([t.field(i).with_type(_as_days(t.field(i).type)) for i in range(t.num_fields)])
    if pa.types.is_list(t):
        return pa.list_(t.value_field.with_type(_as_days(t.value_type)))
    if pa.types.is_large_list(t):
        return pa.large_list(t.value_field.with_type(_as_days(t.value_type)))
    return t


def _dates_of(value, t: pa.DataType):
    """A value read with `_as_days(t)`, its days as dates again (as texts, where Python has none)."""
    if value is None:
        return None
    if pa.types.is_date32(t):
        return _day(value)
    if pa.types.is_struct(t):
        return {f.name: _dates_of(value[f.name], f.type) for f in t}
    if pa.types.is_list(t) or pa.types.is_large_list(t):
        return [_dates_of(v, t.value_type) for v in value]
    return value


_EPOCH = datetime.date(1970, 1, 1)
_ISO_DAY = re.compile(r"(-?[0-9]{4,})-([0-9]{2})-([0-9]{2})")  # as `_day` writes a date Python has none of


def _day(days: int) -> datetime.date | str:
    """The date `days` after 1970-01-01, or for one Python has none of, its ISO 8601 text (the
    proleptic Gregorian calendar's, as Parquet's: civil_from_days, H. Hinnant's algorithm)."""
    try:
        return _EPOCH + datetime.timedelta(days=days)
    except OverflowError:
        pass
    z = days + 719468
    era = z // 146097
    day_of_era = z - era * 146097
    year_of_era = (day_of_era - day_of_era // 1460 + day_of_era // 36524 - day_of_era // 146096) // 365
    day_of_year = day_of_era - (365 * year_of_era + year_of_era // 4 - year_of_era // 100)
    shifted = (5 * day_of_year + 2) // 153  # months from March
    day = day_of_year - (153 * shifted + 2) // 5 + 1
    month = shifted + 3 if shifted < 10 else shifted - 9
    year = year_of_era + era * 400 + (month <= 2)
    return f"{'-' if year < 0 else ''}{abs(year):04d}-{month:02d}-{day:02d}"


def holds_date(t: pa.DataType) -> bool:
    """Whether a column of type `t` holds dates, itself or in its fields or elements."""
    if pa.types.is_struct(t):
        return any(holds_date(t.field(i).type) for i in range(t.num_fields))
    if pa.types.is_list(t) or pa.types.is_large_list(t):
        return holds_date(t.value_type)
    return pa.types.is_date32(t) or pa.types.is_date64(t) or pa.types.is_timestamp(t)


def arrow_value(value, t: pa.DataType):
    """A value as `python_values` gave it, as Arrow takes it back into a column of type `t`: a
    date Python has none of, given as its ISO 8601 text, as its days since 1970 (a key column
    keeps its type, past the year 9999 too)."""
    if value is None:
        return None
    if pa.types.is_date32(t) and isinstance(value, str):
        return _days(value)
    if (pa.types.is_date64(t) or pa.types.is_timestamp(t)) and isinstance(value, str):
        return _instant(value, t)
    if pa.types.is_struct(t) and isinstance(value, dict):
        return {**value, **{f.name: arrow_value(value.get(f.name), f.type) for f in t}}
    if (pa.types.is_list(t) or pa.types.is_large_list(t)) and isinstance(value, list):
        return [arrow_value(v, t.value_type) for v in value]
    return value


def _days(text: str) -> int | str:
    """The days since 1970-01-01 of a date `_day` wrote as text (days_from_civil, H. Hinnant's
    algorithm); any other text as it is, for Arrow to refuse."""
    found = _ISO_DAY.fullmatch(text)
    if found is None:
        return text
    year, month, day = int(found[1]), int(found[2]), int(found[3])
    year -= month <= 2
    era = year // 400
    year_of_era = year - era * 400
    day_of_year = (153 * ((month + 9) % 12) + 2) // 5 + day - 1  # months from March
    day_of_era = year_of_era * 365 + year_of_era // 4 - year_of_era // 100 + day_of_year
    return era * 146097 + day_of_era - 719468


_ISO_INSTANT = re.compile(r"(-?[0-9]{4,}-[0-9]{2}-[0-9]{2})(?: ([0-9]{2}):([0-9]{2}):([0-9]{2})(?:\.([0-9]+))?"
                          r"(Z|[+-][0-9]{4})?)?")  # Arrow's own text for a date64 or a timestamp
_PER_SECOND = {"s": 1, "ms": 10**3, "us": 10**6, "ns": 10**9}


def _instant(text: str, t: pa.DataType) -> int | str:
    """The number a date64 or timestamp column `t` holds for Arrow's text of it (`_as_days`: a
    key past the year 9999, which Python has none of); any other text as it is."""
    found = _ISO_INSTANT.fullmatch(text)
    if found is None:
        return text
    day, hours, minutes, seconds, fraction, zone = found.groups()
    seconds = _days(day) * 86400 + int(hours or 0) * 3600 + int(minutes or 0) * 60 + int(seconds or 0)
    if zone not in (None, "Z"):  # the text is the local time of the column's zone
        seconds -= (-1 if zone[0] == "-" else 1) * (int(zone[1:3]) * 3600 + int(zone[3:5]) * 60)
    per_second = 1000 if pa.types.is_date64(t) else _PER_SECOND[t.unit]
    return seconds * per_second + int((fraction or "").ljust(9, "0")[:9]) * per_second // 10**9


class DecisionRows:
    """Decisions as rows of the decision columns."""

    def __init__(self, policy: CheckedPolicy, text_hash: str):
        self.outputs, self.per_item = policy.outputs, policy.items is not None
        self.version, self.hash = policy.version, text_hash

    def row(self, decision) -> dict:
        row = {}
        outputs = decision.outputs
        for output in self.outputs:
            value = outputs[output.name]
            if output.kind == "outcome":
                row[output.name] = value
            elif plain(output.type) == T.DATE_RANGE:
                row[f"{output.name}_from"], row[f"{output.name}_to"] = value if value is not None else (None, None)
            else:
                row[output.name] = _cell(value, output.kind == "total" or plain(output.type) == T.MONEY, output.name)
        if self.per_item:
            row[ITEM_OUTCOMES] = [item.outcome for item in decision.items]
        row[RULES_APPLIED] = applied_rules(decision)
        row[POLICY_VERSION], row[POLICY_HASH] = self.version, self.hash
        return row


def applied_rules(decision) -> list[str]:
    """The rules that determined a decision, each once, in the order of the policy file."""
    names: list[str] = []
    for application in decision.applied:
        name = application.rule.rule.name
        if not names or names[-1] != name:
            names.append(name)
    return names


def _cell(value, money: bool, name: str):
    if money and value is not None:  # in cents, as decision JSON prints an amount
        value = value.quantize(CENT, ROUND_HALF_UP) if value.as_tuple().exponent != -2 else value
        if abs(value) >= MONEY_LIMIT:
            raise OutputTooLarge(name, value, MONEY)
        return value
    if isinstance(value, frozenset):
        return sorted(value)
    return value
