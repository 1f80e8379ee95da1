"""The hand-written Aputure oracle (benchmarks/baseline_aputure.py) against the hand-computed
expectations in policies/aputure/requests/expected.json, plus the corpus generator."""

from __future__ import annotations

import datetime
import json
import re
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import load_benchmark

ROOT = Path(__file__).resolve().parents[2]
REQUESTS = ROOT / "policies" / "aputure" / "requests"
CORPUS = ROOT / "policies" / "aputure" / "corpus.jsonl"
SEMANTICS_EXAMPLE_OUTPUTS = {
    "outcome": "approve_with_fee", "refund": "1557.50", "restocking_fee": "283.50",
    "free_items_deduction": "49.00", "refund_method": "original_payment",
    "check_not_before": None, "credit_between": ["2026-03-23", "2026-03-26"]}


baseline = load_benchmark("baseline_aputure")
gen_corpus = load_benchmark("gen_corpus")

EXPECTED: dict = json.loads((REQUESTS / "expected.json").read_text())
REQUEST_FILES = sorted(p.name for p in REQUESTS.glob("*.json") if p.name != "expected.json")

MONEY_OUT = re.compile(r"(0|[1-9]\d*)\.\d{2}")
DATE_OUT = re.compile(r"\d{4}-\d{2}-\d{2}")
OUTPUT_KEYS = {"outcome", "refund", "restocking_fee", "free_items_deduction",
               "refund_method", "check_not_before", "credit_between"}


def _request(name: str) -> dict:
    return json.loads((REQUESTS / name).read_text())


def _check_output_shape(out: dict) -> None:
    assert set(out) == OUTPUT_KEYS
    assert out["outcome"] in {"approve", "approve_with_fee", "refuse"}
    for key in ("refund", "restocking_fee", "free_items_deduction"):
        assert isinstance(out[key], str) and MONEY_OUT.fullmatch(out[key]), (key, out[key])
    assert out["refund_method"] in {None, "check", "original_payment"}
    assert out["check_not_before"] is None or DATE_OUT.fullmatch(out["check_not_before"])
    cb = out["credit_between"]
    assert cb is None or (isinstance(cb, list) and len(cb) == 2
                          and all(DATE_OUT.fullmatch(d) for d in cb))


# ---------------------------------------------------------------- bundled requests

def test_every_request_has_an_expectation_and_vice_versa():
    assert len(REQUEST_FILES) >= 30
    assert set(REQUEST_FILES) == set(EXPECTED)
    assert "00-semantics-example.json" in EXPECTED


def test_semantics_example_is_the_documented_decision():
    assert EXPECTED["00-semantics-example.json"] == SEMANTICS_EXAMPLE_OUTPUTS


@pytest.mark.parametrize("name", REQUEST_FILES)
def test_request_file_is_a_complete_valid_request(name):
    raw = _request(name)
    baseline.parse(raw)                                   # raises on anything invalid
    for item in raw["items"]:
        assert isinstance(item["price"], str)
        if item["returned"]:
            assert set(baseline.INSPECTION) <= set(item), (name, item["sku"])


@pytest.mark.parametrize("name", REQUEST_FILES)
def test_baseline_matches_expected(name):
    out = baseline.decide_request(_request(name))
    _check_output_shape(out)
    assert out == EXPECTED[name]


def test_expected_outputs_are_well_formed():
    for out in EXPECTED.values():
        _check_output_shape(out)


# ---------------------------------------------------------------- parsing

def _example() -> dict:
    return _request("00-semantics-example.json")


@pytest.mark.parametrize("bad", [1890, 1890.0, True, "1,890.00", "-1.00", "1e3", " 1.00", ""])
def test_money_must_be_a_plain_decimal_string(bad):
    req = _example()
    req["items"][0]["price"] = bad
    with pytest.raises(ValueError):
        baseline.parse(req)
    req = _example()
    req["order"]["shipping_paid"] = bad
    with pytest.raises(ValueError):
        baseline.parse(req)


@pytest.mark.parametrize("bad", ["2026-3-10", "20260310", "2026-02-30", "2026-W11-2", 20260310])
def test_dates_must_be_iso(bad):
    req = _example()
    req["request_date"] = bad
    with pytest.raises(ValueError):
        baseline.parse(req)


@pytest.mark.parametrize("mutate", [
    lambda r: r["items"][0].pop("upc_intact"),            # returned item lacks a fact
    lambda r: r["items"][0].update(marks=["smudge"]),
    lambda r: r["items"][0].update(damage_cause="rain"),
    lambda r: r["items"][0].update(free="false"),
    lambda r: r["items"][1].update(bundle_with="LS-600D-PRO"),   # typo'd key
    lambda r: r.update(kind="refund"),
    lambda r: r["order"].update(payment_method="cash"),
    lambda r: r["order"].update(proof_of_purchase="yes"),
    lambda r: r["order"].update(currency="usd"),
    lambda r: r.pop("items"),
])
def test_invalid_requests_are_rejected(mutate):
    req = _example()
    mutate(req)
    with pytest.raises(ValueError):
        baseline.parse(req)


