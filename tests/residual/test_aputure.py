"""Aputure at the returns portal: the request before inspection gets a refusal when the window or
the proof already fails, and otherwise a pending decision with the last day to request, the open
conditions in words, the refund range and the fee each missing completeness fact would cost."""
import copy

import pytest

from .conftest import EXAMPLE, INSPECTION, before_inspection

COMPLETENESS = ["all accessories included", "manuals included", "warranty card blank",
                "packing material included", "original box", "UPC code intact"]


def test_late_request_is_refused_whatever_arrives(aputure):
    request = before_inspection(EXAMPLE)
    request["request_date"] = "2026-03-17"
    d = aputure.decide_partial(request)
    assert d.final and d.outcome == "refuse"
    data = d.to_json()
    assert data["residual"] is None
    assert [e["rule"] for e in data["explanation"]] == ["window"]
    assert data["explanation"][0]["sentence"].endswith("(last day 2026-03-16).")
    assert data["outputs"]["refund"] == "0.00" and data["outputs"]["refund_method"] is None


def test_every_certain_reason_is_reported(aputure):
    request = before_inspection(EXAMPLE)
    request["request_date"] = "2026-03-20"
    request["order"]["proof_of_purchase"] = "missing"
    d = aputure.decide_partial(request)
    assert d.final and [e["rule"] for e in d.explanation()] == ["window", "proof"]
    text = d.explain_text()
    assert text.startswith("REFUSED — 2 reasons") and "Nothing is refunded." in text


def test_suspect_proof_is_refused_in_time(aputure):
    request = before_inspection(EXAMPLE)
    request["order"]["proof_of_purchase"] = "suspect"
    d = aputure.decide_partial(request)
    assert d.final and [e["rule"] for e in d.explanation()] == ["proof"]


@pytest.fixture(scope="module")
def pending(aputure):
    return aputure.decide_partial(before_inspection(EXAMPLE))


def test_pending_outcome_and_outputs(pending):
    data = pending.to_json()
    assert data["outputs"]["outcome"] == "pending"
    assert all(value is None for value in data["outputs"].values() if value != "pending")
    assert data["residual"]["possible_outcomes"] == ["refuse", "approve_with_fee", "approve"]


def test_last_day_to_request(pending):
    (window,) = pending.deadlines
    assert window["rule"] == "window" and window["last_day"] == "2026-03-16"
    assert window["date"] == {"path": "$.request_date", "label": "requested", "value": "2026-03-10"}
    assert window["cites"] == "Request after 14 days from delivery date."
    assert "deadline: requested by 2026-03-16; otherwise REFUSED" in pending.explain_text()


def test_open_conditions_in_words(pending):
    conditions = {c["rule"]: c for c in pending.open_conditions}
    assert list(conditions) == ["misuse", "external_damage", "tampering", "condition", "restocking_fee"]
    assert all(c["element"] == "$.items[0]" and c["element_name"] == "LS-600D-PRO" for c in conditions.values())
    assert conditions["condition"]["cites"] == "any item that is not new or like new, i.e. has cracks, dents or scratches."
    assert conditions["condition"]["condition"] == "item.condition is used or item.marks is not empty"
    assert conditions["condition"]["depends_on"] == [{"path": "$.items[0].condition", "label": "condition"},
                                                     {"path": "$.items[0].marks", "label": "marks"}]
    assert conditions["misuse"]["ways"][0][0]["values"]["misuse_causes"] == [
        "foreign_object", "improper_installation", "improper_operation", "modification", "moisture", "unauthorized_use"]
    for name in ("misuse", "external_damage", "tampering", "condition"):
        assert conditions[name]["leads_to"]["outcome"] == "refuse"
        assert conditions[name]["leads_to"]["outputs"]["refund"] == "0.00"


