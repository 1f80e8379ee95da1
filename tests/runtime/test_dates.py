"""Dates: `year of`, `month of`, `day of`, `weekday of`, `end of month of`, and yearly ranges
(`november 1 through january 31`) with `in`, `start of ... for` and `end of ... for`. Known
values first (leap years, ranges across the new year), then hypothesis against a plain Python
model that lists the occurrences of a range year by year; the generated code, the closure
evaluator (sentences), the reference interpreter and the three-valued evaluation all agree."""
import calendar
import datetime
import functools

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from rplang.policy_lang.ast import MONTHS
from rplang.runtime import load_policy_text
from rplang.runtime.reference import decide as reference_decide

POLICY = '''policy "dates"
currency USD
parameter season = {season}
request:
  purchased: date
  returned:  optional date at inspection
outcomes:
  approve "APPROVED"
output purchase_year:  optional integer
output purchase_day:   optional integer
output month_end:      optional date
output season_start:   optional date
output season_end:     optional date
output in_season:      optional boolean
output weekend:        optional boolean
output holiday_months: optional boolean
output returned_in_time: optional boolean
rule parts:
  let last_day = end of season for purchased
  cites "The dates of a purchase."
  when true
  then set purchase_year to year of purchased
       set purchase_day to day of purchased
       set month_end to end of month of purchased
       set season_start to start of season for purchased
       set season_end to last_day
       set in_season to purchased in season
       set weekend to weekday of purchased in {{saturday, sunday}}
       set holiday_months to month of purchased in {{november, december}}
  because "{{year of purchased}} {{month of purchased}} {{day of purchased}} {{weekday of purchased}}; month ends {{end of month of purchased}}; {{season}} from {{start of season for purchased}} until {{last_day}}"
rule on_time:
  let last_day = end of season for purchased
  cites "Returned by the end of the season."
  when returned is given and returned <= last_day
  then set returned_in_time to true
  because "returned by {{last_day}}"
'''


@functools.lru_cache(maxsize=None)
def policy(season: str = "november 1 through january 31"):
    return load_policy_text(POLICY.format(season=season))


def decide(purchased, returned=None, season="november 1 through january 31"):
    request = {"purchased": purchased.isoformat()}
    if returned is not None:
        request["returned"] = returned.isoformat()
    return policy(season).decide(request)


D = datetime.date


@pytest.mark.parametrize("purchased, end, start, inside", [
    (D(2026, 11, 20), D(2027, 1, 31), D(2026, 11, 1), True),   # the purchase
    (D(2026, 11, 1), D(2027, 1, 31), D(2026, 11, 1), True),    # first day
    (D(2027, 1, 31), D(2027, 1, 31), D(2026, 11, 1), True),    # last day, the year after its start
    (D(2027, 1, 10), D(2027, 1, 31), D(2026, 11, 1), True),
    (D(2027, 2, 1), D(2028, 1, 31), D(2027, 11, 1), False),    # after: the next occurrence
    (D(2026, 10, 31), D(2027, 1, 31), D(2026, 11, 1), False),  # before: this year's
    (D(2028, 2, 29), D(2029, 1, 31), D(2028, 11, 1), False),   # a leap day
])
def test_a_range_across_the_new_year(purchased, end, start, inside):
    outputs = decide(purchased).outputs_json()
    assert (outputs["season_end"], outputs["season_start"], outputs["in_season"]) == \
        (end.isoformat(), start.isoformat(), inside)


@pytest.mark.parametrize("purchased, month_end, weekend, year, day", [
    (D(2024, 2, 10), D(2024, 2, 29), True, 2024, 10),     # leap year; a Saturday
    (D(2023, 2, 10), D(2023, 2, 28), False, 2023, 10),    # a Friday
    (D(2100, 2, 1), D(2100, 2, 28), False, 2100, 1),      # not a leap year (divisible by 100)
    (D(2000, 2, 29), D(2000, 2, 29), False, 2000, 29),    # a leap year (divisible by 400)
    (D(2026, 12, 31), D(2026, 12, 31), False, 2026, 31),
    (D(2026, 11, 29), D(2026, 11, 30), True, 2026, 29),   # a Sunday
])
def test_date_parts(purchased, month_end, weekend, year, day):
    outputs = decide(purchased).outputs_json()
    assert (outputs["month_end"], outputs["weekend"], outputs["purchase_year"], outputs["purchase_day"]) == \
        (month_end.isoformat(), weekend, year, day)


def test_the_classic_rule_reads_without_placeholder_years():
    # "Purchases made in November or December may be returned until January 31 of the next year."
    assert decide(D(2026, 12, 24), D(2027, 1, 31)).outputs_json()["returned_in_time"] is True
    assert decide(D(2026, 12, 24), D(2027, 2, 1)).outputs_json()["returned_in_time"] is None
    assert decide(D(2026, 12, 24)).outputs_json()["holiday_months"] is True
    assert decide(D(2027, 1, 2)).outputs_json()["holiday_months"] is False


def test_the_sentence_shows_each_part():
    [parts] = [e for e in decide(D(2026, 11, 20)).explanation() if e["rule"] == "parts"]
    assert parts["sentence"] == ("2026 november 20 friday; month ends 2026-11-30; November 1 through "
                                 "January 31, every year from 2026-11-01 until 2027-01-31")


