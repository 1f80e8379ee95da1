"""Rules found by a range of values decide exactly as rules tried one by one."""
import datetime
import itertools
import random
from decimal import Decimal

from hypothesis import given, strategies as st

import rplang.runtime.codegen_index as codegen_index
from rplang.runtime import load_policy_text
from rplang.runtime.ranges import RangeIndex, pieces_covered


# ---- the index itself ---------------------------------------------------------------------------

def _holds(interval, value) -> bool:
    low, low_included, high, high_included = interval
    return (low is None or (low <= value if low_included else low < value)) and \
        (high is None or (value <= high if high_included else value < high))


bound = st.one_of(st.none(), st.integers(0, 12))
intervals = st.lists(st.tuples(bound, st.booleans(), bound, st.booleans()), max_size=12)


@given(intervals, st.lists(st.integers(-1, 13), max_size=15))
def test_an_index_finds_exactly_the_intervals_that_hold_a_value(found_in, values):
    index = RangeIndex(found_in, list(range(len(found_in))))
    for value in values + [0, 12]:
        assert list(index(value)) == [k for k, interval in enumerate(found_in) if _holds(interval, value)]


def test_decimals_dates_and_equal_bounds_written_differently():
    index = RangeIndex([(Decimal("1.0"), True, Decimal("2.00"), False), (Decimal("1.00"), False, None, False)],
                       ["a", "b"])
    assert (index(Decimal("1")), index(Decimal("1.5")), index(Decimal("2.0")), index(Decimal("0.99"))) == \
        (("a",), ("a", "b"), ("b",), ())
    days = RangeIndex([(datetime.date(2026, 1, 1), True, datetime.date(2026, 1, 31), True)], ["january"])
    assert days(datetime.date(2026, 1, 31)) == ("january",) and days(datetime.date(2026, 2, 1)) == ()


def test_what_an_index_costs():
    bands = [(n, True, n + 1, False) for n in range(100)]
    assert pieces_covered(bands) == 200  # each band: its low bound and the stretch above it
    from_each = [(n, True, None, False) for n in range(100)]  # `price >= n`: each covers the rest
    assert pieces_covered(from_each) > codegen_index.RANGE_PIECES_PER_RULE * 100


# ---- rules found by it --------------------------------------------------------------------------

HEADER = '''
policy "Bands"
currency USD
clause terms: "Handling fees by price band and by order date."
enum Condition: sealed, opened
record Item:
  sku: text
  price: money
  returned: boolean
  condition: Condition
  weight: optional integer
request:
  ordered: date
  items: list of Item
outcomes:
  approve_with_fee "APPROVED WITH A FEE"
  approve "APPROVED"
rule base for each item in items:
  cites terms
  when item.returned
  then add item.price to refund
  because "returned {item.sku}"
'''

FOOTER = '''
output outcome
output refund: money total
output fee: money total
'''


def _bands(count: int) -> str:
    rules = []
    for n in range(count):
        low, high = Decimal(10 * n), Decimal(10 * n + 10)
        # every way of writing a bound: both sides, included or not, the constant on either side
        test = [f"item.price >= {low}.00 and item.price < {high}.00",
                f"{low}.00 < item.price and item.price <= {high}.00",
                f"item.price > {low}.00 and {high}.00 >= item.price and item.condition is opened",
                f"item.returned and item.price >= {low}.00"][n % 4]
        rules.append(f'''
rule band_{n} for each item in items:
  cites terms
  when {test}
  then approve_with_fee
       add {n % 5 + 1}.00 to fee
  because "band {n}"
''')
    for n in range(count):
        first = datetime.date(2026, 1, 1) + datetime.timedelta(days=7 * n)
        rules.append(f'''
rule week_{n}:
  cites terms
  when ordered >= {first} and ordered < {first + datetime.timedelta(days=7)}
  then add {n % 3 + 1}.00 to fee
  because "week {n}"
''')
    return HEADER + "".join(rules) + FOOTER


