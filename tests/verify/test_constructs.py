"""Known-true and known-false properties, construct by construct: each true one proven, each
false one refuted by a request the runtime decides to violate it (see conftest.verified)."""
import datetime

import pytest

from .conftest import status, verified

POLICY = '''
policy "constructs"
version "1"
currency USD
calendar "US"
terms by day

parameter rate = 10%
  20% from 2026-06-01 until 2026-08-31 "summer"

record Line:
  price: money
  kept:  boolean
  grade: integer when kept

request:
  day:    date
  due:    optional date
  amount: money
  lines:  list of Line

outcomes:
  refuse  "REFUSED" overrides all other rules
  approve "APPROVED"

rule overdue:
  cites "overdue"
  when due is given and due < day
  then refuse
  because "overdue"

rule graded for each l in lines:
  cites "graded"
  when l.kept and l.grade > 5
  then refuse
  because "graded"

rule fee:
  cites "fee"
  when amount > 0.00
  then add round(amount * rate) to total
  because "fee"

output outcome
output total: money total
'''

LEAP = {"last_day": datetime.date(2028, 12, 31)}

CASES = [
    # dates across month ends and leap years
    ("month_end", "day is 2026-01-31 implies day + 1 days is 2026-02-01", "proven", {}),
    ("month_end_wrong", "day is 2026-01-31 implies day + 29 days is 2026-02-28", "refuted", {}),
    ("days_across_months", "day is 2026-02-27 implies (days from day to 2026-03-01) is 2", "proven", {}),
    ("leap_day", "day is 2028-02-28 implies day + 1 days is 2028-02-29", "proven", LEAP),
    ("leap_day_wrong", "day is 2028-02-28 implies day + 1 days is 2028-03-01", "refuted", LEAP),
    ("not_leap", "day is 2027-02-28 implies day + 1 days is 2027-03-01", "proven", LEAP),
    # business days across holidays (US: Christmas 2026 on a Friday, July 4 2026 observed on the 3rd)
    ("christmas", "day is 2026-12-24 implies day + 1 business days is 2026-12-28", "proven", {}),
    ("christmas_wrong", "day is 2026-12-24 implies day + 1 business days is 2026-12-25", "refuted", {}),
    ("christmas_back", "day is 2026-12-28 implies day - 1 business days is 2026-12-24", "proven", {}),
    ("observed_july_4", "day is 2026-07-02 implies day + 1 business days is 2026-07-06", "proven", {}),
    ("weekend_start", "day is 2026-01-03 implies day + 1 business days is 2026-01-05", "proven", {}),
    ("business_day_after", "day + 10 business days >= day + 12 days", "proven", {}),
    ("business_day_after_wrong", "day + 10 business days > day + 13 days", "refuted", {}),  # from a Saturday
    ("business_days_wrong", "day + 10 business days is day + 14 days", "refuted", {}),
    # rounding at half cents: half up
    ("half_cent_up", "amount is 0.05 implies round(amount * 50%) is 0.03", "proven", {}),
    ("halves_add_up_wrong", "round(amount * 50%) + round(amount * 50%) is amount", "refuted", {}),
    ("fee_rounds", "outcome is approve and day < 2026-06-01 and amount is 0.25 implies total is 0.03", "proven", {}),
    ("refusal_drops_fee_wrong", "day < 2026-06-01 and amount is 0.25 implies total is 0.03", "refuted", {}),
    # dated parameters
    ("summer_rate", "outcome is approve and day >= 2026-06-01 and day <= 2026-08-31\n      implies total is round(amount * 20%)", "proven", {}),
    ("one_rate_wrong", "total is round(amount * 10%)", "refuted", {}),
    ("dated_rate", "outcome is approve implies total is round(amount * rate)", "proven", {}),
    ("dated_rate_wrong", "outcome is approve and amount > 0.00 implies rate is 10%", "refuted", {}),
    # empty lists
    ("empty_sum", "lines is empty implies (sum of l.price for each l in lines) is 0.00 and (count of lines) is 0",
     "proven", {}),
    ("every_then_any_wrong", "(every l in lines where l.kept) implies (any l in lines where l.kept)", "refuted", {}),
    # optional fields, facts given only when another is true
    ("no_due_no_overdue", "due is not given and (no l in lines where l.kept) implies outcome is approve", "proven", {}),
    ("always_approved_wrong", "outcome is approve", "refuted", {}),
    ("graded_refused", "(any l in lines where l.kept and l.grade > 5) implies outcome is refuse", "proven", {}),
    # the outcome and totals
    ("refusal_totals_nothing", "outcome is refuse implies total is 0.00", "proven", {}),
]


@pytest.mark.parametrize("name, condition, expected, bounds", CASES, ids=[c[0] for c in CASES])
def test_construct(name, condition, expected, bounds):
    text = POLICY + f"\nproperty {name}: {condition}\n"
    assert status(text, max_items=2, **bounds) == {name: expected}


def test_counterexample_of_halves_is_an_odd_number_of_cents():
    result = verified(POLICY + "\nproperty halves: round(amount * 50%) + round(amount * 50%) is amount\n")["halves"]
    cents = int(result.request["amount"].replace(".", ""))
    assert cents % 2 == 1


def test_a_fact_given_only_when_kept_is_never_read_on_other_lines():
    """A counterexample never holds a grade on a line not kept (the reader would ignore it)."""
    result = verified(POLICY + "\nproperty graded: outcome is approve\n")["graded"]
    for line in result.request.get("lines", []):
        assert ("grade" in line) == line["kept"]


# ---- the proven ones hold on random requests too (hypothesis) -------------------------------------

from hypothesis import given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

from rplang.runtime import load_policy_text  # noqa: E402
from rplang.verify.replay import holds  # noqa: E402

PROVEN = [(name, condition) for name, condition, expected, _ in CASES if expected == "proven"]
WITH_PROVEN = load_policy_text(POLICY + "".join(f"\nproperty {n}: {c}\n" for n, c in PROVEN), "<constructs>")


def _day(n: int) -> str:
    return (datetime.date(2026, 1, 1) + datetime.timedelta(days=n)).isoformat()


@st.composite
def requests(draw):
    cents = draw(st.one_of(st.integers(0, 200), st.integers(0, 10**9)))
    request = {"day": _day(draw(st.integers(-30, 3 * 366))), "amount": f"{cents // 100}.{cents % 100:02d}",
               "lines": []}
    if draw(st.booleans()):
        request["due"] = _day(draw(st.integers(-30, 3 * 366)))
    for _ in range(draw(st.integers(0, 4))):
        line = {"price": f"{draw(st.integers(0, 10**6)) / 100:.2f}", "kept": draw(st.booleans())}
        if line["kept"]:
            line["grade"] = draw(st.integers(-10, 10))
        request["lines"].append(line)
    return request


@settings(max_examples=60, deadline=None)
@given(request=requests())
def test_random_requests_never_violate_a_proven_property(request):
    for prop in WITH_PROVEN.checked.properties:
        assert holds(WITH_PROVEN, prop, request), (prop.name, request)


def test_a_set_of_texts_is_named_as_the_checker_names_it_where_it_is_not_supported():
    """The message read "a set of a text values written in the policy"."""
    text = POLICY.replace("request:\n", 'parameter free_states = {"OR", "MT"}\n\nrequest:\n  state:  text\n')
    text = text.replace("when amount > 0.00", "when amount > 0.00 and state not in free_states")
    (result,) = verified(text + "\nproperty anything: total >= 0.00\n").values()
    assert result.status == "unsupported"
    assert result.message == ("property anything cannot be checked: a set of text values written in the policy "
                              "is not supported")
