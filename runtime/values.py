"""How values print: exact JSON for programs, readable text for people."""
from __future__ import annotations

import datetime
from decimal import MAX_PREC, ROUND_HALF_UP, Context, Decimal

from rplang.compiler import types as T

CENT = Decimal("0.01")
# Rounding to the cent must keep every digit: in the default context (28 digits) it fails on
# amounts of 27 digits or more, which arithmetic on amounts a request may hold can reach.
_WIDE = Context(prec=MAX_PREC)


def money_text(amount: Decimal) -> str:
    """Exactly two decimals, rounded half up, never `-0.00`."""
    text = str(amount)
    if text[-3:-2] == "." and "E" not in text and text != "-0.00":
        return text  # already in cents, as nearly every amount is: no rounding to do
    text = f"{amount.quantize(CENT, ROUND_HALF_UP, context=_WIDE):f}"
    return "0.00" if text == "-0.00" else text


def json_value(value: object, type_: T.Type | None) -> object:
    """A value as it appears in decision JSON: money as a string, dates ISO, absent as null."""
    if value is None:
        return None
    if isinstance(type_, T.OptionalType):
        type_ = type_.inner
    if type_ in (T.MONEY, T.EXACT_MONEY):
        return money_text(value)
    if type_ == T.PERCENT:
        return f"{value.normalize():f}%"
    if type_ == T.DATE:
        return value.isoformat()
    if type_ == T.DATE_RANGE:
        return [value[0].isoformat(), value[1].isoformat()]
    if type_ == T.YEARLY_RANGE:
        return value.written()
    if isinstance(type_, (T.ListType, T.SetType)):
        return [json_value(v, type_.element) for v in sorted(value) if v is not None] \
            if isinstance(value, frozenset) else [json_value(v, type_.element) for v in value]
    if isinstance(value, dict):  # a record: each field as JSON, whatever its type
        return {k: json_value(v, None) for k, v in value.items() if not k.startswith("#")}
    if type_ is None:  # a value whose type is not at hand (a field of a record, say)
        if isinstance(value, Decimal):
            return f"{value:f}"
        if isinstance(value, datetime.date):
            return value.isoformat()
        if isinstance(value, (list, tuple, frozenset)):
            return [json_value(v, None) for v in (sorted(value) if isinstance(value, frozenset) else value)]
    return value


def json_formatter(type_: T.Type | None):
    """A function that formats values of one type for JSON, chosen once per output."""
    inner = type_.inner if isinstance(type_, T.OptionalType) else type_
    if inner in (T.MONEY, T.EXACT_MONEY):
        return lambda v: None if v is None else money_text(v)
    if inner == T.DATE:
        return lambda v: None if v is None else v.isoformat()
    if inner == T.DATE_RANGE:
        return lambda v: None if v is None else [v[0].isoformat(), v[1].isoformat()]
    if inner == T.YEARLY_RANGE:
        return lambda v: None if v is None else v.written()
    if isinstance(inner, (T.EnumType, T.Scalar)) and inner not in (T.PERCENT,):
        return unchanged
    if isinstance(inner, (T.ListType, T.SetType)) and json_formatter(inner.element) is unchanged:
        return plain_list
    return lambda v: json_value(v, type_)


def plain_list(value):
    """`json_value` of a list or set of values that are JSON as they are (texts, numbers, enum
    values): a set sorted, without its `None`."""
    if value is None:
        return None
    if isinstance(value, frozenset):
        return [v for v in sorted(value) if v is not None]
    return list(value)


def unchanged(value):
    """The formatter of values that are JSON as they are (texts, numbers, yes/no)."""
    return value
