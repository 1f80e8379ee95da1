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
            # An observed holiday can fall in the year before its own (New Year's Day 2028 is
            # observed on 2027-12-31), so look at the neighbouring years too.
            import holidays  # the first business-day count pays for it, not every start

            found = frozenset(
                d for d in holidays.country_holidays(self.country, years=(year - 1, year, year + 1))
                if d.year == year) if self.country else frozenset()
            self._years[year] = found
        return found

    def prepare(self) -> None:
        """Load the holidays package and this country's rules now rather than at the first
        business-day count (about 75 ms): processes forked after share them instead of each
        loading its own."""
        if self.country:
            import holidays

            holidays.country_holidays(self.country, years=())

    def load_years(self, first: int, last: int) -> None:
        """Find the holidays of the years `first` to `last` at once (one look-up per year pays
        the holidays package's set-up again and again: a calendar table of decades)."""
        import holidays

        years = [year for year in range(first, last + 1) if year not in self._years]
        if not years:
            return
        found: dict[int, set] = {year: set() for year in years}
        if self.country:
            for d in holidays.country_holidays(self.country, years=range(years[0] - 1, years[-1] + 2)):
                if d.year in found:
                    found[d.year].add(d)
        self._years.update((year, frozenset(days)) for year, days in found.items())

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