def test_parse_converts_and_defaults():
    req = _example()
    del req["kind"], req["received_date"], req["order"]["shipping_paid"]
    p = baseline.parse(req)
    assert p.kind == "return" and p.received_date is None
    assert p.shipping_paid == 0 and p.items[0].price == baseline.Decimal("1890.00")
    assert p.request_date == datetime.date(2026, 3, 10)
    kept = _example()
    kept["items"][1].update(condition="used", marks=["crack"], damage_cause="fire")
    assert baseline.decide_request(kept) == SEMANTICS_EXAMPLE_OUTPUTS


# ---------------------------------------------------------------- calendar

@pytest.mark.parametrize("day", ["2025-06-19", "2025-11-27", "2026-07-03", "2026-11-26",
                                 "2026-12-25", "2027-01-01", "2027-06-18", "2027-07-05",
                                 "2027-11-25", "2027-12-24", "2027-12-31", "2028-02-21"])
def test_federal_holidays_on_observed_dates(day):
    d = datetime.date.fromisoformat(day)
    assert d in baseline.us_federal_holidays(d.year)
    assert not baseline.is_business_day(d)


# 2025-01-09 (Carter day of mourning), 2025-12-24 and 2025-12-26 (executive-order closures)
# are in holidays' "government" category but are not federal holidays: business days.
@pytest.mark.parametrize("day", ["2025-11-28", "2026-12-24", "2026-07-06", "2027-12-30",
                                 "2025-01-09", "2025-12-24", "2025-12-26"])
def test_ordinary_weekdays_are_business_days(day):
    assert baseline.is_business_day(datetime.date.fromisoformat(day))


def test_tenth_business_day_counts_from_the_next_day():
    d = datetime.date
    assert baseline.business_day_after(d(2026, 3, 2), 10) == d(2026, 3, 16)   # Mon -> Mon
    assert baseline.business_day_after(d(2026, 3, 7), 10) == d(2026, 3, 20)   # Sat
    assert baseline.business_day_after(d(2026, 6, 26), 10) == d(2026, 7, 13)  # July 3 obs.
    assert baseline.business_day_after(d(2027, 12, 20), 10) == d(2028, 1, 5)


# ---------------------------------------------------------------- generator + corpus

def test_generator_is_deterministic():
    a = list(gen_corpus.generate_lines(300, 7))
    b = list(gen_corpus.generate_lines(300, 7))
    assert a == b
    assert a != list(gen_corpus.generate_lines(300, 8))
    assert list(gen_corpus.generate_lines(100, 7)) == a[:100]


def test_generator_cli_matches_bundled_corpus():
    run = subprocess.run([sys.executable, str(ROOT / "benchmarks" / "gen_corpus.py"),
                          "--count", "500", "--seed", "1"],
                         capture_output=True, text=True, check=True)
    assert run.stdout == CORPUS.read_text()


def test_generated_requests_parse_and_decide_with_a_realistic_mix():
    outcomes, kinds, methods = {}, set(), set()
    free = deduction = 0
    for line in gen_corpus.generate_lines(3000, 1):
        req = json.loads(line)
        out = baseline.decide_request(req)
        _check_output_shape(out)
        outcomes[out["outcome"]] = outcomes.get(out["outcome"], 0) + 1
        kinds.add(req.get("kind", "return"))
        methods.add(out["refund_method"])
        free += any(it["free"] for it in req["items"])
        deduction += out["free_items_deduction"] != "0.00"
        assert 1 <= len(req["items"]) <= 4
        assert "2025-01-01" <= req["order"]["purchase_date"] <= "2027-12-31"
        if out["outcome"] == "refuse":
            assert out["refund"] == out["restocking_fee"] == "0.00"
        if req.get("kind") == "exchange":
            assert out["refund"] == "0.00" and out["refund_method"] is None
    assert outcomes["approve"] > outcomes["approve_with_fee"] > 0
    assert outcomes["approve"] > outcomes["refuse"] > 0
    assert kinds == {"return", "exchange"}
    assert methods == {None, "check", "original_payment"}
    assert free > 0 and deduction > 0


def test_bundled_corpus_parses():
    lines = CORPUS.read_text().splitlines()
    assert len(lines) == 500
    for line in lines:
        _check_output_shape(baseline.decide_request(json.loads(line)))
