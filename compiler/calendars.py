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
        """Load the holidays package and this country's rules now rather than at the first
        business-day count (about 75 ms): processes forked after share them instead of each
        loading its own. A no-op when the user's cache already holds this year's holidays."""
        if self.country:
            self._holidays(datetime.date.today().year)

    def load_years(self, first: int, last: int) -> None:
        """Find the holidays of the years `first` to `last`: each year from the user's cache
        where it is there, the others from the holidays package at once (one look-up per year
        pays its set-up again and again: a calendar table of decades)."""
        missing = []
        for year in range(first, last + 1):
            if year not in self._years:
                stored = _stored(self.country, year)
                if stored is None:
                    missing.append(year)
                else:
                    self._years[year] = stored
        if not missing:
            return
        found: dict[int, set] = {year: set() for year in missing}
        if self.country:
            # An observed holiday can fall in the year before its own (New Year's Day 2028 is
            # observed on 2027-12-31), so look at the neighbouring years too.
            import holidays  # the first uncached business-day count pays for it, not every start

            for d in holidays.country_holidays(self.country, years=range(missing[0] - 1, missing[-1] + 2)):
                if d.year in found:
                    found[d.year].add(d)
        for year, days in found.items():
            self._years[year] = frozenset(days)
            _store(self.country, year, self._years[year])

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


# Importing the holidays package reads every country's module (about 75 ms of every process that
# counts business days), so the holidays a year is found to have are kept in the user's signed
# cache (policy_lang/user_cache.py), named by the package's files as installed: an upgrade that
# may move a holiday writes them anew, and so makes a new name rather than reading an old answer.

def _entry(country: str | None, year: int) -> str | None:
    stamp = _package_stamp()
    return None if stamp is None or not country else f"holidays-{country}-{year}-{stamp}"


@lru_cache(maxsize=1)
def _package_stamp() -> str | None:
    """The installed holidays package's `__init__.py`: its size and time of writing, found
    without importing it (importlib.metadata alone would cost 20 ms)."""
    import importlib.util
    import os

    try:
        spec = importlib.util.find_spec("holidays")
        stat = os.stat(spec.origin)
    except (ImportError, OSError, TypeError, ValueError):  # no package, or one without a file
        return None
    return f"{stat.st_size}-{stat.st_mtime_ns}"


def _stored(country: str | None, year: int) -> frozenset[datetime.date] | None:
    from rplang.policy_lang import user_cache

    if not country:
        return frozenset()
    name = _entry(country, year)
    stored = user_cache.read(name) if name else None
    if stored is None:
        return None
    try:
        return frozenset(datetime.date.fromordinal(int(n)) for n in stored.split())
    except ValueError:  # signed by this user, yet not ours: a miss
        return None


def _store(country: str | None, year: int, days: frozenset[datetime.date]) -> None:
    from rplang.policy_lang import user_cache

    name = _entry(country, year)
    if name:
        user_cache.write(name, " ".join(str(d.toordinal()) for d in sorted(days)).encode())
