"""Aputure's guarantees: proven; a copy with the fee subtracted twice refuted by a request that
`rpl explain` shows violating them."""
import json

import pytest

from tests.cli.conftest import run

from .conftest import APUTURE, status, verified

GUARANTEES = {"refund_never_negative", "refund_at_most_paid", "refund_adds_up", "refusal_refunds_nothing",
              "late_request_refused", "restocking_fee_is_rate_of_price", "check_after_purchase_on_business_day"}


def test_every_guarantee_is_proven():
    found = status(APUTURE.read_text(encoding="utf-8"), max_items=2)
    assert found == {name: "proven" for name in GUARANTEES}


def broken_copy() -> str:
    """The fee subtracted twice from the refund."""
    text = APUTURE.read_text(encoding="utf-8")
    line = "       subtract round(item.price * restocking_fee_rate) from refund\n"
    assert text.count(line) == 1
    return text.replace(line, line + line)


def test_fee_subtracted_twice_is_refuted_with_a_small_round_request():
    results = verified(broken_copy(), max_items=2)
    refuted = {n for n, r in results.items() if r.status == "refuted"}
    assert refuted == {"refund_adds_up"}
    request = results["refund_adds_up"].request
    assert len(request["items"]) == 1  # fewest items
    (item,) = request["items"]
    assert item["price"].endswith(".00")  # round amounts
    assert request["request_date"] == "2026-01-01"  # early dates


def test_rpl_explain_shows_the_counterexample_violating_it(tmp_path):
    policy = tmp_path / "broken.rpl"
    policy.write_text(broken_copy(), encoding="utf-8")
    result = run("verify", policy, "--max-items", "1", "--format", "json")
    assert result.code == 1
    report = json.loads(result.out)
    (refuted,) = [p for p in report["properties"] if p["status"] == "refuted"]
    request = tmp_path / "counterexample.json"
    request.write_text(json.dumps(refuted["request"]), encoding="utf-8")
    explained = run("explain", policy, request)
    assert explained.code == 0
    fee = refuted["outputs"]["restocking_fee"]
    price = refuted["request"]["items"][0]["price"]
    # the fee appears twice against the refund: price - 2 x fee, not price - fee
    assert explained.out.count(f"restocking fee 15% of {price}") == 2
    from decimal import Decimal
    assert Decimal(refuted["outputs"]["refund"]) == Decimal(price) - 2 * Decimal(fee)


def test_cli_proves_aputure_with_exit_0():
    result = run("verify", APUTURE, "--max-items", "1")
    assert result.code == 0, result.both
    assert f"{len(GUARANTEES)} of {len(GUARANTEES)} properties proven" in result.out


def test_properties_change_no_decision():
    """The guarantees are not in the rule graph: decisions and explanations are those without them."""
    from rplang.runtime import load_policy_text

    text = APUTURE.read_text(encoding="utf-8")
    without = text[:text.index("# ---- Guarantees")]
    with_them, plain = load_policy_text(text), load_policy_text(without)
    assert with_them.graph.nodes == plain.graph.nodes
    request = json.loads((APUTURE.parent / "aputure" / "requests" / "00-semantics-example.json").read_text())
    assert with_them.decide(request).to_json() == plain.decide(request).to_json()


@pytest.mark.fuzz
def test_every_guarantee_is_proven_with_four_items():
    found = status(APUTURE.read_text(encoding="utf-8"), max_items=4)
    assert found == {name: "proven" for name in GUARANTEES}


@pytest.mark.fuzz
def test_broken_copy_refuted_with_three_items():
    results = verified(broken_copy(), max_items=3)
    assert results["refund_adds_up"].status == "refuted"
    assert len(results["refund_adds_up"].request["items"]) == 1
