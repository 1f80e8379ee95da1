"""How a value reads in a sentence: `14 days`, `15%`, `1,890.00`, `2026-03-02`."""
from __future__ import annotations

import datetime
from decimal import ROUND_HALF_UP, Decimal

from . import types as T

CENT = Decimal("0.01")


def show(value: object, type_: T.Type | None) -> str:
    """A value as a customer-service agent reads it out."""
    return formatter(type_)(value)


def formatter(type_: T.Type | None):
    """`show` for values of one type, with the type's case chosen once."""
    inner = type_.inner if isinstance(type_, T.OptionalType) else type_
    shown = _shown(inner)
    return lambda v: "none" if v is None else shown(v)


def _shown(type_: T.Type | None):
    """How a value of the type reads, given there is one."""
    if type_ in (T.MONEY, T.EXACT_MONEY):
        return money
    if type_ == T.TEXT:
        return lambda v: v
    if type_ == T.DATE:
        return lambda v: v.isoformat()
    if type_ == T.PERCENT:
        return lambda v: f"{v.normalize():f}%"
    if type_ in (T.DAYS, T.BUSINESS_DAYS):
        unit = " business day" if type_ == T.BUSINESS_DAYS else " day"
        return lambda v: f"{v}{unit}{'' if v == 1 else 's'}"
    if type_ == T.DATE_RANGE:
        return lambda v: f"{v[0].isoformat()} to {v[1].isoformat()}"
    if type_ == T.YEARLY_RANGE:  # `November 1 through January 31, every year`
        return lambda v: v.written().title().replace(" Through ", " through ") + ", every year"
    if type_ == T.BOOLEAN:
        return lambda v: "yes" if v else "no"
    if isinstance(type_, T.EnumType):
        return lambda v: str(v).replace("_", " ")
    if isinstance(type_, (T.ListType, T.SetType)):
        element = formatter(type_.element)

        def listed(value):
            items = sorted(value) if isinstance(value, frozenset) else value
            return ", ".join(element(x) for x in items) if items else "none"
        return listed
    return _untyped


def money(value: Decimal) -> str:
    """An amount to the cent, grouped by thousands: `1,890.00`."""
    text = str(value)
    if text[-3:-2] == "." and "E" not in text and len(text) <= 20:  # in cents already: nothing to round
        digits = len(text) - (text[0] == "-")  # the sign's not counted
        if digits <= 6:  # no thousands to group
            return "0.00" if text == "-0.00" else text
        if digits <= 9:  # one comma, before the last three digits of the whole part: cut in place
            return f"{text[:-6]},{text[-6:]}"
        return f"{value:,f}"  # grouped as `:,.2f` groups it; longer amounts are left to quantize, as ever
    return f"{value.quantize(CENT, ROUND_HALF_UP):,.2f}".replace("-0.00", "0.00")


def _untyped(value: object) -> str:
    """A date, a record, a text or a number, whatever its declared type (or with none at hand)."""
    if isinstance(value, datetime.date):
        return value.isoformat()
    if isinstance(value, dict):
        return str(value.get("#path", "a record"))
    return str(value)
