"""Decisions per item on the command line (docs/per-item.md): the mixed return of
policies/mixed_store.rpl in `eval`, `explain`, `test`, and examples that expect items."""
import json

import pytest

from rplang.policy_lang.errors import PolicyError
from rplang.runtime.testing import load_suite, run_suite

from ..conftest import POLICIES
from .conftest import run

MIXED = POLICIES / "mixed_store.rpl"
MIXED_REQUEST = POLICIES / "mixed_store" / "requests" / "01-mixed-laptop-refunded-opened-game-exchanged.json"


def test_eval_decides_the_mixed_return_item_by_item():
    result = run("eval", str(MIXED), str(MIXED_REQUEST))
    assert result.code == 0, result.both
    data = json.loads(result.out)
    assert data["outputs"]["outcome"] == "approve_in_part"
    assert data["outputs"]["refund"] == "1200.00"
    assert [(i["element"], i["name"], i["outcome"], i["totals"]["refund"], i["rules"]) for i in data["items"]] == [
        ("$.items[0]", "LAPTOP-14", "approve", "1200.00", ["returned_item"]),
        ("$.items[1]", "GAME-STARFALL", "exchange_only", "0.00", ["opened_game"]),
    ]
    # the game's refund is not in the computation: its exchange-only outcome cancels it
    assert [s["element_name"] for s in data["computation"]["refund"]["steps"]] == ["LAPTOP-14"]


def test_explain_shows_each_item(snapshot):
    result = run("explain", str(MIXED), str(MIXED_REQUEST))
    assert result.code == 0, result.both
    assert result.out == snapshot


def test_rpl_test_runs_the_item_expectations_at_full_coverage():
    result = run("test", str(MIXED), "--coverage", "--fail-under", "100")
    assert result.code == 0, result.both
    assert "12 passed, 0 failed" in result.both


def _suite(tmp_path, examples: str):
    (tmp_path / "p.rpl").write_text(MIXED.read_text())
    (tmp_path / "p").mkdir()
    (tmp_path / "p" / "requests").mkdir()
    (tmp_path / "p" / "requests" / "r.json").write_text(MIXED_REQUEST.read_text())
    (tmp_path / "p" / "examples.rpl").write_text(examples)
    return tmp_path / "p.rpl"


def test_a_wrong_item_expectation_fails_with_the_item_named(tmp_path):
    path = _suite(tmp_path, '''example "wrong":
  request "requests/r.json"
  expect items[1].outcome = approve
  expect items[0].refund = 10.00
  expect items[2].outcome = refuse
''')
    result = run("test", str(path))
    assert result.code == 1
    assert 'items[0].refund   "10.00"    →  "1200.00"' in result.out
    assert 'items[1].outcome  "approve"  →  "exchange_only"' in result.out
    assert 'items[2].outcome  "refuse"   →  "no item: the decision has 2"' in result.out


@pytest.mark.parametrize("line, message", [
    ("expect items[0].refunds = 0.00", "an item has no `refunds`"),
    ("expect items[0].outcome = approved", "`approved` is not an outcome"),
    ("expect items[0].refund = approve", "`approve` is not an amount of money"),
    ("expect lines[0].outcome = approve", "an example expects an item's outcome or amounts as `items[...]`"),
])
def test_item_expectations_are_checked(tmp_path, line, message):
    path = _suite(tmp_path, f'example "e":\n  request "requests/r.json"\n  {line}\n')
    with pytest.raises(PolicyError) as error:
        load_suite(path)
    assert message in "\n".join(d.message for d in error.value.diagnostics)


def test_items_expected_of_a_policy_decided_per_request_are_refused(tmp_path):
    (tmp_path / "p.rpl").write_text((POLICIES / "electronics.rpl").read_text()
                                    + '\nexample "e":\n  request {}\n  expect items[0].outcome = refuse\n')
    with pytest.raises(PolicyError) as error:
        load_suite(tmp_path / "p.rpl")
    assert [d.code for d in error.value.diagnostics] == ["RPL045"]


def test_with_adds_an_element_at_the_end_of_a_list(tmp_path):
    path = _suite(tmp_path, '''example "a third item":
  request "requests/r.json"
  with items[2] = {"sku": "GIFT", "category": "gift_card", "price": "5.00", "opened": false}
  expect items[2].outcome = refuse
''')
    [result] = run_suite(load_suite(path))
    assert result.passed, result.mismatches or result.error


def test_with_past_the_end_of_a_list_says_how_to_add(tmp_path):
    path = _suite(tmp_path, '''example "a gap":
  request "requests/r.json"
  with items[5] = {"sku": "GIFT"}
''')
    [result] = run_suite(load_suite(path))
    assert result.error == ("`with items[5]`: the request has no such place; the list has 2 elements: "
                            "`[2]` adds one at its end")


def test_diff_shows_each_item_whose_outcome_changes(tmp_path):
    old = tmp_path / "old.rpl"
    new = tmp_path / "new.rpl"
    old.write_text(MIXED.read_text())
    new.write_text(MIXED.read_text().replace("when item.category in exchange_only_categories and item.opened",
                                             "when item.category is software and item.opened"))
    corpus = tmp_path / "corpus.jsonl"
    requests = sorted((POLICIES / "mixed_store" / "requests").glob("0*.json"))
    corpus.write_text("".join(json.dumps(json.loads(p.read_text())) + "\n" for p in requests))
    text = run("diff", str(old), str(new), "--requests", str(corpus))
    assert text.code == 0, text.both
    assert "item outcome changes:\n  exchange_only -> approve: 2" in text.out
    assert "  item GAME-STARFALL ($.items[1]): exchange_only -> approve, refund 0.00 -> 59.99" in text.out
    data = json.loads(run("diff", str(old), str(new), "--requests", str(corpus), "--format", "json").out)
    assert data["item_outcomes"] == [{"from": "exchange_only", "to": "approve", "count": 2}]
    assert data["examples"][0]["items"] == [{
        "element": "$.items[1]", "name": "GAME-STARFALL", "outcome_before": "exchange_only",
        "outcome_after": "approve", "totals_before": {"refund": "0.00", "restocking_fee": "0.00", "label_fee": "0.00"},
        "totals_after": {"refund": "59.99", "restocking_fee": "0.00", "label_fee": "0.00"}}]
    markdown = run("diff", str(old), str(new), "--requests", str(corpus), "--format", "markdown").out
    assert "| exchange_only | approve | 2 |" in markdown
    assert "- item GAME-STARFALL ($.items[1]): exchange_only -> approve, refund 0.00 -> 59.99" in markdown
