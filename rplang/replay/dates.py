"""Parts of dates in SQL, alike in every engine: YEAR, MONTH, DAY, LAST_DAY and MAKE_DATE, which
DuckDB and Spark read the same; the weekday counted in days from a Monday (engines number
weekdays differently); a yearly range compared as `100 * month + day`; a day Python has."""
from __future__ import annotations

import datetime

from sqlglot import exp

from rplang.compiler import types as T
from rplang.policy_lang.ast import MONTHS, WEEKDAYS

_A_MONDAY = exp.cast(exp.Literal.string("2001-01-01"), "DATE")


def _number(n: int) -> exp.Expression:
    return exp.Literal.number(n)


def _names(index: exp.Expression, names: tuple[str, ...], first: int) -> exp.Expression:
    """The name at `index` (counted from `first`), as an enum value is in SQL: its text."""
    return exp.Case(ifs=[exp.If(this=exp.EQ(this=index, expression=_number(first + k)),
                                true=exp.Literal.string(name)) for k, name in enumerate(names)])


def date_part(part: str, day: exp.Expression) -> exp.Expression:
    if part == "year":
        return exp.Year(this=day)
    if part == "day":
        return exp.Day(this=day)
    if part == "month":
        return _names(exp.Month(this=day), MONTHS, 1)
    if part == "end_of_month":
        return exp.LastDay(this=day)
    since = exp.DateDiff(this=day, expression=_A_MONDAY, unit=exp.var("DAY"))
    seven = _number(7)
    weekday = exp.Mod(this=exp.paren(exp.Add(this=exp.paren(exp.Mod(this=since, expression=seven)), expression=seven)),
                      expression=seven)  # never negative, for days before the Monday too
    return _names(weekday, WEEKDAYS, 0)


def _day_of_year(day: exp.Expression) -> exp.Expression:
    return exp.Add(this=exp.Mul(this=exp.Month(this=day), expression=_number(100)), expression=exp.Day(this=day))


def _key(month_day: tuple[int, int]) -> exp.Expression:
    return _number(100 * month_day[0] + month_day[1])


def in_yearly(day: exp.Expression, season: T.YearlyRange) -> exp.Expression:
    today, (first, last) = _day_of_year(day), season
    if first <= last:
        return exp.Between(this=today, low=_key(first), high=_key(last))
    return exp.paren(exp.Or(this=exp.GTE(this=today, expression=_key(first)),
                            expression=exp.LTE(this=today, expression=_key(last))))


def season_bound(bound: str, season: T.YearlyRange, day: exp.Expression) -> exp.Expression:
    """As `YearlyRange.start_for` and `end_for`."""
    first, last = season
    year = exp.Year(this=day)
    end_year = exp.Case(ifs=[exp.If(this=exp.LTE(this=_day_of_year(day), expression=_key(last)), true=year)],
                        default=exp.Add(this=year, expression=_number(1)))
    if bound == "end":
        return exp.DateFromParts(year=end_year, month=_number(last[0]), day=_number(last[1]))
    start_year = end_year if first <= last else exp.Sub(this=end_year, expression=_number(1))
    return exp.DateFromParts(year=start_year, month=_number(first[0]), day=_number(first[1]))


def python_day(day: exp.Expression) -> exp.Expression:
    """The day, if Python has it (years 1 to 9999), else NULL: the engine would give another as a
    text (the business-day calendar, built in Python, spans no such day)."""
    first, last = (exp.cast(exp.Literal.string(d.isoformat()), "DATE") for d in (datetime.date.min, datetime.date.max))
    return exp.Case(ifs=[exp.If(this=exp.Between(this=day, low=first, high=last), true=day.copy())])
