"""`rpl eval --partial` and `rpl explain --partial`: a request before inspection, its residual."""
import json

from tests.cli.conftest import run
from tests.conftest import APUTURE

from .conftest import EXAMPLE, before_inspection


def write(tmp_path, request) -> str:
    path = tmp_path / "portal.json"
    path.write_text(json.dumps(request))
    return str(path)


def test_eval_partial_prints_the_residual(aputure, tmp_path):
    request = before_inspection(EXAMPLE)
    result = run("eval", "--partial", APUTURE, write(tmp_path, request))
    assert result.code == 0, result.err
    data = json.loads(result.out)
    assert data == json.loads(json.dumps(aputure.decide_partial(request).to_json()))
    assert list(data) == ["outputs", "residual", "explanation"]
    assert data["outputs"]["outcome"] == "pending"
    assert list(data["residual"]) == ["unknown_facts", "open_conditions", "if_none_apply", "possible_outcomes",
                                      "ranges", "deadlines", "method"]


def test_without_partial_the_missing_facts_are_request_errors(tmp_path):
    result = run("eval", APUTURE, write(tmp_path, before_inspection(EXAMPLE)))
    assert result.code == 2
    assert "$.items[0].condition: missing" in result.err


def test_partial_still_rejects_facts_without_a_stage(tmp_path):
    request = before_inspection(EXAMPLE)
    del request["items"][0]["price"]
    result = run("eval", "--partial", APUTURE, write(tmp_path, request))
    assert result.code == 2
    assert json.loads(result.out)["error"]["problems"] == [
        {"path": "$.items[0].price", "message": "missing", "received": None}]


def test_partial_on_a_complete_request_is_the_decision_with_no_residual(aputure, tmp_path):
    result = run("eval", "--partial", "--pretty", APUTURE, write(tmp_path, EXAMPLE))
    assert result.code == 0
    assert json.loads(result.out) == {**aputure.decide(EXAMPLE).to_json(), "residual": None}


def test_explain_partial(tmp_path):
    result = run("explain", "--partial", APUTURE, write(tmp_path, before_inspection(EXAMPLE)))
    assert result.code == 0, result.err
    assert result.out.startswith("PENDING — 10 facts not known yet (known at inspection)\n")
    assert "deadline: requested by 2026-03-16" in result.out


def test_explain_partial_of_a_late_request(tmp_path):
    request = before_inspection(EXAMPLE)
    request["request_date"] = "2026-03-20"
    result = run("explain", "--partial", APUTURE, write(tmp_path, request))
    assert result.code == 0
    assert result.out.startswith("REFUSED — 1 reason\n1. window")
