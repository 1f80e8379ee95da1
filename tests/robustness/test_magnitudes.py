"""Numbers stay within what rpl computes exactly and fast, in every evaluator (issue 15, 4 and 10):
past that, a clear "number too large" error, never a traceback, a hang or a silent rounding."""
from __future__ import annotations

import json

import pytest

from rplang.policy_lang.errors import EvaluationError
from rplang.runtime import load_policy_text
from rplang.runtime.evaluate import Env
from rplang.runtime.reference import decide as reference_decide
from tests.cli.conftest import run_process

SQUARES = ('outcomes:\n  refuse "R"\n  approve "A"\nrequest:\n  n: integer\n'
           "  seen: boolean at inspection\nlet i0 = n\n"
           + "".join(f"let i{k} = i{k - 1} * i{k - 1}\n" for k in range(1, 10))
           + "rule r:\n  when i9 > 5 and seen\n  then refuse\noutput outcome\n")
PRICE = ('outcomes:\n  refuse "R"\n  approve "A"\nrequest:\n  price: money\n  n: integer\n'
         "rule r:\n  when true\n  then approve\n       add price * n * n * n to total\noutput outcome\n"
         "output total: money total\n")
BIG = 999999999999999


@pytest.fixture(scope="module")
def squares():
    return load_policy_text(SQUARES, "squares.rpl")


def test_the_generated_code_refuses_a_number_too_large(squares):
    with pytest.raises(EvaluationError, match="number too large"):
        squares.decide({"n": BIG, "seen": True})


def test_the_reference_refuses_it_too(squares):
    with pytest.raises(EvaluationError, match="number too large"):
        reference_decide(squares.checked, squares.read_request({"n": BIG, "seen": True}))


def test_the_closure_evaluator_refuses_it_too(squares):
    request = squares.read_request({"n": BIG, "seen": True})
    with pytest.raises(EvaluationError, match="number too large"):
        squares.evaluator.fn(squares.checked.values["i9"])(Env(request))


def test_the_three_valued_evaluator_refuses_it_too(squares):
    with pytest.raises(EvaluationError, match="number too large"):
        squares.decide_partial({"n": BIG})  # `seen` not known yet


def test_small_numbers_still_decide(squares):
    assert squares.decide({"n": 1, "seen": True}).outcome == "approve"
    assert squares.decide({"n": -1, "seen": True}).outcome == "approve"
    with pytest.raises(EvaluationError, match="number too large"):
        squares.decide({"n": 2, "seen": True})  # 2**512 has 155 digits

def test_the_command_says_so_without_a_traceback(tmp_path):
    policy = tmp_path / "squares.rpl"
    policy.write_text(SQUARES)
    request = tmp_path / "r.json"
    request.write_text(json.dumps({"n": BIG, "seen": True}))
    result = run_process("eval", policy, request)
    assert result.code == 2 and "Traceback" not in result.err
    assert "number too large" in result.out


def test_an_amount_is_never_rounded_silently():
    policy = load_policy_text(PRICE, "price.rpl")
    request = {"price": "999999999999999.99", "n": BIG}
    with pytest.raises(EvaluationError, match="number too large"):
        policy.decide(request)  # 61 digits: the context kept 60, and lost the last cent
    with pytest.raises(EvaluationError, match="number too large"):
        reference_decide(policy.checked, policy.read_request(request))
    assert policy.decide({"price": "999999999999999.99", "n": 10**9}).outputs_json()["total"] == \
        "999999999999999990000000000000000000000000.00"
