"""The types of rpl values, with the names a policy owner reads in messages."""
from __future__ import annotations

import datetime

import attrs

from rplang.policy_lang import ast


@attrs.frozen(eq=False)
class Scalar:
    """A built-in type: date, money, percent, integer, boolean, text, days, business days.

    There is one object per scalar type (the constants below), compared by identity: type tests
    are on the hot path of explaining a decision.
    """
    name: str

    def describe(self) -> str:
        return _SCALAR_WORDS[self.name]

    def __reduce__(self):
        return (scalar, (self.name,))  # unpickled as the one object of its name


@attrs.frozen
class EnumType:
    """One of a closed set of named values."""
    name: str
    members: tuple[str, ...]

    def describe(self) -> str:
        return f"a {self.name} ({', '.join(self.members)})"


@attrs.frozen
class RecordType:
    """A record of the request; its fields are looked up in the checked schema."""
    name: str

    def describe(self) -> str:
        return f"a {self.name} record"


@attrs.frozen
class ListType:
    """A list of values of one type."""
    element: "Type"

    def describe(self) -> str:
        return f"a list of {_plural(self.element)}"


@attrs.frozen
class SetType:
    """A set of enum values, written `{a, b}`, or of texts, written `{"AL", "OH"}`."""
    element: "EnumType | Scalar"

    def describe(self) -> str:
        return f"a set of {self.element.name} values"


@attrs.frozen
class OptionalType:
    """A value that may be absent."""
    inner: "Type"

    def describe(self) -> str:
        return f"an optional {self.inner.describe().removeprefix('a ').removeprefix('an ')}"


@attrs.frozen
class TableType:
    """A table's column as a value (`restocking_rate`), only ever looked up by its keys."""
    name: str
    keys: tuple["Type", ...]
    value: "Type"

    def describe(self) -> str:
        return f"the table {self.name}"


Type = Scalar | EnumType | RecordType | ListType | SetType | OptionalType | TableType

DATE = Scalar("date")
MONEY = Scalar("money")
EXACT_MONEY = Scalar("exact_money")  # money times a percent, not yet rounded to the cent
PERCENT = Scalar("percent")
INTEGER = Scalar("integer")
BOOLEAN = Scalar("boolean")
TEXT = Scalar("text")
DAYS = Scalar("days")
BUSINESS_DAYS = Scalar("business_days")
DATE_RANGE = Scalar("date_range")
MONTH_DAY = Scalar("month_day")  # a day of the year, in no year: `november 1`
YEARLY_RANGE = Scalar("yearly_range")  # `november 1 through january 31`, every year

_SCALARS = {t.name: t for t in (DATE, MONEY, EXACT_MONEY, PERCENT, INTEGER, BOOLEAN, TEXT, DAYS,
                                 BUSINESS_DAYS, DATE_RANGE, MONTH_DAY, YEARLY_RANGE)}

# What `month of d` and `weekday of d` give: compared with `november`, `{saturday, sunday}`.
MONTH = EnumType("month", ast.MONTHS)
WEEKDAY = EnumType("weekday", ast.WEEKDAYS)


def scalar(name: str) -> Scalar:
    """The scalar type of a name."""
    return _SCALARS[name]


_SCALAR_WORDS = {
    "date": "a date", "money": "an amount of money", "percent": "a percentage",
    "exact_money": "an unrounded amount of money", "integer": "a whole number",
    "boolean": "a yes/no fact", "text": "a text", "days": "a number of days",
    "business_days": "a number of business days", "date_range": "a range of dates",
    "month_day": "a day of the year", "yearly_range": "a yearly range of days",
}

# Names a policy owner writes in a field or output declaration (and `days`, in a table's header).
BUILTIN_TYPES = {"date": DATE, "money": MONEY, "percent": PERCENT, "integer": INTEGER,
                 "boolean": BOOLEAN, "text": TEXT}


def _plural(t: Type) -> str:
    word = t.describe()
    for article in ("a ", "an "):
        if word.startswith(article):
            word = word[len(article):]
    return word if word.endswith("s") else word + "s"


class DateRange(tuple):
    """A value of type `date range`: (first day, last day), both included; `day in range`."""

    __slots__ = ()

    def __new__(cls, first, last):
        return tuple.__new__(cls, (first, last))  # not super(), which makes an object each call

    def __contains__(self, day) -> bool:
        return self[0] <= day <= self[1]

    def __reduce__(self):
        return (DateRange, (self[0], self[1]))


def record_name(t: Type) -> str | None:
    """The record a value of type `t` holds, through optionals and lists (None for a scalar)."""
    while isinstance(t, (OptionalType, ListType)):
        t = t.inner if isinstance(t, OptionalType) else t.element
    return t.name if isinstance(t, RecordType) else None


class YearlyRange(tuple):
    """A value of type yearly range: ((month, day), (month, day)), both days included, every year;
    the range crosses the new year when its last day comes before its first (`november 1 through
    january 31`). Neither end is February 29 (the parser refuses it): both are in every year."""

    __slots__ = ()

    def __new__(cls, first, last):
        return super().__new__(cls, (tuple(first), tuple(last)))

    def __contains__(self, day) -> bool:
        first, last, today = self[0], self[1], (day.month, day.day)
        if first <= last:
            return first <= today <= last
        return today >= first or today <= last

    def end_for(self, day: datetime.date) -> datetime.date:
        """The last day of the occurrence that holds `day`, or of the next one: the first last
        day on or after `day`."""
        year = day.year if (day.month, day.day) <= self[1] else day.year + 1
        return datetime.date(year, *self[1])

    def start_for(self, day: datetime.date) -> datetime.date:
        """The first day of the occurrence that `end_for(day)` ends."""
        end = self.end_for(day)
        return datetime.date(end.year if self[0] <= self[1] else end.year - 1, *self[0])

    def written(self) -> str:
        """As a policy writes it: `november 1 through january 31`."""
        (m1, d1), (m2, d2) = self
        return f"{ast.MONTHS[m1 - 1]} {d1} through {ast.MONTHS[m2 - 1]} {d2}"

    def __reduce__(self):
        return (YearlyRange, (self[0], self[1]))
