"""The decision as JSON: outputs, the explanation of every determining rule, the computation of
every total; money always with two decimals and never `-0.00`."""
import json
import re

import pytest

from rplang.runtime import load_policy_text
from rplang.runtime.values import money_text
from tests.conftest import APUTURE_REQUESTS
from tests.runtime.test_rules import LINE_A, LINE_B, PLAIN, POLICY

MONEY = re.compile(r"-?\d+\.\d{2}\Z")
ENTRY_KEYS = {"rule", "clause", "cites", "outcome", "element", "element_name", "sentence", "facts", "effects",
              "line"}
BUNDLED = sorted(p.name for p in APUTURE_REQUESTS.glob("*.json") if p.name != "expected.json")


def bundled(name):
    return json.loads((APUTURE_REQUESTS / name).read_text())


@pytest.fixture(scope="module")
def combination():
    return load_policy_text(POLICY, "combination.rpl")


@pytest.fixture(scope="module")
def decision(combination):
    return combination.decide({**PLAIN, "fee": "20.00", "by_check": True,
                               "lines": [dict(LINE_A, damaged=True), LINE_B]})


def test_top_level_keys(decision):
    assert list(decision.to_json()) == ["outputs", "explanation", "computation"]


def test_outputs_in_declared_order_with_json_values(decision):
    assert decision.to_json()["outputs"] == {"outcome": "hold", "refund": "100.00", "fees": "20.00",
                                             "charges": "10.00", "method": "check", "pay_after": "2026-01-10"}
    assert decision.to_json()["outputs"] == decision.outputs_json()


def test_explanation_entries(decision):
    entries = decision.to_json()["explanation"]
    assert [(e["rule"], e["element_name"]) for e in entries] == [
        ("paid", "A"), ("paid", "B"), ("fee", None), ("damage", "A"), ("check", None)]
    for e in entries:
        assert ENTRY_KEYS <= set(e)
    fee = entries[2]
    assert fee["outcome"] == "hold"
    assert fee["sentence"] == "fee 20.00"
    assert fee["element"] is None
    assert fee["facts"] == [{"fact": "fee > 0.00", "holds": True, "values": {"fee": "20.00"}}]
    assert fee["effects"] == [{"output": "fees", "amount": "20.00"}, {"output": "refund", "amount": "-20.00"}]
    assert fee["line"] == POLICY.splitlines().index("rule fee:") + 1
    paid = entries[0]
    assert (paid["element"], paid["sentence"], paid["outcome"]) == ("$.lines[0]", "returned A", None)
    check = entries[4]
    assert check["effects"] == [{"output": "method", "set": "check"}, {"output": "pay_after", "set": "2026-01-10"}]
    assert check["sentence"] == "check"  # no `because`: the rule's name


def test_computation_steps(decision):
    computation = decision.to_json()["computation"]
    assert list(computation) == ["refund", "fees", "charges"]
    assert computation["refund"] == {
        "steps": [{"rule": "paid", "element_name": "A", "amount": "100.00"},
                  {"rule": "paid", "element_name": "B", "amount": "30.00"},
                  {"rule": "fee", "element_name": None, "amount": "-20.00"},
                  {"rule": "damage", "element_name": "A", "amount": "-10.00"}],
        "sum": "100.00", "floor": "0.00", "floored": False, "value": "100.00"}
    assert computation["fees"]["floor"] is None


def test_the_json_text_is_the_json(decision):
    assert json.loads(decision.to_json_text()) == decision.to_json()


def test_aputure_explanation_cites_clauses_and_shows_facts(aputure):
    entries = aputure.decide(bundled("00-semantics-example.json")).to_json()["explanation"]
    fee = next(e for e in entries if e["rule"] == "restocking_fee")
    assert fee["clause"] == "completeness"
    assert "blank warranty cards" in fee["cites"]
    assert fee["outcome"] == "approve_with_fee"
    assert fee["element"] == "$.items[0]" and fee["element_name"] == "LS-600D-PRO"
    assert {"fact": "item.warranty_card_blank", "holds": False, "label": "warranty card blank"} in fee["facts"]
    assert fee["effects"] == [{"output": "restocking_fee", "amount": "283.50"},
                              {"output": "refund", "amount": "-283.50"}]
    kept = next(e for e in entries if e["rule"] == "free_item_kept")
    assert kept["element_name"] == "FREE-BAG"
    assert kept["effects"] == [{"output": "free_items_deduction", "amount": "49.00"},
                               {"output": "refund", "amount": "-49.00"}]


