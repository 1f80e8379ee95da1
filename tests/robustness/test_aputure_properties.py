"""Properties of the Aputure policy that hold for every valid request (hypothesis).

The rules of SEMANTICS.md are restated independently in benchmarks/baseline_aputure.py (a
hand-written oracle that shares no code with rpl); the decisions must match it, and the
reference interpreter, on every request.
"""
from __future__ import annotations

import copy
import json
import random
import sys
import threading
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from rplang.runtime import load_policy
from rplang.runtime.reference import decide as reference_decide

from ..conftest import APUTURE, load_benchmark
from .conftest import FUZZ_CASES, quick


baseline = load_benchmark("baseline_aputure")
gen_corpus = load_benchmark("gen_corpus")

AMOUNTS = ("refund", "restocking_fee", "free_items_deduction")
INSPECTION = {"condition": "new", "marks": [], "accessories_complete": True, "manuals_included": True,
              "warranty_card_blank": True, "packing_material": True, "original_box": True,
              "upc_intact": True, "labels_tampered": False, "damage_cause": "none"}


@st.composite
def aputure_requests(draw):
    """A realistic request (gen_corpus), then a few changes hypothesis chooses and can shrink."""
    request = gen_corpus.generate(random.Random(draw(st.integers(0, 2**32 - 1))))
    items = request["items"]
    for _ in range(draw(st.integers(0, 4))):
        change = draw(st.integers(0, 9))
        item = items[draw(st.integers(0, len(items) - 1))] if items else None
        if change == 0:
            request["kind"] = draw(st.sampled_from(["return", "exchange"]))
        elif change == 1:
            request["order"]["payment_method"] = draw(st.sampled_from(["card", "paypal", "check", "other"]))
        elif change == 2:
            request["order"]["proof_of_purchase"] = draw(st.sampled_from(["valid", "missing", "suspect"]))
        elif change == 3 and item is not None:
            item["returned"] = not item["returned"]
            if item["returned"]:
                for key, value in INSPECTION.items():
                    item.setdefault(key, copy.deepcopy(value))
        elif change == 4 and item is not None:
            cents = draw(st.one_of(st.integers(0, 10**6), st.integers(0, 10**17 - 1)))
            item["price"] = f"{cents // 100}.{cents % 100:02d}"
        elif change == 5 and item is not None and item["returned"]:
            key = draw(st.sampled_from(sorted(INSPECTION)))
            item[key] = {"condition": draw(st.sampled_from(["new", "like_new", "used"])),
                         "marks": draw(st.lists(st.sampled_from(["crack", "dent", "scratch"]), max_size=2)),
                         "damage_cause": draw(st.sampled_from(sorted(baseline.DAMAGE_CAUSES)))
                         }.get(key, draw(st.booleans()))
        elif change == 6 and item is not None and item["free"]:
            skus = [i["sku"] for i in items] + ["NO-SUCH-SKU"]
            item["bundled_with"] = draw(st.sampled_from(skus))
        elif change == 7:
            request.pop("received_date", None)
        elif change == 8 and item is not None:
            item["free"] = not item["free"]
        elif change == 9:
            items.append(copy.deepcopy(item) if item is not None else
                         {"sku": "X", "price": "1.00", "free": False, "returned": False})
    return request


def _money(text: str) -> Decimal:
    return Decimal(text)


@quick(250)
@given(aputure_requests())
def test_aputure_properties(aputure, request):
    decision = aputure.decide(request)
    out = decision.outputs_json()
    returned_paid = sum((_money(i["price"]) for i in request["items"] if i["returned"] and not i["free"]),
                        Decimal(0))
    # refund >= 0, and never more than the returned paid prices
    assert _money(out["refund"]) >= 0
    assert _money(out["refund"]) <= returned_paid
    for key in AMOUNTS:
        assert _money(out[key]) >= 0 and out[key] != "-0.00"
    # a refusal zeroes every amount, and gives no method or dates
    if out["outcome"] == "refuse":
        assert all(out[key] == "0.00" for key in AMOUNTS)
        assert out["refund_method"] is out["check_not_before"] is out["credit_between"] is None
    # the rules of SEMANTICS.md, restated by hand
    assert out == baseline.decide_request(request)
    # the reference interpreter
    reference = reference_decide(aputure.checked, aputure.read_request(request))
    assert (reference.outputs, reference.determining) == (
        out, tuple((a.rule.rule.name, a.element and a.element["#path"]) for a in decision.applied))
    # the same request always gives byte-identical decision JSON
    text = decision.to_json_text()
    assert aputure.decide(copy.deepcopy(request)).to_json_text() == text
    assert aputure.decide_json(json.dumps(request)).to_json_text() == text


def _decide_all(policy, requests) -> list[str]:
    return [policy.decide(r).to_json_text() + policy.decide(r).explain_text() for r in requests]


def test_eight_threads_decide_as_one():
    """A fresh policy (every lazy cache cold), decided from 8 threads at once, as from one."""
    requests = [json.loads(line) for line in gen_corpus.generate_lines(150, seed=11)]
    expected = _decide_all(load_policy(APUTURE), requests)
    policy = load_policy(APUTURE)
    results: dict[int, list[str]] = {}
    barrier = threading.Barrier(8)

    def work(k):
        barrier.wait()
        order = requests[k * 17 % len(requests):] + requests[:k * 17 % len(requests)]
        decided = dict(zip(map(id, order), _decide_all(policy, order)))
        results[k] = [decided[id(r)] for r in requests]

    switch = sys.getswitchinterval()
    sys.setswitchinterval(1e-6)  # switch threads as often as possible
    try:
        threads = [threading.Thread(target=work, args=(k,)) for k in range(8)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
    finally:
        sys.setswitchinterval(switch)
    assert len(results) == 8
    for k in range(8):
        assert results[k] == expected, f"thread {k}"


@pytest.mark.fuzz
def test_aputure_corpus_long(aputure, capsys):
    """`pytest -m fuzz`: the oracle, the reference and the properties over RPL_FUZZ_CASES requests."""
    import time

    start, n = time.monotonic(), 0
    for line in gen_corpus.generate_lines(FUZZ_CASES, seed=2026):
        request = json.loads(line)
        out = aputure.decide(request).outputs_json()
        assert out == baseline.decide_request(request), line
        assert out == reference_decide(aputure.checked, aputure.read_request(request)).outputs, line
        n += 1
    with capsys.disabled():
        print(f"\naputure: {n:,} requests against the oracle and the reference in "
              f"{time.monotonic() - start:.0f} s")
