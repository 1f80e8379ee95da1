"""Business-day calendars: weekends and the public holidays of a country, on their observed dates."""
from __future__ import annotations

import datetime
from functools import lru_cache


def is_known(name: str) -> bool:
    return name.upper() in _countries()


def hint(name: str) -> str:
    from rplang.policy_lang.errors import did_you_mean

    return did_you_mean(name.upper(), _countries()) or \
        "name a country by its ISO code, like \"US\" (US federal holidays) or \"GB\""


@lru_cache(maxsize=1)
def _countries() -> frozenset[str]:
    from holidays import registry  # imported when a policy is checked, not when one is loaded

    return frozenset(code for _, (_, code, *_) in registry.COUNTRIES.items())


class BusinessCalendar:
    """Counts business days: Monday to Friday, less the country's holidays (observed)."""

    def __init__(self, country: str | None):
        self.country = country.upper() if country else None
        self._years: dict[int, frozenset[datetime.date]] = {}

    def _holidays(self, year: int) -> frozenset[datetime.date]:
        found = self._years.get(year)
        if found is None:
            self.load_years(year, year)
            found = self._years[year]
        return found

    def prepare(self) -> None:
        """Find the holidays now rather than at the first business-day count (up to 75 ms):
        processes forked after share them instead of each finding its own."""
        self.load_years(datetime.date.today().year, datetime.date.today().year)

    def load_years(self, first: int, last: int) -> None:
        """Find the holidays of the years `first` to `last`: the decades around this year from
        the process's copy of the user's cache, the others from the holidays package at once
        (one look-up per year pays its set-up again and again: a calendar table of decades)."""
        if not self._years:
            self._years.update(_around_this_year(self.country))
        missing = [year for year in range(first, last + 1) if year not in self._years]
        if missing:
            self._years.update(_from_package(self.country, missing[0], missing[-1]))

    def holidays(self, year: int) -> frozenset[datetime.date]:
        """The holidays (observed) of `year`."""
        return self._holidays(year)

    def is_business_day(self, day: datetime.date) -> bool:
        return day.weekday() < 5 and day not in self._holidays(day.year)

    def add(self, start: datetime.date, count: int) -> datetime.date:
        """The `count`-th business day after `start`, counting from the next day (before it, if negative)."""
        step = datetime.timedelta(days=1 if count >= 0 else -1)
        day, left = start, abs(count)
        while left:
            day += step
            if self.is_business_day(day):
                left -= 1
        return day


def _from_package(country: str | None, first: int, last: int) -> dict[int, frozenset[datetime.date]]:
    """The holidays of the years `first` to `last` as the holidays package finds them."""
    found: dict[int, set] = {year: set() for year in range(first, last + 1)}
    if country:
        # An observed holiday can fall in the year before its own (New Year's Day 2028 is
        # observed on 2027-12-31), so look at the neighbouring years too.
        import holidays  # the first uncached business-day count pays for it, not every start

        for d in holidays.country_holidays(country, years=range(first - 1, last + 2)):
            if d.year in found:
                found[d.year].add(d)
    return {year: frozenset(days) for year, days in found.items()}


# Importing the holidays package reads every country's module (about 75 ms of every process that
# counts business days), so the holidays of the decades around this year are kept in the user's
# signed cache (policy_lang/user_cache.py), one entry a country, named by the package's files as
# installed: an upgrade that may move a holiday makes a new name rather than reading an old
# answer. Each process reads the entry once, at its first count: deciding opens no file after.
_SPAN = 30  # years each side of this one


@lru_cache(maxsize=None)
def _around_this_year(country: str | None) -> dict[int, frozenset[datetime.date]]:
    from rplang.policy_lang import user_cache

    year = datetime.date.today().year
    first, last = year - _SPAN, year + _SPAN
    stamp = user_cache.package_stamp("holidays")
    name = f"holidays-{country}-{first}-{last}-{stamp}" if country and stamp else None
    stored = user_cache.read(name) if name else None
    if stored is not None:
        try:
            return _parsed(stored)
        except ValueError:  # signed by this user, yet not ours: a miss
            pass
    found = _from_package(country, first, last)
    if name:
        user_cache.write(name, _written(found))
    return found


def _written(years: dict[int, frozenset[datetime.date]]) -> bytes:
    """A line a year: the year, then the ordinals of its holidays."""
    return "\n".join(" ".join(map(str, [year, *sorted(d.toordinal() for d in days)]))
                     for year, days in sorted(years.items())).encode()


def _parsed(data: bytes) -> dict[int, frozenset[datetime.date]]:
    years = {}
    for line in data.decode().splitlines():
        year, *days = map(int, line.split())
        years[year] = frozenset(map(datetime.date.fromordinal, days))
    return years