def test_aputure_refusal_explains_every_reason(aputure):
    request = bundled("00-semantics-example.json")
    request["request_date"] = "2026-03-20"
    request["order"]["proof_of_purchase"] = "missing"
    data = aputure.decide(request).to_json()
    assert data["outputs"]["outcome"] == "refuse"
    assert [e["rule"] for e in data["explanation"]] == ["window", "proof"]
    window = data["explanation"][0]
    assert window["clause"] == "late_request" and window["outcome"] == "refuse"
    assert "2026-03-20" in window["sentence"] and "18 days" in window["sentence"]
    assert all(step == [] for step in (c["steps"] for c in data["computation"].values()))


def _money_strings(data, key=None):
    if isinstance(data, dict):
        for k, v in data.items():
            yield from _money_strings(v, k)
    elif isinstance(data, list):
        for v in data:
            yield from _money_strings(v, key)
    elif isinstance(data, str) and key in ("amount", "sum", "floor", "value", "refund", "restocking_fee",
                                           "free_items_deduction"):
        yield data


@pytest.mark.parametrize("name", BUNDLED)
def test_money_prints_with_two_decimals_and_never_minus_zero(aputure, name):
    data = aputure.decide(bundled(name)).to_json()
    text = json.dumps(data)
    assert "-0.00" not in text
    amounts = list(_money_strings(data))
    assert len(amounts) >= 3 + 3 * 2 + 1  # three money outputs; each total's sum and value; one floor
    assert all(MONEY.match(a) for a in amounts), amounts


def test_subtracting_zero_never_prints_minus_zero():
    policy = load_policy_text("request:\n  a: money\nrule r:\n  when true\n  then subtract a from t\n"
                              "       add a to u\noutput t: money total\noutput u: money total, at least 0.00\n",
                              "zero.rpl")
    data = policy.decide({"a": "0.00"}).to_json()
    assert data["outputs"] == {"t": "0.00", "u": "0.00"}
    assert data["explanation"][0]["effects"] == [{"output": "t", "amount": "0.00"},
                                                 {"output": "u", "amount": "0.00"}]
    assert "-0.00" not in json.dumps(data)


@pytest.mark.parametrize("amount, text", [
    ("0", "0.00"), ("-0", "0.00"), ("-0.00", "0.00"), ("-0.004", "0.00"), ("-0.005", "-0.01"),
    ("0.005", "0.01"), ("2.675", "2.68"), ("2.665", "2.67"), ("1E+2", "100.00"), ("1557.5", "1557.50"),
    ("-283.50", "-283.50"), ("0E-10", "0.00"),
    ("123456789012345678901234567.895", "123456789012345678901234567.90"),
    ("9.999999999999989900000000000E+29", "999999999999998990000000000000.00"),
])
def test_money_text(amount, text):
    from decimal import Decimal

    assert money_text(Decimal(amount)) == text


def test_a_large_amount_prints_instead_of_failing():
    policy = load_policy_text("request:\n  m: money\n  n: integer\nrule r:\n  when true\n"
                              "  then add m * n to t\noutput t: money total\n", "large.rpl")
    data = policy.decide({"m": "999999999999.99", "n": 999999999999999}).to_json()
    assert MONEY.match(data["outputs"]["t"]) and len(data["outputs"]["t"]) == 30


def test_explaining_does_not_evaluate_what_the_decision_skipped():
    policy = load_policy_text("request:\n  m: money\n  n: integer\nrule r:\n  when n is 0 or round(m / n) > 1.00\n"
                              "  then set out to m\noutput out: optional money\n", "guard.rpl")
    decision = policy.decide({"m": "10.00", "n": 0})
    assert decision.outputs_json() == {"out": "10.00"}
    assert decision.to_json()["explanation"][0]["rule"] == "r"
