"""Parts of dates as solver terms: a date is its day number (`date.toordinal()`), and its year,
month and day follow from it by integer arithmetic (H. Hinnant's `civil_from_days` and
`days_from_civil`, divisions by constants only), exact for every date after year 0; the weekday is
the day number modulo 7. A yearly range is a pair of days of the year, each `100 * month + day`."""
from __future__ import annotations

import datetime

import attrs
import z3

# The day numbers Python's dates have, 0001-01-01 to 9999-12-31
FIRST_DAY, LAST_DAY = datetime.date.min.toordinal(), datetime.date.max.toordinal()
# `date.toordinal()` of 1970-01-01, and the shift of Hinnant's day count (from 0000-03-01)
_EPOCH = 719163
_SHIFT = 719468


@attrs.frozen
class Yearly:
    """A yearly range as the solver reads it: its first and last day of the year, `100 * m + d`."""
    first: int
    last: int

    @classmethod
    def of(cls, value) -> "Yearly":
        (m1, d1), (m2, d2) = value
        return cls(100 * m1 + d1, 100 * m2 + d2)


def civil(day):
    """(year, month 1-12, day 1-31) of a day number."""
    z = day - _EPOCH + _SHIFT
    era = z / 146097
    doe = z - era * 146097
    yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365
    doy = doe - (365 * yoe + yoe / 4 - yoe / 100)
    mp = (5 * doy + 2) / 153
    d = doy - (153 * mp + 2) / 5 + 1
    m = z3.If(mp < 10, mp + 3, mp - 9)
    return yoe + era * 400 + z3.If(m <= 2, 1, 0), m, d


def day_number(year, month, day):
    """The day number of a year, month and day (the inverse of `civil`)."""
    y = year - z3.If(month <= 2, 1, 0)
    era = y / 400
    yoe = y - era * 400
    shifted = z3.If(month > 2, month - 3, month + 9)
    doy = (153 * shifted + 2) / 5 + day - 1
    doe = yoe * 365 + yoe / 4 - yoe / 100 + doy
    return era * 146097 + doe - _SHIFT + _EPOCH


def date_part(part: str, day):
    """`year of`, `month of` (the month's position, as an enum value is), `day of`, `weekday of`
    (Monday 0, as `date.weekday()`), `end of month of`."""
    if part == "weekday":
        return (day - 1) % 7  # day number 1, 0001-01-01, was a Monday
    year, month, d = civil(day)
    if part == "year":
        return year
    if part == "month":
        return month - 1
    if part == "day":
        return d
    next_year = z3.If(month == 12, year + 1, year)
    next_month = z3.If(month == 12, 1, month + 1)
    return day_number(next_year, next_month, 1) - 1


def in_yearly(day, season: Yearly):
    year, month, d = civil(day)
    today = 100 * month + d
    if season.first <= season.last:
        return z3.And(season.first <= today, today <= season.last)
    return z3.Or(today >= season.first, today <= season.last)


def season_bound(bound: str, season: Yearly, day):
    """The first (`start`) or last (`end`) day of the occurrence of `season` that holds `day`, or
    of the next one: as `YearlyRange.start_for` and `end_for`."""
    year, month, d = civil(day)
    end_year = z3.If(100 * month + d <= season.last, year, year + 1)
    if bound == "end":
        return day_number(end_year, season.last // 100, season.last % 100)
    start_year = end_year if season.first <= season.last else end_year - 1
    return day_number(start_year, season.first // 100, season.first % 100)
