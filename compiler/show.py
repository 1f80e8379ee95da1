"""How a value reads in a sentence: `14 days`, `15%`, `1,890.00`, `2026-03-02`."""
from __future__ import annotations

import datetime
from decimal import ROUND_HALF_UP, Decimal

from . import types as T

CENT = Decimal("0.01")


def formatter(type_: T.Type | None):
    """`show` for values of one type, with the type's case chosen once."""
    inner = type_.inner if isinstance(type_, T.OptionalType) else type_
    if inner in (T.MONEY, T.EXACT_MONEY):
        return lambda v: "none" if v is None else \
            f"{v.quantize(CENT, ROUND_HALF_UP):,.2f}".replace("-0.00", "0.00")
    if inner == T.DATE:
        return lambda v: "none" if v is None else v.isoformat()
    if inner == T.TEXT:
        return lambda v: "none" if v is None else v
    if inner in (T.DAYS, T.BUSINESS_DAYS):
        unit = " business day" if inner == T.BUSINESS_DAYS else " day"
        return lambda v: "none" if v is None else f"{v}{unit}{'' if v == 1 else 's'}"
    if inner == T.DATE_RANGE:
        return lambda v: "none" if v is None else f"{v[0].isoformat()} to {v[1].isoformat()}"
    if isinstance(inner, T.EnumType):
        return lambda v: "none" if v is None else v.replace("_", " ")
    return lambda v: show(v, type_)


def show(value: object, type_: T.Type | None) -> str:
    """A value as a customer-service agent reads it out."""
    if isinstance(type_, T.OptionalType):
        type_ = type_.inner
    if value is None:
        return "none"
    if type_ in (T.MONEY, T.EXACT_MONEY):
        return f"{value.quantize(CENT, ROUND_HALF_UP):,.2f}".replace("-0.00", "0.00")
    if type_ == T.PERCENT:
        return f"{value.normalize():f}%"
    if type_ == T.DAYS:
        return f"{value} day" + ("" if value == 1 else "s")
    if type_ == T.BUSINESS_DAYS:
        return f"{value} business day" + ("" if value == 1 else "s")
    if type_ == T.DATE_RANGE:
        return f"{value[0].isoformat()} to {value[1].isoformat()}"
    if type_ == T.BOOLEAN:
        return "yes" if value else "no"
    if isinstance(type_, T.EnumType):
        return str(value).replace("_", " ")
    if isinstance(type_, (T.ListType, T.SetType)):
        items = sorted(value) if isinstance(value, frozenset) else value
        return ", ".join(show(v, type_.element) for v in items) if items else "none"
    if isinstance(value, datetime.date):
        return value.isoformat()
    if isinstance(value, dict):
        return str(value.get("#path", "a record"))
    return str(value)
