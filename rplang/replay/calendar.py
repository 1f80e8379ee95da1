"""The business-day calendar as one row of lists the query looks days up in, for the years the
data spans.

    rpl_calendar   first, last: the calendar's days
                   upto: for each of its days, the business days on or before it
                   before: for each of its days, the business days strictly before it
                   business_days: the business days, in order

A date's place in `upto` and `before` is its distance from `first`, plus 1 (SQL lists count from
1). The n-th business day after a date (n > 0) is business day number `upto + n`; before it
(n < 0), number `before + n + 1`: what `BusinessCalendar.add` counts day by day. Looking them up
in lists costs DuckDB a fifth of what two joins of every row against tables of days did.
"""
from __future__ import annotations

import array
import datetime

import pyarrow as pa

from rplang.compiler.calendars import BusinessCalendar
from rplang.policy_lang import limits

# Years around the dates the data starts from: the most business days a count may hold, in years.
MARGIN_YEARS = limits.MAX_BUSINESS_DAYS // 250 + 1


def calendar_table(country: str | None, first: datetime.date | None, last: datetime.date | None, chained: int = 1,
                   longest: int = limits.MAX_BUSINESS_DAYS) -> pa.Table:
    """rpl_calendar as an Arrow table of one row, covering `first` to `last` with room
    for the longest count either way (`longest` business days, when the policy's counts are
    known), `chained` times (counts from a day a count reaches). A day a count reaches past the
    calendar is a NULL, which the Python path decides."""
    today = datetime.date.today()
    first, last = first or today, last or today
    margin = min(MARGIN_YEARS, longest // 250 + 1) * chained
    start = datetime.date(max(1, first.year - margin), 1, 1)
    end = datetime.date(min(9999, last.year + margin), 12, 31)
    closed = _holidays(country, start.year, end.year)
    epoch = _EPOCH.toordinal()
    upto, before, business = [], [], []  # business days as Arrow's dates, days since 1970
    count = 0
    for ordinal in range(start.toordinal(), end.toordinal() + 1):
        before.append(count)
        if ordinal % 7 not in _WEEKEND and ordinal not in closed:  # date.fromordinal(1) is a Monday
            count += 1
            business.append(ordinal - epoch)
        upto.append(count)
    return pa.table({"first": _dates([start.toordinal() - epoch]), "last": _dates([end.toordinal() - epoch]),
                     "upto": _one_list(_integers(upto)), "before": _one_list(_integers(before)),
                     "business_days": _one_list(_dates(business))})


_WEEKEND = {6, 0}  # Saturday and Sunday, as ordinals modulo 7


def _holidays(country: str | None, first: int, last: int) -> set[int]:
    """The ordinals of the holidays (observed) of the years `first` to `last` (from the user's
    cache when it has them: compiler/calendars.py)."""
    calendar = BusinessCalendar(country)
    calendar.load_years(first, last)
    return {d.toordinal() for year in range(first, last + 1) for d in calendar.holidays(year)}


# Arrow's constructors look at Python values (a list, even a NumPy array) through pandas,
# importing it (a quarter of a second): the columns are built from their buffers.

def _integers(values) -> pa.Array:
    return _array(pa.int64(), array.array("q", values))


def _dates(days: list[int]) -> pa.Array:
    """Days since 1970 as Arrow's dates."""
    return _array(pa.date32(), array.array("i", days))  # C's int: 32 bits


def _one_list(values: pa.Array) -> pa.Array:
    """`values` as the one list of a column of one row."""
    return pa.ListArray.from_arrays(_array(pa.int32(), array.array("i", [0, len(values)])), values)


def _array(t: pa.DataType, values: array.array) -> pa.Array:
    return pa.Array.from_buffers(t, len(values), [None, pa.py_buffer(values)])


_EPOCH = datetime.date(1970, 1, 1)
