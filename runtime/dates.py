"""Parts of dates, as `year of d`, `month of d`, `day of d`, `weekday of d` and `end of month of d`
give them; every evaluator computes them here."""
from __future__ import annotations

import calendar
import datetime

from rplang.policy_lang.ast import MONTHS, WEEKDAYS


def year_of(day: datetime.date) -> int:
    return day.year


def month_of(day: datetime.date) -> str:
    return MONTHS[day.month - 1]


def day_of(day: datetime.date) -> int:
    return day.day


def weekday_of(day: datetime.date) -> str:
    return WEEKDAYS[day.weekday()]


def end_of_month(day: datetime.date) -> datetime.date:
    return day.replace(day=calendar.monthrange(day.year, day.month)[1])


DATE_PARTS = {"year": year_of, "month": month_of, "day": day_of, "weekday": weekday_of,
              "end_of_month": end_of_month}


def season_start(season, day: datetime.date) -> datetime.date:
    return season.start_for(day)


def season_end(season, day: datetime.date) -> datetime.date:
    return season.end_for(day)


SEASON_BOUNDS = {"season_start": season_start, "season_end": season_end}


class _DayTexts(dict):
    """The ISO text of each day (`DAY_TEXT[day]`), kept once made: `date.isoformat` formats the
    text again each time (about 0.2 µs), and a decision's explanation writes a date several
    times. Up to DAYS_KEPT days are kept; dates are immutable, so threads may share them."""

    def __missing__(self, day: datetime.date) -> str:
        text = day.isoformat()
        if day.__class__ is datetime.date and len(self) < DAYS_KEPT:
            self[day] = text
        return text


DAYS_KEPT = 4096  # eleven years of days
DAY_TEXT: dict[datetime.date, str] = _DayTexts()
