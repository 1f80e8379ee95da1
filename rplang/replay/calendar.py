"""The business-day calendar as two tables the query joins, for the years the data spans.

    rpl_calendar        bday, upto (business days on or before it), before (strictly before)
    rpl_business_days   ordinal, bday: the business days, numbered from 1

The n-th business day after a date (n > 0) is the one numbered `upto + n`; before it (n < 0),
the one numbered `before + n + 1`: what `BusinessCalendar.add` counts day by day.

The columns are made here as lists of numbers (days since 1970); DuckDB takes them as they are
(engine_duckdb.py: no Arrow), Spark and the notebook API as Arrow tables (`tables_for_span`).
"""
from __future__ import annotations

import array
import datetime

from rplang.compiler.calendars import BusinessCalendar
from rplang.policy_lang import limits

# Years around the dates the data starts from: the most business days a count may hold, in years.
MARGIN_YEARS = limits.MAX_BUSINESS_DAYS // 250 + 1


def calendar_columns(country: str | None, first: datetime.date | None, last: datetime.date | None,
                     chained: int = 1, longest: int = limits.MAX_BUSINESS_DAYS):
    """The tables' columns (days as days since 1970): ((bday, upto, before), (ordinal, bday)),
    covering `first` to `last` with room for the longest count either way (`longest` business
    days, when the policy's counts are known), `chained` times (counts from a day a count
    reaches). A day a count reaches past the calendar is a NULL, which the Python path decides."""
    today = datetime.date.today()
    first, last = first or today, last or today
    margin = min(MARGIN_YEARS, longest // 250 + 1) * chained
    start = datetime.date(max(1, first.year - margin), 1, 1)
    end = datetime.date(min(9999, last.year + margin), 12, 31)
    closed = _holidays(country, start.year, end.year)
    epoch = _EPOCH.toordinal()
    days, upto, before, business = [], [], [], []  # days as Arrow's, since 1970
    count = 0
    for ordinal in range(start.toordinal(), end.toordinal() + 1):
        before.append(count)
        if ordinal % 7 not in _WEEKEND and ordinal not in closed:  # date.fromordinal(1) is a Monday
            count += 1
            business.append(ordinal - epoch)
        days.append(ordinal - epoch)
        upto.append(count)
    return (days, upto, before), (list(range(1, len(business) + 1)), business)


_WEEKEND = {6, 0}  # Saturday and Sunday, as ordinals modulo 7


def columns_for_span(country: str | None, found: tuple, chained: int, longest: int):
    """`calendar_columns` for the days an engine found running a calendar span's query (the
    first and last days each count starts from, NULL where the data gives none:
    query.calendar_span)."""
    days = [d for d in found if d is not None]
    return calendar_columns(country, min(days, default=None), max(days, default=None), chained=chained,
                            longest=longest)


def tables_for_span(country: str | None, found: tuple, chained: int, longest: int):
    """`columns_for_span` as Arrow tables."""
    return _as_arrow(columns_for_span(country, found, chained, longest))


def _holidays(country: str | None, first: int, last: int) -> set[int]:
    """The ordinals of the holidays (observed) of the years `first` to `last` (from the user's
    cache when it has them: compiler/calendars.py)."""
    calendar = BusinessCalendar(country)
    calendar.load_years(first, last)
    return {d.toordinal() for year in range(first, last + 1) for d in calendar.holidays(year)}


# Arrow's constructors look at Python values (a list, even a NumPy array) through pandas,
# importing it (a quarter of a second): the columns are built from their buffers.

def _as_arrow(columns):
    import pyarrow as pa

    def column(t, code: str, values) -> pa.Array:
        values = array.array(code, values)
        return pa.Array.from_buffers(t, len(values), [None, pa.py_buffer(values)])

    def integers(values) -> pa.Array:
        return column(pa.int64(), "q", values)

    def dates(values) -> pa.Array:  # days since 1970 as Arrow's dates
        return column(pa.date32(), "i", values)  # C's int: 32 bits

    (days, upto, before), (ordinal, business) = columns
    return (pa.table({"bday": dates(days), "upto": integers(upto), "before": integers(before)}),
            pa.table({"ordinal": integers(ordinal), "bday": dates(business)}))


_EPOCH = datetime.date(1970, 1, 1)
