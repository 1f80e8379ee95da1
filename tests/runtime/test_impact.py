"""`compare` with the saved side's decisions kept (`Decided`): the same impact as deciding both sides."""
from rplang.runtime import load_policy_text
from rplang.runtime.impact import Decided, compare
from tests.conftest import APUTURE, APUTURE_REQUESTS

LINES = (APUTURE_REQUESTS.parent / "corpus.jsonl").read_text().splitlines()[:120]
TEXT = APUTURE.read_text()
WIDER = TEXT.replace("return_window_length = 14 days", "return_window_length = 30 days")


def test_kept_decisions_give_the_impact_deciding_both_sides_gives():
    before, after = load_policy_text(TEXT), load_policy_text(WIDER)
    decided = Decided(before)
    fresh = compare(before, after, LINES, 50).to_json()
    assert fresh["changed"] > 0
    assert compare(before, after, LINES, 50, decided).to_json() == fresh  # deciding, and keeping
    assert compare(before, after, LINES, 50, decided).to_json() == fresh  # from what was kept
    assert compare(before, before, LINES, 50, decided).to_json()["changed"] == 0


def test_a_line_that_changed_is_decided_again_and_a_refused_line_stays_refused():
    before, after = load_policy_text(TEXT), load_policy_text(WIDER)
    decided = Decided(before)
    compare(before, after, LINES, 50, decided)
    lines = list(LINES)
    lines[3] = "{broken"
    lines[5] = LINES[6]
    impact = compare(before, after, lines, 50, decided).to_json()
    assert impact == compare(before, after, lines, 50).to_json()
    assert impact["rejected"] == 1


def test_decisions_kept_for_another_policy_are_not_used():
    before, after = load_policy_text(TEXT), load_policy_text(WIDER)
    kept_for_after = Decided(after)
    compare(after, after, LINES, 50, kept_for_after)
    assert compare(before, after, LINES, 50, kept_for_after).to_json() == compare(before, after, LINES, 50).to_json()
