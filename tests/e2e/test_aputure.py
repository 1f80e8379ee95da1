"""End to end, aputure beyond its bundled requests (those are in test_bundled_policies.py):
every refusal reported, and the window and the fee each a one-line edit of the policy.
"""
import json

from rplang.runtime import load_policy_text
from tests.conftest import APUTURE, APUTURE_REQUESTS

EXPECTED = json.loads((APUTURE_REQUESTS / "expected.json").read_text())
REQUESTS = sorted(EXPECTED)


def _request(name):
    return json.loads((APUTURE_REQUESTS / name).read_text())


def test_all_refusal_reasons_are_reported(aputure):
    decision = aputure.decide(_request("28-several-refusals.json"))
    reasons = [e["rule"] for e in decision.explanation() if e["outcome"] == "refuse"]
    assert len(reasons) >= 2 and set(reasons) <= {"window", "proof", "misuse", "external_damage",
                                                   "tampering", "condition"}
    assert decision.outputs_json()["refund"] == "0.00"


def _edited(old: str, new: str):
    text = APUTURE.read_text()
    assert text.count(old) == 1
    return load_policy_text(text.replace(old, new), "aputure-edited.rpl")


def test_window_is_a_one_line_edit():
    day_20 = _request("02-window-day-15-refused.json")
    day_20["request_date"] = "2026-03-31"  # delivered 2026-03-02 + 29 days
    policy = _edited("parameter return_window_length = 14 days", "parameter return_window_length = 30 days")
    base = load_policy_text(APUTURE.read_text(), "aputure.rpl")
    assert base.decide(day_20).outcome == "refuse"
    decision = policy.decide(day_20)
    assert decision.outcome != "refuse"


def test_fee_is_a_one_line_edit():
    request = _request("00-semantics-example.json")
    policy = _edited("parameter restocking_fee_rate  = 15%", "parameter restocking_fee_rate  = 20%")
    outputs = policy.decide(request).outputs_json()
    assert outputs["restocking_fee"] == "378.00"  # 20% of 1,890.00
    assert outputs["refund"] == "1463.00"  # 1,890.00 - 49.00 - 378.00
