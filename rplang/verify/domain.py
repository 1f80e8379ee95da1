"""What a verification ranges over: the bounds, and how rpl values are numbers for the solver.

Money is an exact number of cents, a percentage a number of percentage points, a date its day
number (`date.toordinal()`), an enum value the position of its member, a text a number standing
for one text (the texts the policy writes have their own numbers).
"""
from __future__ import annotations

import datetime
from decimal import Decimal

import attrs

from rplang.compiler import types as T
from rplang.compiler.calendars import BusinessCalendar

from .dates import Yearly


class Unsupported(Exception):
    """A construct the encoding does not support yet: the property cannot be checked."""


@attrs.frozen
class Bounds:
    """Every request with up to `max_items` elements in each list and dates from `first_day` to `last_day`."""
    max_items: int = 3
    first_day: datetime.date = datetime.date(2026, 1, 1)
    last_day: datetime.date = datetime.date(2027, 12, 31)


MONEY_SCALE = {T.MONEY: 100, T.EXACT_MONEY: 100, T.PERCENT: 1}  # solver units per unit written
PERCENT_STEPS = 10_000  # a percentage in a request has at most 4 decimals


def plain(t: T.Type) -> T.Type:
    return t.inner if isinstance(t, T.OptionalType) else t


class Texts:
    """Numbers for texts: each text a policy writes gets its own; any other number is another text."""

    def __init__(self):
        self.numbers: dict[str, int] = {}

    def number(self, text: str) -> int:
        return self.numbers.setdefault(text, len(self.numbers) + 1)

    def text(self, number: int) -> str:
        for text, n in self.numbers.items():
            if n == number:
                return text
        name = f"t{number}"
        while name in self.numbers:  # never one of the policy's own texts
            name += "_"
        return name


def constant(value: object, t: T.Type, texts: Texts):
    """A constant of the policy as the solver's number (or a tuple, for a date range)."""
    t = plain(t)
    if value is None:
        return None
    if t in MONEY_SCALE:
        return Decimal(value) * MONEY_SCALE[t]
    if t is T.DATE:
        return value.toordinal()
    if t is T.DATE_RANGE:
        return (value[0].toordinal(), value[1].toordinal())
    if t is T.YEARLY_RANGE:
        return Yearly.of(value)
    if isinstance(t, T.EnumType):
        return t.members.index(value)
    if t is T.TEXT:
        return texts.number(value)
    if t in (T.INTEGER, T.DAYS, T.BUSINESS_DAYS, T.BOOLEAN):
        return value
    raise Unsupported(f"a constant of type {t.describe()}")


class BusinessDays:
    """The business days of a calendar over a range of days, for exact business-day arithmetic.

    A day's index is the number of business days up to it: Mondays to Fridays counted by
    arithmetic, less the holidays on weekdays, each a step in the count.
    """

    def __init__(self, calendar: str | None, first: int, last: int):
        self.first, self.last = first, last
        self.monday = first - datetime.date.fromordinal(first).weekday()  # counting starts on it
        cal = BusinessCalendar(calendar)
        self.holidays = tuple(d for d in range(first, last + 1)
                              if datetime.date.fromordinal(d).weekday() < 5
                              and not cal.is_business_day(datetime.date.fromordinal(d)))
