"""The business-day calendar as two tables the query joins, for the years the data spans.

    rpl_calendar        bday, upto (business days on or before it), before (strictly before)
    rpl_business_days   ordinal, bday: the business days, numbered from 1

The n-th business day after a date (n > 0) is the one numbered `upto + n`; before it (n < 0),
the one numbered `before + n + 1`: what `BusinessCalendar.add` counts day by day.
"""
from __future__ import annotations

import array
import datetime

import pyarrow as pa

from rplang.compiler.calendars import BusinessCalendar
from rplang.policy_lang import limits

# Years around the dates the data starts from: the most business days a count may hold, in years.
MARGIN_YEARS = limits.MAX_BUSINESS_DAYS // 250 + 1


def calendar_tables(country: str | None, first: datetime.date | None, last: datetime.date | None, chained: int = 1):
    """(rpl_calendar, rpl_business_days) as Arrow tables, covering `first` to `last` with room
    for the longest count either way, `chained` times (counts from a day a count reaches)."""
    today = datetime.date.today()
    first, last = first or today, last or today
    start = datetime.date(max(1, first.year - MARGIN_YEARS * chained), 1, 1)
    end = datetime.date(min(9999, last.year + MARGIN_YEARS * chained), 12, 31)
    calendar = BusinessCalendar(country)
    calendar.load_years(start.year, end.year)
    days, upto, before, business = [], [], [], []
    count, day, step = 0, start, datetime.timedelta(days=1)
    while day <= end:
        before.append(count)
        if calendar.is_business_day(day):
            count += 1
            business.append(day)
        days.append(day)
        upto.append(count)
        day += step
    return (pa.table({"bday": _dates(days), "upto": _integers(upto), "before": _integers(before)}),
            pa.table({"ordinal": _integers(range(1, len(business) + 1)), "bday": _dates(business)}))


# Arrow's constructors look at Python values (a list, even a NumPy array) through pandas,
# importing it (a quarter of a second): the columns are built from their buffers.

def _integers(values) -> pa.Array:
    return _array(pa.int64(), array.array("q", values))


def _dates(days: list[datetime.date]) -> pa.Array:
    """Dates as Arrow's days since 1970."""
    epoch = _EPOCH.toordinal()
    return _array(pa.date32(), array.array("i", (d.toordinal() - epoch for d in days)))  # C's int: 32 bits


def _array(t: pa.DataType, values: array.array) -> pa.Array:
    return pa.Array.from_buffers(t, len(values), [None, pa.py_buffer(values)])


_EPOCH = datetime.date(1970, 1, 1)