def _requests(count: int, seed: int = 5):
    rng = random.Random(seed)
    for _ in range(count):
        prices = [f"{rng.choice([rng.randint(0, 130), rng.randrange(0, 130, 10)])}.{rng.choice(['00', '01', '99'])}"
                  for _ in range(rng.randint(1, 3))]
        yield {"ordered": (datetime.date(2025, 12, 20) + datetime.timedelta(days=rng.randint(0, 120))).isoformat(),
               "items": [{"sku": f"S{k}", "price": p, "returned": rng.random() < 0.8,
                          "condition": rng.choice(["sealed", "opened"])} for k, p in enumerate(prices)]}


def test_band_and_date_rules_are_found_by_range():
    policy = load_policy_text(_bands(12), "bands.rpl")
    source = policy.rules_source
    assert "(e" in source and "['price'])" in source and "(R['ordered'])" in source
    assert "band_" not in source and "item.price >=" not in source  # no rule tried one by one
    assert source.count("def rule_shape_") < 24  # rules of one shape share their code


def test_rules_found_by_range_decide_as_rules_tried_one_by_one(monkeypatch):
    text = _bands(12)
    indexed = load_policy_text(text, "bands.rpl")
    monkeypatch.setattr(codegen_index, "INDEX_AT", 10**9)
    one_by_one = load_policy_text(text, "bands.rpl")
    assert "def rule_shape_" not in one_by_one.rules_source
    for request in itertools.chain(_requests(400), [
            {"ordered": "2026-01-08", "items": [{"sku": "B", "price": p, "returned": True, "condition": "opened"}
                                                for p in ("0.00", "10.00", "20.00", "110.00", "119.99", "120.00")]}]):
        a, b = indexed.decide(request), one_by_one.decide(request)
        assert a.to_json() == b.to_json(), request


def test_intervals_that_overlap_widely_are_tried_one_by_one():
    rules = "".join(f'''
rule over_{n} for each item in items:
  cites terms
  when item.price >= {n}.00
  then add 1.00 to fee
''' for n in range(20))
    policy = load_policy_text(HEADER + rules + FOOTER, "over.rpl")
    assert "def rule_shape_" not in policy.rules_source
    decision = policy.decide({"ordered": "2026-01-01",
                              "items": [{"sku": "A", "price": "5.00", "returned": True, "condition": "sealed"}]})
    assert decision.outputs_json()["fee"] == "6.00"


def test_an_optional_field_is_not_found_by_range():
    rules = "".join(f'''
rule heavy_{n} for each item in items:
  cites terms
  when item.weight is given and item.weight >= {10 * n} and item.weight < {10 * n + 10}
  then add 1.00 to fee
''' for n in range(10))
    policy = load_policy_text(HEADER + rules + FOOTER, "weights.rpl")
    assert "def rule_shape_" not in policy.rules_source
    decision = policy.decide({"ordered": "2026-01-01", "items": [
        {"sku": "A", "price": "5.00", "returned": True, "condition": "sealed", "weight": 25},
        {"sku": "B", "price": "5.00", "returned": True, "condition": "sealed"}]})
    assert decision.outputs_json()["fee"] == "1.00"


def test_the_benchmark_band_policy_is_found_by_range():
    """bench_scale.py --kind bands measures range lookups only if its rules are looked up so."""
    from tests.conftest import load_benchmark

    scale = load_benchmark("gen_scale_policy")
    policy = load_policy_text(scale.policy(60, kind="bands"), "bands-60.rpl")
    assert policy.rules_source.count("def rule_shape_") == 1
    assert "['price'] >=" not in policy.rules_source.split("def find_applying")[1]
    prices = {"5.00": "band_0", "5.04": "band_0", "5.05": "band_1", "7.84": "band_56", "7.85": None, "4.99": None}
    items = [{"sku": f"S-{price}", "category": "home", "price": price, "returned": True, "condition": "opened"}
             for price in prices]
    decision = policy.decide({"request_date": "2026-03-20", "delivery_date": "2026-03-10", "items": items})
    found = {e["element_name"]: e["rule"] for e in decision.explanation() if e["rule"].startswith("band_")}
    assert found == {f"S-{price}": rule for price, rule in prices.items() if rule is not None}