def test_the_fee_each_missing_completeness_fact_would_cost(pending):
    fee = next(c for c in pending.open_conditions if c["rule"] == "restocking_fee")
    assert [way[0]["label"] for way in fee["ways"]] == COMPLETENESS
    assert all(len(way) == 1 and way[0]["holds"] is False for way in fee["ways"])
    assert fee["effects"] == [{"output": "restocking_fee", "amount": "283.50"}, {"output": "refund", "amount": "-283.50"}]
    assert fee["leads_to"]["outcome"] == "approve_with_fee"
    assert fee["leads_to"]["outputs"]["refund"] == "1557.50"
    text = pending.explain_text()
    assert "any of: all accessories included: no; manuals included: no; warranty card blank: no;" in text
    assert "→ APPROVED WITH A RESTOCKING FEE — refund 1,557.50 USD, restocking fee 283.50 USD" in text


def test_refund_range(pending):
    assert pending.ranges["refund"] == {"min": "0.00", "max": "1841.00", "alternatives": ["0.00", "1557.50", "1841.00"]}
    assert pending.ranges["restocking_fee"] == {"min": "0.00", "max": "283.50", "alternatives": ["0.00", "283.50"]}
    assert pending.if_none_apply["outcome"] == "approve" and pending.if_none_apply["outputs"]["refund"] == "1841.00"
    assert "refund: 0.00 to 1,841.00 USD (one of 0.00, 1,557.50, 1,841.00)" in pending.explain_text()


def test_the_completed_request_gets_the_final_decision(aputure, pending):
    final = aputure.decide(copy.deepcopy(EXAMPLE))
    assert final.outcome in pending.possible_outcomes
    assert pending.scenario(["restocking_fee@$.items[0]"]) == final.outputs_json()
    again = aputure.decide_partial(copy.deepcopy(EXAMPLE))
    assert again.final and again.to_json() == {**final.to_json(), "residual": None}


def test_facts_already_known_narrow_the_residual(aputure):
    request = before_inspection(EXAMPLE, facts=[f for f in INSPECTION if f != "warranty_card_blank"])
    d = aputure.decide_partial(request)  # the warranty card is known to be filled in: a fee, or a refusal
    assert d.possible_outcomes == ("refuse", "approve_with_fee")
    assert d.ranges["refund"]["alternatives"] == ["0.00", "1557.50"]
    assert "restocking_fee" not in {c["rule"] for c in d.open_conditions}


def test_two_items_each_with_its_fee(aputure):
    request = copy.deepcopy(EXAMPLE)
    request["items"][1]["returned"] = True  # the free bag comes back too: no deduction, its own fee
    d = aputure.decide_partial(before_inspection(request))
    fees = {c["element_name"]: c["effects"][0]["amount"] for c in d.open_conditions if c["rule"] == "restocking_fee"}
    assert fees == {"LS-600D-PRO": "283.50", "FREE-BAG": "7.35"}
    assert d.ranges["refund"]["alternatives"] == ["0.00", "1599.15", "1606.50", "1882.65", "1890.00"]
    assert d.ranges["restocking_fee"]["alternatives"] == ["0.00", "7.35", "283.50", "290.85"]


def test_an_exchange_refunds_nothing_whatever_is_found(aputure):
    request = before_inspection(EXAMPLE)
    request["kind"] = "exchange"
    d = aputure.decide_partial(request)
    assert d.outputs["refund"] == 0 and d.outputs["free_items_deduction"] == 0
    assert d.outputs_json()["refund"] == "0.00" and "refund" not in d.ranges


def test_portal_json(pending, snapshot):
    assert pending.to_json() == snapshot


def test_portal_text(pending, snapshot):
    assert pending.explain_text() == snapshot


def test_threads_share_one_policy(aputure):
    from concurrent.futures import ThreadPoolExecutor

    requests = []
    for day in range(10, 20):
        request = before_inspection(EXAMPLE)
        request["request_date"] = f"2026-03-{day}"
        requests.append(request)
    expected = [aputure.decide_partial(r).to_json() for r in requests]
    with ThreadPoolExecutor(8) as pool:
        assert list(pool.map(lambda r: aputure.decide_partial(r).to_json(), requests * 4)) == expected * 4
