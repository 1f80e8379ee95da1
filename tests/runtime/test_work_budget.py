"""A decision that would look through lists inside lists too long is refused, not left to hang."""
import pytest

from rplang.policy_lang.errors import EvaluationError
from rplang.runtime import load_policy_text
from rplang.runtime.decide import WORK_BUDGET

PAIRS = '''outcomes:
  refuse "REFUSED"
  approve "APPROVED"
request:
  xs: list of integer
rule twins:
  cites "No two equal numbers."
  when any a in xs where (count of each b in xs where b is a) > 1
  then refuse
output outcome
'''


@pytest.fixture(scope="module")
def pairs():
    return load_policy_text(PAIRS, "pairs.rpl")


def test_the_policy_looks_two_lists_deep(pairs):
    assert pairs._loop_depth == 2


def test_within_the_budget_it_decides(pairs):
    n = int(WORK_BUDGET ** 0.5)  # n * n steps: just within
    assert pairs.decide({"xs": list(range(n))}).outcome == "approve"
    assert pairs.decide({"xs": [1, 2, 1]}).outcome == "refuse"


def test_past_the_budget_it_is_refused_with_the_reason(pairs):
    n = int(WORK_BUDGET ** 0.5) + 1
    with pytest.raises(EvaluationError, match=rf"a list of {n:,} elements, and the policy looks through "
                                              r"lists 2 deep"):
        pairs.decide({"xs": list(range(n))})


def test_a_policy_one_list_deep_has_no_such_limit():
    policy = load_policy_text(PAIRS.replace("when any a in xs where (count of each b in xs where b is a) > 1",
                                            "when any a in xs where a < 0"), "one.rpl")
    assert policy._loop_depth == 1
    assert policy.decide({"xs": list(range(10_000))}).outcome == "approve"