def test_the_rule_value_is_shown_where_it_is_used():
    [on_time] = [e for e in decide(D(2026, 11, 20), D(2027, 1, 5)).explanation() if e["rule"] == "on_time"]
    assert on_time["facts"][-1:] == [{"fact": "returned <= last_day", "holds": True,
                                 "values": {"returned": "2027-01-05", "last_day": "2027-01-31"}}]


def test_an_unknown_date_makes_what_it_gives_unknown():
    partial = policy().decide_partial({"purchased": "2026-11-20"})
    assert not partial.final
    assert partial.to_json()["residual"]["ranges"]["returned_in_time"]["alternatives"] == [None, True]
    known = policy().decide_partial({"purchased": "2026-11-20", "returned": "2027-01-05"})
    assert known.final and known.decision.outputs_json() == decide(D(2026, 11, 20), D(2027, 1, 5)).outputs_json()


# ---- against a plain model ---------------------------------------------------------------------

def model(purchased: datetime.date, first: tuple, last: tuple) -> dict:
    """Lists the occurrences of the range around the purchase, one per year it starts in."""
    occurrences = []
    for year in range(purchased.year - 2, purchased.year + 2):
        start = D(year, *first)
        end = D(year if first <= last else year + 1, *last)
        occurrences.append((start, end))
    start, end = min((o for o in occurrences if o[1] >= purchased), key=lambda o: o[1])
    next_month = (purchased.replace(day=1) + datetime.timedelta(days=32)).replace(day=1)
    return {"in_season": any(s <= purchased <= e for s, e in occurrences),
            "season_start": start.isoformat(), "season_end": end.isoformat(),
            "month_end": (next_month - datetime.timedelta(days=1)).isoformat(),
            "weekend": purchased.strftime("%A") in ("Saturday", "Sunday"),
            "holiday_months": purchased.strftime("%B") in ("November", "December"),
            "purchase_year": purchased.year, "purchase_day": purchased.day}


month_days = st.integers(1, 12).flatmap(
    lambda m: st.tuples(st.just(m), st.integers(1, 28 if m == 2 else calendar.monthrange(2025, m)[1])))


@settings(max_examples=150, deadline=None)
@given(purchased=st.dates(D(1901, 1, 1), D(2199, 12, 31)), first=month_days, last=month_days,
       returned=st.one_of(st.none(), st.dates(D(1901, 1, 1), D(2199, 12, 31))))
def test_every_evaluator_agrees_with_the_model(purchased, first, last, returned):
    season = f"{MONTHS[first[0] - 1]} {first[1]} through {MONTHS[last[0] - 1]} {last[1]}"
    compiled = policy(season)
    request = {"purchased": purchased.isoformat()}
    if returned is not None:
        request["returned"] = returned.isoformat()
    decision = compiled.decide(request)
    outputs = decision.outputs_json()
    expected = model(purchased, first, last)
    assert {k: outputs[k] for k in expected} == expected
    in_time = True if returned is not None and returned <= D.fromisoformat(expected["season_end"]) else None
    assert outputs["returned_in_time"] is in_time
    assert reference_decide(compiled.checked, compiled.read_request(request)).outputs == outputs
    [parts] = [e for e in decision.explanation() if e["rule"] == "parts"]
    assert parts["sentence"].endswith(f"until {expected['season_end']}")
    assert f"month ends {expected['month_end']}" in parts["sentence"]
    partial = compiled.decide_partial(request)  # three-valued when `returned` is left out
    if returned is not None:
        assert partial.final and partial.decision.outputs_json() == outputs
    else:
        assert {k: partial.to_json()["outputs"][k] for k in expected} == expected


def test_months_and_weekdays_as_parameters_and_enum_values_of_the_policy_first():
    text = '''policy "closed days"
currency USD
enum Shift: monday, night
parameter weekend = {saturday, sunday}
parameter holiday_months = {november, december}
request:
  requested: date
  shift:     Shift
outcomes:
  refuse "REFUSED"
  approve "APPROVED"
rule closed:
  cites "No returns on weekends outside the holiday months, nor on Monday shifts."
  when weekday of requested in weekend and month of requested not in holiday_months or shift is monday
  then refuse
  because "closed on {weekday of requested}s: {weekend}"
output outcome
'''
    policy = load_policy_text(text)
    outcomes = {day: policy.decide({"requested": day, "shift": "night"}).outputs_json()["outcome"]
                for day in ("2026-10-03", "2026-10-05", "2026-11-07")}
    assert outcomes == {"2026-10-03": "refuse", "2026-10-05": "approve", "2026-11-07": "approve"}
    assert policy.decide({"requested": "2026-10-05", "shift": "monday"}).outputs_json()["outcome"] == "refuse"
    [closed] = policy.decide({"requested": "2026-10-03", "shift": "night"}).explanation()
    assert closed["sentence"] == "closed on saturdays: saturday, sunday"


def test_a_days_text_is_its_iso_text_kept_once_made(monkeypatch):
    """runtime/dates.DAY_TEXT, which the generated explanations and outputs write dates with."""
    from rplang.runtime import dates

    day = datetime.date(2031, 7, 4)
    assert dates.DAY_TEXT[day] == "2031-07-04" and day in dates.DAY_TEXT
    moment = datetime.datetime(2031, 7, 4, 12, 30)  # not a day: its own text, not kept
    assert dates.DAY_TEXT[moment] == moment.isoformat() and moment not in dates.DAY_TEXT
    monkeypatch.setattr(dates, "DAYS_KEPT", 0)
    other = datetime.date(2032, 1, 2)
    assert dates.DAY_TEXT[other] == "2032-01-02" and other not in dates.DAY_TEXT
