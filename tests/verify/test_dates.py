"""Parts of dates, yearly ranges and a rule's own values in the verifier: known-true properties
proven, known-false ones refuted by a request the runtime decides to violate them (see
conftest.verified)."""
import datetime

import pytest
import z3

from rplang.compiler.types import YearlyRange
from rplang.runtime import dates as runtime_dates
from rplang.verify import dates

from .conftest import status

POLICY = '''
policy "holiday returns"
version "1"
currency USD

parameter holiday_returns = november 1 through january 31

request:
  purchased: date
  returned:  date

outcomes:
  refuse  "REFUSED" overrides all other rules
  approve "APPROVED"

rule late:
  let last_day = if month of purchased in {november, december}
                 then end of holiday_returns for purchased
                 else purchased + 30 days
  cites "Purchases made in November or December may be returned until January 31 of the next year."
  when returned > last_day
  then refuse
  because "returned after {last_day}"

output outcome
'''

LEAP = {"first_day": datetime.date(2027, 6, 1), "last_day": datetime.date(2029, 6, 30)}

CASES = [
    ("december_until_january_31",
     "month of purchased is december and returned <= end of month of purchased + 31 days implies outcome is approve",
     "proven", {}),
    ("january_of_the_next_year", "month of purchased is november and month of returned is january\n"
     "      and year of returned is year of purchased + 1 implies outcome is approve", "proven", {}),
    ("february_is_late_wrong", "month of purchased is december and month of returned is february implies outcome is refuse",
     "refuted", {}),  # a purchase in December 2027, returned in February 2027: before it, not late
    ("weekend_never_refused_wrong", "weekday of returned in {saturday, sunday} implies outcome is approve", "refuted", {}),
    ("the_season_holds_its_end", "(end of holiday_returns for purchased) in holiday_returns", "proven", {}),
    ("the_end_is_january_31", "day of (end of holiday_returns for purchased) is 31 and "
     "month of (end of holiday_returns for purchased) is january", "proven", {}),
    ("start_before_end", "start of holiday_returns for purchased < end of holiday_returns for purchased", "proven", {}),
    ("leap_february", "year of purchased is 2028 and month of purchased is february implies "
     "day of end of month of purchased is 29", "proven", LEAP),
    ("leap_february_wrong", "month of purchased is february implies day of end of month of purchased is 29",
     "refuted", LEAP),
]


@pytest.mark.parametrize("name, condition, expected, bounds", CASES, ids=[c[0] for c in CASES])
def test_dates_in_properties(name, condition, expected, bounds):
    text = POLICY + f"\nproperty {name}: {condition}\n"
    assert status(text, max_items=1, **bounds) == {name: expected}


def test_the_encoding_is_the_runtime_on_known_days():
    days = [datetime.date(2024, 2, 29), datetime.date(2100, 2, 28), datetime.date(2000, 12, 31),
            datetime.date(1999, 1, 1), datetime.date(2026, 11, 20), datetime.date(2027, 1, 31)]
    seasons = [((11, 1), (1, 31)), ((3, 1), (5, 31)), ((2, 28), (2, 28)), ((12, 31), (1, 1))]
    for day in days:
        number = z3.IntVal(day.toordinal())

        def solved(term):
            return z3.simplify(term).as_long()
        assert solved(dates.date_part("year", number)) == day.year
        assert solved(dates.date_part("month", number)) == day.month - 1
        assert solved(dates.date_part("day", number)) == day.day
        assert solved(dates.date_part("weekday", number)) == day.weekday()
        assert solved(dates.date_part("end_of_month", number)) == runtime_dates.end_of_month(day).toordinal()
        for season in seasons:
            value, term = YearlyRange(*season), dates.Yearly.of(season)
            assert z3.is_true(z3.simplify(dates.in_yearly(number, term))) is (day in value)
            assert solved(dates.season_bound("end", term, number)) == value.end_for(day).toordinal()
            assert solved(dates.season_bound("start", term, number)) == value.start_for(day).toordinal()
